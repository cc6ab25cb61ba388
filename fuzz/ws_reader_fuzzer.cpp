// SPDX-License-Identifier: MIT
// libFuzzer target: the WebSocket frame reader (ws::reader) alone. The first input byte picks
// the options: bit 0 an inflater (permessage-deflate), bit 1 its context takeover, bit 2 a
// small max message size (1024, else 16 MiB), bit 3 holds frames of up to 300 bytes until they
// are whole (the connection's hold_below), bits 4-7 seed the piece sizes. The rest is the
// client's bytes, fed at once and in pieces as ws_connection::on_read does (what a call leaves
// unconsumed is given again with more bytes after it); both runs must agree.
//
// Invariants checked (any failure aborts): consumed <= offered; while it goes on, only part of
// a frame head (< 14 bytes) or a held frame is left over; failure codes only 1002, 1007 or 1009,
// with a reason; text messages, pieces put together, are valid UTF-8 by an independent decoder (and
// every prefix is, so fail-fast holds); a message's size never passes the max; control
// payloads are at most 125 bytes and close payloads are never one byte long; after failure()
// or closed() nothing more is consumed nor reported. Each call sees a heap buffer of exactly
// its bytes, so ASan traps any over-read.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/reader.hpp"

namespace {

using wharf_fuzz::copy_of;
using wharf_fuzz::splitmix;

namespace ws = wharf::detail::ws;

// True when `s` is a prefix of some valid UTF-8 text; `complete`: it ends on a boundary. Written
// apart from ws::utf8_validator, straight from RFC 3629's definition.
bool utf8_prefix_ok(std::string_view s, bool& complete) {
    std::size_t i = 0;
    complete = true;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int need;
        std::uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07u;
        } else {
            return false;
        }
        const std::uint32_t min = need == 1 ? 0x80 : need == 2 ? 0x800 : 0x10000;
        std::size_t j = i + 1;
        for (int k = 0; k < need; ++k, ++j) {
            if (j == s.size()) {
                complete = false;
                return true;
            }
            const auto d = static_cast<unsigned char>(s[j]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3Fu);
            const int left = need - k - 1;
            const std::uint32_t lo = cp << (6 * left);
            const std::uint32_t hi = lo | ((1u << (6 * left)) - 1);
            if (hi < min || lo > 0x10FFFF || (lo >= 0xD800 && hi <= 0xDFFF)) return false;
        }
        i = j;
    }
    return true;
}

struct event {
    char kind;
    std::string payload;
    bool operator==(const event&) const = default;
};

class checking_sink final : public ws::reader_sink {
  public:
    explicit checking_sink(std::size_t max) : max_(max) {}

    void on_data(std::string_view piece, bool text, bool last) override {
        FUZZ_CHECK(!stopped);
        if (in_message_) FUZZ_CHECK(text == text_);
        in_message_ = true;
        text_ = text;
        current_.append(piece);
        FUZZ_CHECK(current_.size() <= max_);
        if (text) {
            bool complete = false;
            FUZZ_CHECK(utf8_prefix_ok(current_, complete));
            if (last) FUZZ_CHECK(complete);
        }
        if (last) {
            events.push_back({text ? 't' : 'b', std::move(current_)});
            current_.clear();
            in_message_ = false;
        }
    }
    void on_control(std::uint8_t op, std::string_view payload) override {
        FUZZ_CHECK(!stopped);
        FUZZ_CHECK(op == ws::op_ping || op == ws::op_pong || op == ws::op_close);
        FUZZ_CHECK(payload.size() <= ws::max_control_payload);
        if (op == ws::op_close) {
            FUZZ_CHECK(payload.size() != 1);
            if (payload.size() >= 2) {
                const auto code =
                    static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                               static_cast<std::uint8_t>(payload[1]));
                FUZZ_CHECK(ws::valid_close_code(code));
                bool complete = false;
                FUZZ_CHECK(utf8_prefix_ok(payload.substr(2), complete) && complete);
            }
        }
        events.push_back({static_cast<char>('0' + op), std::string(payload)});
    }

    std::vector<event> events;
    bool stopped = false; // set once failure() or closed(): nothing may come after

  private:
    std::size_t max_;
    std::string current_;
    bool in_message_ = false;
    bool text_ = false;
};

struct outcome {
    std::vector<event> events;
    std::uint16_t failure = 0;
    bool closed = false;
    std::size_t consumed = 0;
};

outcome run(const char* data, std::size_t len, std::size_t max, int inflate_opt, std::size_t hold,
            splitmix* rng) {
    std::unique_ptr<ws::inflater> inf;
    if (inflate_opt) inf = std::make_unique<ws::inflater>(inflate_opt == 1);
    ws::reader rd(max, inf.get(), hold);
    checking_sink sink(max);
    std::string buf; // the unconsumed tail, then the next piece
    std::size_t fed = 0;
    outcome out;
    while (true) {
        std::size_t piece = len - fed;
        if (rng && piece > 0) {
            piece = 1 + static_cast<std::size_t>(rng->next() % piece);
            if (rng->next() % 3 != 0) piece = std::min<std::size_t>(piece, 7);
        }
        buf.append(data + fed, piece);
        fed += piece;
        const std::unique_ptr<char[]> exact = copy_of(buf.data(), buf.size());
        const std::size_t used = rd.feed(exact.get(), buf.size(), sink);
        FUZZ_CHECK(used <= buf.size());
        out.consumed += used;
        buf.assign(exact.get() + used, buf.size() - used);
        if (rd.failure() || rd.closed()) {
            if (rd.failure()) {
                FUZZ_CHECK(rd.failure() == 1002 || rd.failure() == 1007 || rd.failure() == 1009);
                FUZZ_CHECK(!rd.failure_reason().empty());
            }
            sink.stopped = true;
            // Nothing more is consumed or reported: not the rest, not a fresh frame.
            buf.append(data + fed, len - fed);
            buf.append("\x89\x80\x01\x02\x03\x04", 6); // a masked empty ping
            const std::unique_ptr<char[]> more = copy_of(buf.data(), buf.size());
            FUZZ_CHECK(rd.feed(more.get(), buf.size(), sink) == 0);
            break;
        }
        FUZZ_CHECK(buf.size() < std::max(ws::max_head_size, hold));
        if (fed == len) break;
    }
    out.events = std::move(sink.events);
    out.failure = rd.failure();
    out.closed = rd.closed();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t opt = data[0];
    const int inflate_opt = (opt & 1) ? ((opt & 2) ? 2 : 1) : 0; // 1: reset each message
    const std::size_t max = (opt & 4) ? 1024 : (16u << 20);
    const char* in = reinterpret_cast<const char*>(data + 1);
    const std::size_t len = size - 1;

    const std::size_t hold = (opt & 8) ? 300 : 0;
    std::uint64_t seed = 1469598103934665603ULL ^ (opt >> 4);
    for (std::size_t i = 0; i < len; ++i)
        seed = (seed ^ data[1 + i]) * 1099511628211ULL;
    splitmix rng{seed};

    const outcome once = run(in, len, max, inflate_opt, hold, nullptr);
    const outcome split = run(in, len, max, inflate_opt, hold, &rng);
    FUZZ_CHECK(once.failure == split.failure);
    FUZZ_CHECK(once.closed == split.closed);
    FUZZ_CHECK(once.events == split.events);
    if (!once.failure) FUZZ_CHECK(once.consumed == split.consumed);
    return 0;
}
