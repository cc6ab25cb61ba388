// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "http/uri.hpp"

namespace {

using wharf::detail::target_parts;

struct target_case {
    const char* target;
    bool ok;
    target_parts::form_t form;
    const char* authority;
    const char* path;
    const char* query;
};

class TargetTable : public ::testing::TestWithParam<target_case> {};

TEST_P(TargetTable, Splits) {
    const target_case& c = GetParam();
    target_parts parts;
    ASSERT_EQ(wharf::detail::split_target(c.target, parts), c.ok) << c.target;
    if (!c.ok) return;
    EXPECT_EQ(parts.form, c.form) << c.target;
    EXPECT_EQ(parts.authority, c.authority) << c.target;
    EXPECT_EQ(parts.path, c.path) << c.target;
    EXPECT_EQ(parts.query, c.query) << c.target;
}

INSTANTIATE_TEST_SUITE_P(
    Targets, TargetTable,
    ::testing::Values(
        target_case{"/", true, target_parts::origin_form, "", "/", ""},
        target_case{"/a/b?x=1&y=2", true, target_parts::origin_form, "", "/a/b", "x=1&y=2"},
        target_case{"/a?", true, target_parts::origin_form, "", "/a", ""},
        target_case{"/a?q#frag", true, target_parts::origin_form, "", "/a", "q"},
        target_case{"*", true, target_parts::asterisk_form, "", "*", ""},
        target_case{"http://example.com/x?y", true, target_parts::absolute_form, "example.com",
                    "/x", "y"},
        target_case{"HTTP://example.com", true, target_parts::absolute_form, "example.com", "/",
                    ""},
        target_case{"https://h:8443?q=1", true, target_parts::absolute_form, "h:8443", "/", "q=1"},
        target_case{"http://user@h/", false, target_parts::origin_form, "", "", ""},
        target_case{"ftp://h/", false, target_parts::origin_form, "", "", ""},
        target_case{"http:///x", false, target_parts::origin_form, "", "", ""},
        target_case{"example.com:443", true, target_parts::authority_form, "example.com:443", "",
                    ""},
        target_case{"relative/path", false, target_parts::origin_form, "", "", ""},
        target_case{"", false, target_parts::origin_form, "", "", ""}));

struct decode_case {
    const char* in;
    bool plus_is_space;
    bool ok;
    const char* out;
};

class DecodeTable : public ::testing::TestWithParam<decode_case> {};

TEST_P(DecodeTable, Decodes) {
    const decode_case& c = GetParam();
    std::string out;
    ASSERT_EQ(wharf::detail::percent_decode(c.in, out, c.plus_is_space), c.ok) << c.in;
    if (c.ok) {
        EXPECT_EQ(out, c.out) << c.in;
    }
    EXPECT_EQ(wharf::detail::decoding_is_identity(c.in, c.plus_is_space),
              c.ok && std::string_view(c.in) == out)
        << c.in;
}

INSTANTIATE_TEST_SUITE_P(Escapes, DecodeTable,
                         ::testing::Values(decode_case{"/plain", false, true, "/plain"},
                                           decode_case{"/a%20b", false, true, "/a b"},
                                           decode_case{"/%2e%2E/", false, true, "/../"},
                                           decode_case{"/a%2Fb", false, true, "/a/b"},
                                           decode_case{"a+b", false, true, "a+b"},
                                           decode_case{"a+b", true, true, "a b"},
                                           decode_case{"%e2%9c%93", false, true, "\xe2\x9c\x93"},
                                           decode_case{"%", false, false, ""},
                                           decode_case{"%4", false, false, ""},
                                           decode_case{"%zz", false, false, ""},
                                           decode_case{"a%00b", false, false, ""}));

} // namespace
