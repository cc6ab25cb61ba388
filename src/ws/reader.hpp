// SPDX-License-Identifier: MIT
// The client's side of a WebSocket connection, as bytes in and events out: frame heads, the
// rules of RFC 6455 §5 (masks, reserved bits and opcodes, control frames, fragmentation),
// UTF-8 of text messages as they arrive, close frames, message sizes and inflating. It does
// no I/O, so tests and the fuzzer drive it with any split of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/utf8.hpp"

namespace wharf::detail::ws {

/// Where the reader's events go.
class reader_sink {
  public:
    /// The next piece of a data message (inflated, and for text valid UTF-8 so far); `last`
    /// ends the message (possibly with an empty piece).
    virtual void on_data(std::string_view piece, bool text, bool last) = 0;
    /// A whole ping, pong or close frame; a close payload was checked (code and UTF-8).
    virtual void on_control(std::uint8_t op, std::string_view payload) = 0;

  protected:
    ~reader_sink() = default;
};

class reader {
  public:
    /// `inflate`: the connection's inflater when permessage-deflate was negotiated, else null.
    /// `hold_below`: an uncompressed binary frame of at most this many bytes (head included) is
    /// taken only once it is all there, so that it can be handed over in one piece from the
    /// caller's buffer.
    reader(std::size_t max_message_size, inflater* inflate, std::size_t hold_below = 0) noexcept
        : max_message_(max_message_size), inflate_(inflate), hold_below_(hold_below) {}

    /// Consumes what it can of `data`, unmasking payload in place, and returns how much. The
    /// rest (part of a frame head, or a held frame) must be given again with more bytes after
    /// it. Stops after a close frame and at the first violation (failure() then says which).
    std::size_t feed(char* data, std::size_t size, reader_sink& sink);

    /// The close code a violation calls for (1002, 1007 or 1009); 0 while there is none.
    std::uint16_t failure() const noexcept { return failure_; }
    std::string_view failure_reason() const noexcept { return reason_; }
    /// True once a close frame was read: nothing after it is looked at.
    bool closed() const noexcept { return closed_; }

  private:
    bool start_frame(const frame_head& head);
    bool holdable(const frame_head& head) const noexcept;
    bool payload(char* data, std::size_t n, bool frame_done, reader_sink& sink);
    bool deliver(std::string_view piece, bool last, reader_sink& sink);
    bool control_done(reader_sink& sink);
    bool fail(std::uint16_t code, std::string_view reason) noexcept;

    std::size_t max_message_;
    inflater* inflate_;
    std::size_t hold_below_;
    frame_head head_{};
    std::uint64_t frame_left_ = 0; // payload bytes of the current frame still to come
    std::uint64_t frame_at_ = 0;   // payload bytes of the current frame seen (for the mask)
    std::uint64_t message_size_ = 0;
    bool in_frame_ = false;
    bool in_message_ = false; // a fragmented data message has started and not ended
    bool text_ = false;
    bool compressed_ = false;
    utf8_validator utf8_;
    char control_[max_control_payload];
    std::size_t control_size_ = 0;
    std::uint16_t failure_ = 0;
    std::string_view reason_;
    bool closed_ = false;

    friend struct inflate_output;
};

/// Whether a close code may be sent by an endpoint (RFC 6455 §7.4, IANA's registry).
bool valid_close_code(std::uint16_t code) noexcept;

} // namespace wharf::detail::ws
