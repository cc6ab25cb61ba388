// SPDX-License-Identifier: MIT
#include "wharf/thread_pool.hpp"

namespace wharf {

thread_pool::thread_pool(std::size_t threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
        threads_.emplace_back([this] { work(); });
    scheduler_ = std::thread([this] { schedule(); });
}

thread_pool::~thread_pool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    timer_.notify_all();
    scheduler_.join();
    for (auto& t : threads_)
        t.join();
}

void thread_pool::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push(std::move(task));
    }
    ready_.notify_one();
}

void thread_pool::post_after(std::chrono::milliseconds delay, std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        delayed_.push({clock::now() + delay, order_++, std::move(task)});
    }
    timer_.notify_one();
}

void thread_pool::work() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return; // stopping, and nothing left
            task = std::move(tasks_.front());
            tasks_.pop();
        }
        task();
    }
}

// Moves due delayed tasks to the queue; one thread sleeps until the earliest is due.
void thread_pool::schedule() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (delayed_.empty()) {
            timer_.wait(lock);
            continue;
        }
        const auto due = delayed_.top().due;
        if (clock::now() < due) {
            timer_.wait_until(lock, due);
            continue;
        }
        tasks_.push(std::move(const_cast<delayed&>(delayed_.top()).task));
        delayed_.pop();
        ready_.notify_one();
    }
}

} // namespace wharf
