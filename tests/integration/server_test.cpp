// SPDX-License-Identifier: MIT
// wharf::server embedded in-process on ephemeral ports, driven over real sockets.
#include <any>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using namespace std::chrono_literals;
using wharf_test::client;
using wharf_test::fetch;
using wharf_test::get;
using wharf_test::local_config;
using wharf_test::request;
using wharf_test::start;
using wharf_test::wait_until;

/// Runs srv.wait() on another thread; true if it returns within `timeout`. On timeout the
/// thread is left to finish when the server eventually stops (the server outlives it).
bool wait_returns(wharf::server& srv, std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    std::thread([&srv, done] {
        srv.wait();
        done->set_value();
    }).detach();
    const bool ok = f.wait_for(timeout) == std::future_status::ready;
    if (!ok) {
        srv.stop(0ms);
        f.wait(); // never leave the thread running past the server's lifetime
    }
    return ok;
}

std::string unix_socket_path(const char* tag) {
    static std::atomic<int> counter{0};
    return "/tmp/wharf-it-" + std::to_string(::getpid()) + "-" + tag + "-" +
           std::to_string(counter++) + ".sock";
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

/// CPU time (user + system) this process has used.
std::chrono::microseconds cpu_time() {
    rusage ru;
    ::getrusage(RUSAGE_SELF, &ru);
    return std::chrono::seconds(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           std::chrono::microseconds(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

// ---------------------------------------------------------------------------------------------
// Routing and request data

TEST(ServerRouting, PathParametersAndWildcard) {
    wharf::server srv(local_config());
    auto& r = srv.routes();
    r.get("/users/{id}",
          [](wharf::session& s) { s.response().format("user {}", s.request().param("id")); });
    r.get("/users/me", [](wharf::session& s) { s.response().append("me"); });
    r.get("/users/{id}/posts/{post}", [](wharf::session& s) {
        const auto& req = s.request();
        s.response().format("{}:{}", req.param("id"), req.param("post"));
        for (const auto& [name, value] : req.params())
            s.response().format(" {}={}", name, value);
        s.response().format(" missing=[{}]", req.param("nope"));
    });
    r.get("/files/*",
          [](wharf::session& s) { s.response().format("[{}]", s.request().param("*")); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    struct {
        const char* target;
        int status;
        const char* body;
    } cases[] = {
        {"/users/42", 200, "user 42"},
        {"/users/me", 200, "me"},
        {"/users/a%20b", 200, "user a b"},
        {"/users/42/posts/7", 200, "42:7 id=42 post=7 missing=[]"},
        {"/files/a/b/c.txt", 200, "[a/b/c.txt]"},
        {"/files/x%2Fy", 200, "[x/y]"},
        {"/files/", 200, "[]"},
        {"/files", 200, "[]"},
        {"/users", 404, nullptr},
        {"/users/", 404, nullptr},
        {"/users/42/posts", 404, nullptr},
        {"/other", 404, nullptr},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.target);
        const auto res = get(a, c.target);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, c.status);
        if (c.body) {
            EXPECT_EQ(res->body, c.body);
        }
    }
}

TEST(ServerRouting, MalformedPatternsThrow) {
    wharf::router r;
    const wharf::handler h = [](wharf::session&) {};
    EXPECT_THROW(r.get("no-slash", h), std::invalid_argument);
    EXPECT_THROW(r.get("/a/*/b", h), std::invalid_argument);
    EXPECT_THROW(r.get("/a/{x", h), std::invalid_argument);
    r.get("/dup", h);
    EXPECT_THROW(r.get("/dup", h), std::invalid_argument);
    r.get("/p/{a}", h);
    EXPECT_THROW(r.get("/p/{b}/more", h), std::invalid_argument);
    EXPECT_NO_THROW(r.post("/dup", h));
}

TEST(ServerRequest, QueryParametersAndPathDecoding) {
    wharf::server srv(local_config());
    srv.routes().get("/sp ace", [](wharf::session& s) {
        const wharf::request& req = s.request();
        auto& res = s.response();
        res.format("path=[{}] raw=[{}] query=[{}] target=[{}]\n", req.path(), req.raw_path(),
                   req.query(), req.target());
        for (const char* name : {"a", "b", "c", "d", "e", "f", "g", "missing", "x y"}) {
            const auto v = req.query_param(name);
            res.format("{}={}\n", name, v ? "<" + *v + ">" : std::string("none"));
        }
    });
    start(srv);
    const auto res =
        get(srv.local_addresses()[0], "/sp%20ace?a=1&b=x%20y&c=+&d&f=a%2Bb&a=second&g=&x+y=sp");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "path=[/sp ace] raw=[/sp%20ace] "
                         "query=[a=1&b=x%20y&c=+&d&f=a%2Bb&a=second&g=&x+y=sp] "
                         "target=[/sp%20ace?a=1&b=x%20y&c=+&d&f=a%2Bb&a=second&g=&x+y=sp]\n"
                         "a=<1>\n"
                         "b=<x y>\n"
                         "c=< >\n"
                         "d=<>\n"
                         "e=none\n"
                         "f=<a+b>\n"
                         "g=<>\n"
                         "missing=none\n"
                         "x y=<sp>\n");
    // A '%' that does not start an escape is outside the URI grammar, in the query too
    // (RFC 9112 §3.2: 400; strict).
    const auto bad = get(srv.local_addresses()[0], "/sp%20ace?a=1&e=%zz");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
}

TEST(ServerRequest, ContentTypeCharset) {
    wharf::server srv(local_config());
    srv.routes().post("/ct", [](wharf::session& s) {
        const wharf::content_type_info ct = s.request().content_type();
        s.response().format("{}|{}", ct.media_type, ct.charset);
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    struct {
        const char* header;
        const char* expect;
    } cases[] = {
        {"Content-Type: text/html; charset=\"UTF-8\"\r\n", "text/html|UTF-8"},
        {"Content-Type: application/json;foo=bar; Charset=latin1\r\n", "application/json|latin1"},
        {"Content-Type: text/plain\r\n", "text/plain|"},
        {"Content-Type: multipart/form-data; boundary=x; charset=utf-8\r\n",
         "multipart/form-data|utf-8"},
        {"Content-Type: text/plain ; charset = utf-8 \r\n", "text/plain|utf-8"},
        {"Content-Type: text/plain; format=flowed\r\n", "text/plain|"},
        {"", "|"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.header);
        const auto res = fetch(a, request("POST", "/ct", c.header, "x"));
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, c.expect);
    }
}

TEST(ServerRequest, PeerLocalHostVersionAndHeaders) {
    wharf::server srv(local_config(2));
    srv.routes().get("/info", [](wharf::session& s) {
        const wharf::request& req = s.request();
        s.response().format("{} {} host={} v={}.{} ka={} method={} xa={} count={}",
                            req.peer().to_string(), req.local().to_string(), req.host(),
                            req.http_major(), req.http_minor(), req.keep_alive(), req.method_name(),
                            req.header("x-A").value_or("-"), req.headers().count("X-Multi"));
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client c(a);
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send(request("GET", "/info", "X-A: one\r\nX-Multi: 1\r\nx-multi: 2\r\n")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, c.local_address().to_string() + " " + a.to_string() +
                             " host=test v=1.1 ka=true method=GET xa=one count=2");

    ASSERT_TRUE(c.send("GET /info HTTP/1.0\r\nHost: example.test:81\r\n\r\n"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, c.local_address().to_string() + " " + a.to_string() +
                             " host=example.test:81 v=1.0 ka=false method=GET xa=- count=0");
    EXPECT_TRUE(c.wait_closed());

    // Absolute form: the authority of the target is the host.
    res = fetch(a, "GET http://absolute.example/info HTTP/1.1\r\nHost: other\r\n\r\n");
    ASSERT_TRUE(res);
    EXPECT_NE(res->body.find("host=absolute.example "), std::string::npos) << res->body;
}

TEST(ServerRequest, BodyIsBuffered) {
    wharf::server srv(local_config());
    srv.routes().post("/len", [](wharf::session& s) {
        const std::string_view b = s.request().body();
        std::size_t sum = 0;
        for (char ch : b)
            sum += static_cast<unsigned char>(ch);
        s.response().format("{} {}", b.size(), sum);
    });
    start(srv);
    std::string body(3 * 1024 * 1024 + 5, '\0');
    std::size_t sum = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>(i * 7 % 256);
        sum += static_cast<unsigned char>(body[i]);
    }
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("POST", "/len", "", body)));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, std::to_string(body.size()) + " " + std::to_string(sum));
    // Chunked, on the same connection.
    ASSERT_TRUE(c.send("POST /len HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "5 " + std::to_string('a' + 'b' + 'c' + 'd' + 'e'));
}

// ---------------------------------------------------------------------------------------------
// Sessions: the per-request context slot and the per-route service context

struct tracked {
    static inline std::atomic<int> constructed{0};
    static inline std::atomic<int> destroyed{0};
    int value;
    explicit tracked(int v) : value(v) { ++constructed; }
    ~tracked() { ++destroyed; }
    tracked(const tracked&) = delete;
    tracked& operator=(const tracked&) = delete;
};

TEST(ServerSession, ContextSlotLivesForOneRequest) {
    tracked::constructed = 0;
    tracked::destroyed = 0;
    wharf::server srv(local_config());
    srv.routes().get("/ctx", [](wharf::session& s) {
        std::string report;
        report += s.context<tracked>() == nullptr ? "empty;" : "LEFTOVER;";
        tracked& first = s.emplace_context<tracked>(7);
        report += s.context<tracked>() == &first ? "set;" : "notset;";
        report += s.context<int>() == nullptr ? "typed;" : "untyped;";
        s.emplace_context<tracked>(8); // replaces (destroys) the first
        report += std::to_string(s.context<tracked>()->value) + ";";
        report += std::to_string(tracked::destroyed.load());
        s.response().append(report);
    });
    srv.routes().get("/ctx-reset", [](wharf::session& s) {
        s.emplace_context<tracked>(1);
        s.reset_context();
        s.response().append(s.context<tracked>() == nullptr ? "reset" : "still");
    });
    srv.routes().get("/ctx-throw", [](wharf::session& s) {
        s.emplace_context<tracked>(9);
        throw std::runtime_error("handler failure (expected by the test)");
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/ctx")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "empty;set;typed;8;1");
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 2; }))
        << "context not destroyed after the response; destroyed=" << tracked::destroyed;

    // The next request on the same connection (same session) starts with an empty slot.
    ASSERT_TRUE(c.send(request("GET", "/ctx")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "empty;set;typed;8;3");
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 4; }));

    ASSERT_TRUE(c.send(request("GET", "/ctx-reset")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "reset");
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 5; }));

    ASSERT_TRUE(c.send(request("GET", "/ctx-throw")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 500);
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 6; }));
    EXPECT_EQ(tracked::constructed, tracked::destroyed);

    // Pipelined: each request's context is gone before the next handler runs.
    ASSERT_TRUE(c.send(request("GET", "/ctx") + request("GET", "/ctx") + request("GET", "/ctx")));
    for (int i = 0; i < 3; ++i) {
        res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body.substr(0, 18), "empty;set;typed;8;");
    }
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 12; }));
    EXPECT_EQ(tracked::constructed, tracked::destroyed);
}

TEST(ServerSession, ContextDestroyedWhenConnectionDrops) {
    tracked::constructed = 0;
    tracked::destroyed = 0;
    wharf::server srv(local_config());
    srv.routes().get("/ctx", [](wharf::session& s) {
        s.emplace_context<tracked>(1);
        s.response().append(std::string(4 * 1024 * 1024, 'x')); // more than the socket takes
    });
    start(srv);
    {
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/ctx")));
        ASSERT_TRUE(wait_until([] { return tracked::constructed == 1; }));
    } // closed without reading the response
    EXPECT_TRUE(wait_until([] { return tracked::destroyed == 1; }));
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
}

struct service_info {
    std::string name;
    int weight;
};

TEST(ServerSession, ServiceContext) {
    wharf::server srv(local_config(2));
    auto hits = std::make_shared<std::atomic<int>>(0);
    const wharf::handler describe = [](wharf::session& s) {
        const service_info* info = s.service_context<service_info>();
        const bool wrong_type_null = s.service_context<int>() == nullptr;
        s.response().format("{} {} {}", info ? info->name : "none", info ? info->weight : -1,
                            wrong_type_null);
    };
    srv.routes().route(wharf::method::get, "/svc", describe, std::any(service_info{"alpha", 3}));
    srv.routes().route({wharf::method::get, wharf::method::post}, "/svc2/{x}", describe,
                       std::any(service_info{"beta", 5}));
    srv.routes().get("/plain", describe);
    srv.routes().route(
        wharf::method::get, "/count",
        [](wharf::session& s) {
            auto* counter = s.service_context<std::shared_ptr<std::atomic<int>>>();
            s.response().format("{}", counter ? ++**counter : -1);
        },
        std::any(hits));
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    auto res = get(a, "/svc");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "alpha 3 true");
    res = get(a, "/svc2/q");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "beta 5 true");
    res = fetch(a, request("POST", "/svc2/q", "", "body"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "beta 5 true");
    res = get(a, "/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "none -1 true");
    for (int i = 1; i <= 3; ++i) {
        res = get(a, "/count");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->body, std::to_string(i));
    }
    EXPECT_EQ(*hits, 3);
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(ServerResponse, BuildersAndHeaders) {
    wharf::server srv(local_config());
    auto& r = srv.routes();
    r.get("/build", [](wharf::session& s) {
        auto& res = s.response();
        res.status(299, "Custom Reason");
        res.printf("%d-%s;", 7, "x");
        res.format("{}+{};", 1, 2);
        res.append("tail");
        res.set_header("X-Set", "1").set_header("x-set", "2");
        res.add_header("X-Multi", "a").add_header("X-Multi", "b");
        res.add_header("X-Gone", "1").add_header("x-gone", "2").remove_header("X-GONE");
        // Framing headers belong to the server; a handler's copies must not reach the wire.
        res.set_header("Content-Length", "999");
        res.set_header("Transfer-Encoding", "chunked");
        res.set_header("Connection", "keep-alive");
    });
    r.get("/printf-long", [](wharf::session& s) {
        const std::string z(1000, 'z');
        s.response().printf("%s|%05d|%s", z.c_str(), 42, "end");
    });
    r.get("/replace",
          [](wharf::session& s) { s.response().append("old").body("new", "text/x-new"); });
    r.get("/json", [](wharf::session& s) { s.response().json(R"({"a":1})"); });
    r.get("/ok", [](wharf::session& s) { s.response().ok("text/csv").append("a,b"); });
    r.get("/close", [](wharf::session& s) { s.response().append("bye").close_connection(); });
    r.get("/own-date-server", [](wharf::session& s) {
        s.response().set_header("Date", "Thu, 01 Jan 1970 00:00:00 GMT");
        s.response().set_header("Server", "custom/1");
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client c(a);
    ASSERT_TRUE(c.send(request("GET", "/build")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 299);
    EXPECT_EQ(res->reason, "Custom Reason");
    EXPECT_EQ(res->body, "7-x;1+2;tail");
    EXPECT_EQ(res->header_all("X-Set"), std::vector<std::string>{"2"});
    EXPECT_EQ(res->header_all("X-Multi"), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(res->header_all("X-Gone").empty());
    EXPECT_EQ(res->header_all("Content-Length"), std::vector<std::string>{"12"});
    EXPECT_TRUE(res->header_all("Transfer-Encoding").empty());
    EXPECT_TRUE(res->header_all("Connection").empty());
    EXPECT_EQ(res->header_all("Server"), std::vector<std::string>{"wharf"});
    EXPECT_EQ(res->header_all("Date").size(), 1u);

    ASSERT_TRUE(c.send(request("GET", "/printf-long")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, std::string(1000, 'z') + "|00042|end");

    ASSERT_TRUE(c.send(request("GET", "/replace")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "new");
    EXPECT_EQ(res->header("Content-Type"), "text/x-new");

    ASSERT_TRUE(c.send(request("GET", "/json")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, R"({"a":1})");
    EXPECT_EQ(res->header("Content-Type"), "application/json");

    ASSERT_TRUE(c.send(request("GET", "/ok")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("Content-Type"), "text/csv");
    EXPECT_EQ(res->body, "a,b");

    ASSERT_TRUE(c.send(request("GET", "/own-date-server")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->header_all("Date"), std::vector<std::string>{"Thu, 01 Jan 1970 00:00:00 GMT"});
    EXPECT_EQ(res->header_all("Server"), std::vector<std::string>{"custom/1"});
    EXPECT_EQ(res->header("Content-Length"), "0");

    ASSERT_TRUE(c.send(request("GET", "/close") + request("GET", "/ok")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "bye");
    EXPECT_EQ(res->header("Connection"), "close");
    EXPECT_FALSE(c.read_response()) << "answered a request after close_connection()";
    EXPECT_TRUE(c.eof());
}

TEST(ServerResponse, StatusHelpers) {
    wharf::server srv(local_config());
    auto& r = srv.routes();
    r.get("/nf", [](wharf::session& s) { s.response().not_found(); });
    r.get("/denied", [](wharf::session& s) { s.response().denied(); });
    r.get("/err", [](wharf::session& s) { s.response().server_error(); });
    r.get("/teapot", [](wharf::session& s) { s.response().set_std(418); });
    r.get("/created", [](wharf::session& s) { s.response().set_std(201); });
    r.get("/nocontent", [](wharf::session& s) { s.response().append("dropped").set_std(204); });
    r.get("/nf-body", [](wharf::session& s) { s.response().append("custom").not_found(); });
    r.get("/nf-type", [](wharf::session& s) {
        s.response().content_type("application/problem+json").not_found();
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    struct {
        const char* target;
        int status;
        std::string body;
        const char* type;
    } cases[] = {
        {"/nf", 404, "Not Found\n", "text/plain; charset=utf-8"},
        {"/denied", 403, "Forbidden\n", "text/plain; charset=utf-8"},
        {"/err", 500, "Internal Server Error\n", "text/plain; charset=utf-8"},
        {"/created", 201, "", "text/plain; charset=utf-8"},
        {"/nf-body", 404, "custom", "text/plain; charset=utf-8"},
        {"/nf-type", 404, "Not Found\n", "application/problem+json"},
    };
    client c(a);
    for (const auto& x : cases) {
        SCOPED_TRACE(x.target);
        ASSERT_TRUE(c.send(request("GET", x.target)));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, x.status);
        EXPECT_EQ(res->body, x.body);
        EXPECT_EQ(res->header("Content-Type"), x.type);
        EXPECT_FALSE(res->header("Connection")) << "a handler's error status closed the connection";
    }

    ASSERT_TRUE(c.send(request("GET", "/teapot")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 418);
    EXPECT_FALSE(res->reason.empty());
    EXPECT_EQ(res->body, res->reason + "\n");

    // 204: no body and no Content-Length, and the connection stays in step.
    ASSERT_TRUE(c.send(request("GET", "/nocontent") + request("GET", "/nf")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 204);
    EXPECT_FALSE(res->header("Content-Length"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(res->body, "Not Found\n");
}

TEST(ServerResponse, ThrowingHandlerGives500AndServerCarriesOn) {
    wharf::server srv(local_config());
    auto& r = srv.routes();
    r.get("/throw", [](wharf::session& s) {
        s.response().set_header("X-Partial", "1").append("partial");
        throw std::runtime_error("handler failure (expected by the test)");
    });
    r.get("/throw-int", [](wharf::session&) { throw 42; });
    r.get("/bad-status", [](wharf::session& s) { s.response().status(42); });
    r.get("/big-status", [](wharf::session& s) { s.response().status(1000); });
    r.get("/ok", [](wharf::session& s) { s.response().append("fine"); });
    start(srv);

    client c(srv.local_addresses()[0]);
    for (const char* target : {"/throw", "/throw-int", "/bad-status", "/big-status"}) {
        SCOPED_TRACE(target);
        ASSERT_TRUE(c.send(request("GET", target)));
        auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, 500);
        EXPECT_FALSE(res->header("X-Partial"));
        EXPECT_EQ(res->body.find("partial"), std::string::npos);
        ASSERT_TRUE(c.send(request("GET", "/ok")));
        res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, "fine");
    }
}

TEST(ServerResponse, LargeResponseToSlowReader) {
    wharf::server srv(local_config());
    static constexpr std::size_t size = 8 * 1024 * 1024 + 3;
    srv.routes().get("/big", [](wharf::session& s) {
        std::string b(size, '\0');
        for (std::size_t i = 0; i < size; ++i)
            b[i] = static_cast<char>('a' + i % 26);
        s.response().body(std::move(b));
    });
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    client c(srv.local_addresses()[0], 20s);
    ASSERT_TRUE(c.send(request("GET", "/big") + request("GET", "/ok")));
    std::this_thread::sleep_for(200ms); // let the server fill the socket and block
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    ASSERT_EQ(res->body.size(), size);
    bool same = true;
    for (std::size_t i = 0; i < size && same; ++i)
        same = res->body[i] == static_cast<char>('a' + i % 26);
    EXPECT_TRUE(same);
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "ok");
}

// ---------------------------------------------------------------------------------------------
// Methods

TEST(ServerMethods, HeadOnGetRoute) {
    wharf::server srv(local_config());
    srv.routes().get("/m", [](wharf::session& s) {
        s.response().format("method={}", s.request().method_name());
    });
    start(srv);
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("HEAD", "/m")));
    auto res = c.read_response(true);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("Content-Length"), "11"); // "method=HEAD"
    ASSERT_TRUE(c.send(request("GET", "/m")));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "method=GET") << "bytes of the HEAD body were sent";
    EXPECT_TRUE(c.pending().empty());
}

TEST(ServerMethods, MethodNotAllowedListsAllow) {
    wharf::server srv(local_config());
    auto& r = srv.routes();
    const wharf::handler echo = [](wharf::session& s) {
        s.response().append(s.request().method_name());
    };
    r.route({wharf::method::get, wharf::method::post}, "/thing", echo);
    r.put("/thing/{id}", echo);
    r.any("/any", echo);
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    auto res = fetch(a, request("DELETE", "/thing"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->header("Allow"), "GET, HEAD, POST");

    res = fetch(a, request("PATCH", "/thing/1", "", "x"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405);
    EXPECT_EQ(res->header("Allow"), "PUT");

    res = fetch(a, request("OPTIONS", "/thing"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);
    EXPECT_EQ(res->header("Allow"), "GET, HEAD, POST, OPTIONS");

    res = fetch(a, request("DELETE", "/nothing"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);

    res = fetch(a, request("PURGE", "/thing"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 501);

    for (const char* m : {"GET", "POST", "DELETE", "PATCH", "PURGE", "OPTIONS"}) {
        SCOPED_TRACE(m);
        res = fetch(a, request(m, "/any"));
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, m);
    }
}

// ---------------------------------------------------------------------------------------------
// Access log callback

struct logged {
    std::string method, target, user_agent, referer, peer;
    int status;
    std::uint64_t bytes;
    int major, minor;
};

TEST(ServerAccessLog, CallbackReceivesRecords) {
    std::mutex m;
    std::vector<logged> records;
    wharf::server_config cfg = local_config(2);
    cfg.access_log_callback = [&](const wharf::access_record& r) {
        std::lock_guard lock(m);
        records.push_back({std::string(r.method), std::string(r.target), std::string(r.user_agent),
                           std::string(r.referer), r.peer ? r.peer->to_string() : "", r.status,
                           r.body_bytes, r.http_major, r.http_minor});
    };
    wharf::server srv(cfg);
    srv.routes().get("/hello", [](wharf::session& s) { s.response().append("hello!"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client c(a);
    ASSERT_TRUE(
        c.send(request("GET", "/hello?q=1", "User-Agent: cb-test/1\r\nReferer: r.example\r\n")));
    ASSERT_TRUE(c.read_response());
    ASSERT_TRUE(c.send(request("HEAD", "/hello")));
    ASSERT_TRUE(c.read_response(true));
    ASSERT_TRUE(c.send(request("GET", "/missing")));
    ASSERT_TRUE(c.read_response());
    ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(c.read_response());
    ASSERT_TRUE(fetch(a, "GET /x HTTP/1.1\r\n\r\n")); // 400: no Host

    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return records.size() >= 5;
    }));
    std::lock_guard lock(m);
    ASSERT_EQ(records.size(), 5u);
    const std::string peer = c.local_address().to_string();
    EXPECT_EQ(records[0].method, "GET");
    EXPECT_EQ(records[0].target, "/hello?q=1");
    EXPECT_EQ(records[0].status, 200);
    EXPECT_EQ(records[0].bytes, 6u);
    EXPECT_EQ(records[0].user_agent, "cb-test/1");
    EXPECT_EQ(records[0].referer, "r.example");
    EXPECT_EQ(records[0].peer, peer);
    EXPECT_EQ(records[0].major * 10 + records[0].minor, 11);
    EXPECT_EQ(records[1].method, "HEAD");
    EXPECT_EQ(records[1].bytes, 0u);
    EXPECT_EQ(records[2].status, 404);
    EXPECT_EQ(records[2].target, "/missing");
    EXPECT_EQ(records[3].major * 10 + records[3].minor, 10);
    EXPECT_EQ(records[3].user_agent, "");
    EXPECT_EQ(records[4].status, 400);
}

// ---------------------------------------------------------------------------------------------
// Listening

bool ipv6_loopback_available() {
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    std::error_code ec;
    const wharf::address a = wharf::address::parse("[::1]:0", ec);
    const bool ok = !ec && ::bind(fd, a.data(), a.size()) == 0;
    ::close(fd);
    return ok;
}

const wharf::handler where = [](wharf::session& s) {
    s.response().format("{} via {}", s.request().peer().to_string(),
                        s.request().local().to_string());
};

TEST(ServerListen, IPv6Loopback) {
    if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback here";
    wharf::server_config cfg = local_config(2);
    cfg.listen = {"[::1]:0"};
    wharf::server srv(cfg);
    srv.routes().get("/where", where);
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    EXPECT_EQ(a.family(), AF_INET6);
    EXPECT_NE(a.port(), 0);
    client c(a);
    ASSERT_TRUE(c.connected()) << c.error();
    ASSERT_TRUE(c.send(request("GET", "/where")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, c.local_address().to_string() + " via " + a.to_string());
    EXPECT_EQ(res->body.rfind("[::1]:", 0), 0u);
}

TEST(ServerListen, UnixSocket) {
    const std::string path = unix_socket_path("unix");
    {
        // A stale socket file left by an earlier run is replaced.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un un{};
        un.sun_family = AF_UNIX;
        path.copy(un.sun_path, sizeof un.sun_path - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&un), sizeof un), 0);
        ::close(fd);
        ASSERT_TRUE(file_exists(path));
    }
    wharf::server_config cfg = local_config(2);
    cfg.listen = {"unix:" + path};
    auto srv = std::make_unique<wharf::server>(cfg);
    srv->routes().get("/where", where);
    start(*srv);
    const wharf::address a = srv->local_addresses()[0];
    EXPECT_TRUE(a.is_unix());
    EXPECT_EQ(a.to_string(), "unix:" + path);
    for (int i = 0; i < 4; ++i) {
        const auto res = get(a, "/where");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
        const std::string suffix = " via unix:" + path;
        EXPECT_GE(res->body.size(), suffix.size());
        EXPECT_EQ(res->body.substr(res->body.size() - std::min(res->body.size(), suffix.size())),
                  suffix);
    }
    srv->stop();
    srv->wait();
    EXPECT_FALSE(file_exists(path)) << "socket file left behind";
    srv.reset();
    ::unlink(path.c_str());
}

TEST(ServerListen, TwoAddressesAtOnce) {
    const std::string path = unix_socket_path("two");
    wharf::server_config cfg = local_config(2);
    cfg.listen = {"127.0.0.1:0", "unix:" + path, "127.0.0.1:0"};
    wharf::server srv(cfg);
    srv.routes().get("/where", where);
    start(srv);
    const auto addrs = srv.local_addresses();
    ASSERT_EQ(addrs.size(), 3u);
    EXPECT_NE(addrs[0].port(), 0);
    EXPECT_TRUE(addrs[1].is_unix());
    EXPECT_NE(addrs[2].port(), addrs[0].port());
    for (const wharf::address& a : addrs) {
        SCOPED_TRACE(a.to_string());
        for (int i = 0; i < 3; ++i) {
            const auto res = get(a, "/where");
            ASSERT_TRUE(res);
            const std::string suffix = " via " + a.to_string();
            ASSERT_GE(res->body.size(), suffix.size());
            EXPECT_EQ(res->body.substr(res->body.size() - suffix.size()), suffix);
        }
    }
    srv.stop();
    srv.wait();
    ::unlink(path.c_str());
}

TEST(ServerListen, BadAddressIsInvalidArgument) {
    for (const char* text : {"nonsense", "127.0.0.1:70000", "[::1", "unix:", "example.com:80"}) {
        SCOPED_TRACE(text);
        wharf::server_config cfg = local_config();
        cfg.listen = {text};
        wharf::server srv(cfg);
        EXPECT_EQ(srv.start(), wharf::errc::invalid_argument);
    }
    wharf::server_config cfg = local_config();
    cfg.listen = {};
    wharf::server srv(cfg);
    EXPECT_EQ(srv.start(), wharf::errc::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TEST(ServerLifecycle, StartTwiceIsAnError) {
    wharf::server srv(local_config());
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    const std::error_code again = srv.start();
    EXPECT_TRUE(again);
    EXPECT_EQ(again, wharf::errc::busy);
    const auto res = get(srv.local_addresses()[0], "/ok");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "ok");
}

TEST(ServerLifecycle, PortInUse) {
    wharf::server first(local_config(2));
    first.routes().get("/ok", [](wharf::session& s) { s.response().append("first"); });
    start(first);
    const wharf::address taken = first.local_addresses()[0];

    wharf::server_config cfg = local_config(2);
    cfg.listen = {taken.to_string()};
    wharf::server second(cfg);
    EXPECT_EQ(second.start(), wharf::errc::address_in_use);

    // A taken address after a free one: nothing stays bound.
    cfg.listen = {"127.0.0.1:0", taken.to_string()};
    wharf::server third(cfg);
    EXPECT_EQ(third.start(), wharf::errc::address_in_use);
    EXPECT_TRUE(third.local_addresses().empty());

    const auto res = get(taken, "/ok");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "first");
}

TEST(ServerLifecycle, StopAnswersRequestInFlight) {
    wharf::server srv(local_config());
    srv.routes().post("/echo", [](wharf::session& s) { s.response().append(s.request().body()); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client busy(a);
    ASSERT_TRUE(busy.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhalf "));
    client idle(a);
    ASSERT_TRUE(idle.send(request("POST", "/echo", "", "idle")));
    ASSERT_TRUE(idle.read_response());
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 2; }));
    std::this_thread::sleep_for(50ms); // the partial body has been read

    srv.stop();
    EXPECT_TRUE(idle.wait_closed(2s)) << "idle connection not closed by stop()";
    ASSERT_TRUE(busy.send("done!"));
    const auto res = busy.read_response();
    ASSERT_TRUE(res) << busy.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "half done!");
    EXPECT_EQ(res->header("Connection"), "close");
    EXPECT_TRUE(busy.wait_closed(2s));
    busy.close(); // else the server lingers up to 2 s for it
    EXPECT_TRUE(wait_returns(srv, 3s)) << "wait() did not return after the last request";
    EXPECT_FALSE(get(a, "/echo")) << "still accepting after stop()";
}

TEST(ServerLifecycle, StopWhileHandlerRuns) {
    wharf::server srv(local_config());
    std::atomic<bool> entered{false};
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    srv.routes().get("/block", [&entered, released](wharf::session& s) {
        entered = true;
        released.wait(); // blocks the loop on purpose: stop() arrives meanwhile
        s.response().append("finished");
    });
    start(srv);
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/block")));
    ASSERT_TRUE(wait_until([&] { return entered.load(); }));
    srv.stop();
    std::this_thread::sleep_for(50ms);
    release.set_value();
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "finished");
    EXPECT_TRUE(c.wait_closed(2s));
    EXPECT_TRUE(wait_returns(srv, 3s));
}

TEST(ServerLifecycle, StopDeadlineClosesStragglers) {
    wharf::server srv(local_config(2));
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send("GET /ok HTTP/1.1\r\nHost: t\r\n")); // never finished
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 1; }));
    std::this_thread::sleep_for(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    srv.stop(200ms);
    EXPECT_TRUE(wait_returns(srv, 3s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_TRUE(c.wait_closed(1s));
    srv.stop(); // again: harmless
}

TEST(ServerLifecycle, ConnectionCount) {
    wharf::server srv(local_config(2));
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    EXPECT_EQ(srv.connection_count(), 0u);
    std::vector<client> clients;
    for (int i = 0; i < 3; ++i) {
        clients.emplace_back(a);
        ASSERT_TRUE(clients.back().send(request("GET", "/ok")));
        ASSERT_TRUE(clients.back().read_response());
    }
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 3; })) << srv.connection_count();
    clients[0].close();
    clients[1].close();
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 1; })) << srv.connection_count();
    clients[2].close();
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; })) << srv.connection_count();
}

TEST(ServerLifecycle, DestructorStopsRunningServer) {
    std::optional<client> c;
    {
        wharf::server srv(local_config(2));
        srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
        start(srv);
        c.emplace(srv.local_addresses()[0]);
        ASSERT_TRUE(c->send(request("GET", "/ok")));
        ASSERT_TRUE(c->read_response());
    }
    EXPECT_TRUE(c->wait_closed(1s));
}

// ---------------------------------------------------------------------------------------------
// Limits and deadlines

TEST(ServerLimits, MaxConnectionsHoldsExtraClientsBack) {
    wharf::server_config cfg = local_config(1);
    cfg.limits.max_connections = 4;
    wharf::server srv(cfg);
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    std::vector<client> held;
    for (int i = 0; i < 4; ++i) {
        held.emplace_back(a);
        ASSERT_TRUE(held.back().send(request("GET", "/ok")));
        ASSERT_TRUE(held.back().read_response()) << held.back().error();
    }
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 4; }));

    // Over the limit: the kernel completes the handshakes, but the server does not serve them.
    std::vector<client> waiting;
    for (int i = 0; i < 3; ++i) {
        waiting.emplace_back(a);
        ASSERT_TRUE(waiting.back().connected());
        ASSERT_TRUE(waiting.back().send(request("GET", "/ok")));
    }
    const auto cpu0 = cpu_time();
    const auto wall0 = std::chrono::steady_clock::now();
    for (auto& w : waiting)
        EXPECT_TRUE(w.stays_silent(200ms)) << "served beyond max_connections";
    EXPECT_LE(srv.connection_count(), 4u);
    const auto cpu = cpu_time() - cpu0;
    const auto wall = std::chrono::steady_clock::now() - wall0;
    // A spinning accept loop would burn a whole core while the clients wait.
    EXPECT_LT(cpu * 2, wall) << "server busy while at its connection limit: cpu " << cpu.count()
                             << "us over "
                             << std::chrono::duration_cast<std::chrono::microseconds>(wall).count()
                             << "us";

    // Each closed connection lets one waiting client in.
    for (std::size_t i = 0; i < waiting.size(); ++i) {
        held[i].close();
        const auto res = waiting[i].read_response();
        ASSERT_TRUE(res) << "client " << i
                         << " not served after a slot freed: " << waiting[i].error();
        EXPECT_EQ(res->body, "ok");
        EXPECT_LE(srv.connection_count(), 4u);
    }
    // The server still works normally.
    held.clear();
    waiting.clear();
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    const auto res = get(a, "/ok");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "ok");
}

TEST(ServerLimits, ConfiguredRequestLimits) {
    wharf::server_config cfg = local_config(1);
    cfg.limits.max_request_line = 64;
    cfg.limits.max_header_bytes = 512;
    cfg.limits.max_headers = 4;
    cfg.limits.max_body_size = 100;
    wharf::server srv(cfg);
    srv.routes().post("/echo", [](wharf::session& s) { s.response().append(s.request().body()); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    struct {
        std::string raw;
        int status;
    } cases[] = {
        {request("POST", "/echo", "", std::string(100, 'b')), 200},
        {request("POST", "/echo", "", std::string(101, 'b')), 413},
        {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" +
             std::string(80, 'c') + "\r\n50\r\n" + std::string(80, 'c') + "\r\n0\r\n\r\n",
         413},
        {request("POST", "/" + std::string(70, 'p')), 414},
        {request("POST", "/echo", "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", "x"), 431},
        {request("POST", "/echo", "A: " + std::string(600, 'v') + "\r\n", "x"), 431},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.raw.substr(0, 60));
        client cl(a);
        ASSERT_TRUE(cl.send(c.raw));
        const auto res = cl.read_response();
        ASSERT_TRUE(res) << cl.error();
        EXPECT_EQ(res->status, c.status);
        if (c.status != 200) {
            EXPECT_EQ(res->header("Connection"), "close");
            EXPECT_TRUE(cl.wait_closed(2s));
        }
    }
}

TEST(ServerTimeouts, SlowClientsAreCutOff) {
    wharf::server_config cfg = local_config(2);
    cfg.timeouts.request_head = 300ms;
    cfg.timeouts.body_read = 300ms;
    cfg.timeouts.keep_alive = 300ms;
    wharf::server srv(cfg);
    srv.routes().post("/echo", [](wharf::session& s) { s.response().append(s.request().body()); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    const auto t0 = std::chrono::steady_clock::now();

    client partial_head(a);
    ASSERT_TRUE(partial_head.send("POST /echo HTTP/1.1\r\nHost: t\r\n"));
    client partial_body(a);
    ASSERT_TRUE(
        partial_body.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\nabc"));
    client idle(a);
    ASSERT_TRUE(idle.send(request("POST", "/echo", "", "x")));
    ASSERT_TRUE(idle.read_response());
    client silent(a);

    auto res = partial_head.read_response();
    ASSERT_TRUE(res) << partial_head.error();
    EXPECT_EQ(res->status, 408);
    EXPECT_TRUE(partial_head.wait_closed(1s));
    res = partial_body.read_response();
    ASSERT_TRUE(res) << partial_body.error();
    EXPECT_EQ(res->status, 408);
    EXPECT_TRUE(partial_body.wait_closed(1s));
    partial_head.close();
    partial_body.close();
    EXPECT_TRUE(idle.wait_closed(2s));
    EXPECT_TRUE(idle.pending().empty()) << "idle connection got bytes: " << idle.pending();
    EXPECT_TRUE(silent.wait_closed(2s));
    EXPECT_TRUE(silent.pending().empty()) << "silent connection got bytes: " << silent.pending();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

    // A client that keeps its body trickling in within the gap is not cut off.
    client trickle(a);
    ASSERT_TRUE(trickle.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n"));
    for (char ch : std::string("abcdef")) {
        std::this_thread::sleep_for(100ms);
        ASSERT_TRUE(trickle.send(std::string(1, ch)));
    }
    res = trickle.read_response();
    ASSERT_TRUE(res) << trickle.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "abcdef");
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
}

// ---------------------------------------------------------------------------------------------
// Connection edge cases

TEST(ServerConnection, HalfCloseRightAfterRequest) {
    // The request and the FIN arrive together: the answer is sent and then the connection is
    // closed, without waiting for the keep-alive deadline.
    wharf::server srv(local_config());
    srv.routes().get("/ok", [](wharf::session& s) { s.response().append("ok"); });
    start(srv);
    for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE(i);
        client c(srv.local_addresses()[0]);
        const int one = 1; // corked: the requests and the FIN leave in one segment
        ASSERT_EQ(::setsockopt(c.fd(), IPPROTO_TCP, TCP_CORK, &one, sizeof one), 0);
        ASSERT_TRUE(c.send(request("GET", "/ok") + request("GET", "/ok")));
        c.shutdown_write();
        for (int k = 0; k < 2; ++k) {
            const auto res = c.read_response();
            ASSERT_TRUE(res) << c.error();
            EXPECT_EQ(res->body, "ok");
        }
        EXPECT_TRUE(c.wait_closed(1s)) << "half-closed connection left open";
    }
}

TEST(ServerConnection, RejectedHeadAfterLargeBody) {
    // A head rejected before its method is parsed, on a connection whose previous request had
    // a large body: the answer must not use the previous request's (freed) head.
    wharf::server srv(local_config());
    srv.routes().post(
        "/len", [](wharf::session& s) { s.response().format("{}", s.request().body().size()); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    for (const std::string& bad :
         {std::string("G@T /x HTTP/1.1\r\nHost: t\r\n\r\n"),
          std::string(" /x HTTP/1.1\r\nHost: t\r\n\r\n"), "GET /" + std::string(20000, 'a')}) {
        SCOPED_TRACE(bad.substr(0, 20));
        client c(a);
        ASSERT_TRUE(c.send(request("POST", "/len", "", std::string(1 << 20, 'b'))));
        auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, std::to_string(1 << 20));
        std::this_thread::sleep_for(50ms); // idle: the grown receive buffer is released
        ASSERT_TRUE(c.send(bad));
        res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, bad[0] == 'G' && bad[1] == 'E' ? 414 : 400);
        EXPECT_EQ(res->header("Connection"), "close");
    }
}

TEST(ServerConcurrency, ManyClientsOnSeveralWorkers) {
    wharf::server srv(local_config(3));
    srv.routes().post("/echo", [](wharf::session& s) { s.response().append(s.request().body()); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < 5; ++k) {
                client c(a);
                bool good = c.connected();
                for (int i = 0; i < 10 && good; ++i) {
                    const std::string body = fmt::format("t{}k{}i{}", t, k, i);
                    good = c.send(request("POST", "/echo", "", body));
                    const auto res = good ? c.read_response() : std::nullopt;
                    good = res && res->body == body;
                }
                if (good) ++ok;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(ok, 16 * 5);
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
}

} // namespace
