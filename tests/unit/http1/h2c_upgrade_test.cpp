// SPDX-License-Identifier: MIT
// Which HTTP/1.1 requests ask for h2c (RFC 7540 §3.2) and what the upgrade carries over.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http1/h2c_upgrade.hpp"

namespace {

using wharf::header_field;
using wharf::http1::h2c_upgrade_request;
using wharf::http1::request_head;

struct row {
    const char* name;
    int minor;
    std::vector<header_field> fields;
    bool upgrades;
};

// "AAMAAABkAARAAAAAAAIAAAAA": curl's settings (MAX_CONCURRENT_STREAMS 100, INITIAL_WINDOW_SIZE
// 1 GiB, ENABLE_PUSH 0), 18 bytes.
constexpr const char* settings = "AAMAAABkAARAAAAAAAIAAAAA";

const std::vector<row>& rows() {
    static const std::vector<row> r = {
        {"curl_style",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", settings}},
         true},
        {"case_and_spaces",
         1,
         {{"connection", "upgrade ,  http2-settings"},
          {"upgrade", "websocket, H2C"},
          {"http2-settings", settings}},
         true},
        {"empty_settings",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"}, {"Upgrade", "h2c"}, {"HTTP2-Settings", ""}},
         false},
        {"http10",
         0,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", settings}},
         false},
        {"no_upgrade_token",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2"},
          {"HTTP2-Settings", settings}},
         false},
        {"connection_lacks_settings",
         1,
         {{"Connection", "Upgrade"}, {"Upgrade", "h2c"}, {"HTTP2-Settings", settings}},
         false},
        {"no_settings_field",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"}, {"Upgrade", "h2c"}},
         false},
        {"two_settings_fields",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", settings},
          {"HTTP2-Settings", settings}},
         false},
        {"settings_not_base64url",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", "AAMA+ABk"}},
         false},
        {"settings_padded",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", "AAMAAABk===="}},
         false},
        {"settings_not_whole_entries",
         1,
         {{"Connection", "Upgrade, HTTP2-Settings"},
          {"Upgrade", "h2c"},
          {"HTTP2-Settings", "AAMAAA"}},
         false},
    };
    return r;
}

class H2cUpgradeRows : public testing::TestWithParam<std::size_t> {};

TEST_P(H2cUpgradeRows, DecidesAsTheRfcSays) {
    const row& r = rows()[GetParam()];
    request_head head{"GET", "/x?y=1", 1, r.minor, r.fields.size()};
    const auto up = h2c_upgrade_request(head, r.fields, "example.test");
    EXPECT_EQ(up != nullptr, r.upgrades) << r.name;
}

INSTANTIATE_TEST_SUITE_P(Table, H2cUpgradeRows, testing::Range<std::size_t>(0, rows().size()),
                         [](const testing::TestParamInfo<std::size_t>& i) {
                             return std::string(rows()[i.param].name);
                         });

TEST(H2cUpgrade, CarriesTheRequestWithoutItsHopByHopFields) {
    const std::vector<header_field> fields = {
        {"Host", "example.test"}, {"Connection", "Upgrade, HTTP2-Settings"},
        {"Upgrade", "h2c"},       {"HTTP2-Settings", settings},
        {"Accept", "*/*"},        {"X-Mixed-Case", "Value"}};
    const request_head head{"HEAD", "/path?q", 1, 1, fields.size()};
    const auto up = h2c_upgrade_request(head, fields, "example.test");
    ASSERT_NE(up, nullptr);
    EXPECT_EQ(up->method, "HEAD");
    EXPECT_EQ(up->target, "/path?q");
    EXPECT_EQ(up->authority, "example.test");
    EXPECT_EQ(up->settings.size(), 18u); // three SETTINGS entries
    EXPECT_EQ(up->settings.substr(0, 6), std::string("\x00\x03\x00\x00\x00\x64", 6));
    const std::vector<std::pair<std::string, std::string>> expected = {{"accept", "*/*"},
                                                                       {"x-mixed-case", "Value"}};
    EXPECT_EQ(up->fields, expected);
}

} // namespace
