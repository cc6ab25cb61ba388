// SPDX-License-Identifier: MIT
// Table-driven tests of the request-head parser (parse_request_head) and of the framing
// analysis that runs on the fields it returns (analyze_request), against RFC 9112/9110.
//
// Every row is checked four ways:
//   AtOnce       the whole input in one buffer: the expected outcome, exactly.
//   ByteByByte   every prefix, growing one byte at a time. The rule asserted: the outcomes form
//                a run of `incomplete` followed by the final outcome, never anything else. For
//                a complete head that switch happens exactly at the head's length (a strict
//                prefix of a head is never complete); an error may be reported on a prefix as
//                soon as it is determinable, but then with the final status, and it never goes
//                back to `incomplete` after that.
//   Split        the input in two pieces at every offset, each copied in turn into one buffer:
//                the first piece alone obeys the prefix rule, find_head_end() resumed from the
//                split point agrees with a full scan, and the joined buffer gives the final
//                outcome.
//   FindHeadEnd  find_head_end() agrees with a naive scan, with `from` at every offset whose
//                prefix held no head end, and parsing only up to the end it finds (as the
//                connection does) gives the same outcome, or incomplete only when the bytes up
//                to that end are empty lines (which the connection then drops).
// Each input is copied so that it ends right before a PROT_NONE page: a read past the end of
// the buffer (a 16-byte SIMD load near the end, say) crashes the test.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "guarded_region.hpp"
#include "parser_rows.hpp"

#include "http1/framing.hpp"
#include "http1/parser.hpp"

namespace {

using namespace std::string_literals;
using wharf::header_field;
using wharf::http1::analyze_request;
using wharf::http1::find_head_end;
using wharf::http1::head_limits;
using wharf::http1::parse_request_head;
using wharf::http1::parse_result;
using wharf::http1::request_framing;
using wharf::http1::request_head;

using wharf_test::guarded_region;

guarded_region& region() {
    static guarded_region r(128 * 1024);
    return r;
}

using namespace wharf_test::parser_table;

// ---------------------------------------------------------------------------------------------
// Running the parser and the framing analysis on a buffer.

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

bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

struct outcome {
    parse_result r{parse_result::incomplete};
    request_head head;
    std::vector<header_field> fields;
    request_framing framing;
    std::string text; ///< all of the above, as text, for comparing runs
};

/// Parses `buf[0, len)` with the row's limits and, when complete, analyzes the framing. Checks
/// the invariants that hold for every input.
outcome parse_at(const char* buf, std::size_t len, const want& w) {
    outcome o;
    std::vector<header_field> scratch(w.max_fields);
    o.r = parse_request_head(buf, len, o.head, scratch, w.limits);
    switch (o.r.kind) {
    case parse_result::incomplete:
        EXPECT_EQ(o.r.consumed, 0u);
        o.text = "incomplete";
        return o;
    case parse_result::error:
        EXPECT_TRUE(o.r.status == 400 || o.r.status == 414 || o.r.status == 431 ||
                    o.r.status == 505)
            << o.r.status;
        EXPECT_NE(o.r.reason, nullptr);
        o.text = "error " + std::to_string(o.r.status);
        return o;
    case parse_result::complete:
        break;
    }
    EXPECT_GT(o.r.consumed, 0u);
    EXPECT_LE(o.r.consumed, len);
    EXPECT_LE(o.head.num_headers, scratch.size());
    const std::size_t used = o.r.consumed;
    EXPECT_TRUE(inside(o.head.method, buf, used));
    EXPECT_TRUE(inside(o.head.target, buf, used));
    EXPECT_FALSE(o.head.method.empty());
    EXPECT_FALSE(o.head.target.empty());
    EXPECT_EQ(o.head.major, 1);
    o.fields.assign(scratch.begin(),
                    scratch.begin() + static_cast<std::ptrdiff_t>(o.head.num_headers));
    o.text = "complete " + std::to_string(used) + " " + escape(o.head.method) + " " +
             escape(o.head.target) + " HTTP/" + std::to_string(o.head.major) + "." +
             std::to_string(o.head.minor) + " [";
    for (const header_field& f : o.fields) {
        EXPECT_TRUE(inside(f.name, buf, used));
        EXPECT_TRUE(inside(f.value, buf, used));
        EXPECT_FALSE(f.name.empty());
        for (const char c : f.name)
            EXPECT_TRUE(is_tchar(c)) << escape(f.name);
        if (!f.value.empty()) {
            EXPECT_NE(f.value.front(), ' ');
            EXPECT_NE(f.value.front(), '\t');
            EXPECT_NE(f.value.back(), ' ');
            EXPECT_NE(f.value.back(), '\t');
        }
        for (const char c : f.value) {
            const auto u = static_cast<unsigned char>(c);
            EXPECT_TRUE(u == '\t' || (u >= 0x20 && u != 0x7f)) << escape(f.value);
        }
        o.text += escape(f.name) + "=" + escape(f.value) + ";";
    }
    o.framing = analyze_request(o.head, o.fields);
    const request_framing& fr = o.framing;
    EXPECT_TRUE(fr.status == 0 || fr.status == 400 || fr.status == 417 || fr.status == 501)
        << fr.status;
    o.text += "] body=" + std::to_string(fr.body) + " cl=" + std::to_string(fr.content_length) +
              " ka=" + std::to_string(fr.keep_alive) + " ec=" + std::to_string(fr.expect_continue) +
              " up=" + std::to_string(fr.upgrade) + " host=" + escape(fr.host) +
              " fstatus=" + std::to_string(fr.status);
    return o;
}

/// Checks a full-length outcome against the row's expectation.
void check_expected(const outcome& o, const want& w, std::size_t len) {
    switch (w.stage) {
    case want::incomplete:
        EXPECT_EQ(o.r.kind, parse_result::incomplete) << o.text;
        return;
    case want::parse_error:
        ASSERT_EQ(o.r.kind, parse_result::error) << o.text;
        EXPECT_EQ(o.r.status, w.status) << o.r.reason;
        return;
    case want::framing_error:
        ASSERT_EQ(o.r.kind, parse_result::complete) << o.text << " (" << o.r.reason << ")";
        EXPECT_EQ(o.r.consumed, len - w.tail);
        EXPECT_EQ(o.framing.status, w.status) << o.text << " (" << o.framing.reason << ")";
        return;
    case want::complete:
        break;
    }
    ASSERT_EQ(o.r.kind, parse_result::complete) << o.text << " (" << o.r.reason << ")";
    EXPECT_EQ(o.r.consumed, len - w.tail);
    EXPECT_EQ(o.head.method, w.method);
    EXPECT_EQ(o.head.target, w.target);
    EXPECT_EQ(o.head.major, 1);
    EXPECT_EQ(o.head.minor, w.minor);
    EXPECT_EQ(o.head.num_headers, w.fields);
    for (const auto& [i, name, value] : w.checks) {
        ASSERT_LT(i, o.fields.size());
        EXPECT_EQ(o.fields[i].name, name) << "field " << i;
        EXPECT_EQ(o.fields[i].value, value) << "field " << i;
    }
    const request_framing& fr = o.framing;
    EXPECT_EQ(fr.status, 0) << fr.reason;
    EXPECT_EQ(fr.body, w.body);
    EXPECT_EQ(fr.content_length, w.length);
    EXPECT_EQ(fr.keep_alive, w.keep_alive.value_or(w.minor >= 1));
    EXPECT_EQ(fr.expect_continue, w.expect_continue);
    EXPECT_EQ(fr.upgrade, w.upgrade);
    if (w.host) {
        EXPECT_EQ(fr.host, *w.host);
    }
}

/// The prefix rule (see the top of the file): `prefix` is the outcome of a strict prefix of
/// `prefix_len` bytes, `full` that of the whole input; `erred` tracks whether an earlier,
/// shorter prefix already failed.
void check_prefix(const outcome& prefix, std::size_t prefix_len, const outcome& full, bool& erred) {
    switch (full.r.kind) {
    case parse_result::complete:
        if (prefix_len < full.r.consumed) {
            EXPECT_EQ(prefix.text, "incomplete") << "prefix of " << prefix_len;
        } else {
            EXPECT_EQ(prefix.text, full.text) << "prefix of " << prefix_len;
        }
        return;
    case parse_result::incomplete:
        EXPECT_EQ(prefix.text, "incomplete") << "prefix of " << prefix_len;
        return;
    case parse_result::error:
        if (prefix.r.kind == parse_result::incomplete) {
            EXPECT_FALSE(erred) << "incomplete after an error, prefix of " << prefix_len;
        } else {
            EXPECT_EQ(prefix.text, full.text) << "prefix of " << prefix_len;
            erred = true;
        }
        return;
    }
}

/// What find_head_end() must find: just past the first LF that a LF or CRLF follows.
std::size_t naive_head_end(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\n') continue;
        if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
        if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------

class Http1ParserRows : public ::testing::TestWithParam<std::size_t> {
  protected:
    const row& r() const { return rows()[GetParam()]; }
};

TEST_P(Http1ParserRows, AtOnce) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    const std::size_t n = t.input.size();
    ASSERT_LE(n, region().capacity());
    const char* buf = region().place(t.input);
    const outcome o = parse_at(buf, n, t.expected);
    check_expected(o, t.expected, n);
}

TEST_P(Http1ParserRows, ByteByByte) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    const std::size_t n = t.input.size();
    const outcome full = parse_at(region().place(t.input), n, t.expected);
    check_expected(full, t.expected, n);
    bool erred = false;
    for (std::size_t len = 0; len < n; ++len) {
        const char* buf = region().place(std::string_view(t.input).substr(0, len));
        const outcome o = parse_at(buf, len, t.expected);
        check_prefix(o, len, full, erred);
        if (::testing::Test::HasFailure()) return; // one report, not thousands
    }
}

TEST_P(Http1ParserRows, SplitEverywhere) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    const std::string_view in = t.input;
    const std::size_t n = in.size();
    const outcome full = parse_at(region().place(in), n, t.expected);
    const std::size_t full_end = naive_head_end(in);
    for (std::size_t k = 0; k <= n; ++k) {
        // The first piece alone, as a connection sees it after one read.
        const char* first = region().place(in.substr(0, k));
        const std::size_t first_end = find_head_end(first, k, 0);
        bool erred = false;
        if (k < n) check_prefix(parse_at(first, k, t.expected), k, full, erred);

        // Both pieces, copied one after the other into one buffer.
        char* buf = region().end() - n;
        std::memcpy(buf, in.data(), k);
        std::memcpy(buf + k, in.data() + k, n - k);
        if (first_end == 0) {
            EXPECT_EQ(find_head_end(buf, n, k), full_end) << "split at " << k;
        }
        EXPECT_EQ(parse_at(buf, n, t.expected).text, full.text) << "split at " << k;
        if (::testing::Test::HasFailure()) return;
    }
}

TEST_P(Http1ParserRows, FindHeadEnd) {
    const row& t = r();
    SCOPED_TRACE(t.what);
    const std::string_view in = t.input;
    const std::size_t n = in.size();
    const char* buf = region().place(in);
    const outcome full = parse_at(buf, n, t.expected);
    const std::size_t end = find_head_end(buf, n, 0);
    ASSERT_EQ(end, naive_head_end(in));

    // Resuming from any offset whose prefix held no end finds the same end.
    for (std::size_t from = 0; from <= n; ++from) {
        if (naive_head_end(in.substr(0, from)) != 0) break;
        ASSERT_EQ(find_head_end(buf, n, from), end) << "from " << from;
    }

    // A complete head always has its end found. Parsing only up to that end (what the
    // connection does once it has scanned for it) gives the same outcome, or incomplete when
    // the end found closes empty lines before the request line: the connection drops those
    // bytes, so an incomplete result for anything else would lose a request.
    if (full.r.kind == parse_result::complete) {
        ASSERT_NE(end, 0u);
    }
    if (end == 0) return;
    const char* head = region().place(in.substr(0, end));
    const outcome upto = parse_at(head, end, t.expected);
    if (upto.text == "incomplete") {
        EXPECT_EQ(in.substr(0, end).find_first_not_of("\r\n"), std::string_view::npos)
            << "the parser calls a head that has its end incomplete: " << escape(in.substr(0, end));
    } else if (full.r.kind == parse_result::complete) {
        EXPECT_EQ(end, full.r.consumed);
        EXPECT_EQ(upto.text, full.text);
    } else {
        EXPECT_EQ(upto.text, full.text);
    }
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& info) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "r%03zu_", info.param);
    std::string name = prefix;
    bool underscore = true;
    for (const char* p = rows()[info.param].what.c_str(); *p; ++p) {
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

INSTANTIATE_TEST_SUITE_P(Table, Http1ParserRows, ::testing::Range<std::size_t>(0, rows().size()),
                         row_name);

TEST(Http1ParserGuard, ReadingPastTheBufferTraps) {
    // The premise of every test here: the byte after a placed input is not readable.
    const char* end = region().place("GET") + 3;
    EXPECT_DEATH(
        {
            const volatile char* p = end;
            std::printf("%d\n", *p);
        },
        "");
}

// ---------------------------------------------------------------------------------------------
// find_head_end() edge cases and properties beyond the rows.

TEST(Http1ParserFindHeadEnd, Basics) {
    const auto fhe = [](std::string_view s, std::size_t from = 0) {
        return find_head_end(region().place(s), s.size(), from);
    };
    EXPECT_EQ(fhe(""), 0u);
    EXPECT_EQ(fhe("\n"), 0u);
    EXPECT_EQ(fhe("\n\n"), 2u);
    EXPECT_EQ(fhe("\r\n\r\n"), 4u);
    EXPECT_EQ(fhe("\r\n\r"), 0u);
    EXPECT_EQ(fhe("a\r\n\r\nb"), 5u);
    EXPECT_EQ(fhe("a\n\r\nb"), 4u);
    EXPECT_EQ(fhe("a\r\nb\r\n"), 0u);
    EXPECT_EQ(fhe("a\r\n\rb\r\n\r\n"), 9u);
    EXPECT_EQ(fhe("a\r\n\r\nb\r\n\r\n", 7), 10u); // from past the first end: the next one
    EXPECT_EQ(fhe("a\r\n\r\n", 100), 0u);         // from past len
    EXPECT_EQ(fhe(std::string(5000, 'x') + "\r\n\r\n", 4000), 5004u);
}

TEST(Http1ParserFindHeadEnd, EveryPlacementOfTheEnd) {
    // A blank line at every offset of a 70-byte line, for every `from` before it.
    for (std::size_t at = 0; at <= 70; ++at) {
        const std::string s = std::string(at, 'x') + "\r\n\r\n" + std::string(70 - at, 'y');
        const char* buf = region().place(s);
        for (std::size_t from = 0; from <= at + 3; ++from)
            ASSERT_EQ(find_head_end(buf, s.size(), from), at + 4) << at << " " << from;
    }
}

// ---------------------------------------------------------------------------------------------
// Properties of parse_request_head() beyond single rows.

/// What a target may hold outside a percent-escape: RFC 3986's characters but '#' and '%'.
bool is_target_char(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c > 0 && std::string_view("-._~!$&'()*+,;=:/?@[]").find(static_cast<char>(c)) !=
                         std::string_view::npos);
}

TEST(Http1ParserProps, EveryByteInTarget) {
    // At every position of a 40-byte target, so both the SIMD and the scalar loops see it. The
    // filler 'x' is no HEXDIG, so a '%' never starts a valid escape here.
    for (int c = 0; c < 256; ++c) {
        const bool allowed = is_target_char(c);
        for (std::size_t at = 1; at < 40; ++at) {
            std::string target = "/" + std::string(39, 'x');
            target[at] = static_cast<char>(c);
            const std::string in = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
            request_head head;
            std::vector<header_field> fields(4);
            const parse_result r =
                parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
            if (c == ' ') {
                // A second space ends the target early: the version is then wrong.
                EXPECT_EQ(r.status, 400) << c << " at " << at;
            } else if (allowed) {
                EXPECT_EQ(r.kind, parse_result::complete) << c << " at " << at;
                EXPECT_EQ(head.target, target) << c << " at " << at;
            } else {
                ASSERT_EQ(r.kind, parse_result::error) << c << " at " << at;
                EXPECT_EQ(r.status, 400) << c << " at " << at;
            }
        }
    }
}

TEST(Http1ParserProps, EveryPercentEscape) {
    // '%' and every pair of bytes after it, early in the target and past 16 bytes: valid exactly
    // when both are HEXDIGs.
    const auto hex = [](int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    request_head head;
    std::vector<header_field> fields(4);
    for (const std::size_t at : {std::size_t{1}, std::size_t{21}}) {
        for (int hi = 0; hi < 256; ++hi) {
            for (int lo = 0; lo < 256; ++lo) {
                std::string target = "/" + std::string(30, 'x');
                target[at] = '%';
                target[at + 1] = static_cast<char>(hi);
                target[at + 2] = static_cast<char>(lo);
                const std::string in = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
                const parse_result r =
                    parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
                if (hex(hi) && hex(lo)) {
                    ASSERT_EQ(r.kind, parse_result::complete) << hi << " " << lo << " at " << at;
                } else {
                    ASSERT_EQ(r.kind, parse_result::error) << hi << " " << lo << " at " << at;
                    ASSERT_EQ(r.status, 400) << hi << " " << lo << " at " << at;
                }
            }
        }
    }
}

TEST(Http1ParserProps, ReasonsSayWhatIsWrong) {
    const auto parse_reason = [](std::string_view request_line) {
        const std::string in = line11(request_line);
        request_head head;
        std::vector<header_field> fields(4);
        return std::string(
            parse_request_head(region().place(in), in.size(), head, fields, head_limits{}).reason);
    };
    EXPECT_EQ(parse_reason("GET /a<b HTTP/1.1"), "invalid character in request target");
    EXPECT_EQ(parse_reason("GET /a#b HTTP/1.1"), "invalid character in request target");
    EXPECT_EQ(parse_reason("GET /a\x80 HTTP/1.1"), "invalid character in request target");
    EXPECT_EQ(parse_reason("GET /a%zz HTTP/1.1"), "malformed percent-encoding in request target");
    EXPECT_EQ(parse_reason("GET /a%4 HTTP/1.1"), "malformed percent-encoding in request target");

    const auto framing_reason = [](const std::string& in) {
        request_head head;
        std::vector<header_field> fields(4);
        const parse_result r =
            parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
        EXPECT_EQ(r.kind, parse_result::complete) << r.reason;
        const request_framing f = analyze_request(head, std::span(fields.data(), head.num_headers));
        EXPECT_EQ(f.status, 400);
        return std::string(f.reason);
    };
    EXPECT_EQ(framing_reason(host11("host:8x0")), "malformed port in Host header");
    EXPECT_EQ(framing_reason(host11("[::1")), "malformed IP literal in Host header");
    EXPECT_EQ(framing_reason(host11("a b")), "invalid character in Host header");
    EXPECT_EQ(framing_reason(host11("a,b")), "invalid character in Host header");
    EXPECT_EQ(framing_reason(host11(":80")), "port without a host in Host header");
    EXPECT_EQ(framing_reason(line11("GET http://h:8x0/ HTTP/1.1")),
              "malformed port in the request target");
    EXPECT_EQ(framing_reason(line11("GET http://:80/ HTTP/1.1")),
              "empty host in the request target");
    EXPECT_EQ(framing_reason(line11("CONNECT h: HTTP/1.1")),
              "missing port in an authority-form request target");
}

TEST(Http1ParserProps, EveryByteInMethodAndName) {
    for (int c = 0; c < 256; ++c) {
        const std::string b(1, static_cast<char>(c));
        const bool tchar = is_tchar(static_cast<char>(c));
        // At every position of a 33-byte token, so both the SIMD and the scalar loops see it.
        for (std::size_t at = 0; at < 33; ++at) {
            std::string tok(33, 'A');
            tok[at] = static_cast<char>(c);
            request_head head;
            std::vector<header_field> fields(4);
            const std::string req = tok + " / HTTP/1.1\r\nHost: h\r\n\r\n";
            const parse_result r1 =
                parse_request_head(region().place(req), req.size(), head, fields, head_limits{});
            EXPECT_EQ(r1.kind == parse_result::complete, tchar) << c << " at " << at;
            if (!tchar) {
                EXPECT_EQ(r1.status, 400) << c;
            }
            const std::string field = "GET / HTTP/1.1\r\nHost: h\r\n" + tok + ": v\r\n\r\n";
            const parse_result r2 = parse_request_head(region().place(field), field.size(), head,
                                                       fields, head_limits{});
            // A colon inside the token ends the name early: "AA:AA...: v" is a valid field.
            const bool field_ok = tchar || (c == ':' && at > 0);
            EXPECT_EQ(r2.kind == parse_result::complete, field_ok) << c << " at " << at;
            if (!field_ok) {
                EXPECT_EQ(r2.status, 400) << c;
            }
        }
    }
}

TEST(Http1ParserProps, EveryByteInValue) {
    for (int c = 0; c < 256; ++c) {
        const bool allowed = c == '\t' || (c >= 0x20 && c != 0x7f);
        for (std::size_t at = 0; at < 40; at += 3) {
            std::string value(40, 'v');
            value[at] = static_cast<char>(c);
            const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX: " + value + "\r\n\r\n";
            request_head head;
            std::vector<header_field> fields(4);
            const parse_result r =
                parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
            // A tab or space at either end is trimmed, anywhere else it is kept.
            EXPECT_EQ(r.kind == parse_result::complete, allowed) << c << " at " << at;
            if (!allowed) {
                EXPECT_EQ(r.status, 400) << c << " at " << at;
            }
        }
    }
}

TEST(Http1ParserProps, LeadingEmptyLinesAreCounted) {
    for (std::size_t k = 0; k < 20; ++k) {
        std::string in;
        for (std::size_t i = 0; i < k; ++i)
            in += "\r\n";
        const std::size_t skipped = in.size();
        in += "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        request_head head;
        std::vector<header_field> fields(4);
        const parse_result r =
            parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
        ASSERT_EQ(r.kind, parse_result::complete);
        EXPECT_EQ(r.consumed, in.size());
        EXPECT_EQ(head.method.data(), region().end() - in.size() + skipped);
    }
}

TEST(Http1ParserProps, RequestLineLimitIsExact) {
    // The limit counts the request line without its CRLF.
    for (std::size_t limit = 14; limit < 60; ++limit) {
        for (std::size_t size = 14; size < 60; ++size) {
            const std::string line = "GET /" + std::string(size - 14, 'a') + " HTTP/1.1";
            ASSERT_EQ(line.size(), size);
            const std::string in = line11(line);
            request_head head;
            std::vector<header_field> fields(4);
            const parse_result r = parse_request_head(region().place(in), in.size(), head, fields,
                                                      head_limits{limit, 32768});
            if (size <= limit) {
                EXPECT_EQ(r.kind, parse_result::complete) << limit << " " << size;
            } else {
                EXPECT_EQ(r.status, 414) << limit << " " << size;
            }
        }
    }
}

TEST(Http1ParserProps, HeadLimitIsExact) {
    // The limit counts the whole head, request line and blank line included.
    const std::string in = get11("X: " + std::string(60, 'x') + "\r\n");
    for (std::size_t limit = in.size() - 5; limit < in.size() + 5; ++limit) {
        request_head head;
        std::vector<header_field> fields(4);
        const parse_result r = parse_request_head(region().place(in), in.size(), head, fields,
                                                  head_limits{8192, limit});
        if (in.size() <= limit) {
            EXPECT_EQ(r.kind, parse_result::complete) << limit;
        } else {
            EXPECT_EQ(r.status, 431) << limit;
        }
    }
}

TEST(Http1ParserProps, FieldsAreNotTouchedPastTheHead) {
    // A body that looks like fields is not parsed: only the head's fields are returned.
    const std::string body = "X: y\r\n\r\nGET / HTTP/1.";
    const std::string in = post11("Content-Length: " + std::to_string(body.size()) + "\r\n") + body;
    request_head head;
    std::vector<header_field> fields(8);
    const parse_result r =
        parse_request_head(region().place(in), in.size(), head, fields, head_limits{});
    ASSERT_EQ(r.kind, parse_result::complete);
    EXPECT_EQ(head.num_headers, 2u);
    EXPECT_EQ(r.consumed, in.size() - body.size());
}

} // namespace
