// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace wharf {

/// A small pool of threads for work that must not run on an event loop (blocking calls,
/// computation), plus delayed tasks. Tasks run in submission order per thread; the destructor
/// finishes queued tasks (delayed ones that are not yet due are dropped) and joins.
class thread_pool {
  public:
    explicit thread_pool(std::size_t threads = std::max(2u, std::thread::hardware_concurrency()));
    ~thread_pool();
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Runs `task` on a pool thread. Safe from any thread.
    void post(std::function<void()> task);
    /// Runs `task` on a pool thread once `delay` has passed. Safe from any thread.
    void post_after(std::chrono::milliseconds delay, std::function<void()> task);

  private:
    using clock = std::chrono::steady_clock;
    struct delayed {
        clock::time_point due;
        std::uint64_t order;
        std::function<void()> task;
        bool operator>(const delayed& o) const {
            return due != o.due ? due > o.due : order > o.order;
        }
    };
    void work();
    void schedule();

    std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable timer_;
    std::queue<std::function<void()>> tasks_;
    std::priority_queue<delayed, std::vector<delayed>, std::greater<>> delayed_;
    std::uint64_t order_ = 0;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
    std::thread scheduler_;
};

} // namespace wharf
