// SPDX-License-Identifier: MIT
// The chunked transfer-coding decoder (RFC 9112 §7.1). It works in place and in pieces: raw
// bytes go in as they arrive, payload bytes come out compacted, and its state carries over
// between calls, so a body split at any byte decodes the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wharf/headers.hpp"

namespace wharf::http1 {

class chunked_decoder {
  public:
    struct limits {
        std::size_t max_extension = 1024;     ///< bytes of chunk extensions per chunk
        std::size_t max_trailer_bytes = 8192; ///< bytes of the trailer section
        std::uint64_t max_body = UINT64_MAX;  ///< payload bytes in all (413 beyond)
    };

    struct result {
        enum kind_t { done, incomplete, error } kind;
        std::size_t consumed = 0; ///< raw bytes used; the caller keeps the rest for the next call
        std::size_t produced = 0; ///< payload bytes written to `out`
        int status = 0;           ///< error: 400, 413 or 431
        const char* reason = "";
    };

    chunked_decoder() = default;
    explicit chunked_decoder(const limits& l) noexcept : limits_(l) {}

    /// Decodes raw bytes `in[0, len)`, writing payload to `out`, which may alias `in` or lie
    /// before it (the copy is a memmove). Trailer fields, when the body ends with some, are
    /// stored in `trailers` as views into `in`; `trailer_count()` tells how many.
    result decode(char* out, const char* in, std::size_t len,
                  std::span<header_field> trailers = {}) noexcept;

    bool finished() const noexcept { return state_ == state::done; }
    std::uint64_t payload_bytes() const noexcept { return total_; }
    std::size_t trailer_count() const noexcept { return trailer_count_; }
    void reset() noexcept { *this = chunked_decoder(limits_); }

  private:
    enum class state : std::uint8_t {
        size,       // hex digits of chunk-size
        size_space, // just after the size: BWS, ';' or CR
        size_bws,   // BWS after the size: only an extension may follow (RFC 9112 §7.1.1)
        extension,  // chunk-ext bytes up to CR
        size_lf,    // LF after the size line's CR
        data,       // chunk-data
        data_cr,    // CR after chunk-data
        data_lf,    // LF after chunk-data
        trailers,   // trailer section, parsed whole once its empty line is here
        done,
    };

    limits limits_;
    state state_ = state::size;
    std::uint8_t size_digits_ = 0;
    std::uint64_t remaining_ = 0; // size being read, then data bytes left in this chunk
    std::uint64_t total_ = 0;
    std::size_t extension_bytes_ = 0;
    std::size_t trailer_count_ = 0;
};

} // namespace wharf::http1
