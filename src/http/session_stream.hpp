// SPDX-License-Identifier: MIT
// What a session needs from the protocol carrying it (an HTTP/1 connection now, an HTTP/2
// stream later): sending the response, reading the request body, and its loop.
#pragma once

#include <memory>

#include "loop/event_loop.hpp"
#include "loop/timer_heap.hpp"
#include "wharf/session.hpp"

namespace wharf::detail {

class session_stream {
  public:
    virtual void send(session& s, send_flags flags, send_callback done) = 0;
    virtual void read_body(session& s, body_callback on_piece) = 0;
    virtual void upgrade(session& s, upgrade_callback on_upgraded) = 0;
    virtual event_loop& loop() noexcept = 0;
    /// The handler (or a resume function, or a coroutine) has returned: send the response if
    /// it did not and left no work behind.
    virtual void handler_returned(session& s) = 0;
    /// A handler failed after its response had started: the connection must be cut.
    virtual void abort_response(session& s) = 0;

  protected:
    ~session_stream() = default;
};

/// A session-owned timer (session::after).
struct session_timer {
    session_timer(event_loop& l, std::function<void()> fn, std::int64_t every)
        : loop(l), task(std::make_shared<std::function<void()>>(std::move(fn))), period(every),
          t([](void* self) { static_cast<session_timer*>(self)->fire(); }, this) {}
    ~session_timer() { loop.timers().disarm(t); }
    void fire() {
        if (period > 0) loop.timers().arm(t, loop.now() + period);
        // The task may end the request, which destroys this timer: keep the callable (and
        // its captures) alive on the stack until it returns, and touch nothing after.
        const auto keep = task;
        (*keep)();
    }
    event_loop& loop;
    std::shared_ptr<std::function<void()>> task;
    std::int64_t period;
    timer t;
};

} // namespace wharf::detail
