// SPDX-License-Identifier: MIT
// The syntax of credentials (RFC 9110 §11.2-§11.4): splitting an Authorization value after
// its scheme, token68, and #auth-param lists (quoted strings and their escapes, tokens,
// commas and empty elements, whitespace around "=", duplicates), as tables.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "auth/auth_params.hpp"

namespace {

using wharf::detail::auth::is_token68;
using wharf::detail::auth::max_auth_params;
using wharf::detail::auth::params_error;
using wharf::detail::auth::parse_auth_params;
using wharf::detail::auth::quoted;
using wharf::detail::auth::split_credentials;

struct split_row {
    std::string_view value;
    bool ok;
    std::string_view scheme, rest;
};

TEST(AuthParams, SplitCredentials) {
    const split_row rows[] = {
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", true, "Basic", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
        {"basic   abc", true, "basic", "abc"}, // several spaces (1*SP)
        {"Digest\tusername=\"a\"", true, "Digest", "username=\"a\""},
        {"Digest a=b  ", true, "Digest", "a=b"}, // trailing whitespace trimmed
        {"Basic", true, "Basic", ""},            // a scheme alone (no credentials)
        {"", false, "", ""},
        {" Basic abc", false, "", ""},    // starts with a space, not a token
        {"Basic,abc", false, "", ""},     // a comma right after the scheme
        {"Basic=abc", false, "", ""},     // "=" right after the scheme
        {"\"Basic\" abc", false, "", ""}, // a quoted scheme
        {"B@sic abc", false, "", ""},     // '@' is not a tchar
        {"Bearer mF_9.B5f-4.1JqM", true, "Bearer", "mF_9.B5f-4.1JqM"},
    };
    for (const split_row& r : rows) {
        SCOPED_TRACE(std::string(r.value));
        const auto got = split_credentials(r.value);
        ASSERT_EQ(got.has_value(), r.ok);
        if (!r.ok) continue;
        EXPECT_EQ(got->scheme, r.scheme);
        EXPECT_EQ(got->rest, r.rest);
    }
}

TEST(AuthParams, Token68) {
    for (std::string_view good : {"a", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "abc=", "a-._~+/9", "Zm9v"})
        EXPECT_TRUE(is_token68(good)) << good;
    for (std::string_view bad : {"", "=", "==abc", "ab=c", "a b", "a,b", "a\"b", "a=b=", "é"})
        EXPECT_FALSE(is_token68(bad)) << bad;
}

struct params_row {
    std::string_view list;
    params_error error;
    std::vector<std::pair<std::string_view, std::string_view>> params; // when none
};

TEST(AuthParams, Table) {
    const params_row rows[] = {
        {"", params_error::none, {}},
        {"a=b", params_error::none, {{"a", "b"}}},
        {"a=\"b\"", params_error::none, {{"a", "b"}}},
        {"a=\"\"", params_error::none, {{"a", ""}}},
        {"realm=\"http-auth@example.org\", qop=auth, algorithm=SHA-256",
         params_error::none,
         {{"realm", "http-auth@example.org"}, {"qop", "auth"}, {"algorithm", "SHA-256"}}},
        // Whitespace around "=" (BWS) and around commas (OWS), tabs too.
        {"a = b ,\tc\t=\t\"d\"", params_error::none, {{"a", "b"}, {"c", "d"}}},
        // Empty list elements (RFC 9110 §5.6.1): leading, doubled and trailing commas.
        {",a=b,,, c=d,", params_error::none, {{"a", "b"}, {"c", "d"}}},
        {" , , ", params_error::none, {}},
        // Commas, '=' and spaces inside a quoted string are part of the value.
        {"uri=\"/a,b=c d\", x=y", params_error::none, {{"uri", "/a,b=c d"}, {"x", "y"}}},
        // quoted-pair: a backslash takes the next character literally.
        {R"(a="say \"hi\"", b="back\\slash", c="\x")",
         params_error::none,
         {{"a", "say \"hi\""}, {"b", "back\\slash"}, {"c", "x"}}},
        // obs-text (bytes >= 0x80) is allowed in quoted strings.
        {"a=\"J\xc3\xa4ger\"", params_error::none, {{"a", "J\xc3\xa4ger"}}},
        // Names keep their case; values too.
        {"UserName=\"Mufasa\"", params_error::none, {{"UserName", "Mufasa"}}},
        // Syntax errors.
        {"a", params_error::syntax, {}},                            // no "="
        {"a=", params_error::syntax, {}},                           // no value
        {"=b", params_error::syntax, {}},                           // no name
        {"a=b c=d", params_error::syntax, {}},                      // a missing comma
        {"a=\"b", params_error::syntax, {}},                        // unterminated quoted string
        {"a=\"b\\", params_error::syntax, {}},                      // a backslash at the end
        {"a=\"b\"c", params_error::syntax, {}},                     // text after the closing quote
        {"a=b/c", params_error::syntax, {}},                        // '/' is no tchar: quote it
        {"a=\"b\x01\"", params_error::syntax, {}},                  // a control character
        {"a=\"b\x7f\"", params_error::syntax, {}},                  // DEL
        {"a=\"\\\x01\"", params_error::syntax, {}},                 // an escaped control character
        {"a=b;c=d", params_error::syntax, {}},                      // ';' is not a separator here
        {"a==b", params_error::syntax, {}},                         // "=" twice
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ==", params_error::syntax, {}}, // a token68
        // Duplicates, in any case (RFC 9110 §11.2: each name at most once).
        {"a=b, a=c", params_error::duplicate, {}},
        {"nonce=\"x\", NONCE=\"x\"", params_error::duplicate, {}},
    };
    for (const params_row& r : rows) {
        SCOPED_TRACE(std::string(r.list));
        const auto got = parse_auth_params(r.list);
        EXPECT_EQ(got.error, r.error);
        if (r.error != params_error::none) {
            EXPECT_TRUE(got.params.empty());
            continue;
        }
        ASSERT_EQ(got.params.size(), r.params.size());
        for (std::size_t i = 0; i < r.params.size(); ++i) {
            EXPECT_EQ(got.params[i].name, r.params[i].first);
            EXPECT_EQ(got.params[i].value, r.params[i].second);
        }
    }
}

TEST(AuthParams, GetIsCaseInsensitive) {
    const auto got = parse_auth_params("Realm=\"x\", nc=00000001");
    ASSERT_TRUE(got.ok());
    ASSERT_NE(got.get("realm"), nullptr);
    EXPECT_EQ(*got.get("REALM"), "x");
    EXPECT_EQ(*got.get("nc"), "00000001");
    EXPECT_EQ(got.get("nonce"), nullptr);
}

TEST(AuthParams, AtMostMaxParams) {
    std::string list;
    for (std::size_t i = 0; i < max_auth_params; ++i)
        list.append("p").append(std::to_string(i)).append("=v,");
    EXPECT_TRUE(parse_auth_params(list).ok());
    list += "one=more";
    EXPECT_EQ(parse_auth_params(list).error, params_error::too_many);
}

TEST(AuthParams, EveryPrefixParsesWithoutCrashing) {
    // Cut anywhere, a list is either a shorter list or an error: never a read past its end
    // (ASan builds check) and never an exception.
    const std::string list = R"(username="Mufasa", realm="http-auth@example.org", )"
                             R"(uri="/dir/index.html", algorithm=MD5, nc=00000001, )"
                             R"(response="8ca523f5e9506fed4657c9700eebdbec", x="a\"b")";
    for (std::size_t n = 0; n <= list.size(); ++n)
        EXPECT_NO_THROW((void)parse_auth_params(std::string_view(list).substr(0, n))) << n;
}

TEST(AuthParams, QuotedRoundTrips) {
    for (std::string_view s : {"", "plain", "with \"quotes\"", "back\\slash", "a, b=c"}) {
        const std::string q = quoted(s);
        const auto got = parse_auth_params("x=" + q);
        ASSERT_TRUE(got.ok()) << q;
        EXPECT_EQ(got.params.at(0).value, s);
    }
    EXPECT_EQ(quoted("a\"b\\c"), R"("a\"b\\c")");
}

} // namespace
