// SPDX-License-Identifier: MIT
#include "http2/tunnel.hpp"

#include <climits>
#include <cstring>

#include "http2/connection.hpp"
#include "http2/stream.hpp"

namespace wharf::http2 {
namespace {

constexpr std::int64_t linger_ms = 2000; // after our END_STREAM: how long we wait for the client's

} // namespace

/// One write: its buffers are lent to the stream's output as pieces; it completes when the
/// last piece is released (framed, or dropped).
struct tunnel::write_op {
    std::size_t pieces = 0;
    std::size_t bytes = 0;
    std::error_code error;
    io_callback done;
    detail::event_loop* loop = nullptr;

    void release_one() {
        if (--pieces > 0) return;
        loop->defer([done = std::move(done), ec = error, n = error ? 0 : bytes] { done(ec, n); });
    }
};

tunnel::tunnel(stream& s)
    : byte_stream(s.conn_->loop(), s.conn_->worker().state().config.timeouts.send_grace.count()),
      s_(&s), timer_([](void* self) { static_cast<tunnel*>(self)->on_timeout(); }, this) {
    if (s.conn_->worker().draining()) stop_.request_stop();
}

tunnel::~tunnel() {
    loop_.timers().disarm(timer_);
}

const address& tunnel::peer() const noexcept {
    static const address none;
    return closed_ ? none : s_->conn_->peer();
}

const address& tunnel::local() const noexcept {
    static const address none;
    return closed_ ? none : s_->conn_->local();
}

const tls_info* tunnel::tls() const noexcept {
    return closed_ ? nullptr : s_->conn_->tls();
}

// -- writes ---------------------------------------------------------------------------------

void tunnel::write(std::span<const std::string_view> buffers, bool, io_callback done) {
    if (closed_ || fin_sent_) return refuse_later(std::move(done), errc::closed);
    if (write_ && write_->pieces > 0) return refuse_later(std::move(done), errc::busy);
    if (buffers.size() > IOV_MAX) return refuse_later(std::move(done), errc::invalid_argument);
    write_ = std::make_shared<write_op>();
    write_->done = std::move(done);
    write_->loop = &loop_;
    write_->pieces = 1; // held until every buffer is queued
    for (std::string_view b : buffers) {
        if (b.empty()) continue;
        stream::item& it = s_->out_.emplace_back();
        it.piece.kind = detail::body_piece::borrowed;
        it.piece.view = b;
        it.piece.release = [op = write_] { op->release_one(); };
        ++write_->pieces;
        write_->bytes += b.size();
    }
    write_progress_at_ = loop_.now();
    write_->release_one();
    s_->resume_data();
    refresh_timer();
}

void tunnel::wrote_some() {
    last_activity_ = write_progress_at_ = loop_.now();
}

// -- reads ----------------------------------------------------------------------------------

void tunnel::read(std::span<char> buffer, io_callback done) {
    if (closed_ || fin_sent_) return refuse_later(std::move(done), errc::closed);
    if (on_read_) return refuse_later(std::move(done), errc::busy);
    if (buffer.empty()) return refuse_later(std::move(done), errc::invalid_argument);
    read_into_ = buffer;
    on_read_ = std::move(done);
    try_read();
}

void tunnel::data_arrived() {
    if (fin_sent_) {
        discard_input(); // nghttp2 closes the stream once both ends are sent
        return;
    }
    try_read();
}

void tunnel::try_read() {
    if (!on_read_ || closed_) return;
    std::string& in = s_->body_;
    if (!in.empty()) {
        const std::size_t n = std::min(read_into_.size(), in.size());
        std::memcpy(read_into_.data(), in.data(), n);
        in.erase(0, n);
        nghttp2_session_consume(s_->conn_->session(), s_->id_, n); // WINDOW_UPDATE for it
        s_->conn_->schedule_send();
        last_activity_ = loop_.now();
        complete_read({}, n);
    } else if (s_->request_ended_) {
        complete_read(make_error_code(errc::closed), 0);
    }
}

void tunnel::complete_read(std::error_code ec, std::size_t n) {
    if (!on_read_) return;
    read_into_ = {};
    loop_.defer([done = std::exchange(on_read_, nullptr), ec, n] { done(ec, n); });
    refresh_timer();
}

void tunnel::discard_input() {
    std::string& in = s_->body_;
    if (in.empty()) return;
    nghttp2_session_consume(s_->conn_->session(), s_->id_, in.size());
    in.clear();
    s_->conn_->schedule_send();
}

// -- ends -----------------------------------------------------------------------------------

void tunnel::cancel() {
    complete_read(make_error_code(errc::canceled), 0);
    if (closed_ || !write_ || write_->pieces == 0) return;
    // What is not framed yet is taken back; a piece partly framed goes out whole.
    auto& items = s_->out_;
    write_->error = make_error_code(errc::canceled);
    while (!items.empty() && !items.items.back().is_marker() && items.items.back().sent == 0 &&
           !items.items.back().referenced && &items.items.back() != &items.front()) {
        items.items.back().piece.finish(write_->error);
        items.items.pop_back();
    }
}

void tunnel::close_gracefully() {
    if (closed_ || fin_sent_) return;
    fin_sent_ = true;
    complete_read(make_error_code(errc::canceled), 0);
    discard_input();
    s_->end_queued_ = true; // END_STREAM after what is queued
    s_->resume_data();
    if (s_->request_ended_) {
        // Both sides have ended once the END_STREAM goes: nghttp2 closes the stream then.
        return;
    }
    linger_until_ = loop_.now() + linger_ms;
    refresh_timer();
}

void tunnel::abort() {
    end(make_error_code(errc::canceled), NGHTTP2_CANCEL);
}

void tunnel::end(std::error_code why, std::uint32_t rst_code) {
    if (closed_) return;
    nghttp2_submit_rst_stream(s_->conn_->session(), NGHTTP2_FLAG_NONE, s_->id_, rst_code);
    stream& s = *s_;
    stream_closed(why);
    s.conn_->schedule_send();
}

void tunnel::stream_closed(std::error_code why) {
    if (closed_) return;
    closed_ = true;
    loop_.timers().disarm(timer_);
    complete_read(why, 0);
    if (write_ && write_->pieces > 0 && !write_->error) write_->error = why;
    detach(why);
}

// -- deadlines ------------------------------------------------------------------------------

void tunnel::refresh_timer() {
    if (!closed_) arm_earliest(timer_, write_ && write_->pieces > 0, fin_sent_ ? linger_until_ : 0);
}

void tunnel::on_timeout() {
    if (closed_) return;
    const std::int64_t now = loop_.now();
    const std::error_code timed_out = make_error_code(errc::timed_out);
    run_alarm_if_due(now);
    if (fin_sent_ && linger_until_ && now >= linger_until_)
        end(make_error_code(errc::closed), NGHTTP2_NO_ERROR);
    else if (write_timed_out(write_ && write_->pieces > 0, now))
        end(timed_out, NGHTTP2_CANCEL); // the client does not read: what waits is dropped
    else if (idle_timed_out(now))
        end(timed_out, NGHTTP2_CANCEL);
    else
        refresh_timer();
}

} // namespace wharf::http2
