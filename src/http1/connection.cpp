// SPDX-License-Identifier: MIT
#include "http1/connection.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/access.hpp"
#include "http1/h2c_upgrade.hpp"
#include "upgrade/raw_connection.hpp"

namespace wharf::http1 {

detail::connection* make_connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                                    const address& peer, const address& local) {
    return new connection(w, std::move(io), peer, local);
}

namespace {

constexpr int reads_per_event = 16; // then yield to other connections (fairness)
// Exchanges of this thread's idle connections, kept for the next request on any of them.
constexpr std::size_t max_pooled_exchanges = 1024;
thread_local std::vector<std::unique_ptr<detail::exchange>> exchange_pool;

constexpr std::int64_t linger_ms = 2000; // how long to drain a client after an error answer
constexpr std::size_t linger_max_bytes = 1024 * 1024;
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t send_queue_window = 64 * 1024; // body bytes buffered for a slow handler
constexpr std::size_t body_budget_step = 64 * 1024;  // chunked bodies reserve budget in steps

} // namespace

connection::connection(detail::worker& w, std::unique_ptr<detail::transport> io,
                       const address& peer, const address& local)
    : worker_(w), loop_(w.loop()), config_(w.state().config), io_(std::move(io)), peer_(peer),
      local_(local), timer_([](void* self) { static_cast<connection*>(self)->on_timeout(); }, this),
      chunked_({config_.limits.max_chunk_extension, config_.limits.max_trailer_bytes,
                config_.limits.max_body_size}) {
    self_ = std::make_shared<connection*>(this);
}

connection::~connection() = default;

bool connection::start() {
    if (const int fd = io_->fd();
        fd >= 0 && loop_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this))
        return false;
    last_activity_ = last_read_ = loop_.now();
    // A new connection must finish its handshake and send its first head within the head
    // deadline.
    head_started_ = loop_.now();
    phase_ = phase::handshake;
    may_be_h2c_ = io_->tls() == nullptr && worker_.state().make_http2 && config_.http2.cleartext;
    // A handshake that finishes here may have read the first request with the client's last
    // flight (TLS read-ahead): those bytes wait inside the transport and no edge will come
    // for them, so they are read now, as on_io does after a handshake.
    if (advance_handshake() && io_->has_pending()) on_readable(false);
    if (phase_ != phase::closed) refresh_timer();
    return true;
}

bool connection::check_h2c_preface() {
    // RFC 9113 §3.3: a client with prior knowledge starts with the preface; anything else that
    // differs from it is HTTP/1.
    static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const std::size_t n = std::min(in_.size(), preface.size());
    if (std::memcmp(in_.data(), preface.data(), n) != 0) {
        may_be_h2c_ = false;
        return true;
    }
    if (n == preface.size()) switch_to_http2();
    return false; // the rest of the preface is still to come
}

void connection::switch_to_http2(std::unique_ptr<detail::h2c_upgrade> upgrade) {
    loop_.timers().disarm(timer_);
    loop_.unschedule(this);
    phase_ = phase::closed;
    self_.reset();
    detail::connection* h2 = worker_.state().make_http2(worker_, std::move(io_), peer_, local_,
                                                        std::move(in_), std::move(upgrade));
    worker_.hand_over(this, h2);
}

bool connection::upgrade_after_response(detail::exchange&, upgrade_callback on_upgraded) {
    // Only a request read whole can be followed by another protocol's bytes.
    if (phase_ != phase::responding || streaming_body_) return false;
    upgrade_ = std::move(on_upgraded);
    return true;
}

void connection::switch_to_raw() {
    loop_.timers().disarm(timer_);
    loop_.unschedule(this);
    phase_ = phase::closed;
    self_.reset();
    release_body();
    detail::connection* raw = detail::make_raw_connection(worker_, std::move(io_), peer_, local_,
                                                          std::move(in_), std::move(upgrade_));
    worker_.hand_over(this, raw);
}

bool connection::may_upgrade_to_h2c() const noexcept {
    // Only between answers: after the 101 every byte is HTTP/2.
    return framing_.upgrade && framing_.body == request_framing::none && io_->tls() == nullptr &&
           worker_.state().make_http2 && config_.http2.cleartext && out_.empty() &&
           unsent_responses_ == 0;
}

bool connection::advance_handshake() {
    switch (io_->handshake()) {
    case detail::transport::handshake_status::done:
        phase_ = phase::head;
        // Behind a balancer: the connection is the client's, as its PROXY header says.
        if (const proxy_info* p = io_->proxied(); p && !p->local) {
            peer_ = p->source;
            local_ = p->destination;
        }
        if (const tls_info* tls = io_->tls();
            tls && tls->alpn == "h2" && worker_.state().make_http2) {
            switch_to_http2();
            return false;
        }
        // The first request is awaited as on a new plain connection: within the head deadline.
        head_started_ = last_activity_ = last_read_ = loop_.now();
        return true;
    case detail::transport::handshake_status::want_read:
    case detail::transport::handshake_status::want_write:
        return false; // the next edge (either way: both are watched) goes on
    case detail::transport::handshake_status::failed:
        break;
    }
    close(); // a FIN, so the peer reads the alert (or the plaintext answer) the transport sent
    return false;
}

void connection::on_io(std::uint32_t events) {
    if (phase_ == phase::closed) return;
    if (events & EPOLLERR) {
        abort();
        return;
    }
    if (phase_ == phase::handshake) {
        if (!advance_handshake()) return;
        events |= EPOLLIN; // what came with the handshake's last flight may be waiting
    }
    if ((events & EPOLLOUT) && send_blocked_) {
        flush();
        if (phase_ == phase::closed) return;
    }
    // With the peer's FIN in the same event, a short read does not mean "nothing more":
    // the end of stream is still to be read.
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
        on_readable((events & (EPOLLRDHUP | EPOLLHUP)) != 0);
}

bool connection::output_full() const noexcept {
    return out_.size() >= config_.limits.output_high_water ||
           unsent_responses_ >= config_.limits.max_pipelined;
}

void connection::on_readable(bool until_eof) {
    bool drained = false;
    batching_ = true;
    // Requests already buffered (behind a finished streamed response) go first.
    if (!in_.empty() && phase_ == phase::head) process();
    for (int i = 0; i < reads_per_event && phase_ != phase::closed; ++i) {
        const bool body_streaming =
            streaming_body_ && !body_finished_ && phase_ == phase::responding;
        if (body_streaming && in_.size() >= send_queue_window) {
            read_paused_ = true; // the handler has not taken what is here yet
            body_window_paused_ = true;
            drained = true;
            break;
        }
        // While a response is pending, the request it answers has views into in_: the buffer
        // must not move. Read only into the room behind it and only up to the look-ahead bound;
        // the rest waits in the kernel until the response is done (a client cannot grow the
        // buffer behind a long poll).
        const bool holding_request =
            !body_streaming && phase_ == phase::responding && in_.capacity() != 0;
        std::size_t lookahead_room = 0;
        if (holding_request) {
            const std::size_t ahead = in_.size() - request_consumed_;
            const std::size_t bound = config_.limits.max_lookahead;
            lookahead_room = ahead < bound ? std::min(bound - ahead, in_.tail_room()) : 0;
            if (lookahead_room == 0) {
                read_paused_ = true;
                drained = true;
                break;
            }
        }
        if (!body_streaming && phase_ != phase::lingering &&
            (output_full() || close_after_output_)) {
            // Back-pressure: leave the bytes in the kernel until the answers go out.
            read_paused_ = !close_after_output_;
            body_window_paused_ = true;
            drained = true;
            break;
        }
        if (in_.capacity() == 0) in_ = worker_.take_buffer();
        char* dst = in_.data() + in_.size();
        std::size_t room = lookahead_room;
        if (!holding_request) {
            std::size_t want = 4096;
            if (phase_ == phase::body_length) {
                const std::size_t total =
                    head_len_ + static_cast<std::size_t>(framing_.content_length);
                const std::size_t needed = total > in_.size() ? total - in_.size() : 0;
                want = std::min<std::size_t>(std::max(needed, want), 1 << 20);
            }
            const char* before = in_.data();
            dst = in_.prepare(want);
            room = in_.tail_room();
            // A body that does not fit moves the buffer: the head's views follow it.
            if (in_.data() != before) move_views(before, in_.size(), in_.data());
        }
        const ssize_t n = io_->read(dst, room);
        if (n > 0) {
            last_activity_ = last_read_ = loop_.now();
            if (phase_ == phase::lingering) {
                // Discard: the client is still sending what we will not read.
                lingered_bytes_ += static_cast<std::size_t>(n);
                if (lingered_bytes_ > linger_max_bytes) {
                    abort();
                    return;
                }
                continue;
            }
            in_.commit(static_cast<std::size_t>(n));
            if (body_streaming || phase_ == phase::body_length || phase_ == phase::body_chunked)
                body_window_bytes_ += static_cast<std::uint64_t>(n);
            if (body_streaming)
                try_deliver_body();
            else
                process();
            if (phase_ == phase::closed) return; // closed, or handed over to HTTP/2
            if (static_cast<std::size_t>(n) < room && !until_eof && !io_->has_pending()) {
                drained = true; // a short read emptied the socket; the next edge tells us more
                break;
            }
            continue;
        }
        if (n == 0) {
            drained = true;
            on_peer_eof();
            break;
        }
        if (n == -EAGAIN) {
            drained = true;
            break;
        }
        close_reason_ = make_error_code(errc::connection_reset);
        abort(); // ECONNRESET and friends: nothing more can be sent either
        return;
    }
    batching_ = false;
    if (phase_ == phase::closed) return;
    if (!drained) loop_.schedule_read(this);
    flush();
    if (phase_ == phase::closed) return;
    park_idle_buffers();
    refresh_timer();
}

detail::exchange& connection::exchange() {
    if (!exchange_) {
        if (!exchange_pool.empty()) {
            exchange_ = std::move(exchange_pool.back());
            exchange_pool.pop_back();
            exchange_->rebind(*this, worker_.services(), &peer_, &local_, io_->tls(),
                              io_->proxied());
        } else {
            exchange_ = std::make_unique<detail::exchange>(*this, worker_.services(), &peer_,
                                                           &local_, io_->tls(), io_->proxied());
        }
    }
    return *exchange_;
}

void connection::park_idle_buffers() {
    // An idle connection holds no buffer: both go back to the worker for the next busy one.
    if (phase_ != phase::head || !in_.empty() || !out_.empty()) return;
    // Nor an exchange: between requests nothing refers to it (its tokens expired, its
    // completions fired).
    if (exchange_ && !exchange_->active() && !exchange_->in_handler()) {
        if (exchange_pool.size() < max_pooled_exchanges)
            exchange_pool.push_back(std::move(exchange_));
        else
            exchange_.reset();
    }
    if (in_.capacity() != 0) worker_.give_buffer(std::move(in_));
    if (out_.has_spare()) worker_.give_send_buffer(out_.release_spare());
    out_.trim_idle();
    // What a large head or a streamed body's head grew is not kept either.
    if (fields_.capacity() > 32) std::vector<header_field>().swap(fields_);
    if (pinned_head_.capacity() > std::string().capacity()) std::string().swap(pinned_head_);
}

bool connection::reserve_body(std::size_t bytes) {
    if (bytes <= body_reserved_) return true;
    const std::size_t want = bytes - body_reserved_;
    if (!worker_.state().body_bytes.try_take(want)) return false;
    body_reserved_ += want;
    return true;
}

bool connection::reserve_body_or_refuse(std::size_t bytes, std::size_t step) {
    // In steps, to touch the shared count rarely; near the budget's end, exactly.
    if (bytes <= body_reserved_ || reserve_body(std::max(bytes, body_reserved_ + step)) ||
        reserve_body(bytes))
        return true;
    // Slow uploads together may not pin more than the server's body budget.
    respond_error(503, "too many request bodies in progress");
    return false;
}

void connection::release_body() noexcept {
    if (body_reserved_ == 0) return;
    worker_.state().body_bytes.give(body_reserved_);
    body_reserved_ = 0;
}

void connection::fail_streamed_body(std::error_code why, int status, const char* reason) {
    if (auto reader = std::exchange(body_reader_, nullptr)) reader(why, {}, true);
    if (phase_ == phase::closed) return;
    const session& s = exchange().session();
    if (phase_ != phase::responding || !streaming_body_ || s.response_finished()) {
        // The application answered in its callback: that answer stands, and the unread rest
        // of the body means the connection closes after it.
        close_after_output_ = true;
        return;
    }
    if (s.response_started()) {
        close_reason_ = why;
        abort(); // part of the answer is out: the only honest end is a reset
        return;
    }
    respond_error(status, reason);
}

void connection::process() {
    while (phase_ != phase::closed && phase_ != phase::lingering && !close_after_output_) {
        if (output_full()) {
            read_paused_ = true;
            return;
        }
        switch (phase_) {
        case phase::head:
            if (in_.empty()) return;
            if (may_be_h2c_ && !check_h2c_preface()) return;
            if (!start_request()) return;
            break;
        case phase::body_length: {
            const std::size_t have = in_.size() - head_len_;
            if (have < framing_.content_length) return;
            const std::size_t len = static_cast<std::size_t>(framing_.content_length);
            finish_request({in_.data() + head_len_, len}, head_len_ + len);
            break;
        }
        case phase::body_chunked: {
            char* base = in_.data() + head_len_;
            const auto r = chunked_.decode(base + body_decoded_, base + body_raw_,
                                           in_.size() - head_len_ - body_raw_, trailer_room());
            body_raw_ += r.consumed;
            body_decoded_ += r.produced;
            if (r.kind == chunked_decoder::result::error) {
                respond_error(r.status, r.reason);
                return;
            }
            if (r.kind == chunked_decoder::result::incomplete) {
                // Keep only the payload and the bytes not decoded yet: the framing is gone, so
                // a body held in memory costs its decoded size, not its wire size.
                if (const std::size_t framing = body_raw_ - body_decoded_; framing != 0) {
                    const std::size_t rest = in_.size() - head_len_ - body_raw_;
                    std::memmove(base + body_decoded_, base + body_raw_, rest);
                    in_.shrink_by(framing);
                    body_raw_ = body_decoded_;
                }
                (void)reserve_body_or_refuse(in_.size() - head_len_, body_budget_step);
                return;
            }
            if (!reserve_body_or_refuse(body_decoded_, 0)) return;
            finish_request({base, body_decoded_}, head_len_ + body_raw_);
            break;
        }
        case phase::handshake:
        case phase::responding:
        case phase::lingering:
        case phase::closed:
            return;
        }
    }
}

// Parses a head from in_; on success moves to the body phase or answers the request.
bool connection::start_request() {
    if (head_started_ == 0) head_started_ = loop_.now();
    head_ = {}; // never leave views into bytes of an earlier request
    const head_limits limits{config_.limits.max_request_line, config_.limits.max_header_bytes};
    auto& scratch = worker_.scratch_fields();
    // Fast path: parse what is there. Only when that comes up short does the connection
    // remember how far it looked, so a head that trickles in is scanned once, not re-parsed
    // on every read (slowloris).
    std::size_t limit = in_.size();
    if (scan_from_ != 0) {
        limit = find_head_end(in_.data(), in_.size(), scan_from_);
        if (limit == 0) {
            // Still no end: the line or the head may already be past its bound, or a line
            // that ended in the new bytes may be malformed (a bare LF, junk after a CR), which
            // the parser tells before the head's end as it did on the fast path: parse again
            // then, once per line rather than once per read.
            const bool line_ended =
                std::memchr(in_.data() + scan_from_, '\n', in_.size() - scan_from_) != nullptr;
            scan_from_ = in_.size();
            if (in_.size() > limits.max_request_line || line_ended) {
                const auto r = parse_request_head(in_.data(), in_.size(), head_, scratch, limits);
                if (r.kind == parse_result::error) {
                    respond_error(r.status, r.reason);
                    return false;
                }
            }
            if (in_.size() > limits.max_header_bytes)
                respond_error(431, "request header section too large");
            return false;
        }
    }
    const auto r = parse_request_head(in_.data(), limit, head_, scratch, limits);
    if (r.kind == parse_result::error) {
        respond_error(r.status, r.reason);
        return false;
    }
    if (r.kind == parse_result::incomplete) {
        const std::size_t end = find_head_end(in_.data(), limit, 0);
        if (end != 0) {
            // Only empty lines so far (allowed before a request line): drop them, and look
            // at what follows from its start (it may be a whole request already).
            in_.consume(end);
            scan_from_ = 0;
            return true;
        }
        scan_from_ = std::max<std::size_t>(in_.size(), 1);
        if (in_.size() > limits.max_header_bytes)
            respond_error(431, "request header section too large");
        return false;
    }
    head_len_ = r.consumed;
    scan_from_ = 0;
    fields_.assign(scratch.begin(),
                   scratch.begin() + static_cast<std::ptrdiff_t>(head_.num_headers));
    framing_ = analyze_request(head_, fields_);
    if (framing_.status) {
        respond_error(framing_.status, framing_.reason);
        return false;
    }
    // A chunked body's trailer fields go after the header fields: an idle connection keeps no
    // room for them.
    if (may_upgrade_to_h2c()) {
        if (auto up = h2c_upgrade_request(head_, fields_, framing_.host)) {
            in_.consume(head_len_); // what follows is the client's HTTP/2
            switch_to_http2(std::move(up));
            return false;
        }
    }
    if (framing_.body == request_framing::chunked) fields_.resize(head_.num_headers + max_trailers);
    const auto started = exchange().start({head_.method,
                                           head_.target,
                                           head_.major,
                                           head_.minor,
                                           header_view({fields_.data(), head_.num_headers}),
                                           framing_.host,
                                           framing_.keep_alive,
                                           framing_.body != request_framing::none,
                                           {}});
    if (started.status) {
        respond_error(started.status, started.reason);
        return false;
    }
    switch (framing_.body) {
    case request_framing::none:
        finish_request({}, head_len_);
        return true;
    case request_framing::length:
        if (started.stream_body) {
            start_streamed_request();
            return true;
        }
        if (framing_.content_length > config_.limits.max_body_size) {
            respond_error(413, "request body too large");
            return false;
        }
        if (!reserve_body_or_refuse(static_cast<std::size_t>(framing_.content_length), 0))
            return false;
        start_body_window();
        phase_ = phase::body_length;
        break;
    case request_framing::chunked:
        if (started.stream_body) {
            start_streamed_request();
            return true;
        }
        chunked_.reset();
        body_raw_ = body_decoded_ = 0;
        start_body_window();
        phase_ = phase::body_chunked;
        break;
    }
    // Ask for the body only when it is not already here (RFC 9110 §10.1.1).
    if (framing_.expect_continue && in_.size() == head_len_) out_.append(continue_line);
    return true;
}

void connection::move_views(const char* old_begin, std::size_t length, const char* new_begin) {
    // The head was parsed once; when its bytes move, its views follow them.
    const auto from = reinterpret_cast<std::uintptr_t>(old_begin);
    const auto move = [&](std::string_view& v) {
        const auto at = reinterpret_cast<std::uintptr_t>(v.data());
        if (v.data() != nullptr && at >= from && at - from <= length)
            v = {new_begin + (at - from), v.size()};
    };
    move(head_.method);
    move(head_.target);
    move(framing_.host);
    for (auto& f : fields_) {
        move(f.name);
        move(f.value);
    }
    if (exchange_) exchange_->rebase(old_begin, length, new_begin);
}

void connection::finish_request(std::string_view body, std::size_t consumed) {
    client_closes_ = !framing_.keep_alive; // its whole request is read: it sends no more
    exchange_->set_body(body);
    if (framing_.body == request_framing::chunked && !streaming_body_)
        exchange_->set_trailers(header_view({trailer_room().data(), chunked_.trailer_count()}));
    phase_ = phase::responding;
    request_consumed_ = consumed;
    response_keep_alive_ = framing_.keep_alive && !worker_.draining() && !peer_eof_;
    exchange_->run();
    if (phase_ == phase::closed) return;
    maybe_complete_response();
}

void connection::read_body(detail::exchange&, body_callback on_piece) {
    if (phase_ == phase::closed) {
        on_piece(make_error_code(errc::closed), {}, true);
        return;
    }
    if (body_finished_) {
        on_piece({}, {}, true);
        return;
    }
    if (body_reader_) {
        on_piece(make_error_code(errc::busy), {}, false);
        return;
    }
    if (reader_gone_at_ != 0) {
        // The server did not wait for the body while the handler was busy elsewhere: that
        // time counts against neither the rate window nor the gap between reads.
        const std::int64_t now = loop_.now();
        body_window_start_ = std::min(now, body_window_start_ + (now - reader_gone_at_));
        last_read_ = std::max(last_read_, now);
        reader_gone_at_ = 0;
    }
    body_reader_ = std::move(on_piece);
    if (!continue_sent_) {
        // RFC 9110 §10.1.1: ask for the body only now that the handler wants it.
        continue_sent_ = true;
        if (in_.empty()) {
            out_.append(continue_line);
            start_body_window(); // the client was waiting for us until now
            if (!batching_) flush();
        }
    }
    if (!delivering_) try_deliver_body();
}

void connection::handler_returned(detail::exchange&) {
    maybe_complete_response();
    if (!batching_ && phase_ != phase::closed) flush();
}

void connection::reset(detail::exchange&) {
    abort();
}

void connection::start_streamed_request() {
    // The body will flow through the receive buffer while the handler still uses the head:
    // the head's bytes get their own storage, and their views follow them there.
    pinned_head_.assign(in_.data(), head_len_);
    move_views(in_.data(), head_len_, pinned_head_.data());
    in_.consume(head_len_);
    head_len_ = 0;
    streaming_body_ = true;
    body_finished_ = false;
    continue_sent_ = !framing_.expect_continue || !in_.empty();
    if (!continue_sent_ && config_.continue_at_once) {
        continue_sent_ = true; // configured: do not wait for the handler to ask
        out_.append(continue_line);
    }
    body_remaining_ = framing_.content_length;
    start_body_window();
    chunked_ = chunked_decoder(
        {config_.limits.max_chunk_extension, config_.limits.max_trailer_bytes, UINT64_MAX});
    finish_request({}, 0);
}

void connection::try_deliver_body() {
    delivering_ = true;
    while (body_reader_ && !body_finished_ && phase_ != phase::closed && !in_.empty()) {
        std::string_view piece;
        std::size_t used = 0;
        bool last = false;
        if (framing_.body == request_framing::length) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), body_remaining_));
            piece = {in_.data(), n};
            used = n;
            body_remaining_ -= n;
            last = body_remaining_ == 0;
        } else {
            const auto r = chunked_.decode(in_.data(), in_.data(), in_.size(), trailer_room());
            if (r.kind == chunked_decoder::result::error) {
                fail_streamed_body(make_error_code(errc::invalid_argument), r.status, r.reason);
                break;
            }
            piece = {in_.data(), r.produced};
            used = r.consumed;
            last = r.kind == chunked_decoder::result::done;
            if (piece.empty() && !last) {
                // Chunk framing only: wait for payload. Nothing taken at all means the
                // decoder needs more bytes (a trailer section is parsed whole): read first.
                in_.consume(used);
                if (used == 0) break;
                continue;
            }
        }
        if (last) body_finished_ = true;
        if (last && framing_.body == request_framing::chunked)
            exchange_->set_trailers(header_view({trailer_room().data(), chunked_.trailer_count()}));
        auto reader = std::exchange(body_reader_, nullptr);
        reader_gone_at_ = loop_.now();
        reader({}, piece, last);
        if (phase_ == phase::closed) break;
        in_.consume(used);
    }
    delivering_ = false;
    if (phase_ == phase::closed) return;
    if (read_paused_ && streaming_body_ && in_.size() < send_queue_window) {
        read_paused_ = false;
        loop_.schedule_read(this);
    }
    refresh_timer(); // waiting for the client's body (or not) changes the deadline
}

void connection::maybe_complete_response() {
    if (!exchange_ || !exchange_->complete() || phase_ != phase::responding) return;
    if (streaming_body_) {
        // An unread rest of the body cannot be told from the next request: close after.
        if (!body_finished_) close_after_output_ = true;
        streaming_body_ = false;
        if (auto reader = std::exchange(body_reader_, nullptr))
            reader(make_error_code(errc::canceled), {}, true);
        pinned_head_.clear();
    }
    exchange_->end();
    in_.consume(request_consumed_);
    request_consumed_ = 0;
    if (upgrade_) {
        switch_to_raw(); // the 101 is written: the rest of in_ is the new protocol's
        return;
    }
    release_body();
    phase_ = phase::head;
    head_started_ = 0;
    head_len_ = 0;
    head_ = {};
    if (in_.capacity() > detail::worker::buffer_size && in_.size() <= detail::worker::buffer_size) {
        // What a large body grew is not kept behind the next request (which may be a long
        // poll): the bytes read ahead move to a pooled buffer. Nothing points into in_ now.
        detail::byte_buffer small = worker_.take_buffer();
        std::memcpy(small.prepare(in_.size()), in_.data(), in_.size());
        small.commit(in_.size());
        in_ = std::move(small);
    }
    // Requests that arrived behind this response wait in the buffer (or in the kernel, when
    // the look-ahead bound stopped reading).
    if (!batching_ && (!in_.empty() || read_paused_)) {
        read_paused_ = false;
        loop_.schedule_read(this);
    }
}

void connection::run_completions() {
    while (out_.has_completions()) {
        for (auto& [done, result] : out_.take_completions())
            if (done) done(result);
    }
}

void connection::respond_error(int status, const char* reason) {
    // The request (if any) is abandoned: answer with a plain page and close after sending.
    release_body();
    phase_ = phase::responding;
    response_keep_alive_ = false;
    client_closes_ = false; // what the client still sends is unknown: linger
    exchange().respond_error(status, reason, head_.method, head_.target, head_.minor);
    if (phase_ == phase::closed) return; // the write failed: nothing is left to answer
    phase_ = phase::head;
    head_ = {};
    close_after_output_ = true;
}

void connection::flush() {
    if (phase_ == phase::closed) return;
    if (flushing_) {
        reflush_ = true; // a completion sent more: the outer flush goes round again
        return;
    }
    flushing_ = true;
    do {
        reflush_ = false;
        if (!out_.empty()) {
            const auto r = out_.flush(*io_);
            if (r.error || r.source_error) {
                flushing_ = false;
                close_reason_ = r.error ? make_error_code(errc::connection_reset) : r.source_error;
                abort();
                return;
            }
            if (r.written) last_activity_ = loop_.now();
            if (r.blocked) {
                if (!send_blocked_) {
                    send_blocked_ = true;
                    start_send_window();
                } else {
                    send_window_bytes_ += r.written;
                }
            } else {
                send_blocked_ = false;
            }
        }
        run_completions();
    } while (reflush_ && phase_ != phase::closed);
    flushing_ = false;
    if (phase_ == phase::closed) return;
    maybe_complete_response();
    if (send_blocked_) {
        refresh_timer();
        return;
    }
    after_output_drained();
}

void connection::after_output_drained() {
    if (phase_ == phase::closed || !out_.empty()) return;
    unsent_responses_ = 0;
    if (close_after_output_ && phase_ != phase::responding) {
        if (phase_ != phase::lingering) begin_lingering_close();
        return;
    }
    if (read_paused_) {
        read_paused_ = false;
        process(); // requests already buffered behind the back-pressure
        if (phase_ == phase::closed) return;
        loop_.schedule_read(this);
    }
    park_idle_buffers(); // e.g. after a response that finished outside a read
}

void connection::on_peer_eof() {
    peer_eof_ = true;
    if (phase_ == phase::lingering) {
        close();
        return;
    }
    // A half-closed client still gets the answers to the requests it completed.
    close_after_output_ = true;
    if (phase_ == phase::responding && exchange_ && !exchange_->in_handler() &&
        !exchange_->session().response_finished()) {
        const session& s = exchange_->session();
        // Its current request is still being answered (a long poll, a stream): the client
        // has left, so cancel it now, as a reset would, rather than when the answer is
        // written. Answers already queued go out first when the socket takes them.
        flush();
        if (phase_ == phase::responding && !s.response_finished() && out_.empty()) close();
        return;
    }
    if (out_.empty() && phase_ != phase::responding) close();
}

void connection::begin_lingering_close() {
    // Closing with unread bytes would make the kernel send RST, which can destroy our answer
    // in flight; shut down writing and drain the client for a while instead.
    if (peer_eof_) {
        close();
        return;
    }
    io_->shutdown_write();
    // A client that asked for the close and sent nothing after its request has nothing in
    // flight that a close could turn into a reset (RFC 9112 §9.6): no need to wait for its FIN.
    if (client_closes_ && in_.empty() && io_->readable_bytes() == 0) {
        close();
        return;
    }
    phase_ = phase::lingering;
    linger_until_ = loop_.now() + linger_ms;
    if (in_.capacity()) worker_.give_buffer(std::move(in_));
    refresh_timer();
    loop_.schedule_read(this);
}

void connection::drain() {
    if (phase_ == phase::closed || phase_ == phase::lingering) return;
    if ((idle() || phase_ == phase::handshake) && !send_blocked_) {
        close();
        return;
    }
    if ((phase_ == phase::head && in_.empty()) || phase_ == phase::responding) {
        close_after_output_ = true; // finish what is in flight, then close
    }
}

void connection::abort() {
    // A reset, not a FIN: what is queued for a peer that is not reading is dropped at once.
    if (phase_ != phase::closed) io_->prepare_reset();
    close();
}

void connection::close() {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    const bool unfinished = exchange_ && exchange_->detach();
    loop_.timers().disarm(timer_);
    loop_.unschedule(this);
    io_.reset();   // closes the socket, which takes it out of epoll (it is never duplicated)
    self_.reset(); // late wake-ups from sources find nothing
    // Everything still queued is released and every pending send learns why (S16).
    const std::error_code why = close_reason_ ? close_reason_ : make_error_code(errc::closed);
    out_.cancel(why);
    if (auto reader = std::exchange(body_reader_, nullptr)) reader(why, {}, true);
    if (unfinished) exchange_->notify_lost(why);
    run_completions();
    if (exchange_) exchange_->end();
    release_body();
    if (in_.capacity()) worker_.give_buffer(std::move(in_));
    worker_.connection_closed(this);
}

} // namespace wharf::http1
