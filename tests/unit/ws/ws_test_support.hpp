// SPDX-License-Identifier: MIT
// What the WebSocket unit tests share: building a client's (masked) frames, compressing a
// message the way a permessage-deflate client does, and feeding a ws::reader the way
// ws_connection::on_read does (the unconsumed tail is offered again with more bytes after it).
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/reader.hpp"

namespace ws_test {

namespace ws = wharf::detail::ws;

/// How a frame's length is written: the shortest form, or a forced one (non-minimal encodings).
enum class length_form { shortest, bits7, bits16, bits64 };

struct frame_options {
    bool fin = true;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = true;
    length_form form = length_form::shortest;
    /// The length written in the head when it is not the payload's (lies, huge lengths).
    std::optional<std::uint64_t> length_override;
    std::uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
};

/// A client's frame: head, mask and the payload masked with it.
inline std::string frame(std::uint8_t op, std::string_view payload, frame_options o = {}) {
    std::string out;
    out += static_cast<char>((o.fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | (o.rsv2 ? 0x20 : 0) |
                             (o.rsv3 ? 0x10 : 0) | (op & 0x0F));
    const std::uint64_t len = o.length_override.value_or(payload.size());
    length_form form = o.form;
    if (form == length_form::shortest)
        form = len < 126     ? length_form::bits7
               : len < 65536 ? length_form::bits16
                             : length_form::bits64;
    const int mask_bit = o.masked ? 0x80 : 0;
    if (form == length_form::bits7) {
        out += static_cast<char>(mask_bit | static_cast<int>(len & 0x7F));
    } else if (form == length_form::bits16) {
        out += static_cast<char>(mask_bit | 126);
        out += static_cast<char>((len >> 8) & 0xFF);
        out += static_cast<char>(len & 0xFF);
    } else {
        out += static_cast<char>(mask_bit | 127);
        for (int i = 7; i >= 0; --i)
            out += static_cast<char>((len >> (8 * i)) & 0xFF);
    }
    if (o.masked)
        for (int i = 0; i < 4; ++i)
            out += static_cast<char>(o.mask[i]);
    for (std::size_t i = 0; i < payload.size(); ++i)
        out += static_cast<char>(static_cast<std::uint8_t>(payload[i]) ^
                                 (o.masked ? o.mask[i & 3] : 0));
    return out;
}

inline frame_options not_fin() {
    frame_options o;
    o.fin = false;
    return o;
}

/// A client's compressor: raw deflate, a sync flush per message, the 00 00 FF FF dropped.
class compressor {
  public:
    explicit compressor(bool context_takeover = true, int level = 6) : takeover_(context_takeover) {
        z_.zalloc = nullptr;
        z_.zfree = nullptr;
        z_.opaque = nullptr;
        ok_ = deflateInit2(&z_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~compressor() {
        if (ok_) deflateEnd(&z_);
    }
    compressor(const compressor&) = delete;
    compressor& operator=(const compressor&) = delete;

    std::string compress(std::string_view message) {
        std::string out;
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
        z_.avail_in = static_cast<uInt>(message.size());
        char buf[65536];
        do {
            z_.next_out = reinterpret_cast<Bytef*>(buf);
            z_.avail_out = sizeof buf;
            const int rc = deflate(&z_, Z_SYNC_FLUSH);
            EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR);
            out.append(buf, sizeof buf - z_.avail_out);
        } while (z_.avail_out == 0);
        EXPECT_GE(out.size(), 4u);
        EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
        out.resize(out.size() - 4);
        if (!takeover_) deflateReset(&z_);
        return out;
    }

  private:
    z_stream z_{};
    bool takeover_;
    bool ok_ = false;
};

inline std::string deflated(std::string_view message) {
    compressor c;
    return c.compress(message);
}

/// A whole message (its data pieces put together) or a control frame.
struct event {
    char kind; // 't' text, 'b' binary, 'P' ping, 'O' pong, 'C' close
    std::string payload;
    bool operator==(const event&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const event& e) {
    os << e.kind << ":\"";
    for (unsigned char c : e.payload) {
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            os << c;
        } else {
            static const char hex[] = "0123456789abcdef";
            os << "\\x" << hex[c >> 4] << hex[c & 15];
        }
    }
    return os << "\" (" << e.payload.size() << " bytes)";
}

/// Puts a message's pieces together; checks that a message does not change kind midway.
class recording_sink final : public ws::reader_sink {
  public:
    void on_data(std::string_view piece, bool text, bool last) override {
        if (in_message_) {
            EXPECT_EQ(text, text_) << "a message changed kind";
        }
        in_message_ = true;
        text_ = text;
        current_.append(piece);
        if (last) {
            events.push_back({text ? 't' : 'b', std::move(current_)});
            current_.clear();
            in_message_ = false;
        }
    }
    void on_control(std::uint8_t op, std::string_view payload) override {
        char kind = '?';
        if (op == ws::op_ping) kind = 'P';
        if (op == ws::op_pong) kind = 'O';
        if (op == ws::op_close) kind = 'C';
        EXPECT_NE(kind, '?') << "control opcode " << int{op};
        EXPECT_LE(payload.size(), ws::max_control_payload);
        events.push_back({kind, std::string(payload)});
    }

    std::vector<event> events;
    std::size_t partial_size() const { return current_.size(); }

  private:
    std::string current_;
    bool in_message_ = false;
    bool text_ = false;
};

enum class inflate_mode { none, reset_each_message, takeover };

struct outcome {
    std::vector<event> events;
    std::uint16_t failure = 0;
    bool closed = false;
    std::size_t consumed = 0;
};

/// Feeds `input` in pieces ending at `cuts` (ascending, each <= size) and then the rest, as the
/// connection does: what a call leaves unconsumed is given again with the next piece after it.
/// It stops feeding after a failure or a close frame, as the connection stops reading.
/// `hold_below`: the reader's option (frames up to that size are taken only whole).
inline outcome run_reader(std::string_view input, const std::vector<std::size_t>& cuts,
                          std::size_t max_message, inflate_mode mode, std::size_t hold_below = 0) {
    std::unique_ptr<ws::inflater> inf;
    if (mode != inflate_mode::none)
        inf = std::make_unique<ws::inflater>(mode == inflate_mode::reset_each_message);
    ws::reader rd(max_message, inf.get(), hold_below);
    recording_sink sink;
    outcome out;
    std::string buf;
    std::size_t from = 0;
    auto step = [&](std::size_t to) {
        if (rd.failure() || rd.closed()) return;
        buf.append(input.substr(from, to - from));
        from = to;
        const std::size_t used = rd.feed(buf.data(), buf.size(), sink);
        EXPECT_LE(used, buf.size());
        if (used > buf.size()) return;
        out.consumed += used;
        buf.erase(0, used);
        // While it can go on, only part of a frame head (or a held frame) is left over.
        if (!rd.failure() && !rd.closed()) {
            EXPECT_LT(buf.size(), std::max(ws::max_head_size, hold_below));
        }
    };
    for (std::size_t c : cuts)
        step(c);
    step(input.size());
    out.events = sink.events;
    out.failure = rd.failure();
    out.closed = rd.closed();
    if (out.failure) {
        EXPECT_FALSE(rd.failure_reason().empty());
    }
    if (out.failure || out.closed) {
        // Nothing more is looked at: not the rest, not a new frame.
        buf.append(input.substr(from));
        buf += frame(ws::op_ping, "more");
        const std::size_t n = sink.events.size();
        EXPECT_EQ(rd.feed(buf.data(), buf.size(), sink), 0u);
        EXPECT_EQ(sink.events.size(), n);
        EXPECT_EQ(rd.failure(), out.failure);
    }
    return out;
}

} // namespace ws_test
