// SPDX-License-Identifier: MIT
// Access-log lines in Common or Combined Log Format, buffered per worker and written with one
// write() per loop iteration (O_APPEND keeps workers' lines whole).
#pragma once

#include <string>

#include "wharf/server.hpp"

namespace wharf::detail {

class access_logger {
  public:
    access_logger(int fd, log_format format,
                  const std::function<void(const access_record&)>* callback) noexcept
        : fd_(fd), format_(format), callback_(callback) {}

    bool enabled() const noexcept { return fd_ >= 0 || (callback_ && *callback_); }
    void log(const access_record& r);
    void flush() noexcept;

  private:
    int fd_;
    log_format format_;
    const std::function<void(const access_record&)>* callback_;
    std::string buffer_;
    std::int64_t cached_second_ = -1;
    char cached_time_[40];
};

/// Formats one record as a log line (without the newline); exposed for tests.
void format_access_line(std::string& out, const access_record& r, log_format format,
                        std::string_view time_text);

} // namespace wharf::detail
