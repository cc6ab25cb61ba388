// SPDX-License-Identifier: MIT
#include "http1/parser.hpp"

#include <cstdint>
#include <cstring>

#include <nmmintrin.h>

#include "http/chars.hpp"

namespace wharf::http1 {
namespace {

#define WHARF_LIKELY(x) __builtin_expect(!!(x), 1)
#define WHARF_UNLIKELY(x) __builtin_expect(!!(x), 0)

bool detect_sse42() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
const bool has_sse42 = detect_sse42();

// Byte ranges that stop a fast scan; the scalar loop after it applies the exact rules. SSE4.2's
// range mode takes at most eight ranges, so '|' and '~' (tchars inside 0x7b-0xff) are left to
// the scalar loop.
alignas(16) constexpr char token_stops[16] = {
    '\x00', ' ',    // CTLs and SP
    '"',    '"',    //
    '(',    ')',    //
    ',',    ',',    //
    '/',    '/',    //
    ':',    '@',    // 0x3a-0x40
    '[',    ']',    // 0x5b-0x5d
    '{',    '\xff', // 0x7b-0xff
};
alignas(16) constexpr char value_stops[16] = {'\x00', '\x08', '\x0a', '\x1f', '\x7f', '\x7f'};
// Every byte that chars::target refuses, in eight ranges; ']' and '~' ride along in two of
// them (the scalar loop lets them pass), '=' does not (queries are full of it).
alignas(16) constexpr char target_stops[16] = {
    '\x00', ' ',    // CTLs and SP
    '"',    '#',    //
    '%',    '%',    // the start of a percent-escape
    '<',    '<',    //
    '>',    '>',    //
    '\\',   '^',    // 0x5c-0x5e
    '`',    '`',    //
    '{',    '\xff', // 0x7b-0xff
};

/// True when every byte that `table` refuses lies in one of the `n` bytes of ranges `stops`:
/// then the SIMD scan cannot skip a byte that the scalar loop would stop at.
constexpr bool stops_cover(const char* stops, int n, const chars::table& table) {
    for (int c = 0; c < 256; ++c) {
        if (table[static_cast<std::size_t>(c)]) continue;
        bool stopped = false;
        for (int i = 0; i + 1 < n; i += 2)
            if (c >= static_cast<unsigned char>(stops[i]) &&
                c <= static_cast<unsigned char>(stops[i + 1]))
                stopped = true;
        if (!stopped) return false;
    }
    return true;
}
static_assert(stops_cover(token_stops, 16, chars::token));
static_assert(stops_cover(value_stops, 6, chars::field_value));
static_assert(stops_cover(target_stops, 16, chars::target));

/// Skips 16 bytes at a time while none of them falls in `stops`; returns where it stopped.
/// It reads only whole 16-byte blocks inside [p, end).
__attribute__((target("sse4.2"))) const char*
skip_sse42(const char* p, const char* end, const char* stops, int stops_len) noexcept {
    const __m128i ranges = _mm_load_si128(reinterpret_cast<const __m128i*>(stops));
    while (end - p >= 16) {
        const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const int at = _mm_cmpestri(ranges, stops_len, block, 16,
                                    _SIDD_UBYTE_OPS | _SIDD_CMP_RANGES | _SIDD_POSITIVE_POLARITY);
        if (at != 16) return p + at;
        p += 16;
    }
    return p;
}

// The scalar loops are the hottest code after the SIMD scan; unrolled by four.
template <const chars::table& table>
inline const char* skip_scalar(const char* p, const char* end) noexcept {
    while (end - p >= 4) {
        if (!table[static_cast<unsigned char>(p[0])]) return p;
        if (!table[static_cast<unsigned char>(p[1])]) return p + 1;
        if (!table[static_cast<unsigned char>(p[2])]) return p + 2;
        if (!table[static_cast<unsigned char>(p[3])]) return p + 3;
        p += 4;
    }
    while (p < end && table[static_cast<unsigned char>(*p)])
        ++p;
    return p;
}

inline const char* skip_token(const char* p, const char* end) noexcept {
    if (has_sse42) p = skip_sse42(p, end, token_stops, 16);
    return skip_scalar<chars::token>(p, end);
}
inline const char* skip_value(const char* p, const char* end) noexcept {
    if (has_sse42) p = skip_sse42(p, end, value_stops, 6);
    return skip_scalar<chars::field_value>(p, end);
}
/// Skips target bytes and well-formed percent-escapes (RFC 3986 §2.1). It stops at the first
/// byte that is neither, or at `end` when the target (or an escape) goes on past it.
inline const char* skip_target(const char* p, const char* end) noexcept {
    for (;;) {
        if (has_sse42) p = skip_sse42(p, end, target_stops, 16);
        p = skip_scalar<chars::target>(p, end);
        if (WHARF_LIKELY(p == end || *p != '%')) return p;
        if (end - p < 3) { // an escape cut short: incomplete unless already malformed
            if (end - p == 2 && !chars::is_hexdig(p[1])) return p;
            return end;
        }
        if (WHARF_UNLIKELY(!chars::is_hexdig(p[1]) || !chars::is_hexdig(p[2]))) return p;
        p += 3;
    }
}

constexpr parse_result fail(int status, const char* reason) noexcept {
    return {parse_result::error, 0, status, reason};
}
constexpr parse_result more() noexcept {
    return {parse_result::incomplete, 0, 0, ""};
}

using chars::is_ows;
inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

} // namespace

std::size_t find_head_end(const char* buf, std::size_t len, std::size_t from) noexcept {
    std::size_t i = from > 3 ? from - 3 : 0;
    while (i < len) {
        const void* nl = std::memchr(buf + i, '\n', len - i);
        if (!nl) return 0;
        i = static_cast<std::size_t>(static_cast<const char*>(nl) - buf) + 1;
        if (i < len && buf[i] == '\n') return i + 1;
        if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') return i + 2;
    }
    return 0;
}

parse_result parse_fields(const char* buf, std::size_t len, std::span<header_field> fields,
                          std::size_t& num_fields) noexcept {
    const char* p = buf;
    const char* const end = buf + len;
    num_fields = 0;
    for (;;) {
        if (p == end) return more();
        if (*p == '\r') {
            if (p + 1 == end) return more();
            if (p[1] != '\n') return fail(400, "bare CR in header section");
            return {parse_result::complete, static_cast<std::size_t>(p + 2 - buf), 0, ""};
        }
        if (*p == '\n') return fail(400, "bare LF in header section");
        if (is_ows(*p)) return fail(400, "obsolete line folding or whitespace before a field");

        const char* name = p;
        p = skip_token(p, end);
        if (p == end) return more();
        if (*p != ':') {
            if (is_ows(*p)) return fail(400, "whitespace between field name and colon");
            return fail(400, "invalid character in field name");
        }
        if (p == name) return fail(400, "empty field name");
        if (num_fields == fields.size()) return fail(431, "too many header fields");
        const std::size_t name_len = static_cast<std::size_t>(p - name);

        ++p;
        while (p < end && is_ows(*p))
            ++p;
        const char* value = p;
        p = skip_value(p, end);
        if (p == end) return more();
        if (*p == '\r') {
            if (p + 1 == end) return more();
            if (p[1] != '\n') return fail(400, "bare CR in field value");
        } else if (*p == '\n') {
            return fail(400, "bare LF in field value");
        } else {
            return fail(400, "control character in field value");
        }
        const char* value_end = p;
        while (value_end > value && is_ows(value_end[-1]))
            --value_end;
        fields[num_fields++] = {{name, name_len},
                                {value, static_cast<std::size_t>(value_end - value)}};
        p += 2;
    }
}

parse_result parse_request_head(const char* buf, std::size_t len, request_head& head,
                                std::span<header_field> fields,
                                const head_limits& limits) noexcept {
    const char* p = buf;
    const char* const end = buf + len;

    // RFC 9112 §2.2: ignore empty lines before the request line (clients send a stray CRLF
    // after a POST body).
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (p == end || (end - p == 1 && *p == '\r')) return more();

    // The request line is bounded as it is read, so an endless one is a 414 and not a 431.
    const char* const line = p;
    const std::size_t max_line = limits.max_request_line;
    auto too_long = [&](const char* upto) noexcept {
        return static_cast<std::size_t>(upto - line) > max_line;
    };

    p = skip_token(p, end);
    if (p == end) return too_long(p) ? fail(414, "request line too long") : more();
    if (WHARF_UNLIKELY(*p != ' ')) return fail(400, "invalid character in method");
    if (WHARF_UNLIKELY(p == line)) return fail(400, "empty method");
    head.method = {line, static_cast<std::size_t>(p - line)};

    const char* target = ++p;
    p = skip_target(p, end);
    if (p == end) return too_long(p) ? fail(414, "request line too long") : more();
    if (WHARF_UNLIKELY(*p != ' '))
        return fail(400, *p == '%' ? "malformed percent-encoding in request target"
                                   : "invalid character in request target");
    if (WHARF_UNLIKELY(p == target)) return fail(400, "empty request target");
    head.target = {target, static_cast<std::size_t>(p - target)};
    ++p;

    // HTTP-version = "HTTP/" DIGIT "." DIGIT, then CRLF (RFC 9112 §2.3).
    if (too_long(std::min(p + 8, end))) return fail(414, "request line too long");
    if (end - p < 10) { // a line that ends this early is malformed, not incomplete
        if (!std::memchr(p, '\n', static_cast<std::size_t>(end - p))) return more();
        // The same reason as when the rest of the head is there: a good version ends badly.
        const bool version = end - p >= 8 && std::memcmp(p, "HTTP/", 5) == 0 && is_digit(p[5]) &&
                             p[6] == '.' && is_digit(p[7]);
        return fail(400, version ? "malformed end of request line" : "malformed HTTP version");
    }
    if (std::memcmp(p, "HTTP/", 5) != 0 || !is_digit(p[5]) || p[6] != '.' || !is_digit(p[7]))
        return fail(400, "malformed HTTP version");
    if (p[8] != '\r' || p[9] != '\n') return fail(400, "malformed end of request line");
    head.major = p[5] - '0';
    head.minor = p[7] - '0';
    if (head.major != 1) return fail(505, "HTTP version not supported");
    p += 10;

    std::size_t n = 0;
    const std::size_t head_budget = limits.max_header_bytes;
    const std::size_t offered = static_cast<std::size_t>(end - buf);
    parse_result r = parse_fields(p, static_cast<std::size_t>(end - p), fields, n);
    if (r.kind == parse_result::error) return r;
    if (r.kind == parse_result::incomplete)
        return offered > head_budget ? fail(431, "request header section too large") : more();
    r.consumed += static_cast<std::size_t>(p - buf);
    if (r.consumed > head_budget) return fail(431, "request header section too large");
    head.num_headers = n;
    return r;
}

} // namespace wharf::http1
