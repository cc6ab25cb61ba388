// SPDX-License-Identifier: MIT
// parse_json and parse_xml on text: values, the malformed cases with their offsets, nesting
// bounds, and XML entities that are never expanded.
#include <gtest/gtest.h>

#include <string>

#include "wharf/json.hpp"
#include "wharf/xml.hpp"

namespace {

TEST(parse_json, ValuesAndMalformedTextWithOffsets) {
    const auto ok = wharf::parse_json(R"({"a":[1,2,{"b":null}]})");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok.value["a"][1], 2);
    EXPECT_TRUE(ok.error.json_answer);

    const struct {
        std::string text;
        std::size_t offset;
    } bad[] = {{"{\"a\":", 5}, {"[1,]", 3}, {"", 0}, {"{} x", 3}, {"\"\\x\"", 2}};
    for (const auto& b : bad) {
        const auto r = wharf::parse_json(b.text);
        EXPECT_FALSE(r) << b.text;
        EXPECT_EQ(r.error.status, wharf::body_status::malformed) << b.text;
        EXPECT_EQ(r.error.offset, b.offset) << b.text;
        EXPECT_FALSE(r.error.message.empty());
        EXPECT_TRUE(r.value.is_null());
    }
}

TEST(parse_json, NestingIsBounded) {
    const std::string deep = std::string(300, '[') + std::string(300, ']');
    EXPECT_FALSE(wharf::parse_json(deep));
    EXPECT_TRUE(wharf::parse_json(deep, 300));
    EXPECT_TRUE(wharf::parse_json(std::string(10, '[') + std::string(10, ']'), 10));
    EXPECT_FALSE(wharf::parse_json(std::string(11, '[') + std::string(11, ']'), 10));
    // Values inside the deepest level allowed are fine; one more object is not.
    EXPECT_TRUE(wharf::parse_json(std::string(9, '[') + "{\"k\":1}" + std::string(9, ']'), 10));
    EXPECT_FALSE(wharf::parse_json(std::string(10, '[') + "{\"k\":1}" + std::string(10, ']'), 10));
    EXPECT_EQ(
        wharf::parse_json(std::string(10, '[') + "{}" + std::string(10, ']'), 10).error.offset,
        10u);
}

TEST(parse_xml, DocumentsAndWhatIsMalformed) {
    const auto ok = wharf::parse_xml("<r a=\"1\"><c>t</c></r>");
    ASSERT_TRUE(ok);
    EXPECT_STREQ(ok.document->document_element().name(), "r");
    for (const char* text :
         {"<a><b></a>", "<a/><b/>", "text", "", "<a/>trailing", "<a x='1' x='2'/>"}) {
        const auto r = wharf::parse_xml(text);
        EXPECT_FALSE(r) << text;
        EXPECT_EQ(r.error.status, wharf::body_status::malformed) << text;
        EXPECT_FALSE(r.document) << text;
    }
}

TEST(parse_xml, DeclaredEntitiesAreNotExpandedAndNestingIsBounded) {
    const auto r =
        wharf::parse_xml("<!DOCTYPE a [<!ENTITY x \"boom\"><!ENTITY y \"&x;&x;&x;\">]><a>&y;</a>");
    // Either refused, or parsed with the reference left unexpanded.
    if (r) {
        EXPECT_EQ(std::string(r.document->document_element().text().get()).find("boom"),
                  std::string::npos);
    }
    std::string deep;
    for (int i = 0; i < 300; ++i)
        deep += "<e>";
    for (int i = 0; i < 300; ++i)
        deep += "</e>";
    EXPECT_FALSE(wharf::parse_xml(deep));
    EXPECT_TRUE(wharf::parse_xml(deep, 301));
}

} // namespace
