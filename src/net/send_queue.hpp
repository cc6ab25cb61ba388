// SPDX-License-Identifier: MIT
// Bytes waiting to go out on a connection, in order: small pieces coalesced into a copy
// buffer, large bodies queued by ownership without a copy. flush() turns the queue into as few
// writev calls as the kernel accepts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "net/transport.hpp"

namespace wharf::detail {

class send_queue {
  public:
    /// Bodies at least this large are queued by ownership rather than copied.
    static constexpr std::size_t copy_limit = 16 * 1024;

    /// Returns room for `n` bytes at the end of the queue; commit() what was written.
    char* prepare(std::size_t n);
    void commit(std::size_t n) noexcept {
        tail().resize(tail_used_ + n);
        tail_used_ += n;
        size_ += n;
    }
    void append(std::string_view bytes);
    /// Queues `bytes` without copying them.
    void append_owned(std::string&& bytes);

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    struct flush_result {
        std::size_t written = 0;
        int error = 0;        ///< errno of a failed write (never EAGAIN)
        bool blocked = false; ///< the socket took less than everything
    };
    /// Writes as much as the transport takes now.
    flush_result flush(transport& t, bool more_follows = false);
    void clear() noexcept;

  private:
    struct segment {
        std::string bytes;
        std::size_t sent = 0;
        bool copy_target = true; // later appends may go into it
    };
    std::string& tail() noexcept { return segments_.back().bytes; }

    std::vector<segment> segments_;
    std::size_t head_ = 0;      // first segment with unsent bytes
    std::size_t tail_used_ = 0; // committed bytes of the tail copy segment
    std::size_t size_ = 0;
};

} // namespace wharf::detail
