// SPDX-License-Identifier: MIT
#include "wharf/session.hpp"

#include <future>

#include "http/session_stream.hpp"
#include "wharf/error.hpp"

namespace wharf {

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

send_result session::send_blocking(std::string body, send_flags flags) {
    if (!stream_) return {make_error_code(errc::closed), 0};
    detail::event_loop& loop = stream_->loop();
    if (loop.on_loop_thread()) return {make_error_code(errc::invalid_argument), 0};
    auto done = std::make_shared<std::promise<send_result>>();
    std::future<send_result> result = done->get_future();
    loop.post([this, token = token(), done, flags, body = std::move(body)]() mutable {
        if (token.expired()) {
            done->set_value({make_error_code(errc::closed), 0});
            return;
        }
        response().append(body);
        send(flags, [done](send_result r) { done->set_value(r); });
    });
    return result.get();
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
    timers_.push_back(std::move(timer));
}

} // namespace wharf
