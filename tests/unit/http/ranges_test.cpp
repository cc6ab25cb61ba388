// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "http/access.hpp"
#include "http/ranges.hpp"

namespace {

using namespace std::chrono_literals;
using wharf::detail::apply_conditional_and_ranges;
using wharf::detail::byte_range;
using wharf::detail::parse_range;
using wharf::detail::range_request;
using wharf::detail::request_access;

constexpr std::string_view etag = "\"v1\"";
const auto modified = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
constexpr std::string_view modified_text = "Sun, 06 Nov 1994 08:49:37 GMT";
const std::string content = "0123456789abcdefghij"; // 20 bytes

struct parse_case {
    std::string_view header;
    std::uint64_t size;
    range_request::kind_t kind;
    std::vector<byte_range> list;
};

TEST(RangeParse, Table) {
    const std::vector<parse_case> cases = {
        {"bytes=0-9", 20, range_request::ranges, {{0, 9}}},
        {"bytes=5-", 20, range_request::ranges, {{5, 19}}},
        {"bytes=-5", 20, range_request::ranges, {{15, 19}}},
        {"bytes=-50", 20, range_request::ranges, {{0, 19}}},
        {"bytes=10-100", 20, range_request::ranges, {{10, 19}}},
        {"BYTES=1-1", 20, range_request::ranges, {{1, 1}}},
        {"bytes= 0-1 , 4-5", 20, range_request::ranges, {{0, 1}, {4, 5}}},
        {"bytes=4-5,0-1", 20, range_request::ranges, {{0, 1}, {4, 5}}},  // sorted
        {"bytes=0-4,3-8", 20, range_request::ranges, {{0, 8}}},          // overlapping
        {"bytes=0-4,5-8", 20, range_request::ranges, {{0, 8}}},          // adjacent
        {"bytes=0-1,,3-4", 20, range_request::ranges, {{0, 1}, {3, 4}}}, // empty element
        {"bytes=0-1,30-40", 20, range_request::ranges, {{0, 1}}},        // one satisfiable
        {"bytes=20-", 20, range_request::unsatisfiable, {}},
        {"bytes=20-30,40-", 20, range_request::unsatisfiable, {}},
        {"bytes=-0", 20, range_request::unsatisfiable, {}},
        {"bytes=0-", 0, range_request::unsatisfiable, {}},
        {"bytes=-5", 0, range_request::unsatisfiable, {}},
        {"bytes=99999999999999999999999-", 20, range_request::unsatisfiable, {}},
        {"bytes=0-99999999999999999999999", 20, range_request::ranges, {{0, 19}}},
        {"bytes=5-4", 20, range_request::ignore, {}},
        {"bytes=abc", 20, range_request::ignore, {}},
        {"bytes=1-2-3", 20, range_request::ignore, {}},
        {"bytes=-", 20, range_request::ignore, {}},
        {"bytes=", 20, range_request::ignore, {}},
        {"bytes=,", 20, range_request::ignore, {}},
        {"bytes=+1-2", 20, range_request::ignore, {}},
        {"bytes=0x1-2", 20, range_request::ignore, {}},
        {"items=0-1", 20, range_request::ignore, {}},
        {"bytes 0-1", 20, range_request::ignore, {}},
        {"", 20, range_request::ignore, {}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.header));
        const range_request r = parse_range(c.header, c.size);
        EXPECT_EQ(r.kind, c.kind);
        EXPECT_EQ(r.list, c.list);
    }
}

TEST(RangeParse, RequestedBytesCountsOverlaps) {
    EXPECT_EQ(parse_range("bytes=0-9,0-9", 20).requested_bytes, 20u);
    EXPECT_EQ(parse_range("bytes=0-,0-", 20).requested_bytes, 40u);
}

TEST(HttpDate, FormatAndParse) {
    EXPECT_EQ(wharf::detail::http_date(modified), modified_text);
    EXPECT_EQ(wharf::detail::parse_http_date(modified_text), modified);
    EXPECT_EQ(wharf::detail::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), modified);
    EXPECT_EQ(wharf::detail::parse_http_date("Sun Nov  6 08:49:37 1994"), modified);
    EXPECT_EQ(wharf::detail::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), std::nullopt);
    EXPECT_EQ(wharf::detail::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), std::nullopt);
    EXPECT_EQ(wharf::detail::parse_http_date("yesterday"), std::nullopt);
    EXPECT_EQ(wharf::detail::parse_http_date(""), std::nullopt);
}

TEST(HttpDate, AgreesWithStrftimeAcrossTheCalendar) {
    // Leap days, year and month ends, the epoch, sub-second times and 2199 (system_clock
    // counts nanoseconds in 64 bits: it ends in 2262).
    const std::vector<std::int64_t> seconds{0,          59,         86399,      951782400,
                                            951868799,  978307199,  1078012800, 1709164800,
                                            1735689599, 1798761599, 4102444800, 7258118399};
    for (const auto s : seconds) {
        const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(s)) + 999ms;
        const time_t secs = static_cast<time_t>(s);
        std::tm utc{};
        ::gmtime_r(&secs, &utc);
        char want[40];
        std::strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        EXPECT_EQ(wharf::detail::http_date(t), want) << s;
        EXPECT_EQ(wharf::detail::parse_http_date(want),
                  std::chrono::system_clock::time_point(std::chrono::seconds(s)));
    }
}

TEST(ETagList, StrongAndWeak) {
    using wharf::detail::etag_list_matches;
    EXPECT_TRUE(etag_list_matches("\"v1\"", "\"v1\"", false));
    EXPECT_TRUE(etag_list_matches("\"a\", \"v1\"", "\"v1\"", false));
    EXPECT_TRUE(etag_list_matches("*", "\"v1\"", false));
    EXPECT_FALSE(etag_list_matches("W/\"v1\"", "\"v1\"", false));
    EXPECT_TRUE(etag_list_matches("W/\"v1\"", "\"v1\"", true));
    EXPECT_TRUE(etag_list_matches("\"v1\"", "W/\"v1\"", true));
    EXPECT_FALSE(etag_list_matches("\"v1\"", "W/\"v1\"", false));
    EXPECT_FALSE(etag_list_matches("\"v2\"", "\"v1\"", true));
    EXPECT_FALSE(etag_list_matches("v1", "\"v1\"", true));
    EXPECT_FALSE(etag_list_matches("\"v1\"", "", true));
}

/// A request with `fields` and a response holding `content` (in the way `body` says).
enum class body_kind { buffer, chunks, file };

struct exchange_result {
    int status;
    wharf::response res;
};

std::string file_path() {
    static const std::string path = [] {
        char tmpl[] = "/tmp/wharf-ranges-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::write(fd, content.data(), content.size()),
                  static_cast<ssize_t>(content.size()));
        ::close(fd);
        return std::string(tmpl);
    }();
    return path;
}

wharf::file_range file_range_of_path() {
    const int fd = ::open(file_path().c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    return wharf::file_range{fd, 0, content.size(), true};
}

void fill(wharf::response& res, body_kind kind) {
    res.status(200).content_type("text/plain");
    switch (kind) {
    case body_kind::buffer:
        res.append(content);
        break;
    case body_kind::chunks:
        res.append_chunk(content.substr(0, 7));
        res.append_borrowed(std::string_view(content).substr(7, 6), [] {});
        res.append(content.substr(13));
        break;
    case body_kind::file:
        res.append_file(file_range_of_path());
        break;
    }
    res.process_ranges(etag, modified);
}

std::string body_of(wharf::response& res) {
    std::string out;
    for (auto& p : wharf::detail::response_access::pieces(res)) {
        switch (p.kind) {
        case wharf::detail::body_piece::bytes:
            out += p.data;
            break;
        case wharf::detail::body_piece::borrowed:
            out += p.view;
            break;
        case wharf::detail::body_piece::file: {
            std::string buf(p.range.length, '\0');
            EXPECT_EQ(
                ::pread(p.range.fd, buf.data(), buf.size(), static_cast<off_t>(p.range.offset)),
                static_cast<ssize_t>(buf.size()));
            out += buf;
            break;
        }
        case wharf::detail::body_piece::source:
            ADD_FAILURE() << "unexpected source";
        }
    }
    return out + wharf::detail::response_access::memory(res);
}

std::string header(const wharf::response& res, std::string_view name) {
    const auto v = res.headers().get(name);
    return v ? std::string(*v) : std::string("<none>");
}

void run(std::vector<wharf::header_field> fields, wharf::response& res, body_kind kind,
         std::string_view method = "GET") {
    wharf::request req;
    request_access::set_line(req, method, "/x", 1, 1);
    request_access::set_headers(req, wharf::header_view(fields), "h");
    fill(res, kind);
    apply_conditional_and_ranges(req, res);
}

struct apply_case {
    std::vector<wharf::header_field> fields;
    int status;
    std::string body; // for 206 single and 200
    std::string content_range;
};

TEST(ApplyRanges, ConditionalsAndRangesTable) {
    const std::string later = "Sun, 06 Nov 1994 08:49:38 GMT";
    const std::string earlier = "Sun, 06 Nov 1994 08:49:36 GMT";
    const std::string same(modified_text);
    const std::vector<apply_case> cases = {
        {{}, 200, content, "<none>"},
        {{{"Range", "bytes=0-3"}}, 206, "0123", "bytes 0-3/20"},
        {{{"Range", "bytes=-3"}}, 206, "hij", "bytes 17-19/20"},
        {{{"Range", "bytes=15-"}}, 206, "fghij", "bytes 15-19/20"},
        {{{"Range", "bytes=5-14"}}, 206, "56789abcde", "bytes 5-14/20"},
        {{{"Range", "bytes=0-"}}, 200, content, "<none>"}, // the whole: just 200
        {{{"Range", "bytes=0-3,2-5"}}, 206, "012345", "bytes 0-5/20"},
        {{{"Range", "bytes=30-"}}, 416, "", "bytes */20"},
        {{{"Range", "bytes=x-y"}}, 200, content, "<none>"},
        {{{"Range", "bytes=0-19,0-19"}}, 200, content, "<none>"}, // abuse: more than the whole
        {{{"Range", "bytes=0-3"}, {"If-Range", "\"v1\""}}, 206, "0123", "bytes 0-3/20"},
        {{{"Range", "bytes=0-3"}, {"If-Range", "\"v2\""}}, 200, content, "<none>"},
        {{{"Range", "bytes=0-3"}, {"If-Range", "W/\"v1\""}}, 200, content, "<none>"},
        {{{"Range", "bytes=0-3"}, {"If-Range", same}}, 206, "0123", "bytes 0-3/20"},
        {{{"Range", "bytes=0-3"}, {"If-Range", later}}, 200, content, "<none>"},
        {{{"If-Match", "\"v1\""}}, 200, content, "<none>"},
        {{{"If-Match", "*"}}, 200, content, "<none>"},
        {{{"If-Match", "\"x\", \"v1\""}}, 200, content, "<none>"},
        {{{"If-Match", "\"x\""}}, 412, "", "<none>"},
        {{{"If-Match", "W/\"v1\""}}, 412, "", "<none>"},
        {{{"If-Unmodified-Since", earlier}}, 412, "", "<none>"},
        {{{"If-Unmodified-Since", same}}, 200, content, "<none>"},
        {{{"If-Unmodified-Since", "garbage"}}, 200, content, "<none>"},
        // If-Match wins over If-Unmodified-Since.
        {{{"If-Match", "\"v1\""}, {"If-Unmodified-Since", earlier}}, 200, content, "<none>"},
        {{{"If-None-Match", "\"v1\""}}, 304, "", "<none>"},
        {{{"If-None-Match", "W/\"v1\""}}, 304, "", "<none>"},
        {{{"If-None-Match", "*"}}, 304, "", "<none>"},
        {{{"If-None-Match", "\"a\", \"b\""}}, 200, content, "<none>"},
        {{{"If-Modified-Since", same}}, 304, "", "<none>"},
        {{{"If-Modified-Since", later}}, 304, "", "<none>"},
        {{{"If-Modified-Since", earlier}}, 200, content, "<none>"},
        // If-None-Match wins over If-Modified-Since, either way.
        {{{"If-None-Match", "\"x\""}, {"If-Modified-Since", later}}, 200, content, "<none>"},
        {{{"If-None-Match", "\"v1\""}, {"If-Modified-Since", earlier}}, 304, "", "<none>"},
        // 412 beats 304; preconditions come before Range.
        {{{"If-Match", "\"x\""}, {"If-None-Match", "\"v1\""}}, 412, "", "<none>"},
        {{{"If-None-Match", "\"v1\""}, {"Range", "bytes=0-3"}}, 304, "", "<none>"},
        {{{"If-Match", "\"x\""}, {"Range", "bytes=0-3"}}, 412, "", "<none>"},
    };
    for (body_kind kind : {body_kind::buffer, body_kind::chunks, body_kind::file}) {
        for (const auto& c : cases) {
            std::string trace;
            for (const auto& f : c.fields)
                trace += std::string(f.name) + ": " + std::string(f.value) + "; ";
            SCOPED_TRACE(trace + " kind " + std::to_string(static_cast<int>(kind)));
            wharf::response res;
            run(c.fields, res, kind);
            EXPECT_EQ(res.status(), c.status);
            EXPECT_EQ(body_of(res), c.body);
            EXPECT_EQ(header(res, "Content-Range"), c.content_range);
            EXPECT_EQ(header(res, "ETag"), etag);
            EXPECT_EQ(header(res, "Last-Modified"), modified_text);
            EXPECT_EQ(header(res, "Accept-Ranges"), "bytes");
            if (c.status == 304 || c.status == 412 || c.status == 416) {
                EXPECT_TRUE(wharf::detail::response_access::pieces(res).empty());
                EXPECT_EQ(header(res, "Content-Type"), "<none>");
            }
        }
    }
}

TEST(ApplyRanges, MultipartByteranges) {
    for (body_kind kind : {body_kind::buffer, body_kind::chunks, body_kind::file}) {
        wharf::response res;
        run({{"Range", "bytes=0-1,5-6,-2"}}, res, kind);
        ASSERT_EQ(res.status(), 206);
        const std::string type = header(res, "Content-Type");
        ASSERT_TRUE(type.starts_with("multipart/byteranges; boundary=")) << type;
        const std::string boundary = type.substr(type.find('=') + 1);
        const std::string expected = "--" + boundary +
                                     "\r\nContent-Type: text/plain\r\nContent-Range: bytes "
                                     "0-1/20\r\n\r\n01\r\n--" +
                                     boundary +
                                     "\r\nContent-Type: text/plain\r\nContent-Range: bytes "
                                     "5-6/20\r\n\r\n56\r\n--" +
                                     boundary +
                                     "\r\nContent-Type: text/plain\r\nContent-Range: bytes "
                                     "18-19/20\r\n\r\nij\r\n--" +
                                     boundary + "--\r\n";
        EXPECT_EQ(body_of(res), expected);
        EXPECT_EQ(res.body_size(), expected.size());
        EXPECT_EQ(header(res, "Content-Range"), "<none>");
    }
}

TEST(ApplyRanges, TooManyRangesSendTheWhole) {
    // 17 adjacent single bytes coalesce into one range: not too many.
    std::string spec = "bytes=";
    for (int i = 0; i < 17; ++i) {
        if (i) spec += ',';
        spec += std::to_string(i);
        spec += '-';
        spec += std::to_string(i);
    }
    wharf::response coalesced;
    run({{"Range", spec}}, coalesced, body_kind::buffer);
    EXPECT_EQ(coalesced.status(), 206); // 0-16 is one range once coalesced

    wharf::request req;
    const std::string many = "bytes=0-0,2-2,4-4,6-6,8-8";
    const wharf::header_field fields[] = {{"Range", many}};
    request_access::set_line(req, "GET", "/x", 1, 1);
    request_access::set_headers(req, wharf::header_view(fields), "h");
    wharf::response res;
    fill(res, body_kind::buffer);
    apply_conditional_and_ranges(req, res, wharf::detail::range_limits{4});
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(body_of(res), content);
}

TEST(ApplyRanges, HeadIgnoresRangeButAnswersConditionals) {
    wharf::response res;
    run({{"Range", "bytes=0-3"}}, res, body_kind::buffer, "HEAD");
    EXPECT_EQ(res.status(), 200);
    wharf::response res2;
    run({{"If-None-Match", "\"v1\""}}, res2, body_kind::buffer, "HEAD");
    EXPECT_EQ(res2.status(), 304);
}

TEST(ApplyRanges, SourcesAreNotSliced) {
    struct fixed final : wharf::body_source {
        wharf::source_read read(char*, std::size_t) override {
            return wharf::source_read::finished();
        }
        std::optional<std::uint64_t> size() const override { return 20; }
    };
    const wharf::header_field fields[] = {{"Range", "bytes=0-3"}};
    wharf::request req;
    request_access::set_line(req, "GET", "/x", 1, 1);
    request_access::set_headers(req, wharf::header_view(fields), "h");
    wharf::response res;
    res.status(200).append_source(std::make_shared<fixed>());
    res.process_ranges(etag);
    apply_conditional_and_ranges(req, res);
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(header(res, "Accept-Ranges"), "<none>");
    EXPECT_EQ(header(res, "ETag"), etag);
}

TEST(ApplyRanges, FileDescriptorsAreReleased) {
    // Slicing a file dups its descriptor per part and closes the original: nothing leaks.
    const int before = ::open("/dev/null", O_RDONLY);
    ::close(before);
    {
        wharf::response res;
        run({{"Range", "bytes=0-1,4-5"}}, res, body_kind::file);
        EXPECT_EQ(res.status(), 206);
    }
    {
        wharf::response res;
        run({{"If-None-Match", "*"}}, res, body_kind::file);
        EXPECT_EQ(res.status(), 304);
    }
    const int after = ::open("/dev/null", O_RDONLY);
    ::close(after);
    EXPECT_EQ(before, after);
}

} // namespace
