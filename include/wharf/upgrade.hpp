// SPDX-License-Identifier: MIT
// A connection that stopped being HTTP (S18, S24): after a handler's 101 Switching Protocols
// (or a 2xx to CONNECT), session::upgrade hands the application the raw byte stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string_view>
#include <system_error>

#include "wharf/address.hpp"
#include "wharf/tls.hpp"

namespace wharf {

namespace detail {
struct upgraded_state;
struct stream_access;
} // namespace detail

/// Completes a read or write of an upgraded stream: the error (none on success) and how many
/// bytes were moved (also on error: what a write_all wrote before it failed).
using io_callback = std::function<void(std::error_code, std::size_t)>;

class upgraded_stream;

/// A thread-safe way to reach an upgraded stream from any thread; cheap to copy, and it may
/// outlive the stream (posts then report closed).
class upgraded_handle {
  public:
    upgraded_handle() = default;
    /// Runs `task` on the stream's loop with the stream. Errors: closed (the stream is gone;
    /// `task` is dropped, and also when the stream closes before `task` gets to run).
    std::error_code post(std::function<void(upgraded_stream&)> task) const;

  private:
    friend class upgraded_stream;
    std::weak_ptr<detail::upgraded_state> state_;
};

/// The raw byte stream of an upgraded connection: the library no longer parses HTTP on it.
/// The bytes the client sent after the request head come first on read. Every member must be
/// called on the stream's loop (the handler's thread, or through handle()). One read and one
/// write may be pending at a time; another of the same kind completes with errc::busy. Every
/// completion runs later on the loop, never inside the call that started it. Errors: canceled,
/// closed, connection_reset, timed_out, no_memory, busy, invalid_argument.
class upgraded_stream {
  public:
    upgraded_stream() = default; ///< an empty stream: every operation reports closed
    explicit upgraded_stream(std::shared_ptr<detail::upgraded_state> s) : state_(std::move(s)) {}

    /// Writes from `buffers` (at most IOV_MAX; they must stay valid until `done`) and
    /// completes once at least one byte is written, with the count (NNG's semantics).
    void write_some(std::span<const std::string_view> buffers, io_callback done);
    /// Writes every byte of `buffers` (valid until `done`), then completes with the total.
    void write_all(std::span<const std::string_view> buffers, io_callback done);
    /// Reads into `buffer` (valid until `done`): completes with at least one byte, or with
    /// errc::closed and 0 at the end of the peer's stream.
    void read_some(std::span<char> buffer, io_callback done);
    /// The pending read and write complete with errc::canceled; the stream stays open.
    void cancel();
    /// Graceful close: a FIN once the pending write is done; a pending read is canceled.
    void close();
    /// Closes at once with a reset; pending operations complete with errc::canceled.
    void abort();
    /// True until the stream is closed (by either side, a timeout or the server).
    bool is_open() const noexcept;

    /// The client's and the server's addresses (unix listeners report unix addresses).
    address peer() const;
    address local() const;
    /// The TLS details of the connection the request came on; null on plaintext.
    const tls_info* tls() const noexcept;

    /// The stream is closed (timed_out for what is pending) after `timeout` without a byte
    /// read or written; zero (the default) waits forever.
    void set_idle_timeout(std::chrono::milliseconds timeout);
    /// A pending write fails with timed_out, and the stream is reset, when the peer takes no
    /// byte of it for `timeout`; zero waits forever. Default: the server's send_grace.
    void set_write_timeout(std::chrono::milliseconds timeout);

    /// Runs `task` on the loop once, `delay` from now; a later call replaces it, and a zero
    /// delay only cancels it. Dropped when the stream closes.
    void set_alarm(std::chrono::milliseconds delay, std::function<void()> task);
    /// Called once, on the loop, when the stream has closed (by either side, a timeout or the
    /// server), with why: closed for an orderly end. Holding what it captures until then.
    void on_close(std::function<void(std::error_code)> callback);

    /// Requested when the server starts a graceful shutdown: the application should close the
    /// stream; the server resets it at the shutdown deadline.
    std::stop_token stop_token() const;
    /// For other threads: see upgraded_handle.
    upgraded_handle handle() const;

    explicit operator bool() const noexcept { return state_ != nullptr; }

  private:
    friend struct detail::stream_access;
    std::shared_ptr<detail::upgraded_state> state_;
};

/// Gets the stream once the 101 (or CONNECT's 2xx) is written, or why it never will be.
using upgrade_callback = std::function<void(std::error_code, upgraded_stream)>;

} // namespace wharf
