// SPDX-License-Identifier: MIT
// Pieces a response body is made of besides bytes in memory: file ranges and pull-based
// sources (the seeds' IO objects, S12/S25).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace wharf {

namespace detail {
struct source_access;
}

/// What one body_source::read produced.
struct source_read {
    enum status_t : std::uint8_t {
        data,        ///< `bytes` bytes were written to the buffer
        would_block, ///< nothing now; call notify_readable() when there is
        end,         ///< no more bytes, ever
        failed,      ///< failed with `error`; the response is abandoned
    } status = end;
    std::size_t bytes = 0;
    std::error_code error;

    static source_read got(std::size_t n) noexcept { return {data, n, {}}; }
    static source_read blocked() noexcept { return {would_block, 0, {}}; }
    static source_read finished() noexcept { return {end, 0, {}}; }
    static source_read failure(std::error_code ec) noexcept { return {failed, 0, ec}; }
};

/// A pull-based body: the library asks for bytes only as fast as the client takes them. The
/// library keeps a reference while it streams and calls on_release() exactly once when it is
/// done with the source: with no error after `end`, else with why it stopped (closed,
/// connection_reset, timed_out, canceled).
class body_source {
  public:
    virtual ~body_source() = default;

    /// Reads up to `len` bytes into `buf`. Called on the session's loop thread only.
    virtual source_read read(char* buf, std::size_t len) = 0;
    /// How many bytes the source will produce, when known (lets the response carry a
    /// Content-Length instead of chunked framing).
    virtual std::optional<std::uint64_t> size() const { return std::nullopt; }
    /// The library is done with the source (see the class comment).
    virtual void on_release(std::error_code result) { (void)result; }

    /// Tells the library that a source which answered would_block has bytes again. Safe from
    /// any thread, and harmless when nothing is waiting.
    void notify_readable() {
        std::function<void()> hook;
        {
            std::lock_guard lock(mutex_);
            hook = hook_;
        }
        if (hook) hook();
    }

  private:
    friend struct detail::source_access;
    void set_readable_hook(std::function<void()> hook) {
        std::lock_guard lock(mutex_);
        hook_ = std::move(hook);
    }

    std::mutex mutex_;
    std::function<void()> hook_;
};

/// A byte range of an open file, sent with sendfile() where the transport allows.
struct file_range {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    bool close_fd = false; ///< close the descriptor once the range is sent or dropped
};

/// Options for one send (the Windows HTTP Server API's flags, S19-S22).
enum class send_flags : std::uint8_t {
    none = 0,
    /// More body follows in later sends (S19); without it this send ends the response (HTTP/1:
    /// the last chunk or the last byte of the length; HTTP/2: END_STREAM).
    more = 1,
    /// End the connection after this response (S20), as response::close_connection() does.
    disconnect = 2,
    /// Coalesce: keep the bytes until a later send without it (S21).
    buffer = 4,
    /// More data follows soon (S22): this send's last partial packet may wait to be joined
    /// with the next one (TCP: MSG_MORE; TLS: the record may wait) instead of leaving at once.
    hold = 8,
};
constexpr send_flags operator|(send_flags a, send_flags b) noexcept {
    return static_cast<send_flags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(send_flags set, send_flags flag) noexcept {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

/// The outcome of a send: no error and the body bytes it carried, or why it failed
/// (canceled, closed, connection_reset, timed_out, no_memory, busy).
struct send_result {
    std::error_code error;
    std::uint64_t bytes = 0;
};

using send_callback = std::function<void(send_result)>;

namespace detail {

/// One piece of a response body chain. Move-only; a piece dropped unsent still releases what
/// it holds (calls `release`, closes the fd, tells the source it was canceled).
struct body_piece {
    enum kind_t : std::uint8_t { bytes, borrowed, file, source } kind = bytes;
    std::string data;                 // bytes
    std::string_view view;            // borrowed
    std::function<void()> release;    // borrowed
    file_range range;                 // file
    std::shared_ptr<body_source> src; // source

    body_piece() = default;
    body_piece(body_piece&&) noexcept;
    body_piece& operator=(body_piece&&) noexcept;
    ~body_piece();
    /// Releases now with `result` (sources learn why); afterwards the piece is empty.
    void finish(std::error_code result) noexcept;
    /// Bytes this piece will produce, when known.
    std::optional<std::uint64_t> size() const;
};

} // namespace detail

} // namespace wharf
