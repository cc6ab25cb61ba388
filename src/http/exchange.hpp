// SPDX-License-Identifier: MIT
// One request and its response, whatever protocol carries them: the target and path, one
// route match (which also says whether the body is buffered or streamed), the handler call,
// the response's finishing rules (ranges, HEAD/1xx/204/304 bodies, default bodies,
// Content-Length), one send in flight (S26), completions, cancellation and the access-log
// record. The protocol (an HTTP/1 connection today) parses and frames; the exchange talks to
// it through exchange_protocol and knows nothing of the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/access_log.hpp"
#include "http/body_transforms.hpp"
#include "http/forwarded.hpp"
#include "http/session_stream.hpp"
#include "wharf/router.hpp"
#include "wharf/server.hpp"
#include "wharf/session.hpp"

namespace wharf::detail {

class exchange;

/// What a worker lends the exchanges on its loop.
struct exchange_services {
    const server_config& config;
    const router& routes;
    access_logger& log;
    const trusted_networks* trusted = nullptr; ///< proxies whose Forwarded fields count
};

/// A parsed request head. Its views stay valid while the exchange runs, or until rebase().
struct request_line {
    std::string_view method;
    std::string_view target;
    int major = 1;
    int minor = 1;
    header_view headers;
    std::string_view host;
    bool keep_alive = true;            ///< what the client asked for
    bool has_body = false;             ///< a body follows the head (a streamed route then reads it)
    std::string_view connect_protocol; ///< HTTP/2's :protocol (RFC 8441)
};

/// How the response head describes its body.
struct response_head {
    /// The body's exact size when known; empty: open-ended (the protocol frames the end).
    std::optional<std::uint64_t> length;
    /// 1xx, 204 and 304: no body and no length at all.
    bool status_forbids_body = false;
};

/// What an exchange asks of the protocol carrying it. Every call is on the loop's thread.
class exchange_protocol {
  public:
    virtual event_loop& loop() noexcept = 0;
    /// Writes the head of x's response (status and fields from x's response).
    virtual void write_head(exchange& x, const response_head& head) = 0;
    /// Queues body bytes (none empty). `size` is the piece's size when known; a source of
    /// unknown size may produce at most `limit` bytes.
    virtual void write_body(exchange& x, body_piece&& piece, std::optional<std::uint64_t> size,
                            std::uint64_t limit) = 0;
    virtual void write_body(exchange& x, std::string&& bytes) = 0;
    /// The body is complete; nothing more is written for x.
    virtual void end_body(exchange& x) = 0;
    /// `done` gets `bytes` once everything queued for x so far is written, or why it was not.
    virtual void write_marker(exchange& x, send_callback done, std::uint64_t bytes) = 0;
    /// While on, what is queued may wait for more (a partial packet is held back).
    virtual void hold_output(exchange& x, bool on) = 0;
    /// Sends what is queued now, or at the end of the protocol's current batch.
    virtual void flush(exchange& x) = 0;
    /// The next piece of a streamed request body (route_options::stream_body).
    virtual void read_body(exchange& x, body_callback on_piece) = 0;
    /// Once x's response is written, the client goes to `on_upgraded` as a raw stream; false
    /// when this protocol cannot give its connection away.
    virtual bool upgrade_after_response(exchange& x, upgrade_callback on_upgraded) = 0;
    /// The handler returned: x may be complete() now.
    virtual void handler_returned(exchange& x) = 0;
    /// x cannot end honestly (a handler failed after its response started): cut it.
    virtual void reset(exchange& x) = 0;

  protected:
    ~exchange_protocol() = default;
};

class exchange final : public session_stream {
  public:
    /// `tls` (null on a plain stream) must outlive the exchange, like the addresses.
    exchange(exchange_protocol& protocol, const exchange_services& services, const address* peer,
             const address* local, const tls_info* tls, const proxy_info* proxy = nullptr);
    /// Moves a finished exchange to another carrier (a pooled one's next connection, maybe
    /// of another worker that ran on this thread).
    void rebind(exchange_protocol& protocol, const exchange_services& services, const address* peer,
                const address* local, const tls_info* tls, const proxy_info* proxy = nullptr);
    exchange(const exchange&) = delete;
    exchange& operator=(const exchange&) = delete;
    ~exchange() = default;

    wharf::session& session() noexcept { return session_; }
    const wharf::session& session() const noexcept { return session_; }

    /// What start() found: an error to answer with (status != 0), or whether the route reads
    /// its body itself.
    struct start_result {
        int status = 0;
        const char* reason = "";
        bool stream_body = false;
    };
    /// A request head arrived: takes its line and fields, splits the target, decodes the path
    /// and matches the route (once).
    start_result start(const request_line& line);
    /// The protocol's buffer moved: every view of the request into [old_begin, old_begin +
    /// length) now points at the same offset from new_begin.
    void rebase(const char* old_begin, std::size_t length, const char* new_begin) noexcept;
    /// The buffered body (and a chunked body's trailers), before run().
    void set_body(std::string_view body) noexcept;
    void set_trailers(header_view trailers) noexcept;
    /// Calls the route's handler (or answers what routing answers: 404, 405, 501, OPTIONS);
    /// sends the response when the handler returns without sending or leaving work behind.
    void run();
    /// Answers with a plain error page instead of a handler (a malformed or refused request);
    /// `method` and `target` are for the log when no request started.
    void respond_error(int status, const char* reason, std::string_view method,
                       std::string_view target, int minor);

    /// The response is complete: its last send was written and no handler is on the stack.
    bool complete() const noexcept { return response_done_ && !in_handler_; }
    /// Between start() (or respond_error) and end().
    bool active() const noexcept { return active_; }
    /// The response asked for the connection to close after it (close_connection(),
    /// send_flags::disconnect, or a body shorter or longer than its Content-Length).
    bool close_requested() const noexcept { return close_requested_; }
    bool body_allowed() const noexcept { return body_allowed_; }
    /// Forgets the request (tokens expire, timers stop, context destroyed): ready for the next.
    void end() noexcept;
    /// The carrier went away: from now on sends report closed. Returns whether the response
    /// was unfinished; then tell the handler with notify_lost().
    bool detach() noexcept;
    /// Tells the handler (on_close, stop token, pending co_awaits) why its request ended.
    void notify_lost(std::error_code why);
    /// detach() was called: the exchange cannot carry another request.
    bool detached() const noexcept { return lost_; }
    /// A handler is on the stack (the exchange's own call of it).
    bool in_handler() const noexcept { return in_handler_; }

    // session_stream: where the session's calls land.
    void send(wharf::session& s, send_flags flags, send_callback done) override;
    void read_body(wharf::session& s, body_callback on_piece) override;
    void upgrade(wharf::session& s, upgrade_callback on_upgraded) override;
    event_loop& loop() noexcept override { return protocol_->loop(); }
    void handler_returned(wharf::session& s) override;
    void abort_response(wharf::session& s) override;

  private:
    void queue_response(send_flags flags, send_callback done);
    bool response_carries_body() const noexcept;
    void run_filters_on_head(bool whole);
    void start_response(bool final);
    void queue_body();
    void log_response();

    exchange_protocol* protocol_;
    const exchange_services* services_;
    wharf::session session_;
    route_match route_;
    bool active_ = false;
    bool streamed_body_ = false;
    bool lost_ = false;
    bool head_sent_ = false;
    bool body_allowed_ = true;
    bool send_pending_ = false;
    bool response_done_ = false;
    bool in_handler_ = false;
    bool close_requested_ = false;
    std::shared_ptr<transform_chain> transforms_;  // the filters' body transforms, if any
    std::optional<std::uint64_t> promised_length_; // the Content-Length announced
    std::uint64_t body_sent_ = 0;                  // body bytes queued so far
    std::chrono::steady_clock::time_point head_at_{}, first_byte_at_{}; // for the access log
};

} // namespace wharf::detail
