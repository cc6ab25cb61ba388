// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wharf/router.hpp"

namespace {

using wharf::method;
using params_t = std::vector<std::pair<std::string_view, std::string_view>>;

/// A router whose handlers record their name in the session's response body.
wharf::router make_router(const std::vector<std::pair<method, std::string>>& routes) {
    wharf::router r;
    for (const auto& [m, pattern] : routes) {
        const std::string tag = std::string(wharf::to_string(m)) + " " + pattern;
        r.route(m, pattern, [tag](wharf::session& s) { s.response().append(tag); });
    }
    return r;
}

std::string run(const wharf::router& r, method m, std::string_view path, params_t& params) {
    const wharf::route_match found = r.match(m, path, params);
    if (!found.target) return found.path_found() ? "405" : "404";
    wharf::session s;
    (*found.target)(s);
    return std::string(s.response().body());
}

struct route_case {
    const char* name;
    method m;
    const char* path;
    const char* expected; // handler tag, "404" or "405"
    params_t params;
};

class RouterTable : public ::testing::TestWithParam<route_case> {};

const wharf::router& table_router() {
    static const wharf::router r = make_router({
        {method::get, "/"},
        {method::get, "/plaintext"},
        {method::post, "/echo"},
        {method::get, "/users/{id}"},
        {method::delete_, "/users/{id}"},
        {method::get, "/users/me"},
        {method::get, "/users/{id}/posts/{post}"},
        {method::get, "/files/*"},
        {method::put, "/files/special"},
        {method::get, "/a/b/c"},
        {method::get, "/trailing/"},
        {method::patch, "/items/{id}"},
    });
    return r;
}

TEST_P(RouterTable, Matches) {
    const route_case& c = GetParam();
    params_t params;
    EXPECT_EQ(run(table_router(), c.m, c.path, params), c.expected) << c.name;
    EXPECT_EQ(params, c.params) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Routes, RouterTable,
    ::testing::Values(
        route_case{"root", method::get, "/", "GET /", {}},
        route_case{"literal", method::get, "/plaintext", "GET /plaintext", {}},
        route_case{"head falls back to get", method::head, "/plaintext", "GET /plaintext", {}},
        route_case{"post literal", method::post, "/echo", "POST /echo", {}},
        route_case{"wrong method", method::get, "/echo", "405", {}},
        route_case{"unknown path", method::get, "/nope", "404", {}},
        route_case{"param", method::get, "/users/42", "GET /users/{id}", {{"id", "42"}}},
        route_case{"literal beats param", method::get, "/users/me", "GET /users/me", {}},
        route_case{"param for another method behind a literal",
                   method::delete_,
                   "/users/me",
                   "DELETE /users/{id}",
                   {{"id", "me"}}},
        route_case{"two params",
                   method::get,
                   "/users/7/posts/9",
                   "GET /users/{id}/posts/{post}",
                   {{"id", "7"}, {"post", "9"}}},
        route_case{"param needs a non-empty segment", method::get, "/users/", "404", {}},
        route_case{"too deep for params", method::get, "/users/7/posts", "404", {}},
        route_case{
            "wildcard tail", method::get, "/files/a/b.txt", "GET /files/*", {{"*", "a/b.txt"}}},
        route_case{"wildcard empty tail", method::get, "/files/", "GET /files/*", {{"*", ""}}},
        route_case{"wildcard without slash", method::get, "/files", "GET /files/*", {{"*", ""}}},
        route_case{
            "literal beats wildcard", method::put, "/files/special", "PUT /files/special", {}},
        route_case{"wildcard when literal lacks method",
                   method::get,
                   "/files/special",
                   "GET /files/*",
                   {{"*", "special"}}},
        route_case{"deep literal", method::get, "/a/b/c", "GET /a/b/c", {}},
        route_case{"partial literal", method::get, "/a/b", "404", {}},
        route_case{"trailing slash is distinct", method::get, "/trailing", "404", {}},
        route_case{"trailing slash route", method::get, "/trailing/", "GET /trailing/", {}},
        route_case{"no trailing slash match", method::get, "/plaintext/", "404", {}},
        route_case{"patch", method::patch, "/items/x", "PATCH /items/{id}", {{"id", "x"}}},
        route_case{"case-sensitive paths", method::get, "/PLAINTEXT", "404", {}},
        route_case{"not a path", method::get, "plaintext", "404", {}}),
    [](const ::testing::TestParamInfo<route_case>& param_info) {
        std::string name = param_info.param.name;
        for (char& c : name)
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        return name;
    });

TEST(Router, AllowHeaderListsMethodsOfThePath) {
    const wharf::router& r = table_router();
    params_t params;
    const auto m = r.match(method::put, "/users/1", params);
    EXPECT_EQ(m.target, nullptr);
    EXPECT_EQ(wharf::router::allow_header(m.allowed_methods), "GET, HEAD, DELETE");
}

TEST(Router, ServiceContextTravelsWithTheRoute) {
    wharf::router r;
    r.route(
        method::get, "/ctx", [](wharf::session&) {}, std::any(std::string("ctx")));
    params_t params;
    const auto m = r.match(method::get, "/ctx", params);
    ASSERT_NE(m.service_context, nullptr);
    EXPECT_EQ(std::any_cast<std::string>(*m.service_context), "ctx");
}

TEST(Router, MultiMethodRoute) {
    wharf::router r;
    int calls = 0;
    r.route({method::get, method::post}, "/both", [&](wharf::session&) { ++calls; });
    params_t params;
    wharf::session s;
    for (method m : {method::get, method::post, method::head}) {
        const auto found = r.match(m, "/both", params);
        ASSERT_NE(found.target, nullptr);
        (*found.target)(s);
    }
    EXPECT_EQ(calls, 3);
}

TEST(Router, AnyRouteTakesUnknownMethods) {
    wharf::router r;
    r.any("/x", [](wharf::session&) {});
    params_t params;
    EXPECT_NE(r.match(method::other, "/x", params).target, nullptr);
}

TEST(Router, RejectsMalformedPatterns) {
    wharf::router r;
    auto noop = [](wharf::session&) {};
    EXPECT_THROW(r.get("no-slash", noop), std::invalid_argument);
    EXPECT_THROW(r.get("/a/*/b", noop), std::invalid_argument);
    EXPECT_THROW(r.get("/a/{b", noop), std::invalid_argument);
    r.get("/dup", noop);
    EXPECT_THROW(r.get("/dup", noop), std::invalid_argument);
    r.get("/p/{id}", noop);
    EXPECT_THROW(r.get("/p/{other}/x", noop), std::invalid_argument);
}

} // namespace
