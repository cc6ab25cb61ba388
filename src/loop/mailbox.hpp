// SPDX-License-Identifier: MIT
// The cross-thread door of an event loop: tasks posted from any thread, run on the loop's.
// Shared, so a handle, a body source or a pool thread that outlives the loop posts into a
// closed mailbox (and is told so) rather than into freed memory.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wharf::detail {

class mailbox {
  public:
    mailbox();
    ~mailbox();
    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    /// Queues `task` for the loop's thread and wakes the loop. False (and `task` dropped)
    /// once the loop has gone.
    bool post(std::function<void()> task);

    /// The eventfd the loop watches; readable when tasks wait.
    int wake_fd() const noexcept { return wake_fd_; }
    /// Takes the waiting tasks (on the loop's thread).
    std::vector<std::function<void()>> take();
    /// Refuses all later posts and drops the waiting tasks (the loop is going away).
    void close();

    /// True on the thread that runs the loop.
    bool on_loop_thread() const noexcept {
        return std::this_thread::get_id() == owner_.load(std::memory_order_relaxed);
    }
    void set_owner(std::thread::id id) noexcept { owner_.store(id, std::memory_order_relaxed); }

  private:
    std::mutex mutex_;
    std::vector<std::function<void()>> tasks_;
    bool wake_pending_ = false; // guarded by mutex_
    bool closed_ = false;       // guarded by mutex_
    int wake_fd_ = -1;
    std::atomic<std::thread::id> owner_{};
};

} // namespace wharf::detail
