// SPDX-License-Identifier: MIT
// A count that all workers of a server draw from (connections, buffered body bytes): taking
// never overshoots the maximum, whichever thread asks.
#pragma once

#include <atomic>
#include <cstddef>

namespace wharf::detail {

class shared_limit {
  public:
    explicit shared_limit(std::size_t max = 0) noexcept : max_(max) {}
    shared_limit(const shared_limit&) = delete;
    shared_limit& operator=(const shared_limit&) = delete;

    void set_max(std::size_t max) noexcept { max_ = max; }
    std::size_t max() const noexcept { return max_; }
    std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

    /// Takes `n` if that stays within the maximum; false (nothing taken) otherwise.
    bool try_take(std::size_t n) noexcept {
        std::size_t cur = used_.load(std::memory_order_relaxed);
        do {
            if (cur > max_ || n > max_ - cur) return false;
        } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
        return true;
    }
    /// Gives `n` back; true when the limit was reached before (someone may be waiting).
    bool give(std::size_t n) noexcept {
        return used_.fetch_sub(n, std::memory_order_relaxed) >= max_;
    }

  private:
    std::size_t max_;
    std::atomic<std::size_t> used_{0};
};

} // namespace wharf::detail
