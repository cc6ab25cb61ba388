// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "http/access.hpp"
#include "http/access_log.hpp"
#include "http/dispatch.hpp"
#include "wharf/response.hpp"
#include "wharf/status.hpp"

namespace {

using wharf::detail::request_access;

TEST(Request, QueryParamsAreDecoded) {
    wharf::request r;
    ASSERT_TRUE(request_access::set_path(r, "/p", "a=1&b=x%20y&c=+&d&e=%zz&a=2&sp%61ce=ok"));
    EXPECT_EQ(r.query_param("a"), "1");
    EXPECT_EQ(r.query_param("b"), "x y");
    EXPECT_EQ(r.query_param("c"), " ");
    EXPECT_EQ(r.query_param("d"), "");
    EXPECT_EQ(r.query_param("e"), std::nullopt); // malformed escape
    EXPECT_EQ(r.query_param("space"), "ok");
    EXPECT_EQ(r.query_param("missing"), std::nullopt);
}

TEST(Request, PathIsDecodedAndRawKept) {
    wharf::request r;
    ASSERT_TRUE(request_access::set_path(r, "/a%20b/c", ""));
    EXPECT_EQ(r.path(), "/a b/c");
    EXPECT_EQ(r.raw_path(), "/a%20b/c");
    EXPECT_FALSE(request_access::set_path(r, "/a%00", ""));
}

TEST(Request, ContentTypeAndCharset) {
    const wharf::header_field fields[] = {{"content-type", "text/html; Charset=\"UTF-8\""}};
    wharf::request r;
    request_access::set_headers(r, wharf::header_view(fields), "h");
    EXPECT_EQ(r.content_type().media_type, "text/html");
    EXPECT_EQ(r.content_type().charset, "UTF-8");
    EXPECT_EQ(r.header("CONTENT-TYPE"), "text/html; Charset=\"UTF-8\"");

    const wharf::header_field plain[] = {{"Content-Type", "application/json"}};
    request_access::set_headers(r, wharf::header_view(plain), "h");
    EXPECT_EQ(r.content_type().media_type, "application/json");
    EXPECT_EQ(r.content_type().charset, "");
}

TEST(Headers, MultiValuedAndCaseInsensitive) {
    const wharf::header_field fields[] = {{"Accept", "a"}, {"X-Y", "1"}, {"accept", "b"}};
    const wharf::header_view h(fields);
    EXPECT_EQ(h.count("ACCEPT"), 2u);
    EXPECT_EQ(h.get_all("Accept"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_EQ(h.get("x-y"), "1");
    EXPECT_FALSE(h.contains("nope"));
}

TEST(FieldList, SetAddRemove) {
    wharf::field_list f;
    f.add("Set-Cookie", "a=1");
    f.add("set-cookie", "b=2");
    f.set("Content-Type", "text/plain");
    f.set("content-type", "text/html");
    EXPECT_EQ(f.size(), 3u);
    EXPECT_EQ(f.get("CONTENT-TYPE"), "text/html");
    EXPECT_EQ(f.remove("SET-COOKIE"), 2u);
    EXPECT_EQ(f.size(), 1u);
    std::vector<std::string> seen;
    f.for_each([&](std::string_view n, std::string_view v) {
        seen.push_back(std::string(n) + "=" + std::string(v));
    });
    EXPECT_EQ(seen, std::vector<std::string>{"content-type=text/html"});
    f.clear();
    EXPECT_TRUE(f.empty());
}

TEST(Response, PrintfFormatAppend) {
    wharf::response r;
    r.append("a").printf("%d-%s", 42, "x").format("|{}|{:>3}", "fmt", 7);
    EXPECT_EQ(r.body(), "a42-x|fmt|  7");
    std::string big(1000, 'z');
    r.printf("%s", big.c_str());
    EXPECT_EQ(r.body().size(), 13u + 1000u);
}

TEST(Response, StatusHelpersSetTypeAndDefaultBody) {
    wharf::response r;
    r.not_found();
    wharf::detail::apply_default_body(r);
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.body(), "Not Found\n");
    EXPECT_EQ(r.headers().get("Content-Type"), "text/plain; charset=utf-8");

    wharf::response custom;
    custom.server_error().append("custom");
    wharf::detail::apply_default_body(custom);
    EXPECT_EQ(custom.body(), "custom");

    wharf::response ok;
    ok.ok("application/json");
    wharf::detail::apply_default_body(ok);
    EXPECT_EQ(ok.status(), 200);
    EXPECT_TRUE(ok.body().empty());
    EXPECT_EQ(ok.headers().get("Content-Type"), "application/json");

    wharf::response teapot;
    teapot.set_std(418);
    EXPECT_EQ(teapot.reason(), "Unknown");
    teapot.status(418, "I'm a teapot");
    EXPECT_EQ(teapot.reason(), "I'm a teapot");
}

TEST(Status, ReasonPhrasesAndBodiesForbidden) {
    EXPECT_EQ(wharf::reason_phrase(200), "OK");
    EXPECT_EQ(wharf::reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_TRUE(wharf::status_forbids_body(204));
    EXPECT_TRUE(wharf::status_forbids_body(304));
    EXPECT_TRUE(wharf::status_forbids_body(101));
    EXPECT_FALSE(wharf::status_forbids_body(200));
}

TEST(Session, ContextSlotIsTypedAndDestroyed) {
    static int destroyed = 0;
    struct ctx {
        int v;
        ~ctx() { ++destroyed; }
    };
    {
        wharf::session s;
        s.emplace_context<ctx>(ctx{7});
        destroyed = 0; // the temporary above
        ASSERT_NE(s.context<ctx>(), nullptr);
        EXPECT_EQ(s.context<ctx>()->v, 7);
        EXPECT_EQ(s.context<int>(), nullptr);
        s.emplace_context<int>(3); // replaces: ctx destroyed
        EXPECT_EQ(destroyed, 1);
        EXPECT_EQ(*s.context<int>(), 3);
        s.emplace_context<ctx>(ctx{8});
        destroyed = 0;
    }
    EXPECT_EQ(destroyed, 1);
}

TEST(AccessLog, CommonAndCombinedLines) {
    std::error_code ec;
    const wharf::address peer = wharf::address::parse("10.0.0.1:5555", ec);
    ASSERT_FALSE(ec);
    wharf::access_record rec{&peer, "GET", "/a\"b", "curl/8", "", "", 1, 1, 200, {}, 13, {}};
    std::string line;
    wharf::detail::format_access_line(line, rec, wharf::log_format::common,
                                      "22/Nov/2026:10:00:00 +0000");
    EXPECT_EQ(line, "10.0.0.1 - - [22/Nov/2026:10:00:00 +0000] \"GET /a\\\"b HTTP/1.1\" 200 13");
    line.clear();
    wharf::detail::format_access_line(line, rec, wharf::log_format::combined, "t");
    EXPECT_EQ(line, "10.0.0.1 - - [t] \"GET /a\\\"b HTTP/1.1\" 200 13 \"-\" \"curl/8\"");
    line.clear();
    wharf::detail::format_access_line(line, rec, wharf::log_format::combined_tls, "t");
    EXPECT_EQ(line, "10.0.0.1 - - [t] \"GET /a\\\"b HTTP/1.1\" 200 13 \"-\" \"curl/8\" -");
    rec.tls_version = "TLSv1.3";
    line.clear();
    wharf::detail::format_access_line(line, rec, wharf::log_format::combined_tls, "t");
    EXPECT_EQ(line, "10.0.0.1 - - [t] \"GET /a\\\"b HTTP/1.1\" 200 13 \"-\" \"curl/8\" TLSv1.3");
}

TEST(Address, ParsesAndPrints) {
    std::error_code ec;
    EXPECT_EQ(wharf::address::parse("127.0.0.1:80", ec).to_string(), "127.0.0.1:80");
    EXPECT_EQ(wharf::address::parse("[::1]:8080", ec).to_string(), "[::1]:8080");
    EXPECT_EQ(wharf::address::parse("8080", ec).to_string(), "127.0.0.1:8080");
    EXPECT_EQ(wharf::address::parse("*:81", ec).to_string(), "0.0.0.0:81");
    EXPECT_EQ(wharf::address::parse("localhost:1", ec).to_string(), "127.0.0.1:1");
    EXPECT_EQ(wharf::address::parse("unix:/tmp/x.sock", ec).to_string(), "unix:/tmp/x.sock");
    EXPECT_FALSE(ec);
    for (const char* bad :
         {"", "host:", "1.2.3.4:99999", "nonsense", "[::1]8080", "unix:", "a.b.c:80"}) {
        (void)wharf::address::parse(bad, ec);
        EXPECT_TRUE(ec) << bad;
    }
}

} // namespace

namespace {

TEST(FieldList, RefusesHeaderInjection) {
    wharf::field_list f;
    EXPECT_THROW(f.add("X-A", "1\r\nSet-Cookie: evil=1"), std::invalid_argument);
    EXPECT_THROW(f.add("X-A", std::string_view("a\0b", 3)), std::invalid_argument);
    EXPECT_THROW(f.set("X-A\r\nB", "1"), std::invalid_argument);
    EXPECT_THROW(f.add("Bad Name", "1"), std::invalid_argument);
    EXPECT_THROW(f.add("", "1"), std::invalid_argument);
    f.add("X-Ok", "tab\tand obs-text \xff are fine");
    EXPECT_EQ(f.size(), 1u);
}

} // namespace
