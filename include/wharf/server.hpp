// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wharf/address.hpp"
#include "wharf/router.hpp"
#include "wharf/tls.hpp"

namespace wharf {

using std::chrono::milliseconds;

/// Bounds on what one client may make the server hold. A request that breaks one gets the
/// matching status (400, 413, 414, 431) and its connection is closed after the answer.
struct limits {
    std::size_t max_request_line = 8 * 1024;     ///< longer: 414
    std::size_t max_header_bytes = 32 * 1024;    ///< whole head incl. request line; more: 431
    std::size_t max_headers = 100;               ///< more fields: 431
    std::size_t max_body_size = 8 * 1024 * 1024; ///< buffered body; more: 413
    /// Bytes of buffered request bodies held at once, server-wide; a body that does not fit
    /// gets 503 (slow uploads cannot pin the server's memory).
    std::size_t max_buffered_body_bytes = 256 * 1024 * 1024;
    std::size_t max_chunk_extension = 1024;   ///< bytes of extensions per chunk; more: 400
    std::size_t max_trailer_bytes = 8 * 1024; ///< bytes of chunked trailers; more: 431
    std::size_t max_pipelined = 32;           ///< answered-but-unsent requests per connection
    /// Unparsed bytes read ahead while a response is pending; then reading waits for it.
    std::size_t max_lookahead = 32 * 1024;
    std::size_t output_high_water = 256 * 1024; ///< unsent bytes before reading pauses
    std::size_t max_connections = 10000;        ///< across all workers; beyond it, accept pauses
};

/// Deadlines against slow or idle clients; all on by default (zero turns one off).
struct timeouts {
    milliseconds request_head{10'000}; ///< from a request's first byte to the end of its head
    milliseconds body_read{30'000};    ///< longest gap between two reads of a request body
    milliseconds keep_alive{60'000};   ///< idle time between requests on a connection
    milliseconds send_grace{10'000};   ///< how long a send may fall below min_send_rate
    std::size_t min_send_rate = 1024;  ///< bytes per second a blocked response must drain at
    milliseconds body_grace{10'000};   ///< window over which min_body_rate is measured
    /// Bytes per second a request body must arrive at while the server waits for it (the
    /// first window included); slower: 408 and the connection is closed.
    std::size_t min_body_rate = 1024;
    milliseconds shutdown{10'000}; ///< graceful-shutdown deadline for in-flight requests
};

/// HTTP/2 (RFC 9113) on every listener: by ALPN "h2" on TLS, by the connection preface (prior
/// knowledge) on cleartext. The window and size settings are what the server advertises.
struct http2_settings {
    bool enabled = true;   ///< offer "h2" by ALPN on TLS listeners
    bool cleartext = true; ///< accept h2c on plaintext listeners (prior knowledge)
    std::uint32_t max_concurrent_streams = 100;
    /// Each stream's receive window: request-body bytes a client may send ahead of the
    /// handler (streamed bodies) before it must wait for WINDOW_UPDATE.
    std::uint32_t stream_window = 256 * 1024;
    /// The connection's receive window: what all its streams together may send ahead.
    std::uint32_t connection_window = 1024 * 1024;
    std::uint32_t max_frame_size = 16 * 1024;   ///< largest frame payload we accept
    std::uint32_t header_table_size = 4 * 1024; ///< HPACK dynamic table for the client's fields
};

/// One access-log record (S28), handed to the log sink after each response.
struct access_record {
    const address* peer;
    std::string_view method, target, user_agent, referer, user;
    int http_major, http_minor;
    int status;
    std::string_view tls_version; ///< "TLSv1.3"; empty on plaintext
    std::uint64_t body_bytes;     ///< body bytes sent (not counting the head)
    std::chrono::system_clock::time_point time;
    /// From the request head's arrival to its response head's, and to the last send queued.
    std::chrono::microseconds first_byte{0}, total{0};
    /// The request's id: the PROXY v2 unique id, else a valid X-Request-Id field, else one made
    /// up (unique in this process).
    std::string_view request_id{};
};

/// Where access-log records go. The built-in file sink writes Common or Combined Log Format,
/// or Combined followed by the TLS version (`TLSv1.3`, or `-` on plaintext).
/// `timed` is Combined followed by the request id and the two timings in microseconds.
enum class log_format { common, combined, combined_tls, timed };

/// A listening socket the server takes over instead of opening one (systemd socket activation,
/// a supervisor's descriptors): it is the server's from start() on, closed when it stops.
struct inherited_listener {
    int fd = -1;
    bool tls = false;   ///< served with the first TLS group's certificates (see tls)
    bool proxy = false; ///< a PROXY protocol header comes first (see proxy_protocol)
};

/// The listening sockets systemd passed this process (sd_listen_fds semantics: LISTEN_PID is
/// this process, LISTEN_FDS of them from descriptor 3, named by LISTEN_FDNAMES), with their
/// names ("" when unnamed); the variables are then removed from the environment, so children do
/// not take them too. Empty when none were passed.
std::vector<std::pair<int, std::string>> systemd_listeners();

struct server_config {
    /// Addresses to listen on: "127.0.0.1:8080", "[::1]:8080", "*:80", "unix:/run/x.sock".
    /// Port 0 picks a free port (see server::local_addresses()).
    std::vector<std::string> listen{"127.0.0.1:8080"};
    /// TLS listeners, each group with its certificates and settings (see tls_config).
    std::vector<tls_config> tls;
    /// Listeners behind a load balancer that sends the PROXY protocol (v1 or v2) first on each
    /// connection: their addresses as `listen` or a TLS group's `listen` spell them, or "*"
    /// for all. On them a connection without a valid header is closed (within the head
    /// deadline), and the header's client address is the request's peer; other listeners
    /// never parse one.
    std::vector<std::string> proxy_protocol;
    /// Proxies whose Forwarded (RFC 7239) or, without it, X-Forwarded-For field says who the
    /// client is: addresses or CIDR prefixes ("10.0.0.0/8", "::1", "unix" for Unix sockets).
    /// A request from one of them has the first untrusted hop of that chain as its peer (the
    /// access log's too). Empty (the default): those fields are never believed.
    std::vector<std::string> trusted_proxies;
    /// Listening sockets to take over (see inherited_listener, systemd_listeners()).
    std::vector<inherited_listener> inherited;
    /// Worker threads, each with its own event loop and listeners; 0 means one per core.
    unsigned workers = 0;
    int backlog = 4096;
    /// For routes that stream the request body: send "100 Continue" as soon as the head is
    /// in, instead of when the handler first asks for the body.
    bool continue_at_once = false;
    /// Value of the Server header; empty sends none.
    std::string server_name = "wharf";
    struct limits limits;
    struct timeouts timeouts;
    http2_settings http2;
    /// Access log: "" off, "-" standard output, else a file path opened for appending.
    std::string access_log;
    log_format access_log_format = log_format::common;
    /// Optional callback called with every record, on the worker thread, in addition to the
    /// file sink. It must be thread-safe when workers > 1.
    std::function<void(const access_record&)> access_log_callback;
};

/// An HTTP server: a router plus worker threads that own their connections. Configure and add
/// routes before start(); stop() may be called from any thread.
///
/// @code
/// wharf::server_config config;
/// config.listen = {"127.0.0.1:8080"};
/// wharf::server srv(config);
/// srv.routes().get("/hello/{name}", [](wharf::session& s) {
///     s.response().format("Hello, {}!\n", s.request().param("name"));
/// });
/// if (auto ec = srv.run()) return 1;
/// @endcode
class server {
  public:
    explicit server(server_config config = {});
    ~server(); ///< Stops (graceful up to the shutdown deadline) and joins the workers.
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// The routes; add them before start().
    wharf::router& routes() noexcept;
    const server_config& config() const noexcept;

    /// Binds every listen address and starts the workers. Errors: address_in_use,
    /// permission_denied, invalid_argument (bad address), too_many_files.
    [[nodiscard]] std::error_code start();
    /// Blocks until the server has stopped and every worker has exited.
    void wait();
    /// start() then wait().
    [[nodiscard]] std::error_code run();

    /// Graceful shutdown: stop accepting, answer requests in flight (closing their connections
    /// afterwards), close idle connections, and close whatever remains after `deadline`.
    /// Returns at once; safe from any thread, and more than once.
    void stop(milliseconds deadline);

    /// Readiness, for a load balancer's health check (a /readyz handler answers 503 while it
    /// is false): true once started, until stop() begins, unless set_ready(false) says the
    /// application is not ready (warming up, or about to drain). Thread-safe.
    void set_ready(bool ready) noexcept;
    bool ready() const noexcept;
    void stop(); ///< stop(config().timeouts.shutdown)

    /// Re-reads every TLS certificate, key, CA and CRL file. New handshakes use them, open
    /// connections keep what they started with. When any file is broken nothing changes and
    /// the error names the file. Safe from any thread once started.
    [[nodiscard]] tls_error reload_tls();
    /// What made the last start() fail, in words ("" when it did not or said all in its code).
    const std::string& start_error() const noexcept;

    /// The bound addresses (with the real port when 0 was asked for), once started.
    std::vector<address> local_addresses() const;

    /// Connections open right now, over all workers.
    std::size_t connection_count() const noexcept;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Loads `config`'s files the way a server would, without serving: what would stop it.
[[nodiscard]] tls_error check_tls(const tls_config& config);

/// Raises the soft limit on open files to the hard limit; returns the new soft limit.
std::size_t raise_open_file_limit() noexcept;

} // namespace wharf
