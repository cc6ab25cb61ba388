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

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

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

using field_pairs = std::vector<std::pair<std::string, std::string>>;

struct want {
    enum kind_t { done, incomplete, error } kind = done;
    int status = 0;
    std::string payload;  ///< done: the whole payload; incomplete: what is decoded so far
    std::size_t tail = 0; ///< done: bytes after the body, not consumed
    field_pairs trailers;
    chunked_decoder::limits limits{};
    std::size_t max_trailers = 16;

    want tr(std::string name, std::string value) {
        trailers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    want rest(std::size_t n) {
        tail = n;
        return *this;
    }
    want ext(std::size_t n) {
        limits.max_extension = n;
        return *this;
    }
    want trailer_bytes(std::size_t n) {
        limits.max_trailer_bytes = n;
        return *this;
    }
    want max_body(std::uint64_t n) {
        limits.max_body = n;
        return *this;
    }
    want max_fields(std::size_t n) {
        max_trailers = n;
        return *this;
    }
};

/// The body decodes to `payload`.
want body(std::string payload) {
    want w;
    w.payload = std::move(payload);
    return w;
}
/// The decoder rejects the body with `status`.
want bad(int status) {
    want w;
    w.kind = want::error;
    w.status = status;
    return w;
}
/// The body is not finished; `payload` is decoded so far.
want partial(std::string payload) {
    want w;
    w.kind = want::incomplete;
    w.payload = std::move(payload);
    return w;
}

struct row {
    const char* what;
    std::string input;
    want expected;
};

std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    return size + "\r\n"s + std::string(data) + "\r\n";
}

std::vector<row> make_rows() {
    std::string tiny;
    std::string tiny_payload;
    for (int i = 0; i < 200; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        tiny += chunk(std::string(1, c));
        tiny_payload += c;
    }
    tiny += "0\r\n\r\n";
    std::string big_data(5000, '\0');
    for (std::size_t i = 0; i < big_data.size(); ++i)
        big_data[i] = static_cast<char>(i * 7);
    const std::string binary = "\0\xff\r\n\x01"s;
    const std::string next_request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

    return {
        // --- valid bodies -------------------------------------------------------------------
        {"one chunk", "5\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"s, body("hello world")},
        {"empty body", "0\r\n\r\n"s, body("")},
        {"uppercase hex size", "A\r\n0123456789\r\n0\r\n\r\n"s, body("0123456789")},
        {"lowercase hex size", "a\r\n0123456789\r\n0\r\n\r\n"s, body("0123456789")},
        {"two-digit mixed-case hex",
         "1F\r\n" + std::string(31, 'x') + "\r\n1f\r\n" + std::string(31, 'y') + "\r\n0\r\n\r\n",
         body(std::string(31, 'x') + std::string(31, 'y'))},
        {"leading zeros in the size", "0005\r\nhello\r\n000\r\n\r\n"s, body("hello")},
        {"15 hex digits", "000000000000005\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension name", "5;name\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension name=value", "5;name=value\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension with a quoted value", "5;n=\"quoted; \\\"value\\\"\"\r\nhello\r\n0\r\n\r\n"s,
         body("hello")},
        {"several extensions", "5;a=1;b=2;c\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension on the last chunk", "5\r\nhello\r\n0;last=1\r\n\r\n"s, body("hello")},
        {"BWS before the extension", "5 \t ;a\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"BWS inside the extension", "5; a = 1 \r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension exactly at its limit", "5;12345678\r\nhello\r\n0\r\n\r\n"s,
         body("hello").ext(8)},
        {"extension limit applies per chunk",
         "1;1234567\r\na\r\n1;1234567\r\nb\r\n0;1234567\r\n\r\n"s, body("ab").ext(8)},
        {"one trailer field", "5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"s, body("hello").tr("X-T", "v")},
        {"two trailer fields", "0\r\nA: 1\r\nB: 2\r\n\r\n"s, body("").tr("A", "1").tr("B", "2")},
        {"trailer OWS trimmed", "0\r\nA:  \t x y \t\r\n\r\n"s, body("").tr("A", "x y")},
        {"trailer with an empty value", "0\r\nA:\r\n\r\n"s, body("").tr("A", "")},
        {"trailer with obs-text", "0\r\nA: \x80\xff\r\n\r\n"s, body("").tr("A", "\x80\xff")},
        {"200 one-byte chunks", tiny, body(tiny_payload)},
        {"CRLFs inside the data", "4\r\n\r\n\r\n\r\n0\r\n\r\n"s, body("\r\n\r\n")},
        {"data that looks like a last chunk", "5\r\n0\r\n\r\n\r\n0\r\n\r\n"s, body("0\r\n\r\n")},
        {"binary data", chunk(binary) + "0\r\n\r\n", body(binary)},
        {"5000-byte chunk", chunk(big_data) + "0\r\n\r\n", body(big_data)},
        {"a request after the body is not consumed", "5\r\nhello\r\n0\r\n\r\n" + next_request,
         body("hello").rest(next_request.size())},
        {"bytes after trailers are not consumed", "0\r\nA: 1\r\n\r\nXYZ"s,
         body("").tr("A", "1").rest(3)},
        {"body exactly at max_body", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"s,
         body("helloworld").max_body(10)},
        {"empty body with max_body 0", "0\r\n\r\n"s, body("").max_body(0)},
        {"trailer section exactly at its limit", "0\r\nX-T: 123456789\r\n\r\n"s,
         body("").tr("X-T", "123456789").trailer_bytes(16)},
        {"trailer fields exactly at the field limit", "0\r\nA: 1\r\nB: 2\r\n\r\n"s,
         body("").tr("A", "1").tr("B", "2").max_fields(2)},

        // --- incomplete ---------------------------------------------------------------------
        {"nothing yet", ""s, partial("")},
        {"size only", "5"s, partial("")},
        {"inside the data", "5\r\nhel"s, partial("hel")},
        {"before the data's CRLF", "5\r\nhello"s, partial("hello")},
        {"last chunk without the empty line", "5\r\nhello\r\n0\r\n"s, partial("hello")},
        {"inside a trailer field", "0\r\nX-T: v\r\n"s, partial("")},
        {"half the final CRLF", "0\r\n\r"s, partial("")},

        // --- errors -------------------------------------------------------------------------
        {"non-hex size", "g\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"junk after the size", "5x\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"empty size", "\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"space before the size", " 5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"whitespace before the CRLF of the size line", "5 \r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"tab before the CRLF of the last chunk", "5\r\nhello\r\n0\t\r\n\r\n"s, bad(400)},
        {"negative size", "-5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"plus sign", "+5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"16 hex digits", "1000000000000000\r\n"s, bad(400)},
        {"16 zeros", "0000000000000000\r\n\r\n"s, bad(400)},
        {"size overflowing 64 bits", "ffffffffffffffffff\r\n"s, bad(400)},
        {"size line ends in bare LF", "5\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"size line ends in bare CR", "5\rhello\r\n0\r\n\r\n"s, bad(400)},
        {"missing CRLF after the data", "5\r\nhelloX\r\n0\r\n\r\n"s, bad(400)},
        {"data longer than its size", "3\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare LF after the data", "5\r\nhello\n0\r\n\r\n"s, bad(400)},
        {"bare CR after the data", "5\r\nhello\r0\r\n\r\n"s, bad(400)},
        {"extension one byte over its limit", "5;123456789\r\nhello\r\n0\r\n\r\n"s,
         bad(400).ext(8)},
        {"extension over 1024 bytes", "5;" + std::string(1100, 'e') + "\r\nhello\r\n0\r\n\r\n",
         bad(400)},
        {"control char in an extension",
         "5;a\x01"
         "b\r\nhello\r\n0\r\n\r\n"s,
         bad(400)},
        {"NUL in an extension", "5;a\0b\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"DEL in an extension", "5;a\x7f\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare LF in an extension", "5;a\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare CR in an extension", "5;a\rb\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"one chunk over max_body", "b\r\nhello world\r\n0\r\n\r\n"s, bad(413).max_body(10)},
        {"chunks summing over max_body", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"s,
         bad(413).max_body(10)},
        {"any data with max_body 0", "1\r\nx\r\n0\r\n\r\n"s, bad(413).max_body(0)},
        {"huge size with the default max_body", "fffffffffffffff\r\n"s, partial("")},
        {"huge size with max_body", "fffffffffffffff\r\n"s, bad(413).max_body(1u << 20)},
        {"trailer section one byte over its limit", "0\r\nX-T: 1234567890\r\n\r\n"s,
         bad(431).trailer_bytes(16)},
        {"trailer section without end over its limit", "0\r\nX-T: " + std::string(100, 'x'),
         bad(431).trailer_bytes(64)},
        {"more trailer fields than room", "0\r\nA: 1\r\nB: 2\r\n\r\n"s, bad(431).max_fields(1)},
        {"whitespace before a trailer colon", "0\r\nX-T : v\r\n\r\n"s, bad(400)},
        {"obs-fold in the trailers", "0\r\nX-T: v\r\n w\r\n\r\n"s, bad(400)},
        {"trailer line without a colon", "0\r\nGARBAGE\r\n\r\n"s, bad(400)},
        {"control char in a trailer value",
         "0\r\nX-T: a\x01"
         "b\r\n\r\n"s,
         bad(400)},
        {"bare LF ends a trailer field", "0\r\nX-T: v\n\r\n"s, bad(400)},
        {"bare LF as the final line", "0\r\n\n\n"s, bad(400)},
        {"bare CR at the start of the trailers", "0\r\n\rX\r\n\r\n"s, bad(400)},
        {"invalid trailer field name", "0\r\nX(T): v\r\n\r\n"s, bad(400)},
    };
}

const std::vector<row>& rows() {
    static const std::vector<row> r = make_rows();
    return r;
}

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

    std::string text() const {
        switch (kind) {
        case want::error:
            return "error " + std::to_string(status);
        case want::incomplete:
            return "incomplete payload=" + escape(payload);
        case want::done:
            break;
        }
        std::string s = "done consumed=" + std::to_string(consumed) + " payload=" + escape(payload);
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
    dec.reset();
    EXPECT_FALSE(dec.finished());
    EXPECT_EQ(dec.payload_bytes(), 0u);
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

} // namespace
