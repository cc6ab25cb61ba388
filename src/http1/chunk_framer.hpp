// SPDX-License-Identifier: MIT
// HTTP/1.1 chunked transfer coding on the way out (RFC 9112 §7.1): every chunk line wharf
// writes comes from here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/piece_framing.hpp"

namespace wharf::http1 {

/// Longest chunk-size line: 16 hex digits and CRLF.
inline constexpr std::size_t max_chunk_line = 18;
inline constexpr std::string_view chunk_end = "\r\n";
/// The last chunk with no trailer fields.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Writes "<hex size>\r\n" at `out` (room for max_chunk_line); returns its length.
std::size_t write_chunk_line(char* out, std::uint64_t size) noexcept;

/// Frames each piece of a body source as one chunk, for the send queue.
extern const detail::piece_framing chunk_framing;

} // namespace wharf::http1
