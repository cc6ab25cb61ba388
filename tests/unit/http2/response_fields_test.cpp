// SPDX-License-Identifier: MIT
// A response head as HTTP/2 fields (RFC 9113 §8.3.2, §8.2.2).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http2/response_fields.hpp"

namespace {

using fields = std::vector<std::pair<std::string, std::string>>;

fields as_pairs(wharf::http2::response_fields& f) {
    fields out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const nghttp2_nv& nv = f.data()[i];
        out.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                         std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
    }
    return out;
}

constexpr std::string_view date = "Date: Wed, 02 Dec 2026 14:00:00 GMT\r\n";

TEST(ResponseFields, StatusFirstLowerCaseNamesNoConnectionFields) {
    wharf::response res;
    res.status(201);
    res.set_header("Content-Type", "text/plain");
    res.set_header("Connection", "close");
    res.set_header("Keep-Alive", "timeout=5");
    res.set_header("Transfer-Encoding", "chunked");
    res.set_header("Upgrade", "h2c");
    res.set_header("Proxy-Connection", "keep-alive");
    res.set_header("Content-Length", "999");
    res.set_header("X-Thing", "A Value");
    wharf::detail::response_head head;
    head.length = 5;
    wharf::http2::response_fields f;
    f.build(res, head, date, "wharf");
    const fields expected = {{":status", "201"},     {"date", "Wed, 02 Dec 2026 14:00:00 GMT"},
                             {"server", "wharf"},    {"content-type", "text/plain"},
                             {"x-thing", "A Value"}, {"content-length", "5"}};
    EXPECT_EQ(as_pairs(f), expected);
}

TEST(ResponseFields, TheHandlersDateAndServerWinAndNoLengthWithoutABody) {
    wharf::response res;
    res.status(304);
    res.set_header("Date", "yesterday");
    res.set_header("Server", "mine");
    wharf::detail::response_head head;
    head.status_forbids_body = true;
    head.length = 10;
    wharf::http2::response_fields f;
    f.build(res, head, date, "wharf");
    const fields expected = {{":status", "304"}, {"date", "yesterday"}, {"server", "mine"}};
    EXPECT_EQ(as_pairs(f), expected);
}

TEST(ResponseFields, OpenEndedBodyHasNoLengthAndNoServerWhenUnnamed) {
    wharf::response res;
    wharf::detail::response_head head; // no length: the stream's end says it
    wharf::http2::response_fields f;
    f.build(res, head, date, "");
    const fields expected = {{":status", "200"}, {"date", "Wed, 02 Dec 2026 14:00:00 GMT"}};
    EXPECT_EQ(as_pairs(f), expected);
}

TEST(ResponseFields, TrailersLowerCasedWithoutFramingFields) {
    wharf::field_list t;
    t.set("Grpc-Status", "0");
    t.set("Content-Length", "1");
    t.set("X-Sum", "abc");
    wharf::http2::response_fields f;
    f.build_trailers(t);
    const fields expected = {{"grpc-status", "0"}, {"x-sum", "abc"}};
    EXPECT_EQ(as_pairs(f), expected);
}

} // namespace
