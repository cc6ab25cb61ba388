// SPDX-License-Identifier: MIT
#include "loop/timer_heap.hpp"

#include <algorithm>
#include <limits>

namespace wharf::detail {

void timer_heap::arm(timer& t, std::int64_t deadline) {
    if (t.armed()) {
        if (deadline >= t.queued_) {
            t.wanted_ = deadline; // lazy: re-queued when the current slot comes due
            return;
        }
        t.queued_ = t.wanted_ = deadline;
        sift_up(t.index_);
        return;
    }
    t.queued_ = t.wanted_ = deadline;
    heap_.push_back(&t);
    t.index_ = heap_.size() - 1;
    sift_up(t.index_);
}

void timer_heap::disarm(timer& t) noexcept {
    if (t.armed()) erase_at(t.index_);
}

void timer_heap::erase_at(std::size_t i) noexcept {
    timer* gone = heap_[i];
    gone->index_ = timer::npos;
    timer* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    if (i > 0 && heap_[(i - 1) / 2]->queued_ > last->queued_) {
        sift_up(i);
    } else {
        sift_down(i);
    }
}

void timer_heap::expire(std::int64_t now) {
    while (!heap_.empty() && heap_[0]->queued_ <= now) {
        timer* t = heap_[0];
        if (t->wanted_ > now) {
            t->queued_ = t->wanted_;
            sift_down(0);
            continue;
        }
        erase_at(0);
        t->cb_(t->owner_);
    }
}

int timer_heap::wait_ms(std::int64_t now) const noexcept {
    if (heap_.empty()) return -1;
    const std::int64_t d = heap_[0]->queued_ - now;
    if (d <= 0) return 0;
    return static_cast<int>(std::min<std::int64_t>(d, std::numeric_limits<int>::max()));
}

void timer_heap::sift_up(std::size_t i) noexcept {
    timer* t = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (heap_[parent]->queued_ <= t->queued_) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, t);
}

void timer_heap::sift_down(std::size_t i) noexcept {
    timer* t = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1]->queued_ < heap_[child]->queued_) ++child;
        if (heap_[child]->queued_ >= t->queued_) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, t);
}

} // namespace wharf::detail
