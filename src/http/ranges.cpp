// SPDX-License-Identifier: MIT
#include "http/ranges.hpp"

namespace wharf::detail {

void apply_conditional_and_ranges(const request&, response& res, const range_limits&) {
    // Placeholder until the full implementation lands: advertise nothing, change nothing.
    (void)res;
}

} // namespace wharf::detail
