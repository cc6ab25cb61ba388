// SPDX-License-Identifier: MIT
// On-the-fly response compression (br, zstd, gzip) as a filter: router.use(compression()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wharf/filter.hpp"

namespace wharf {

/// The content codings the compression filter can produce.
enum class content_coding : std::uint8_t { br, zstd, gzip };

struct compression_options {
    /// The codings offered, in the server's order of preference among those the client
    /// weighs equally (RFC 9110 §12.5.3 q-values decide first).
    std::vector<content_coding> codings{content_coding::br, content_coding::zstd,
                                        content_coding::gzip};
    /// Levels, chosen by measurement on web text (docs/api.md): each is the knee of its
    /// codec's ratio-per-CPU curve. gzip 1-9, br 0-11, zstd 1-19.
    int gzip_level = 6;
    int brotli_level = 5;
    int zstd_level = 3;
    /// Whole bodies smaller than this go out as they are (the coding's framing would eat the
    /// gain). Streamed bodies of unknown length are always compressed.
    std::uint64_t min_size = 1024;
    /// The compressible media types: "type/subtype", "type/*" or "*+suffix" ("*+json" covers
    /// application/ld+json). Matched without parameters, ignoring case.
    std::vector<std::string> types{"text/*",
                                   "application/json",
                                   "*+json",
                                   "application/javascript",
                                   "application/x-javascript",
                                   "application/ecmascript",
                                   "application/xml",
                                   "*+xml",
                                   "application/wasm",
                                   "application/x-ndjson",
                                   "font/ttf",
                                   "font/otf"};
};

/// A filter that compresses responses as the request's Accept-Encoding allows: only types in
/// `types`, never a response that already has a Content-Encoding (precompressed files keep
/// priority), a 206 or a request with Range, a HEAD response, or one that a request or response
/// Cache-Control "no-transform" covers. Compressed responses get Content-Encoding, an ETag
/// with the coding appended inside its quotes ("abc" becomes "abc-br"), and, like every
/// compressible response, "Vary: Accept-Encoding". Streamed bodies are compressed as they go,
/// with a flush at the end of each send(more), so each send still reaches the client at once.
/// Install it first (router::use) so that it sees the response last, after other filters.
std::shared_ptr<filter> compression(compression_options options = {});

} // namespace wharf
