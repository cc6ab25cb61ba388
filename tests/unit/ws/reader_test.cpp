// SPDX-License-Identifier: MIT
// ws::reader against rows of client frames: each row fed whole, in two pieces split at every
// byte, and one byte at a time, always with the unconsumed tail given again (as on_read does).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "ws_test_support.hpp"

namespace {

using namespace ws_test;
using namespace std::string_literals;
using ws::op_binary;
using ws::op_close;
using ws::op_continuation;
using ws::op_ping;
using ws::op_pong;
using ws::op_text;

constexpr std::size_t default_max = 1 << 20;

struct row {
    std::string name;
    std::string input;
    std::vector<event> events; // the whole messages and control frames before the end / failure
    std::uint16_t failure = 0;
    bool closed = false;
    std::size_t max = default_max;
    inflate_mode mode = inflate_mode::none;
    std::size_t consumed = SIZE_MAX; // SIZE_MAX: all of the input (when no failure)
};

std::ostream& operator<<(std::ostream& os, const row& r) {
    return os << r.name;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string p;
    p += static_cast<char>(code >> 8);
    p += static_cast<char>(code & 0xFF);
    p += reason;
    return p;
}

frame_options with(bool fin, bool rsv1 = false) {
    frame_options o;
    o.fin = fin;
    o.rsv1 = rsv1;
    return o;
}

frame_options masked_with(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          bool fin = true) {
    frame_options o;
    o.fin = fin;
    o.mask[0] = a;
    o.mask[1] = b;
    o.mask[2] = c;
    o.mask[3] = d;
    return o;
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    return s;
}

std::string binary_pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>((i * 131 + 7) & 0xFF);
    return s;
}

std::string random_bytes(std::size_t n) {
    std::string s(n, '\0');
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s[i] = static_cast<char>(x & 0xFF);
    }
    return s;
}

void add_sizes(std::vector<row>& rows) {
    for (std::size_t n : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u}) {
        const std::string t = pattern(n);
        rows.push_back({"text_" + std::to_string(n), frame(op_text, t), {{'t', t}}});
        const std::string b = binary_pattern(n);
        rows.push_back({"binary_" + std::to_string(n), frame(op_binary, b), {{'b', b}}});
    }
    // Text exactly at the limit; one byte more on one frame and over fragments.
    rows.push_back(
        {"text_at_max", frame(op_text, pattern(1000)), {{'t', pattern(1000)}}, 0, false, 1000});
    rows.push_back(
        {"text_over_max_one_frame", frame(op_text, pattern(1001)), {}, 1009, false, 1000});
    rows.push_back(
        {"binary_over_max_fragments",
         frame(op_binary, pattern(600), not_fin()) + frame(op_continuation, pattern(401)),
         {},
         1009,
         false,
         1000});
    rows.push_back({"binary_at_max_fragments",
                    frame(op_binary, pattern(600), not_fin()) + frame(op_ping, "x") +
                        frame(op_continuation, pattern(400)),
                    {{'P', "x"}, {'b', pattern(600) + pattern(400)}},
                    0,
                    false,
                    1000});
    rows.push_back(
        {"over_max_many_fragments",
         frame(op_text, pattern(300), not_fin()) + frame(op_continuation, pattern(300), not_fin()) +
             frame(op_continuation, pattern(300), not_fin()) + frame(op_continuation, pattern(300)),
         {},
         1009,
         false,
         1000});
    // A huge declared length fails at its head, before any payload.
    frame_options huge;
    huge.length_override = std::uint64_t{1} << 62;
    rows.push_back({"huge_length_1009", frame(op_binary, "", huge), {}, 1009});
    // Control frames do not count towards the message size.
    rows.push_back({"max_counts_messages_not_controls",
                    frame(op_text, pattern(5), not_fin()) + frame(op_ping, pattern(100)) +
                        frame(op_continuation, pattern(5)),
                    {{'P', pattern(100)}, {'t', pattern(5) + pattern(5)}},
                    0,
                    false,
                    10});
}

void add_fragments(std::vector<row>& rows) {
    rows.push_back({"fragmented_with_controls",
                    frame(op_text, "Hel", not_fin()) + frame(op_ping, "p1") +
                        frame(op_continuation, "lo", not_fin()) + frame(op_pong, "") +
                        frame(op_ping, "") + frame(op_continuation, ", world"),
                    {{'P', "p1"}, {'O', ""}, {'P', ""}, {'t', "Hello, world"}}});
    rows.push_back({"empty_fragments",
                    frame(op_text, "", not_fin()) + frame(op_continuation, "", not_fin()) +
                        frame(op_continuation, "abc", not_fin()) + frame(op_continuation, ""),
                    {{'t', "abc"}}});
    rows.push_back({"all_fragments_empty",
                    frame(op_binary, "", not_fin()) + frame(op_continuation, "", not_fin()) +
                        frame(op_continuation, ""),
                    {{'b', ""}}});
    rows.push_back({"messages_back_to_back",
                    frame(op_text, "one", masked_with(1, 2, 3, 4)) +
                        frame(op_binary, binary_pattern(200), masked_with(0, 0, 0, 0)) +
                        frame(op_text, "thr", masked_with(0xFF, 0xFE, 0xFD, 0xFC, false)) +
                        frame(op_continuation, "ee", masked_with(9, 8, 7, 6)),
                    {{'t', "one"}, {'b', binary_pattern(200)}, {'t', "three"}}});
    rows.push_back({"fragmented_large",
                    frame(op_binary, binary_pattern(70000), not_fin()) +
                        frame(op_ping, pattern(125)) + frame(op_continuation, binary_pattern(300)),
                    {{'P', pattern(125)}, {'b', binary_pattern(70000) + binary_pattern(300)}}});
    rows.push_back({"ping_125", frame(op_ping, pattern(125)), {{'P', pattern(125)}}});
    rows.push_back({"pong_binary", frame(op_pong, "\x00\xff\x80"s), {{'O', "\x00\xff\x80"s}}});
    rows.push_back({"continuation_without_message", frame(op_continuation, "x"), {}, 1002});
    rows.push_back({"continuation_after_message_end",
                    frame(op_text, "a") + frame(op_continuation, "b"),
                    {{'t', "a"}},
                    1002});
    rows.push_back({"text_inside_fragmented_text",
                    frame(op_text, "a", not_fin()) + frame(op_text, "b"),
                    {},
                    1002});
    rows.push_back({"binary_inside_fragmented_text",
                    frame(op_text, "a", not_fin()) + frame(op_ping, "") + frame(op_binary, "b"),
                    {{'P', ""}},
                    1002});
    rows.push_back({"empty_text_inside_fragmented",
                    frame(op_binary, "", not_fin()) + frame(op_text, ""),
                    {},
                    1002});
}

void add_bad_frames(std::vector<row>& rows) {
    frame_options unmasked;
    unmasked.masked = false;
    rows.push_back({"unmasked_text", frame(op_text, "hi", unmasked), {}, 1002});
    rows.push_back({"unmasked_ping", frame(op_ping, "", unmasked), {}, 1002});
    rows.push_back({"unmasked_after_good",
                    frame(op_text, "ok") + frame(op_binary, "no", unmasked),
                    {{'t', "ok"}},
                    1002});
    for (int bit = 1; bit <= 3; ++bit) {
        frame_options o;
        o.rsv1 = bit == 1;
        o.rsv2 = bit == 2;
        o.rsv3 = bit == 3;
        const std::string b = std::to_string(bit);
        rows.push_back({"rsv" + b + "_text", frame(op_text, "x", o), {}, 1002});
        rows.push_back({"rsv" + b + "_ping", frame(op_ping, "x", o), {}, 1002});
        rows.push_back({"rsv" + b + "_close", frame(op_close, "", o), {}, 1002});
        rows.push_back({"rsv" + b + "_continuation",
                        frame(op_text, "a", not_fin()) + frame(op_continuation, "x", o),
                        {},
                        1002});
        if (bit != 1) {
            rows.push_back({"rsv" + b + "_text_with_inflater",
                            frame(op_text, deflated("x"), o),
                            {},
                            1002,
                            false,
                            default_max,
                            inflate_mode::reset_each_message});
        }
    }
    // With an inflater RSV1 is allowed on a message's first frame only.
    rows.push_back({"rsv1_continuation_with_inflater",
                    frame(op_text, "a", not_fin()) + frame(op_continuation, "b", with(true, true)),
                    {},
                    1002,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    rows.push_back({"rsv1_ping_with_inflater",
                    frame(op_ping, "", with(true, true)),
                    {},
                    1002,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    rows.push_back({"rsv1_close_with_inflater",
                    frame(op_close, "", with(true, true)),
                    {},
                    1002,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    for (std::uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        rows.push_back({"opcode_" + std::to_string(op), frame(op, ""), {}, 1002});
        rows.push_back({"opcode_" + std::to_string(op) + "_after_good",
                        frame(op_ping, "a") + frame(op, "xyz"),
                        {{'P', "a"}},
                        1002});
    }
    rows.push_back({"ping_126", frame(op_ping, pattern(126)), {}, 1002});
    rows.push_back({"pong_127", frame(op_pong, pattern(127)), {}, 1002});
    rows.push_back({"close_126", frame(op_close, close_payload(1000, pattern(124))), {}, 1002});
    rows.push_back({"ping_not_fin", frame(op_ping, "x", not_fin()), {}, 1002});
    rows.push_back({"close_not_fin", frame(op_close, "", not_fin()), {}, 1002});
    rows.push_back({"pong_not_fin_in_message",
                    frame(op_text, "a", not_fin()) + frame(op_pong, "", not_fin()),
                    {},
                    1002});
    // Lengths not in their shortest form, and 64-bit lengths with the top bit set.
    for (std::uint64_t len : {0u, 1u, 125u}) {
        frame_options o;
        o.form = length_form::bits16;
        rows.push_back(
            {"len16_of_" + std::to_string(len), frame(op_binary, pattern(len), o), {}, 1002});
    }
    for (std::uint64_t len : {0u, 125u, 126u, 65535u}) {
        frame_options o;
        o.form = length_form::bits64;
        rows.push_back(
            {"len64_of_" + std::to_string(len), frame(op_binary, pattern(len), o), {}, 1002});
    }
    {
        frame_options o;
        o.form = length_form::bits16;
        rows.push_back({"ping_len16_of_5", frame(op_ping, "hello", o), {}, 1002});
    }
    for (std::uint64_t len :
         {std::uint64_t{1} << 63, ~std::uint64_t{0}, (std::uint64_t{1} << 63) | 5}) {
        frame_options o;
        o.length_override = len;
        rows.push_back({"len64_top_bit_" + std::to_string(len & 0xFF),
                        frame(op_binary, "", o),
                        {},
                        1002,
                        false,
                        SIZE_MAX});
    }
    // The 64-bit form just at its threshold is fine.
    {
        frame_options o;
        o.form = length_form::bits64;
        rows.push_back(
            {"len64_of_65536", frame(op_binary, pattern(65536), o), {{'b', pattern(65536)}}});
        o.form = length_form::bits16;
        rows.push_back({"len16_of_126", frame(op_binary, pattern(126), o), {{'b', pattern(126)}}});
    }
}

// Text that is valid UTF-8, with every length of sequence and the boundaries.
const std::string good_text = "a\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
                              "\xF0\x90\x80\x80\xF4\x8F\xBF\xBFz \xE2\x82\xAC\xF0\x9F\x98\x80";

void add_utf8(std::vector<row>& rows) {
    rows.push_back({"utf8_one_frame", frame(op_text, good_text), {{'t', good_text}}});
    // Split in two fragments at every byte, with a ping between them.
    for (std::size_t k = 0; k <= good_text.size(); ++k) {
        rows.push_back({"utf8_split_at_" + std::to_string(k),
                        frame(op_text, good_text.substr(0, k), not_fin()) + frame(op_ping, "") +
                            frame(op_continuation, good_text.substr(k)),
                        {{'P', ""}, {'t', good_text}}});
    }
    // One byte per fragment.
    {
        std::string in = frame(op_text, "", not_fin());
        for (char c : good_text)
            in += frame(op_continuation, std::string(1, c), not_fin());
        in += frame(op_continuation, "");
        rows.push_back({"utf8_byte_per_fragment", in, {{'t', good_text}}});
    }
    // Binary messages are not checked.
    rows.push_back({"binary_not_utf8",
                    frame(op_binary, "\xFF\xC0\xED\xA0\x80"),
                    {{'b', "\xFF\xC0\xED\xA0\x80"}}});
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"overlong_c0", "\xC0\xAF"},
        {"overlong_c1", "\xC1\xBF"},
        {"overlong_e0", "\xE0\x80\xAF"},
        {"overlong_e0_9f", "\xE0\x9F\xBF"},
        {"overlong_f0", "\xF0\x80\x80\xAF"},
        {"overlong_f0_8f", "\xF0\x8F\xBF\xBF"},
        {"surrogate_d800", "\xED\xA0\x80"},
        {"surrogate_dfff", "\xED\xBF\xBF"},
        {"above_10ffff", "\xF4\x90\x80\x80"},
        {"f5", "\xF5\x80\x80\x80"},
        {"ff", "\xFF"},
        {"fe", "\xFE"},
        {"lone_continuation", "\x80"},
        {"continuation_after_ascii", "ab\xBF"},
        {"lead_then_ascii", "\xE2\x82x"},
        {"two_leads", "\xC2\xC2\x80"},
        {"truncated_2", "\xC2"},
        {"truncated_3", "\xE2\x82"},
        {"truncated_4", "\xF0\x9F\x98"},
    };
    for (const auto& [name, bytes] : bad) {
        rows.push_back({"utf8_bad_" + name, frame(op_text, "ok" + bytes), {}, 1007});
        rows.push_back({"utf8_bad_" + name + "_fragmented",
                        frame(op_text, "ok", not_fin()) + frame(op_continuation, bytes, not_fin()) +
                            frame(op_continuation, ""),
                        {},
                        1007});
    }
    // Truncated at the end of the message: the last fragment is empty, or is a control away.
    rows.push_back(
        {"utf8_truncated_then_empty_last",
         frame(op_text, "\xE2\x82", not_fin()) + frame(op_ping, "") + frame(op_continuation, ""),
         {{'P', ""}},
         1007});
    // Fail fast: an invalid byte in a non-final fragment fails at once, with nothing after it.
    rows.push_back({"utf8_fail_fast_fragment", frame(op_text, "abc\xFF", not_fin()), {}, 1007});
    rows.push_back({"utf8_fail_fast_surrogate", frame(op_text, "\xED\xA0", not_fin()), {}, 1007});
    // ... and within a frame whose rest has not arrived.
    {
        const std::string whole = frame(op_text, "ab\xC0" + pattern(50));
        rows.push_back({"utf8_fail_fast_partial_frame", whole.substr(0, 2 + 4 + 3), {}, 1007});
    }
    // An incomplete sequence at the end of a non-final fragment is fine so far.
    rows.push_back({"utf8_incomplete_fragment_ok",
                    frame(op_text, "x\xF0\x9F", not_fin()) + frame(op_continuation, "\x98\x80"),
                    {{'t', "x\xF0\x9F\x98\x80"}}});
    // The validator starts afresh with each message.
    rows.push_back({"utf8_fresh_per_message",
                    frame(op_binary, "\xE2\x82", not_fin()) + frame(op_continuation, "") +
                        frame(op_text, "\xAC"),
                    {{'b', "\xE2\x82"}},
                    1007});
}

void add_close(std::vector<row>& rows) {
    rows.push_back({"close_empty", frame(op_close, ""), {{'C', ""}}, 0, true});
    rows.push_back({"close_one_byte", frame(op_close, "\x03"), {}, 1002});
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                               1014, 3000, 3999, 4000, 4999}) {
        rows.push_back({"close_code_" + std::to_string(code),
                        frame(op_close, close_payload(code)),
                        {{'C', close_payload(code)}},
                        0,
                        true});
    }
    for (std::uint16_t code :
         {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        rows.push_back({"close_bad_code_" + std::to_string(code),
                        frame(op_close, close_payload(code)),
                        {},
                        1002});
    }
    rows.push_back({"close_reason",
                    frame(op_close, close_payload(1000, "bye \xE2\x82\xAC")),
                    {{'C', close_payload(1000, "bye \xE2\x82\xAC")}},
                    0,
                    true});
    rows.push_back({"close_reason_123",
                    frame(op_close, close_payload(1001, pattern(123))),
                    {{'C', close_payload(1001, pattern(123))}},
                    0,
                    true});
    rows.push_back(
        {"close_reason_not_utf8", frame(op_close, close_payload(1000, "a\xFF")), {}, 1007});
    rows.push_back(
        {"close_reason_truncated", frame(op_close, close_payload(1000, "\xE2\x82")), {}, 1007});
    rows.push_back(
        {"close_reason_surrogate", frame(op_close, close_payload(1000, "\xED\xA0\x80")), {}, 1007});
    // Nothing after a close frame is parsed: not a ping, not a bad frame.
    {
        const std::string c = frame(op_close, close_payload(1000));
        const std::string before = frame(op_ping, "p") + c;
        rows.push_back({"close_then_ping",
                        before + frame(op_ping, "q"),
                        {{'P', "p"}, {'C', close_payload(1000)}},
                        0,
                        true,
                        default_max,
                        inflate_mode::none,
                        before.size()});
        frame_options unmasked;
        unmasked.masked = false;
        rows.push_back({"close_then_garbage",
                        c + frame(0x3, "bad", unmasked) + "\xFF\xFF",
                        {{'C', close_payload(1000)}},
                        0,
                        true,
                        default_max,
                        inflate_mode::none,
                        c.size()});
    }
    // A close in the middle of a fragmented message.
    rows.push_back(
        {"close_inside_fragmented",
         frame(op_text, "abc", not_fin()) + frame(op_close, "") + frame(op_continuation, "def"),
         {{'C', ""}},
         0,
         true,
         default_max,
         inflate_mode::none,
         frame(op_text, "abc", not_fin()).size() + frame(op_close, "").size()});
}

void add_compressed(std::vector<row>& rows) {
    const auto rsv1 = with(true, true);
    const auto rsv1_not_fin = with(false, true);
    const std::string hello = "Hello, compressed world! Hello, compressed world!";
    rows.push_back({"deflate_one_frame",
                    frame(op_text, deflated(hello), rsv1),
                    {{'t', hello}},
                    0,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    {
        const std::string z = deflated(good_text + hello);
        rows.push_back({"deflate_utf8",
                        frame(op_text, z, rsv1),
                        {{'t', good_text + hello}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
    }
    {
        const std::string b = binary_pattern(100000);
        rows.push_back({"deflate_binary_large",
                        frame(op_binary, deflated(b), rsv1),
                        {{'b', b}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
    }
    {
        const std::string z = deflated(hello);
        const std::size_t a = z.size() / 3;
        const std::size_t b = 2 * z.size() / 3;
        rows.push_back({"deflate_fragmented",
                        frame(op_text, z.substr(0, a), rsv1_not_fin) + frame(op_ping, "p") +
                            frame(op_continuation, z.substr(a, b - a), not_fin()) +
                            frame(op_continuation, "", not_fin()) +
                            frame(op_continuation, z.substr(b)),
                        {{'P', "p"}, {'t', hello}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
        // Every byte its own fragment.
        std::string in = frame(op_text, "", rsv1_not_fin);
        for (char c : z)
            in += frame(op_continuation, std::string(1, c), not_fin());
        in += frame(op_continuation, "");
        rows.push_back({"deflate_byte_per_fragment",
                        in,
                        {{'t', hello}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
    }
    // A message ending with a BFINAL block (RFC 7692 §7.2.3.4); the next one is a new stream.
    // The _takeover row fails: see the bug described at deflate_rfc7692_bfinal below.
    {
        z_stream z{};
        EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
        std::string m = hello;
        char out[256];
        z.next_in = reinterpret_cast<Bytef*>(m.data());
        z.avail_in = static_cast<uInt>(m.size());
        z.next_out = reinterpret_cast<Bytef*>(out);
        z.avail_out = sizeof out;
        EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
        const std::string final_block(out, sizeof out - z.avail_out);
        deflateEnd(&z);
        for (auto mode : {inflate_mode::reset_each_message, inflate_mode::takeover}) {
            rows.push_back(
                {mode == inflate_mode::takeover ? "deflate_bfinal_takeover"
                                                : "deflate_bfinal_reset",
                 frame(op_text, final_block, rsv1) + frame(op_text, deflated("next"), rsv1),
                 {{'t', hello}, {'t', "next"}},
                 0,
                 false,
                 default_max,
                 mode});
        }
    }
    // RFC 7692's own BFINAL example ("Hello", what zlib's Z_FINISH writes), then a message.
    // The tail after a stream that a BFINAL block ended belongs to no stream: with context
    // takeover it must not be left half-read in front of the next message.
    for (auto mode : {inflate_mode::reset_each_message, inflate_mode::takeover}) {
        rows.push_back({mode == inflate_mode::takeover ? "deflate_rfc7692_bfinal_takeover"
                                                       : "deflate_rfc7692_bfinal_reset",
                        frame(op_text, "\xF3\x48\xCD\xC9\xC9\x07\x00"s, rsv1) +
                            frame(op_text, deflated("next"), rsv1),
                        {{'t', "Hello"}, {'t', "next"}},
                        0,
                        false,
                        default_max,
                        mode});
    }
    rows.push_back({"deflate_empty_message",
                    frame(op_text, deflated(""), rsv1),
                    {{'t', ""}},
                    0,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    rows.push_back({"deflate_empty_payload",
                    frame(op_binary, "", rsv1),
                    {{'b', ""}},
                    0,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    // Compressed and plain messages may alternate.
    rows.push_back({"deflate_and_plain",
                    frame(op_text, deflated(hello), rsv1) + frame(op_text, "plain") +
                        frame(op_binary, deflated("abc"), rsv1),
                    {{'t', hello}, {'t', "plain"}, {'b', "abc"}},
                    0,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    // Context takeover: the second message refers back into the first.
    {
        compressor c(true);
        const std::string m1 = "the quick brown fox jumps over the lazy dog; " + hello;
        const std::string m2 = hello + " the quick brown fox jumps over the lazy dog";
        const std::string z1 = c.compress(m1);
        const std::string z2 = c.compress(m2);
        const std::string in = frame(op_text, z1, rsv1) + frame(op_text, z2, rsv1);
        rows.push_back({"deflate_context_takeover",
                        in,
                        {{'t', m1}, {'t', m2}},
                        0,
                        false,
                        default_max,
                        inflate_mode::takeover});
        // An inflater that forgets between messages cannot follow those back references.
        rows.push_back({"deflate_takeover_into_reset_inflater",
                        in,
                        {{'t', m1}},
                        1007,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
        // A client that resets between messages works with either.
        compressor fresh(false);
        const std::string in2 =
            frame(op_text, fresh.compress(m1), rsv1) + frame(op_text, fresh.compress(m2), rsv1);
        rows.push_back({"deflate_no_takeover_reset_inflater",
                        in2,
                        {{'t', m1}, {'t', m2}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
        rows.push_back({"deflate_no_takeover_takeover_inflater",
                        in2,
                        {{'t', m1}, {'t', m2}},
                        0,
                        false,
                        default_max,
                        inflate_mode::takeover});
    }
    // Output limits: exactly the max is fine, one byte more is 1009, on one frame or several.
    {
        const std::string at = pattern(1000);
        rows.push_back({"deflate_at_max",
                        frame(op_text, deflated(at), rsv1),
                        {{'t', at}},
                        0,
                        false,
                        1000,
                        inflate_mode::reset_each_message});
        rows.push_back({"deflate_over_max",
                        frame(op_text, deflated(at + "x"), rsv1),
                        {},
                        1009,
                        false,
                        1000,
                        inflate_mode::reset_each_message});
        const std::string z = deflated(std::string(5000, 'q'));
        rows.push_back(
            {"deflate_over_max_fragmented",
             frame(op_binary, z.substr(0, 4), rsv1_not_fin) + frame(op_continuation, z.substr(4)),
             {},
             1009,
             false,
             1000,
             inflate_mode::reset_each_message});
        // The budget is per message: two messages of the max each are fine.
        rows.push_back({"deflate_max_per_message",
                        frame(op_text, deflated(at), rsv1) + frame(op_text, deflated(at), rsv1),
                        {{'t', at}, {'t', at}},
                        0,
                        false,
                        1000,
                        inflate_mode::reset_each_message});
        // Compressed input longer than the max on one frame.
        const std::string incompressible = deflated(random_bytes(3000));
        rows.push_back({"deflate_input_over_max",
                        frame(op_binary, incompressible, rsv1),
                        {},
                        1009,
                        false,
                        1000,
                        inflate_mode::reset_each_message});
    }
    // Corrupt data: a reserved block type; a stored block whose lengths disagree.
    rows.push_back({"deflate_corrupt_block_type",
                    frame(op_binary, "\xFF\xFF\xFF", rsv1),
                    {},
                    1007,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    rows.push_back({"deflate_corrupt_stored",
                    frame(op_binary, "\x00\x05\x00\x00\x00hello"s, rsv1),
                    {},
                    1007,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    {
        std::string z = deflated(hello);
        rows.push_back({"deflate_corrupt_after_good",
                        frame(op_text, z, rsv1) + frame(op_text, "\x07garbage", rsv1),
                        {{'t', hello}},
                        1007,
                        false,
                        default_max,
                        inflate_mode::takeover});
    }
    // Compressed text is checked once inflated.
    rows.push_back({"deflate_not_utf8",
                    frame(op_text, deflated("abc\xFF"), rsv1),
                    {},
                    1007,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    rows.push_back({"deflate_utf8_truncated",
                    frame(op_text, deflated("abc\xE2\x82"), rsv1),
                    {},
                    1007,
                    false,
                    default_max,
                    inflate_mode::reset_each_message});
    {
        const std::string z = deflated(hello + "\xF0\x9F\x98\x80");
        rows.push_back({"deflate_utf8_fragmented",
                        frame(op_text, z.substr(0, z.size() - 2), rsv1_not_fin) +
                            frame(op_continuation, z.substr(z.size() - 2)),
                        {{'t', hello + "\xF0\x9F\x98\x80"}},
                        0,
                        false,
                        default_max,
                        inflate_mode::reset_each_message});
    }
}

std::vector<row> all_rows() {
    std::vector<row> rows;
    add_sizes(rows);
    add_fragments(rows);
    add_bad_frames(rows);
    add_utf8(rows);
    add_close(rows);
    add_compressed(rows);
    return rows;
}

class WsReaderRows : public ::testing::TestWithParam<row> {};

void expect_outcome(const row& r, const outcome& o, const std::string& how) {
    SCOPED_TRACE(how);
    EXPECT_EQ(o.failure, r.failure);
    EXPECT_EQ(o.closed, r.closed);
    EXPECT_EQ(o.events, r.events);
    if (!r.failure) {
        const std::size_t want = r.consumed == SIZE_MAX ? r.input.size() : r.consumed;
        EXPECT_EQ(o.consumed, want);
    }
}

TEST_P(WsReaderRows, Feed) {
    const row& r = GetParam();
    const std::size_t n = r.input.size();
    expect_outcome(r, run_reader(r.input, {}, r.max, r.mode), "whole");
    if (::testing::Test::HasFailure()) return;

    // Two pieces, split at every byte (sampled for the long rows: every byte near the ends).
    for (std::size_t k = 0; k <= n; ++k) {
        if (n > 2048 && k > 64 && k + 64 < n && k % 997 != 0) continue;
        expect_outcome(r, run_reader(r.input, {k}, r.max, r.mode), "split at " + std::to_string(k));
        if (::testing::Test::HasFailure()) return;
    }

    // One byte at a time.
    std::vector<std::size_t> cuts(n);
    for (std::size_t k = 0; k < n; ++k)
        cuts[k] = k + 1;
    expect_outcome(r, run_reader(r.input, cuts, r.max, r.mode), "one byte at a time");
    if (::testing::Test::HasFailure()) return;

    // Holding frames of up to 300 bytes until they are whole changes nothing but the pieces.
    for (std::size_t k = 0; k <= n; ++k) {
        if (n > 2048 && k > 64 && k + 64 < n && k % 997 != 0) continue;
        expect_outcome(r, run_reader(r.input, {k}, r.max, r.mode, 300),
                       "holding, split at " + std::to_string(k));
        if (::testing::Test::HasFailure()) return;
    }
    expect_outcome(r, run_reader(r.input, cuts, r.max, r.mode, 300), "holding, byte by byte");
}

std::string row_name(const ::testing::TestParamInfo<row>& info) {
    std::string s = info.param.name;
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
}

INSTANTIATE_TEST_SUITE_P(Ws, WsReaderRows, ::testing::ValuesIn(all_rows()), row_name);

TEST(WsReader, RowNamesAreUnique) {
    auto rows = all_rows();
    std::vector<std::string> names;
    for (const row& r : rows)
        names.push_back(r.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

// 64 MiB of zeros in about 64 KiB: the inflater stops at the budget, however far the input
// would expand, and the reader fails with 1009.
TEST(WsReader, InflateBombIs1009) {
    const std::string z = deflated(std::string(64u << 20, '\0'));
    ASSERT_LT(z.size(), 1u << 20);
    constexpr std::size_t max = 16u << 20;
    for (bool fragmented : {false, true}) {
        SCOPED_TRACE(fragmented ? "fragmented" : "one frame");
        std::string in;
        if (fragmented) {
            in = frame(op_binary, z.substr(0, z.size() / 2), with(false, true)) +
                 frame(op_continuation, z.substr(z.size() / 2));
        } else {
            in = frame(op_binary, z, with(true, true));
        }
        for (std::vector<std::size_t> cuts :
             {std::vector<std::size_t>{}, std::vector<std::size_t>{7, 100, in.size() / 2}}) {
            const outcome o = run_reader(in, cuts, max, inflate_mode::reset_each_message);
            EXPECT_EQ(o.failure, 1009);
            EXPECT_TRUE(o.events.empty());
        }
    }
    // The same message within a larger budget inflates in full.
    const std::string in =
        frame(op_binary, deflated(std::string(1u << 20, '\0')), with(true, true));
    const outcome o = run_reader(in, {}, 1u << 20, inflate_mode::reset_each_message);
    EXPECT_EQ(o.failure, 0);
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0].payload, std::string(1u << 20, '\0'));
}

// The data pieces of a message come as they arrive: a frame split over feeds is handed over in
// pieces, not held back until the frame ends.
TEST(WsReader, DeliversPiecesAsTheyArrive) {
    const std::string in = frame(op_binary, pattern(1000));
    ws::reader rd(default_max, nullptr);
    recording_sink sink;
    std::string buf = in.substr(0, 500);
    EXPECT_EQ(rd.feed(buf.data(), buf.size(), sink), 500u);
    EXPECT_EQ(sink.partial_size(), 500u - 8u);
    EXPECT_TRUE(sink.events.empty());
    buf = in.substr(500);
    EXPECT_EQ(rd.feed(buf.data(), buf.size(), sink), in.size() - 500);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].payload, pattern(1000));
}

// A frame within hold_below is taken only once it is all there, and then in one piece from
// the caller's buffer; a larger one streams as before.
TEST(WsReader, HeldFrameComesInOnePiece) {
    struct counting_sink final : ws::reader_sink {
        std::vector<std::string> pieces;
        void on_data(std::string_view piece, bool, bool) override { pieces.emplace_back(piece); }
        void on_control(std::uint8_t, std::string_view) override {}
    };
    const std::string in = frame(op_binary, pattern(1000)) + frame(op_text, pattern(3000));
    for (std::size_t k = 1; k < in.size(); ++k) {
        ws::reader rd(default_max, nullptr, 2000);
        counting_sink sink;
        std::string buf = in.substr(0, k);
        const std::size_t used = rd.feed(buf.data(), buf.size(), sink);
        buf.erase(0, used);
        buf += in.substr(k);
        EXPECT_EQ(rd.feed(buf.data(), buf.size(), sink), buf.size()) << k;
        ASSERT_GE(sink.pieces.size(), 2u) << k;
        EXPECT_EQ(sink.pieces[0], pattern(1000)) << "the held frame, split at " << k;
        const bool splits_second = k > 1016 && k < 1016 + 3000; // inside its payload
        EXPECT_EQ(sink.pieces.size(), splits_second ? 3u : 2u) << k;
    }
}

// A head cut short is left unconsumed, whatever part of it has arrived.
TEST(WsReader, PartialHeadIsNotConsumed) {
    const std::string in = frame(op_binary, pattern(70000));
    for (std::size_t k = 0; k < 14; ++k) {
        ws::reader rd(default_max, nullptr);
        recording_sink sink;
        std::string buf = in.substr(0, k);
        EXPECT_EQ(rd.feed(buf.data(), buf.size(), sink), 0u) << k;
        EXPECT_EQ(rd.failure(), 0);
    }
}

TEST(WsReader, ValidCloseCodes) {
    for (unsigned code = 0; code <= 65535; ++code) {
        const bool want = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
        EXPECT_EQ(ws::valid_close_code(static_cast<std::uint16_t>(code)), want) << code;
    }
}

} // namespace
