// SPDX-License-Identifier: MIT
#include "http1/chunked.hpp"

#include <algorithm>
#include <cstring>

#include "http1/chars.hpp"
#include "http1/parser.hpp"

namespace wharf::http1 {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

chunked_decoder::result chunked_decoder::decode(char* out, const char* in, std::size_t len,
                                                std::span<header_field> trailers) noexcept {
    std::size_t i = 0;
    std::size_t produced = 0;
    auto fail = [&](int status, const char* reason) {
        return result{result::error, i, produced, status, reason};
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
                break;
            }
            if (size_digits_ == 0) return fail(400, "invalid chunk size");
            if (remaining_ > limits_.max_body - total_) return fail(413, "request body too large");
            state_ = state::size_space;
            [[fallthrough]];
        }
        case state::size_space:
        case state::size_bws:
            if (c == ' ' || c == '\t') {
                state_ = state::size_bws;
                ++i;
            } else if (c == ';') {
                state_ = state::extension;
                extension_bytes_ = 0;
                ++i;
            } else if (c == '\r' && state_ == state::size_space) {
                state_ = state::size_lf;
                ++i;
            } else if (c == '\r') {
                // "5 \r\n": no grammar allows it, and parsers that differ on it smuggle.
                return fail(400, "whitespace after chunk size");
            } else {
                return fail(400, "invalid character after chunk size");
            }
            break;
        case state::extension: {
            // Extensions are ignored but bounded and must be free of control characters.
            const std::size_t start = i;
            while (i < len && in[i] != '\r' &&
                   chars::field_value[static_cast<unsigned char>(in[i])])
                ++i;
            extension_bytes_ += i - start;
            if (extension_bytes_ > limits_.max_extension)
                return fail(400, "chunk extension too long");
            if (i < len) {
                if (in[i] != '\r') return fail(400, "control character in chunk extension");
                state_ = state::size_lf;
                ++i;
            }
            break;
        }
        case state::size_lf:
            if (c != '\n') return fail(400, "bare CR in chunk size line");
            ++i;
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
            if (remaining_ == 0) state_ = state::data_cr;
            break;
        }
        case state::data_cr:
            if (c != '\r') return fail(400, "missing CRLF after chunk data");
            state_ = state::data_lf;
            ++i;
            break;
        case state::data_lf:
            if (c != '\n') return fail(400, "missing CRLF after chunk data");
            state_ = state::size;
            size_digits_ = 0;
            remaining_ = 0;
            ++i;
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
