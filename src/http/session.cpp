// SPDX-License-Identifier: MIT
#include "wharf/session.hpp"

#include <cstdio>
#include <future>

#include "http/access.hpp"
#include "http/dispatch.hpp"
#include "http/session_stream.hpp"
#include "wharf/error.hpp"
#include "wharf/task.hpp"
#include "wharf/thread_pool.hpp"

namespace wharf {

struct session_handle::state {
    std::shared_ptr<detail::mailbox> loop; // outlives the loop: late resumes are refused
    session* owner;
    session_token token;
    std::atomic<int> phase{0}; // 0 suspended, 1 resumed, 2 answered by the deadline
};

namespace detail {

/// Runs `fn` as a handler would run: exceptions become a 500 (or a cut connection once the
/// response started), and returning without sending sends the response.
void run_as_handler(session& s, const std::function<void(session&)>& fn) {
    session_access::clear_left_work(s);
    try {
        fn(s);
    } catch (...) {
        report_handler_exception(s, std::current_exception());
        if (s.response_started()) return session_access::stream(s)->abort_response(s);
    }
    session_access::stream(s)->handler_returned(s);
}

std::function<void(std::function<void()>)> loop_poster(session& s) {
    return [loop = session_access::stream(s)->loop().shared_mailbox()](std::function<void()> task) {
        loop->post(std::move(task));
    };
}

void run_on_pool(thread_pool& pool, std::function<void()> task) {
    pool.post(std::move(task));
}

void coroutine_returned(session& s) noexcept {
    session_access::clear_left_work(s);
    if (session_access::stream(s)) session_access::stream(s)->handler_returned(s);
}

void coroutine_threw(session& s, std::exception_ptr e) noexcept {
    if (!session_access::stream(s)) return;
    report_handler_exception(s, e);
    if (s.response_started()) {
        session_access::stream(s)->abort_response(s);
        return;
    }
    session_access::clear_left_work(s);
    session_access::stream(s)->handler_returned(s);
}

} // namespace detail

std::error_code session_handle::resume(std::function<void(session&)> finish) const {
    if (!state_) return errc::invalid_argument;
    // A deadline that answered is the better report than "closed" (its answer also ends the
    // request); a request that ended is the better report than "resumed before".
    if (state_->phase.load() == 2) return errc::timed_out;
    if (state_->token.expired()) return errc::closed;
    int expected = 0;
    if (!state_->phase.compare_exchange_strong(expected, 1))
        return expected == 1 ? errc::busy : errc::timed_out;
    const bool posted = state_->loop->post([st = state_, finish = std::move(finish)] {
        if (st->token.expired()) return; // the client left while the task was in the queue
        detail::run_as_handler(*st->owner, finish);
    });
    return posted ? std::error_code{} : make_error_code(errc::closed); // the server has gone
}

bool session_handle::expired() const noexcept {
    return !state_ || state_->token.expired();
}

send_result session_handle::send_blocking(std::string body, send_flags flags) const {
    return send_blocking([body = std::move(body)](session& s) { s.response().append(body); },
                         flags);
}

send_result session_handle::send_blocking(std::function<void(session&)> prepare,
                                          send_flags flags) const {
    if (!state_ || state_->token.expired()) return {make_error_code(errc::closed), 0};
    if (state_->loop->on_loop_thread()) return {make_error_code(errc::invalid_argument), 0};
    auto done = std::make_shared<std::promise<send_result>>();
    std::future<send_result> result = done->get_future();
    const bool posted =
        // The task holds the only reference to the promise: dropped unrun (the loop went
        // away), it breaks the promise and get() below reports closed.
        state_->loop->post(
            [st = state_, done = std::move(done), flags, prepare = std::move(prepare)]() mutable {
                // Checked on the loop, where requests end: only then is the session pointer used.
                if (st->token.expired()) {
                    done->set_value({make_error_code(errc::closed), 0});
                    return;
                }
                try {
                    prepare(*st->owner);
                } catch (...) {
                    done->set_value({make_error_code(errc::no_memory), 0});
                    return;
                }
                st->owner->send(flags, [done](send_result r) { done->set_value(r); });
            });
    if (!posted) return {make_error_code(errc::closed), 0};
    try {
        return result.get();
    } catch (const std::future_error&) {
        return {make_error_code(errc::closed), 0}; // the loop went away with the task queued
    }
}

session_handle session::suspend(std::chrono::milliseconds deadline,
                                std::function<void(session&)> on_deadline) {
    session_handle handle;
    if (!stream_) return handle;
    async_ = true;
    handle.state_ = std::make_shared<session_handle::state>();
    handle.state_->loop = stream_->loop().shared_mailbox();
    handle.state_->owner = this;
    handle.state_->token = token();
    if (deadline.count() > 0) {
        after(deadline, [this, st = handle.state_, on_deadline = std::move(on_deadline)] {
            int expected = 0;
            if (!st->phase.compare_exchange_strong(expected, 2)) return; // resumed in time
            if (stop_) stop_->request_stop();
            if (response_started()) return; // a blocking send began the answer: let it end it
            if (on_deadline) {
                detail::run_as_handler(*this, on_deadline);
            } else {
                detail::run_as_handler(*this, [](session& s) { s.response().set_std(503); });
            }
        });
    }
    return handle;
}

std::stop_token session::stop_token() {
    if (!stop_) stop_.emplace();
    return stop_->get_token();
}

bool session::sleep_awaiter::await_suspend(std::coroutine_handle<> h) {
    outcome = std::make_shared<std::error_code>();
    auto fired = std::make_shared<bool>(false);
    self->after(delay, [h, fired] {
        if (std::exchange(*fired, true)) return;
        h.resume();
    });
    self->at_cancel(fired, [h, fired, out = outcome] {
        if (std::exchange(*fired, true)) return;
        *out = make_error_code(errc::canceled);
        h.resume();
    });
    return true;
}

session::session() : anchor_(std::make_shared<std::atomic<std::uint64_t>>(1)) {}

session::~session() {
    reset_context();
}

void session::send(send_flags flags, send_callback done) {
    if (!stream_) {
        if (done) done({make_error_code(errc::closed), 0});
        return;
    }
    stream_->send(*this, flags, std::move(done));
}

void session::upgrade(upgrade_callback on_upgraded) {
    async_ = true;
    if (!stream_) {
        on_upgraded(make_error_code(errc::closed), {});
        return;
    }
    stream_->upgrade(*this, std::move(on_upgraded));
}

void session::read_body(body_callback on_piece) {
    async_ = true;
    if (!stream_) {
        on_piece(make_error_code(errc::closed), {}, true);
        return;
    }
    stream_->read_body(*this, std::move(on_piece));
}

void session::post(std::function<void()> task) {
    if (!stream_) return;
    async_ = true;
    // The token keeps the task from touching a session whose request has ended.
    stream_->loop().defer([token = token(), task = std::move(task)] {
        if (!token.expired()) task();
    });
}

void session::after(std::chrono::milliseconds delay, std::function<void()> task, bool repeat) {
    if (!stream_) return;
    async_ = true;
    detail::event_loop& loop = stream_->loop();
    const std::int64_t ms = std::max<std::int64_t>(0, delay.count());
    auto timer = std::make_unique<detail::session_timer>(
        loop, std::move(task), repeat ? std::max<std::int64_t>(ms, 1) : 0);
    loop.timers().arm(timer->t, loop.now() + ms);
    // Fired one-shot timers go now, so a long request with many timers stays small.
    std::erase_if(timers_, [](const auto& t) { return t->period == 0 && !t->t.armed(); });
    timers_.push_back(std::move(timer));
}

} // namespace wharf
