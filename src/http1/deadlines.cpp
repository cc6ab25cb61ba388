// SPDX-License-Identifier: MIT
// A connection's deadlines: the head, the keep-alive idle time, the body's gaps and minimum
// rate, the minimum send rate (measured by what the peer acknowledged) and the lingering
// close, combined into the one timer the connection keeps armed.
#include "http1/connection.hpp"

#include <algorithm>

namespace wharf::http1 {
namespace {

std::int64_t deadline_after(std::int64_t from, milliseconds span) noexcept {
    return span.count() > 0 ? from + span.count() : 0;
}

} // namespace

bool connection::receiving_body() const noexcept {
    if (phase_ == phase::body_length || phase_ == phase::body_chunked) return true;
    return phase_ == phase::responding && streaming_body_ && !body_finished_ && body_reader_;
}

void connection::start_body_window() noexcept {
    reader_gone_at_ = 0;
    body_window_start_ = loop_.now();
    body_window_bytes_ = 0;
    body_window_paused_ = false;
}

void connection::body_too_slow(const char* reason) {
    // RFC 9110 §15.5.9: the server would not wait any longer for the body.
    if (streaming_body_)
        fail_streamed_body(make_error_code(errc::timed_out), 408, reason);
    else
        respond_error(408, reason);
    if (phase_ == phase::closed) return;
    flush();
    refresh_timer();
}

std::int64_t connection::current_deadline() const noexcept {
    const timeouts& t = config_.timeouts;
    if (phase_ == phase::lingering) return linger_until_;
    const auto earliest = [](std::int64_t a, std::int64_t b) {
        return a == 0 ? b : b == 0 ? a : std::min(a, b);
    };
    if (phase_ == phase::handshake)
        return earliest(deadline_after(head_started_, t.request_head),
                        deadline_after(head_started_, milliseconds(io_->handshake_timeout_ms())));
    const std::int64_t send = send_blocked_ ? deadline_after(send_window_start_, t.send_grace) : 0;
    if (receiving_body()) {
        // A body the server waits for must keep coming (body_read) and come fast enough on
        // average (min_body_rate over each body_grace window), even while a response to an
        // earlier request is still being sent.
        const std::int64_t gap = deadline_after(last_read_, t.body_read);
        const std::int64_t window =
            t.min_body_rate ? deadline_after(body_window_start_, t.body_grace) : 0;
        return earliest(send, earliest(gap, window));
    }
    if (send_blocked_) return send;
    // Otherwise the application decides when the response ends.
    if (phase_ == phase::responding) return 0;
    if (head_started_ != 0 && (!in_.empty() || last_activity_ == head_started_))
        return deadline_after(head_started_, t.request_head);
    if (out_.empty()) return deadline_after(last_activity_, t.keep_alive);
    return 0;
}

std::size_t connection::unacknowledged_bytes() const noexcept {
    return io_->unacknowledged();
}

void connection::start_send_window() noexcept {
    send_window_start_ = loop_.now();
    send_window_bytes_ = 0;
    send_window_queued_ = unacknowledged_bytes();
}

void connection::refresh_timer() {
    if (phase_ == phase::closed) return;
    const std::int64_t deadline = current_deadline();
    if (deadline == 0) {
        loop_.timers().disarm(timer_);
    } else {
        loop_.timers().arm(timer_, deadline);
    }
}

void connection::on_timeout() {
    const std::int64_t now = loop_.now();
    const timeouts& t = config_.timeouts;
    // The state may have moved on since the timer was armed: act only on a deadline that
    // has really passed.
    if (const std::int64_t deadline = current_deadline(); deadline == 0 || deadline > now) {
        refresh_timer();
        return;
    }
    if (phase_ == phase::lingering) {
        // The client did not close in time. Our FIN is already queued behind the answer, which
        // the kernel goes on delivering to a slow reader; a client still sending gets a reset
        // from the kernel.
        close();
        return;
    }
    if (send_blocked_ && t.send_grace.count() > 0 &&
        now >= send_window_start_ + t.send_grace.count()) {
        // What the client took is what it acknowledged: bytes written in the window, less
        // what still waits in the kernel (EPOLLOUT comes late with a large send buffer).
        const std::size_t queued = unacknowledged_bytes();
        const std::uint64_t drained =
            send_window_bytes_ + send_window_queued_ -
            std::min<std::uint64_t>(queued, send_window_bytes_ + send_window_queued_);
        const double seconds = static_cast<double>(now - send_window_start_) / 1000.0;
        if (static_cast<double>(drained) < static_cast<double>(t.min_send_rate) * seconds) {
            close_reason_ = make_error_code(errc::timed_out);
            abort(); // the client reads slower than the minimum send rate
            return;
        }
        start_send_window();
    }
    if (receiving_body()) {
        if (t.min_body_rate && t.body_grace.count() > 0 &&
            now >= body_window_start_ + t.body_grace.count()) {
            const double seconds = static_cast<double>(now - body_window_start_) / 1000.0;
            if (!body_window_paused_ && static_cast<double>(body_window_bytes_) <
                                            static_cast<double>(t.min_body_rate) * seconds) {
                body_too_slow("request body arrived too slowly");
                return;
            }
            start_body_window();
        }
        if (t.body_read.count() > 0 && now >= last_read_ + t.body_read.count()) {
            body_too_slow("request body not received in time");
            return;
        }
        refresh_timer();
        return;
    }
    if (send_blocked_ || phase_ == phase::responding) {
        refresh_timer();
        return;
    }
    if (!in_.empty()) {
        respond_error(408, "request head not received in time");
    } else {
        close(); // idle keep-alive connection (or one that never sent anything)
        return;
    }
    if (phase_ == phase::closed) return;
    flush();
    refresh_timer();
}

} // namespace wharf::http1
