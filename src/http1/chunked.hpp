// SPDX-License-Identifier: MIT
// The chunked transfer-coding decoder (RFC 9112 §7.1). It works in place and in pieces: raw
// bytes go in as they arrive, payload bytes come out compacted, and its state carries over
// between calls, so a body split at any byte decodes the same.
//
// It is strict: chunk extensions must follow the grammar of RFC 9112 §7.1.1 (they are checked,
// then ignored), and every part of the framing is bounded, so no input makes it hold or scan
// more than its limits allow before it answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wharf/headers.hpp"

namespace wharf::http1 {

class chunked_decoder {
  public:
    struct limits {
        /// Bytes of chunk-ext per chunk: everything on a chunk-size line between the size and
        /// its CR, BWS and ';' included ("5 ;a=b" has 5). More: 400.
        std::size_t max_extension = 1024;
        std::size_t max_trailer_bytes = 8192; ///< bytes of the trailer section (431 beyond)
        std::uint64_t max_body = UINT64_MAX;  ///< payload bytes in all (413 beyond)
        /// Framing bytes (everything but chunk data and the trailer fields: sizes, BWS,
        /// extensions, CRLFs, the last-chunk line) are kept within framing_allowance +
        /// framing_ratio * payload bytes so far, checked at every byte: a 400 as soon as they
        /// exceed it. So a body costs at most about (1 + framing_ratio) raw bytes per payload
        /// byte plus the allowance, while ordinary small chunks (a 1-byte chunk without
        /// extensions has 5 framing bytes) stay legal at any length.
        std::uint64_t framing_allowance = 64 * 1024;
        std::uint32_t framing_ratio = 8;
    };

    struct result {
        enum kind_t { done, incomplete, error } kind;
        std::size_t consumed = 0; ///< raw bytes used; the caller keeps the rest for the next call
        std::size_t produced = 0; ///< payload bytes written to `out`
        int status = 0;           ///< error: 400, 413 or 431
        const char* reason = "";
    };

    chunked_decoder() = default;
    explicit chunked_decoder(const limits& l) noexcept
        : limits_(l), framing_limit_(l.framing_allowance) {}

    /// Decodes raw bytes `in[0, len)`, writing payload to `out`, which may alias `in` or lie
    /// before it (the copy is a memmove). Trailer fields, when the body ends with some, are
    /// stored in `trailers` as views into `in`; `trailer_count()` tells how many.
    result decode(char* out, const char* in, std::size_t len,
                  std::span<header_field> trailers = {}) noexcept;

    bool finished() const noexcept { return state_ == state::done; }
    std::uint64_t payload_bytes() const noexcept { return total_; }
    /// Raw bytes consumed that were framing (see limits::framing_allowance).
    std::uint64_t framing_bytes() const noexcept { return framing_; }
    std::size_t trailer_count() const noexcept { return trailer_count_; }
    void reset() noexcept { *this = chunked_decoder(limits_); }

  private:
    enum class state : std::uint8_t {
        size,            // hex digits of chunk-size
        ext_sep,         // after the size or an extension value: BWS, ';' or CR
        ext_sep_bws,     // BWS there: only ';' may follow, the grammar has no trailing BWS
        ext_name_bws,    // after ';': BWS, then the first byte of a chunk-ext-name
        ext_name,        // chunk-ext-name (a token)
        ext_name_end,    // BWS after a name: '=' or ';' must follow
        ext_value_bws,   // after '=': BWS, then a token or a quoted-string
        ext_token,       // chunk-ext-val as a token
        ext_quoted,      // inside a quoted-string
        ext_quoted_pair, // after a backslash in a quoted-string
        size_lf,         // LF after the size line's CR
        data,            // chunk-data
        data_cr,         // CR after chunk-data
        data_lf,         // LF after chunk-data
        trailers,        // trailer section, parsed whole once its empty line is here
        done,
    };

    /// Counts `n` more bytes of chunk-ext; a reason when a limit is passed, else null.
    const char* count_extension(std::size_t n) noexcept;
    /// Counts `n` more framing bytes; a reason when the framing bound is passed, else null.
    const char* count_framing(std::size_t n) noexcept;

    limits limits_;
    state state_ = state::size;
    std::uint8_t size_digits_ = 0;
    std::uint64_t remaining_ = 0; // size being read, then data bytes left in this chunk
    std::uint64_t total_ = 0;
    std::uint64_t framing_ = 0;
    std::uint64_t framing_limit_ = limits{}.framing_allowance; // allowance + ratio * total_
    std::size_t extension_bytes_ = 0;
    std::size_t trailer_count_ = 0;
};

} // namespace wharf::http1
