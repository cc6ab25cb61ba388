// SPDX-License-Identifier: MIT
// Conditional requests and byte ranges on a complete response (RFC 9110 §13, §14): the
// library's side of response::process_ranges (S23). Protocol-neutral and socket-free.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
///
/// Abuse policy: when the satisfiable ranges add up to more bytes than the body holds, or more
/// than `limits.max_ranges` ranges remain after coalescing, the Range header is ignored and
/// the full body is sent with 200 (RFC 9110 §14.2 lets a server ignore Range).
/// Range is honoured for GET only (HEAD gets the 200 head); a body with a streamed source
/// piece, or of unknown size, is never sliced.
void apply_conditional_and_ranges(const request& req, response& res,
                                  const range_limits& limits = {});

// ---- helpers, exposed for the unit tests ----------------------------------------------------

/// One satisfiable byte range, both ends inclusive.
struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool operator==(const byte_range&) const = default;
};

struct range_request {
    enum kind_t : std::uint8_t {
        ignore,        ///< not a bytes range, or malformed: serve the whole body
        unsatisfiable, ///< 416
        ranges,        ///< `list` holds the (sorted, coalesced) ranges
    } kind = ignore;
    std::vector<byte_range> list;
    /// Sum of the satisfiable ranges' lengths before coalescing (for the abuse check).
    std::uint64_t requested_bytes = 0;
};

/// Parses a Range header value for a body of `size` bytes (RFC 9110 §14.1.2).
range_request parse_range(std::string_view value, std::uint64_t size);

/// Formats `t` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string http_date(std::chrono::system_clock::time_point t);
/// Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime form); nullopt when invalid.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);

/// True when the entity-tag list `list` (an If-Match / If-None-Match value, "*" included)
/// matches `etag`, with strong or weak comparison (RFC 9110 §8.8.3.2).
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

} // namespace wharf::detail
