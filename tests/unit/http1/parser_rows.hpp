// SPDX-License-Identifier: MIT
// The request-head table: every row is an input and what parse_request_head() and
// analyze_request() make of it (RFC 9112/9110). Shared by the parser's own tests
// (parser_test.cpp) and by the connection tests that run each row through a whole
// http1::connection (connection_rows_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "http1/framing.hpp"
#include "http1/parser.hpp"

namespace wharf_test::parser_table {

using namespace std::string_literals;
using wharf::http1::head_limits;
using wharf::http1::request_framing;

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
inline want ok(std::string method, std::string target, int minor, std::size_t fields) {
    want w;
    w.method = std::move(method);
    w.target = std::move(target);
    w.minor = minor;
    w.fields = fields;
    return w;
}
/// parse_request_head() rejects the input with `status`.
inline want perr(int status) {
    want w;
    w.stage = want::parse_error;
    w.status = status;
    return w;
}
/// The head parses, and analyze_request() rejects it with `status`.
inline want ferr(int status) {
    want w;
    w.stage = want::framing_error;
    w.status = status;
    return w;
}
/// No complete head yet.
inline want more() {
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
inline std::string get11(std::string_view fields) {
    return "GET / HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
}
inline std::string post11(std::string_view fields) {
    return "POST /up HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
}
inline std::string get10(std::string_view fields) {
    return "GET / HTTP/1.0\r\n" + std::string(fields) + "\r\n";
}
/// A request line with a Host field and the blank line.
inline std::string line11(std::string_view request_line) {
    return std::string(request_line) + "\r\nHost: h\r\n\r\n";
}
/// GET / on HTTP/1.1 with `host` as the Host field.
inline std::string host11(std::string_view host) {
    return "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
}
inline std::string many_fields(std::size_t n, std::size_t value_size = 1) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += "X-F" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
    return s;
}

/// Rows for the visible bytes that no URI holds, and '#' (a fragment is never sent): each in a
/// path, in a query, past the first 16 bytes of the target (where the SIMD scan decides) and in
/// an absolute-form target.
inline void add_forbidden_target_rows(std::vector<row>& rows) {
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

inline std::vector<row> make_rows() {
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

inline const std::vector<row>& rows() {
    static const std::vector<row> r = make_rows();
    return r;
}

} // namespace wharf_test::parser_table
