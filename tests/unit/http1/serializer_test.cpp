// SPDX-License-Identifier: MIT
// Tests of the response-head serializer: exact output for a table of responses and options,
// and head_size_bound() as a true upper bound (the head is written so that it ends right
// before a PROT_NONE page when it fills the bound, so an overrun crashes).

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http1/serializer.hpp"
#include "wharf/response.hpp"

namespace {

using wharf::response;
using wharf::http1::head_options;
using wharf::http1::head_size_bound;
using wharf::http1::write_head;

constexpr std::string_view date = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
// An empty Date line that still points somewhere. A default-constructed (null) view makes
// write_head() call memcpy(out, nullptr, 0), which UBSan rejects: see DISABLED_NullDateLine.
constexpr std::string_view no_date{"", 0};

/// Writes the head into a buffer of exactly head_size_bound() bytes followed by an inaccessible
/// page, checks the bound, and returns the text.
std::string serialize(const response& res, const head_options& opt) {
    const std::size_t bound = head_size_bound(res, opt);
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t pages = (bound + page - 1) / page + 1;
    void* map = mmap(nullptr, (pages + 1) * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) std::abort();
    char* base = static_cast<char*>(map);
    if (mprotect(base + pages * page, page, PROT_NONE) != 0) std::abort();
    char* out = base + pages * page - bound;
    char* end = write_head(out, res, opt);
    EXPECT_LE(end - out, static_cast<std::ptrdiff_t>(bound));
    std::string text(out, end);
    munmap(map, (pages + 1) * page);
    return text;
}

head_options opts() {
    head_options o;
    o.date_line = date;
    o.server_name = "wharf";
    return o;
}

struct row {
    const char* what;
    std::function<void(response&)> build;
    std::function<void(head_options&)> options;
    std::string expected;
};

std::vector<row> make_rows() {
    const auto nothing = [](response&) {};
    const auto defaults = [](head_options&) {};
    const std::string d(date);
    return {
        {"plain 200", nothing, defaults,
         "HTTP/1.1 200 OK\r\n" + d + "Server: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"404 with its reason", [](response& r) { r.status(404); }, defaults,
         "HTTP/1.1 404 Not Found\r\n" + d + "Server: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"custom reason", [](response& r) { r.status(299, "Fine Thanks"); }, defaults,
         "HTTP/1.1 299 Fine Thanks\r\n" + d + "Server: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"unknown status", [](response& r) { r.status(599); }, defaults,
         "HTTP/1.1 599 Unknown\r\n" + d + "Server: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"body length", nothing, [](head_options& o) { o.body_length = 12345; },
         "HTTP/1.1 200 OK\r\n" + d + "Server: wharf\r\nContent-Length: 12345\r\n\r\n"},
        {"largest body length", nothing, [](head_options& o) { o.body_length = UINT64_MAX; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Length: 18446744073709551615\r\n\r\n"},
        {"no Content-Length (204)", [](response& r) { r.status(204); },
         [](head_options& o) { o.content_length = false; },
         "HTTP/1.1 204 No Content\r\n" + d + "Server: wharf\r\n\r\n"},
        {"no Date line", nothing, [](head_options& o) { o.date_line = no_date; },
         "HTTP/1.1 200 OK\r\nServer: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"no Server", nothing, [](head_options& o) { o.server_name = {}; },
         "HTTP/1.1 200 OK\r\n" + d + "Content-Length: 0\r\n\r\n"},
        {"nothing of the server's", nothing,
         [](head_options& o) {
             o.date_line = no_date;
             o.server_name = {};
             o.content_length = false;
         },
         "HTTP/1.1 200 OK\r\n\r\n"},
        {"HTTP/1.1 keep-alive is implicit", nothing, [](head_options& o) { o.keep_alive = true; },
         "HTTP/1.1 200 OK\r\n" + d + "Server: wharf\r\nContent-Length: 0\r\n\r\n"},
        {"HTTP/1.1 close", nothing, [](head_options& o) { o.keep_alive = false; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
        {"HTTP/1.0 keep-alive is announced", nothing, [](head_options& o) { o.http10 = true; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"},
        {"HTTP/1.0 close", nothing,
         [](head_options& o) {
             o.http10 = true;
             o.keep_alive = false;
         },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
        {"user fields in order",
         [](response& r) {
             r.add_header("X-B", "2");
             r.add_header("X-A", "1");
             r.add_header("X-B", "3");
             r.content_type("text/plain");
         },
         [](head_options& o) { o.body_length = 2; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nX-B: 2\r\nX-A: 1\r\nX-B: 3\r\nContent-Type: text/plain\r\n"
             "Content-Length: 2\r\n\r\n"},
        {"server-owned fields are skipped",
         [](response& r) {
             r.add_header("Content-Length", "999");
             r.add_header("X-Keep", "yes");
             r.add_header("transfer-encoding", "chunked");
             r.add_header("CONNECTION", "upgrade");
         },
         [](head_options& o) { o.body_length = 3; },
         "HTTP/1.1 200 OK\r\n" + d + "Server: wharf\r\nX-Keep: yes\r\nContent-Length: 3\r\n\r\n"},
        {"an Upgrade field brings the upgrade option (RFC 9110 §7.8)",
         [](response& r) {
             r.status(426);
             r.set_header("Upgrade", "websocket");
         },
         defaults,
         "HTTP/1.1 426 Upgrade Required\r\n" + d +
             "Server: wharf\r\nUpgrade: websocket\r\nContent-Length: 0\r\n"
             "Connection: upgrade\r\n\r\n"},
        {"an Upgrade field on a closing answer",
         [](response& r) { r.set_header("upgrade", "h2c"); },
         [](head_options& o) { o.keep_alive = false; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nupgrade: h2c\r\nContent-Length: 0\r\n"
             "Connection: close, upgrade\r\n\r\n"},
        {"an Upgrade field on HTTP/1.0 keep-alive",
         [](response& r) { r.set_header("Upgrade", "websocket"); },
         [](head_options& o) { o.http10 = true; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nUpgrade: websocket\r\nContent-Length: 0\r\n"
             "Connection: keep-alive, upgrade\r\n\r\n"},
        {"Connection set by the user does not replace close",
         [](response& r) { r.set_header("Connection", "keep-alive"); },
         [](head_options& o) { o.keep_alive = false; },
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
        {"user Date replaces the cached one",
         [](response& r) {
             r.add_header("X-A", "1");
             r.add_header("Date", "Mon, 01 Jan 2024 00:00:00 GMT");
         },
         defaults,
         "HTTP/1.1 200 OK\r\nServer: wharf\r\nX-A: 1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
         "Content-Length: 0\r\n\r\n"},
        {"user server (any case) replaces ours",
         [](response& r) { r.add_header("SERVER", "mine/2"); }, defaults,
         "HTTP/1.1 200 OK\r\n" + d + "SERVER: mine/2\r\nContent-Length: 0\r\n\r\n"},
        {"user date (lowercase) and Server",
         [](response& r) {
             r.add_header("date", "x");
             r.add_header("Server", "y");
         },
         defaults, "HTTP/1.1 200 OK\r\ndate: x\r\nServer: y\r\nContent-Length: 0\r\n\r\n"},
        {"fields that only look owned are kept",
         [](response& r) {
             r.add_header("Content-Lengths", "1");
             r.add_header("X-Connection", "2");
             r.add_header("Dates", "3");
         },
         defaults,
         "HTTP/1.1 200 OK\r\n" + d +
             "Server: wharf\r\nContent-Lengths: 1\r\nX-Connection: 2\r\nDates: 3\r\n"
             "Content-Length: 0\r\n\r\n"},
        {"empty field value", [](response& r) { r.add_header("X-Empty", ""); }, defaults,
         "HTTP/1.1 200 OK\r\n" + d + "Server: wharf\r\nX-Empty: \r\nContent-Length: 0\r\n\r\n"},
        {"101 without Content-Length", [](response& r) { r.status(101); },
         [](head_options& o) {
             o.content_length = false;
             o.date_line = no_date;
         },
         "HTTP/1.1 101 Switching Protocols\r\nServer: wharf\r\n\r\n"},
    };
}

class Http1SerializerRows : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Http1SerializerRows, ExactHead) {
    static const std::vector<row> rows = make_rows();
    const row& t = rows[GetParam()];
    SCOPED_TRACE(t.what);
    response res;
    t.build(res);
    head_options o = opts();
    t.options(o);
    EXPECT_EQ(serialize(res, o), t.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, Http1SerializerRows,
                         ::testing::Range<std::size_t>(0, make_rows().size()));

TEST(Http1Serializer, BoundHoldsForManyShapes) {
    const std::vector<std::string_view> names = {
        "X", "Date", "Server", "Connection", "Content-Length", "Transfer-Encoding", "X-Long-Name"};
    const std::vector<std::string> values = {"", "v", std::string(300, 'v')};
    const std::vector<int> statuses = {100, 101, 200, 204, 304, 404, 500, 599, 999};
    const std::vector<std::string_view> reasons = {"", "R", "A Rather Long Custom Reason Phrase"};
    std::size_t checked = 0;
    for (const int status : statuses) {
        for (const std::string_view reason : reasons) {
            for (std::size_t nfields = 0; nfields < 10; ++nfields) {
                response res;
                if (reason.empty()) {
                    res.status(status);
                } else {
                    res.status(status, reason);
                }
                for (std::size_t i = 0; i < nfields; ++i)
                    res.add_header(names[(i * 3 + nfields) % names.size()],
                                   values[(i + nfields) % values.size()]);
                for (int mask = 0; mask < 32; ++mask) {
                    head_options o;
                    o.date_line = mask & 1 ? date : no_date;
                    if (mask & 2) o.server_name = "a-long-server-name/1.2.3";
                    o.keep_alive = (mask & 4) != 0;
                    o.http10 = (mask & 8) != 0;
                    o.content_length = (mask & 16) != 0;
                    o.body_length = mask & 1 ? UINT64_MAX : static_cast<std::uint64_t>(mask);
                    const std::string head = serialize(res, o); // checks the bound
                    ASSERT_GE(head.size(), 18u); // the shortest: HTTP/1.1 200 R CRLF CRLF
                    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, statuses.size() * reasons.size() * 10 * 32);
}

// Disabled until serializer.cpp's put() skips empty views: with a default head_options (whose
// date_line is a null view) it calls memcpy(out, nullptr, 0), undefined behaviour that the
// asan build (-fsanitize=undefined, no recovery) aborts on.
TEST(Http1Serializer, NullDateLine) {
    response res;
    head_options o; // date_line and server_name are null views
    EXPECT_EQ(serialize(res, o), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(Http1Serializer, HeadEndsAtTheReturnedPointer) {
    response res;
    res.add_header("X-A", "1");
    const head_options o = opts();
    std::string buf(head_size_bound(res, o) + 8, '#');
    char* end = write_head(buf.data(), res, o);
    const std::string_view head(buf.data(), static_cast<std::size_t>(end - buf.data()));
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
    EXPECT_EQ(buf.substr(head.size()), std::string(buf.size() - head.size(), '#'));
}

} // namespace
