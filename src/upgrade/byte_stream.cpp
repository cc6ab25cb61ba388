// SPDX-License-Identifier: MIT
#include "upgrade/byte_stream.hpp"

#include <algorithm>
#include <utility>

namespace wharf::detail {

byte_stream::byte_stream(event_loop& loop, std::int64_t write_timeout_ms)
    : loop_(loop), state_(std::make_shared<upgraded_state>()), write_timeout_(write_timeout_ms),
      last_activity_(loop.now()) {
    state_->conn = this;
    state_->loop = loop.shared_mailbox();
}

byte_stream::~byte_stream() {
    state_->conn = nullptr;
}

void byte_stream::set_idle_timeout(std::int64_t ms) {
    idle_timeout_ = std::max<std::int64_t>(0, ms);
    refresh_timer();
}

void byte_stream::set_write_timeout(std::int64_t ms) {
    write_timeout_ = std::max<std::int64_t>(0, ms);
    refresh_timer();
}

void byte_stream::set_alarm(std::int64_t delay_ms, std::function<void()> task) {
    if (!state_->conn) return;
    if (alarm_) loop_.defer([dropped = std::move(alarm_)] {}); // not destroyed inside a call
    alarm_ = nullptr;
    alarm_at_ = 0;
    if (delay_ms > 0 && task) {
        alarm_ = std::move(task);
        alarm_at_ = loop_.now() + delay_ms;
    }
    refresh_timer();
}

void byte_stream::arm_earliest(timer& t, bool writing, std::int64_t linger_until) {
    std::int64_t deadline = 0;
    const auto earliest = [&](std::int64_t d) {
        if (deadline == 0 || d < deadline) deadline = d;
    };
    if (alarm_at_) earliest(alarm_at_);
    if (idle_timeout_ > 0) earliest(last_activity_ + idle_timeout_);
    if (writing && write_timeout_ > 0) earliest(write_progress_at_ + write_timeout_);
    if (linger_until) earliest(linger_until);
    if (deadline)
        loop_.timers().arm(t, deadline);
    else
        loop_.timers().disarm(t);
}

void byte_stream::run_alarm_if_due(std::int64_t now) {
    if (!alarm_at_ || now < alarm_at_) return;
    alarm_at_ = 0;
    // Later in this iteration, as every completion runs; not if the stream closes first.
    loop_.defer([state = state_, task = std::exchange(alarm_, nullptr)] {
        if (state->conn) task();
    });
}

void byte_stream::detach(std::error_code why) {
    state_->conn = nullptr;
    alarm_at_ = 0;
    if (alarm_) loop_.defer([dropped = std::move(alarm_)] {});
    if (on_close_) loop_.defer([done = std::move(on_close_), why] { done(why); });
    stop_.request_stop();
}

} // namespace wharf::detail
