// SPDX-License-Identifier: MIT
// Conditional requests and byte ranges on a complete response (RFC 9110 §13, §14): the
// library's side of response::process_ranges (S23). Protocol-neutral and socket-free.
#pragma once

#include <cstddef>

#include "wharf/request.hpp"
#include "wharf/response.hpp"

namespace wharf::detail {

struct range_limits {
    std::size_t max_ranges = 16; ///< more ranges than this (after coalescing): the whole body
};

/// Rewrites `res` (which holds the full 200 content and asked for process_ranges) for `req`:
/// adds ETag / Last-Modified / Accept-Ranges, answers If-Match / If-Unmodified-Since (412),
/// If-None-Match / If-Modified-Since (304, no body), and Range with If-Range (206 with
/// Content-Range, multipart/byteranges for several ranges, 416 with "bytes */len").
void apply_conditional_and_ranges(const request& req, response& res,
                                  const range_limits& limits = {});

} // namespace wharf::detail
