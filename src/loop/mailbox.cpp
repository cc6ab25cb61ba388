// SPDX-License-Identifier: MIT
#include "loop/mailbox.hpp"

#include <cerrno>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace wharf::detail {

mailbox::mailbox() : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_fd_ < 0) throw std::system_error(errno, std::system_category(), "eventfd");
}

mailbox::~mailbox() {
    ::close(wake_fd_);
}

bool mailbox::post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (closed_) return false; // `task` is destroyed by our caller's frame, outside the lock
    tasks_.push_back(std::move(task));
    if (!wake_pending_) {
        wake_pending_ = true;
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
    return true;
}

std::vector<std::function<void()>> mailbox::take() {
    std::uint64_t count;
    [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
    std::vector<std::function<void()>> tasks;
    std::lock_guard lock(mutex_);
    tasks.swap(tasks_);
    wake_pending_ = false;
    return tasks;
}

void mailbox::close() {
    std::vector<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        dropped.swap(tasks_);
    }
    // Destroyed here, outside the lock: a task's captures may post again (and be refused).
}

} // namespace wharf::detail
