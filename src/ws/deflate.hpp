// SPDX-License-Identifier: MIT
// permessage-deflate's compression (RFC 7692 §7.2) over zlib's raw deflate: a message is
// compressed and flushed to a byte boundary, and the 00 00 FF FF tail of the flush is dropped
// on the wire and put back before inflating.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace wharf::detail::ws {

/// Inflates a client's compressed messages. With context takeover (the default of RFC 7692)
/// it keeps the 32 KiB history window of the client's compressor across messages.
class inflater {
  public:
    enum class result { ok, corrupt, too_big };
    using sink = void (*)(void* context, std::string_view piece);

    explicit inflater(bool reset_each_message);
    ~inflater();
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    /// Inflates `in` (a message's next compressed bytes; `last`: the message ends with them),
    /// handing the output to `out` in pieces. too_big as soon as the message's output would
    /// pass `budget` bytes, however much `in` expands.
    result inflate(std::string_view in, bool last, std::size_t budget, sink out, void* context);

  private:
    struct state;
    std::unique_ptr<state> s_;
    std::size_t produced_ = 0;  // output of the current message so far
    bool stream_ended_ = false; // a BFINAL block ended the stream and no byte followed yet
    bool reset_each_message_;
};

/// Compresses the server's messages.
class deflater {
  public:
    /// `window_bits`: 9 to 15 (what the client allowed with server_max_window_bits).
    deflater(int window_bits, bool context_takeover);
    ~deflater();
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;

    /// Appends the compressed form of `message` to `out`, without the tail; false when zlib
    /// fails (the message is then sent uncompressed).
    bool compress(std::string_view message, std::string& out);
    /// Forgets the history (when a message compressed elsewhere was sent in between).
    void reset();

  private:
    struct state;
    std::unique_ptr<state> s_;
    bool context_takeover_;
};

/// The calling thread's compressor without context takeover for `window_bits`: one serves
/// every connection that negotiated server_no_context_takeover.
deflater& shared_deflater(int window_bits);

} // namespace wharf::detail::ws
