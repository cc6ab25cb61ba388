// SPDX-License-Identifier: MIT
// Frame heads: write_head's three sizes, parse_head round trips and partial heads, and unmask
// at every offset against a byte-by-byte reference.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ws/frame.hpp"

namespace {

namespace ws = wharf::detail::ws;

TEST(WsFrame, WriteHeadSizes) {
    struct size_row {
        std::uint64_t length;
        std::size_t size;
    };
    for (const size_row r :
         {size_row{0, 2}, size_row{1, 2}, size_row{125, 2}, size_row{126, 4}, size_row{127, 4},
          size_row{65535, 4}, size_row{65536, 10}, size_row{std::uint64_t{1} << 32, 10},
          size_row{(std::uint64_t{1} << 63) - 1, 10}}) {
        SCOPED_TRACE(r.length);
        char out[ws::max_head_size];
        std::memset(out, 0x55, sizeof out);
        EXPECT_EQ(ws::write_head(out, ws::op_binary, true, false, r.length), r.size);
        // Untouched beyond the head.
        for (std::size_t i = r.size; i < sizeof out; ++i)
            EXPECT_EQ(out[i], 0x55) << i;
        EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x82);
        if (r.size == 2) {
            EXPECT_EQ(static_cast<std::uint8_t>(out[1]), r.length);
        }
        if (r.size == 4) {
            EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 126);
            EXPECT_EQ(static_cast<std::uint8_t>(out[2]), (r.length >> 8) & 0xFF);
            EXPECT_EQ(static_cast<std::uint8_t>(out[3]), r.length & 0xFF);
        }
        if (r.size == 10) {
            EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 127);
            std::uint64_t len = 0;
            for (int i = 2; i < 10; ++i)
                len = (len << 8) | static_cast<std::uint8_t>(out[i]);
            EXPECT_EQ(len, r.length);
        }
    }
}

TEST(WsFrame, WriteHeadBits) {
    char out[ws::max_head_size];
    ws::write_head(out, ws::op_text, false, true, 3);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x41);
    ws::write_head(out, ws::op_close, true, false, 2);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x88);
    ws::write_head(out, ws::op_continuation, false, false, 0);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x00);
    ws::write_head(out, ws::op_pong, true, true, 0);
    EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0xCA);
}

// What write_head writes, parse_head reads back; with a mask appended (and the mask bit set)
// as a client's head; and every shorter prefix is "not yet" (0).
TEST(WsFrame, ParseHeadRoundTrip) {
    const std::uint8_t ops[] = {ws::op_continuation, ws::op_text, ws::op_binary,
                                ws::op_close,        ws::op_ping, ws::op_pong};
    const std::uint64_t lengths[] = {0,     1,     125,   126,        127,
                                     65535, 65536, 65537, 1ull << 40, (1ull << 63) - 1};
    for (std::uint8_t op : ops)
        for (bool fin : {false, true})
            for (bool rsv1 : {false, true})
                for (std::uint64_t len : lengths)
                    for (bool masked : {false, true}) {
                        SCOPED_TRACE(::testing::Message()
                                     << "op " << int{op} << " fin " << fin << " rsv1 " << rsv1
                                     << " len " << len << " masked " << masked);
                        char buf[ws::max_head_size + 1] = {};
                        std::size_t n = ws::write_head(buf, op, fin, rsv1, len);
                        const std::uint8_t mask[4] = {0xDE, 0xAD, 0x01, 0x80};
                        if (masked) {
                            buf[1] = static_cast<char>(buf[1] | 0x80);
                            std::memcpy(buf + n, mask, 4);
                            n += 4;
                        }
                        buf[n] = 'x'; // payload after the head is not part of it
                        for (std::size_t k = 0; k < n; ++k) {
                            ws::frame_head partial;
                            EXPECT_EQ(ws::parse_head({buf, k}, partial), 0) << k;
                        }
                        ws::frame_head h;
                        ASSERT_EQ(ws::parse_head({buf, n + 1}, h), static_cast<int>(n));
                        EXPECT_EQ(h.op, op);
                        EXPECT_EQ(h.fin, fin);
                        EXPECT_EQ(h.rsv1, rsv1);
                        EXPECT_FALSE(h.rsv2);
                        EXPECT_FALSE(h.rsv3);
                        EXPECT_EQ(h.masked, masked);
                        EXPECT_EQ(h.length, len);
                        if (masked) {
                            EXPECT_EQ(std::memcmp(h.mask, mask, 4), 0);
                        }
                    }
}

TEST(WsFrame, ParseHeadReservedBitsAndOpcodes) {
    for (int b0 = 0; b0 < 256; ++b0) {
        const char buf[2] = {static_cast<char>(b0), 5};
        ws::frame_head h;
        ASSERT_EQ(ws::parse_head({buf, 2}, h), 2);
        EXPECT_EQ(h.fin, (b0 & 0x80) != 0);
        EXPECT_EQ(h.rsv1, (b0 & 0x40) != 0);
        EXPECT_EQ(h.rsv2, (b0 & 0x20) != 0);
        EXPECT_EQ(h.rsv3, (b0 & 0x10) != 0);
        EXPECT_EQ(h.op, b0 & 0x0F);
        EXPECT_EQ(h.length, 5u);
        EXPECT_FALSE(h.masked);
    }
}

TEST(WsFrame, ParseHeadRejectsNonMinimalAndHugeLengths) {
    auto head16 = [](unsigned len) {
        return std::string{
            '\x82', '\xFE', static_cast<char>(len >> 8), static_cast<char>(len), '\1', '\2',
            '\3',   '\4'};
    };
    auto head64 = [](std::uint64_t len) {
        std::string s{'\x82', '\xFF'};
        for (int i = 7; i >= 0; --i)
            s += static_cast<char>((len >> (8 * i)) & 0xFF);
        return s + "\1\2\3\4";
    };
    ws::frame_head h;
    for (unsigned len : {0u, 1u, 125u}) {
        const std::string s = head16(len);
        EXPECT_EQ(ws::parse_head({s.data(), s.size()}, h), -1) << len;
        // Known as soon as the length is there, before the mask.
        EXPECT_EQ(ws::parse_head({s.data(), 4}, h), -1) << len;
    }
    for (unsigned len : {126u, 127u, 65535u}) {
        const std::string s = head16(len);
        EXPECT_EQ(ws::parse_head({s.data(), s.size()}, h), 8) << len;
        EXPECT_EQ(h.length, len);
    }
    for (std::uint64_t len : {std::uint64_t{0}, std::uint64_t{125}, std::uint64_t{126},
                              std::uint64_t{65535}, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
        const std::string s = head64(len);
        EXPECT_EQ(ws::parse_head({s.data(), s.size()}, h), -1) << len;
        EXPECT_EQ(ws::parse_head({s.data(), 10}, h), -1) << len;
    }
    for (std::uint64_t len : {std::uint64_t{65536}, (std::uint64_t{1} << 63) - 1}) {
        const std::string s = head64(len);
        EXPECT_EQ(ws::parse_head({s.data(), s.size()}, h), 14) << len;
        EXPECT_EQ(h.length, len);
    }
}

TEST(WsFrame, UnmaskAtEveryOffset) {
    const std::uint8_t mask[4] = {0x12, 0xF0, 0x0F, 0xA5};
    std::vector<char> original(200);
    for (std::size_t i = 0; i < original.size(); ++i)
        original[i] = static_cast<char>(i * 37 + 11);
    // Misaligned starts too: the word loop must not care about alignment.
    for (std::size_t align = 0; align < 8; ++align)
        for (std::uint64_t offset = 0; offset < 8; ++offset)
            for (std::size_t n = 0; n <= 70; ++n) {
                std::vector<char> got(original.begin(), original.end());
                std::vector<char> want(original.begin(), original.end());
                ws::unmask(got.data() + align, n, mask, offset);
                for (std::size_t i = 0; i < n; ++i)
                    want[align + i] = static_cast<char>(want[align + i] ^ mask[(offset + i) % 4]);
                ASSERT_EQ(got, want) << "align " << align << " offset " << offset << " n " << n;
            }
    // Large offsets: only offset mod 4 matters.
    std::vector<char> a(original), b(original);
    ws::unmask(a.data(), a.size(), mask, (std::uint64_t{1} << 40) + 3);
    ws::unmask(b.data(), b.size(), mask, 3);
    EXPECT_EQ(a, b);
    // Unmasking in pieces at any boundary equals unmasking at once.
    for (std::size_t cut = 0; cut <= 40; ++cut) {
        std::vector<char> whole(original.begin(), original.begin() + 40);
        std::vector<char> pieces(whole);
        ws::unmask(whole.data(), 40, mask, 0);
        ws::unmask(pieces.data(), cut, mask, 0);
        ws::unmask(pieces.data() + cut, 40 - cut, mask, cut);
        EXPECT_EQ(whole, pieces) << cut;
    }
}

} // namespace
