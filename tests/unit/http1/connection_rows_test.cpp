// SPDX-License-Identifier: MIT
// The HTTP/1 connection as a fixed contract: every row of the parser's table and of the chunked
// decoder's table goes through a whole http1::connection (a real worker, router and echo
// handler, over memory: connection_harness.hpp), and the bytes that come back are checked.
//
// Every row is run
//   AtOnce       all its bytes in one arrival: the outcome the row's expectation implies,
//                exactly (the response bytes for a request that is answered; the status, a
//                "Connection: close" and the FIN for one that is refused; nothing at all for
//                an incomplete one), and what the end of the peer's stream does then,
//   ByteByByte   one arrival per byte,
//   SlowPeer     one arrival per byte, and a peer that takes one byte per write,
//   Split        in two arrivals, split at every offset (for long inputs: every offset in the
//                first and last 64 bytes and every 37th in between),
// and every run of a row must give byte-identical output (Date normalized) and end the same
// way (FIN or not, before and after the peer's EOF). The one difference allowed is the interim
// "100 Continue": a server may leave it out once the body is already there (RFC 9110 §10.1.1),
// so it must come exactly when the head arrived alone.
//
// A parser row whose request is complete is completed for the connection where it needs more:
// a Content-Length body the row does not carry gets its missing bytes, a chunked one its last
// chunk. A row's limits become the server's (they map one to one, except the chunked framing
// bound and the trailer room, which the server does not configure: such rows run with the
// server's limits when their outcome does not depend on them, and are skipped otherwise).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "chunked_rows.hpp"
#include "connection_harness.hpp"
#include "parser_rows.hpp"

#include "wharf/status.hpp"

namespace {

namespace pt = wharf_test::parser_table;
namespace ct = wharf_test::chunked_table;
using wharf_test::connection_harness;
using wharf_test::echo_text;
using wharf_test::quiet_config;
using wharf_test::response_head;

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view chunked_head =
    "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n\n";
        } else if (u >= 0x20 && u < 0x7f && c != '\\') {
            out += c;
        } else {
            char tmp[8];
            std::snprintf(tmp, sizeof tmp, "\\x%02x", u);
            out += tmp;
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// What a row must do through a connection.

struct conn_case {
    enum kind_t {
        answered, ///< `expect` is every byte the server writes
        refused,  ///< one response with `status` and "Connection: close", then the FIN
        silent,   ///< an incomplete request: nothing is written, not even at the peer's EOF
    } kind = answered;
    std::string input;
    wharf::server_config config = quiet_config();
    std::string skip; ///< why the row cannot run through a connection, if it cannot
    std::string expect;
    bool closes = false; ///< answered: the last response ends the connection (FIN)
    int status = 0;
    bool may_continue = false; ///< "100 Continue" when the head arrives without body bytes
    std::size_t head_end = 0;  ///< where the head ends, for may_continue
};

/// The response the server writes for a complete request that it routes (or answers itself).
std::string answer_for(std::string_view method, std::string_view target, std::string_view body,
                       bool keep_alive, bool http10,
                       const std::vector<std::pair<std::string, std::string>>& trailers = {}) {
    constexpr std::string_view text_plain = "Content-Type: text/plain; charset=utf-8\r\n";
    if (target == "*") {
        // RFC 9110 §9.3.7: OPTIONS * asks about the server itself; it has no content, so
        // Content-Length: 0. Any other method has no resource at "*".
        if (method == "OPTIONS") return response_head(200, "OK", 0, keep_alive, http10);
        const std::string page = "400 Bad Request: '*' is only a target for OPTIONS\n";
        return response_head(400, "Bad Request", page.size(), keep_alive, http10, text_plain) +
               page;
    }
    if (method == "CONNECT") {
        // An origin server that is not a proxy does not implement CONNECT (RFC 9110 §9.3.6,
        // §15.6.2); the request has no content, so the connection stays usable.
        const std::string page = "501 Not Implemented: method not implemented\n";
        return response_head(501, "Not Implemented", page.size(), keep_alive, http10, text_plain) +
               page;
    }
    const std::string echo = echo_text(method, target, body, trailers);
    // HEAD: the Content-Length a GET would have, and no content (RFC 9110 §9.3.2).
    return response_head(200, "OK", echo.size(), keep_alive, http10) +
           (method == "HEAD" ? std::string() : echo);
}

/// A complete request at the start of `tail` ("METHOD TARGET HTTP/1.1 ... CRLF CRLF") adds its
/// answer to `c`; an incomplete one adds nothing (the server waits for the rest).
void add_next_request(conn_case& c, std::string_view tail) {
    if (tail.empty() || c.closes) return;
    const std::size_t end = tail.find("\r\n\r\n");
    if (end == std::string_view::npos) return; // incomplete: no answer, and none at EOF
    ASSERT_EQ(end + 4, tail.size()) << "one request after the row's body, and only one";
    const std::size_t sp1 = tail.find(' ');
    const std::size_t sp2 = tail.find(' ', sp1 + 1);
    ASSERT_NE(sp2, std::string_view::npos);
    c.expect +=
        answer_for(tail.substr(0, sp1), tail.substr(sp1 + 1, sp2 - sp1 - 1), {}, true, false);
}

conn_case parser_case(const pt::row& r) {
    const pt::want& w = r.expected;
    conn_case c;
    c.input = r.input;
    c.config.limits.max_request_line = w.limits.max_request_line;
    c.config.limits.max_header_bytes = w.limits.max_header_bytes;
    c.config.limits.max_headers = w.max_fields;
    switch (w.stage) {
    case pt::want::incomplete:
        c.kind = conn_case::silent;
        return c;
    case pt::want::parse_error:
    case pt::want::framing_error:
        // RFC 9112 §9.6/§11.2: a request whose framing is unknown (or refused) cannot be told
        // from the next one: the server answers and closes. Every refusal closes here.
        c.kind = conn_case::refused;
        c.status = w.status;
        return c;
    case pt::want::complete:
        break;
    }
    const std::string_view tail = std::string_view(r.input).substr(r.input.size() - w.tail);
    std::string body;
    std::string_view next = tail;
    if (w.body == wharf::http1::request_framing::length) {
        if (w.length > c.config.limits.max_body_size) {
            // More than the server buffers: 413, and the unread body makes it close.
            c.kind = conn_case::refused;
            c.status = 413;
            return c;
        }
        const auto length = static_cast<std::size_t>(w.length);
        if (tail.size() >= length) {
            body = tail.substr(0, length);
            next = tail.substr(length);
        } else {
            body = std::string(tail) + std::string(length - tail.size(), 'b');
            c.input += std::string(length - tail.size(), 'b');
            next = {};
        }
    } else if (w.body == wharf::http1::request_framing::chunked) {
        EXPECT_EQ(w.tail, 0u);
        c.input += "0\r\n\r\n";
        next = {};
    }
    const bool keep_alive = w.keep_alive.value_or(w.minor >= 1);
    c.closes = !keep_alive;
    c.expect = answer_for(w.method, w.target, body, keep_alive, w.minor == 0);
    add_next_request(c, next);
    // RFC 9110 §10.1.1, §15.2: 100 Continue only to an HTTP/1.1 client that asked for it.
    c.may_continue = w.expect_continue;
    c.head_end = r.input.size() - w.tail;
    return c;
}

conn_case chunked_case(const ct::row& r) {
    const ct::want& w = r.expected;
    conn_case c;
    c.input = std::string(chunked_head) + r.input;
    c.config.limits.max_chunk_extension = w.limits.max_extension;
    c.config.limits.max_trailer_bytes = w.limits.max_trailer_bytes;
    c.config.limits.max_body_size =
        static_cast<std::size_t>(std::min<std::uint64_t>(w.limits.max_body, SIZE_MAX));
    // Limits the server does not configure: the framing bound (its defaults) and room for 16
    // trailer fields. Looser bounds accept what tighter ones accepted, so a body the row's
    // limits accept is accepted here too; anything else depends on the limit.
    const ct::want defaults;
    const bool framing_differs = w.limits.framing_allowance != defaults.limits.framing_allowance ||
                                 w.limits.framing_ratio != defaults.limits.framing_ratio;
    const bool looser = w.limits.framing_allowance <= defaults.limits.framing_allowance &&
                        w.limits.framing_ratio <= defaults.limits.framing_ratio;
    if (framing_differs && !(w.kind == ct::want::done && looser))
        c.skip = "the row's chunked framing bound is not a server setting, and its outcome "
                 "depends on it";
    if (w.max_trailers != 16 && !(w.kind == ct::want::done && w.trailers.size() <= 16))
        c.skip = "the server has room for 16 trailer fields, the row's outcome depends on " +
                 std::to_string(w.max_trailers);
    switch (w.kind) {
    case ct::want::incomplete:
        c.kind = conn_case::silent;
        return c;
    case ct::want::error:
        c.kind = conn_case::refused;
        c.status = w.status;
        return c;
    case ct::want::done:
        break;
    }
    c.expect = answer_for("POST", "/echo", w.payload, true, false, w.trailers);
    add_next_request(c, std::string_view(r.input).substr(r.input.size() - w.tail));
    return c;
}

// ---------------------------------------------------------------------------------------------
// Running a case and checking what came back.

struct run_result {
    std::string before_eof; ///< written once every piece arrived
    bool shut_before_eof = false;
    bool gone_before_eof = false;
    std::string after_eof; ///< written by the end, after the peer's FIN
    bool gone = false;
    bool reset = false;
    bool wrote_after_shut = false;
    bool continued = false; ///< began with "100 Continue" (taken off the outputs above)

    std::string summary() const {
        return "shut before EOF " + std::to_string(shut_before_eof) + ", closed before EOF " +
               std::to_string(gone_before_eof) + ", closed " + std::to_string(gone) + ", reset " +
               std::to_string(reset) + ", wrote after FIN " + std::to_string(wrote_after_shut) +
               "\n--- before EOF:\n" + escape(before_eof) + "\n--- after EOF:\n" +
               escape(after_eof);
    }
};

run_result run_pieces(connection_harness& h, const std::vector<std::string_view>& pieces,
                      std::size_t write_step = SIZE_MAX) {
    run_result r;
    h.run(pieces, false, write_step);
    r.before_eof = h.output();
    r.shut_before_eof = h.w().shut;
    r.gone_before_eof = h.w().destroyed;
    h.send_eof();
    r.after_eof = h.output();
    r.gone = h.w().destroyed;
    r.reset = h.w().reset;
    r.wrote_after_shut = h.w().wrote_after_shut;
    if (r.before_eof.starts_with(continue_line) || r.after_eof.starts_with(continue_line)) {
        r.continued = true;
        if (r.before_eof.starts_with(continue_line)) r.before_eof.erase(0, continue_line.size());
        if (r.after_eof.starts_with(continue_line)) r.after_eof.erase(0, continue_line.size());
    }
    return r;
}

struct parsed_response {
    int status = 0;
    std::string head;
    std::string body;
};

/// Splits the server's output into responses framed by Content-Length (every answer here has
/// one); false when the bytes are not that.
bool split_responses(std::string_view out, std::vector<parsed_response>& responses) {
    while (!out.empty()) {
        const std::size_t end = out.find("\r\n\r\n");
        if (end == std::string_view::npos || !out.starts_with("HTTP/1.1 ") || out.size() < 12)
            return false;
        parsed_response p;
        p.head = out.substr(0, end + 4);
        p.status = std::stoi(std::string(out.substr(9, 3)));
        const std::size_t cl = p.head.find("\r\nContent-Length: ");
        if (cl == std::string::npos) return false;
        const std::size_t length = std::stoul(p.head.substr(cl + 18));
        if (out.size() < end + 4 + length) return false;
        p.body = out.substr(end + 4, length);
        responses.push_back(std::move(p));
        out.remove_prefix(end + 4 + length);
    }
    return true;
}

/// What every run of the case must show, whatever the pieces.
void check_case(const conn_case& c, const run_result& r) {
    SCOPED_TRACE(r.summary());
    EXPECT_TRUE(r.gone) << "the connection is still open after the peer's EOF";
    EXPECT_FALSE(r.reset) << "a reset instead of a graceful close";
    EXPECT_FALSE(r.wrote_after_shut);
    EXPECT_EQ(r.after_eof, r.before_eof) << "the peer's EOF made the server write";
    EXPECT_FALSE(r.continued && !c.may_continue) << "100 Continue that nobody asked for";
    switch (c.kind) {
    case conn_case::silent:
        EXPECT_EQ(r.before_eof, "");
        EXPECT_FALSE(r.shut_before_eof);
        EXPECT_FALSE(r.gone_before_eof);
        return;
    case conn_case::answered:
        EXPECT_EQ(r.before_eof, c.expect) << "expected:\n" << escape(c.expect);
        EXPECT_EQ(r.shut_before_eof, c.closes);
        // A close the client asked for, with nothing sent after the request, need not wait
        // for its FIN (RFC 9112 §9.6); any other close lingers.
        if (!c.closes) {
            EXPECT_FALSE(r.gone_before_eof) << "closed without waiting for the peer (lingering)";
        }
        return;
    case conn_case::refused: {
        std::vector<parsed_response> responses;
        ASSERT_TRUE(split_responses(r.before_eof, responses));
        ASSERT_EQ(responses.size(), 1u);
        const parsed_response& p = responses[0];
        EXPECT_EQ(p.status, c.status);
        const std::string line = "HTTP/1.1 " + std::to_string(c.status) + " " +
                                 std::string(wharf::reason_phrase(c.status)) + "\r\n";
        EXPECT_TRUE(p.head.starts_with(line)) << p.head;
        EXPECT_NE(p.head.find("\r\nConnection: close\r\n"), std::string::npos);
        EXPECT_TRUE(p.body.starts_with(std::to_string(c.status) + " ")) << p.body;
        EXPECT_TRUE(r.shut_before_eof) << "no FIN after the refusal";
        EXPECT_FALSE(r.gone_before_eof) << "closed without lingering for the peer's bytes";
        return;
    }
    }
}

/// The same run, byte for byte and end for end.
void check_same(const run_result& a, const run_result& b, const std::string& how) {
    EXPECT_EQ(a.summary(), b.summary()) << how;
}

/// Offsets to split an input of `n` bytes at: all of them for short inputs; the first and last
/// 64 and every 37th in between for long ones.
std::vector<std::size_t> split_points(std::size_t n) {
    std::vector<std::size_t> at;
    for (std::size_t k = 1; k < n; ++k)
        if (n <= 256 || k <= 64 || k + 64 >= n || k % 37 == 0) at.push_back(k);
    return at;
}

/// 100 Continue comes exactly when the head arrived without any of the body.
void check_continue(const conn_case& c, const run_result& r, bool head_arrived_alone,
                    const std::string& how) {
    if (!c.may_continue) return;
    EXPECT_EQ(r.continued, head_arrived_alone) << how;
}

void run_at_once(const conn_case& c) {
    if (!c.skip.empty()) GTEST_SKIP() << c.skip;
    connection_harness h(c.config);
    const run_result r = run_pieces(h, {c.input});
    check_case(c, r);
    check_continue(c, r, c.head_end == c.input.size(), "at once");
}

void run_byte_by_byte(const conn_case& c, std::size_t write_step = SIZE_MAX) {
    if (!c.skip.empty()) GTEST_SKIP() << c.skip;
    connection_harness h(c.config);
    const run_result once = run_pieces(h, {c.input});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.input.size(); ++i)
        bytes.push_back(std::string_view(c.input).substr(i, 1));
    const run_result r = run_pieces(h, bytes, write_step);
    check_case(c, r);
    check_same(once, r, "one byte at a time");
    check_continue(c, r, true, "one byte at a time");
}

void run_split(const conn_case& c) {
    if (!c.skip.empty()) GTEST_SKIP() << c.skip;
    connection_harness h(c.config);
    const run_result once = run_pieces(h, {c.input});
    const std::string_view in = c.input;
    for (const std::size_t k : split_points(in.size())) {
        const run_result r = run_pieces(h, {in.substr(0, k), in.substr(k)});
        const std::string how = "split at " + std::to_string(k);
        check_same(once, r, how);
        check_continue(c, r, k == c.head_end, how);
        if (::testing::Test::HasFailure()) {
            check_case(c, r);
            return; // one report, not hundreds
        }
    }
}

template <class Row>
std::string name_of(std::size_t i, const Row& r) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "r%03zu_", i);
    std::string name = prefix;
    bool underscore = true;
    for (const char* p = std::string_view(r.what).data(); *p; ++p) {
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

std::string pt_row_name(const ::testing::TestParamInfo<std::size_t>& info) {
    return name_of(info.param, pt::rows()[info.param]);
}
std::string ct_row_name(const ::testing::TestParamInfo<std::size_t>& info) {
    return name_of(info.param, ct::rows()[info.param]);
}

// ---------------------------------------------------------------------------------------------

class Http1ConnectionParserRows : public ::testing::TestWithParam<std::size_t> {
  protected:
    conn_case c() const {
        const pt::row& r = pt::rows()[GetParam()];
        SCOPED_TRACE(r.what);
        return parser_case(r);
    }
};

TEST_P(Http1ConnectionParserRows, AtOnce) {
    SCOPED_TRACE(pt::rows()[GetParam()].what);
    run_at_once(c());
}
TEST_P(Http1ConnectionParserRows, ByteByByte) {
    SCOPED_TRACE(pt::rows()[GetParam()].what);
    run_byte_by_byte(c());
}
TEST_P(Http1ConnectionParserRows, SlowPeer) {
    SCOPED_TRACE(pt::rows()[GetParam()].what);
    run_byte_by_byte(c(), 1); // and one byte per write
}
TEST_P(Http1ConnectionParserRows, Split) {
    SCOPED_TRACE(pt::rows()[GetParam()].what);
    run_split(c());
}

INSTANTIATE_TEST_SUITE_P(Table, Http1ConnectionParserRows,
                         ::testing::Range<std::size_t>(0, pt::rows().size()), pt_row_name);

class Http1ConnectionChunkedRows : public ::testing::TestWithParam<std::size_t> {
  protected:
    conn_case c() const { return chunked_case(ct::rows()[GetParam()]); }
};

TEST_P(Http1ConnectionChunkedRows, AtOnce) {
    SCOPED_TRACE(ct::rows()[GetParam()].what);
    run_at_once(c());
}
TEST_P(Http1ConnectionChunkedRows, ByteByByte) {
    SCOPED_TRACE(ct::rows()[GetParam()].what);
    run_byte_by_byte(c());
}
TEST_P(Http1ConnectionChunkedRows, SlowPeer) {
    SCOPED_TRACE(ct::rows()[GetParam()].what);
    run_byte_by_byte(c(), 1); // and one byte per write
}
TEST_P(Http1ConnectionChunkedRows, Split) {
    SCOPED_TRACE(ct::rows()[GetParam()].what);
    run_split(c());
}

INSTANTIATE_TEST_SUITE_P(Table, Http1ConnectionChunkedRows,
                         ::testing::Range<std::size_t>(0, ct::rows().size()), ct_row_name);

} // namespace
