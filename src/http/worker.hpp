// SPDX-License-Identifier: MIT
// A worker thread: one event loop, its own listeners and every connection they accept. Nothing
// here is shared with other workers except the read-only server state.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "http/access_log.hpp"
#include "http/date_line.hpp"
#include "http/exchange.hpp"
#include "http/forwarded.hpp"
#include "http/h2c_upgrade.hpp"
#include "http/shared_limit.hpp"
#include "loop/event_loop.hpp"
#include "net/byte_buffer.hpp"
#include "net/connection.hpp"
#include "net/transport.hpp"
#include "tls/context.hpp"
#include "wharf/server.hpp"

namespace wharf::detail {

class worker;

/// Makes the connection for an accepted client (the protocol module's; HTTP/1 today).
using connection_factory = connection* (*)(worker& w, std::unique_ptr<transport> io,
                                           const address& peer, const address& local);

/// Makes the HTTP/2 connection for a client that chose it (ALPN "h2", the h2c preface on a
/// plaintext stream, or an HTTP/1.1 request with `Upgrade: h2c`, then in `upgrade`);
/// `already_read` holds the bytes taken from the stream so far.
using http2_factory = connection* (*)(worker& w, std::unique_ptr<transport> io, const address& peer,
                                      const address& local, byte_buffer&& already_read,
                                      std::unique_ptr<h2c_upgrade> upgrade);

/// What every worker reads and nobody writes once the server runs, plus the server-wide
/// budgets the workers draw from (those alone change, atomically).
struct server_state {
    server_config config;
    wharf::router routes;
    int access_log_fd = -1;
    std::vector<worker*> workers; ///< set before they start
    connection_factory make_connection = nullptr;
    http2_factory make_http2 = nullptr; ///< null: HTTP/2 is off
    mutable shared_limit connections;   ///< limits.max_connections
    mutable shared_limit body_bytes;    ///< limits.max_buffered_body_bytes
    /// One per server_config::tls entry: the context its listeners hand new connections.
    std::vector<std::unique_ptr<tls_slot>> tls;
    /// config.trusted_proxies, parsed at start.
    trusted_networks trusted;
};

class worker {
  public:
    explicit worker(const server_state& state);
    ~worker();

    /// Registers a listening socket; the worker closes it when `owned`. Its connections speak
    /// TLS when `tls` is set.
    void add_listener(int fd, const address& local, bool owned, const tls_slot* tls = nullptr,
                      bool proxy = false);
    /// The thread body: runs the loop until shutdown completes.
    void run();
    /// Starts a graceful shutdown; safe from any thread.
    void stop(milliseconds deadline);

    event_loop& loop() noexcept { return loop_; }
    const server_state& state() const noexcept { return state_; }
    access_logger& logger() noexcept { return logger_; }
    /// What this worker lends the exchanges on its loop.
    const exchange_services& services() const noexcept { return services_; }
    std::vector<header_field>& scratch_fields() noexcept { return scratch_fields_; }
    /// The "Date: ...\r\n" line for the loop's current second.
    std::string_view date_line() { return date_.at(loop_.wall_seconds()); }
    bool draining() const noexcept { return draining_; }
    std::size_t connection_count() const noexcept { return count_.load(std::memory_order_relaxed); }

    /// Receive buffers of the default size, reused across connections so an idle connection
    /// holds none.
    byte_buffer take_buffer();
    void give_buffer(byte_buffer&& b);
    /// The same for send queues' copy buffers.
    std::string take_send_buffer();
    void give_send_buffer(std::string&& b);
    /// Another worker freed a connection slot: accept again if the limit paused us.
    void slot_freed();

    /// Takes a connected client's stream (accepted here, or made by the caller: an in-memory
    /// stream in tests) and starts its connection. The stream's descriptor must be its own
    /// (not duplicated): closing it is what takes it out of the event loop.
    void adopt(std::unique_ptr<transport> io, const address& peer, const address& local);

    /// `from` gives its client to `to` (a protocol switch: HTTP/1 to HTTP/2): `to` takes its
    /// place and its connection slot and is started; `from` is freed at the end of the iteration.
    void hand_over(connection* from, connection* to);

    /// Called by a connection once it has closed its socket; frees it at the end of the
    /// iteration.
    void connection_closed(connection* c);

    static constexpr std::size_t buffer_size = 4 * 1024; // most heads fit; grows on demand

  private:
    struct acceptor;
    void accept_from(acceptor& a);
    void pause_accepting(bool paused);
    void release_slot();
    void adopt(int fd, const address& peer, const address& local, const tls_slot* tls, bool proxy);
    void begin_shutdown(milliseconds deadline);
    void maybe_finish();

    const server_state& state_;
    event_loop loop_;
    access_logger logger_;
    exchange_services services_;
    detail::date_line date_;
    std::vector<header_field> scratch_fields_;
    std::vector<byte_buffer> buffer_pool_;
    std::vector<std::string> send_buffer_pool_;
    std::vector<std::unique_ptr<acceptor>> acceptors_;
    connection* first_ = nullptr; // intrusive list of live connections
    std::atomic<std::size_t> count_{0};
    bool accept_paused_ = false;
    bool paused_at_limit_ = false; // accept_paused_ because the server is full
    struct held_client {
        int fd = -1;
        address peer;
        const address* local = nullptr;
        const tls_slot* tls = nullptr;
        bool proxy = false;
    };
    held_client held_; // accepted when another worker took the last slot
    bool draining_ = false;
    timer accept_retry_;
    timer shutdown_deadline_;
};

} // namespace wharf::detail
