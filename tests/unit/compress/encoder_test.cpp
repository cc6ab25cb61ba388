// SPDX-License-Identifier: MIT
// The content-coding encoders against the reference decoders: whole and streamed bodies
// round-trip at every level range, a flush makes all input so far decodable, and misuse fails.
#include "compress/encoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "content_decoding.hpp"

namespace {

using wharf::detail::compress::coding;
using wharf::detail::compress::coding_name;
using wharf::detail::compress::encoder;
using wharf::detail::compress::flush_mode;
using wharf_test::decode;

/// Text that compresses like web content: words from a small vocabulary in a fixed
/// pseudo-random order, with numbers.
std::string sample_text(std::size_t size) {
    static const char* const words[] = {"wharf", "server", "request", "response", "header",
                                        "body",  "stream", "frame",   "window",   "value"};
    std::uint32_t state = 12345;
    std::string out;
    while (out.size() < size) {
        state = state * 1103515245u + 12345u;
        out += words[(state >> 16) % 10];
        out += (state & 0x100) != 0 ? ' ' : ',';
        if ((state & 0xf000) == 0) out += std::to_string(state % 10007);
    }
    out.resize(size);
    return out;
}

const coding all_codings[] = {coding::gzip, coding::br, coding::zstd};

class encoder_test : public ::testing::TestWithParam<coding> {
  protected:
    std::string name() const { return std::string(coding_name(GetParam())); }
};

TEST_P(encoder_test, WholeBodiesRoundTripAtEveryLevelAndSize) {
    for (const int level : {0, 1, 3, 5, 6, 9, 11, 19, 100}) {
        // Past the largest window (256 KiB) only at a streaming level: the top ones are slow.
        for (const std::size_t size : {0u, 1u, 1000u, 70000u, level == 5 ? 300000u : 2000u}) {
            const std::string text = sample_text(size);
            for (const bool hinted : {true, false}) {
                auto enc = encoder::make(
                    GetParam(), level, hinted ? std::optional<std::uint64_t>(size) : std::nullopt);
                ASSERT_TRUE(enc);
                std::string out;
                ASSERT_FALSE(enc->write(text, flush_mode::finish, out));
                EXPECT_TRUE(enc->finished());
                const auto back = decode(name(), out);
                ASSERT_TRUE(back) << "level " << level << " size " << size;
                EXPECT_EQ(*back, text) << "level " << level << " size " << size;
                if (size >= 1000) {
                    EXPECT_LT(out.size(), size / 2) << "level " << level;
                }
            }
        }
    }
}

TEST_P(encoder_test, StreamedPiecesRoundTrip) {
    const std::string text = sample_text(200000);
    for (const std::size_t piece : {1u, 7u, 4096u, 65537u}) {
        auto enc = encoder::make(GetParam(), 5);
        ASSERT_TRUE(enc);
        std::string out;
        for (std::size_t at = 0; at < text.size(); at += piece)
            ASSERT_FALSE(
                enc->write(std::string_view(text).substr(at, piece), flush_mode::none, out));
        EXPECT_FALSE(enc->finished());
        ASSERT_FALSE(enc->write({}, flush_mode::finish, out));
        const auto back = decode(name(), out);
        ASSERT_TRUE(back) << "pieces of " << piece;
        EXPECT_EQ(*back, text) << "pieces of " << piece;
    }
}

TEST_P(encoder_test, EachFlushMakesEverythingSoFarDecodable) {
    auto enc = encoder::make(GetParam(), 5);
    ASSERT_TRUE(enc);
    std::string out, sent;
    for (const std::string& event :
         {std::string("data: one\n\n"), std::string("data: two\n\n"), sample_text(5000)}) {
        ASSERT_FALSE(enc->write(event, flush_mode::flush, out));
        sent += event;
        const auto so_far = decode(name(), out, /*partial=*/true);
        ASSERT_TRUE(so_far);
        EXPECT_EQ(*so_far, sent);
        // Not a complete stream yet: the decoder is still waiting for its end.
        EXPECT_FALSE(decode(name(), out));
    }
    ASSERT_FALSE(enc->write({}, flush_mode::finish, out));
    EXPECT_EQ(decode(name(), out).value_or("<invalid>"), sent);
}

TEST_P(encoder_test, AFlushWithNothingNewEmitsNothing) {
    auto enc = encoder::make(GetParam(), 5);
    ASSERT_TRUE(enc);
    std::string out;
    ASSERT_FALSE(enc->write("event", flush_mode::flush, out));
    const std::size_t after_first = out.size();
    EXPECT_GT(after_first, 0u);
    ASSERT_FALSE(enc->write({}, flush_mode::flush, out));
    EXPECT_EQ(out.size(), after_first);
}

TEST_P(encoder_test, InputAfterTheEndIsRefused) {
    auto enc = encoder::make(GetParam(), 5, 3);
    ASSERT_TRUE(enc);
    std::string out;
    ASSERT_FALSE(enc->write("abc", flush_mode::finish, out));
    const std::size_t size = out.size();
    EXPECT_FALSE(enc->write({}, flush_mode::finish, out)); // an empty finish again is fine
    EXPECT_EQ(out.size(), size);
    EXPECT_EQ(enc->write("more", flush_mode::none, out),
              std::make_error_code(std::errc::invalid_argument));
    EXPECT_EQ(decode(name(), out).value_or("<invalid>"), "abc");
}

TEST_P(encoder_test, ManyStreamsOnOneThreadReuseTheirStateCorrectly) {
    // The idle pool hands a reset state to the next stream: no stream sees another's data.
    for (int i = 0; i < 20; ++i) {
        const std::string text = sample_text(1000 + 997 * static_cast<std::size_t>(i));
        auto a = encoder::make(GetParam(), 5, text.size());
        auto b = encoder::make(GetParam(), 5); // two alive at once
        ASSERT_TRUE(a && b);
        std::string out_a, out_b;
        ASSERT_FALSE(a->write(text, flush_mode::finish, out_a));
        ASSERT_FALSE(b->write(text.substr(1), flush_mode::finish, out_b));
        EXPECT_EQ(decode(name(), out_a).value_or(""), text);
        EXPECT_EQ(decode(name(), out_b).value_or(""), text.substr(1));
    }
}

INSTANTIATE_TEST_SUITE_P(Codings, encoder_test, ::testing::ValuesIn(all_codings),
                         [](const auto& param) { return std::string(coding_name(param.param)); });

TEST(coding_name, IsTheHttpToken) {
    EXPECT_EQ(coding_name(coding::gzip), "gzip");
    EXPECT_EQ(coding_name(coding::br), "br");
    EXPECT_EQ(coding_name(coding::zstd), "zstd");
}

} // namespace
