// SPDX-License-Identifier: MIT
// The HTTP/1.1 response-head serializer: status line, the server's own fields (Date, Server,
// Content-Length, Connection) and the handler's fields, into a caller-provided buffer. It
// touches no socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wharf/response.hpp"

namespace wharf::http1 {

struct head_options {
    std::string_view date_line;   ///< "Date: ...\r\n" (from the loop's cache), or empty
    std::string_view server_name; ///< Server header value, or empty for none
    bool keep_alive = true;       ///< false: "Connection: close"
    bool http10 = false;          ///< the request was HTTP/1.0 (keep-alive must be announced)
    bool content_length = true;   ///< send Content-Length (false for 1xx/204/304)
    bool chunked = false;         ///< send Transfer-Encoding: chunked (instead of a length)
    bool upgrade = false;         ///< the connection switches protocols: "Connection: Upgrade"
    std::uint64_t body_length = 0;
};

/// An upper bound on the bytes write_head() will produce.
std::size_t head_size_bound(const response& res, const head_options& opt) noexcept;

/// Writes the head to `out` (at least head_size_bound() bytes); returns the end.
char* write_head(char* out, const response& res, const head_options& opt) noexcept;

/// An upper bound on the bytes write_last_chunk() will produce.
std::size_t last_chunk_size_bound(const field_list& trailers) noexcept;
/// Writes the last chunk of a chunked body with `trailers` (RFC 9112 §7.1.2); returns the end.
/// Fields that only framing may set (Content-Length, Transfer-Encoding, Connection) are left
/// out.
char* write_last_chunk(char* out, const field_list& trailers) noexcept;

} // namespace wharf::http1
