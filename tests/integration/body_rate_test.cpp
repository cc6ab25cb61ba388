// SPDX-License-Identifier: MIT
// The minimum body rate against streamed request bodies, where the handler takes part: time a
// handler spends elsewhere between two reads is not the client's, and an answer the handler
// gives when told the body is too slow is the only answer the client gets.
#include <chrono>
#include <string>
#include <system_error>

#include <gtest/gtest.h>
#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using namespace std::chrono_literals;
using wharf_test::client;
using wharf_test::local_config;
using wharf_test::start;

wharf::route_options streamed() {
    wharf::route_options o;
    o.stream_body = true;
    return o;
}

// Reads the body; when reading fails, answers 400 itself.
void read_or_answer(wharf::session& s) {
    s.read_body([&s](std::error_code ec, std::string_view, bool last) {
        if (ec) {
            s.response().status(400).body("app: upload failed\n", "text/plain");
            s.send();
            return;
        }
        if (last) {
            s.response().body("ok\n", "text/plain");
            s.send();
            return;
        }
        read_or_answer(s);
    });
}

TEST(StreamedBodyRate, TheHandlersOwnAnswerToASlowBodyStands) {
    wharf::server_config cfg = local_config();
    cfg.timeouts.body_grace = 500ms;
    cfg.timeouts.min_body_rate = 1000;
    wharf::server srv(cfg);
    srv.routes().route(wharf::method::post, "/up", read_or_answer, streamed());
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client c(a);
    ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nzzzzzzzzzz"));
    const auto res = c.read_response(); // 10 bytes in a 500 ms window: too slow
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 400);
    EXPECT_EQ(res->body, "app: upload failed\n");
    EXPECT_TRUE(c.wait_closed(5s));
    EXPECT_EQ(c.pending(), "") << "a second answer followed the handler's";
    // The server is unharmed.
    const auto after = wharf_test::get(a, "/nothing");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 404);
}

// Answers each piece after `delay` of work, then asks for the next one.
void answer_each_piece(wharf::session& s, std::chrono::milliseconds delay) {
    s.read_body([&s, delay](std::error_code ec, std::string_view piece, bool last) {
        if (ec) return;
        s.after(delay, [&s, delay, size = piece.size(), last] {
            s.response().format("processed {} bytes\n", size);
            if (last) {
                s.send();
                return;
            }
            s.send(wharf::send_flags::more);
            answer_each_piece(s, delay);
        });
    });
}

TEST(StreamedBodyRate, TimeTheHandlerSpendsBetweenReadsIsNotTheClients) {
    // The client answers every reply at once; the server takes 400 ms per piece. Without the
    // handler's time excluded, the 300 ms windows would find ~100 bytes in 400 ms and cut it.
    wharf::server_config cfg = local_config();
    cfg.timeouts.body_grace = 300ms;
    cfg.timeouts.min_body_rate = 400;
    cfg.timeouts.body_read = 350ms;
    wharf::server srv(cfg);
    srv.routes().route(
        wharf::method::post, "/interactive",
        [](wharf::session& s) {
            s.response().content_type("text/plain");
            answer_each_piece(s, 400ms);
        },
        streamed());
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send("POST /interactive HTTP/1.1\r\nHost: t\r\nContent-Length: 400\r\n\r\n"));
    std::size_t answered = 0;
    for (int piece = 0; piece < 4; ++piece) {
        ASSERT_TRUE(c.send(std::string(100, 'p')));
        const std::string want = "processed 100 bytes\n";
        // Wait for this piece's answer (a chunk that carries it) before sending the next.
        while (c.pending().find(want, answered) == std::string::npos)
            ASSERT_TRUE(c.receive(5s)) << "no answer to piece " << piece << "; got " << c.pending();
        answered = c.pending().find(want, answered) + want.size();
    }
    EXPECT_FALSE(c.wait_closed(200ms)) << "the server gave up on a prompt client";
}

} // namespace
