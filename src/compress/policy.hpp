// SPDX-License-Identifier: MIT
// What the compression filter decides from fields alone: which coding a request accepts, which
// media types are worth compressing, and the ETag of a compressed representation.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "compress/encoder.hpp"
#include "wharf/compress.hpp"
#include "wharf/negotiate.hpp"

namespace wharf::detail::compress {

coding to_coding(content_coding c) noexcept;

/// The coding to send for `accept_encoding` among `offered` (in server preference order), or
/// nullopt for identity: a missing field, no offered coding with q > 0, or identity weighed
/// above the best of them. Among equal weights the earlier offered wins.
std::optional<coding> choose_coding(const accept_list& accept_encoding,
                                    std::span<const content_coding> offered) noexcept;

/// Whether `content_type` (parameters allowed) matches one of `patterns` ("type/subtype",
/// "type/*", "*+suffix"), ignoring case.
bool compressible_type(std::string_view content_type,
                       std::span<const std::string> patterns) noexcept;

/// `etag` with "-<coding>" appended inside its quotes ("abc" → "abc-br", W/"x" → W/"x-br"); a
/// value that is not a quoted entity-tag is returned as it is.
std::string etag_with_coding(std::string_view etag, coding c);

} // namespace wharf::detail::compress
