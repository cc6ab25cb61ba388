// SPDX-License-Identifier: MIT
// Hand-written contracts of the HTTP/1 connection, byte for byte (over memory:
// connection_harness.hpp): persistence, HTTP/1.0, pipelining, 100-continue, a streamed chunked
// response, HEAD, and a peer that takes one byte per write.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "connection_harness.hpp"

namespace {

using wharf_test::connection_harness;
using wharf_test::echo_text;
using wharf_test::quiet_config;
using wharf_test::response_head;

/// The echo answer for a bodiless request, exactly.
std::string echo(std::string_view method, std::string_view target, bool keep_alive = true,
                 bool http10 = false, std::string_view body = {}) {
    const std::string text = echo_text(method, target, body);
    return response_head(200, "OK", text.size(), keep_alive, http10) + text;
}

TEST(Http1Connection, KeepAliveGetExactBytes) {
    connection_harness h;
    h.open();
    h.send("GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(h.output(), "HTTP/1.1 200 OK\r\n"
                          "Date: <date>\r\n"
                          "Server: wharf\r\n"
                          "Content-Length: 11\r\n"
                          "\r\n"
                          "GET /a?b\n0\n");
    // RFC 9112 §9.3: HTTP/1.1 persists; the same connection serves the next request.
    EXPECT_FALSE(h.w().shut);
    EXPECT_FALSE(h.w().destroyed);
    h.send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(h.output(), echo("GET", "/a?b") + echo("GET", "/2"));
    EXPECT_FALSE(h.w().shut);
    // The peer's FIN on an idle connection: closed, nothing more written, no reset.
    h.send_eof();
    EXPECT_TRUE(h.w().destroyed);
    EXPECT_FALSE(h.w().reset);
    EXPECT_EQ(h.output(), echo("GET", "/a?b") + echo("GET", "/2"));
}

TEST(Http1Connection, AnExchangeKeptFromAnotherServerOnThisThreadServesThisOnesRoutes) {
    // An idle connection's exchange goes to the thread's pool; another server's worker on the
    // same thread that takes it must route with its own routes, not the first server's.
    const auto answer = [](std::string text) {
        return [text](wharf::router& r) {
            r.get("/who", [text](wharf::session& s) { s.response().append(text); });
        };
    };
    connection_harness first(quiet_config(), answer("first"));
    first.open();
    first.send("GET /who HTTP/1.1\r\nHost: h\r\n\r\n"); // idle after it: exchange pooled
    EXPECT_NE(first.output().find("\r\n\r\nfirst"), std::string::npos) << first.output();
    connection_harness second(quiet_config(), answer("second"));
    second.open();
    second.send("GET /who HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_NE(second.output().find("\r\n\r\nsecond"), std::string::npos) << second.output();
}

TEST(Http1Connection, DateHeaderIsAnImfFixdate) {
    connection_harness h;
    h.open();
    h.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    const std::string& raw = h.w().output;
    const std::size_t at = raw.find("\r\nDate: ");
    ASSERT_NE(at, std::string::npos);
    const std::string date = raw.substr(at + 8, raw.find("\r\n", at + 8) - at - 8);
    // RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
    ASSERT_EQ(date.size(), 29u) << date;
    EXPECT_EQ(date.substr(3, 2), ", ");
    EXPECT_EQ(date.substr(25), " GMT");
}

TEST(Http1Connection, Http10ClosesByDefault) {
    connection_harness h;
    h.open();
    h.send("GET /x HTTP/1.0\r\n\r\n");
    // RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the connection; the server
    // says so and sends its FIN after the response.
    EXPECT_EQ(h.output(), "HTTP/1.1 200 OK\r\n"
                          "Date: <date>\r\n"
                          "Server: wharf\r\n"
                          "Content-Length: 9\r\n"
                          "Connection: close\r\n"
                          "\r\n"
                          "GET /x\n0\n");
    EXPECT_TRUE(h.w().shut);
    // A request after that is not read, let alone answered.
    h.send("GET /late HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(h.output(), echo("GET", "/x", false, true));
    h.send_eof();
    EXPECT_TRUE(h.w().destroyed);
    EXPECT_FALSE(h.w().reset);
}

TEST(Http1Connection, Http10KeepAlivePersists) {
    connection_harness h;
    h.open();
    h.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    // RFC 9112 §9.3 / RFC 7230 §A.1.2: the server answers keep-alive to keep it.
    EXPECT_EQ(h.output(), echo("GET", "/x", true, true));
    EXPECT_NE(h.output().find("\r\nConnection: keep-alive\r\n"), std::string::npos);
    EXPECT_FALSE(h.w().shut);
    h.send("GET /y HTTP/1.0\r\n\r\n");
    EXPECT_EQ(h.output(), echo("GET", "/x", true, true) + echo("GET", "/y", false, true));
    EXPECT_TRUE(h.w().shut);
}

TEST(Http1Connection, PipelinedRequestsAnsweredInOrder) {
    const std::string three = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                              "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
                              "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                              "GET /4 HTTP/1.1\r\nHost: h\r\n\r\n";
    // RFC 9112 §9.3.2: responses in the order of the requests; the third closes, so the fourth
    // is never answered.
    const std::string want =
        echo("GET", "/1") + echo("POST", "/2", true, false, "hello") + echo("GET", "/3", false);
    connection_harness h;
    EXPECT_EQ(h.run({three}), want);
    EXPECT_TRUE(h.w().shut);
    EXPECT_FALSE(h.w().reset);
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < three.size(); ++i)
        bytes.push_back(std::string_view(three).substr(i, 1));
    EXPECT_EQ(h.run(bytes), want);
    EXPECT_EQ(h.run(bytes, true, 1), want) << "a peer that takes one byte per write";
}

TEST(Http1Connection, ContinueExchange) {
    connection_harness h;
    h.open();
    h.send("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    // RFC 9110 §10.1.1: the head alone gets the interim response, exactly, and nothing else.
    EXPECT_EQ(h.output(), "HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_FALSE(h.w().shut);
    h.send("he");
    EXPECT_EQ(h.output(), "HTTP/1.1 100 Continue\r\n\r\n");
    h.send("llo");
    EXPECT_EQ(h.output(),
              "HTTP/1.1 100 Continue\r\n\r\n" + echo("PUT", "/up", true, false, "hello"));
    EXPECT_FALSE(h.w().shut);
    h.send_eof();

    // The body already here: no 100 (a server MAY omit it, RFC 9110 §15.2.1).
    EXPECT_EQ(h.run({"PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                     "Content-Length: 5\r\n\r\nhello"}),
              echo("PUT", "/up", true, false, "hello"));
    // HTTP/1.0 never gets a 1xx (RFC 9110 §15.2).
    h.open();
    h.send("PUT /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(h.output(), "");
    h.send("hello");
    EXPECT_EQ(h.output(), echo("PUT", "/up", false, true, "hello"));
}

TEST(Http1Connection, ContinueIsNotSentForARefusedBody) {
    wharf::server_config config = quiet_config();
    config.limits.max_body_size = 4;
    connection_harness h(config);
    h.open();
    h.send("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    // RFC 9110 §10.1.1: a server may answer with a final status instead of 100; it must not
    // invite a body it refuses.
    const std::string out = h.output();
    EXPECT_TRUE(out.starts_with("HTTP/1.1 413 ")) << out;
    EXPECT_EQ(out.find("100 Continue"), std::string::npos) << out;
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_TRUE(h.w().shut);
}

/// Routes whose handler streams "abc", "de", "" (an empty send) and ends the response, each
/// send started from the last one's completion.
void add_streaming_routes(wharf::router& r) {
    r.get("/stream", [](wharf::session& s) {
        s.response().status(200);
        s.response().set_header("Content-Type", "text/plain");
        s.response().append("abc");
        s.send(wharf::send_flags::more, [&s](wharf::send_result r1) {
            if (r1.error) return;
            s.response().append("de");
            s.send(wharf::send_flags::more, [&s](wharf::send_result r2) {
                if (r2.error) return;
                s.send(wharf::send_flags::more, [&s](wharf::send_result r3) {
                    if (r3.error) return;
                    s.response().append("f");
                    s.send();
                });
            });
        });
    });
    wharf_test::add_echo_route(r);
}

TEST(Http1Connection, StreamedChunkedResponseExactFraming) {
    connection_harness h(quiet_config(), add_streaming_routes);
    const std::string want = "HTTP/1.1 200 OK\r\n"
                             "Date: <date>\r\n"
                             "Server: wharf\r\n"
                             "Content-Type: text/plain\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "\r\n"
                             "3\r\nabc\r\n"
                             "2\r\nde\r\n"
                             "1\r\nf\r\n"
                             "0\r\n\r\n";
    // RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF; an empty send writes no chunk (a
    // zero-size chunk would end the body); the last chunk and the empty trailer section.
    h.open();
    h.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(h.output(), want);
    EXPECT_FALSE(h.w().shut);
    // The connection goes on after a chunked response.
    h.send("GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(h.output(), want + echo("GET", "/next"));
    h.send_eof();
    EXPECT_TRUE(h.w().destroyed);
    EXPECT_FALSE(h.w().reset);

    EXPECT_EQ(h.run({"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n"}, true, 1), want)
        << "a peer that takes one byte per write";
}

TEST(Http1Connection, StreamedResponseToHttp10IsCloseDelimited) {
    connection_harness h(quiet_config(), add_streaming_routes);
    // HTTP/1.0 has no chunked coding (RFC 9112 §7.1 is HTTP/1.1): the body ends with the
    // connection, announced by Connection: close.
    EXPECT_EQ(h.run({"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"}, false),
              "HTTP/1.1 200 OK\r\n"
              "Date: <date>\r\n"
              "Server: wharf\r\n"
              "Content-Type: text/plain\r\n"
              "Connection: close\r\n"
              "\r\n"
              "abcdef");
    EXPECT_TRUE(h.w().shut);
}

TEST(Http1Connection, HeadGetsNoBody) {
    connection_harness h(quiet_config(), add_streaming_routes);
    h.open();
    h.send("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n");
    // RFC 9110 §9.3.2: the fields a GET would get (Content-Length of the echo "HEAD /a\n0\n"),
    // and no content.
    EXPECT_EQ(h.output(), "HTTP/1.1 200 OK\r\n"
                          "Date: <date>\r\n"
                          "Server: wharf\r\n"
                          "Content-Length: 10\r\n"
                          "\r\n");
    // A streamed answer to HEAD: its framing fields, no chunk, not even the last one.
    h.send("HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\n");
    const std::string streamed_head = "HTTP/1.1 200 OK\r\n"
                                      "Date: <date>\r\n"
                                      "Server: wharf\r\n"
                                      "Content-Type: text/plain\r\n"
                                      "Transfer-Encoding: chunked\r\n"
                                      "\r\n";
    EXPECT_TRUE(h.output().ends_with(streamed_head)) << h.output();
    // And the connection is still in step: the next answer follows at once.
    h.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_TRUE(h.output().ends_with(streamed_head + echo("GET", "/b"))) << h.output();
    EXPECT_FALSE(h.w().shut);
}

TEST(Http1Connection, SlowPeerGetsTheSameBytes) {
    const std::string requests = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                                 "PUT /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                                 "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                 "\r\n2\r\nxy\r\n0\r\nT: v\r\n\r\n"
                                 "GET /4 HTTP/1.0\r\n\r\n";
    connection_harness h;
    const std::string fast = h.run({requests});
    const bool fast_shut = h.w().shut;
    for (const std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        EXPECT_EQ(h.run({requests}, true, step), fast) << step << " bytes per write";
        EXPECT_EQ(h.w().shut, fast_shut);
        EXPECT_FALSE(h.w().wrote_after_shut);
        EXPECT_FALSE(h.w().reset);
    }
    EXPECT_TRUE(fast_shut);
    const std::string chunked_echo = echo_text("POST", "/3", "xy", {{"T", "v"}});
    EXPECT_EQ(fast, echo("GET", "/1") + echo("PUT", "/2", true, false, "abc") +
                        response_head(200, "OK", chunked_echo.size(), true, false) + chunked_echo +
                        echo("GET", "/4", false, true));
}

TEST(Http1Connection, ErrorClosesAfterTheAnswerAndLingers) {
    connection_harness h;
    h.open();
    // A request whose framing is unknown (RFC 9112 §6.3: Transfer-Encoding and Content-Length
    // together) is refused and the connection closed, even with a request behind it.
    h.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
           "\r\nabcGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    const std::string out = h.output();
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 Bad Request\r\n")) << out;
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_EQ(out.find("GET /"), std::string::npos) << "the request behind it was answered";
    EXPECT_TRUE(h.w().shut);
    // Lingering: the FIN is out, the peer's bytes are still read (not answered) until its FIN.
    EXPECT_FALSE(h.w().destroyed);
    h.send("more bytes");
    EXPECT_EQ(h.output(), out);
    EXPECT_TRUE(h.w().pending.empty()) << "lingering drains the peer";
    h.send_eof();
    EXPECT_TRUE(h.w().destroyed);
    EXPECT_FALSE(h.w().reset);
}

} // namespace
