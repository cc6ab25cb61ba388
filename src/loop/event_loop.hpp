// SPDX-License-Identifier: MIT
// One epoll event loop per worker thread: fd readiness, timers, cross-thread posts (eventfd)
// and deferred work that runs at the end of an iteration. Only `post` and `wake` may be called
// from other threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "loop/mailbox.hpp"
#include "loop/timer_heap.hpp"

namespace wharf::detail {

/// Something registered for fd readiness. The loop never owns or deletes a watcher.
class io_watcher {
  public:
    virtual void on_io(std::uint32_t events) = 0;

  protected:
    ~io_watcher() = default;
};

class event_loop {
  public:
    event_loop();
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    [[nodiscard]] std::error_code add(int fd, std::uint32_t events, io_watcher* w) noexcept;
    [[nodiscard]] std::error_code modify(int fd, std::uint32_t events, io_watcher* w) noexcept;
    void remove(int fd) noexcept;

    /// True on the thread that runs the loop.
    bool on_loop_thread() const noexcept { return mailbox_->on_loop_thread(); }

    /// Runs iterations until quit() is called on the loop's thread.
    void run();
    void quit() noexcept { running_ = false; }
    /// Runs one iteration, waiting at most `max_wait_ms` for readiness (-1: until the next
    /// timer); for callers that drive the loop themselves (tests).
    void run_once(int max_wait_ms);

    /// Queues `task` to run on the loop's thread; safe from any thread.
    void post(std::function<void()> task) { mailbox_->post(std::move(task)); }
    /// The loop's mailbox, for whatever may post after the loop is gone.
    const std::shared_ptr<mailbox>& shared_mailbox() const noexcept { return mailbox_; }

    /// Calls `w->on_io(EPOLLIN)` early in the next iteration (used to resume reading that was
    /// cut short for fairness, since edge-triggered epoll will not report it again).
    void schedule_read(io_watcher* w);
    /// Drops `w` from the scheduled list (call before a watcher dies).
    void unschedule(io_watcher* w) noexcept;

    /// Runs `task` at the end of the current iteration, after all callbacks (deferred frees).
    void defer(std::function<void()> task) { deferred_.push_back(std::move(task)); }
    /// Runs the deferred tasks now (for teardown after the loop has stopped).
    void run_deferred();

    /// Monotonic milliseconds, read once per iteration.
    std::int64_t now() const noexcept { return now_; }
    /// The current wall-clock second (UNIX time), refreshed once per iteration.
    std::int64_t wall_seconds() const noexcept { return wall_seconds_; }

    timer_heap& timers() noexcept { return timers_; }

    /// Called at the end of every iteration that dispatched anything (e.g. log flushes).
    void on_iteration_end(std::function<void()> hook) { end_hooks_.push_back(std::move(hook)); }

  private:
    void update_clock() noexcept;
    void iterate(int max_wait_ms);
    void drain_posted();

    int epoll_fd_ = -1;
    std::shared_ptr<mailbox> mailbox_ = std::make_shared<mailbox>();
    bool running_ = false;
    std::int64_t now_ = 0;
    std::int64_t wall_seconds_ = -1;
    timer_heap timers_;

    std::vector<io_watcher*> scheduled_;
    std::vector<io_watcher*> due_; // the scheduled reads being run
    std::vector<std::function<void()>> deferred_;
    std::vector<std::function<void()>> end_hooks_;
};

} // namespace wharf::detail
