// SPDX-License-Identifier: MIT
// ws::utf8_validator against a table (every boundary of RFC 3629 §4) and, for all short
// sequences, against an independent decoder; fed whole, split and byte by byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/utf8.hpp"

namespace {

using wharf::detail::ws::utf8_validator;
using namespace std::string_literals;

struct utf8_row {
    std::string bytes;
    int fail_at; // index of the first byte no valid text can have there; -1: none
    bool complete;
};

// The first byte at which `s` stops being a prefix of valid UTF-8 (or -1), and whether it ends
// on a code point boundary: a plain decoder, independent of the validator's tables.
std::pair<int, bool> reference(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int need;
        std::uint32_t cp;
        std::uint32_t min;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return {static_cast<int>(i), false};
        }
        // The lead byte alone may already rule out every completion (C0, C1, F5..).
        if (c == 0xC0 || c == 0xC1 || c >= 0xF5) return {static_cast<int>(i), false};
        // Each continuation byte must keep some completion of the code point valid.
        std::size_t j = i + 1;
        for (int k = 0; k < need; ++k, ++j) {
            const int left = need - k - 1; // continuation bytes after this one
            if (j == s.size()) return {-1, false};
            const auto d = static_cast<unsigned char>(s[j]);
            if ((d & 0xC0) != 0x80) return {static_cast<int>(j), false};
            cp = (cp << 6) | (d & 0x3F);
            // The smallest and largest code points still reachable.
            const std::uint32_t lo = cp << (6 * left);
            const std::uint32_t hi = (cp << (6 * left)) | ((1u << (6 * left)) - 1);
            const bool any_valid = hi >= min && lo <= 0x10FFFF && !(lo >= 0xD800 && hi <= 0xDFFF);
            if (!any_valid) return {static_cast<int>(j), false};
        }
        i = j;
    }
    return {-1, true};
}

// The index of the first feed (one byte each) that fails, or -1.
int fail_index_byte_by_byte(const std::string& s, bool& complete) {
    utf8_validator v;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!v.feed(std::string_view(s).substr(i, 1))) {
            complete = false;
            return static_cast<int>(i);
        }
    }
    complete = v.complete();
    return -1;
}

const std::vector<utf8_row> rows = {
    {"", -1, true},
    {"hello, world", -1, true},
    {"\x7F", -1, true},             // U+007F
    {"\xC2\x80", -1, true},         // U+0080
    {"\xDF\xBF", -1, true},         // U+07FF
    {"\xE0\xA0\x80", -1, true},     // U+0800
    {"\xED\x9F\xBF", -1, true},     // U+D7FF
    {"\xEE\x80\x80", -1, true},     // U+E000
    {"\xEF\xBF\xBF", -1, true},     // U+FFFF
    {"\xF0\x90\x80\x80", -1, true}, // U+10000
    {"\xF4\x8F\xBF\xBF", -1, true}, // U+10FFFF
    {"\x00"s, -1, true},            // NUL is text
    {"abcdefgh\xC3\xA9ijklmnopqrstuvwxyz0123", -1, true},
    {"\xC2", -1, false}, // truncated
    {"\xE2\x82", -1, false},
    {"\xF0\x9F\x98", -1, false},
    {"\xC0\x80", 0, false}, // overlong lead bytes
    {"\xC1\xBF", 0, false},
    {"\xF5\x80\x80\x80", 0, false}, // above U+10FFFF by lead
    {"\xF8", 0, false},
    {"\xFE", 0, false},
    {"\xFF", 0, false},
    {"\x80", 0, false}, // lone continuation bytes
    {"\xBF", 0, false},
    {"abc\x80", 3, false},
    {"\xED\xA0\x80", 1, false}, // surrogates
    {"\xED\xAF\xBF", 1, false},
    {"\xED\xB0\x80", 1, false},
    {"\xED\xBF\xBF", 1, false},
    {"\xE0\x80\x80", 1, false}, // overlong 3-byte
    {"\xE0\x9F\xBF", 1, false},
    {"\xF0\x80\x80\x80", 1, false}, // overlong 4-byte
    {"\xF0\x8F\xBF\xBF", 1, false},
    {"\xF4\x90\x80\x80", 1, false}, // above U+10FFFF
    {"\xF4\xBF\xBF\xBF", 1, false},
    {"\xC2\x41", 1, false}, // continuation missing
    {"\xE2\x82\x41", 2, false},
    {"\xF0\x9F\x98\xC0", 3, false},
    {"\xC2\xC2\x80", 1, false},
    {"12345678\xED\xA0\x80", 9, false}, // after an ASCII run of the fast path
};

TEST(WsUtf8, Table) {
    for (const utf8_row& r : rows) {
        SCOPED_TRACE(::testing::PrintToString(r.bytes));
        // The reference agrees with the table.
        const auto [ref_at, ref_complete] = reference(r.bytes);
        EXPECT_EQ(ref_at, r.fail_at);
        EXPECT_EQ(ref_complete, r.complete);
        // Whole.
        utf8_validator whole;
        const bool ok = whole.feed(r.bytes);
        EXPECT_EQ(ok, r.fail_at < 0);
        if (ok) {
            EXPECT_EQ(whole.complete(), r.complete);
        }
        // Byte by byte: the failure comes at the very byte.
        bool complete = false;
        EXPECT_EQ(fail_index_byte_by_byte(r.bytes, complete), r.fail_at);
        EXPECT_EQ(complete, r.complete);
        // Two pieces at every split.
        for (std::size_t k = 0; k <= r.bytes.size(); ++k) {
            utf8_validator v;
            const bool a = v.feed(std::string_view(r.bytes).substr(0, k));
            const bool b = a && v.feed(std::string_view(r.bytes).substr(k));
            EXPECT_EQ(a, r.fail_at < 0 || static_cast<std::size_t>(r.fail_at) >= k) << k;
            EXPECT_EQ(b, r.fail_at < 0) << k;
            if (b) {
                EXPECT_EQ(v.complete(), r.complete) << k;
            }
        }
    }
}

TEST(WsUtf8, ResetForgetsAPartialSequence) {
    utf8_validator v;
    EXPECT_TRUE(v.feed("\xE2\x82"));
    EXPECT_FALSE(v.complete());
    v.reset();
    EXPECT_TRUE(v.complete());
    EXPECT_TRUE(v.feed("a"));
    // After E0 the low bound is A0; after a reset it is 80 again for an E1.
    v.reset();
    EXPECT_TRUE(v.feed("\xE0"));
    v.reset();
    EXPECT_TRUE(v.feed("\xE1\x80\x80"));
    EXPECT_TRUE(v.complete());
}

// Every sequence of one and two bytes, every three-byte sequence with a lead of E0..EF and
// C0..DF, and four-byte ones over a set of interesting continuation bytes, against the
// reference, fed byte by byte (so the failing index is exact).
TEST(WsUtf8, ExhaustiveShortSequences) {
    auto check = [](const std::string& s) {
        const auto [ref_at, ref_complete] = reference(s);
        bool complete = false;
        const int at = fail_index_byte_by_byte(s, complete);
        if (at != ref_at || complete != ref_complete) {
            ADD_FAILURE() << ::testing::PrintToString(s) << " fails at " << at << " (reference "
                          << ref_at << "), complete " << complete;
            return false;
        }
        utf8_validator whole;
        if (whole.feed(s) != (ref_at < 0)) {
            ADD_FAILURE() << ::testing::PrintToString(s) << " whole";
            return false;
        }
        return true;
    };
    std::string s;
    for (int a = 0; a < 256; ++a) {
        s.assign(1, static_cast<char>(a));
        if (!check(s)) return;
        for (int b = 0; b < 256; ++b) {
            s.assign({static_cast<char>(a), static_cast<char>(b)});
            if (!check(s)) return;
        }
    }
    for (int a = 0xC0; a < 0x100; ++a)
        for (int b = 0; b < 256; ++b)
            for (int c = 0; c < 256; ++c) {
                s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
                if (!check(s)) return;
            }
    const int edges[] = {0x00, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F,
                         0xA0, 0xAF, 0xB0, 0xBF, 0xC0, 0xC2, 0xF0, 0xFF};
    for (int a = 0xF0; a < 0x100; ++a)
        for (int b : edges)
            for (int c : edges)
                for (int d : edges) {
                    s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                              static_cast<char>(d)});
                    if (!check(s)) return;
                }
}

} // namespace
