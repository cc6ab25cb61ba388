// SPDX-License-Identifier: MIT
// What an upgraded_stream drives: a client's byte stream after the upgrade, whichever carries
// it (a whole HTTP/1 connection, or one HTTP/2 stream after an extended CONNECT). The base
// keeps what every carrier does alike: the alarm, the idle and write deadlines' settings, the
// close callback and the shutdown stop token.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string_view>
#include <system_error>

#include "loop/event_loop.hpp"
#include "loop/timer_heap.hpp"
#include "wharf/address.hpp"
#include "wharf/error.hpp"
#include "wharf/upgrade.hpp"

namespace wharf::detail {

class byte_stream;

/// What an upgraded_stream points at: the carrier while it is open, null after. Handles on
/// other threads look at `conn` to refuse posts early, hence atomic.
struct upgraded_state {
    std::atomic<byte_stream*> conn = nullptr;
    std::shared_ptr<mailbox> loop;
};

class byte_stream {
  public:
    explicit byte_stream(event_loop& loop, std::int64_t write_timeout_ms);
    virtual ~byte_stream();
    byte_stream(const byte_stream&) = delete;
    byte_stream& operator=(const byte_stream&) = delete;

    // upgraded_stream's operations; completions run later on the loop, never inside the call.
    virtual void write(std::span<const std::string_view> buffers, bool all, io_callback done) = 0;
    virtual void read(std::span<char> buffer, io_callback done) = 0;
    virtual void cancel() = 0;
    virtual void close_gracefully() = 0;
    virtual void abort() = 0;
    virtual const address& peer() const noexcept = 0;
    virtual const address& local() const noexcept = 0;
    virtual const tls_info* tls() const noexcept = 0;

    void set_idle_timeout(std::int64_t ms);
    void set_write_timeout(std::int64_t ms);
    void set_alarm(std::int64_t delay_ms, std::function<void()> task);
    void on_close(std::function<void(std::error_code)> callback) {
        on_close_ = std::move(callback);
    }
    std::stop_token stop_token() const noexcept { return stop_.get_token(); }
    const std::shared_ptr<upgraded_state>& state() const noexcept { return state_; }

  protected:
    /// Completes `done` with `e` and no bytes, later on the loop (a refused read or write).
    void refuse_later(io_callback done, errc e) {
        loop_.defer([done = std::move(done), e] { done(make_error_code(e), 0); });
    }
    /// Re-arms the carrier's timer for its earliest deadline (see arm_earliest).
    virtual void refresh_timer() = 0;
    /// Arms `t` for the earliest of the alarm, the idle deadline, while `writing` the write
    /// deadline, and `linger_until` (0: not lingering); disarms it when there is none.
    void arm_earliest(timer& t, bool writing, std::int64_t linger_until);
    /// Runs the alarm (later in this iteration) when it is due at `now`.
    void run_alarm_if_due(std::int64_t now);
    bool write_timed_out(bool writing, std::int64_t now) const noexcept {
        return writing && write_timeout_ > 0 && now >= write_progress_at_ + write_timeout_;
    }
    bool idle_timed_out(std::int64_t now) const noexcept {
        return idle_timeout_ > 0 && now >= last_activity_ + idle_timeout_;
    }
    /// The stream ended (`why`): operations report closed from now on, the alarm is dropped,
    /// the close callback runs later, and the stop token is requested.
    void detach(std::error_code why);

    event_loop& loop_;
    std::shared_ptr<upgraded_state> state_;
    std::stop_source stop_;
    std::int64_t idle_timeout_ = 0;
    std::int64_t write_timeout_ = 0;
    std::int64_t last_activity_ = 0;
    std::int64_t write_progress_at_ = 0;

  private:
    std::function<void()> alarm_;
    std::int64_t alarm_at_ = 0;
    std::function<void(std::error_code)> on_close_;
};

/// Library code's way to the loop of a stream (a WebSocket topic posts to it).
struct stream_access {
    static std::shared_ptr<mailbox> loop(const upgraded_stream& s) {
        return s.state_ ? s.state_->loop : nullptr;
    }
};

} // namespace wharf::detail
