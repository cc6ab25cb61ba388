// SPDX-License-Identifier: MIT
#include "ws/reader.hpp"

#include <algorithm>
#include <cstring>

namespace wharf::detail::ws {

bool valid_close_code(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) return true; // libraries' and applications' codes
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

bool reader::fail(std::uint16_t code, std::string_view reason) noexcept {
    if (failure_) return false; // the first problem found is the answer
    failure_ = code;
    reason_ = reason;
    return false;
}

bool reader::holdable(const frame_head& head) const noexcept {
    // Binary and uncompressed only: text is checked as it arrives (fail fast, RFC 6455 §8.1),
    // and a violation in the head must be answered now.
    if (head.rsv1 || head.rsv2 || head.rsv3 || !head.masked) return false;
    const std::uint64_t so_far = head.op == op_binary ? 0 : message_size_;
    if (so_far + head.length > max_message_) return false;
    if (head.op == op_binary) return !in_message_;
    return head.op == op_continuation && in_message_ && !text_ && !compressed_;
}

std::size_t reader::feed(char* data, std::size_t size, reader_sink& sink) {
    std::size_t at = 0;
    while (!failure_ && !closed_) {
        if (!in_frame_) {
            if (at == size) break;
            frame_head head;
            const int n = parse_head({data + at, size - at}, head);
            if (n == 0) break; // the rest of the head has not arrived
            if (n < 0) {
                fail(1002, "bad frame length");
                break;
            }
            const std::uint64_t whole = static_cast<std::uint64_t>(n) + head.length;
            if (whole <= hold_below_ && whole > size - at && holdable(head))
                break; // held: the rest is coming
            at += static_cast<std::size_t>(n);
            if (!start_frame(head)) break;
            if (frame_left_ > 0) continue;
            // An empty frame ends here.
            if (!payload(data + at, 0, true, sink)) break;
            continue;
        }
        if (at == size) break;
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(frame_left_, size - at));
        unmask(data + at, n, head_.mask, frame_at_);
        frame_at_ += n;
        frame_left_ -= n;
        const bool done = frame_left_ == 0;
        char* piece = data + at;
        at += n;
        if (!payload(piece, n, done, sink)) break;
    }
    return at;
}

bool reader::start_frame(const frame_head& head) {
    if (!head.masked) return fail(1002, "client frames must be masked");
    if (head.rsv2 || head.rsv3) return fail(1002, "reserved bit set");
    const std::uint8_t op = head.op;
    if (is_control(op)) {
        if (op != op_close && op != op_ping && op != op_pong) return fail(1002, "reserved opcode");
        if (!head.fin) return fail(1002, "fragmented control frame");
        if (head.length > max_control_payload) return fail(1002, "control frame over 125 bytes");
        if (head.rsv1) return fail(1002, "reserved bit set");
        control_size_ = 0;
    } else {
        if (op != op_continuation && op != op_text && op != op_binary)
            return fail(1002, "reserved opcode");
        if (op == op_continuation) {
            if (!in_message_) return fail(1002, "continuation without a message");
            if (head.rsv1) return fail(1002, "reserved bit set");
        } else {
            if (in_message_) return fail(1002, "new message inside a fragmented one");
            if (head.rsv1 && !inflate_) return fail(1002, "reserved bit set");
            in_message_ = true;
            text_ = op == op_text;
            compressed_ = head.rsv1;
            message_size_ = 0;
            utf8_.reset();
        }
        // Compressed frames are bounded by their output (inflate's budget) and their input.
        if (head.length > max_message_ - std::min<std::uint64_t>(max_message_, message_size_) &&
            !compressed_)
            return fail(1009, "message too big");
        if (compressed_ && head.length > max_message_) return fail(1009, "message too big");
    }
    head_ = head;
    frame_left_ = head.length;
    frame_at_ = 0;
    in_frame_ = true;
    return true;
}

bool reader::payload(char* data, std::size_t n, bool frame_done, reader_sink& sink) {
    if (frame_done) in_frame_ = false;
    if (is_control(head_.op)) {
        std::memcpy(control_ + control_size_, data, n);
        control_size_ += n;
        return !frame_done || control_done(sink);
    }
    const bool last = frame_done && head_.fin;
    if (!compressed_) {
        message_size_ += n;
        return deliver({data, n}, last, sink);
    }
    // Inflated output goes through deliver() piece by piece.
    struct output {
        reader* self;
        reader_sink* sink;
        bool ok = true;
        static void put(void* context, std::string_view piece) {
            auto* o = static_cast<output*>(context);
            if (o->ok) o->ok = o->self->deliver(piece, false, *o->sink);
        }
    } out{this, &sink};
    const auto r = inflate_->inflate({data, n}, last, max_message_, &output::put, &out);
    if (r == inflater::result::too_big) return fail(1009, "message too big once inflated");
    if (r == inflater::result::corrupt) return fail(1007, "bad compressed data");
    if (!out.ok) return false;
    return !last || deliver({}, true, sink);
}

bool reader::deliver(std::string_view piece, bool last, reader_sink& sink) {
    if (text_ && !utf8_.feed(piece)) return fail(1007, "text is not UTF-8");
    if (last) {
        if (text_ && !utf8_.complete()) return fail(1007, "text is not UTF-8");
        in_message_ = false;
    }
    if (compressed_) message_size_ += piece.size();
    sink.on_data(piece, text_, last);
    return true;
}

bool reader::control_done(reader_sink& sink) {
    const std::string_view payload(control_, control_size_);
    if (head_.op == op_close) {
        if (payload.size() == 1) return fail(1002, "close payload of one byte");
        if (payload.size() >= 2) {
            const auto code =
                static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                           static_cast<std::uint8_t>(payload[1]));
            if (!valid_close_code(code)) return fail(1002, "invalid close code");
            utf8_validator reason;
            if (!reason.feed(payload.substr(2)) || !reason.complete())
                return fail(1007, "close reason is not UTF-8");
        }
        closed_ = true;
    }
    sink.on_control(head_.op, payload);
    return true;
}

} // namespace wharf::detail::ws
