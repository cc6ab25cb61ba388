// SPDX-License-Identifier: MIT
#include "http2/stream.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "http/access.hpp"
#include "http2/connection.hpp"
#include "http2/response_fields.hpp"
#include "http2/tunnel.hpp"
#include "wharf/error.hpp"

namespace wharf::http2 {
namespace {

constexpr std::size_t copy_below = 256;            // smaller slices are copied, not referenced
constexpr std::size_t source_read_max = 16 * 1024; // one frame's payload at most
constexpr std::size_t body_budget_step = 64 * 1024;

std::string_view view(nghttp2_rcbuf* b) noexcept {
    const nghttp2_vec v = nghttp2_rcbuf_get_buf(b);
    return {reinterpret_cast<const char*>(v.base), v.len};
}

std::uint64_t remaining(const detail::body_piece& p, std::uint64_t sent) noexcept {
    switch (p.kind) {
    case detail::body_piece::bytes:
        return p.data.size() - sent;
    case detail::body_piece::borrowed:
        return p.view.size() - sent;
    case detail::body_piece::file:
        return p.range.length - sent;
    case detail::body_piece::source:
        return 0;
    }
    return 0;
}

} // namespace

stream::stream(connection& c, std::int32_t id)
    : conn_(&c), id_(id),
      exchange_(*this, c.worker().services(), &c.peer(), &c.local(), c.tls(), c.proxied()) {
    self_ = std::make_shared<stream*>(this);
}

stream::~stream() {
    release_fields();
    release_body_budget();
}

bool stream::reusable() const noexcept {
    return !exchange_.detached() && fields_.capacity() <= 64 && body_.capacity() <= 64 * 1024;
}

void stream::reuse(connection& c, std::int32_t id) {
    conn_ = &c;
    exchange_.rebind(*this, c.worker().services(), &c.peer(), &c.local(), c.tls(), c.proxied());
    id_ = id;
    fields_.clear();
    trailers_.clear();
    cookie_.clear();
    cookie_at_ = no_cookie;
    upgraded_.reset();
    method_ = path_ = scheme_ = authority_ = protocol_ = {};
    field_bytes_ = 0;
    refused_status_ = 0;
    refused_reason_ = "";
    body_.clear();
    body_reader_ = nullptr;
    started_ = streamed_ = request_ended_ = expects_continue_ = continue_sent_ = delivering_ =
        false;
    last_body_at_ = send_window_start_ = 0;
    send_window_bytes_ = 0;
    out_.items.clear();
    out_.head = 0;
    has_body_ = end_queued_ = head_framed_ = end_framed_ = deferred_ = closed_ = finished_ = false;
    markers_in_flight_ = 0;
    self_ = std::make_shared<stream*>(this); // weak handles to the last request find nothing
}

void stream::release_fields() noexcept {
    for (nghttp2_rcbuf* b : held_)
        nghttp2_rcbuf_decref(b);
    held_.clear();
}

detail::event_loop& stream::loop() noexcept {
    return conn_->loop();
}

// -- the request -----------------------------------------------------------------------------

void stream::add_field(nghttp2_rcbuf* name, nghttp2_rcbuf* value, bool trailer) {
    if (refused_status_ || closed_) return;
    const std::string_view n = view(name);
    const std::string_view v = view(value);
    const limits& lim = conn_->worker().state().config.limits;
    field_bytes_ += n.size() + v.size() + 4; // ": " and CRLF, as HTTP/1 counts them
    if (field_bytes_ > lim.max_header_bytes || (!trailer && fields_.size() >= lim.max_headers)) {
        refuse(431, trailer ? "trailer section too large" : "request header section too large");
        return;
    }
    nghttp2_rcbuf_incref(name);
    nghttp2_rcbuf_incref(value);
    held_.push_back(name);
    held_.push_back(value);
    if (!trailer && !n.empty() && n[0] == ':') {
        // nghttp2 has checked the pseudo-fields (RFC 9113 §8.3.1): known, once, before the rest.
        if (n == ":method")
            method_ = v;
        else if (n == ":path")
            path_ = v;
        else if (n == ":scheme")
            scheme_ = v;
        else if (n == ":authority")
            authority_ = v;
        else if (n == ":protocol")
            protocol_ = v;
        if (n == ":path" && v.size() > lim.max_request_line) refuse(414, "request target too long");
        return;
    }
    if (!trailer && n == "expect" && iequals(v, "100-continue")) expects_continue_ = true;
    if (!trailer && n == "cookie") {
        // RFC 9113 §8.2.3: cookie crumbs are one field again for the application, joined by
        // "; ".
        if (cookie_at_ != no_cookie) {
            if (cookie_.empty()) cookie_ = fields_[cookie_at_].value;
            cookie_.append("; ").append(v);
            fields_[cookie_at_].value = cookie_;
            return;
        }
        cookie_at_ = fields_.size();
    }
    (trailer ? trailers_ : fields_).push_back({n, v});
}

void stream::refuse(int status, const char* reason) {
    // Later fields are dropped; those kept are bounded by the limit just broken.
    if (refused_status_) return;
    refused_status_ = status;
    refused_reason_ = reason;
}

void stream::adopt_request(std::unique_ptr<detail::h2c_upgrade> request) {
    upgraded_ = std::move(request);
    method_ = upgraded_->method;
    path_ = upgraded_->target;
    authority_ = upgraded_->authority;
    for (const auto& [name, value] : upgraded_->fields)
        fields_.push_back({name, value});
    headers_done(true);
}

void stream::headers_done(bool end_stream) {
    if (end_stream) request_ended_ = true;
    started_ = true;
    last_body_at_ = send_window_start_ = conn_->loop().now();
    if (refused_status_) {
        exchange_.respond_error(refused_status_, refused_reason_, method_, path_, 0);
        try_finish();
        return;
    }
    start();
    try_finish();
}

bool stream::has_output() const noexcept {
    return std::any_of(out_.begin(), out_.end(), [](const item& i) { return !i.is_marker(); });
}

bool stream::awaits_body() const noexcept {
    // A buffered body the handler waits for, or a streamed one it asked for.
    return started_ && !request_ended_ && !closed_ && exchange_.active() &&
           !exchange_.session().response_started() && (!streamed_ || body_reader_);
}

std::int64_t stream::deadline(const timeouts& t) const noexcept {
    std::int64_t d = 0;
    if (awaits_body() && t.body_read.count() > 0) d = last_body_at_ + t.body_read.count();
    if (!closed_ && has_output() && !deferred_ && t.send_grace.count() > 0) {
        const std::int64_t w = send_window_start_ + t.send_grace.count();
        if (d == 0 || w < d) d = w;
    }
    return d;
}

bool stream::check_deadlines(std::int64_t now, const timeouts& t) {
    if (closed_) return false;
    if (awaits_body() && t.body_read.count() > 0 && now >= last_body_at_ + t.body_read.count()) {
        // RFC 9110 §15.5.9: the client took too long to send its request.
        if (streamed_) {
            // The handler is reading: it learns why, and the stream ends.
            auto reader = std::exchange(body_reader_, nullptr);
            reader(make_error_code(errc::timed_out), {}, true);
            if (!closed_)
                nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
        } else {
            refused_status_ = 408;
            exchange_.respond_error(408, "request body timed out", method_, path_, 0);
            try_finish();
        }
        conn_->schedule_send();
        return false;
    }
    if (!has_output() || deferred_ || t.send_grace.count() == 0) {
        send_window_start_ = now;
        send_window_bytes_ = 0;
        return false;
    }
    if (now < send_window_start_ + t.send_grace.count()) return false;
    const double seconds = static_cast<double>(now - send_window_start_) / 1000.0;
    if (static_cast<double>(send_window_bytes_) < static_cast<double>(t.min_send_rate) * seconds) {
        // The client's window let through less than the minimum rate: it is not reading.
        nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
        conn_->schedule_send();
        return true;
    }
    send_window_start_ = now;
    send_window_bytes_ = 0;
    return false;
}

void stream::start() {
    // RFC 9113 §8.3.1: the authority is :authority, else a Host field.
    std::string_view host = authority_;
    if (host.empty()) {
        for (const auto& f : fields_)
            if (f.name == "host") host = f.value;
    }
    const detail::request_line line{
        method_, path_, 2, 0, header_view(fields_), host, true, !request_ended_, protocol_};
    const auto r = exchange_.start(line);
    if (r.status) {
        refused_status_ = r.status;
        exchange_.respond_error(r.status, r.reason, method_, path_, 0);
        return;
    }
    streamed_ = r.stream_body;
    if (streamed_ || request_ended_) {
        exchange_.run();
        return;
    }
    // A buffered body that says it is too large is refused from its head, before a 100
    // (RFC 9110 §10.1.1, §15.5.14), as on HTTP/1.
    const limits& lim = conn_->worker().state().config.limits;
    for (const auto& f : fields_) {
        if (f.name != "content-length") continue;
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
        if (ec == std::errc{} && end == f.value.data() + f.value.size() && n > lim.max_body_size) {
            refused_status_ = 413;
            exchange_.respond_error(413, "request body too large", method_, path_, 0);
            return;
        }
    }
    // A buffered body: ask for it (RFC 9110 §10.1.1), and answer once it is all here.
    send_continue();
}

void stream::send_continue() {
    if (!expects_continue_ || continue_sent_ || request_ended_) return;
    // 100 (Continue) is a HEADERS frame of its own before the response's (RFC 9113 §8.1).
    continue_sent_ = true;
    const nghttp2_nv status{reinterpret_cast<std::uint8_t*>(const_cast<char*>(":status")),
                            reinterpret_cast<std::uint8_t*>(const_cast<char*>("100")), 7, 3,
                            NGHTTP2_NV_FLAG_NONE};
    nghttp2_submit_headers(conn_->session(), NGHTTP2_FLAG_NONE, id_, nullptr, &status, 1, nullptr);
    conn_->schedule_send();
}

void stream::body_data(const std::uint8_t* data, std::size_t len) {
    nghttp2_session* s = conn_->session();
    last_body_at_ = conn_->loop().now();
    if (tunnel_) {
        // The stream's window bounds what waits here; it opens as the application reads.
        body_.append(reinterpret_cast<const char*>(data), len);
        tunnel_->data_arrived();
        return;
    }
    if (closed_ || refused_status_ || !started_ || !exchange_.active() || exchange_.complete()) {
        nghttp2_session_consume(s, id_, len); // nobody reads it: let the client go on
        return;
    }
    if (!streamed_) {
        // Buffered: the budgets bound it, the window need not.
        const limits& lim = conn_->worker().state().config.limits;
        if (body_.size() + len > lim.max_body_size) {
            nghttp2_session_consume(s, id_, len);
            body_.clear();
            body_.shrink_to_fit();
            release_body_budget();
            refused_status_ = 413;
            exchange_.respond_error(413, "request body too large", method_, path_, 0);
            try_finish();
            return;
        }
        if (body_.size() + len > body_reserved_) {
            const std::size_t want =
                std::max(body_budget_step, body_.size() + len - body_reserved_);
            if (!conn_->worker().state().body_bytes.try_take(want)) {
                nghttp2_session_consume(s, id_, len);
                body_.clear();
                body_.shrink_to_fit();
                refused_status_ = 503;
                exchange_.respond_error(503, "the server is out of room for request bodies",
                                        method_, path_, 0);
                try_finish();
                return;
            }
            body_reserved_ += want;
        }
        body_.append(reinterpret_cast<const char*>(data), len);
        nghttp2_session_consume(s, id_, len);
        return;
    }
    // Streamed: the stream's window bounds what waits here; it opens as the handler reads.
    body_.append(reinterpret_cast<const char*>(data), len);
    deliver_body();
}

void stream::trailers_done() {
    if (refused_status_ || !started_) return;
    exchange_.set_trailers(header_view(trailers_));
}

void stream::request_ended() {
    request_ended_ = true;
    if (tunnel_) {
        tunnel_->data_arrived();
        return;
    }
    if (closed_ || refused_status_ || !started_) return;
    if (streamed_) {
        deliver_body();
        return;
    }
    if (!exchange_.active() || exchange_.session().response_started()) return; // answered early
    run_buffered();
}

void stream::run_buffered() {
    exchange_.set_body(body_);
    exchange_.run();
    try_finish();
}

void stream::deliver_body() {
    if (delivering_ || !body_reader_) return;
    if (body_.empty() && !request_ended_) return;
    delivering_ = true;
    auto reader = std::exchange(body_reader_, nullptr);
    const std::size_t n = body_.size();
    const bool last = request_ended_;
    reader({}, body_, last);
    body_.erase(0, n);
    delivering_ = false;
    if (n > 0 && !closed_) {
        nghttp2_session_consume(conn_->session(), id_, n); // WINDOW_UPDATE for what was read
        conn_->schedule_send();
    }
    if (body_reader_ && (!body_.empty() || (request_ended_ && !last))) deliver_body();
}

void stream::read_body(detail::exchange&, body_callback on_piece) {
    if (closed_) {
        on_piece(make_error_code(errc::closed), {}, true);
        return;
    }
    body_reader_ = std::move(on_piece);
    send_continue();
    deliver_body();
}

void stream::release_body_budget() noexcept {
    if (body_reserved_ == 0) return;
    conn_->worker().state().body_bytes.give(body_reserved_);
    body_reserved_ = 0;
}

// -- the response ----------------------------------------------------------------------------

void stream::write_head(detail::exchange& x, const detail::response_head& head) {
    if (closed_) return;
    const response& res = x.session().response();
    response_fields& nv = response_fields::scratch();
    nv.build(res, head, conn_->worker().date_line(), conn_->worker().state().config.server_name);
    has_body_ =
        tunnel_wanted_ ||
        (x.body_allowed() && (!(head.length && *head.length == 0) || !res.trailers().empty()));
    nghttp2_data_provider provider{};
    provider.source.ptr = this;
    provider.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t length,
                                std::uint32_t* flags, nghttp2_data_source* source,
                                void*) -> ssize_t {
        return static_cast<stream*>(source->ptr)->produce(length, flags);
    };
    nghttp2_submit_response(conn_->session(), id_, nv.data(), nv.size(),
                            has_body_ ? &provider : nullptr);
}

void stream::write_body(detail::exchange&, detail::body_piece&& piece, std::optional<std::uint64_t>,
                        std::uint64_t limit) {
    if (closed_ || !has_body_) {
        piece.finish(make_error_code(errc::closed));
        return;
    }
    if (piece.kind == detail::body_piece::source) {
        std::weak_ptr<stream*> weak = self_;
        detail::source_access::set_readable_hook(*piece.src,
                                                 [weak, loop = conn_->loop().shared_mailbox()] {
                                                     loop->post([weak] {
                                                         if (auto self = weak.lock())
                                                             (*self)->resume_data();
                                                     });
                                                 });
    }
    if (!has_output()) {
        send_window_start_ = conn_->loop().now(); // the rate is measured from here
        send_window_bytes_ = 0;
    }
    item& it = out_.emplace_back();
    it.piece = std::move(piece);
    it.limit = limit;
    resume_data();
}

void stream::write_body(detail::exchange& x, std::string&& bytes) {
    detail::body_piece piece;
    piece.kind = detail::body_piece::bytes;
    piece.data = std::move(bytes);
    write_body(x, std::move(piece), piece.data.size(), UINT64_MAX);
}

void stream::end_body(detail::exchange& x) {
    if (tunnel_wanted_) {
        start_tunnel();
        return;
    }
    end_queued_ = true;
    if (x.session().response().closes_connection()) conn_->go_away();
    resume_data();
}

void stream::write_marker(detail::exchange&, send_callback done, std::uint64_t bytes) {
    if (closed_) {
        done({make_error_code(errc::closed), 0});
        return;
    }
    item& it = out_.emplace_back();
    it.done = std::move(done);
    it.done_bytes = bytes;
    release_markers();
}

void stream::flush(detail::exchange&) {
    conn_->schedule_send();
}

void stream::handler_returned(detail::exchange&) {
    try_finish();
}

void stream::reset(detail::exchange&) {
    if (closed_) return;
    nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
    conn_->schedule_send();
}

void stream::resume_data() {
    if (!deferred_ || closed_) return;
    deferred_ = false;
    send_window_start_ = conn_->loop().now(); // waiting for the source did not count
    send_window_bytes_ = 0;
    nghttp2_session_resume_data(conn_->session(), id_);
    conn_->schedule_send();
}

ssize_t stream::produce(std::size_t length, std::uint32_t* flags) {
    head_framed(); // DATA is asked for only once the HEADERS are out
    while (!out_.empty()) {
        item& it = out_.front();
        if (it.is_marker()) {
            release_markers();
            continue;
        }
        std::uint64_t avail = remaining(it.piece, it.sent);
        if (it.piece.kind == detail::body_piece::source) {
            if (it.source_bytes.empty() && !it.source_ended) {
                const std::size_t want = static_cast<std::size_t>(
                    std::min<std::uint64_t>({length, source_read_max, it.limit}));
                source_read r = source_read::finished();
                if (want > 0) {
                    it.source_bytes.resize(want);
                    r = it.piece.src->read(it.source_bytes.data(), want);
                }
                switch (r.status) {
                case source_read::data:
                    it.source_bytes.resize(std::min(r.bytes, want));
                    it.limit -= it.source_bytes.size();
                    break;
                case source_read::would_block:
                    it.source_bytes.clear();
                    deferred_ = true;
                    return NGHTTP2_ERR_DEFERRED;
                case source_read::end:
                    it.source_bytes.clear();
                    it.source_ended = true;
                    break;
                case source_read::failed:
                    it.source_bytes.clear();
                    it.piece.finish(r.error);
                    out_.pop_front();
                    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; // RST_STREAM
                }
            }
            avail = it.source_bytes.size();
            if (avail == 0 && it.source_ended) {
                it.piece.finish({});
                out_.pop_front();
                continue;
            }
        }
        if (avail == 0) {
            retire(it);
            out_.pop_front();
            continue;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, length));
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
        // The last bytes of the body end the stream with this frame.
        const bool last_of_item = it.piece.kind != detail::body_piece::source && n == avail;
        if (last_of_item && end_queued_ &&
            std::all_of(out_.begin() + 1, out_.end(), [](const item& i) { return i.is_marker(); }))
            end_data(flags);
        return static_cast<ssize_t>(n);
    }
    if (end_queued_) {
        end_data(flags);
        return 0;
    }
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
}

void stream::end_data(std::uint32_t* flags) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (tunnel_) return;
    const field_list& trailers = exchange_.session().response().trailers();
    if (trailers.empty()) return;
    // The trailers' HEADERS frame ends the stream instead of this DATA frame.
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    response_fields& nv = response_fields::scratch();
    nv.build_trailers(trailers);
    nghttp2_submit_trailer(conn_->session(), id_, nv.data(), nv.size());
}

void stream::frame_data(const std::uint8_t* framehd, std::size_t length) {
    detail::send_queue& q = conn_->output();
    send_window_bytes_ += length;
    if (tunnel_) tunnel_->wrote_some();
    q.append({reinterpret_cast<const char*>(framehd), 9});
    while (length > 0 && !out_.empty()) {
        item& it = out_.front();
        if (it.is_marker()) break; // cannot happen: produce() released them
        std::size_t take;
        switch (it.piece.kind) {
        case detail::body_piece::bytes:
        case detail::body_piece::borrowed: {
            const std::string_view all = it.piece.kind == detail::body_piece::bytes
                                             ? std::string_view(it.piece.data)
                                             : it.piece.view;
            take = std::min<std::size_t>(length, all.size() - it.sent);
            const std::string_view slice = all.substr(it.sent, take);
            if (take < copy_below) {
                q.append(slice);
            } else {
                it.referenced = true;
                detail::body_piece ref;
                ref.kind = detail::body_piece::borrowed;
                ref.view = slice;
                q.append_piece(std::move(ref));
            }
            break;
        }
        case detail::body_piece::file: {
            take = static_cast<std::size_t>(
                std::min<std::uint64_t>(length, it.piece.range.length - it.sent));
            detail::body_piece ref;
            ref.kind = detail::body_piece::file;
            ref.range = {it.piece.range.fd, it.piece.range.offset + it.sent, take, false};
            it.referenced = true;
            q.append_piece(std::move(ref));
            break;
        }
        case detail::body_piece::source:
        default:
            take = std::min(length, it.source_bytes.size());
            if (take == it.source_bytes.size()) {
                q.append_owned(std::move(it.source_bytes));
                it.source_bytes.clear();
            } else {
                q.append(std::string_view(it.source_bytes).substr(0, take));
                it.source_bytes.erase(0, take);
            }
            length -= take;
            continue; // a source stays at the front until it ends
        }
        it.sent += take;
        length -= take;
        if (remaining(it.piece, it.sent) == 0) {
            retire(it);
            out_.pop_front();
        }
    }
    release_markers();
}

void stream::head_framed() {
    head_framed_ = true;
    release_markers();
}

void stream::end_framed() {
    end_framed_ = true;
    try_finish();
}

void stream::retire(item& it) {
    if (!it.referenced) {
        it.piece.finish({});
        return;
    }
    // Slices of it wait in the output: it lives until they are written.
    auto keep = std::make_shared<detail::body_piece>(std::move(it.piece));
    conn_->output().append_marker([keep](send_result r) { keep->finish(r.error); }, 0);
}

void stream::release_markers() {
    if (!head_framed_) return;
    while (!out_.empty() && out_.front().is_marker()) {
        item& it = out_.front();
        ++markers_in_flight_;
        std::weak_ptr<stream*> weak = self_;
        conn_->output().append_marker(
            [weak, done = std::move(it.done)](send_result r) {
                if (done) done(r);
                if (auto self = weak.lock()) {
                    stream* s = *self;
                    --s->markers_in_flight_;
                    s->try_finish();
                }
            },
            it.done_bytes);
        out_.pop_front();
    }
}

void stream::drop_output(std::error_code why) {
    while (!out_.empty()) {
        item& it = out_.front();
        if (it.is_marker()) {
            auto done = std::move(it.done);
            out_.pop_front();
            done({why, 0});
            continue;
        }
        if (it.referenced)
            retire(it); // some of it is in the output already
        else
            it.piece.finish(why);
        out_.pop_front();
    }
}

// -- a tunnel (RFC 8441) -------------------------------------------------------------------

bool stream::upgrade_after_response(detail::exchange&, upgrade_callback on_upgraded) {
    if (protocol_.empty() || closed_ || tunnel_) return false;
    tunnel_wanted_ = std::move(on_upgraded);
    return true;
}

void stream::start_tunnel() {
    // The 2xx is queued without END_STREAM; what the application writes follows it as DATA.
    tunnel_ = std::make_unique<tunnel>(*this);
    conn_->loop().defer([state = tunnel_->state(), ready = std::exchange(tunnel_wanted_, nullptr)] {
        if (state->conn)
            ready({}, upgraded_stream(state));
        else
            ready(make_error_code(errc::closed), {});
    });
    if (!body_.empty() || request_ended_) tunnel_->data_arrived();
}

void stream::drain() {
    if (tunnel_) tunnel_->drain();
}

// -- the end ---------------------------------------------------------------------------------

void stream::closed(std::uint32_t error_code, bool gone) {
    if (closed_) return;
    closed_ = true;
    body_reader_ = nullptr;
    const std::error_code why = make_error_code(
        gone || error_code == NGHTTP2_NO_ERROR ? errc::closed : errc::connection_reset);
    const bool unfinished = !exchange_.complete() && exchange_.detach();
    if (tunnel_) tunnel_->stream_closed(why);
    tunnel_wanted_ = nullptr;
    drop_output(why);
    if (tunnel_) // freed later: this may run inside one of its calls
        conn_->loop().defer([gone = std::shared_ptr<tunnel>(std::move(tunnel_))] {});
    if (unfinished) exchange_.notify_lost(why);
    release_body_budget();
    try_finish();
}

void stream::try_finish() {
    if (finished_) return;
    if (!closed_) {
        // Answered while the client still sends: the rest of its request is not wanted
        // (RFC 9113 §8.1).
        // Only after the response's last frame: an RST_STREAM would overtake it.
        if (started_ && !request_ended_ && exchange_.complete() && !exchange_.in_handler() &&
            end_framed_ && !tunnel_) {
            nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_NO_ERROR);
            conn_->schedule_send();
        }
        return;
    }
    if (markers_in_flight_ > 0 || exchange_.in_handler()) return;
    finished_ = true;
    if (exchange_.active()) exchange_.end();
    release_fields();
    conn_->stream_finished(this);
}

} // namespace wharf::http2
