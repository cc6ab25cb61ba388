// SPDX-License-Identifier: MIT
// Table-driven tests of the chunked transfer-coding decoder (RFC 9112 §7.1).
//
// Each row is decoded
//   AtOnce       in one call,
//   ByteByByte   one byte per call,
//   Split        in two calls, split at every offset,
// each time twice: with the payload compacted in place the way the connection does it (the
// output lies at or before the input in one buffer, which holds the decoded payload followed by
// the raw bytes not consumed yet), and with a separate output buffer. The caller keeps what a
// call did not consume and offers it again with the next bytes. All runs must agree on the
// outcome: the payload, the bytes consumed (all but the row's tail), the trailer fields, or the
// error status. The bytes consumed before an error are not compared: an error may be found
// earlier when the bytes come in pieces. Until the final outcome every call reports incomplete,
// and the payload produced so far is always a prefix of the final payload. The raw bytes end
// right before a PROT_NONE page, so reading past them crashes.

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "chunked_rows.hpp"
#include "guarded_region.hpp"

#include "http1/chunked.hpp"

namespace {

using namespace std::string_literals;
using wharf::header_field;
using wharf::http1::chunked_decoder;

using wharf_test::guarded_region;

guarded_region& region() {
    static guarded_region r(64 * 1024);
    return r;
}

using namespace wharf_test::chunked_table;

std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\') {
            out += c;
        } else {
            char tmp[8];
            std::snprintf(tmp, sizeof tmp, "\\x%02x", u);
            out += tmp;
        }
    }
    return out;
}

bool inside(std::string_view v, const char* buf, std::size_t len) {
    const auto lo = reinterpret_cast<std::uintptr_t>(buf);
    const auto at = reinterpret_cast<std::uintptr_t>(v.data());
    return at >= lo && at + v.size() <= lo + len;
}

/// Where the payload goes: compacted in place before the raw bytes, as the connection does, or
/// into a buffer of its own.
enum class style { compact, separate };

struct run_result {
    want::kind_t kind = want::incomplete;
    int status = 0;
    std::size_t consumed = 0;
    std::string payload;
    field_pairs trailers;
    std::uint64_t framing = 0; ///< done: framing_bytes()

    std::string text() const {
        switch (kind) {
        case want::error:
            return "error " + std::to_string(status);
        case want::incomplete:
            return "incomplete payload=" + escape(payload);
        case want::done:
            break;
        }
        std::string s = "done consumed=" + std::to_string(consumed) +
                        " framing=" + std::to_string(framing) + " payload=" + escape(payload);
        for (const auto& [name, value] : trailers)
            s += " " + escape(name) + "=" + escape(value);
        return s;
    }
};

/// Feeds `in` to a fresh decoder in pieces that end at `cuts` (increasing offsets) and at the
/// end, the way a connection does: bytes not consumed are offered again with the next piece.
run_result run_pieces(std::string_view in, const std::vector<std::size_t>& cuts, style st,
                      const want& w) {
    chunked_decoder dec(w.limits);
    std::vector<header_field> trailers(w.max_trailers);
    std::string buf; // compact: payload [0, decoded), then raw bytes [raw, size)
    std::size_t decoded = 0;
    std::size_t raw = 0;
    std::string separate_out(in.size(), '\0');
    std::string pending; // separate: raw bytes not consumed yet
    run_result res;
    const std::size_t body_end = in.size() - (w.kind == want::done ? w.tail : 0);

    std::size_t fed = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : in.size();
        const std::string_view piece = in.substr(fed, to - fed);
        fed = to;

        chunked_decoder::result r{};
        const char* raw_start = nullptr;
        std::size_t raw_len = 0;
        if (st == style::compact) {
            buf += piece;
            char* base = region().place(buf);
            raw_start = base + raw;
            raw_len = buf.size() - raw;
            r = dec.decode(base + decoded, raw_start, raw_len, trailers);
            buf.assign(base, buf.size());
        } else {
            pending += piece;
            char* base = region().place(pending);
            raw_start = base;
            raw_len = pending.size();
            r = dec.decode(separate_out.data() + res.payload.size(), raw_start, raw_len, trailers);
        }

        // Invariants of every call.
        EXPECT_LE(r.consumed, raw_len);
        EXPECT_LE(r.produced, r.consumed);
        if (st == style::compact) {
            res.payload.assign(buf, 0, decoded + r.produced);
            decoded += r.produced;
            raw += r.consumed;
        } else {
            res.payload.append(separate_out, res.payload.size(), r.produced);
            pending.erase(0, r.consumed);
        }
        res.consumed += r.consumed;
        EXPECT_EQ(dec.payload_bytes(), res.payload.size());

        if (r.kind == chunked_decoder::result::error) {
            EXPECT_TRUE(r.status == 400 || r.status == 413 || r.status == 431) << r.status;
            EXPECT_FALSE(dec.finished());
            res.kind = want::error;
            res.status = r.status;
            return res;
        }
        if (r.kind == chunked_decoder::result::done) {
            EXPECT_TRUE(dec.finished());
            // Done exactly when the last byte of the body arrived, not before, not after.
            EXPECT_GE(fed, body_end);
            EXPECT_LT(fed - piece.size(), body_end);
            EXPECT_LE(dec.trailer_count(), trailers.size());
            // Every byte consumed is payload, framing or a trailer field.
            res.framing = dec.framing_bytes();
            if (dec.trailer_count() == 0) {
                EXPECT_EQ(res.framing + dec.payload_bytes(), res.consumed);
            } else {
                EXPECT_LT(res.framing + dec.payload_bytes(), res.consumed);
            }
            for (std::size_t t = 0; t < dec.trailer_count(); ++t) {
                EXPECT_TRUE(inside(trailers[t].name, raw_start, raw_len));
                EXPECT_TRUE(inside(trailers[t].value, raw_start, raw_len));
                res.trailers.emplace_back(trailers[t].name, trailers[t].value);
            }
            // Once done, the decoder takes nothing more.
            const chunked_decoder::result again =
                dec.decode(separate_out.data(), region().place("0\r\n\r\n"), 5, trailers);
            EXPECT_EQ(again.kind, chunked_decoder::result::done);
            EXPECT_EQ(again.consumed, 0u);
            EXPECT_EQ(again.produced, 0u);
            res.kind = want::done;
            return res;
        }
        EXPECT_EQ(r.status, 0);
        EXPECT_FALSE(dec.finished());
        // Before the trailer section, every byte consumed is payload or framing.
        EXPECT_EQ(dec.framing_bytes() + dec.payload_bytes(), res.consumed);
        // Streaming: what is decoded so far starts the final payload.
        if (w.kind == want::done) {
            EXPECT_EQ(w.payload.substr(0, res.payload.size()), res.payload) << "after " << fed;
        }
    }
    res.kind = want::incomplete;
    return res;
}

void check_expected(const run_result& got, const want& w, std::size_t len) {
    switch (w.kind) {
    case want::error:
        ASSERT_EQ(got.kind, want::error) << got.text();
        EXPECT_EQ(got.status, w.status);
        return;
    case want::incomplete:
        ASSERT_EQ(got.kind, want::incomplete) << got.text();
        EXPECT_EQ(got.payload, w.payload);
        return;
    case want::done:
        break;
    }
    ASSERT_EQ(got.kind, want::done) << got.text();
    EXPECT_EQ(got.consumed, len - w.tail);
    EXPECT_EQ(got.payload, w.payload);
    EXPECT_EQ(got.trailers, w.trailers);
    if (w.framing_bytes) {
        EXPECT_EQ(got.framing, *w.framing_bytes);
    }
}

class Http1ChunkedRows : public ::testing::TestWithParam<std::size_t> {
  protected:
    const row& r() const { return rows()[GetParam()]; }
};

TEST_P(Http1ChunkedRows, AtOnce) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    for (const style st : {style::compact, style::separate}) {
        SCOPED_TRACE(st == style::compact ? "compact" : "separate");
        check_expected(run_pieces(t.input, {}, st, t.expected), t.expected, t.input.size());
    }
}

TEST_P(Http1ChunkedRows, ByteByByte) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < t.input.size(); ++i)
        cuts.push_back(i);
    const std::string once = run_pieces(t.input, {}, style::separate, t.expected).text();
    for (const style st : {style::compact, style::separate}) {
        SCOPED_TRACE(st == style::compact ? "compact" : "separate");
        const run_result got = run_pieces(t.input, cuts, st, t.expected);
        check_expected(got, t.expected, t.input.size());
        EXPECT_EQ(got.text(), once);
    }
}

TEST_P(Http1ChunkedRows, SplitEverywhere) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    const std::string once = run_pieces(t.input, {}, style::separate, t.expected).text();
    for (std::size_t k = 0; k <= t.input.size(); ++k) {
        for (const style st : {style::compact, style::separate}) {
            const run_result got = run_pieces(t.input, {k}, st, t.expected);
            EXPECT_EQ(got.text(), once) << "split at " << k;
        }
        if (::testing::Test::HasFailure()) return;
    }
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& info) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "r%03zu_", info.param);
    std::string name = prefix;
    bool underscore = true;
    for (const char* p = rows()[info.param].what; *p; ++p) {
        const char c = *p;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            name += c;
            underscore = false;
        } else if (!underscore) {
            name += '_';
            underscore = true;
        }
    }
    while (!name.empty() && name.back() == '_')
        name.pop_back();
    return name;
}

INSTANTIATE_TEST_SUITE_P(Table, Http1ChunkedRows, ::testing::Range<std::size_t>(0, rows().size()),
                         row_name);

// ---------------------------------------------------------------------------------------------

TEST(Http1Chunked, EmptyCallsChangeNothing) {
    // Empty calls between one-byte calls change nothing; bytes a call leaves (the trailer
    // section waits whole in the caller's buffer) come again with the next byte.
    chunked_decoder dec;
    char out[64];
    std::vector<header_field> trailers(4);
    const std::string body = "3\r\nabc\r\n0\r\nA: b\r\n\r\n";
    std::string payload;
    std::string pending;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const auto none = dec.decode(out, region().place(""), 0, trailers);
        EXPECT_EQ(none.kind, chunked_decoder::result::incomplete);
        EXPECT_EQ(none.consumed, 0u);
        EXPECT_EQ(none.produced, 0u);
        pending += body[i];
        const auto r = dec.decode(out, region().place(pending), pending.size(), trailers);
        pending.erase(0, r.consumed);
        payload.append(out, r.produced);
        EXPECT_EQ(r.kind == chunked_decoder::result::done, i + 1 == body.size()) << i;
    }
    EXPECT_EQ(payload, "abc");
    EXPECT_TRUE(pending.empty());
    EXPECT_TRUE(dec.finished());
    ASSERT_EQ(dec.trailer_count(), 1u);
    EXPECT_EQ(trailers[0].name, "A");
}

TEST(Http1Chunked, ResetKeepsLimits) {
    chunked_decoder dec(chunked_decoder::limits{1024, 8192, 4});
    char out[16];
    std::string in = "4\r\nabcd\r\n0\r\n\r\n";
    auto r = dec.decode(out, region().place(in), in.size());
    EXPECT_EQ(r.kind, chunked_decoder::result::done);
    EXPECT_EQ(dec.payload_bytes(), 4u);
    EXPECT_EQ(dec.framing_bytes(), 10u);
    dec.reset();
    EXPECT_FALSE(dec.finished());
    EXPECT_EQ(dec.payload_bytes(), 0u);
    EXPECT_EQ(dec.framing_bytes(), 0u);
    in = "5\r\nabcde\r\n0\r\n\r\n";
    r = dec.decode(out, region().place(in), in.size());
    EXPECT_EQ(r.kind, chunked_decoder::result::error);
    EXPECT_EQ(r.status, 413);
}

TEST(Http1Chunked, TrailersNeedRoom) {
    // Without a span for them, trailer fields cannot be stored: 431.
    chunked_decoder dec;
    char out[16];
    const std::string in = "0\r\nA: 1\r\n\r\n";
    const auto r = dec.decode(out, region().place(in), in.size());
    EXPECT_EQ(r.kind, chunked_decoder::result::error);
    EXPECT_EQ(r.status, 431);
}

TEST(Http1Chunked, EverySizeRoundTrips) {
    // Chunks of every size from 0 to 300 bytes, hex both ways, decoded in place.
    for (std::size_t n = 1; n <= 300; ++n) {
        const std::string data(n, static_cast<char>('A' + n % 26));
        for (const bool upper : {false, true}) {
            char size[32];
            std::snprintf(size, sizeof size, upper ? "%zX" : "%zx", n);
            const std::string in = size + "\r\n"s + data + "\r\n0\r\n\r\n";
            chunked_decoder dec;
            char* buf = region().place(in);
            const auto r = dec.decode(buf, buf, in.size());
            ASSERT_EQ(r.kind, chunked_decoder::result::done) << n;
            EXPECT_EQ(r.consumed, in.size());
            ASSERT_EQ(r.produced, n);
            EXPECT_EQ(std::string_view(buf, n), data);
        }
    }
}

TEST(Http1Chunked, LimitDefaults) {
    // The framing fields come after the first three, so aggregate init with those keeps working.
    const chunked_decoder::limits three{16, 32, 64};
    EXPECT_EQ(three.max_extension, 16u);
    EXPECT_EQ(three.framing_allowance, 64u * 1024);
    EXPECT_EQ(three.framing_ratio, 8u);
    const chunked_decoder::limits defaults{};
    EXPECT_EQ(defaults.max_extension, 1024u);
    EXPECT_EQ(defaults.framing_allowance, 64u * 1024);
    EXPECT_EQ(defaults.framing_ratio, 8u);
    // A ratio that would overflow saturates instead of wrapping to a tiny bound.
    chunked_decoder dec(
        chunked_decoder::limits{1024, 8192, UINT64_MAX, UINT64_MAX - 1, UINT32_MAX});
    const std::string in = "1\r\nx\r\n1\r\ny\r\n0\r\n\r\n";
    char out[8];
    EXPECT_EQ(dec.decode(out, region().place(in), in.size()).kind, chunked_decoder::result::done);
}

/// The outcome of feeding a body in pieces the way a connection does: each piece is appended to
/// the bytes not consumed yet and the payload is compacted in place.
struct piecewise {
    chunked_decoder::result last{};
    std::size_t fed = 0;     ///< raw bytes offered in all when the outcome came
    std::size_t largest = 0; ///< the most bytes the caller ever had to keep for the decoder
    std::string payload;
};

piecewise feed_in_pieces(chunked_decoder& dec, std::string_view in, std::size_t piece) {
    piecewise p;
    std::string pending;
    while (p.fed < in.size()) {
        const std::size_t n = std::min(piece, in.size() - p.fed);
        pending.append(in.substr(p.fed, n));
        p.fed += n;
        p.largest = std::max(p.largest, pending.size());
        if (pending.size() > region().capacity()) {
            ADD_FAILURE() << "the decoder leaves " << pending.size() << " bytes unconsumed";
            return p;
        }
        char* raw = region().place(pending);
        p.last = dec.decode(raw, raw, pending.size());
        p.payload.append(raw, p.last.produced);
        pending.erase(0, p.last.consumed);
        if (p.last.kind != chunked_decoder::result::incomplete) return p;
    }
    return p;
}

TEST(Http1Chunked, ExtensionBoundedInPieces) {
    // 10 MiB of one extension part, fed in 4 KiB pieces: a 400 within max_extension and one
    // piece, so the decoder never needs, holds or scans the whole line. Before, BWS after the
    // size was not counted at all.
    constexpr std::size_t huge = 10u << 20;
    constexpr std::size_t piece = 4096;
    struct part {
        const char* prefix;
        char filler;
        const char* suffix;
    };
    const part parts[] = {
        {"1", ' ', ";a\r\n"},         // BWS after the size
        {"1", '\t', ";a\r\n"},        // HTAB as BWS
        {"1;", ' ', "a\r\n"},         // BWS after ';'
        {"1;", 'a', "\r\n"},          // a long name
        {"1;a", ' ', "=b\r\n"},       // BWS after a name
        {"1;a=", ' ', "b\r\n"},       // BWS after '='
        {"1;a=", 'b', "\r\n"},        // a long token value
        {"1;a=\"", 'x', "\"\r\n"},    // a long quoted string
        {"1;a=\"", ' ', "\"\r\n"},    // SP in a quoted string
        {"1;a=b", ' ', ";c\r\n"},     // BWS after a value
        {"1;a=\"b\"", ' ', ";c\r\n"}, // BWS after a quoted value
    };
    for (const std::size_t max_extension : {std::size_t{1024}, std::size_t{100}, std::size_t{0}}) {
        for (const part& pt : parts) {
            SCOPED_TRACE(std::string(pt.prefix) + " + filler '" + escape({&pt.filler, 1}) +
                         "', max_extension " + std::to_string(max_extension));
            std::string in =
                pt.prefix + std::string(huge, pt.filler) + pt.suffix + "x\r\n0\r\n\r\n";
            chunked_decoder::limits lim{};
            lim.max_extension = max_extension;

            chunked_decoder dec(lim);
            const piecewise p = feed_in_pieces(dec, in, piece);
            ASSERT_EQ(p.last.kind, chunked_decoder::result::error);
            EXPECT_EQ(p.last.status, 400);
            EXPECT_STREQ(p.last.reason, "chunk extension too long");
            EXPECT_LE(p.fed, std::strlen(pt.prefix) + max_extension + piece);
            EXPECT_LE(p.largest, piece);

            // At once: the error comes right after the limit, not at the end of the input.
            chunked_decoder once(lim);
            const auto r = once.decode(in.data(), in.data(), in.size());
            ASSERT_EQ(r.kind, chunked_decoder::result::error);
            EXPECT_EQ(r.status, 400);
            EXPECT_STREQ(r.reason, "chunk extension too long");
            EXPECT_LE(r.consumed, std::strlen(pt.prefix) + max_extension + 1);
        }
    }
}

TEST(Http1Chunked, FramingBoundedInPieces) {
    // 1-byte chunks with 1000-byte extensions (each within max_extension): ~1000 raw bytes per
    // payload byte, which the default limits used to take without end. Now a 400 once framing
    // passes framing_allowance + framing_ratio * payload, within one piece.
    constexpr std::size_t piece = 4096;
    const chunked_decoder::limits lim{};
    const std::string one = "1;" + std::string(998, 'e') + "\r\nx\r\n";
    std::string in;
    while (in.size() < (10u << 20))
        in += one;
    in += "0\r\n\r\n";

    chunked_decoder dec(lim);
    const piecewise p = feed_in_pieces(dec, in, piece);
    ASSERT_EQ(p.last.kind, chunked_decoder::result::error);
    EXPECT_EQ(p.last.status, 400);
    EXPECT_STREQ(p.last.reason, "chunk framing overhead too large");
    const std::uint64_t bound = lim.framing_allowance + lim.framing_ratio * dec.payload_bytes();
    EXPECT_GT(dec.framing_bytes(), bound);
    // Caught at once: past the bound by at most one run of extension bytes.
    EXPECT_LE(dec.framing_bytes(), bound + lim.max_extension + 1);
    EXPECT_LE(p.fed, bound + dec.payload_bytes() + lim.max_extension + 1 + piece);
    EXPECT_LT(p.fed, 80u * 1024);
    EXPECT_EQ(p.payload, std::string(dec.payload_bytes(), 'x'));
}

TEST(Http1Chunked, OneByteChunksLegalAtAnyLength) {
    // 1 MiB of payload in 1-byte chunks at the default limits: 5 framing bytes per payload byte
    // ("1\r\n" and "\r\n"), and 8 with 4-digit sizes, are within framing_ratio 8 at any length.
    // 5-digit sizes (9 per byte) are refused once the allowance is used up.
    constexpr std::size_t n = 1u << 20;
    constexpr std::size_t piece = 4096;
    const chunked_decoder::limits lim{};
    for (const int digits : {1, 4, 5}) {
        SCOPED_TRACE(std::to_string(digits) + "-digit sizes");
        const std::string one =
            std::string(static_cast<std::size_t>(digits - 1), '0') + "1\r\nx\r\n";
        std::string in;
        in.reserve(n * one.size() + 5);
        for (std::size_t i = 0; i < n; ++i)
            in += one;
        in += "0\r\n\r\n";
        chunked_decoder dec(lim);
        const piecewise p = feed_in_pieces(dec, in, piece);
        if (digits <= 4) {
            ASSERT_EQ(p.last.kind, chunked_decoder::result::done);
            EXPECT_EQ(p.fed, in.size());
            EXPECT_EQ(dec.payload_bytes(), n);
            EXPECT_EQ(dec.framing_bytes(), in.size() - n);
            EXPECT_EQ(p.payload, std::string(n, 'x'));
        } else {
            ASSERT_EQ(p.last.kind, chunked_decoder::result::error);
            EXPECT_EQ(p.last.status, 400);
            EXPECT_STREQ(p.last.reason, "chunk framing overhead too large");
            // One framing byte more per payload byte: the allowance lasts ~64 Ki chunks.
            EXPECT_EQ(dec.framing_bytes(),
                      lim.framing_allowance + lim.framing_ratio * dec.payload_bytes() + 1);
            EXPECT_LT(p.fed, lim.framing_allowance * (one.size() + 1));
        }
    }
}

} // namespace
