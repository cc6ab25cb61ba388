// SPDX-License-Identifier: MIT
#include "http/exchange.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "http/access.hpp"
#include "http/dispatch.hpp"
#include "http/filters.hpp"
#include "http/ranges.hpp"
#include "http/uri.hpp"
#include "wharf/status.hpp"

namespace wharf::detail {

exchange::exchange(exchange_protocol& protocol, const exchange_services& services,
                   const address* peer, const address* local, const tls_info* tls,
                   const proxy_info* proxy)
    : protocol_(&protocol), services_(&services) {
    request_access::set_connection(session_.request(), peer, local, tls, proxy);
    session_access::set_stream(session_, this);
}

void exchange::rebind(exchange_protocol& protocol, const exchange_services& services,
                      const address* peer, const address* local, const tls_info* tls,
                      const proxy_info* proxy) {
    protocol_ = &protocol;
    services_ = &services;
    request_access::set_connection(session_.request(), peer, local, tls, proxy);
    lost_ = false;
}

exchange::start_result exchange::start(const request_line& line) {
    request& req = session_.request();
    request_access::set_line(req, line.method, line.target, line.major, line.minor);
    request_access::set_connect_protocol(req, line.connect_protocol);
    request_access::set_headers(req, line.headers, line.host);
    request_access::set_keep_alive(req, line.keep_alive);
    if (services_->log.enabled()) head_at_ = std::chrono::steady_clock::now();
    active_ = true;
    streamed_body_ = head_sent_ = send_pending_ = response_done_ = close_requested_ = false;
    body_allowed_ = true;
    promised_length_.reset();
    body_sent_ = 0;

    target_parts target;
    if (!split_target(line.target, target) ||
        (target.form == target_parts::authority_form && req.method() != method::connect))
        return {400, "malformed request target"};
    if (target.form == target_parts::absolute_form) request_access::set_host(req, target.authority);
    if (!request_access::set_path(req, target.path, target.query))
        return {400, "malformed percent-encoding in path"};
    if (services_->trusted) {
        if (auto client = forwarded_client(req.headers(), req.peer(), *services_->trusted))
            request_access::set_forwarded_peer(req, *client);
    }
    route_ = find_route(services_->routes, session_);
    // What follows a CONNECT is a tunnel's, never a body to buffer.
    streamed_body_ =
        line.has_body && (req.method() == method::connect || (route_.target && route_.stream_body));
    return {0, "", streamed_body_};
}

void exchange::rebase(const char* old_begin, std::size_t length, const char* new_begin) noexcept {
    request_access::rebase(session_.request(), old_begin, length, new_begin);
}

void exchange::set_body(std::string_view body) noexcept {
    request_access::set_body(session_.request(), body);
}

void exchange::set_trailers(header_view trailers) noexcept {
    request_access::set_trailers(session_.request(), trailers);
}

void exchange::run() {
    in_handler_ = true;
    const bool threw = dispatch(route_, session_);
    in_handler_ = false;
    if (lost_) return;
    if (threw && session_.response_started()) {
        // Part of the response is out: the only honest end is to cut it.
        protocol_->reset(*this);
        return;
    }
    // The common case: the handler built the whole response and returned.
    if (!session_.response_started() && !session_access::left_work_behind(session_))
        queue_response(send_flags::none, {});
}

void exchange::respond_error(int status, const char* reason, std::string_view method,
                             std::string_view target, int minor) {
    // The request (if one started) is abandoned; its line is still wanted in the log.
    if (active_) {
        const request& req = session_.request();
        method = req.method_name();
        target = req.target();
        minor = req.http_minor();
    }
    session_access::reset(session_);
    request& req = session_.request();
    request_access::set_line(req, method.empty() ? std::string_view("-") : method, target, 1,
                             minor);
    set_error_response(session_.response(), status, reason);
    // A full body budget passes: say when to try again (RFC 9110 §10.2.3).
    if (status == 503) session_.response().set_header("Retry-After", "1");
    if (services_->log.enabled()) head_at_ = std::chrono::steady_clock::now();
    active_ = true;
    streamed_body_ = head_sent_ = send_pending_ = response_done_ = false;
    close_requested_ = true;
    promised_length_.reset();
    body_sent_ = 0;
    queue_response(send_flags::none, {});
    if (lost_) return; // the write failed: nothing is left to answer
    end();
}

void exchange::end() noexcept {
    active_ = streamed_body_ = response_done_ = false;
    route_ = {};
    transforms_.reset();
    session_access::reset(session_);
}

bool exchange::detach() noexcept {
    if (lost_) return false;
    lost_ = true;
    return session_.response_started() ? !session_.response_finished() : active_;
}

void exchange::notify_lost(std::error_code why) {
    session_access::notify_closed(session_, why);
}

void exchange::send(wharf::session& s, send_flags flags, send_callback done) {
    std::error_code refused;
    if (lost_)
        refused = errc::closed;
    else if (&s != &session_ || !active_ || s.response_finished())
        refused = errc::invalid_argument;
    else if (send_pending_)
        refused = errc::busy; // S26: never interleave two sends
    if (refused) {
        if (done) done({refused, 0});
        return;
    }
    queue_response(flags, std::move(done));
}

void exchange::upgrade(wharf::session& s, upgrade_callback on_upgraded) {
    const int status = session_.response().status();
    const bool connect = session_.request().method() == method::connect;
    const bool fits = status == 101 || (connect && status >= 200 && status < 300);
    std::error_code refused;
    if (lost_)
        refused = errc::closed;
    else if (&s != &session_ || !active_ || s.response_started() || send_pending_ || !fits ||
             !protocol_->upgrade_after_response(*this, on_upgraded))
        refused = errc::invalid_argument;
    if (refused) {
        on_upgraded(refused, {});
        return;
    }
    session_.response().body(std::string{}); // the bytes after the head are the new protocol's
    queue_response(send_flags::none, [on_upgraded](send_result r) {
        if (r.error) on_upgraded(r.error, {});
    });
}

void exchange::read_body(wharf::session&, body_callback on_piece) {
    if (lost_) {
        on_piece(make_error_code(errc::closed), {}, true);
        return;
    }
    if (!streamed_body_) {
        // A buffered route: the whole body is already here.
        on_piece({}, session_.request().body(), true);
        return;
    }
    protocol_->read_body(*this, std::move(on_piece));
}

void exchange::handler_returned(wharf::session& s) {
    if (!active_ || &s != &session_ || lost_) return;
    if (!s.response_started() && !session_access::left_work_behind(s)) {
        apply_default_body(s.response());
        queue_response(send_flags::none, {});
    }
    if (!lost_) protocol_->handler_returned(*this);
}

void exchange::abort_response(wharf::session& s) {
    if (&s == &session_ && !lost_) protocol_->reset(*this);
}

void exchange::queue_response(send_flags flags, send_callback done) {
    response& res = session_.response();
    const bool final = !has(flags, send_flags::more);
    if (has(flags, send_flags::buffer) && !final) {
        // S21: the bytes stay with the response and leave with the next send without the
        // flag (head included); the handler owes that send, so returning sends nothing.
        session_access::defer_send(session_);
        if (done) done({{}, res.body_size().value_or(0)});
        return;
    }
    if (res.closes_connection() || has(flags, send_flags::disconnect)) close_requested_ = true;
    protocol_->hold_output(*this, has(flags, send_flags::hold));
    if (!head_sent_) {
        const request& req = session_.request();
        run_filters_on_head(final);
        const int status = res.status();
        if (final && res.processes_ranges() && res.status() == 200 &&
            (req.method() == method::get || req.method() == method::head))
            apply_conditional_and_ranges(req, res); // S23
        if (transforms_ && (res.status() != status || !response_carries_body())) {
            transforms_->abandon(res);
            transforms_.reset();
        }
    }
    if (transforms_ && transform_body(res, transforms_, final)) {
        protocol_->reset(*this); // a transform failed: no honest end is left
        if (done) done({make_error_code(errc::closed), 0});
        return;
    }
    if (!head_sent_) start_response(final);
    const std::uint64_t before = body_sent_;
    queue_body();
    const std::uint64_t bytes = body_sent_ - before;
    protocol_->hold_output(*this, false);

    if (final) {
        // A body that does not match the length it announced leaves the client lost: close.
        if (promised_length_ && body_sent_ != *promised_length_) close_requested_ = true;
        protocol_->end_body(*this);
        session_access::mark_finished(session_);
        log_response();
    }
    if (!done && final && !send_pending_) {
        // No one waits for this send: the response is complete once queued.
        response_done_ = true;
        if (!has(flags, send_flags::buffer)) protocol_->flush(*this);
        return;
    }
    send_pending_ = true;
    protocol_->write_marker(
        *this,
        [this, final, done = std::move(done)](send_result r) {
            send_pending_ = false;
            if (final && !lost_) response_done_ = true;
            if (done) done(r);
        },
        bytes);
    protocol_->flush(*this);
}

bool exchange::response_carries_body() const noexcept {
    const int status = session_.response().status();
    const method m = session_.request().method();
    const bool connect_ok = m == method::connect && status >= 200 && status < 300;
    return !status_forbids_body(status) && !connect_ok && m != method::head;
}

void exchange::run_filters_on_head(bool whole) {
    const head_context head{whole};
    auto& filters = session_access::filters(session_);
    for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
        std::unique_ptr<body_transform> t;
        try {
            t = (*it)->on_head(session_, head);
        } catch (...) {
            report_handler_exception(session_, std::current_exception());
            continue;
        }
        if (!t) continue;
        if (!transforms_) transforms_ = std::make_shared<transform_chain>();
        transforms_->add(std::move(t));
    }
}

void exchange::start_response(bool final) {
    response& res = session_.response();
    // RFC 9110 §8.6: a 2xx to CONNECT has neither Content-Length nor a body; the tunnel follows.
    const bool connect_ok =
        session_.request().method() == method::connect && res.status() >= 200 && res.status() < 300;
    const bool no_body = status_forbids_body(res.status()) || connect_ok;
    body_allowed_ = !no_body && session_.request().method() != method::head;
    response_head head;
    head.status_forbids_body = no_body;
    if (!no_body) {
        if (res.declared_length())
            head.length = res.declared_length();
        else if (final && res.trailers().empty()) // trailers need a chunked HTTP/1.1 body
            head.length = res.body_size();
    }
    if (body_allowed_) promised_length_ = head.length;
    protocol_->write_head(*this, head);
    head_sent_ = true;
    if (services_->log.enabled()) first_byte_at_ = std::chrono::steady_clock::now();
    session_access::mark_started(session_);
}

void exchange::queue_body() {
    response& res = session_.response();
    auto& pieces = response_access::pieces(res);
    std::string& memory = response_access::memory(res);
    if (!body_allowed_) {
        for (auto& piece : pieces)
            piece.finish({}); // HEAD, 1xx, 204, 304: nothing goes out
        pieces.clear();
        memory.clear();
        return;
    }
    // Never put more on the wire than the Content-Length said: the client would read the
    // excess as the next response. Trim, and close afterwards.
    std::uint64_t allowance =
        promised_length_ ? *promised_length_ - std::min(*promised_length_, body_sent_) : UINT64_MAX;
    auto trim = [&](std::uint64_t size) {
        if (!promised_length_) return size;
        const std::uint64_t keep = std::min(size, allowance);
        if (keep < size) close_requested_ = true;
        allowance -= keep;
        return keep;
    };
    for (auto& piece : pieces) {
        switch (piece.kind) {
        case body_piece::bytes:
            piece.data.resize(static_cast<std::size_t>(trim(piece.data.size())));
            break;
        case body_piece::borrowed:
            piece.view = piece.view.substr(0, static_cast<std::size_t>(trim(piece.view.size())));
            break;
        case body_piece::file:
            piece.range.length = trim(piece.range.length);
            break;
        case body_piece::source:
            break; // a source's size is only a promise: `allowance` caps it
        }
        const std::optional<std::uint64_t> size = piece.size();
        if (size && *size == 0) {
            piece.finish({});
            continue;
        }
        body_sent_ += size.value_or(0);
        protocol_->write_body(*this, std::move(piece), size, allowance);
    }
    pieces.clear();
    memory.resize(static_cast<std::size_t>(trim(memory.size())));
    if (!memory.empty()) {
        body_sent_ += memory.size();
        protocol_->write_body(*this, std::move(memory));
        memory.clear();
    }
}

namespace {

/// "<process start, hex>-<count, hex>": unique within this process and across its restarts.
std::string next_request_id() {
    static const auto epoch = static_cast<unsigned long long>(
        std::chrono::system_clock::now().time_since_epoch().count());
    static std::atomic<unsigned long long> counter{0};
    char buf[48];
    const int n = std::snprintf(buf, sizeof buf, "%llx-%llx", epoch, counter.fetch_add(1) + 1);
    return std::string(buf, static_cast<std::size_t>(n));
}

} // namespace

void exchange::log_response() {
    access_logger& log = services_->log;
    if (!log.enabled()) return;
    const request& req = session_.request();
    const response& res = session_.response();
    const response::log_fields* as = res.logged_as();
    const auto field = [as](std::string response::log_fields::*f, std::string_view own) {
        return as && !(as->*f).empty() ? std::string_view(as->*f) : own;
    };
    access_record rec{&req.peer(),
                      req.method_name(),
                      field(&response::log_fields::target, req.target()),
                      req.header("User-Agent").value_or(""),
                      req.header("Referer").value_or(""),
                      field(&response::log_fields::user, req.user()),
                      req.http_major(),
                      req.http_minor(),
                      as && as->status != 0 ? as->status : res.status(),
                      req.tls() ? req.tls()->version : std::string_view(),
                      body_allowed_ ? body_sent_ : 0,
                      std::chrono::system_clock::now()};
    const auto now = std::chrono::steady_clock::now();
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    rec.first_byte = duration_cast<microseconds>(first_byte_at_ - head_at_);
    rec.total = duration_cast<microseconds>(now - head_at_);
    // The id: what the balancer gave, what the client sent (a token-like value of at most 128
    // bytes, so it cannot forge the line), or one made up.
    std::string made_up;
    if (const proxy_info* p = req.proxy(); p && !p->unique_id.empty()) {
        rec.request_id = p->unique_id;
    } else if (const auto id = req.header("X-Request-Id");
               id && !id->empty() && id->size() <= 128 &&
               std::all_of(id->begin(), id->end(),
                           [](char c) { return c > 0x20 && c < 0x7f && c != '"'; })) {
        rec.request_id = *id;
    } else {
        made_up = next_request_id();
        rec.request_id = made_up;
    }
    log.log(rec);
}

} // namespace wharf::detail
