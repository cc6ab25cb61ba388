// SPDX-License-Identifier: MIT
// The compression filter's decisions from fields: the coding an Accept-Encoding asks for, the
// compressible media types and the coded ETag.
#include "compress/policy.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using wharf::accept_list;
using wharf::content_coding;
using wharf::detail::compress::choose_coding;
using wharf::detail::compress::coding;
using wharf::detail::compress::coding_name;
using wharf::detail::compress::compressible_type;
using wharf::detail::compress::etag_with_coding;

std::string chosen(std::optional<std::string_view> field,
                   std::vector<content_coding> offered = {content_coding::br, content_coding::zstd,
                                                          content_coding::gzip}) {
    const accept_list ae =
        accept_list::parse(field.value_or(""), accept_list::field_kind::coding, field.has_value());
    const auto c = choose_coding(ae, offered);
    return c ? std::string(coding_name(*c)) : "identity";
}

struct choice_case {
    std::optional<std::string_view> field;
    std::string_view want;
};

TEST(choose_coding, FollowsWeightsThenServerPreference) {
    const choice_case cases[] = {
        {std::nullopt, "identity"}, // no field: no preference, send as is
        {"", "identity"},           // empty: identity only (RFC 9110 §12.5.3)
        {"gzip", "gzip"},
        {"GZip", "gzip"},
        {"x-gzip", "gzip"},
        {"gzip, deflate", "gzip"},
        {"deflate", "identity"},
        {"gzip, deflate, br", "br"},
        {"gzip, deflate, br, zstd", "br"},
        {"zstd, gzip", "zstd"},
        {"br;q=0.5, gzip", "gzip"},
        {"br;q=0.5, zstd;q=0.6, gzip;q=0.4", "zstd"},
        {"br;q=1.0, gzip;q=1.0", "br"},
        {"*", "br"},
        {"*;q=0.5, gzip", "gzip"},
        {"*;q=0, gzip", "gzip"},
        {"gzip;q=0", "identity"},
        {"*;q=0", "identity"},
        {"identity", "identity"},
        {"br;q=0.5, identity;q=1", "identity"}, // the client would rather have it uncoded
        {"br;q=0.5, identity;q=0.5", "br"},     // equal: the coding
        {"gzip;q=0.001", "gzip"},               // unnamed identity is only the last resort
        {"br;q=0, *", "zstd"},
        {"gzip;q=1.5", "identity"}, // an invalid weight: the element is ignored
        {" , gzip ,", "gzip"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(chosen(c.field), c.want) << "Accept-Encoding: " << c.field.value_or("(absent)");
}

TEST(choose_coding, OnlyAmongTheOfferedInTheirOrder) {
    EXPECT_EQ(chosen("br, gzip", {content_coding::gzip}), "gzip");
    EXPECT_EQ(chosen("br, gzip", {content_coding::gzip, content_coding::br}), "gzip");
    EXPECT_EQ(chosen("br", {content_coding::gzip}), "identity");
    EXPECT_EQ(chosen("*", {content_coding::zstd, content_coding::gzip}), "zstd");
    EXPECT_EQ(chosen("gzip", {}), "identity");
}

TEST(compressible_type, MatchesExactWildcardAndSuffixPatterns) {
    const std::vector<std::string> patterns = wharf::compression_options{}.types;
    const std::pair<std::string_view, bool> cases[] = {
        {"text/html", true},
        {"text/html; charset=utf-8", true},
        {"TEXT/PLAIN", true},
        {"text/event-stream", true},
        {"application/json", true},
        {"application/JSON ; charset=utf-8", true},
        {"application/problem+json", true},
        {"application/ld+json", true},
        {"image/svg+xml", true},
        {"application/xml", true},
        {"application/javascript", true},
        {"application/wasm", true},
        {"image/png", false},
        {"image/jpeg", false},
        {"application/octet-stream", false},
        {"application/zip", false},
        {"video/mp4", false},
        {"+json", false},
        {"json", false},
        {"text/", false},
        {"/html", false},
        {"", false},
        {"application/jsonx", false},
        {"application/x+jsonx", false},
    };
    for (const auto& [type, want] : cases)
        EXPECT_EQ(compressible_type(type, patterns), want) << "Content-Type: " << type;
    EXPECT_FALSE(compressible_type("text/html", {}));
    const std::vector<std::string> only_csv{"text/csv"};
    EXPECT_TRUE(compressible_type("text/csv", only_csv));
    EXPECT_FALSE(compressible_type("text/html", only_csv));
}

TEST(etag_with_coding, AppendsTheCodingInsideTheQuotes) {
    EXPECT_EQ(etag_with_coding("\"abc\"", coding::br), "\"abc-br\"");
    EXPECT_EQ(etag_with_coding("W/\"abc\"", coding::gzip), "W/\"abc-gzip\"");
    EXPECT_EQ(etag_with_coding("\"\"", coding::zstd), "\"-zstd\"");
    EXPECT_EQ(etag_with_coding("abc", coding::br), "abc"); // not an entity-tag: left alone
    EXPECT_EQ(etag_with_coding("\"", coding::br), "\"");
    EXPECT_EQ(etag_with_coding("", coding::br), "");
    EXPECT_EQ(etag_with_coding("W/", coding::br), "W/");
}

} // namespace
