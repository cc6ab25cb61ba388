// SPDX-License-Identifier: MIT
#include "loop/event_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <sys/epoll.h>
#include <unistd.h>

#include "wharf/error.hpp"

namespace wharf::detail {
namespace {

constexpr int max_events = 256;

std::error_code last_error() noexcept {
    return {errno, std::system_category()};
}

} // namespace

event_loop::event_loop() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(last_error(), "event loop");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr; // the wake-up fd is the only watcher-less registration
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, mailbox_->wake_fd(), &ev) != 0) {
        const auto ec = last_error();
        close(epoll_fd_);
        throw std::system_error(ec, "event loop");
    }
    update_clock();
}

event_loop::~event_loop() {
    mailbox_->close();
    close(epoll_fd_);
}

std::error_code event_loop::add(int fd, std::uint32_t events, io_watcher* w) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = w;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return last_error();
    return {};
}

std::error_code event_loop::modify(int fd, std::uint32_t events, io_watcher* w) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = w;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) return last_error();
    return {};
}

void event_loop::remove(int fd) noexcept {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void event_loop::schedule_read(io_watcher* w) {
    if (std::find(scheduled_.begin(), scheduled_.end(), w) == scheduled_.end())
        scheduled_.push_back(w);
}

void event_loop::unschedule(io_watcher* w) noexcept {
    std::erase(scheduled_, w);
}

void event_loop::drain_posted() {
    for (auto& task : mailbox_->take())
        task();
}

void event_loop::update_clock() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ = static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    wall_seconds_ = ts.tv_sec;
}

void event_loop::run() {
    running_ = true;
    mailbox_->set_owner(std::this_thread::get_id());
    update_clock();
    while (running_)
        iterate(-1);
}

void event_loop::run_once(int max_wait_ms) {
    mailbox_->set_owner(std::this_thread::get_id());
    update_clock();
    iterate(max_wait_ms);
}

void event_loop::iterate(int max_wait_ms) {
    epoll_event events[max_events];
    // The clock was read after the last wait: the work since then is far below the timers'
    // millisecond resolution, so it is not read again here.
    int timeout = scheduled_.empty() ? timers_.wait_ms(now_) : 0;
    if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms)) timeout = max_wait_ms;
    const int n = epoll_wait(epoll_fd_, events, max_events, timeout);
    if (n < 0 && errno != EINTR) throw std::system_error(last_error(), "epoll_wait");
    update_clock();
    bool woke = false;
    for (int i = 0; i < n; ++i) {
        auto* w = static_cast<io_watcher*>(events[i].data.ptr);
        if (w) {
            w->on_io(events[i].events);
        } else {
            woke = true;
        }
    }
    if (!scheduled_.empty()) {
        due_.swap(scheduled_); // both keep their capacity: no allocation per iteration
        for (io_watcher* w : due_)
            w->on_io(EPOLLIN);
        due_.clear();
    }
    if (woke) drain_posted();
    timers_.expire(now_);
    for (auto& hook : end_hooks_)
        hook();
    run_deferred();
}

void event_loop::run_deferred() {
    while (!deferred_.empty()) {
        std::vector<std::function<void()>> tasks;
        tasks.swap(deferred_);
        for (auto& task : tasks)
            task();
    }
}

} // namespace wharf::detail
