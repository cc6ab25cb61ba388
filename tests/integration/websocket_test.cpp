// SPDX-License-Identifier: MIT
// WebSocket routes (wharf/websocket.hpp) on in-process servers, driven over real sockets by a
// raw client (ws_test_client.hpp): what the demo's /ws/echo and /ws/chat do not expose, so the
// Python tests cannot reach it. Handshake refusal and inspection, subprotocol choice,
// streaming (on_fragment) and its limits, backpressure and send_limit, the cross-thread
// handle, shutdown, pings, the close handshake and its timeout, topics, and what on_close,
// on_ping and on_pong are told.
#include <algorithm>
#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <wharf/wharf.hpp>

#include "test_client.hpp"
#include "ws_test_client.hpp"

namespace {

// "m" + std::to_string(i) without GCC 12's false -Wrestrict on operator+(const char*, string&&).
std::string numbered(std::string_view prefix, std::size_t n) {
    std::string out(prefix);
    out += std::to_string(n);
    return out;
}

using namespace std::chrono_literals;
using wharf_test::local_config;
using wharf_test::start;
using wharf_test::wait_until;
using wharf_test::ws_client;
using wharf_test::ws_frame;
namespace ws_op = wharf_test::ws_op;

using clock_type = std::chrono::steady_clock;

/// A server configuration whose shutdown never holds a test up for long.
wharf::server_config ws_config(unsigned workers = 1) {
    wharf::server_config cfg = local_config(workers);
    cfg.timeouts.shutdown = 3s;
    return cfg;
}

/// Strings recorded by callbacks on the loop threads, read by the test's thread.
class recorder {
  public:
    void add(std::string s) {
        std::lock_guard lock(m_);
        v_.push_back(std::move(s));
    }
    std::vector<std::string> get() const {
        std::lock_guard lock(m_);
        return v_;
    }
    std::size_t size() const {
        std::lock_guard lock(m_);
        return v_.size();
    }
    void clear() {
        std::lock_guard lock(m_);
        v_.clear();
    }
    /// True once at least `n` entries were recorded within `timeout`.
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) const {
        return wait_until([&] { return size() >= n; }, timeout);
    }

  private:
    mutable std::mutex m_;
    std::vector<std::string> v_;
};

/// What on_close was told.
struct close_info {
    std::uint16_t code;
    std::string reason;
};

class close_recorder {
  public:
    void set(std::uint16_t code, std::string_view reason) {
        std::lock_guard lock(m_);
        v_.push_back({code, std::string(reason)});
    }
    std::size_t count() const {
        std::lock_guard lock(m_);
        return v_.size();
    }
    std::vector<close_info> get() const {
        std::lock_guard lock(m_);
        return v_;
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) const {
        return wait_until([&] { return count() >= n; }, timeout);
    }
    /// The first on_close (call after wait_for(1)).
    close_info first() const {
        std::lock_guard lock(m_);
        return v_.empty() ? close_info{0, "<none>"} : v_.front();
    }

  private:
    mutable std::mutex m_;
    std::vector<close_info> v_;
};

std::string kind_name(wharf::ws_kind k) {
    return k == wharf::ws_kind::text ? "text" : "binary";
}

std::int64_t ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

// Reads frames until a close frame; nullopt when none comes (see c.error()).
std::optional<ws_frame> read_close(ws_client& c, std::chrono::milliseconds wait = 10s) {
    const auto deadline = clock_type::now() + wait;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) return std::nullopt;
        auto f = c.read_frame(left);
        if (!f) return std::nullopt;
        if (f->op == ws_op::close) return f;
    }
}

// -- 1. on_handshake refusing and inspecting ------------------------------------------------

TEST(WebSocketHandshake, RefusalWithoutAStatusIs403AndNo101) {
    std::atomic<int> opened{0};
    std::atomic<int> asked{0};
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.on_handshake = [&](wharf::session&, wharf::websocket_offer&) {
        ++asked;
        return false;
    };
    h.on_open = [&](wharf::websocket&) { ++opened; };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.connected()) << c.error();
    const auto r = c.handshake("/ws");
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 403);
    EXPECT_FALSE(r->header("Sec-WebSocket-Accept"));
    EXPECT_FALSE(r->header("Upgrade"));
    EXPECT_FALSE(r->header("Sec-WebSocket-Protocol"));
    EXPECT_FALSE(r->header("Sec-WebSocket-Extensions"));
    EXPECT_EQ(asked.load(), 1);
    // The connection is still HTTP: a plain GET on it is answered as one (426: not a handshake).
    ASSERT_TRUE(c.send_raw(wharf_test::request("GET", "/ws")));
    const auto again = c.read_response();
    ASSERT_TRUE(again) << c.error();
    EXPECT_EQ(again->status, 426);
    EXPECT_EQ(again->header("Upgrade"), "websocket");
    EXPECT_EQ(again->header("Sec-WebSocket-Version"), "13");
    EXPECT_EQ(asked.load(), 1) << "on_handshake ran for a request that was no handshake";
    EXPECT_EQ(opened.load(), 0);
}

TEST(WebSocketHandshake, RefusalSendsTheResponseTheHandlerBuilt) {
    std::atomic<int> opened{0};
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.on_handshake = [](wharf::session& s, wharf::websocket_offer&) {
        s.response().status(401).body("who are you?\n", "text/plain");
        s.response().headers().set("WWW-Authenticate", "Bearer realm=\"ws\"");
        return false;
    };
    h.on_open = [&](wharf::websocket&) { ++opened; };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    const auto r = c.handshake("/ws", "Sec-WebSocket-Protocol: chat\r\n");
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->header("WWW-Authenticate"), "Bearer realm=\"ws\"");
    EXPECT_EQ(r->body, "who are you?\n");
    EXPECT_EQ(r->header("Content-Type"), "text/plain");
    EXPECT_FALSE(r->header("Sec-WebSocket-Accept"));
    EXPECT_FALSE(r->header("Upgrade"));
    EXPECT_FALSE(r->header("Sec-WebSocket-Protocol"));
    EXPECT_TRUE(c.pending().empty()) << "bytes after the refusal: " << c.pending();
    EXPECT_EQ(opened.load(), 0);
}

TEST(WebSocketHandshake, OnHandshakeReadsOriginAndCarriesItsContext) {
    std::atomic<int> opened{0};
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.on_handshake = [](wharf::session& s, wharf::websocket_offer& offer) {
        const auto origin = s.request().header("Origin");
        if (!origin || *origin != "https://good.example") return false;
        offer.context = std::string("origin=") + std::string(*origin);
        return true;
    };
    h.on_open = [&](wharf::websocket& ws) {
        ++opened;
        ws.send(std::any_cast<std::string&>(ws.context()));
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    {
        ws_client good(a);
        ASSERT_TRUE(good.open("/ws", "Origin: https://good.example\r\n")) << good.error();
        const auto f = good.read_frame();
        ASSERT_TRUE(f) << good.error();
        EXPECT_EQ(f->op, ws_op::text);
        EXPECT_TRUE(f->fin);
        EXPECT_FALSE(f->rsv1);
        EXPECT_EQ(f->payload, "origin=https://good.example");
    }
    {
        ws_client bad(a);
        const auto r = bad.handshake("/ws", "Origin: https://evil.example\r\n");
        ASSERT_TRUE(r) << bad.error();
        EXPECT_EQ(r->status, 403);
        EXPECT_FALSE(r->header("Sec-WebSocket-Accept"));
    }
    {
        ws_client none(a);
        const auto r = none.handshake("/ws");
        ASSERT_TRUE(r) << none.error();
        EXPECT_EQ(r->status, 403);
    }
    EXPECT_EQ(opened.load(), 1);
}

// -- 2. subprotocols ------------------------------------------------------------------------

// Opens /path offering `offer` (a header line or ""), and returns the answered
// Sec-WebSocket-Protocol (nullopt: absent) and the first text frame (the route sends
// "proto=" + subprotocol() on open).
struct proto_result {
    bool ok = false;
    std::optional<std::string> header;
    std::string reported;
};

proto_result open_with(const wharf::address& a, std::string_view path, std::string_view offer) {
    proto_result out;
    ws_client c(a);
    const auto r = c.handshake(path, offer);
    if (!r || r->status != 101 ||
        r->header("Sec-WebSocket-Accept") != std::string(wharf_test::ws_sample_accept)) {
        ADD_FAILURE() << "no 101 for " << path << " offering [" << offer
                      << "]: " << (r ? std::to_string(r->status) : c.error());
        return out;
    }
    const auto all = r->header_all("Sec-WebSocket-Protocol");
    EXPECT_LE(all.size(), 1u) << "more than one Sec-WebSocket-Protocol answered";
    out.header = r->header("Sec-WebSocket-Protocol");
    const auto f = c.read_frame();
    if (!f) {
        ADD_FAILURE() << "no frame after the 101: " << c.error();
        return out;
    }
    EXPECT_EQ(f->op, ws_op::text);
    out.reported = f->payload;
    out.ok = true;
    return out;
}

TEST(WebSocketSubprotocol, TheServersPreferenceAmongThoseOffered) {
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.subprotocols = {"v2.chat", "v1.chat"};
    h.on_open = [](wharf::websocket& ws) { ws.send("proto=" + std::string(ws.subprotocol())); };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    // Both offered, the client's order the other way round: the server's first choice wins.
    auto r = open_with(a, "/ws", "Sec-WebSocket-Protocol: v1.chat, v2.chat\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header, "v2.chat");
    EXPECT_EQ(r.reported, "proto=v2.chat");

    r = open_with(a, "/ws", "Sec-WebSocket-Protocol: v1.chat\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header, "v1.chat");
    EXPECT_EQ(r.reported, "proto=v1.chat");

    // Offered over two header lines.
    r = open_with(a, "/ws", "Sec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Protocol: v1.chat\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header, "v1.chat");
    EXPECT_EQ(r.reported, "proto=v1.chat");

    // Only ones the route does not speak: no header, and the connection still opens.
    r = open_with(a, "/ws", "Sec-WebSocket-Protocol: mqtt, wamp\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.header) << *r.header;
    EXPECT_EQ(r.reported, "proto=");

    // None offered: no header.
    r = open_with(a, "/ws", "");
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.header) << *r.header;
    EXPECT_EQ(r.reported, "proto=");
}

TEST(WebSocketSubprotocol, OnHandshakeChoosesOverTheRouteList) {
    recorder seen;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.subprotocols = {"v2.chat"};
    h.on_handshake = [&](wharf::session&, wharf::websocket_offer& offer) {
        std::string offered;
        for (std::string_view p : offer.subprotocols())
            offered.append(offered.empty() ? "" : ",").append(p);
        seen.add("offered=" + offered);
        seen.add("preselected=" + std::string(offer.chosen_subprotocol()));
        seen.add(std::string("nope=") + (offer.accept_subprotocol("nope") ? "true" : "false"));
        seen.add("after_nope=" + std::string(offer.chosen_subprotocol()));
        seen.add(std::string("v1=") + (offer.accept_subprotocol("v1.chat") ? "true" : "false"));
        return true;
    };
    h.on_open = [](wharf::websocket& ws) { ws.send("proto=" + std::string(ws.subprotocol())); };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    auto r = open_with(a, "/ws", "Sec-WebSocket-Protocol: v2.chat, v1.chat\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header, "v1.chat");
    EXPECT_EQ(r.reported, "proto=v1.chat");
    EXPECT_EQ(seen.get(),
              (std::vector<std::string>{"offered=v2.chat,v1.chat", "preselected=v2.chat",
                                        "nope=false", "after_nope=v2.chat", "v1=true"}));

    // v1.chat not offered: accept_subprotocol refuses it and the route's choice stands.
    seen.clear();
    r = open_with(a, "/ws", "Sec-WebSocket-Protocol: v2.chat\r\n");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.header, "v2.chat");
    EXPECT_EQ(r.reported, "proto=v2.chat");
    EXPECT_EQ(seen.get(),
              (std::vector<std::string>{"offered=v2.chat", "preselected=v2.chat", "nope=false",
                                        "after_nope=v2.chat", "v1=false"}));

    // Nothing offered: nothing to choose, no header.
    seen.clear();
    r = open_with(a, "/ws", "");
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.header);
    EXPECT_EQ(r.reported, "proto=");
    EXPECT_EQ(seen.get(), (std::vector<std::string>{"offered=", "preselected=", "nope=false",
                                                    "after_nope=", "v1=false"}));
}

// -- 3. streaming (on_fragment) -------------------------------------------------------------

// A route in streaming mode with max_message_size 1000: every piece is recorded as
// "kind|last|piece"; on_message (also set) must never run.
struct streaming_server {
    recorder pieces;
    std::atomic<int> whole_messages{0};
    close_recorder closes;
    wharf::server srv{ws_config()};
    wharf::address addr;

    streaming_server() {
        wharf::websocket_handlers h;
        h.options.max_message_size = 1000;
        h.on_fragment = [this](wharf::websocket&, std::string_view piece, wharf::ws_kind kind,
                               bool last) {
            pieces.add(kind_name(kind) + "|" + (last ? "last" : "more") + "|" + std::string(piece));
        };
        h.on_message = [this](wharf::websocket&, std::string_view, wharf::ws_kind) {
            ++whole_messages;
        };
        h.on_close = [this](wharf::websocket&, std::uint16_t code, std::string_view reason) {
            closes.set(code, reason);
        };
        srv.routes().websocket("/stream", std::move(h));
    }
};

// Joins the recorded pieces; true when only the last one is marked last.
std::string joined(const std::vector<std::string>& pieces, std::size_t from, bool& well_marked) {
    std::string out;
    well_marked = from < pieces.size();
    for (std::size_t i = from; i < pieces.size(); ++i) {
        const std::string& p = pieces[i];
        const std::size_t bar1 = p.find('|');
        const std::size_t bar2 = p.find('|', bar1 + 1);
        const bool last = p.compare(bar1 + 1, bar2 - bar1 - 1, "last") == 0;
        if (last != (i + 1 == pieces.size())) well_marked = false;
        out.append(p, bar2 + 1);
    }
    return out;
}

TEST(WebSocketStreaming, PiecesArriveAsSentWithTheLastFlag) {
    streaming_server s;
    start(s.srv);
    ws_client c(s.srv.local_addresses()[0]);
    ASSERT_TRUE(c.open("/stream")) << c.error();

    // One frame at a time, each waited for, so each arrives as one piece.
    ASSERT_TRUE(c.send_frame(ws_op::text, "hel", false));
    ASSERT_TRUE(s.pieces.wait_for(1));
    ASSERT_TRUE(c.send_frame(ws_op::continuation, "lo ", false));
    ASSERT_TRUE(s.pieces.wait_for(2));
    ASSERT_TRUE(c.send_frame(ws_op::continuation, "world", true));
    ASSERT_TRUE(s.pieces.wait_for(3));
    // A binary message whose last frame is empty, then one in a single frame.
    ASSERT_TRUE(c.send_frame(ws_op::binary, std::string("\x00\x01", 2), false));
    ASSERT_TRUE(s.pieces.wait_for(4));
    ASSERT_TRUE(c.send_frame(ws_op::continuation, "", true));
    ASSERT_TRUE(s.pieces.wait_for(5));
    ASSERT_TRUE(c.send_frame(ws_op::text, "whole", true));
    ASSERT_TRUE(s.pieces.wait_for(6));
    // A ping between two pieces does not disturb the message.
    ASSERT_TRUE(c.send_frame(ws_op::text, "a", false));
    ASSERT_TRUE(s.pieces.wait_for(7));
    ASSERT_TRUE(c.send_frame(ws_op::ping, "p"));
    const auto pong = c.read_frame();
    ASSERT_TRUE(pong) << c.error();
    EXPECT_EQ(pong->op, ws_op::pong);
    EXPECT_EQ(pong->payload, "p");
    ASSERT_TRUE(c.send_frame(ws_op::continuation, "b", true));
    ASSERT_TRUE(s.pieces.wait_for(8));

    EXPECT_EQ(s.pieces.get(),
              (std::vector<std::string>{"text|more|hel", "text|more|lo ", "text|last|world",
                                        std::string("binary|more|\x00\x01", 14), "binary|last|",
                                        "text|last|whole", "text|more|a", "text|last|b"}));
    EXPECT_EQ(s.whole_messages.load(), 0) << "on_message ran although on_fragment is set";
    EXPECT_EQ(s.closes.count(), 0u);
}

TEST(WebSocketStreaming, TextIsCheckedUpToEachPiece) {
    streaming_server s;
    start(s.srv);
    const wharf::address a = s.srv.local_addresses()[0];
    {
        // "café!" with the é split across two frames: both pieces delivered as they came.
        ws_client c(a);
        ASSERT_TRUE(c.open("/stream")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::text, "caf\xC3", false));
        ASSERT_TRUE(s.pieces.wait_for(1));
        ASSERT_TRUE(c.send_frame(ws_op::continuation, "\xA9!", true));
        ASSERT_TRUE(s.pieces.wait_for(2));
        EXPECT_EQ(s.pieces.get(),
                  (std::vector<std::string>{"text|more|caf\xC3", "text|last|\xA9!"}));
    }
    ASSERT_TRUE(s.closes.wait_for(1));
    s.pieces.clear();
    {
        // Valid so far, then a byte that is never UTF-8: the first piece came, then 1007.
        ws_client c(a);
        ASSERT_TRUE(c.open("/stream")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::text, "ok", false));
        ASSERT_TRUE(s.pieces.wait_for(1));
        ASSERT_TRUE(c.send_frame(ws_op::continuation, "\xFF", true));
        const auto f = read_close(c);
        ASSERT_TRUE(f) << c.error();
        EXPECT_EQ(f->close_code(), 1007);
        EXPECT_TRUE(c.wait_closed(10s)) << "the server kept the connection after 1007";
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(2));
        EXPECT_EQ(s.closes.get()[1].code, 1007);
        EXPECT_EQ(s.pieces.get(), (std::vector<std::string>{"text|more|ok"}));
    }
}

TEST(WebSocketStreaming, MaxMessageSizeStillBoundsTheWholeMessage) {
    // max_message_size is "the largest message (and frame) accepted ... larger ones close with
    // 1009"; streaming changes how a message is delivered, not how large it may be.
    streaming_server s;
    start(s.srv);
    const wharf::address a = s.srv.local_addresses()[0];
    {
        // Exactly the limit, in two frames: accepted.
        ws_client c(a);
        ASSERT_TRUE(c.open("/stream")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::binary, std::string(500, 'x'), false));
        ASSERT_TRUE(s.pieces.wait_for(1));
        ASSERT_TRUE(c.send_frame(ws_op::continuation, std::string(500, 'y'), true));
        ASSERT_TRUE(wait_until([&] {
            const auto p = s.pieces.get();
            return !p.empty() && p.back().compare(0, 12, "binary|last|") == 0;
        }));
        bool marked = false;
        EXPECT_EQ(joined(s.pieces.get(), 0, marked), std::string(500, 'x') + std::string(500, 'y'));
        EXPECT_TRUE(marked);
        // Still open: a ping is answered.
        ASSERT_TRUE(c.send_frame(ws_op::ping, "still"));
        const auto pong = c.read_frame();
        ASSERT_TRUE(pong) << c.error();
        EXPECT_EQ(pong->op, ws_op::pong);
        EXPECT_EQ(s.closes.count(), 0u);
    }
    ASSERT_TRUE(s.closes.wait_for(1));
    s.pieces.clear();
    {
        // 600 + 401 = 1001 bytes: the first piece is delivered, the frame that would pass the
        // limit is refused before any of it is, with 1009.
        ws_client c(a);
        ASSERT_TRUE(c.open("/stream")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::binary, std::string(600, 'x'), false));
        ASSERT_TRUE(s.pieces.wait_for(1));
        ASSERT_TRUE(c.send_frame(ws_op::continuation, std::string(401, 'y'), true));
        const auto f = read_close(c);
        ASSERT_TRUE(f) << c.error();
        EXPECT_EQ(f->close_code(), 1009);
        EXPECT_TRUE(c.wait_closed(10s)) << "the server kept the connection after 1009";
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(2));
        EXPECT_EQ(s.closes.get()[1].code, 1009);
        bool marked = true;
        EXPECT_EQ(joined(s.pieces.get(), 0, marked), std::string(600, 'x'));
        EXPECT_FALSE(marked) << "a piece of the refused message was marked last";
        for (const auto& p : s.pieces.get())
            EXPECT_EQ(p.find('y', 12), std::string::npos) << "a byte of the refused frame arrived";
    }
    s.pieces.clear();
    {
        // One frame over the limit: refused before any of it is delivered.
        ws_client c(a);
        ASSERT_TRUE(c.open("/stream")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::text, std::string(1001, 'z'), true));
        const auto f = read_close(c);
        ASSERT_TRUE(f) << c.error();
        EXPECT_EQ(f->close_code(), 1009);
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(3));
        EXPECT_EQ(s.closes.get()[2].code, 1009);
        EXPECT_EQ(s.pieces.size(), 0u);
    }
    EXPECT_EQ(s.whole_messages.load(), 0);
}

// -- 4. backpressure and send_limit ---------------------------------------------------------

constexpr std::size_t chunk_size = 65536;
// A 64 KiB binary frame from the server: a 10-byte head (the 64-bit length form) and payload.
constexpr std::size_t chunk_frame = chunk_size + 10;

// Message `i`: its index in the first 4 bytes, then a letter.
std::string chunk_message(std::uint32_t i) {
    std::string m(chunk_size, static_cast<char>('a' + i % 26));
    m[0] = static_cast<char>(i >> 24);
    m[1] = static_cast<char>(i >> 16);
    m[2] = static_cast<char>(i >> 8);
    m[3] = static_cast<char>(i);
    return m;
}

std::uint32_t chunk_index(const std::string& payload) {
    if (payload.size() < 4) return 0xFFFFFFFF;
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(payload[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(payload[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(payload[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(payload[3]));
}

const char* status_name(wharf::ws_send_status s) {
    switch (s) {
    case wharf::ws_send_status::queued:
        return "queued";
    case wharf::ws_send_status::backpressure:
        return "backpressure";
    case wharf::ws_send_status::dropped:
        return "dropped";
    case wharf::ws_send_status::closed:
        return "closed";
    }
    return "?";
}

// The client's socket buffer: small, so that what the server cannot write stays queued.
constexpr int small_rcvbuf = 65536;

TEST(WebSocketBackpressure, ReportedPastHighWaterAndDrainedOnceTheClientReads) {
    // high_water 4 MiB; on open the server queues 256 chunks (16 MiB). The kernel takes a few
    // MiB at most (a 4 MiB send buffer, the client's small receive buffer), so the queue stays
    // above high_water (reading stops) and far above high_water / 2 (no on_drain) until the
    // client reads.
    struct state {
        std::mutex m;
        std::vector<wharf::ws_send_status> statuses;
        std::vector<std::size_t> buffered;
        bool open_returned = false;
    } st;
    constexpr std::size_t high_water = 4u << 20;
    recorder messages;
    recorder drains;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.high_water = high_water;
    h.options.send_limit = 64u << 20;
    h.on_open = [&](wharf::websocket& ws) {
        std::lock_guard lock(st.m);
        for (std::uint32_t i = 0; i < 256; ++i) {
            st.statuses.push_back(ws.send(chunk_message(i), wharf::ws_kind::binary));
            st.buffered.push_back(ws.buffered_amount());
        }
        st.open_returned = true;
    };
    h.on_message = [&](wharf::websocket&, std::string_view m, wharf::ws_kind) {
        messages.add(std::string(m));
    };
    h.on_drain = [&](wharf::websocket& ws) {
        drains.add(std::to_string(ws.buffered_amount()));
        ws.send("drained");
    };
    srv.routes().websocket("/bp", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0], small_rcvbuf, 10s);
    ASSERT_TRUE(c.open("/bp")) << c.error();
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(st.m);
        return st.open_returned;
    }));
    {
        std::lock_guard lock(st.m);
        ASSERT_EQ(st.statuses.size(), 256u);
        // Nothing is written inside on_open (completions run later), so the queue holds every
        // frame so far: queued while under 4 MiB, backpressure from the 64th on.
        for (std::size_t i = 0; i < 256; ++i) {
            const bool under = (i + 1) * chunk_frame < high_water;
            EXPECT_EQ(status_name(st.statuses[i]), std::string(under ? "queued" : "backpressure"))
                << "send " << i;
            EXPECT_EQ(st.buffered[i], (i + 1) * chunk_frame) << "send " << i;
        }
    }
    // The client sends a message but does not read: the server does not read either.
    ASSERT_TRUE(c.send_text("while-full"));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(drains.size(), 0u) << "on_drain before the client read anything";
    EXPECT_EQ(messages.size(), 0u) << "the server read while over high_water";

    // Now read everything: the 256 chunks in order, then what on_drain sent.
    for (std::uint32_t i = 0; i < 256; ++i) {
        const auto f = c.read_frame(10s);
        ASSERT_TRUE(f) << "chunk " << i << ": " << c.error();
        ASSERT_EQ(f->op, ws_op::binary);
        ASSERT_EQ(f->payload.size(), chunk_size);
        ASSERT_EQ(chunk_index(f->payload), i);
        ASSERT_EQ(f->payload.back(), static_cast<char>('a' + i % 26));
    }
    const auto last = c.read_frame(10s);
    ASSERT_TRUE(last) << c.error();
    EXPECT_EQ(last->op, ws_op::text);
    EXPECT_EQ(last->payload, "drained");
    ASSERT_TRUE(messages.wait_for(1));
    EXPECT_EQ(messages.get(), (std::vector<std::string>{"while-full"}));
    const auto d = drains.get();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_LT(std::stoull(d[0]), high_water / 2);
}

// The server queues 64 KiB chunks on open until a send is refused; high_water 256 KiB,
// send_limit 1 MiB. Each send is checked against the queue before it: with k chunks waiting,
// chunk k+1 is refused when k * 65546 + 65550 (the chunk and the longest head) > 1 MiB, so
// chunks 0..14 are accepted (0..2 queued, 3..14 backpressure) and chunk 15 is refused.
struct overflow_run {
    std::mutex m;
    std::vector<wharf::ws_send_status> statuses;
    wharf::ws_send_status after = wharf::ws_send_status::queued; // one more send, after
    bool open_after = false;                                     // is_open() then
    bool done = false;
};

void fill_until_refused(wharf::websocket& ws, overflow_run& run) {
    std::lock_guard lock(run.m);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        const auto s = ws.send(chunk_message(i), wharf::ws_kind::binary);
        run.statuses.push_back(s);
        if (s == wharf::ws_send_status::dropped || s == wharf::ws_send_status::closed) break;
    }
    run.after = ws.send("one more");
    run.open_after = ws.is_open();
    run.done = true;
}

std::vector<std::string> expected_overflow_statuses(const char* refused) {
    std::vector<std::string> v;
    for (int i = 0; i < 3; ++i)
        v.emplace_back("queued");
    for (int i = 3; i < 15; ++i)
        v.emplace_back("backpressure");
    v.emplace_back(refused);
    return v;
}

TEST(WebSocketBackpressure, PastSendLimitWithOverflowCloseTheConnectionCloses1008) {
    overflow_run run;
    close_recorder closes;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.high_water = 256u << 10;
    h.options.send_limit = 1u << 20;
    h.options.on_overflow = wharf::ws_overflow::close;
    h.on_open = [&](wharf::websocket& ws) { fill_until_refused(ws, run); };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/bp", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0], small_rcvbuf, 10s);
    ASSERT_TRUE(c.open("/bp")) << c.error();
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(run.m);
        return run.done;
    }));
    {
        std::lock_guard lock(run.m);
        std::vector<std::string> got;
        for (auto s : run.statuses)
            got.emplace_back(status_name(s));
        EXPECT_EQ(got, expected_overflow_statuses("closed"));
        EXPECT_STREQ(status_name(run.after), "closed");
        EXPECT_FALSE(run.open_after);
    }
    // The accepted chunks, in order, then the close frame: 1008; nothing after it.
    for (std::uint32_t i = 0; i < 15; ++i) {
        const auto f = c.read_frame(10s);
        ASSERT_TRUE(f) << "chunk " << i << ": " << c.error();
        ASSERT_EQ(f->op, ws_op::binary) << "chunk " << i;
        ASSERT_EQ(chunk_index(f->payload), i);
    }
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::close);
    EXPECT_EQ(f->close_code(), wharf::ws_close::policy);
    EXPECT_EQ(f->close_reason(), "receiver too slow");
    EXPECT_TRUE(c.wait_closed(10s)) << "the server did not close after 1008";
    c.close(); // our FIN: the server's linger ends
    EXPECT_TRUE(c.pending().empty()) << c.pending().size() << " bytes after the close frame";
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, wharf::ws_close::policy);
    EXPECT_EQ(closes.first().reason, "receiver too slow");
}

TEST(WebSocketBackpressure, PastSendLimitWithOverflowDropTheSendIsDropped) {
    overflow_run run;
    close_recorder closes;
    std::atomic<int> drains{0};
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.high_water = 256u << 10;
    h.options.send_limit = 1u << 20;
    h.options.on_overflow = wharf::ws_overflow::drop;
    h.on_open = [&](wharf::websocket& ws) { fill_until_refused(ws, run); };
    h.on_drain = [&](wharf::websocket& ws) {
        ++drains;
        ws.send("tail");
    };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/bp", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0], small_rcvbuf, 10s);
    ASSERT_TRUE(c.open("/bp")) << c.error();
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(run.m);
        return run.done;
    }));
    {
        std::lock_guard lock(run.m);
        std::vector<std::string> got;
        for (auto s : run.statuses)
            got.emplace_back(status_name(s));
        EXPECT_EQ(got, expected_overflow_statuses("dropped"));
        // A small message still fits under send_limit; the connection stays open.
        EXPECT_STREQ(status_name(run.after), "backpressure");
        EXPECT_TRUE(run.open_after);
    }
    // Chunks 0..14, the small message, then what on_drain sent; chunk 15 never comes.
    for (std::uint32_t i = 0; i < 15; ++i) {
        const auto f = c.read_frame(10s);
        ASSERT_TRUE(f) << "chunk " << i << ": " << c.error();
        ASSERT_EQ(f->op, ws_op::binary) << "chunk " << i;
        ASSERT_EQ(chunk_index(f->payload), i);
    }
    auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::text);
    EXPECT_EQ(f->payload, "one more");
    f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::text);
    EXPECT_EQ(f->payload, "tail");
    EXPECT_EQ(drains.load(), 1);
    // Still open: the close handshake is the client's to start
    ASSERT_TRUE(c.send_frame(ws_op::close, ""));
    f = read_close(c);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->payload, "");
    EXPECT_TRUE(c.wait_closed(10s));
    c.close(); // our FIN: the server's linger ends
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, wharf::ws_close::no_status);
}

// -- 5. websocket_handle from other threads -------------------------------------------------

// The handle (and the loop thread) of the route's last connection.
struct handle_slot {
    std::mutex m;
    std::optional<wharf::websocket_handle> handle;
    std::thread::id loop_thread;
    std::optional<wharf::websocket_handle> get() {
        std::lock_guard lock(m);
        return handle;
    }
};

TEST(WebSocketHandle, SendsAndPostsFromAnotherThreadArriveInOrder) {
    handle_slot slot;
    std::atomic<bool> posted_on_loop{false};
    wharf::server srv(ws_config(2));
    wharf::websocket_handlers h;
    h.on_open = [&](wharf::websocket& ws) {
        std::lock_guard lock(slot.m);
        slot.handle = ws.handle();
        slot.loop_thread = std::this_thread::get_id();
    };
    srv.routes().websocket("/h", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.open("/h")) << c.error();
    ASSERT_TRUE(wait_until([&] { return slot.get().has_value(); }));
    const wharf::websocket_handle handle = *slot.get();

    constexpr int count = 1000;
    std::vector<std::error_code> errors(count + 1);
    std::thread sender([&] {
        for (int i = 0; i < count; ++i) {
            errors[static_cast<std::size_t>(i)] = handle.send(
                numbered("m", i), i % 2 ? wharf::ws_kind::binary : wharf::ws_kind::text);
        }
        errors[count] = handle.post([&](wharf::websocket& ws) {
            std::lock_guard lock(slot.m);
            posted_on_loop = std::this_thread::get_id() == slot.loop_thread;
            ws.send("posted");
        });
    });
    for (int i = 0; i < count; ++i) {
        const auto f = c.read_frame(10s);
        ASSERT_TRUE(f) << "message " << i << ": " << c.error();
        ASSERT_EQ(f->op, i % 2 ? ws_op::binary : ws_op::text) << "message " << i;
        ASSERT_EQ(f->payload, numbered("m", i));
    }
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->payload, "posted");
    sender.join();
    for (int i = 0; i <= count; ++i)
        ASSERT_FALSE(errors[static_cast<std::size_t>(i)])
            << i << ": " << errors[static_cast<std::size_t>(i)].message();
    EXPECT_TRUE(posted_on_loop.load()) << "a posted task ran off the connection's loop";
}

// A handle's send/post on another thread races the connection closing on its loop; run it
// under WHARF_SANITIZE=thread too (upgraded_state::conn is atomic for this).
TEST(WebSocketHandle, AfterTheConnectionClosedSendAndPostReportClosed) {
    handle_slot slot;
    close_recorder closes;
    std::optional<wharf::websocket_handle> kept;
    {
        wharf::server srv(ws_config(2));
        wharf::websocket_handlers h;
        h.on_open = [&](wharf::websocket& ws) {
            std::lock_guard lock(slot.m);
            slot.handle = ws.handle();
        };
        h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
            closes.set(code, reason);
        };
        srv.routes().websocket("/h", std::move(h));
        start(srv);

        ws_client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.open("/h")) << c.error();
        ASSERT_TRUE(wait_until([&] { return slot.get().has_value(); }));
        const wharf::websocket_handle handle = *slot.get();
        kept = handle;

        // A thread sends as fast as it can until the handle reports the connection closed,
        // while the client reads a while and then closes it: every send from before the close
        // arrives in order, and the thread learns of the close.
        std::atomic<int> sent{0};
        std::error_code last_error;
        std::thread sender([&] {
            const auto deadline = clock_type::now() + 20s;
            while (clock_type::now() < deadline) {
                const std::error_code ec = handle.send(numbered("t", sent.load()));
                if (ec) {
                    last_error = ec;
                    return;
                }
                ++sent;
                // Bounded: the loop must not fall ever further behind (the mailbox grows).
                if (sent % 32 == 0) std::this_thread::sleep_for(1ms);
            }
        });
        int next = 0;
        while (next < 200) {
            const auto f = c.read_frame(10s);
            ASSERT_TRUE(f) << c.error();
            ASSERT_EQ(f->op, ws_op::text);
            ASSERT_EQ(f->payload, numbered("t", next));
            ++next;
        }
        ASSERT_TRUE(c.send_frame(ws_op::close, ""));
        // Messages already queued may come before the close frame; they stay in order.
        for (;;) {
            const auto f = c.read_frame(10s);
            ASSERT_TRUE(f) << c.error();
            if (f->op == ws_op::close) {
                EXPECT_EQ(f->payload, "");
                break;
            }
            ASSERT_EQ(f->payload, numbered("t", next));
            ++next;
        }
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        sender.join();
        EXPECT_EQ(last_error, wharf::errc::closed) << last_error.message();
        EXPECT_LE(next, sent.load());
        ASSERT_TRUE(closes.wait_for(1));
        EXPECT_EQ(closes.first().code, wharf::ws_close::no_status);

        // After on_close, from another thread: both report closed, and the task never runs.
        std::atomic<bool> ran{false};
        std::error_code post_ec, send_ec;
        std::thread([&] {
            post_ec = handle.post([&](wharf::websocket&) { ran = true; });
            send_ec = handle.send("too late");
        }).join();
        EXPECT_EQ(post_ec, wharf::errc::closed) << post_ec.message();
        EXPECT_EQ(send_ec, wharf::errc::closed) << send_ec.message();
        std::this_thread::sleep_for(100ms);
        EXPECT_FALSE(ran.load());
    }
    // The handle outlives the server.
    ASSERT_TRUE(kept);
    std::thread([&] {
        EXPECT_EQ(kept->send("after the server"), wharf::errc::closed);
        EXPECT_EQ(kept->post([](wharf::websocket&) {}), wharf::errc::closed);
    }).join();
    // An empty handle, too.
    const wharf::websocket_handle empty;
    EXPECT_EQ(empty.send("x"), wharf::errc::closed);
    EXPECT_EQ(empty.post([](wharf::websocket&) {}), wharf::errc::closed);
}

// -- 6. server shutdown ---------------------------------------------------------------------

TEST(WebSocketShutdown, StopClosesOpenWebSocketsWith1001) {
    close_recorder closes;
    std::atomic<int> opened{0};
    wharf::server_config cfg = ws_config(2);
    wharf::server srv(cfg);
    wharf::websocket_handlers h;
    h.options.close_timeout = 500ms;
    h.on_open = [&](wharf::websocket&) { ++opened; };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    ws_client answers1(a), answers2(a), silent(a);
    ASSERT_TRUE(answers1.open("/ws")) << answers1.error();
    ASSERT_TRUE(answers2.open("/ws")) << answers2.error();
    ASSERT_TRUE(silent.open("/ws")) << silent.error();
    ASSERT_TRUE(wait_until([&] { return opened.load() == 3; }));

    // A long deadline, so what closes them is the close handshake, not the deadline's reset.
    const auto stopped = clock_type::now();
    srv.stop(60s);
    for (ws_client* c : {&answers1, &answers2, &silent}) {
        const auto f = c->read_frame(10s);
        ASSERT_TRUE(f) << c->error();
        EXPECT_EQ(f->op, ws_op::close);
        EXPECT_EQ(f->close_code(), wharf::ws_close::going_away);
        EXPECT_EQ(f->close_reason(), "server shutting down");
    }
    ASSERT_TRUE(answers1.send_close(1001));
    ASSERT_TRUE(answers2.send_close(1000, "ok, bye"));
    EXPECT_TRUE(answers1.wait_closed(10s));
    answers1.close(); // our FIN: the server's linger ends
    EXPECT_TRUE(answers2.wait_closed(10s));
    answers2.close(); // our FIN: the server's linger ends
    // The silent one is closed after close_timeout.
    EXPECT_TRUE(silent.wait_closed(10s));
    silent.close(); // our FIN: the server's linger ends
    // And the server is done well before its deadline.
    wharf::server* s = &srv;
    auto waited = std::async(std::launch::async, [s] { s->wait(); });
    EXPECT_EQ(waited.wait_for(20s), std::future_status::ready) << "stop waited for its deadline";
    if (waited.wait_for(0s) != std::future_status::ready) srv.stop(0ms);
    waited.wait();
    EXPECT_LT(ms_since(stopped), 30'000);

    ASSERT_TRUE(closes.wait_for(3));
    std::vector<std::string> got;
    for (const auto& ci : closes.get())
        got.push_back(std::to_string(ci.code) + " " + ci.reason);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"1000 ok, bye", "1001 ", "1006 "}));
}

// -- 7. pings -------------------------------------------------------------------------------

TEST(WebSocketPing, AnsweredPingsKeepTheConnectionOpen) {
    recorder pongs;
    close_recorder closes;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.ping_interval = 200ms;
    h.options.pong_timeout = 300ms;
    h.on_pong = [&](wharf::websocket&, std::string_view p) { pongs.add(std::string(p)); };
    h.on_message = [](wharf::websocket& ws, std::string_view m, wharf::ws_kind k) {
        ws.send(m, k);
    };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    const auto opened = clock_type::now();
    ASSERT_TRUE(c.open("/ws")) << c.error();
    // Six pings answered at once: about 1.2 s, well past the 500 ms an unanswered ping lasts.
    for (int i = 0; i < 6; ++i) {
        const auto f = c.read_frame(10s);
        ASSERT_TRUE(f) << "ping " << i << ": " << c.error();
        ASSERT_EQ(f->op, ws_op::ping) << "ping " << i;
        EXPECT_EQ(f->payload, "");
        ASSERT_TRUE(c.send_frame(ws_op::pong, f->payload));
    }
    EXPECT_GE(ms_since(opened), 6 * 200 - 50) << "pings came faster than ping_interval";
    ASSERT_TRUE(pongs.wait_for(6));
    EXPECT_EQ(pongs.get(), std::vector<std::string>(6, ""));
    ASSERT_TRUE(c.send_text("alive?"));
    const auto echo = c.read_data_frame(10s);
    ASSERT_TRUE(echo) << c.error();
    EXPECT_EQ(echo->op, ws_op::text);
    EXPECT_EQ(echo->payload, "alive?");
    EXPECT_FALSE(c.eof());
    EXPECT_EQ(closes.count(), 0u);
}

TEST(WebSocketPing, AnUnansweredPingDropsTheConnectionAfterPongTimeout) {
    close_recorder closes;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.ping_interval = 200ms;
    h.options.pong_timeout = 300ms;
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    const auto sent = clock_type::now(); // before the client's last byte
    ASSERT_TRUE(c.open("/ws")) << c.error();
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    ASSERT_EQ(f->op, ws_op::ping);
    // Not answered: dropped (a reset, no close frame) pong_timeout after the ping.
    EXPECT_TRUE(c.wait_closed(10s)) << "still open long after pong_timeout";
    c.close(); // our FIN: the server's linger ends
    const auto lasted = ms_since(sent);
    EXPECT_TRUE(c.reset()) << "expected a reset; got " << c.error();
    EXPECT_TRUE(c.pending().empty()) << "bytes after the ping: " << c.pending().size();
    // Not before ping_interval + pong_timeout from the client's last byte.
    EXPECT_GE(lasted, 200 + 300 - 5);
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, wharf::ws_close::abnormal);
    EXPECT_EQ(closes.first().reason, "");
}

// -- 8. the server's close and close_timeout ------------------------------------------------

TEST(WebSocketClose, UnansweredServerCloseEndsTheConnectionAfterCloseTimeout) {
    close_recorder closes;
    std::atomic<int> open_after_close{-1};
    std::atomic<int> send_after_close{-1};
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.close_timeout = 300ms;
    h.on_open = [&](wharf::websocket& ws) {
        ws.close(4000, "bye");
        open_after_close = ws.is_open() ? 1 : 0;
        send_after_close = static_cast<int>(ws.send("after close"));
    };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    const auto sent = clock_type::now();
    ASSERT_TRUE(c.open("/ws")) << c.error();
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::close);
    EXPECT_EQ(f->close_code(), 4000);
    EXPECT_EQ(f->close_reason(), "bye");
    // The client reads on but never answers.
    EXPECT_TRUE(c.wait_closed(10s)) << "still open long after close_timeout";
    c.close(); // our FIN: the server's linger ends
    EXPECT_GE(ms_since(sent), 300 - 5) << "closed before close_timeout";
    EXPECT_FALSE(c.reset()) << c.error();
    EXPECT_TRUE(c.pending().empty()) << "bytes after the close frame";
    EXPECT_EQ(open_after_close.load(), 0);
    EXPECT_EQ(send_after_close.load(), static_cast<int>(wharf::ws_send_status::closed));
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, wharf::ws_close::abnormal);
}

TEST(WebSocketClose, AnsweredServerCloseEndsAtOnceAndTheReasonIsCutAtACharacter) {
    close_recorder closes;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.options.close_timeout = 60s;
    h.on_message = [](wharf::websocket& ws, std::string_view, wharf::ws_kind) {
        std::string reason;
        for (int i = 0; i < 100; ++i)
            reason += "\xC3\xA9"; // é: 200 bytes, more than a close frame holds
        ws.close(4002, reason);
    };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.open("/ws")) << c.error();
    ASSERT_TRUE(c.send_text("close please"));
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::close);
    EXPECT_EQ(f->close_code(), 4002);
    // 123 bytes would split the 62nd é: 61 of them, 122 bytes.
    std::string cut;
    for (int i = 0; i < 61; ++i)
        cut += "\xC3\xA9";
    EXPECT_EQ(f->close_reason(), cut);
    EXPECT_EQ(f->payload.size(), 124u);
    ASSERT_TRUE(c.send_close(4002));
    const auto answered = clock_type::now();
    EXPECT_TRUE(c.wait_closed(10s));
    c.close(); // our FIN: the server's linger ends
    EXPECT_LT(ms_since(answered), 10'000);
    EXPECT_FALSE(c.reset()) << c.error();
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, 4002);
    EXPECT_EQ(closes.first().reason, "");
}

// ws.close() with no reason (the defaults: 1000, ""): a close frame whose payload is exactly
// the code (03 E8), then the close handshake (an empty reason once made a null memcpy).
TEST(WebSocketClose, ApplicationCloseWithoutAReason) {
    close_recorder closes;
    wharf::server srv(ws_config());
    wharf::websocket_handlers h;
    h.on_message = [](wharf::websocket& ws, std::string_view, wharf::ws_kind) { ws.close(); };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/ws", std::move(h));
    start(srv);

    ws_client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.open("/ws")) << c.error();
    ASSERT_TRUE(c.send_text("close please"));
    const auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::close);
    EXPECT_EQ(f->payload, std::string("\x03\xE8", 2));
    ASSERT_TRUE(c.send_close(1000));
    EXPECT_TRUE(c.wait_closed(10s));
    c.close(); // our FIN: the server's linger ends
    ASSERT_TRUE(closes.wait_for(1));
    EXPECT_EQ(closes.first().code, 1000);
    EXPECT_EQ(closes.first().reason, "");
}

// -- 9. topics ------------------------------------------------------------------------------

TEST(WebSocketTopic, PublishReachesEverySubscriberAndClosedOnesLeave) {
    wharf::websocket_topic topic;
    std::atomic<int> opened{0};
    wharf::server srv(ws_config(2));
    wharf::websocket_handlers h;
    h.on_open = [&](wharf::websocket& ws) {
        topic.subscribe(ws);
        topic.subscribe(ws); // twice: still one subscriber
        ++opened;
    };
    h.on_message = [&](wharf::websocket& ws, std::string_view m, wharf::ws_kind) {
        if (m == "leave") {
            topic.unsubscribe(ws);
            ws.send("left");
        }
    };
    srv.routes().websocket("/t", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    ws_client one(a), two(a);
    ASSERT_TRUE(one.open("/t")) << one.error();
    ASSERT_TRUE(two.open("/t")) << two.error();
    ASSERT_TRUE(wait_until([&] { return opened.load() == 2; }));
    EXPECT_EQ(topic.subscribers(), 2u);

    EXPECT_EQ(topic.publish("news 1"), 2u);
    EXPECT_EQ(topic.publish(std::string("\x00\x01 bin", 6), wharf::ws_kind::binary), 2u);
    for (int i = 0; i < 50; ++i)
        topic.publish(numbered("seq ", i));
    for (ws_client* c : {&one, &two}) {
        auto f = c->read_frame(10s);
        ASSERT_TRUE(f) << c->error();
        EXPECT_EQ(f->op, ws_op::text);
        EXPECT_EQ(f->payload, "news 1");
        f = c->read_frame(10s);
        ASSERT_TRUE(f) << c->error();
        EXPECT_EQ(f->op, ws_op::binary);
        EXPECT_EQ(f->payload, std::string("\x00\x01 bin", 6));
        for (int i = 0; i < 50; ++i) {
            f = c->read_frame(10s);
            ASSERT_TRUE(f) << c->error();
            ASSERT_EQ(f->payload, numbered("seq ", i));
        }
    }

    // One closes: it leaves the topic.
    ASSERT_TRUE(one.send_frame(ws_op::close, ""));
    ASSERT_TRUE(read_close(one));
    EXPECT_TRUE(one.wait_closed(10s));
    one.close(); // our FIN: the server's linger ends
    ASSERT_TRUE(wait_until([&] { return topic.subscribers() == 1; }))
        << "subscribers() = " << topic.subscribers();
    EXPECT_EQ(topic.publish("news 2"), 1u);
    auto f = two.read_frame(10s);
    ASSERT_TRUE(f) << two.error();
    EXPECT_EQ(f->payload, "news 2");

    // The other leaves by unsubscribing: nothing more reaches it.
    ASSERT_TRUE(two.send_text("leave"));
    f = two.read_frame(10s);
    ASSERT_TRUE(f) << two.error();
    EXPECT_EQ(f->payload, "left");
    EXPECT_EQ(topic.subscribers(), 0u);
    EXPECT_EQ(topic.publish("news 3"), 0u);
    EXPECT_TRUE(two.stays_silent(200ms)) << "got " << two.pending().size() << " bytes";
}

TEST(WebSocketTopic, DestroyedWhileSubscribed) {
    auto topic = std::make_unique<wharf::websocket_topic>();
    std::mutex topic_m;
    close_recorder closes;
    std::atomic<int> opened{0};
    wharf::server srv(ws_config(2));
    wharf::websocket_handlers h;
    h.on_open = [&](wharf::websocket& ws) {
        std::lock_guard lock(topic_m);
        topic->subscribe(ws);
        ++opened;
    };
    h.on_message = [](wharf::websocket& ws, std::string_view m, wharf::ws_kind k) {
        ws.send(m, k);
    };
    h.on_close = [&](wharf::websocket&, std::uint16_t code, std::string_view reason) {
        closes.set(code, reason);
    };
    srv.routes().websocket("/t", std::move(h));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    ws_client c(a), d(a);
    ASSERT_TRUE(c.open("/t")) << c.error();
    ASSERT_TRUE(d.open("/t")) << d.error();
    ASSERT_TRUE(wait_until([&] { return opened.load() == 2; }));
    {
        std::lock_guard lock(topic_m);
        EXPECT_EQ(topic->publish("before"), 2u);
        topic.reset(); // with a publish possibly still on its way
    }
    for (ws_client* x : {&c, &d}) {
        // "before" may or may not have been delivered; the connections are unharmed.
        ASSERT_TRUE(x->send_text("echo"));
        auto f = x->read_frame(10s);
        ASSERT_TRUE(f) << x->error();
        if (f->payload == "before") f = x->read_frame(10s);
        ASSERT_TRUE(f) << x->error();
        EXPECT_EQ(f->payload, "echo");
    }
    ASSERT_TRUE(c.send_frame(ws_op::close, ""));
    ASSERT_TRUE(read_close(c));
    EXPECT_TRUE(c.wait_closed(10s));
    c.close(); // our FIN: the server's linger ends
    d.close(); // no close frame: 1006
    ASSERT_TRUE(closes.wait_for(2));
}

// -- 10. what on_close, on_ping and on_pong are told ----------------------------------------

struct callback_server {
    recorder events;
    close_recorder closes;
    wharf::server srv{ws_config()};

    callback_server() {
        wharf::websocket_handlers h;
        h.on_message = [this](wharf::websocket& ws, std::string_view m, wharf::ws_kind) {
            if (m == "ping me") {
                EXPECT_EQ(ws.ping("xyz"), wharf::ws_send_status::queued);
            }
            events.add("message " + std::string(m));
        };
        h.on_ping = [this](wharf::websocket&, std::string_view p) {
            events.add("ping " + std::string(p));
        };
        h.on_pong = [this](wharf::websocket&, std::string_view p) {
            events.add("pong " + std::string(p));
        };
        h.on_close = [this](wharf::websocket&, std::uint16_t code, std::string_view reason) {
            closes.set(code, reason);
        };
        srv.routes().websocket("/cb", std::move(h));
    }
};

// The server echoes a client's close code (with an empty reason: once a null memcpy that
// UBSan aborts on) and on_close gets the client's code and reason.
TEST(WebSocketCallbacks, OnCloseGetsTheClientsCodeAndReason) {
    callback_server s;
    start(s.srv);
    const wharf::address a = s.srv.local_addresses()[0];
    {
        ws_client c(a);
        ASSERT_TRUE(c.open("/cb")) << c.error();
        ASSERT_TRUE(c.send_close(4321, "see you"));
        const auto f = read_close(c);
        ASSERT_TRUE(f) << c.error();
        // The code is echoed (RFC 6455 §5.5.1).
        EXPECT_EQ(f->close_code(), 4321);
        EXPECT_EQ(f->close_reason(), "");
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(1));
        EXPECT_EQ(s.closes.get()[0].code, 4321);
        EXPECT_EQ(s.closes.get()[0].reason, "see you");
    }
    {
        // A close frame without a code: 1005, and an empty close frame back.
        ws_client c(a);
        ASSERT_TRUE(c.open("/cb")) << c.error();
        ASSERT_TRUE(c.send_frame(ws_op::close, ""));
        const auto f = read_close(c);
        ASSERT_TRUE(f) << c.error();
        EXPECT_EQ(f->payload, "");
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(2));
        EXPECT_EQ(s.closes.get()[1].code, wharf::ws_close::no_status);
        EXPECT_EQ(s.closes.get()[1].reason, "");
    }
    {
        // No close frame at all (the client's FIN): 1006.
        ws_client c(a);
        ASSERT_TRUE(c.open("/cb")) << c.error();
        c.shutdown_write();
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(3));
        EXPECT_EQ(s.closes.get()[2].code, wharf::ws_close::abnormal);
        EXPECT_EQ(s.closes.get()[2].reason, "");
    }
    {
        // A 123-byte reason, the most a close frame holds, arrives whole.
        const std::string reason(123, 'r');
        ws_client c(a);
        ASSERT_TRUE(c.open("/cb")) << c.error();
        ASSERT_TRUE(c.send_close(1000, reason));
        ASSERT_TRUE(read_close(c)) << c.error();
        EXPECT_TRUE(c.wait_closed(10s));
        c.close(); // our FIN: the server's linger ends
        ASSERT_TRUE(s.closes.wait_for(4));
        EXPECT_EQ(s.closes.get()[3].code, 1000);
        EXPECT_EQ(s.closes.get()[3].reason, reason);
    }
    EXPECT_EQ(s.closes.count(), 4u) << "on_close ran more than once for a connection";
}

TEST(WebSocketCallbacks, OnPingAndOnPongSeeThePayload) {
    callback_server s;
    start(s.srv);
    ws_client c(s.srv.local_addresses()[0]);
    ASSERT_TRUE(c.open("/cb")) << c.error();

    // The client's ping: answered by the library with the same payload, and on_ping sees it.
    ASSERT_TRUE(c.send_frame(ws_op::ping, "hello"));
    auto f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::pong);
    EXPECT_EQ(f->payload, "hello");
    // The longest a control frame carries.
    const std::string big(125, 'P');
    ASSERT_TRUE(c.send_frame(ws_op::ping, big));
    f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::pong);
    EXPECT_EQ(f->payload, big);
    // An unsolicited pong: on_pong sees it, nothing is answered.
    ASSERT_TRUE(c.send_frame(ws_op::pong, "unsolicited"));
    // The server's ping, answered by the client: on_pong sees its payload.
    ASSERT_TRUE(c.send_text("ping me"));
    f = c.read_frame(10s);
    ASSERT_TRUE(f) << c.error();
    EXPECT_EQ(f->op, ws_op::ping);
    EXPECT_EQ(f->payload, "xyz");
    ASSERT_TRUE(c.send_frame(ws_op::pong, f->payload));
    ASSERT_TRUE(s.events.wait_for(5));
    EXPECT_EQ(s.events.get(),
              (std::vector<std::string>{"ping hello", "ping " + big, "pong unsolicited",
                                        "message ping me", "pong xyz"}));
    EXPECT_TRUE(c.stays_silent(100ms)) << "an answer to the pong";
    EXPECT_EQ(s.closes.count(), 0u);
}

} // namespace
