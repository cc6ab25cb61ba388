// SPDX-License-Identifier: MIT
// libFuzzer target: the chunked transfer-coding decoder alone. The first two input bytes pick
// the limits (when the first is 'L'; otherwise the defaults apply, so a seed is a plain chunked
// body); the rest is the body. It is decoded at once and in pieces whose sizes derive from the
// input, with the payload compacted in place (as the connection does) and into a separate
// buffer; all runs must agree.
//
// Invariants checked (any failure aborts): consumed <= offered, produced <= consumed, errors
// only 400, 413 or 431, payload_bytes() matches, the payload never exceeds max_body, trailer
// views lie inside the input, finished() matches the result, and a finished decoder takes
// nothing more. Each call sees a heap buffer of exactly its bytes, so ASan traps any over-read.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http1/chunked.hpp"

namespace {

using wharf_fuzz::copy_of;
using wharf_fuzz::inside;
using wharf_fuzz::splitmix;

using wharf::header_field;
using wharf::http1::chunked_decoder;

struct outcome {
    chunked_decoder::result::kind_t kind = chunked_decoder::result::incomplete;
    int status = 0;
    std::size_t consumed = 0;
    std::string payload;
    std::vector<std::string> trailers;
};

enum class style { compact, separate };

/// Feeds `body` in pieces (sizes from `rng`, or one piece when it is null); the caller keeps the
/// bytes a call did not consume and offers them again with the next piece.
outcome decode(const char* body, std::size_t len, const chunked_decoder::limits& lim,
               std::size_t max_trailers, style st, splitmix* rng) {
    chunked_decoder dec(lim);
    std::vector<header_field> trailers(max_trailers);
    std::string buf; // compact: payload [0, payload_len), raw [raw, size); separate: raw only
    std::size_t fed = 0;
    std::size_t payload_len = 0;
    std::size_t raw = 0;
    outcome out;
    while (true) {
        std::size_t piece = len - fed;
        if (rng && piece > 0) {
            piece = 1 + static_cast<std::size_t>(rng->next() % piece);
            if (rng->next() % 3 != 0) piece = std::min<std::size_t>(piece, 5);
        }
        buf.append(body + fed, piece);
        fed += piece;
        const std::unique_ptr<char[]> exact = copy_of(buf.data(), buf.size());
        const std::size_t raw_len = buf.size() - raw;
        const char* in = exact.get() + raw;
        chunked_decoder::result r{};
        if (st == style::compact) {
            r = dec.decode(exact.get() + payload_len, in, raw_len, trailers);
            FUZZ_CHECK(r.consumed <= raw_len);
            FUZZ_CHECK(r.produced <= r.consumed);
            buf.assign(exact.get(), buf.size());
            out.payload.assign(buf, 0, payload_len + r.produced);
        } else {
            const std::unique_ptr<char[]> sep(new char[raw_len == 0 ? 1 : raw_len]);
            r = dec.decode(sep.get(), in, raw_len, trailers);
            FUZZ_CHECK(r.consumed <= raw_len);
            FUZZ_CHECK(r.produced <= r.consumed);
            out.payload.append(sep.get(), r.produced);
            // The input is const to the decoder: it must be untouched.
            FUZZ_CHECK(std::memcmp(in, buf.data() + raw, raw_len) == 0);
        }
        payload_len += r.produced;
        raw += r.consumed;
        out.consumed += r.consumed;
        FUZZ_CHECK(dec.payload_bytes() == payload_len);
        FUZZ_CHECK(payload_len <= lim.max_body);
        if (r.kind == chunked_decoder::result::error) {
            FUZZ_CHECK(r.status == 400 || r.status == 413 || r.status == 431);
            FUZZ_CHECK(!dec.finished());
            out.kind = r.kind;
            out.status = r.status;
            return out;
        }
        FUZZ_CHECK(r.status == 0);
        if (r.kind == chunked_decoder::result::done) {
            FUZZ_CHECK(dec.finished());
            FUZZ_CHECK(dec.trailer_count() <= trailers.size());
            for (std::size_t t = 0; t < dec.trailer_count(); ++t) {
                FUZZ_CHECK(inside(trailers[t].name, in, raw_len));
                FUZZ_CHECK(inside(trailers[t].value, in, raw_len));
                FUZZ_CHECK(!trailers[t].name.empty());
                out.trailers.emplace_back(trailers[t].name);
                out.trailers.emplace_back(trailers[t].value);
            }
            // A finished decoder takes nothing more.
            char scratch[8];
            const chunked_decoder::result again = dec.decode(scratch, "0\r\n\r\n", 5, trailers);
            FUZZ_CHECK(again.kind == chunked_decoder::result::done);
            FUZZ_CHECK(again.consumed == 0 && again.produced == 0);
            out.kind = r.kind;
            return out;
        }
        FUZZ_CHECK(!dec.finished());
        if (fed == len) break;
    }
    return out;
}

void check_same(const outcome& a, const outcome& b) {
    FUZZ_CHECK(a.kind == b.kind);
    if (a.kind == chunked_decoder::result::error) {
        FUZZ_CHECK(a.status == b.status);
        return;
    }
    FUZZ_CHECK(a.consumed == b.consumed);
    FUZZ_CHECK(a.payload == b.payload);
    FUZZ_CHECK(a.trailers == b.trailers);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* in = reinterpret_cast<const char*>(data);
    chunked_decoder::limits lim;
    std::size_t max_trailers = 16;
    if (size >= 3 && in[0] == 'L') {
        // Tight limits, so 413 and 431 and the extension limit are within reach.
        const auto a = static_cast<unsigned char>(in[1]);
        const auto b = static_cast<unsigned char>(in[2]);
        lim.max_extension = a % 32;
        lim.max_trailer_bytes = b % 64;
        lim.max_body = (a >> 5) == 7 ? UINT64_MAX : (static_cast<std::uint64_t>(b) << 2);
        max_trailers = b % 5;
        in += 3;
        size -= 3;
    }
    std::uint64_t seed = 1469598103934665603ULL;
    for (std::size_t i = 0; i < size; ++i)
        seed = (seed ^ data[i]) * 1099511628211ULL;
    splitmix rng{seed};

    const outcome once = decode(in, size, lim, max_trailers, style::compact, nullptr);
    check_same(once, decode(in, size, lim, max_trailers, style::separate, nullptr));
    check_same(once, decode(in, size, lim, max_trailers, style::compact, &rng));
    check_same(once, decode(in, size, lim, max_trailers, style::separate, &rng));
    return 0;
}
