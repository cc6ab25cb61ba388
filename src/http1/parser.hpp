// SPDX-License-Identifier: MIT
// The HTTP/1.1 request-head parser (RFC 9112 §2-5). It never copies: the method, target and
// header fields it returns are views into the caller's buffer. It touches no socket.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "wharf/headers.hpp"

namespace wharf::http1 {

struct head_limits {
    std::size_t max_request_line = 8 * 1024;  ///< longer request line: 414
    std::size_t max_header_bytes = 32 * 1024; ///< larger head: 431
};

struct request_head {
    std::string_view method;
    std::string_view target;
    int major = 1;
    int minor = 1;
    std::size_t num_headers = 0; ///< fields stored in the caller's span
};

/// The outcome of one parse call.
struct parse_result {
    enum kind_t { complete, incomplete, error } kind;
    std::size_t consumed = 0; ///< complete: bytes of the head, including the blank line
    int status = 0;           ///< error: the status to answer with (400, 414, 431, 505)
    const char* reason = "";  ///< error: a short static explanation, for logs and bodies
};

/// Finds where a request head ends: the offset just past the first empty line, or 0 when the
/// buffer holds no complete head yet. `from` lets a caller skip bytes it already scanned.
/// Bare LF line ends count, so that the parser sees (and rejects) them at once.
std::size_t find_head_end(const char* buf, std::size_t len, std::size_t from) noexcept;

/// Parses a request head from `buf[0, len)`. Header fields go into `fields` (its size is the
/// field limit: more is 431). Leading empty lines are skipped (RFC 9112 §2.2). Strict: bare
/// CR or LF, obs-fold, whitespace before a colon, non-token names, control characters in
/// values, target bytes outside the URI grammar (RFC 3986) or '#' ('[' and ']' pass anywhere,
/// see chars::target), a '%' without two HEXDIGs after it, and malformed versions are errors
/// (400); a major version other than 1 is 505.
parse_result parse_request_head(const char* buf, std::size_t len, request_head& head,
                                std::span<header_field> fields, const head_limits& limits) noexcept;

/// Parses header fields (or chunked trailers) up to and including the empty line that ends
/// them, with the same rules as parse_request_head. `consumed` covers the empty line.
parse_result parse_fields(const char* buf, std::size_t len, std::span<header_field> fields,
                          std::size_t& num_fields) noexcept;

} // namespace wharf::http1
