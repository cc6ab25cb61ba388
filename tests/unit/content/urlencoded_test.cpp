// SPDX-License-Identifier: MIT
// application/x-www-form-urlencoded bodies: parse_urlencoded rows (decoding, empty pairs,
// malformed escapes with their offsets, limits) and read_urlencoded's checks of the request.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "http/access.hpp"
#include "wharf/form.hpp"

namespace {

using namespace std::string_literals;
using wharf::body_status;
using wharf::form_limits;
using fields = std::vector<std::pair<std::string, std::string>>;

form_limits limits_of(std::size_t max_fields, std::size_t max_field_bytes) {
    form_limits l;
    l.max_fields = max_fields;
    l.max_field_bytes = max_field_bytes;
    return l;
}

struct row {
    const char* name;
    std::string body;
    fields expected; // when ok
    body_status status = body_status::ok;
    std::size_t offset = 0; // of the error
    form_limits limits = {};
};

const row rows[] = {
    {"empty body", "", {}},
    {"one pair", "a=1", {{"a", "1"}}},
    {"several pairs in order", "b=2&a=1&b=3", {{"b", "2"}, {"a", "1"}, {"b", "3"}}},
    {"plus is a space", "q=a+b++c", {{"q", "a b  c"}}},
    {"percent escapes, both cases", "k%3Dy=%41%62%2b%2B%26", {{"k=y", "Ab++&"}}},
    {"an encoded plus stays a plus", "x=1%2B1", {{"x", "1+1"}}},
    {"NUL and 8-bit bytes", "n=%00%FF%e9", {{"n", "\0\xff\xe9"s}}},
    {"UTF-8 encoded", "name=Jos%C3%A9", {{"name", "Jos\xc3\xa9"}}},
    {"empty value", "a=&b=", {{"a", ""}, {"b", ""}}},
    {"no equals sign", "flag&x=1", {{"flag", ""}, {"x", "1"}}},
    {"empty name", "=v", {{"", "v"}}},
    {"second equals belongs to the value", "a=b=c", {{"a", "b=c"}}},
    {"empty pairs skipped", "&&a=1&&&b=2&", {{"a", "1"}, {"b", "2"}}},
    {"only ampersands", "&&&", {}},
    {"raw bytes pass through", "a=\xc3\xa9;/?:@", {{"a", "\xc3\xa9;/?:@"}}},
    // Malformed escapes: the offset is the '%'.
    {"percent at the end", "a=1&b=%", {}, body_status::malformed, 6},
    {"percent with one digit", "a=%4", {}, body_status::malformed, 2},
    {"percent with a non-hex digit", "ok=1&a=%4g", {}, body_status::malformed, 7},
    {"bad escape in a name", "x=1&%zz=1", {}, body_status::malformed, 4},
    {"bad escape after good ones", "v=%41%42%", {}, body_status::malformed, 8},
    {"a lone percent", "%", {}, body_status::malformed, 0},
    // Limits: the offset is the start of the field at fault.
    {"fields at the limit",
     "a&b&c",
     {{"a", ""}, {"b", ""}, {"c", ""}},
     body_status::ok,
     0,
     limits_of(3, 100)},
    {"too many fields", "a&b&c&d", {}, body_status::too_large, 6, limits_of(3, 100)},
    {"empty pairs do not count",
     "a&&&b",
     {{"a", ""}, {"b", ""}},
     body_status::ok,
     0,
     limits_of(2, 100)},
    {"value at the limit", "a=1234", {{"a", "1234"}}, body_status::ok, 0, limits_of(10, 4)},
    {"value over the limit", "x=1&a=12345", {}, body_status::too_large, 4, limits_of(10, 4)},
    {"the limit counts decoded bytes",
     "a=%41%41%41%41",
     {{"a", "AAAA"}},
     body_status::ok,
     0,
     limits_of(10, 4)},
    {"name over the limit", "abcde=1", {}, body_status::too_large, 0, limits_of(10, 4)},
};

TEST(UrlencodedRows, Parse) {
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        const wharf::form_body got = wharf::parse_urlencoded(r.body, r.limits);
        EXPECT_EQ(got.error.status, r.status) << got.error.message;
        EXPECT_EQ(got.ok(), r.status == body_status::ok);
        EXPECT_EQ(static_cast<bool>(got), got.ok());
        if (r.status != body_status::ok) {
            EXPECT_EQ(got.error.offset, r.offset);
            EXPECT_FALSE(got.error.message.empty());
            EXPECT_TRUE(got.fields.empty());
            continue;
        }
        fields seen;
        for (const auto& f : got.fields)
            seen.emplace_back(f.name, f.value);
        EXPECT_EQ(seen, r.expected);
    }
}

TEST(UrlencodedBody, GetFindsTheFirstValue) {
    const auto form = wharf::parse_urlencoded("a=1&b=2&a=3&A=4");
    ASSERT_TRUE(form);
    ASSERT_NE(form.get("a"), nullptr);
    EXPECT_EQ(*form.get("a"), "1");
    EXPECT_EQ(*form.get("A"), "4"); // names are case-sensitive
    EXPECT_EQ(form.get("c"), nullptr);
    EXPECT_EQ(form.get(""), nullptr);
}

TEST(UrlencodedBody, MalformedAnswersBadRequestWithTheOffset) {
    const auto form = wharf::parse_urlencoded("a=%zz");
    ASSERT_FALSE(form);
    EXPECT_EQ(form.error.http_status(), 400);
    EXPECT_EQ(wharf::parse_urlencoded("a&b", limits_of(1, 10)).error.http_status(), 413);
}

/// A request with the given header fields and body, for read_urlencoded.
struct fake_request {
    explicit fake_request(std::vector<wharf::header_field> f, std::string_view body)
        : fields(std::move(f)) {
        using wharf::detail::request_access;
        request_access::set_line(req, "POST", "/form", 1, 1);
        request_access::set_headers(req, wharf::header_view(fields), "test");
        request_access::set_body(req, body);
    }
    std::vector<wharf::header_field> fields;
    wharf::request req;
};

TEST(UrlencodedRequest, ChecksTheRequestBeforeParsing) {
    struct {
        const char* name;
        std::vector<wharf::header_field> fields;
        std::string_view body;
        body_status status;
        std::size_t count;
    } cases[] = {
        {"urlencoded",
         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "7"}},
         "a=1&b=2",
         body_status::ok,
         2},
        {"type with charset, any case",
         {{"Content-Type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
          {"Content-Length", "3"}},
         "a=1",
         body_status::ok,
         1},
        {"empty with Content-Length: 0",
         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "0"}},
         "",
         body_status::ok,
         0},
        {"empty chunked",
         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Transfer-Encoding", "chunked"}},
         "",
         body_status::ok,
         0},
        {"no body at all",
         {{"Content-Type", "application/x-www-form-urlencoded"}},
         "",
         body_status::no_body,
         0},
        {"no body, no type", {}, "", body_status::no_body, 0},
        {"no Content-Type", {{"Content-Length", "3"}}, "a=1", body_status::wrong_media_type, 0},
        {"JSON",
         {{"Content-Type", "application/json"}, {"Content-Length", "2"}},
         "{}",
         body_status::wrong_media_type,
         0},
        {"multipart",
         {{"Content-Type", "multipart/form-data; boundary=x"}, {"Content-Length", "3"}},
         "a=1",
         body_status::wrong_media_type,
         0},
        {"malformed",
         {{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "3"}},
         "a=%",
         body_status::malformed,
         0},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.name);
        fake_request r(c.fields, c.body);
        const auto form = wharf::read_urlencoded(r.req);
        EXPECT_EQ(form.error.status, c.status) << form.error.message;
        EXPECT_EQ(form.fields.size(), c.count);
    }
    fake_request r({{"Content-Type", "text/plain"}, {"Content-Length", "3"}}, "a=1");
    EXPECT_EQ(wharf::read_urlencoded(r.req).error.http_status(), 415);
}

TEST(UrlencodedRequest, LimitsApply) {
    fake_request r({{"Content-Type", "application/x-www-form-urlencoded"}, {"Content-Length", "7"}},
                   "a=1&b=2");
    EXPECT_EQ(wharf::read_urlencoded(r.req, limits_of(1, 10)).error.status, body_status::too_large);
    EXPECT_TRUE(wharf::read_urlencoded(r.req, limits_of(2, 10)));
}

} // namespace
