// SPDX-License-Identifier: MIT
// A transport over memory for unit tests: reads come from a script of inputs, writes land in a
// string, and the test decides how much each write may take (a slow peer) or when it fails.
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <deque>
#include <string>

#include "net/transport.hpp"

namespace wharf_test {

class memory_transport final : public wharf::detail::transport {
  public:
    std::deque<std::string> input;       ///< each read returns (part of) the front; empty: EAGAIN
    bool eof = false;                    ///< after the input: reads return 0
    std::string output;                  ///< everything written so far
    std::size_t write_budget = SIZE_MAX; ///< bytes writes may still take; 0: EAGAIN
    int write_error = 0;                 ///< when set, writes fail with it
    bool shut = false;

    ssize_t read(char* buf, std::size_t len) noexcept override {
        if (input.empty()) return eof ? 0 : -EAGAIN;
        std::string& front = input.front();
        const std::size_t n = std::min(len, front.size());
        front.copy(buf, n);
        front.erase(0, n);
        if (front.empty()) input.pop_front();
        return static_cast<ssize_t>(n);
    }
    ssize_t writev(const iovec* iov, int count, bool) noexcept override {
        if (write_error) return -write_error;
        std::size_t total = 0;
        for (int i = 0; i < count && write_budget > 0; ++i) {
            const std::size_t n = std::min(iov[i].iov_len, write_budget);
            output.append(static_cast<const char*>(iov[i].iov_base), n);
            write_budget -= n;
            total += n;
        }
        return total == 0 && count > 0 ? -EAGAIN : static_cast<ssize_t>(total);
    }
    void shutdown_write() noexcept override { shut = true; }
    int fd() const noexcept override { return -1; }
};

} // namespace wharf_test
