// SPDX-License-Identifier: MIT
// The opening handshake: accept_key, check_handshake, offered_subprotocols and the
// permessage-deflate negotiation (RFC 6455 §4.2, RFC 7692 §7.1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/access.hpp"
#include "ws/handshake.hpp"

namespace {

namespace ws = wharf::detail::ws;
using wharf::header_field;
using wharf::header_view;
using wharf::detail::request_access;

TEST(WsHandshake, AcceptKeyOfRfc6455) {
    EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    // RFC 6455 §4.2.2's other example has the same key; a different key gives another answer.
    EXPECT_NE(ws::accept_key("AAAAAAAAAAAAAAAAAAAAAA=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(ws::accept_key("AAAAAAAAAAAAAAAAAAAAAA==").size(), 28u);
}

struct deflate_row {
    std::vector<std::string> headers; // each its own Sec-WebSocket-Extensions field
    bool takeover;                    // the server's context_takeover option
    std::string response;             // "" when declined
    int server_bits = 15;
    bool client_takeover = true;
};

TEST(WsHandshake, NegotiateDeflate) {
    const std::vector<deflate_row> rows = {
        {{}, true, ""},
        {{"permessage-deflate"}, true, "permessage-deflate"},
        {{"permessage-deflate"}, false, "permessage-deflate; server_no_context_takeover"},
        {{"PerMessage-Deflate"}, true, "permessage-deflate"},
        {{"  permessage-deflate  "}, true, "permessage-deflate"},
        {{"permessage-deflate; client_max_window_bits"}, true, "permessage-deflate"},
        {{"permessage-deflate; client_max_window_bits=8"}, true, "permessage-deflate"},
        {{"permessage-deflate; client_max_window_bits=\"15\""}, true, "permessage-deflate"},
        {{"permessage-deflate; server_no_context_takeover"},
         true,
         "permessage-deflate; server_no_context_takeover"},
        {{"permessage-deflate; Server_No_Context_Takeover"},
         true,
         "permessage-deflate; server_no_context_takeover"},
        {{"permessage-deflate; client_no_context_takeover"},
         true,
         "permessage-deflate; client_no_context_takeover",
         15,
         false},
        {{"permessage-deflate; server_max_window_bits=10"},
         true,
         "permessage-deflate; server_max_window_bits=10",
         10},
        {{"permessage-deflate; server_max_window_bits=\"10\""},
         true,
         "permessage-deflate; server_max_window_bits=10",
         10},
        {{"permessage-deflate; server_max_window_bits = 12"},
         true,
         "permessage-deflate; server_max_window_bits=12",
         12},
        {{"permessage-deflate; server_max_window_bits=9"},
         true,
         "permessage-deflate; server_max_window_bits=9",
         9},
        {{"permessage-deflate; server_max_window_bits=15"},
         true,
         "permessage-deflate; server_max_window_bits=15",
         15},
        {{"permessage-deflate;server_no_context_takeover;client_no_context_takeover;"
          "server_max_window_bits=11;client_max_window_bits=9"},
         false,
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=11",
         11,
         false},
        // zlib cannot keep to a 256-byte window.
        {{"permessage-deflate; server_max_window_bits=8"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=\"8\""}, true, ""},
        // Values out of 8..15, leading zeros, bad shapes.
        {{"permessage-deflate; server_max_window_bits=7"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=16"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=0"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=010"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=09"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=\"010\""}, true, ""},
        {{"permessage-deflate; server_max_window_bits=-9"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=+9"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=1a"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=\"10"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=\"\""}, true, ""},
        {{"permessage-deflate; server_max_window_bits="}, true, ""},
        {{"permessage-deflate; server_max_window_bits"}, true, ""},
        {{"permessage-deflate; client_max_window_bits=7"}, true, ""},
        {{"permessage-deflate; client_max_window_bits=16"}, true, ""},
        {{"permessage-deflate; client_max_window_bits=08"}, true, ""},
        {{"permessage-deflate; server_no_context_takeover=1"}, true, ""},
        {{"permessage-deflate; client_no_context_takeover=\"\""}, true, ""},
        // Duplicate and unknown parameters.
        {{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, true, ""},
        {{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, true, ""},
        {{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"}, true, ""},
        {{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}, true, ""},
        {{"permessage-deflate; foo"}, true, ""},
        {{"permessage-deflate; foo=1"}, true, ""},
        {{"permessage-deflate; ; server_no_context_takeover"}, true, ""},
        {{"x-webkit-deflate-frame"}, true, ""},
        {{"permessage-deflate-x"}, true, ""},
        // Several offers in one field: the first acceptable one wins.
        {{"permessage-deflate; server_max_window_bits=8, permessage-deflate; "
          "client_no_context_takeover"},
         true,
         "permessage-deflate; client_no_context_takeover",
         15,
         false},
        {{"x-webkit-deflate-frame, permessage-deflate; foo, permessage-deflate; "
          "server_max_window_bits=13, permessage-deflate"},
         true,
         "permessage-deflate; server_max_window_bits=13",
         13},
        {{"permessage-deflate; server_max_window_bits=14, permessage-deflate"},
         true,
         "permessage-deflate; server_max_window_bits=14",
         14},
        // ... and across two fields.
        {{"x-foo", "permessage-deflate; client_no_context_takeover"},
         true,
         "permessage-deflate; client_no_context_takeover",
         15,
         false},
        {{"permessage-deflate; bogus", "permessage-deflate; server_max_window_bits=12"},
         true,
         "permessage-deflate; server_max_window_bits=12",
         12},
        {{"permessage-deflate; server_max_window_bits=9", "permessage-deflate"},
         true,
         "permessage-deflate; server_max_window_bits=9",
         9},
        {{"permessage-deflate; server_max_window_bits=99", "x-bar, permessage-deflate;x"},
         true,
         ""},
    };
    for (const deflate_row& r : rows) {
        std::string trace;
        for (const auto& h : r.headers)
            trace += "[" + h + "] ";
        SCOPED_TRACE(trace + (r.takeover ? "takeover" : "no takeover"));
        std::vector<header_field> fields;
        fields.push_back({"Host", "example.com"});
        for (const auto& h : r.headers) {
            fields.push_back({"Sec-WebSocket-Extensions", h});
            fields.push_back({"X-Other", "permessage-deflate"}); // not looked at
        }
        const ws::deflate_agreement a = ws::negotiate_deflate(header_view(fields), r.takeover);
        EXPECT_EQ(a.enabled, !r.response.empty());
        EXPECT_EQ(a.response, r.response);
        if (a.enabled) {
            EXPECT_EQ(a.server_window_bits, r.server_bits);
            EXPECT_EQ(a.client_context_takeover, r.client_takeover);
            EXPECT_EQ(a.server_context_takeover,
                      r.response.find("server_no_context_takeover") == std::string::npos);
        }
    }
}

TEST(WsHandshake, NegotiateDeflateHeaderNameIsCaseInsensitive) {
    const header_field fields[] = {{"sec-websocket-extensions", "permessage-deflate"}};
    EXPECT_EQ(ws::negotiate_deflate(header_view(fields), true).response, "permessage-deflate");
}

TEST(WsHandshake, OfferedSubprotocols) {
    const header_field fields[] = {{"Sec-WebSocket-Protocol", "chat, superchat"},
                                   {"Host", "h"},
                                   {"sec-websocket-protocol", " v2.bin ,, mqtt "},
                                   {"Sec-WebSocket-Protocol", ""}};
    EXPECT_EQ(ws::offered_subprotocols(header_view(fields)),
              (std::vector<std::string_view>{"chat", "superchat", "v2.bin", "mqtt"}));
    EXPECT_TRUE(ws::offered_subprotocols(header_view{}).empty());
}

struct handshake_row {
    std::string name;
    std::string method = "GET";
    int minor = 1;
    int major = 1;
    std::vector<header_field> fields;
    int status; // 0: accepted
};

std::vector<header_field> good_fields() {
    return {{"Host", "example.com"},
            {"Upgrade", "websocket"},
            {"Connection", "Upgrade"},
            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
            {"Sec-WebSocket-Version", "13"}};
}

std::vector<header_field> replaced(std::string_view name, std::string_view value) {
    auto f = good_fields();
    for (auto& h : f)
        if (h.name == name) h.value = value;
    return f;
}

std::vector<header_field> without(std::string_view name) {
    auto f = good_fields();
    std::erase_if(f, [&](const header_field& h) { return h.name == name; });
    return f;
}

std::vector<header_field> plus(std::string_view name, std::string_view value) {
    auto f = good_fields();
    f.push_back({name, value});
    return f;
}

TEST(WsHandshake, CheckHandshake) {
    const std::vector<handshake_row> rows = {
        {"good", "GET", 1, 1, good_fields(), 0},
        {"connection_list", "GET", 1, 1, replaced("Connection", "keep-alive, Upgrade"), 0},
        {"connection_case", "GET", 1, 1, replaced("Connection", "UPGRADE"), 0},
        {"upgrade_case", "GET", 1, 1, replaced("Upgrade", "WebSocket"), 0},
        {"upgrade_list", "GET", 1, 1, replaced("Upgrade", "foo/2, websocket"), 0},
        {"connection_second_field", "GET", 1, 1, plus("Connection", "upgrade"), 0},
        {"key_last_Q", "GET", 1, 1, replaced("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAQ=="), 0},
        {"key_last_g", "GET", 1, 1, replaced("Sec-WebSocket-Key", "+/+/+/+/+/+/+/+/+/+/+g=="), 0},
        {"key_last_w", "GET", 1, 1, replaced("Sec-WebSocket-Key", "zzzzzzzzzzzzzzzzzzzzzw=="), 0},
        {"no_connection", "GET", 1, 1, without("Connection"), 426},
        {"connection_keep_alive", "GET", 1, 1, replaced("Connection", "keep-alive"), 426},
        {"connection_upgrade_substring", "GET", 1, 1, replaced("Connection", "upgrade2"), 426},
        {"no_upgrade", "GET", 1, 1, without("Upgrade"), 426},
        {"upgrade_h2c", "GET", 1, 1, replaced("Upgrade", "h2c"), 426},
        {"http10", "GET", 0, 1, good_fields(), 400},
        {"version_8", "GET", 1, 1, replaced("Sec-WebSocket-Version", "8"), 426},
        {"version_missing", "GET", 1, 1, without("Sec-WebSocket-Version"), 426},
        {"version_twice", "GET", 1, 1, plus("Sec-WebSocket-Version", "13"), 426},
        {"version_list", "GET", 1, 1, replaced("Sec-WebSocket-Version", "13, 8"), 426},
        {"key_missing", "GET", 1, 1, without("Sec-WebSocket-Key"), 400},
        {"key_twice", "GET", 1, 1, plus("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), 400},
        {"key_short", "GET", 1, 1, replaced("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ="), 400},
        {"key_long", "GET", 1, 1, replaced("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==="), 400},
        {"key_no_padding", "GET", 1, 1, replaced("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQAA"),
         400},
        {"key_extra_bits", "GET", 1, 1, replaced("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR=="),
         400},
        {"key_bad_char", "GET", 1, 1, replaced("Sec-WebSocket-Key", "dGhlIHNhbX-sZSBub25jZQ=="),
         400},
        {"key_20_bytes", "GET", 1, 1, replaced("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
         400},
        {"key_empty", "GET", 1, 1, replaced("Sec-WebSocket-Key", ""), 400},
    };
    for (const handshake_row& r : rows) {
        SCOPED_TRACE(r.name);
        wharf::request req;
        request_access::set_line(req, r.method, "/ws", r.major, r.minor);
        request_access::set_headers(req, header_view(r.fields), "example.com");
        const ws::handshake_problem p = ws::check_handshake(req);
        EXPECT_EQ(p.status, r.status);
        EXPECT_EQ(p.reason.empty(), r.status == 0);
    }
}

// RFC 6455 §4.1: the method MUST be GET. HEAD reaches GET routes, so it must be refused here.
TEST(WsHandshake, CheckHandshakeWantsGet) {
    const auto fields = good_fields();
    for (const char* method : {"HEAD", "POST", "PUT", "CONNECT"}) {
        SCOPED_TRACE(method);
        wharf::request req;
        request_access::set_line(req, method, "/ws", 1, 1);
        request_access::set_headers(req, header_view(fields), "example.com");
        EXPECT_NE(ws::check_handshake(req).status, 0);
    }
}

} // namespace
