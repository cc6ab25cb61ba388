// SPDX-License-Identifier: MIT
// Filters through the library API, in-process on 127.0.0.1:0: before() answering instead of
// the handler, on_head() changing fields ahead of conditional requests, and body_transforms
// over memory, files, sources and streamed sends (a flush per send(more)), in filter order,
// dropped for HEAD and 304.
#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using namespace std::chrono_literals;
using wharf_test::client;
using wharf_test::fetch;
using wharf_test::local_config;
using wharf_test::request;
using wharf_test::start;

constexpr auto io_timeout = 20s;

/// What the transforms of one test saw: each call's input size and boundary, in order.
struct transform_log {
    std::mutex mutex;
    std::vector<std::string> calls;
    void add(std::string c) {
        std::lock_guard lock(mutex);
        calls.push_back(std::move(c));
    }
    std::vector<std::string> get() {
        std::lock_guard lock(mutex);
        return calls;
    }
};

/// Upper-cases the body and appends `tag` at its end; the finish boundary is counted.
class tagging_transform final : public wharf::body_transform {
  public:
    tagging_transform(std::string tag, std::shared_ptr<transform_log> log)
        : tag_(std::move(tag)), log_(std::move(log)) {}
    std::error_code transform(std::string_view in, boundary end, std::string& out) override {
        for (const char c : in)
            out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
        if (end == boundary::flush) log_->add(tag_ + ":flush");
        if (end == boundary::finish) {
            log_->add(tag_ + ":finish");
            out += tag_;
        }
        return {};
    }
    void abandon(wharf::response& res) override {
        log_->add(tag_ + ":abandon");
        res.remove_header("X-Transformed");
    }

  private:
    std::string tag_;
    std::shared_ptr<transform_log> log_;
};

/// Refuses requests without X-Key (403, the handler does not run), marks responses, changes the
/// ETag and transforms bodies.
class test_filter final : public wharf::filter {
  public:
    test_filter(std::string tag, std::shared_ptr<transform_log> log)
        : tag_(std::move(tag)), log_(std::move(log)) {}
    verdict before(wharf::session& s) override {
        log_->add(tag_ + ":before");
        if (!s.request().header("X-Key")) {
            s.response().set_std(403);
            return verdict::answered;
        }
        return verdict::next;
    }
    std::unique_ptr<wharf::body_transform> on_head(wharf::session& s,
                                                   const wharf::head_context& head) override {
        log_->add(tag_ + ":head");
        wharf::response& res = s.response();
        // A filter that changes the representation changes its validator: the one conditional
        // requests are answered with.
        if (const std::string_view etag = res.etag(); !etag.empty())
            res.process_ranges(std::string(etag.substr(0, etag.size() - 1)) + "-" + tag_ + '"',
                               res.last_modified());
        res.add_header("X-Transformed", tag_);
        res.add_header("X-Whole", head.whole ? "yes" : "no");
        return std::make_unique<tagging_transform>(tag_, log_);
    }

  private:
    std::string tag_;
    std::shared_ptr<transform_log> log_;
};

/// A sized source of `n` bytes of 'a'.
class letters_source final : public wharf::body_source {
  public:
    explicit letters_source(std::size_t n) : left_(n), size_(n) {}
    wharf::source_read read(char* buf, std::size_t len) override {
        if (left_ == 0) return wharf::source_read::finished();
        const std::size_t n = std::min(len, left_);
        std::fill_n(buf, n, 'a');
        left_ -= n;
        return wharf::source_read::got(n);
    }
    std::optional<std::uint64_t> size() const override { return size_; }

  private:
    std::size_t left_, size_;
};

struct filter_fixture : ::testing::Test {
    std::shared_ptr<transform_log> log = std::make_shared<transform_log>();
    wharf::server srv{local_config()};
    std::string file_path;

    void SetUp() override {
        char name[] = "/tmp/wharf-filter-test-XXXXXX";
        const int fd = ::mkstemp(name);
        ASSERT_GE(fd, 0);
        file_path = name;
        const std::string content = "file bytes\n";
        ASSERT_EQ(::write(fd, content.data(), content.size()),
                  static_cast<ssize_t>(content.size()));
        ::close(fd);

        srv.routes().use(std::make_shared<test_filter>("outer", log));
        auto inner = std::make_shared<test_filter>("inner", log);
        srv.routes().get("/memory", wharf::with_filters({inner}, [this](wharf::session& s) {
                             log->add("handler");
                             s.response().process_ranges("\"v1\"");
                             s.response().body("hello world", "text/plain");
                         }));
        srv.routes().get("/file", [this](wharf::session& s) {
            s.response().content_type("text/plain");
            s.response().append("head ");
            if (s.response().append_file(file_path)) s.response().server_error();
            s.response().append_source(std::make_shared<letters_source>(5));
        });
        srv.routes().get("/stream", [](wharf::session& s) {
            s.response().content_type("text/event-stream");
            s.response().append("one ");
            s.send(wharf::send_flags::more, [&s](wharf::send_result r) {
                if (r.error) return;
                s.response().append("two ");
                s.send(wharf::send_flags::more, [&s](wharf::send_result r2) {
                    if (r2.error) return;
                    s.response().append("three");
                    s.send();
                });
            });
        });
    }
    void TearDown() override { ::unlink(file_path.c_str()); }
};

TEST_F(filter_fixture, BeforeAnswersInsteadOfTheHandler) {
    start(srv);
    const auto r = fetch(srv.local_addresses()[0], request("GET", "/memory"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    // The router's filter answered: neither the route's filter nor the handler ran.
    const auto calls = log->get();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "handler"), 0);
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "inner:before"), 0);
    EXPECT_EQ(calls.front(), "outer:before");
}

TEST_F(filter_fixture, TransformsRunInReverseFilterOrder) {
    start(srv);
    const auto r = fetch(srv.local_addresses()[0], request("GET", "/memory", "X-Key: 1\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // inner transforms first, outer last: outer upper-cases inner's tag, not its own.
    EXPECT_EQ(r->body, "HELLO WORLDINNERouter");
    EXPECT_EQ(r->header("ETag").value_or(""), "\"v1-inner-outer\"");
    EXPECT_EQ(r->header_all("X-Transformed"), (std::vector<std::string>{"inner", "outer"}));
    EXPECT_EQ(r->header_all("X-Whole"), (std::vector<std::string>{"yes", "yes"}));
    const auto calls = log->get();
    const std::vector<std::string> want{"outer:before", "inner:before", "handler",     "inner:head",
                                        "outer:head",   "inner:finish", "outer:finish"};
    EXPECT_EQ(calls, want);
}

TEST_F(filter_fixture, ConditionalRequestsMeetTheChangedEtag) {
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    // The identity ETag no longer matches; the filtered one does, and 304 drops the transforms.
    auto r = fetch(a, request("GET", "/memory", "X-Key: 1\r\nIf-None-Match: \"v1\"\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    log->calls.clear();
    r = fetch(a, request("GET", "/memory", "X-Key: 1\r\nIf-None-Match: \"v1-inner-outer\"\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 304);
    EXPECT_TRUE(r->body.empty());
    EXPECT_FALSE(r->header("X-Transformed"));
    const auto calls = log->get();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "inner:abandon"), 1);
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "outer:abandon"), 1);
}

TEST_F(filter_fixture, HeadDropsTheTransforms) {
    start(srv);
    const auto r = fetch(srv.local_addresses()[0], request("HEAD", "/memory", "X-Key: 1\r\n"),
                         /*head_request=*/true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->header("X-Transformed"));
    const auto calls = log->get();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "outer:abandon"), 1);
}

TEST_F(filter_fixture, FilesAndSourcesGoThroughTheTransform) {
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/file", "X-Key: 1\r\n")));
    const auto r = c.read_framed_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "HEAD FILE BYTES\nAAAAAouter");
    // The output's length is not the declared one: the body is not sent with the old length.
    EXPECT_NE(r->header("Content-Length").value_or(""), "21");
}

TEST_F(filter_fixture, EachSendMoreIsAFlush) {
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/stream", "X-Key: 1\r\n")));
    std::vector<std::size_t> chunks;
    const auto r = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->body, "ONE TWO THREEouter");
    EXPECT_EQ(r->header("X-Whole").value_or(""), "no"); // the first send had more to follow
    const auto calls = log->get();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "outer:flush"), 2);
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "outer:finish"), 1);
    // Each send's output left in its own chunk.
    ASSERT_GE(chunks.size(), 3u);
    EXPECT_EQ(chunks[0], 4u);
    EXPECT_EQ(chunks[1], 4u);
}

} // namespace
