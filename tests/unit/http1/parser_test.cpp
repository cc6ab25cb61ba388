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

// ---------------------------------------------------------------------------------------------
// The expected outcome of a row, built with a few chained helpers so that a row fits a line.

struct want {
    enum stage_t { complete, incomplete, parse_error, framing_error } stage = complete;
    int status = 0;
    std::string method;
    std::string target;
    int minor = 1;
    std::size_t fields = 0;
    std::size_t tail = 0; ///< bytes after the head (a body, a next request): not consumed
    std::vector<std::tuple<std::size_t, std::string, std::string>> checks;
    request_framing::body_t body = request_framing::none;
    std::uint64_t length = 0;
    std::optional<bool> keep_alive; ///< unset: what the version implies (1.1 yes, 1.0 no)
    bool expect_continue = false;
    bool upgrade = false;
    std::optional<std::string> host;
    head_limits limits{};
    std::size_t max_fields = 100;

    /// Field `i` is `name: value`.
    want f(std::size_t i, std::string name, std::string value) {
        checks.emplace_back(i, std::move(name), std::move(value));
        return *this;
    }
    want len(std::uint64_t n) {
        body = request_framing::length;
        length = n;
        return *this;
    }
    want chunked() {
        body = request_framing::chunked;
        return *this;
    }
    want close() {
        keep_alive = false;
        return *this;
    }
    want keep() {
        keep_alive = true;
        return *this;
    }
    want cont() {
        expect_continue = true;
        return *this;
    }
    want upg() {
        upgrade = true;
        return *this;
    }
    want hst(std::string h) {
        host = std::move(h);
        return *this;
    }
    want rest(std::size_t n) {
        tail = n;
        return *this;
    }
    want lim(std::size_t line, std::size_t head) {
        limits = {line, head};
        return *this;
    }
    want maxf(std::size_t n) {
        max_fields = n;
        return *this;
    }
};

/// The head parses and the framing accepts it.
want ok(std::string method, std::string target, int minor, std::size_t fields) {
    want w;
    w.method = std::move(method);
    w.target = std::move(target);
    w.minor = minor;
    w.fields = fields;
    return w;
}
/// parse_request_head() rejects the input with `status`.
want perr(int status) {
    want w;
    w.stage = want::parse_error;
    w.status = status;
    return w;
}
/// The head parses, and analyze_request() rejects it with `status`.
want ferr(int status) {
    want w;
    w.stage = want::framing_error;
    w.status = status;
    return w;
}
/// No complete head yet.
want more() {
    want w;
    w.stage = want::incomplete;
    return w;
}

struct row {
    std::string what;
    std::string input;
    want expected;
};

// Input builders.
std::string get11(std::string_view fields) {
    return "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
}
std::string post11(std::string_view fields) {
    return "POST /up HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
}
std::string get10(std::string_view fields) {
    return "GET / HTTP/1.0\r\n" + std::string(fields) + "\r\n";
}
/// A request line with a Host field and the blank line.
std::string line11(std::string_view request_line) {
    return std::string(request_line) + "\r\nHost: h\r\n\r\n";
}
/// GET / on HTTP/1.1 with `host` as the Host field.
std::string host11(std::string_view host) {
    return "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
}
std::string many_fields(std::size_t n, std::size_t value_size = 1) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += "X-F" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
    return s;
}

/// Rows for the visible bytes that no URI holds, and '#' (a fragment is never sent): each in a
/// path, in a query, past the first 16 bytes of the target (where the SIMD scan decides) and in
/// an absolute-form target.
void add_forbidden_target_rows(std::vector<row>& rows) {
    const std::pair<char, const char*> forbidden[] = {
        {'<', "<"}, {'>', ">"},          {'"', "a quote"}, {'{', "{"},          {'}', "}"},
        {'|', "|"}, {'\\', "backslash"}, {'^', "^"},       {'`', "a backtick"}, {'#', "#"},
    };
    for (const auto& [c, name] : forbidden) {
        const std::string b(1, c);
        rows.push_back({"target with "s + name + " in the path",
                        line11("GET /a" + b + "b HTTP/1.1"), perr(400)});
        rows.push_back({"target with "s + name + " in the query",
                        line11("GET /a?x=" + b + "y HTTP/1.1"), perr(400)});
        rows.push_back({"target with "s + name + " past 16 bytes",
                        line11("GET /0123456789abcdef0123" + b + " HTTP/1.1"), perr(400)});
        rows.push_back({"target with "s + name + " in absolute-form",
                        line11("GET http://h/a" + b + " HTTP/1.1"), perr(400)});
    }
}

std::vector<row> make_rows() {
    // Sizes for the rows at the edges of the limits.
    const std::string line_at_limit = "GET /" + std::string(50, 'a') + " HTTP/1.1";
    const std::string head_at_limit = get11("X-Pad: " + std::string(100, 'p') + "\r\n");
    const std::string long_target(7000, 'a');
    const std::string long_value(8000, 'v');
    const std::string long_name(200, 'n');
    const std::string long_method(40, 'M');
    const std::string second_request = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    std::string pct_run;
    for (int i = 0; i < 40; ++i)
        pct_run += "%" + std::to_string(20 + i % 80);

    std::vector<row> rows = {
        // --- valid request lines ----------------------------------------------------------
        {"simple GET", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ok("GET", "/", 1, 1).f(0, "Host", "h").hst("h")},
        {"GET with path and query", line11("GET /a/b/c.html?x=1&y=%20z HTTP/1.1"),
         ok("GET", "/a/b/c.html?x=1&y=%20z", 1, 1)},
        {"HEAD", line11("HEAD /index.html HTTP/1.1"), ok("HEAD", "/index.html", 1, 1)},
        {"POST with a body after the head", post11("Content-Length: 5\r\n") + "hello",
         ok("POST", "/up", 1, 2).f(1, "Content-Length", "5").len(5).rest(5)},
        {"PUT", "PUT /r HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"s,
         ok("PUT", "/r", 1, 2).len(3)},
        {"DELETE", line11("DELETE /r/1 HTTP/1.1"), ok("DELETE", "/r/1", 1, 1)},
        {"PATCH", line11("PATCH /r HTTP/1.1"), ok("PATCH", "/r", 1, 1)},
        {"TRACE", line11("TRACE / HTTP/1.1"), ok("TRACE", "/", 1, 1)},
        {"OPTIONS asterisk-form", line11("OPTIONS * HTTP/1.1"), ok("OPTIONS", "*", 1, 1)},
        {"CONNECT authority-form",
         "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"s,
         ok("CONNECT", "example.com:443", 1, 1).hst("example.com:443")},
        {"absolute-form target", line11("GET http://example.com:8080/a?b=c HTTP/1.1"),
         ok("GET", "http://example.com:8080/a?b=c", 1, 1)},
        {"method with extension token M-SEARCH", line11("M-SEARCH * HTTP/1.1"),
         ok("M-SEARCH", "*", 1, 1)},
        {"WebDAV method", line11("PROPFIND /dav HTTP/1.1"), ok("PROPFIND", "/dav", 1, 1)},
        {"method of every tchar symbol", line11("!#$%&'*+-.^_`|~ / HTTP/1.1"),
         ok("!#$%&'*+-.^_`|~", "/", 1, 1)},
        {"lowercase method is a valid token", line11("get / HTTP/1.1"), ok("get", "/", 1, 1)},
        {"one-letter method", line11("G / HTTP/1.1"), ok("G", "/", 1, 1)},
        {"numeric method", line11("123 / HTTP/1.1"), ok("123", "/", 1, 1)},
        {"40-byte method", line11(long_method + " / HTTP/1.1"), ok(long_method, "/", 1, 1)},
        {"target with sub-delims and pct-encoding",
         line11("GET /p%20q;a=b?x=!$'()*+,;=:@-._~ HTTP/1.1"),
         ok("GET", "/p%20q;a=b?x=!$'()*+,;=:@-._~", 1, 1)},
        {"7000-byte target", line11("GET /" + long_target + " HTTP/1.1"),
         ok("GET", "/" + long_target, 1, 1)},
        {"escape %2F", line11("GET /a%2Fb HTTP/1.1"), ok("GET", "/a%2Fb", 1, 1)},
        {"escapes in lower and mixed case", line11("GET /%2f%aF%Aa?q=%7e HTTP/1.1"),
         ok("GET", "/%2f%aF%Aa?q=%7e", 1, 1)},
        {"escape at the end of the target", line11("GET /a%20 HTTP/1.1"), ok("GET", "/a%20", 1, 1)},
        {"escaped percent sign", line11("GET /100%25 HTTP/1.1"), ok("GET", "/100%25", 1, 1)},
        {"escape past 16 bytes of target", line11("GET /0123456789abcdef0123%41 HTTP/1.1"),
         ok("GET", "/0123456789abcdef0123%41", 1, 1)},
        {"forty escapes in a row", line11("GET /" + pct_run + " HTTP/1.1"),
         ok("GET", "/" + pct_run, 1, 1)},
        {"brackets in a query", line11("GET /f?a[]=1&b[x]=2 HTTP/1.1"),
         ok("GET", "/f?a[]=1&b[x]=2", 1, 1)},
        {"brackets in a path", line11("GET /[x]/y HTTP/1.1"), ok("GET", "/[x]/y", 1, 1)},
        {"] and ~ past 16 bytes of target", line11("GET /0123456789abcdef~u/a[]=]~ HTTP/1.1"),
         ok("GET", "/0123456789abcdef~u/a[]=]~", 1, 1)},
        {"every unreserved and sub-delim past 16 bytes",
         line11("GET /0123456789abcdef-._~!$&'()*+,;=:@/?[] HTTP/1.1"),
         ok("GET", "/0123456789abcdef-._~!$&'()*+,;=:@/?[]", 1, 1)},
        {"absolute-form with an IPv6 literal", line11("GET http://[::1]:8080/a?b[]=c HTTP/1.1"),
         ok("GET", "http://[::1]:8080/a?b[]=c", 1, 1).hst("h")},
        {"absolute-form with an empty port", line11("GET http://example.com:/a HTTP/1.1"),
         ok("GET", "http://example.com:/a", 1, 1)},
        {"absolute-form with an escaped host", line11("GET http://ex%41mple.com/ HTTP/1.1"),
         ok("GET", "http://ex%41mple.com/", 1, 1)},
        {"absolute-form keeps the Host field in the framing",
         "GET http://absolute.example/ HTTP/1.1\r\nHost: other:81\r\n\r\n"s,
         ok("GET", "http://absolute.example/", 1, 1).hst("other:81")},
        {"absolute-form over HTTP/1.0 without Host", "GET http://[v1.x]:80/ HTTP/1.0\r\n\r\n"s,
         ok("GET", "http://[v1.x]:80/", 0, 0)},
        {"CONNECT to an IPv6 literal", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"s,
         ok("CONNECT", "[::1]:443", 1, 1).hst("[::1]:443")},
        {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"s, ok("GET", "/", 0, 0).close()},
        {"HTTP/1.0 with Host", get10("Host: h\r\n"), ok("GET", "/", 0, 1).close().hst("h")},
        {"HTTP/1.0 with no fields and a target", "GET /x?y HTTP/1.0\r\n\r\n"s,
         ok("GET", "/x?y", 0, 0)},
        {"HTTP/1.9 is treated as 1.1", "GET / HTTP/1.9\r\nHost: h\r\n\r\n"s,
         ok("GET", "/", 9, 1).keep()},
        {"one leading CRLF before the request line", "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ok("GET", "/", 1, 1)},
        {"three leading CRLFs", "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ok("GET", "/", 1, 1)},
        {"pipelined second request is not consumed", get11("") + second_request,
         ok("GET", "/", 1, 1).rest(second_request.size())},
        {"request line exactly at its limit", line11(line_at_limit),
         ok("GET", "/" + std::string(50, 'a'), 1, 1).lim(line_at_limit.size(), 32768)},
        {"head exactly at its size limit", head_at_limit,
         ok("GET", "/", 1, 2).lim(8192, head_at_limit.size())},

        // --- valid header fields --------------------------------------------------------
        {"several fields in order", get11("Accept: */*\r\nUser-Agent: t/1\r\nX-A: 1\r\n"),
         ok("GET", "/", 1, 4).f(1, "Accept", "*/*").f(2, "User-Agent", "t/1").f(3, "X-A", "1")},
        {"no space after the colon", "GET / HTTP/1.1\r\nHost:h\r\nX:y\r\n\r\n"s,
         ok("GET", "/", 1, 2).f(0, "Host", "h").f(1, "X", "y").hst("h")},
        {"empty field value", get11("X-Empty:\r\n"), ok("GET", "/", 1, 2).f(1, "X-Empty", "")},
        {"whitespace-only value is empty", get11("X-Empty: \t  \r\n"),
         ok("GET", "/", 1, 2).f(1, "X-Empty", "")},
        {"leading and trailing OWS trimmed", get11("X:  \t a b \t \r\n"),
         ok("GET", "/", 1, 2).f(1, "X", "a b")},
        {"inner tab kept", get11("X: a\tb\r\n"), ok("GET", "/", 1, 2).f(1, "X", "a\tb")},
        {"colons inside a value", get11("X: a:b::c\r\n"), ok("GET", "/", 1, 2).f(1, "X", "a:b::c")},
        {"obs-text in a value", get11("X: \x80\xfe\xff\r\n"),
         ok("GET", "/", 1, 2).f(1, "X", "\x80\xfe\xff")},
        {"UTF-8 in a value", get11("X: caf\xc3\xa9 \xe2\x82\xac\r\n"),
         ok("GET", "/", 1, 2).f(1, "X", "caf\xc3\xa9 \xe2\x82\xac")},
        {"every visible ASCII byte in a value",
         get11("X: !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\r\n"),
         ok("GET", "/", 1, 2).f(1, "X", "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~")},
        {"field name of every tchar", get11("!#$%&'*+-.^_`|~09azAZ: v\r\n"),
         ok("GET", "/", 1, 2).f(1, "!#$%&'*+-.^_`|~09azAZ", "v")},
        {"200-byte field name", get11(long_name + ": v\r\n"),
         ok("GET", "/", 1, 2).f(1, long_name, "v")},
        {"8000-byte field value", get11("X-Long: " + long_value + "\r\n"),
         ok("GET", "/", 1, 2).f(1, "X-Long", long_value)},
        {"100 fields (the field limit)", get11(many_fields(99)),
         ok("GET", "/", 1, 100).f(99, "X-F98", "v")},
        {"field limit of 3, 3 fields", get11("A: 1\r\nB: 2\r\n"), ok("GET", "/", 1, 3).maxf(3)},
        {"lowercase host", "GET / HTTP/1.1\r\nhost: h\r\n\r\n"s, ok("GET", "/", 1, 1).hst("h")},
        {"mixed-case HOST", "GET / HTTP/1.1\r\nhOsT: H.example\r\n\r\n"s,
         ok("GET", "/", 1, 1).f(0, "hOsT", "H.example").hst("H.example")},
        {"Host with port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"s,
         ok("GET", "/", 1, 1).hst("example.com:8080")},
        {"Host IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"s,
         ok("GET", "/", 1, 1).hst("[::1]:80")},
        {"empty Host on HTTP/1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n"s,
         ok("GET", "/", 1, 1).hst("")},
        {"Host after other fields", "GET / HTTP/1.1\r\nA: 1\r\nHost: late\r\n\r\n"s,
         ok("GET", "/", 1, 2).hst("late")},
        {"Host IPv6 literal without a port", host11("[::1]"), ok("GET", "/", 1, 1).hst("[::1]")},
        {"Host full IPv6 literal", host11("[2001:DB8:0:0:8:800:200C:417A]:443"),
         ok("GET", "/", 1, 1)},
        {"Host IPv6 literal with an IPv4 tail", host11("[::ffff:192.0.2.1]"), ok("GET", "/", 1, 1)},
        {"Host IPvFuture", host11("[v1.x]"), ok("GET", "/", 1, 1).hst("[v1.x]")},
        {"Host IPvFuture with a port", host11("[VaF.a:b!$=~]:8080"), ok("GET", "/", 1, 1)},
        {"Host with an empty port", host11("example.com:"),
         ok("GET", "/", 1, 1).hst("example.com:")},
        {"Host with port 80", host11("example.com:80"), ok("GET", "/", 1, 1)},
        {"Host IPv4 with port 65535", host11("1.2.3.4:65535"),
         ok("GET", "/", 1, 1).hst("1.2.3.4:65535")},
        {"Host with port 0", host11("h:0"), ok("GET", "/", 1, 1)},
        {"Host with a five-digit port of leading zeros", host11("h:00080"), ok("GET", "/", 1, 1)},
        {"Host percent-encoded", host11("ex%41mple.com"),
         ok("GET", "/", 1, 1).hst("ex%41mple.com")},
        {"Host of unreserved and sub-delims", host11("a-b.c_d~e!$&'()*+;=f"), ok("GET", "/", 1, 1)},
        {"Host with a trailing dot", host11("example.com."), ok("GET", "/", 1, 1)},
        {"Host not an IPv4 address is a reg-name", host11("1.2.3.256"), ok("GET", "/", 1, 1)},
        {"Host with OWS around it", "GET / HTTP/1.1\r\nHost: \t h:1 \r\n\r\n"s,
         ok("GET", "/", 1, 1).hst("h:1")},
        {"value of 16+ bytes (SIMD path)", get11("X: 0123456789abcdef0123456789\r\n"),
         ok("GET", "/", 1, 2).f(1, "X", "0123456789abcdef0123456789")},

        // --- Content-Length, Transfer-Encoding, Expect ---------------------------------
        {"Content-Length 0 means no body", post11("Content-Length: 0\r\n"),
         ok("POST", "/up", 1, 2)},
        {"Content-Length with leading zeros", post11("Content-Length: 007\r\n"),
         ok("POST", "/up", 1, 2).len(7)},
        {"Content-Length of 18 digits", post11("Content-Length: 999999999999999999\r\n"),
         ok("POST", "/up", 1, 2).len(999999999999999999ULL)},
        {"Content-Length list of equal values", post11("Content-Length: 5, 5\r\n"),
         ok("POST", "/up", 1, 2).len(5)},
        {"Content-Length list without spaces", post11("Content-Length: 5,5,5\r\n"),
         ok("POST", "/up", 1, 2).len(5)},
        {"two identical Content-Length fields",
         post11("Content-Length: 5\r\nContent-Length: 5\r\n"), ok("POST", "/up", 1, 3).len(5)},
        {"Content-Length with OWS", post11("Content-Length:   42  \r\n"),
         ok("POST", "/up", 1, 2).f(1, "Content-Length", "42").len(42)},
        {"lowercase content-length", post11("content-length: 3\r\n"),
         ok("POST", "/up", 1, 2).len(3)},
        {"Transfer-Encoding chunked", post11("Transfer-Encoding: chunked\r\n"),
         ok("POST", "/up", 1, 2).chunked()},
        {"Transfer-Encoding CHUNKED (case)", post11("Transfer-Encoding: CHUNKED\r\n"),
         ok("POST", "/up", 1, 2).chunked()},
        {"Transfer-Encoding with empty list elements", post11("Transfer-Encoding: , chunked,\r\n"),
         ok("POST", "/up", 1, 2).chunked()},
        {"Expect 100-continue with a body", post11("Content-Length: 5\r\nExpect: 100-continue\r\n"),
         ok("POST", "/up", 1, 3).len(5).cont()},
        {"Expect 100-continue, any case", post11("Expect: 100-CONTINUE\r\nContent-Length: 1\r\n"),
         ok("POST", "/up", 1, 3).len(1).cont()},
        {"Expect 100-continue with chunked",
         post11("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n"),
         ok("POST", "/up", 1, 3).chunked().cont()},
        {"Expect 100-continue without a body is dropped", get11("Expect: 100-continue\r\n"),
         ok("GET", "/", 1, 2)},
        {"Expect 100-continue on HTTP/1.0 is ignored",
         get10("Content-Length: 2\r\nExpect: 100-continue\r\n"), ok("GET", "/", 0, 2).len(2)},
        {"HTTP/1.0 with Content-Length", "POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"s,
         ok("POST", "/", 0, 1).len(3).rest(3)},

        // --- Connection -----------------------------------------------------------------
        {"1.1 persists by default", get11(""), ok("GET", "/", 1, 1).keep()},
        {"1.1 Connection: close", get11("Connection: close\r\n"), ok("GET", "/", 1, 2).close()},
        {"1.1 Connection: CLOSE", get11("Connection: CLOSE\r\n"), ok("GET", "/", 1, 2).close()},
        {"1.1 Connection: keep-alive", get11("Connection: keep-alive\r\n"),
         ok("GET", "/", 1, 2).keep()},
        {"1.1 keep-alive, close: close wins", get11("Connection: keep-alive, close\r\n"),
         ok("GET", "/", 1, 2).close()},
        {"1.1 close in a later field", get11("Connection: keep-alive\r\nConnection: close\r\n"),
         ok("GET", "/", 1, 3).close()},
        {"1.1 close among other options", get11("Connection: foo, close , bar\r\n"),
         ok("GET", "/", 1, 2).close()},
        {"1.1 'closed' is not close", get11("Connection: closed\r\n"), ok("GET", "/", 1, 2).keep()},
        {"1.0 closes by default", get10(""), ok("GET", "/", 0, 0).close()},
        {"1.0 Connection: keep-alive", get10("Connection: keep-alive\r\n"),
         ok("GET", "/", 0, 1).keep()},
        {"1.0 Connection: Keep-Alive (case)", get10("Connection: Keep-Alive\r\n"),
         ok("GET", "/", 0, 1).keep()},
        {"1.0 close, keep-alive: close wins", get10("Connection: close, keep-alive\r\n"),
         ok("GET", "/", 0, 1).close()},
        {"1.0 keep-alive after a close field",
         get10("Connection: close\r\nConnection: keep-alive\r\n"), ok("GET", "/", 0, 2).close()},
        {"Connection: Upgrade", get11("Connection: Upgrade\r\nUpgrade: websocket\r\n"),
         ok("GET", "/", 1, 3).upg()},
        {"Connection: keep-alive, upgrade", get11("Connection: keep-alive, upgrade\r\n"),
         ok("GET", "/", 1, 2).upg().keep()},

        // --- incomplete -----------------------------------------------------------------
        {"no blank line yet", "GET / HTTP/1.1\r\nHost: h\r\n"s, more()},
        {"request line only", "GET / HTTP/1.1\r\n"s, more()},
        {"only empty lines", "\r\n\r\n"s, more()},
        {"half a CRLF after the fields", "GET / HTTP/1.1\r\nHost: h\r\n\r"s, more()},

        // --- malformed request lines ----------------------------------------------------
        {"empty method", line11(" / HTTP/1.1"), perr(400)},
        {"leading space", line11(" GET / HTTP/1.1"), perr(400)},
        {"leading bare LF", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"s, perr(400)},
        {"leading bare CR", "\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"s, perr(400)},
        {"method with (", line11("GE(T / HTTP/1.1"), perr(400)},
        {"method with )", line11("GE)T / HTTP/1.1"), perr(400)},
        {"method with comma", line11("GE,T / HTTP/1.1"), perr(400)},
        {"method with slash", line11("GE/T / HTTP/1.1"), perr(400)},
        {"method with colon", line11("GET: / HTTP/1.1"), perr(400)},
        {"method with ;", line11("GE;T / HTTP/1.1"), perr(400)},
        {"method with <", line11("GE<T / HTTP/1.1"), perr(400)},
        {"method with =", line11("GE=T / HTTP/1.1"), perr(400)},
        {"method with ?", line11("GE?T / HTTP/1.1"), perr(400)},
        {"method with @", line11("GET@ / HTTP/1.1"), perr(400)},
        {"method with [", line11("[GET / HTTP/1.1"), perr(400)},
        {"method with backslash", line11("GE\\T / HTTP/1.1"), perr(400)},
        {"method with ]", line11("GET] / HTTP/1.1"), perr(400)},
        {"method with {", line11("G{T / HTTP/1.1"), perr(400)},
        {"method with }", line11("GE}T / HTTP/1.1"), perr(400)},
        {"method with quote", line11("GE\"T / HTTP/1.1"), perr(400)},
        {"method with DEL", line11("GE\x7fT / HTTP/1.1"), perr(400)},
        {"method with obs-text", line11("G\xc3\x89T / HTTP/1.1"), perr(400)},
        {"method with NUL", line11("GE\0T / HTTP/1.1"s), perr(400)},
        {"method with a control char", line11("GE\x01T / HTTP/1.1"), perr(400)},
        {"tab after the method", line11("GET\t/ HTTP/1.1"), perr(400)},
        {"bad byte past 16 bytes of method", line11("ABCDEFGHIJKLMNOPQRS{T / HTTP/1.1"), perr(400)},
        {"two spaces after the method", line11("GET  / HTTP/1.1"), perr(400)},
        {"no target", line11("GET HTTP/1.1"), perr(400)},
        {"target with NUL", line11("GET /a\0b HTTP/1.1"s), perr(400)},
        {"target with DEL",
         line11("GET /a\x7f"
                "b HTTP/1.1"),
         perr(400)},
        {"target with a control char",
         line11("GET /a\x01"
                "b HTTP/1.1"),
         perr(400)},
        {"target with a tab", line11("GET /a\tb HTTP/1.1"), perr(400)},
        {"target with obs-text", line11("GET /caf\xc3\xa9 HTTP/1.1"), perr(400)},
        {"target with bare CR", line11("GET /a\rb HTTP/1.1"), perr(400)},
        {"target with bare LF", line11("GET /a\nb HTTP/1.1"), perr(400)},
        {"DEL past 16 bytes of target", line11("GET /0123456789abcdef01\x7f HTTP/1.1"), perr(400)},
        {"target with byte 0x80", line11("GET /a\x80z HTTP/1.1"), perr(400)},
        {"target with byte 0xff", line11("GET /a\xffz HTTP/1.1"), perr(400)},
        {"query with byte 0x80", line11("GET /a?q=\x80 HTTP/1.1"), perr(400)},
        {"query with byte 0xff", line11("GET /a?q=\xff HTTP/1.1"), perr(400)},
        {"byte 0x80 past 16 bytes of target", line11("GET /0123456789abcdef01\x80 HTTP/1.1"),
         perr(400)},
        {"escape %4 cut short by the space", line11("GET /a%4 HTTP/1.1"), perr(400)},
        {"escape %4 in a query", line11("GET /a?q=%4 HTTP/1.1"), perr(400)},
        {"lone % at the end of the target", line11("GET /a% HTTP/1.1"), perr(400)},
        {"escape %zz", line11("GET /a%zzb HTTP/1.1"), perr(400)},
        {"escape %zz in a query", line11("GET /a?q=%zz HTTP/1.1"), perr(400)},
        {"escape %%", line11("GET /a%%41 HTTP/1.1"), perr(400)},
        {"escape %4g", line11("GET /a%4gb HTTP/1.1"), perr(400)},
        {"escape %g4", line11("GET /a%g4b HTTP/1.1"), perr(400)},
        {"escape with a NUL", line11("GET /a%4\0b HTTP/1.1"s), perr(400)},
        {"bad escape after a good one", line11("GET /%41%4x HTTP/1.1"), perr(400)},
        {"bad escape past 16 bytes of target", line11("GET /0123456789abcdef0123%x1 HTTP/1.1"),
         perr(400)},
        {"bad escape after forty good ones", line11("GET /" + pct_run + "%2 HTTP/1.1"), perr(400)},
        {"escape %+1", line11("GET /a%+1 HTTP/1.1"), perr(400)},
        {"escape % then CRLF", "GET /a%\r\nHost: h\r\n\r\n"s, perr(400)},
        {"escape %4 then CRLF", "GET /a%4\r\nHost: h\r\n\r\n"s, perr(400)},
        {"no version (HTTP/0.9 style)", "GET /\r\n\r\n"s, perr(400)},
        {"version HTTP/1.1x", line11("GET / HTTP/1.1x"), perr(400)},
        {"version http/1.1", line11("GET / http/1.1"), perr(400)},
        {"version Http/1.1", line11("GET / Http/1.1"), perr(400)},
        {"version HTTP/1", line11("GET / HTTP/1"), perr(400)},
        {"version HTTP/1.", line11("GET / HTTP/1."), perr(400)},
        {"version HTTP/11", line11("GET / HTTP/11"), perr(400)},
        {"version HTTP/1.10", line11("GET / HTTP/1.10"), perr(400)},
        {"version HTTP/01.1", line11("GET / HTTP/01.1"), perr(400)},
        {"version HTTP/1,1", line11("GET / HTTP/1,1"), perr(400)},
        {"version HTTP/a.b", line11("GET / HTTP/a.b"), perr(400)},
        {"version HTTPS/1.1", line11("GET / HTTPS/1.1"), perr(400)},
        {"version with a space", line11("GET / HTTP /1.1"), perr(400)},
        {"space after the version", line11("GET / HTTP/1.1 "), perr(400)},
        {"two spaces before the version", line11("GET /  HTTP/1.1"), perr(400)},
        {"request line ends in bare LF", "GET / HTTP/1.1\nHost: h\r\n\r\n"s, perr(400)},
        {"request line ends in bare LF, nothing after", "GET / HTTP/1.1\n"s, perr(400)},
        {"short version, then the blank line", "GET / X\r\n\r\n"s, perr(400)},
        {"version HTTP, then the blank line", "GET / HTTP\r\n\r\n"s, perr(400)},
        {"empty version, then the blank line", "GET / \r\n\r\n"s, perr(400)},
        {"HTTP/1 and bare LFs", "GET / HTTP/1\n\n"s, perr(400)},
        {"request line ends in CR CR LF", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n"s, perr(400)},
        {"HTTP/2.0", line11("GET / HTTP/2.0"), perr(505)},
        {"HTTP/0.9", line11("GET / HTTP/0.9"), perr(505)},
        {"HTTP/3.1", line11("GET / HTTP/3.1"), perr(505)},
        {"HTTP/9.9", line11("GET / HTTP/9.9"), perr(505)},
        {"HTTP/0.0", line11("GET / HTTP/0.0"), perr(505)},
        {"PRI * HTTP/2.0 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s, perr(505)},

        // --- malformed header sections --------------------------------------------------
        {"obs-fold with a space", get11("X: a\r\n b\r\n"), perr(400)},
        {"obs-fold with a tab", get11("X: a\r\n\tb\r\n"), perr(400)},
        {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n"s, perr(400)},
        {"space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n"s, perr(400)},
        {"tab before the colon", get11("X\t: v\r\n"), perr(400)},
        {"empty field name", get11(": v\r\n"), perr(400)},
        {"field line without a colon", get11("NoColon\r\n"), perr(400)},
        {"field name with (", get11("X(Y: v\r\n"), perr(400)},
        {"field name with quote", get11("X\"Y: v\r\n"), perr(400)},
        {"field name with slash", get11("X/Y: v\r\n"), perr(400)},
        {"field name with @", get11("X@Y: v\r\n"), perr(400)},
        {"field name with [", get11("X[Y: v\r\n"), perr(400)},
        {"field name with {", get11("X{Y: v\r\n"), perr(400)},
        {"field name with comma", get11("X,Y: v\r\n"), perr(400)},
        {"field name with ;", get11("X;Y: v\r\n"), perr(400)},
        {"field name with =", get11("X=Y: v\r\n"), perr(400)},
        {"field name with backslash", get11("X\\Y: v\r\n"), perr(400)},
        {"field name with obs-text", get11("X\x80Y: v\r\n"), perr(400)},
        {"field name with DEL", get11("X\x7fY: v\r\n"), perr(400)},
        {"field name with NUL", get11("X\0Y: v\r\n"s), perr(400)},
        {"field name with a control char", get11("\x01X: v\r\n"), perr(400)},
        {"bad byte past 16 bytes of a field name", get11("X-0123456789abcdef}: v\r\n"), perr(400)},
        {"NUL in a value", get11("X: a\0b\r\n"s), perr(400)},
        {"SOH in a value",
         get11("X: a\x01"
               "b\r\n"),
         perr(400)},
        {"backspace in a value",
         get11("X: a\x08"
               "b\r\n"),
         perr(400)},
        {"vertical tab in a value",
         get11("X: a\x0b"
               "b\r\n"),
         perr(400)},
        {"form feed in a value",
         get11("X: a\x0c"
               "b\r\n"),
         perr(400)},
        {"US (0x1f) in a value",
         get11("X: a\x1f"
               "b\r\n"),
         perr(400)},
        {"DEL in a value",
         get11("X: a\x7f"
               "b\r\n"),
         perr(400)},
        {"bare CR in a value", get11("X: a\rb\r\n"), perr(400)},
        {"bare LF in a value", get11("X: a\nb\r\n"), perr(400)},
        {"field line ends in bare LF", get11("X: a\n"), perr(400)},
        {"control char past 16 bytes of value", get11("X: 0123456789abcdef0123\x01\r\n"),
         perr(400)},
        {"blank line is a bare LF", "GET / HTTP/1.1\r\nHost: h\r\n\n"s, perr(400)},
        {"blank line is CR CR LF", "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n"s, perr(400)},
        {"blank line is CR then junk", "GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n"s, perr(400)},

        // --- limits -----------------------------------------------------------------------
        {"request line one byte over its limit", line11(line_at_limit),
         perr(414).lim(line_at_limit.size() - 1, 32768)},
        {"request line over 8 KiB", line11("GET /" + std::string(8200, 'a') + " HTTP/1.1"),
         perr(414)},
        {"long request line without its end yet", "GET /" + std::string(200, 'a'),
         perr(414).lim(100, 32768)},
        {"too long after leading CRLFs", "\r\n\r\nGET /" + std::string(120, 'a') + " HTTP/1.1\r\n",
         perr(414).lim(100, 32768)},
        {"101 fields", get11(many_fields(100)), perr(431)},
        {"field limit of 3, 4 fields", get11("A: 1\r\nB: 2\r\nC: 3\r\n"), perr(431).maxf(3)},
        {"field limit of 0", get11(""), perr(431).maxf(0)},
        {"head one byte over its size limit", head_at_limit,
         perr(431).lim(8192, head_at_limit.size() - 1)},
        {"head over 32 KiB", get11(many_fields(33, 1000)), perr(431)},
        {"incomplete head over its size limit", "GET / HTTP/1.1\r\nX: " + std::string(300, 'x'),
         perr(431).lim(8192, 256)},

        // --- framing rejections -----------------------------------------------------------
        {"Content-Length and Transfer-Encoding",
         post11("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), ferr(400)},
        {"Transfer-Encoding and Content-Length",
         post11("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), ferr(400)},
        {"Transfer-Encoding and Content-Length 0",
         post11("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), ferr(400)},
        {"differing Content-Length fields", post11("Content-Length: 5\r\nContent-Length: 6\r\n"),
         ferr(400)},
        {"differing Content-Length list", post11("Content-Length: 5, 6\r\n"), ferr(400)},
        {"Content-Length +5", post11("Content-Length: +5\r\n"), ferr(400)},
        {"Content-Length -1", post11("Content-Length: -1\r\n"), ferr(400)},
        {"Content-Length '5 5'", post11("Content-Length: 5 5\r\n"), ferr(400)},
        {"Content-Length 0x5", post11("Content-Length: 0x5\r\n"), ferr(400)},
        {"Content-Length 5.0", post11("Content-Length: 5.0\r\n"), ferr(400)},
        {"Content-Length 1e3", post11("Content-Length: 1e3\r\n"), ferr(400)},
        {"Content-Length 5a", post11("Content-Length: 5a\r\n"), ferr(400)},
        {"Content-Length empty", post11("Content-Length:\r\n"), ferr(400)},
        {"Content-Length of commas only", post11("Content-Length: ,\r\n"), ferr(400)},
        {"Content-Length list with a non-number", post11("Content-Length: 5, x\r\n"), ferr(400)},
        {"Content-Length of 19 digits", post11("Content-Length: 1000000000000000000\r\n"),
         ferr(400)},
        {"Content-Length past 2^64", post11("Content-Length: 18446744073709551616\r\n"), ferr(400)},
        {"Transfer-Encoding gzip", post11("Transfer-Encoding: gzip\r\n"), ferr(400)},
        {"Transfer-Encoding chunked, gzip", post11("Transfer-Encoding: chunked, gzip\r\n"),
         ferr(400)},
        {"Transfer-Encoding gzip, chunked", post11("Transfer-Encoding: gzip, chunked\r\n"),
         ferr(501)},
        {"Transfer-Encoding deflate, chunked", post11("Transfer-Encoding: deflate, chunked\r\n"),
         ferr(501)},
        {"Transfer-Encoding identity", post11("Transfer-Encoding: identity\r\n"), ferr(400)},
        {"Transfer-Encoding chunked twice in a list",
         post11("Transfer-Encoding: chunked, chunked\r\n"), ferr(501)},
        {"Transfer-Encoding chunked in two fields",
         post11("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), ferr(501)},
        {"Transfer-Encoding gzip then chunked fields",
         post11("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), ferr(501)},
        {"Transfer-Encoding chunked then gzip fields",
         post11("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), ferr(400)},
        {"Transfer-Encoding empty", post11("Transfer-Encoding:\r\n"), ferr(400)},
        {"Transfer-Encoding chunkedx", post11("Transfer-Encoding: chunkedx\r\n"), ferr(400)},
        {"Transfer-Encoding with parameters", post11("Transfer-Encoding: chunked;q=1\r\n"),
         ferr(400)},
        {"Transfer-Encoding quoted", post11("Transfer-Encoding: \"chunked\"\r\n"), ferr(400)},
        {"Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"s,
         ferr(400)},
        {"missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"s, ferr(400)},
        {"HTTP/1.1 without any field", "GET / HTTP/1.1\r\n\r\n"s, ferr(400)},
        {"two identical Host fields", get11("Host: h\r\n"), ferr(400)},
        {"two different Host fields", get11("Host: evil\r\n"), ferr(400)},
        {"two Host fields on HTTP/1.0", get10("Host: a\r\nHost: a\r\n"), ferr(400)},
        {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"s, ferr(400)},
        {"Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"s, ferr(400)},
        {"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"s, ferr(400)},
        {"Host list", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n"s, ferr(400)},
        {"Host list with a space", host11("a, b"), ferr(400)},
        {"Host port 8x0", host11("host:8x0"), ferr(400)},
        {"Host unterminated IPv6 literal", host11("[::1"), ferr(400)},
        {"Host IPv6 without brackets", host11("::1"), ferr(400)},
        {"Host IPv6 literal then junk", host11("[::1]x"), ferr(400)},
        {"Host IPv6 literal then a bad port", host11("[::1]:8x"), ferr(400)},
        {"Host IPv6 literal closed twice", host11("[::1]]"), ferr(400)},
        {"Host empty IP literal", host11("[]"), ferr(400)},
        {"Host IPv4 in brackets", host11("[1.2.3.4]"), ferr(400)},
        {"Host IPv6 with two ::", host11("[1::2::3]"), ferr(400)},
        {"Host IPv6 with nine groups", host11("[1:2:3:4:5:6:7:8:9]"), ferr(400)},
        {"Host IPv6 with a 5-digit group", host11("[12345::1]"), ferr(400)},
        {"Host IPv6 with a zone", host11("[fe80::1%25eth0]"), ferr(400)},
        {"Host IPv6 literal too long", host11("[" + std::string(50, '0') + "::1]"), ferr(400)},
        {"Host IPvFuture without a version", host11("[v.x]"), ferr(400)},
        {"Host IPvFuture without a dot", host11("[v1x]"), ferr(400)},
        {"Host IPvFuture with nothing after the dot", host11("[v1.]"), ferr(400)},
        {"Host IPvFuture with a bad version", host11("[vg.x]"), ferr(400)},
        {"Host IPvFuture with a comma", host11("[v1.a,b]"), ferr(400)},
        {"Host IPvFuture with a slash", host11("[v1.a/b]"), ferr(400)},
        {"Host bracket inside a reg-name", host11("a[b]"), ferr(400)},
        {"Host port 65536 (strict)", host11("1.2.3.4:65536"), ferr(400)},
        {"Host port 99999 (strict)", host11("h:99999"), ferr(400)},
        {"Host port of six digits (strict)", host11("h:000080"), ferr(400)},
        {"Host two ports", host11("h:80:80"), ferr(400)},
        {"Host port with a sign", host11("h:+80"), ferr(400)},
        {"Host port without a host (strict)", host11(":80"), ferr(400)},
        {"Host of a lone colon (strict)", host11(":"), ferr(400)},
        {"Host escape cut short", host11("ex%4"), ferr(400)},
        {"Host lone percent", host11("ex%"), ferr(400)},
        {"Host bad escape", host11("ex%zzmple.com"), ferr(400)},
        {"Host with a tab inside", host11("a\tb"), ferr(400)},
        {"Host with a backslash", host11("a\\b"), ferr(400)},
        {"Host with a hash", host11("a#b"), ferr(400)},
        {"Host with a question mark", host11("a?b"), ferr(400)},
        {"Host with a quote", host11("a\"b"), ferr(400)},
        {"Host with <", host11("a<b"), ferr(400)},
        {"Host with obs-text", host11("caf\xc3\xa9"), ferr(400)},
        {"Host with byte 0x80", host11("a\x80"), ferr(400)},
        {"bad Host on HTTP/1.0", get10("Host: h:x\r\n"), ferr(400)},
        {"absolute-form with port 8x0", line11("GET http://host:8x0/ HTTP/1.1"), ferr(400)},
        {"absolute-form with an unterminated IPv6 literal", line11("GET http://[::1/ HTTP/1.1"),
         ferr(400)},
        {"absolute-form with IPv6 without brackets", line11("GET http://::1/ HTTP/1.1"), ferr(400)},
        {"absolute-form with a port and no host", line11("GET http://:80/ HTTP/1.1"), ferr(400)},
        {"absolute-form with port 65536", line11("GET http://h:65536/ HTTP/1.1"), ferr(400)},
        // (the parser already refuses it, as any bad escape in a target)
        {"absolute-form with a bad escape in the host", line11("GET http://ex%4/ HTTP/1.1"),
         perr(400)},
        {"absolute-form with a comma in the host", line11("GET http://a,b/ HTTP/1.1"), ferr(400)},
        {"absolute-form with a good authority and a bad Host",
         "GET http://example.com/ HTTP/1.1\r\nHost: a:b\r\n\r\n"s, ferr(400)},
        {"CONNECT without a port", "CONNECT example.com: HTTP/1.1\r\nHost: h\r\n\r\n"s, ferr(400)},
        {"CONNECT to port 65536", "CONNECT example.com:65536 HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ferr(400)},
        {"CONNECT to a port without a host", "CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ferr(400)},
        {"CONNECT to an unbracketed IPv6", "CONNECT ::1:443 HTTP/1.1\r\nHost: h\r\n\r\n"s,
         ferr(400)},
        {"Expect: foo", post11("Expect: foo\r\nContent-Length: 1\r\n"), ferr(417)},
        {"Expect: 100-continue, foo", post11("Expect: 100-continue, foo\r\n"), ferr(417)},
        {"Expect empty", get11("Expect:\r\n"), ferr(417)},
        {"Expect: 200-ok on HTTP/1.0", get10("Expect: 200-ok\r\n"), ferr(417)},
    };
    add_forbidden_target_rows(rows);
    return rows;
}

const std::vector<row>& rows() {
    static const std::vector<row> r = make_rows();
    return r;
}

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
