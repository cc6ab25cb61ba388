// SPDX-License-Identifier: MIT
// Timers in a binary min-heap keyed by deadline (monotonic milliseconds).
//
// Pushing a deadline later is free: the timer keeps its place and, when that place comes due,
// is re-queued at the later deadline. Connections push their deadline on every request, so
// this keeps the hot path free of heap operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wharf::detail {

class timer_heap;

class timer {
  public:
    using callback = void (*)(void* owner);

    timer(callback cb, void* owner) noexcept : cb_(cb), owner_(owner) {}
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;

    bool armed() const noexcept { return index_ != npos; }
    std::int64_t deadline() const noexcept { return wanted_; }

  private:
    friend class timer_heap;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    callback cb_;
    void* owner_;
    std::size_t index_ = npos;
    std::int64_t queued_ = 0; // deadline of the heap slot
    std::int64_t wanted_ = 0; // deadline the owner asked for (>= queued_ when armed)
};

class timer_heap {
  public:
    /// Arms (or re-arms) `t` to fire at `deadline`.
    void arm(timer& t, std::int64_t deadline);
    /// Disarms `t`; a no-op when it is not armed.
    void disarm(timer& t) noexcept;
    /// Fires every timer due at `now`; callbacks may arm or disarm any timer.
    void expire(std::int64_t now);
    /// Milliseconds until the earliest slot comes due (0 if overdue), or -1 when empty.
    int wait_ms(std::int64_t now) const noexcept;
    std::size_t size() const noexcept { return heap_.size(); }

  private:
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void place(std::size_t i, timer* t) noexcept {
        heap_[i] = t;
        t->index_ = i;
    }
    void erase_at(std::size_t i) noexcept;

    std::vector<timer*> heap_;
};

} // namespace wharf::detail
