// SPDX-License-Identifier: MIT
// libFuzzer target: the request-head parser, the framing analysis and, for a chunked request,
// the chunked decoder on the bytes after the head, fed in pieces derived from the input.
//
// Invariants checked (any failure aborts, which libFuzzer reports as a crash):
//   - a result is complete, incomplete or an error with a status of 400, 414, 431 or 505;
//   - a complete head consumed 0 < n <= len bytes, and every view lies inside them; field
//     names are tokens, values hold no CTL (but HTAB) and no leading or trailing whitespace;
//   - analyze_request() rejects only with 400, 417 or 501;
//   - the same bytes at another address give the same result, and a prefix gives incomplete,
//     the same error, or (when it holds the whole head) the same complete result;
//   - find_head_end() agrees with a naive scan, also when resumed from a split point;
//   - the chunked decoder consumes at most what it is given, produces at most what it consumes,
//     fails only with 400, 413 or 431, and decodes the same in pieces as at once.
// Inputs are copied into heap buffers of their exact size, so ASan sees any read past them.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http1/chunked.hpp"
#include "http1/framing.hpp"
#include "http1/parser.hpp"

namespace {

using wharf_fuzz::copy_of;
using wharf_fuzz::inside;
using wharf_fuzz::splitmix;

using wharf::header_field;
using namespace wharf::http1;

bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::size_t naive_head_end(const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] != '\n') continue;
        if (i + 1 < n && s[i + 1] == '\n') return i + 2;
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
    }
    return 0;
}

struct parsed {
    parse_result r{parse_result::incomplete};
    request_head head;
    std::size_t fields_used = 0;
    // Offsets rather than views, to compare results at different addresses.
    std::vector<std::size_t> offsets;
};

parsed parse(const char* buf, std::size_t len, std::vector<header_field>& fields,
             const head_limits& limits) {
    parsed p;
    p.r = parse_request_head(buf, len, p.head, fields, limits);
    switch (p.r.kind) {
    case parse_result::incomplete:
        FUZZ_CHECK(p.r.consumed == 0);
        return p;
    case parse_result::error:
        FUZZ_CHECK(p.r.status == 400 || p.r.status == 414 || p.r.status == 431 ||
                   p.r.status == 505);
        FUZZ_CHECK(p.r.reason != nullptr);
        return p;
    case parse_result::complete:
        break;
    }
    const std::size_t used = p.r.consumed;
    FUZZ_CHECK(used > 0 && used <= len);
    FUZZ_CHECK(used <= limits.max_header_bytes);
    FUZZ_CHECK(p.head.num_headers <= fields.size());
    FUZZ_CHECK(p.head.major == 1);
    FUZZ_CHECK(!p.head.method.empty() && inside(p.head.method, buf, used));
    FUZZ_CHECK(!p.head.target.empty() && inside(p.head.target, buf, used));
    FUZZ_CHECK(p.head.target.size() <= limits.max_request_line);
    for (const char c : p.head.method)
        FUZZ_CHECK(is_tchar(c));
    for (const char c : p.head.target)
        FUZZ_CHECK(c > 0x20 && c < 0x7f);
    p.offsets = {static_cast<std::size_t>(p.head.method.data() - buf), p.head.method.size(),
                 static_cast<std::size_t>(p.head.target.data() - buf), p.head.target.size()};
    for (std::size_t i = 0; i < p.head.num_headers; ++i) {
        const header_field& f = fields[i];
        FUZZ_CHECK(!f.name.empty() && inside(f.name, buf, used));
        FUZZ_CHECK(inside(f.value, buf, used));
        for (const char c : f.name)
            FUZZ_CHECK(is_tchar(c));
        for (const char c : f.value) {
            const auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(u == '\t' || (u >= 0x20 && u != 0x7f));
        }
        if (!f.value.empty()) {
            FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
            FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
        }
        p.offsets.push_back(static_cast<std::size_t>(f.name.data() - buf));
        p.offsets.push_back(f.name.size());
        p.offsets.push_back(static_cast<std::size_t>(f.value.data() - buf));
        p.offsets.push_back(f.value.size());
    }
    p.fields_used = p.head.num_headers;
    return p;
}

bool same(const parsed& a, const parsed& b) {
    if (a.r.kind != b.r.kind) return false;
    if (a.r.kind == parse_result::error) return a.r.status == b.r.status;
    if (a.r.kind == parse_result::incomplete) return true;
    return a.r.consumed == b.r.consumed && a.head.minor == b.head.minor && a.offsets == b.offsets;
}

struct decode_outcome {
    chunked_decoder::result::kind_t kind = chunked_decoder::result::incomplete;
    int status = 0;
    std::size_t consumed = 0;
    std::string payload;
    std::vector<std::string> trailers;
};

/// Decodes `body` with the payload compacted in place, as the connection does: one buffer
/// holds the payload decoded so far, then the raw bytes not consumed yet, and each call writes
/// its payload right after the earlier payload, before (or over) its own input. Pieces have
/// sizes from `rng` (one piece when `rng` is null). Each call sees a heap buffer of exactly the
/// bytes it holds, so ASan traps a read past them.
decode_outcome decode_chunked(const char* body, std::size_t len, const chunked_decoder::limits& lim,
                              splitmix* rng) {
    chunked_decoder dec(lim);
    std::vector<header_field> trailers(8);
    std::string buf;         // payload [0, decoded), raw bytes not consumed yet [raw, size)
    std::size_t fed = 0;     // bytes of `body` appended so far
    std::size_t decoded = 0; // payload bytes
    std::size_t raw = 0;     // start of the raw bytes not consumed
    decode_outcome out;
    while (true) {
        std::size_t piece = len - fed;
        if (rng && piece > 0) {
            piece = 1 + static_cast<std::size_t>(rng->next() % piece);
            if (rng->next() % 4 != 0) piece = std::min<std::size_t>(piece, 7);
        }
        buf.append(body + fed, piece);
        fed += piece;
        const std::unique_ptr<char[]> exact = copy_of(buf.data(), buf.size());
        const std::size_t raw_len = buf.size() - raw;
        const chunked_decoder::result r =
            dec.decode(exact.get() + decoded, exact.get() + raw, raw_len, trailers);
        FUZZ_CHECK(r.consumed <= raw_len);
        FUZZ_CHECK(r.produced <= r.consumed);
        buf.assign(exact.get(), buf.size());
        decoded += r.produced;
        raw += r.consumed;
        out.consumed += r.consumed;
        FUZZ_CHECK(dec.payload_bytes() == decoded);
        if (r.kind == chunked_decoder::result::error) {
            FUZZ_CHECK(r.status == 400 || r.status == 413 || r.status == 431);
            FUZZ_CHECK(!dec.finished());
            out.kind = r.kind;
            out.status = r.status;
            return out;
        }
        FUZZ_CHECK(r.status == 0);
        FUZZ_CHECK(decoded <= lim.max_body);
        if (r.kind == chunked_decoder::result::done) {
            FUZZ_CHECK(dec.finished());
            FUZZ_CHECK(dec.trailer_count() <= trailers.size());
            for (std::size_t t = 0; t < dec.trailer_count(); ++t) {
                FUZZ_CHECK(inside(trailers[t].name, exact.get() + raw - r.consumed, raw_len));
                FUZZ_CHECK(inside(trailers[t].value, exact.get() + raw - r.consumed, raw_len));
                out.trailers.emplace_back(trailers[t].name);
                out.trailers.emplace_back(trailers[t].value);
            }
            out.kind = r.kind;
            out.payload.assign(buf, 0, decoded);
            return out;
        }
        FUZZ_CHECK(!dec.finished());
        if (fed == len) break;
    }
    out.payload.assign(buf, 0, decoded);
    return out;
}

void check_same_decoding(const decode_outcome& a, const decode_outcome& b) {
    FUZZ_CHECK(a.kind == b.kind);
    if (a.kind == chunked_decoder::result::error) {
        FUZZ_CHECK(a.status == b.status);
        return;
    }
    FUZZ_CHECK(a.consumed == b.consumed);
    FUZZ_CHECK(a.payload == b.payload);
    FUZZ_CHECK(a.trailers == b.trailers);
}

void run(const char* data, std::size_t size, const head_limits& limits, std::size_t max_fields,
         splitmix& rng) {
    std::vector<header_field> fields(max_fields);
    const std::unique_ptr<char[]> whole = copy_of(data, size);
    const parsed full = parse(whole.get(), size, fields, limits);

    // The same bytes at another address and alignment.
    {
        std::unique_ptr<char[]> shifted(new char[size + 3]);
        std::memcpy(shifted.get() + 3, data, size);
        std::vector<header_field> f2(max_fields);
        FUZZ_CHECK(same(full, parse(shifted.get() + 3, size, f2, limits)));
    }

    // A prefix: incomplete, the same error, or the same head when it holds all of it.
    const std::size_t k = size == 0 ? 0 : static_cast<std::size_t>(rng.next() % (size + 1));
    {
        const std::unique_ptr<char[]> first = copy_of(data, k);
        std::vector<header_field> f2(max_fields);
        const parsed part = parse(first.get(), k, f2, limits);
        switch (full.r.kind) {
        case parse_result::complete:
            if (k < full.r.consumed) {
                FUZZ_CHECK(part.r.kind == parse_result::incomplete);
            } else {
                FUZZ_CHECK(same(full, part));
            }
            break;
        case parse_result::incomplete:
            FUZZ_CHECK(part.r.kind == parse_result::incomplete);
            break;
        case parse_result::error:
            // The same error; but bytes that break both a size limit and a syntax rule may get
            // either status, depending on which the bytes at hand show first.
            FUZZ_CHECK(part.r.kind == parse_result::incomplete || same(full, part) ||
                       (part.r.kind == parse_result::error &&
                        (part.r.status == 414 || part.r.status == 431 || full.r.status == 414 ||
                         full.r.status == 431)));
            break;
        }

        // find_head_end(): naive agreement, and resuming from the split point.
        const std::size_t end = find_head_end(whole.get(), size, 0);
        FUZZ_CHECK(end == naive_head_end(data, size));
        if (find_head_end(first.get(), k, 0) == 0) {
            FUZZ_CHECK(find_head_end(whole.get(), size, k) == end);
        }
        if (full.r.kind == parse_result::complete) {
            FUZZ_CHECK(end != 0 && end <= full.r.consumed);
        }
        // The connection drops the bytes up to a head end when the parser calls them
        // incomplete (empty lines before a request line): that must be all they are.
        if (end != 0) {
            const std::unique_ptr<char[]> upto = copy_of(data, end);
            std::vector<header_field> f3(max_fields);
            const parsed head = parse(upto.get(), end, f3, limits);
            if (head.r.kind == parse_result::incomplete) {
                for (std::size_t i = 0; i < end; ++i)
                    FUZZ_CHECK(data[i] == '\r' || data[i] == '\n');
            }
        }
    }

    if (full.r.kind != parse_result::complete) return;
    const std::span<const header_field> used(fields.data(), full.fields_used);
    const request_framing fr = analyze_request(full.head, used);
    FUZZ_CHECK(fr.status == 0 || fr.status == 400 || fr.status == 417 || fr.status == 501);
    if (fr.status != 0) return;
    FUZZ_CHECK(fr.body != request_framing::chunked || full.head.minor >= 1);
    FUZZ_CHECK(!fr.expect_continue || fr.body != request_framing::none);
    if (full.head.minor >= 1) {
        FUZZ_CHECK(inside(fr.host, whole.get(), full.r.consumed));
    }
    if (fr.body != request_framing::chunked) return;

    // The body: at once, then in pieces; both must agree.
    const char* body = data + full.r.consumed;
    const std::size_t body_len = size - full.r.consumed;
    chunked_decoder::limits lim;
    lim.max_extension = 16 + rng.next() % 64;
    lim.max_trailer_bytes = 16 + rng.next() % 256;
    lim.max_body = rng.next() % 2 ? UINT64_MAX : rng.next() % 4096;
    const decode_outcome once = decode_chunked(body, body_len, lim, nullptr);
    const decode_outcome pieces = decode_chunked(body, body_len, lim, &rng);
    check_same_decoding(once, pieces);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* in = reinterpret_cast<const char*>(data);
    std::uint64_t seed = 1469598103934665603ULL;
    for (std::size_t i = 0; i < size; ++i)
        seed = (seed ^ data[i]) * 1099511628211ULL;
    splitmix rng{seed};
    // The server's defaults, then tight limits that make 414 and 431 easy to reach.
    run(in, size, head_limits{}, 100, rng);
    run(in, size, head_limits{48, 160}, 4, rng);
    return 0;
}
