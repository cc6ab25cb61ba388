// SPDX-License-Identifier: MIT
// The "Date: ...\r\n" response header line (RFC 9110 §6.6.1), formatted once per wall-clock
// second of the loop that asks for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/ranges.hpp"

namespace wharf::detail {

class date_line {
  public:
    /// The line for `wall_seconds` (UNIX time); valid until the next call with another second.
    std::string_view at(std::int64_t wall_seconds) {
        if (wall_seconds != second_) {
            second_ = wall_seconds;
            const std::chrono::system_clock::time_point t{std::chrono::seconds(wall_seconds)};
            line_.assign("Date: ").append(http_date(t)).append("\r\n");
        }
        return line_;
    }

  private:
    std::int64_t second_ = -1;
    std::string line_;
};

} // namespace wharf::detail
