// SPDX-License-Identifier: MIT
// Chunked request trailers reach the handler (buffered and streamed bodies), and
// server_config::continue_at_once sends "100 Continue" before the handler asks for the body.
#include <gtest/gtest.h>

#include <string>

#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using namespace wharf_test;

wharf::server_config one_worker() {
    wharf::server_config cfg;
    cfg.listen = {"127.0.0.1:0"};
    cfg.workers = 1;
    return cfg;
}

/// Answers "<body>|<name>=<value>;..." from the request's trailers.
std::string describe(const wharf::request& req, std::string_view body) {
    std::string out(body);
    out += "|";
    for (const wharf::header_field& f : req.trailers()) {
        out.append(f.name).append("=").append(f.value).append(";");
    }
    return out;
}

constexpr std::string_view chunked_with_trailers =
    "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 42\r\nX-Other: yes\r\n\r\n";

TEST(RequestTrailers, BufferedBodyHasThem) {
    wharf::server srv(one_worker());
    srv.routes().post("/t", [](wharf::session& s) {
        s.response().append(describe(s.request(), s.request().body()));
    });
    ASSERT_FALSE(srv.start());
    const auto res = fetch(srv.local_addresses()[0], chunked_with_trailers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "abcde|X-Checksum=42;X-Other=yes;");
    // Without trailers the view is empty.
    const auto plain = fetch(srv.local_addresses()[0], request("POST", "/t", {}, "xyz"));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->body, "xyz|");
}

TEST(RequestTrailers, StreamedBodyHasThemWithTheLastPiece) {
    wharf::server srv(one_worker());
    wharf::route_options streamed;
    streamed.stream_body = true;
    srv.routes().route(
        wharf::method::post, "/t",
        [](wharf::session& s) {
            auto got = std::make_shared<std::string>();
            auto read = std::make_shared<std::function<void()>>();
            *read = [&s, got, read] {
                s.read_body([&s, got, read](std::error_code ec, std::string_view piece, bool last) {
                    if (ec) return;
                    got->append(piece);
                    if (!last) return (*read)();
                    s.response().append(describe(s.request(), *got));
                    s.send();
                    *read = nullptr; // break the cycle
                });
            };
            (*read)();
        },
        streamed);
    ASSERT_FALSE(srv.start());
    const auto res = fetch(srv.local_addresses()[0], chunked_with_trailers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "abcde|X-Checksum=42;X-Other=yes;");
}

TEST(ContinueAtOnce, SentBeforeTheHandlerAsks) {
    auto cfg = one_worker();
    cfg.continue_at_once = true;
    wharf::server srv(cfg);
    wharf::route_options streamed;
    streamed.stream_body = true;
    srv.routes().route(
        wharf::method::post, "/late",
        [](wharf::session& s) {
            // The handler asks only after 300 ms; the client must not have to wait that long.
            s.after(std::chrono::milliseconds(300), [&s] {
                s.read_body([&s](std::error_code ec, std::string_view piece, bool last) {
                    if (ec) return;
                    s.response().append(piece);
                    if (last) s.send();
                });
            });
        },
        streamed);
    ASSERT_FALSE(srv.start());
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send("POST /late HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                       "Content-Length: 4\r\n\r\n"));
    const auto interim = c.read_response();
    ASSERT_TRUE(interim) << c.error();
    EXPECT_EQ(interim->status, 100);
    ASSERT_TRUE(c.send("body"));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "body");
}

} // namespace
