// SPDX-License-Identifier: MIT
#include "http1/chunked.hpp"

#include <algorithm>
#include <cstring>

#include "http/chars.hpp"
#include "http1/parser.hpp"

namespace wharf::http1 {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr std::size_t uc(char c) noexcept {
    return static_cast<unsigned char>(c);
}

constexpr bool is_bws(char c) noexcept {
    return c == ' ' || c == '\t';
}

bool is_token(char c) noexcept {
    return chars::token[uc(c)];
}

/// qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR but '"' and '\', obs-text. What may follow a
/// backslash (HTAB, SP, VCHAR, obs-text) is chars::field_value itself.
constexpr chars::table qdtext = [] {
    chars::table t = chars::field_value;
    t[uc('"')] = false;
    t[uc('\\')] = false;
    return t;
}();

/// The reason for an unexpected byte `c` in a chunk extension.
const char* extension_error(char c, const char* otherwise) noexcept {
    if (c != '\r' && !chars::field_value[uc(c)]) return "control character in chunk extension";
    return otherwise;
}

/// framing_allowance + framing_ratio * payload, saturating.
std::uint64_t framing_limit(const chunked_decoder::limits& l, std::uint64_t payload) noexcept {
    const std::uint64_t ratio = l.framing_ratio;
    if (ratio != 0 && payload > (UINT64_MAX - l.framing_allowance) / ratio) return UINT64_MAX;
    return l.framing_allowance + ratio * payload;
}

constexpr const char* trailing_bws = "whitespace at the end of a chunk size line";

} // namespace

const char* chunked_decoder::count_framing(std::size_t n) noexcept {
    framing_ += n;
    return framing_ > framing_limit_ ? "chunk framing overhead too large" : nullptr;
}

const char* chunked_decoder::count_extension(std::size_t n) noexcept {
    extension_bytes_ += n;
    if (extension_bytes_ > limits_.max_extension) return "chunk extension too long";
    return count_framing(n);
}

chunked_decoder::result chunked_decoder::decode(char* out, const char* in, std::size_t len,
                                                std::span<header_field> trailers) noexcept {
    std::size_t i = 0;
    std::size_t produced = 0;
    auto fail = [&](int status, const char* reason) {
        return result{result::error, i, produced, status, reason};
    };
    // Where a run of extension bytes must stop: one past what the extension limit leaves, so
    // an overlong run is caught without scanning the rest of the input.
    auto run_end = [&]() noexcept {
        const std::size_t room = limits_.max_extension - extension_bytes_;
        return len - i > room ? i + room + 1 : len;
    };
    // Takes one byte of chunk-ext and moves to `next`.
    auto take = [&](state next) noexcept -> const char* {
        state_ = next;
        ++i;
        return count_extension(1);
    };

    while (i < len) {
        const char c = in[i];
        switch (state_) {
        case state::size: {
            const int v = hex_value(c);
            if (v >= 0) {
                // 15 hex digits are 2^60: far past any body limit, and no overflow below it.
                if (++size_digits_ > 15) return fail(400, "chunk size too large");
                remaining_ = remaining_ * 16 + static_cast<unsigned>(v);
                ++i;
                if (const char* e = count_framing(1)) return fail(400, e);
                break;
            }
            if (size_digits_ == 0) return fail(400, "invalid chunk size");
            if (remaining_ > limits_.max_body - total_) return fail(413, "request body too large");
            state_ = state::ext_sep;
            extension_bytes_ = 0;
            [[fallthrough]];
        }
        case state::ext_sep:
        case state::ext_sep_bws: {
            const char* e = nullptr;
            if (c == '\r') {
                // "5 \r\n", "5;a=b \r\n": no grammar allows it, and parsers that differ on
                // it smuggle (RFC 9112 §7.1.1).
                if (state_ == state::ext_sep_bws) return fail(400, trailing_bws);
                state_ = state::size_lf;
                ++i;
                e = count_framing(1);
            } else if (is_bws(c)) {
                e = take(state::ext_sep_bws);
            } else if (c == ';') {
                e = take(state::ext_name_bws);
            } else {
                return fail(400, extension_bytes_ == 0
                                     ? "invalid character after chunk size"
                                     : extension_error(c, "invalid character in chunk extension"));
            }
            if (e) return fail(400, e);
            break;
        }
        case state::ext_name_bws:
            if (is_bws(c)) {
                if (const char* e = take(state::ext_name_bws)) return fail(400, e);
                break;
            }
            // ";;", ";=", ";\r": a name must follow.
            if (!is_token(c)) return fail(400, extension_error(c, "invalid chunk extension name"));
            state_ = state::ext_name;
            [[fallthrough]];
        case state::ext_name: {
            const std::size_t start = i;
            const std::size_t end = run_end();
            while (i < end && is_token(in[i]))
                ++i;
            if (const char* e = count_extension(i - start)) return fail(400, e);
            if (i == len) break;
            const char d = in[i];
            const char* e = nullptr;
            if (d == '=') {
                e = take(state::ext_value_bws);
            } else if (d == ';') {
                e = take(state::ext_name_bws);
            } else if (is_bws(d)) {
                e = take(state::ext_name_end);
            } else if (d == '\r') {
                state_ = state::size_lf;
                ++i;
                e = count_framing(1);
            } else {
                return fail(400, extension_error(d, "invalid character in chunk extension name"));
            }
            if (e) return fail(400, e);
            break;
        }
        case state::ext_name_end: {
            // BWS after a name is only allowed before '=' or ';'.
            const char* e = nullptr;
            if (is_bws(c)) {
                e = take(state::ext_name_end);
            } else if (c == '=') {
                e = take(state::ext_value_bws);
            } else if (c == ';') {
                e = take(state::ext_name_bws);
            } else if (c == '\r') {
                return fail(400, trailing_bws);
            } else {
                return fail(400, extension_error(c, "invalid character in chunk extension"));
            }
            if (e) return fail(400, e);
            break;
        }
        case state::ext_value_bws: {
            const char* e = nullptr;
            if (is_bws(c)) {
                e = take(state::ext_value_bws);
            } else if (c == '"') {
                e = take(state::ext_quoted);
            } else if (is_token(c)) {
                state_ = state::ext_token;
                break;
            } else {
                // "5;a=", "5;a=;", "5;a=\x80": a token or a quoted-string must follow.
                return fail(400, extension_error(c, "invalid chunk extension value"));
            }
            if (e) return fail(400, e);
            break;
        }
        case state::ext_token: {
            const std::size_t start = i;
            const std::size_t end = run_end();
            while (i < end && is_token(in[i]))
                ++i;
            if (const char* e = count_extension(i - start)) return fail(400, e);
            // What follows is checked as after the size: BWS, ';' or CR.
            if (i < len) state_ = state::ext_sep;
            break;
        }
        case state::ext_quoted: {
            const std::size_t start = i;
            const std::size_t end = run_end();
            while (i < end && qdtext[uc(in[i])])
                ++i;
            if (const char* e = count_extension(i - start)) return fail(400, e);
            if (i == len) break;
            const char d = in[i];
            const char* e = nullptr;
            if (d == '"') {
                e = take(state::ext_sep);
            } else if (d == '\\') {
                e = take(state::ext_quoted_pair);
            } else {
                // CR here: the quoted-string is not closed.
                return fail(400,
                            extension_error(d, "unterminated quoted string in chunk extension"));
            }
            if (e) return fail(400, e);
            break;
        }
        case state::ext_quoted_pair:
            if (!chars::field_value[uc(c)])
                return fail(400, extension_error(c, "invalid quoted pair in chunk extension"));
            if (const char* e = take(state::ext_quoted)) return fail(400, e);
            break;
        case state::size_lf:
            if (c != '\n') return fail(400, "bare CR in chunk size line");
            ++i;
            if (const char* e = count_framing(1)) return fail(400, e);
            if (remaining_ == 0) {
                state_ = state::trailers;
            } else {
                state_ = state::data;
            }
            break;
        case state::data: {
            const std::size_t n = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(len - i)));
            if (out + produced != in + i) std::memmove(out + produced, in + i, n);
            produced += n;
            total_ += n;
            remaining_ -= n;
            i += n;
            if (remaining_ == 0) {
                state_ = state::data_cr;
                // The payload only grows here, so the framing bound moves only here.
                framing_limit_ = framing_limit(limits_, total_);
            }
            break;
        }
        case state::data_cr:
            if (c != '\r') return fail(400, "missing CRLF after chunk data");
            state_ = state::data_lf;
            ++i;
            if (const char* e = count_framing(1)) return fail(400, e);
            break;
        case state::data_lf:
            if (c != '\n') return fail(400, "missing CRLF after chunk data");
            state_ = state::size;
            size_digits_ = 0;
            remaining_ = 0;
            ++i;
            if (const char* e = count_framing(1)) return fail(400, e);
            break;
        case state::trailers: {
            // The trailer section is taken whole: wait for its empty line, then parse it with
            // the header rules. The bytes stay in the caller's buffer until then.
            const std::size_t avail = len - i;
            const bool empty = avail >= 2 && in[i] == '\r' && in[i + 1] == '\n';
            const std::size_t end = empty ? 2 : find_head_end(in + i, avail, 0);
            if (end == 0) {
                if (avail > limits_.max_trailer_bytes + 1)
                    return fail(431, "trailer section too large");
                return {result::incomplete, i, produced, 0, ""};
            }
            if (end > limits_.max_trailer_bytes + 2) return fail(431, "trailer section too large");
            // The final CRLF is framing; the trailer fields are bounded on their own.
            if (const char* e = count_framing(2)) return fail(400, e);
            std::size_t n = 0;
            const parse_result r = parse_fields(in + i, end, trailers, n);
            if (r.kind != parse_result::complete) {
                if (r.status == 431) return fail(431, "too many trailer fields");
                return fail(400, r.reason);
            }
            trailer_count_ = n;
            i += end;
            state_ = state::done;
            return {result::done, i, produced, 0, ""};
        }
        case state::done:
            return {result::done, i, produced, 0, ""};
        }
    }
    if (state_ == state::trailers) {
        // Nothing of the trailer section has arrived yet.
        return {result::incomplete, i, produced, 0, ""};
    }
    return {state_ == state::done ? result::done : result::incomplete, i, produced, 0, ""};
}

} // namespace wharf::http1
