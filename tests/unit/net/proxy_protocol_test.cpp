// SPDX-License-Identifier: MIT
// The PROXY protocol parser (v1 and v2) against a table of headers, whole and split at every
// byte: a valid header is incomplete until its last byte and done from it on, whatever follows;
// an invalid one is never done, and once refused stays refused.
#include "net/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace proxy = wharf::detail::proxy;
using proxy::status;

std::string be16(std::size_t v) {
    return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

std::string tlv(std::uint8_t type, const std::string& value) {
    return std::string(1, static_cast<char>(type)) + be16(value.size()) + value;
}

const std::string signature{"\r\n\r\n\0\r\nQUIT\n", 12};

/// A v2 header: version/command byte, family/transport byte, then `rest` (addresses, TLVs).
std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& rest) {
    return signature + static_cast<char>(ver_cmd) + static_cast<char>(fam) + be16(rest.size()) +
           rest;
}

std::string ipv4_block() { // 192.0.2.10:51000 -> 198.51.100.7:443
    return std::string{"\xC0\x00\x02\x0A\xC6\x33\x64\x07", 8} + be16(51000) + be16(443);
}

std::string ipv6_block() { // 2001:db8::1:1234 -> 2001:db8::2:80
    std::string s(16, '\0'), d(16, '\0');
    s[0] = d[0] = 0x20, s[1] = d[1] = 0x01, s[2] = d[2] = 0x0d,
    s[3] = d[3] = static_cast<char>(0xb8);
    s[15] = 1, d[15] = 2;
    return s + d + be16(1234) + be16(80);
}

/// A header with a CRC32C TLV filled in as the sender would.
std::string with_crc(const std::string& rest_before_crc, bool corrupt = false) {
    std::string h = v2(0x21, 0x11, rest_before_crc + tlv(proxy::tlv_crc32c, std::string(4, '\0')));
    std::uint32_t crc = proxy::crc32c(h);
    if (corrupt) crc ^= 1;
    for (int i = 0; i < 4; ++i)
        h[h.size() - 4 + static_cast<std::size_t>(i)] =
            static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
    return h;
}

struct row {
    std::string name, bytes;
    status want = status::invalid;
    int version = 0;
    bool local = true;
    std::string source, destination; // address::to_string()
    std::string alpn, authority, unique_id;
    std::size_t tlvs = 0;
};

std::vector<row> rows() {
    std::vector<row> r;
    const auto ok = [&](std::string name, std::string bytes, int version, bool local,
                        std::string src = {}, std::string dst = {}) {
        row x;
        x.name = std::move(name);
        x.bytes = std::move(bytes);
        x.want = status::done;
        x.version = version;
        x.local = local;
        x.source = std::move(src);
        x.destination = std::move(dst);
        r.push_back(std::move(x));
        return &r.back();
    };
    const auto bad = [&](std::string name, std::string bytes) {
        row x;
        x.name = std::move(name);
        x.bytes = std::move(bytes);
        x.want = status::invalid;
        r.push_back(std::move(x));
    };
    // Version 1.
    ok("v1 tcp4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", 1, false, "192.0.2.1:56324",
       "198.51.100.2:443");
    ok("v1 tcp6", "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n", 1, false, "[2001:db8::1]:1",
       "[::1]:65535");
    ok("v1 unknown", "PROXY UNKNOWN\r\n", 1, true);
    ok("v1 unknown with addresses", "PROXY UNKNOWN ffff:f...f:ffff 1 2 3\r\n", 1, true);
    ok("v1 port 0", "PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n", 1, false, "1.2.3.4:0", "5.6.7.8:0");
    ok("v1 tcp6 at its longest addresses",
       "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
       "65535 65535\r\n",
       1, false, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
       "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    ok("v1 unknown at 107 bytes", "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n", 1, true);
    bad("v1 unknown at 108 bytes", "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n");
    bad("v1 lower-case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    bad("v1 no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    bad("v1 unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n");
    bad("v1 tcp4 with a v6 address", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n");
    bad("v1 tcp6 with a v4 address", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n");
    bad("v1 leading zero in an address", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n");
    bad("v1 port out of range", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n");
    bad("v1 port with a leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n");
    bad("v1 port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n");
    bad("v1 missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n");
    bad("v1 extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 80 81 82\r\n");
    bad("v1 double space", "PROXY TCP4  1.2.3.4 5.6.7.8 80 81\r\n");
    bad("v1 trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 80 81 \r\n");
    bad("v1 bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 80 81\n");
    bad("v1 CR without LF", "PROXY TCP4 1.2.3.4 5.6.7.8 80 81\rX");
    bad("v1 too long", "PROXY UNKNOWN " + std::string(100, 'x') + "\r\n");
    bad("v1 no CRLF within 107 bytes", "PROXY UNKNOWN " + std::string(200, 'x'));
    bad("plain HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    bad("TLS ClientHello", std::string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11});
    // Version 2.
    ok("v2 tcp4", v2(0x21, 0x11, ipv4_block()), 2, false, "192.0.2.10:51000", "198.51.100.7:443");
    ok("v2 tcp6", v2(0x21, 0x21, ipv6_block()), 2, false, "[2001:db8::1]:1234", "[2001:db8::2]:80");
    ok("v2 local", v2(0x20, 0x00, ""), 2, true);
    ok("v2 local keeps its addresses to itself", v2(0x20, 0x11, ipv4_block()), 2, true);
    ok("v2 unspec family", v2(0x21, 0x00, ""), 2, true);
    {
        auto* x = ok("v2 with TLVs",
                     v2(0x21, 0x11,
                        ipv4_block() + tlv(proxy::tlv_alpn, "h2") +
                            tlv(proxy::tlv_authority, "example.com") +
                            tlv(proxy::tlv_unique_id, "req-42") + tlv(proxy::tlv_noop, "") +
                            tlv(0xE0, "custom")),
                     2, false, "192.0.2.10:51000", "198.51.100.7:443");
        x->alpn = "h2";
        x->authority = "example.com";
        x->unique_id = "req-42";
        x->tlvs = 5;
    }
    {
        auto* x = ok("v2 with a good CRC32C", with_crc(ipv4_block()), 2, false, "192.0.2.10:51000",
                     "198.51.100.7:443");
        x->tlvs = 1;
    }
    {
        std::string un(216, '\0');
        un.replace(0, 9, "/run/a.sk");
        un.replace(108, 9, "/run/b.sk");
        auto* x = ok("v2 unix", v2(0x21, 0x31, un), 2, false, "unix:/run/a.sk", "unix:/run/b.sk");
        (void)x;
    }
    bad("v2 bad CRC32C", with_crc(ipv4_block(), true));
    bad("v2 version 1 byte", v2(0x11, 0x11, ipv4_block()));
    bad("v2 version 3", v2(0x31, 0x11, ipv4_block()));
    bad("v2 command 2", v2(0x22, 0x11, ipv4_block()));
    bad("v2 family 4", v2(0x21, 0x41, ipv4_block()));
    bad("v2 datagram", v2(0x21, 0x12, ipv4_block()));
    bad("v2 transport 3", v2(0x21, 0x13, ipv4_block()));
    bad("v2 short address block", v2(0x21, 0x11, ipv4_block().substr(0, 11)));
    bad("v2 short v6 block", v2(0x21, 0x21, ipv4_block()));
    bad("v2 TLV head cut", v2(0x21, 0x11, ipv4_block() + std::string("\x01\x00", 2)));
    bad("v2 TLV past the end", v2(0x21, 0x11, ipv4_block() + std::string("\x01\x00\x05xy", 5)));
    bad("v2 unique id too long",
        v2(0x21, 0x11, ipv4_block() + tlv(proxy::tlv_unique_id, std::string(129, 'u'))));
    bad("v2 CRC32C of 3 bytes", v2(0x21, 0x11, ipv4_block() + tlv(proxy::tlv_crc32c, "abc")));
    bad("v2 larger than allowed", v2(0x21, 0x11, ipv4_block() + tlv(0xE1, std::string(4100, 'z'))));
    bad("v2 signature wrong",
        std::string{"\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c", 16} + ipv4_block());
    return r;
}

void expect_fields(const row& r, const proxy::header& h) {
    EXPECT_EQ(h.version, r.version) << r.name;
    EXPECT_EQ(h.local, r.local) << r.name;
    if (!r.local) {
        EXPECT_EQ(h.source.to_string(), r.source) << r.name;
        EXPECT_EQ(h.destination.to_string(), r.destination) << r.name;
    }
    EXPECT_EQ(h.alpn, r.alpn) << r.name;
    EXPECT_EQ(h.authority, r.authority) << r.name;
    EXPECT_EQ(h.unique_id, r.unique_id) << r.name;
    EXPECT_EQ(h.tlvs.size(), r.tlvs) << r.name;
}

TEST(proxy_protocol, WholeHeaders) {
    for (const row& r : rows()) {
        proxy::header h;
        const proxy::result got = proxy::parse(r.bytes, h);
        ASSERT_EQ(got.status, r.want) << r.name << ": " << got.error;
        if (r.want == status::done) {
            EXPECT_EQ(got.consumed, r.bytes.size()) << r.name;
            expect_fields(r, h);
        } else {
            EXPECT_FALSE(got.error.empty()) << r.name;
        }
    }
}

TEST(proxy_protocol, SplitAtEveryByte) {
    for (const row& r : rows()) {
        bool refused = false;
        for (std::size_t n = 0; n < r.bytes.size(); ++n) {
            proxy::header h;
            const proxy::result got = proxy::parse(std::string_view(r.bytes).substr(0, n), h);
            ASSERT_NE(got.status, status::done) << r.name << " at " << n;
            if (refused) {
                ASSERT_EQ(got.status, status::invalid) << r.name << " at " << n;
            }
            refused = got.status == status::invalid;
            if (r.want == status::done) {
                ASSERT_EQ(got.status, status::incomplete) << r.name << " at " << n;
            }
        }
    }
}

TEST(proxy_protocol, WhatFollowsTheHeaderIsNotConsumed) {
    for (const row& r : rows()) {
        if (r.want != status::done) continue;
        for (const std::string& tail :
             {std::string("GET / HTTP/1.1\r\n\r\n"), std::string("\x16\x03\x01", 3),
              std::string("PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n")}) {
            proxy::header h;
            const proxy::result got = proxy::parse(r.bytes + tail, h);
            ASSERT_EQ(got.status, status::done) << r.name;
            EXPECT_EQ(got.consumed, r.bytes.size()) << r.name;
            expect_fields(r, h);
        }
    }
}

TEST(proxy_protocol, Crc32cKnownValue) {
    // RFC 3720 §B.4: 32 bytes of zeros.
    EXPECT_EQ(proxy::crc32c(std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(proxy::crc32c("123456789"), 0xE3069283u);
}

TEST(proxy_protocol, TheV2BoundIsConfigurable) {
    const std::string big = v2(0x21, 0x11, ipv4_block() + tlv(0xE1, std::string(5000, 'z')));
    proxy::header h;
    EXPECT_EQ(proxy::parse(big, h).status, status::invalid);
    EXPECT_EQ(proxy::parse(big, h, 8192).status, status::done);
}

} // namespace
