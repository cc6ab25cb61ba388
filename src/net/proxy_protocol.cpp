// SPDX-License-Identifier: MIT
#include "net/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <array>
#include <charconv>
#include <cstring>

namespace wharf::detail::proxy {
namespace {

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};

result incomplete() {
    return {status::incomplete, 0, {}};
}
result invalid(std::string_view why) {
    return {status::invalid, 0, why};
}

/// Whether `bytes` is a prefix of `whole` (or `whole` a prefix of `bytes`).
bool agrees(std::string_view bytes, std::string_view whole) {
    const std::size_t n = std::min(bytes.size(), whole.size());
    return bytes.substr(0, n) == whole.substr(0, n);
}

bool port_of(std::string_view text, std::uint16_t& port) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

/// A canonical textual address of `family` with `port`: inet_pton's form, printed back the same
/// (no leading zeros, no IPv4-style shortcuts).
bool address_of(int family, std::string_view text, std::uint16_t port, address& out) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    if (family == AF_INET) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        if (inet_pton(AF_INET, buf, &sa.sin_addr) != 1) return false;
        char back[INET_ADDRSTRLEN];
        if (!inet_ntop(AF_INET, &sa.sin_addr, back, sizeof back) || text != back) return false;
        out = address::from(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
        return true;
    }
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    if (inet_pton(AF_INET6, buf, &sa.sin6_addr) != 1) return false;
    out = address::from(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
    return true;
}

/// Splits off the text before the next space.
std::string_view field(std::string_view& line) {
    const std::size_t sp = line.find(' ');
    const std::string_view f = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    return f;
}

result parse_v1(std::string_view bytes, header& out) {
    const std::size_t cr = bytes.find('\r');
    const std::size_t lf = bytes.find('\n');
    if (lf != std::string_view::npos && (cr == std::string_view::npos || cr + 1 != lf))
        return invalid("PROXY v1: a line feed without its carriage return");
    if (cr == std::string_view::npos) {
        if (bytes.size() >= max_v1_bytes) return invalid("PROXY v1: longer than 107 bytes");
        return incomplete();
    }
    if (cr + 2 > max_v1_bytes) return invalid("PROXY v1: longer than 107 bytes");
    if (cr + 1 == bytes.size()) return incomplete();
    if (bytes[cr + 1] != '\n') return invalid("PROXY v1: a carriage return without a line feed");
    std::string_view line = bytes.substr(v1_prefix.size(), cr - v1_prefix.size());
    const std::size_t consumed = cr + 2;
    out = header{};
    out.version = 1;
    const std::string_view proto = field(line);
    if (proto == "UNKNOWN") return {status::done, consumed, {}}; // the rest is ignored (§2.1)
    int family = 0;
    if (proto == "TCP4")
        family = AF_INET;
    else if (proto == "TCP6")
        family = AF_INET6;
    else
        return invalid("PROXY v1: the protocol is not TCP4, TCP6 or UNKNOWN");
    const std::string_view src = field(line), dst = field(line), sport = field(line);
    const std::string_view dport = line; // the last field: no space may follow
    std::uint16_t sp = 0, dp = 0;
    if (!port_of(sport, sp) || dport.find(' ') != std::string_view::npos || !port_of(dport, dp))
        return invalid("PROXY v1: malformed ports");
    if (!address_of(family, src, sp, out.source) || !address_of(family, dst, dp, out.destination))
        return invalid("PROXY v1: malformed addresses");
    out.local = false;
    return {status::done, consumed, {}};
}

std::uint16_t be16(const unsigned char* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

result parse_v2(std::string_view bytes, header& out, std::size_t max_bytes) {
    if (bytes.size() < v2_head_bytes) {
        // What can be judged already: the version and command byte.
        if (bytes.size() > 12 && (static_cast<unsigned char>(bytes[12]) & 0xF0) != 0x20)
            return invalid("PROXY v2: not version 2");
        return incomplete();
    }
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const unsigned version = p[12] >> 4, command = p[12] & 0x0F;
    const unsigned family = p[13] >> 4, transport = p[13] & 0x0F;
    const std::size_t length = be16(p + 14);
    if (version != 2) return invalid("PROXY v2: not version 2");
    if (command > 1) return invalid("PROXY v2: the command is neither LOCAL nor PROXY");
    if (family > 3) return invalid("PROXY v2: unknown address family");
    if (transport > 2) return invalid("PROXY v2: unknown transport");
    if (transport == 2) return invalid("PROXY v2: datagrams on a stream listener");
    if (v2_head_bytes + length > max_bytes) return invalid("PROXY v2: header larger than allowed");
    if (bytes.size() < v2_head_bytes + length) return incomplete();

    out = header{};
    out.version = 2;
    const unsigned char* body = p + v2_head_bytes;
    std::size_t address_bytes = 0;
    switch (family) {
    case 1: // INET
        address_bytes = 12;
        break;
    case 2: // INET6
        address_bytes = 36;
        break;
    case 3: // UNIX
        address_bytes = 216;
        break;
    default: // UNSPEC: no addresses
        break;
    }
    if (length < address_bytes) return invalid("PROXY v2: the address block is cut short");
    if (command == 1 && family != 0 && transport == 1) {
        out.local = false;
        if (family == 1) {
            sockaddr_in s{}, d{};
            s.sin_family = d.sin_family = AF_INET;
            std::memcpy(&s.sin_addr, body, 4);
            std::memcpy(&d.sin_addr, body + 4, 4);
            std::memcpy(&s.sin_port, body + 8, 2);
            std::memcpy(&d.sin_port, body + 10, 2);
            out.source = address::from(reinterpret_cast<const sockaddr*>(&s), sizeof s);
            out.destination = address::from(reinterpret_cast<const sockaddr*>(&d), sizeof d);
        } else if (family == 2) {
            sockaddr_in6 s{}, d{};
            s.sin6_family = d.sin6_family = AF_INET6;
            std::memcpy(&s.sin6_addr, body, 16);
            std::memcpy(&d.sin6_addr, body + 16, 16);
            std::memcpy(&s.sin6_port, body + 32, 2);
            std::memcpy(&d.sin6_port, body + 34, 2);
            out.source = address::from(reinterpret_cast<const sockaddr*>(&s), sizeof s);
            out.destination = address::from(reinterpret_cast<const sockaddr*>(&d), sizeof d);
        } else {
            sockaddr_un s{}, d{};
            s.sun_family = d.sun_family = AF_UNIX;
            std::memcpy(s.sun_path, body, 108);
            std::memcpy(d.sun_path, body + 108, 108);
            s.sun_path[sizeof s.sun_path - 1] = d.sun_path[sizeof d.sun_path - 1] = '\0';
            out.source = address::from(reinterpret_cast<const sockaddr*>(&s), sizeof s);
            out.destination = address::from(reinterpret_cast<const sockaddr*>(&d), sizeof d);
        }
    }
    // TLVs fill the rest exactly.
    std::size_t at = address_bytes;
    std::size_t crc_at = 0;
    bool have_crc = false;
    while (at < length) {
        if (length - at < 3) return invalid("PROXY v2: a TLV is cut short");
        const std::uint8_t type = body[at];
        const std::size_t n = be16(body + at + 1);
        if (length - at - 3 < n) return invalid("PROXY v2: a TLV runs past the header");
        std::string value(reinterpret_cast<const char*>(body + at + 3), n);
        switch (type) {
        case tlv_alpn:
            out.alpn = value;
            break;
        case tlv_authority:
            out.authority = value;
            break;
        case tlv_unique_id:
            if (n > 128) return invalid("PROXY v2: a unique id longer than 128 bytes");
            out.unique_id = value;
            break;
        case tlv_crc32c:
            if (n != 4 || have_crc) return invalid("PROXY v2: a malformed CRC32C TLV");
            have_crc = true;
            crc_at = v2_head_bytes + at + 3;
            break;
        default:
            break;
        }
        out.tlvs.emplace_back(type, std::move(value));
        at += 3 + n;
    }
    const std::size_t consumed = v2_head_bytes + length;
    if (have_crc) {
        std::string copy(bytes.substr(0, consumed));
        const std::uint32_t sent = (std::uint32_t{p[crc_at]} << 24) |
                                   (std::uint32_t{p[crc_at + 1]} << 16) |
                                   (std::uint32_t{p[crc_at + 2]} << 8) | p[crc_at + 3];
        std::memset(copy.data() + crc_at, 0, 4);
        if (crc32c(copy) != sent) return invalid("PROXY v2: the CRC32C does not match");
    }
    return {status::done, consumed, {}};
}

} // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) noexcept {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (const char ch : bytes)
        crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

result parse(std::string_view bytes, header& out, std::size_t max_v2_bytes) {
    if (bytes.empty()) return incomplete();
    if (bytes[0] == 'P') {
        if (!agrees(bytes, v1_prefix)) return invalid("not a PROXY protocol header");
        if (bytes.size() < v1_prefix.size()) return incomplete();
        return parse_v1(bytes, out);
    }
    if (!agrees(bytes, v2_signature)) return invalid("not a PROXY protocol header");
    return parse_v2(bytes, out, std::max(max_v2_bytes, v2_head_bytes));
}

} // namespace wharf::detail::proxy
