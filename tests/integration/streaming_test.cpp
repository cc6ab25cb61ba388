// SPDX-License-Identifier: MIT
// Streamed responses and request bodies through the library API, in-process on 127.0.0.1:0:
// body sources (release exactly once, would_block + notify_readable from another thread,
// immediate mode), file ranges, borrowed memory, many chunks, send flags, busy refusal,
// coroutine sends and read_body with back-pressure.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>
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
using wharf_test::wait_until;

constexpr std::size_t kib = 1024;
constexpr std::size_t mib = 1024 * kib;
// Generous: a failure still fails, and a loaded machine running sanitizer builds is not one.
constexpr std::chrono::milliseconds io_timeout = 20s;

/// `n` bytes of the demo pattern ('a' + i % 26) starting at body offset `at`.
std::string pattern(std::size_t n, std::uint64_t at = 0) {
    std::string s;
    s.reserve(n + 26);
    for (std::uint64_t i = 0; i < 26; ++i)
        s.push_back(static_cast<char>('a' + (at + i) % 26));
    // Doubling keeps the period (every prefix length is a multiple of 26): a few memcpys even
    // for 64 MiB, also in unoptimized sanitizer builds.
    while (s.size() < n)
        s.append(s, 0, std::min(s.size(), n - s.size()));
    s.resize(n);
    return s;
}

/// Deterministic bytes that are not the pattern (every value 0..255 occurs).
std::string noise(std::size_t n, std::uint32_t seed = 12345) {
    std::string s(n, '\0');
    std::uint32_t x = seed;
    for (char& ch : s) {
        x = x * 1664525u + 1013904223u;
        ch = static_cast<char>(x >> 24);
    }
    return s;
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t h = 14695981039346656037ull) {
    for (const unsigned char ch : data) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    return h;
}

bool is_disconnect(std::error_code ec) {
    return ec == wharf::errc::connection_reset || ec == wharf::errc::closed;
}

/// A value shared between the loop thread and the test thread.
template <class T>
class guarded {
  public:
    void set(T v) {
        std::lock_guard lock(mutex_);
        value_ = std::move(v);
    }
    T get() const {
        std::lock_guard lock(mutex_);
        return value_;
    }

  private:
    mutable std::mutex mutex_;
    T value_{};
};

/// What a send callback saw: how often it ran and its last result.
struct send_probe {
    std::atomic<int> calls{0};
    guarded<wharf::send_result> last;
    wharf::send_callback callback() {
        return [this](wharf::send_result r) {
            last.set(r);
            ++calls;
        };
    }
};

/// Every on_release a source got, in order.
struct release_log {
    std::atomic<int> calls{0};
    void record(std::error_code ec) {
        {
            std::lock_guard lock(mutex_);
            results_.push_back(ec);
        }
        ++calls;
    }
    std::vector<std::error_code> results() const {
        std::lock_guard lock(mutex_);
        return results_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::error_code> results_;
};

/// `total` pattern bytes, produced on demand; counts its release.
class counting_source final : public wharf::body_source {
  public:
    counting_source(std::uint64_t total, bool announce_size, std::shared_ptr<release_log> log)
        : total_(total), announce_size_(announce_size), log_(std::move(log)) {}

    wharf::source_read read(char* buf, std::size_t len) override {
        const std::uint64_t at = produced_.load();
        if (at == total_) return wharf::source_read::finished();
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(len, total_ - at));
        const std::string bytes = pattern(n, at);
        std::copy(bytes.begin(), bytes.end(), buf);
        produced_ = at + n;
        return wharf::source_read::got(n);
    }
    std::optional<std::uint64_t> size() const override {
        return announce_size_ ? std::optional<std::uint64_t>(total_) : std::nullopt;
    }
    void on_release(std::error_code result) override { log_->record(result); }
    std::uint64_t produced() const noexcept { return produced_.load(); }

  private:
    std::uint64_t total_;
    bool announce_size_;
    std::shared_ptr<release_log> log_;
    std::atomic<std::uint64_t> produced_{0};
};

// ---------------------------------------------------------------------------------------------
// (a) A source is released exactly once

TEST(StreamingSource, ReleasedOnceAfterSuccess) {
    auto log = std::make_shared<release_log>();
    wharf::server srv(local_config());
    srv.routes().get("/src", [log](wharf::session& s) {
        const std::uint64_t n = std::stoull(s.request().query_param("n").value_or("0"));
        const bool sized = s.request().query_param("sized").has_value();
        s.response().content_type("application/octet-stream");
        s.response().append_source(std::make_shared<counting_source>(n, sized, log));
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    struct {
        std::size_t n;
        bool sized;
        const char* method;
        bool http10;
    } cases[] = {
        {0, true, "GET", false},
        {0, false, "GET", false},
        {1, true, "GET", false},
        {3 * mib + 7, true, "GET", false},
        {3 * mib + 7, false, "GET", false},
        {1000, true, "HEAD", false},
        {1000, false, "HEAD", false},
        {100000, false, "GET", true},
        {100000, true, "GET", true},
    };
    int expected_releases = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(c.method) + " n=" + std::to_string(c.n) +
                     (c.sized ? " sized" : " unsized") + (c.http10 ? " HTTP/1.0" : ""));
        const std::string target =
            "/src?n=" + std::to_string(c.n) + (c.sized ? "&sized" : std::string());
        const bool head = std::string_view(c.method) == "HEAD";
        client cl(a, io_timeout);
        if (c.http10) {
            ASSERT_TRUE(cl.send(std::string(c.method) + " " + target + " HTTP/1.0\r\n\r\n"));
        } else {
            ASSERT_TRUE(cl.send(request(c.method, target)));
        }
        const auto res = cl.read_framed_response(head);
        ASSERT_TRUE(res) << cl.error();
        EXPECT_EQ(res->status, 200);
        if (c.sized) {
            EXPECT_EQ(res->header("Content-Length"), std::to_string(c.n));
            EXPECT_FALSE(res->header("Transfer-Encoding"));
        } else if (c.http10) {
            EXPECT_FALSE(res->header("Content-Length"));
            EXPECT_FALSE(res->header("Transfer-Encoding"));
        } else {
            EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
            EXPECT_FALSE(res->header("Content-Length"));
        }
        if (head) {
            EXPECT_TRUE(cl.stays_silent(50ms)) << "HEAD answer carried a body";
        } else {
            EXPECT_EQ(res->body.size(), c.n);
            EXPECT_TRUE(res->body == pattern(c.n)) << "body differs from the pattern";
        }
        ++expected_releases;
        EXPECT_TRUE(wait_until([&] { return log->calls == expected_releases; }))
            << "releases: " << log->calls;
    }
    std::this_thread::sleep_for(50ms);
    const auto results = log->results();
    ASSERT_EQ(results.size(), std::size(cases)) << "a source was released twice";
    for (const auto& r : results)
        EXPECT_FALSE(r) << r.message();
}

struct close_probe {
    std::atomic<int> calls{0};
    guarded<std::error_code> why;
    std::function<void(std::error_code)> callback() {
        return [this](std::error_code ec) {
            why.set(ec);
            ++calls;
        };
    }
};

/// Reads until at least `n` bytes arrived (head included), then closes with bytes unread (the
/// kernel answers the server with a reset).
void read_some_then_vanish(client& c, std::size_t n) {
    while (c.pending().size() < n) {
        ASSERT_TRUE(c.receive()) << "stream ended early: " << c.error();
    }
    c.close();
}

TEST(StreamingSource, ReleasedOnceWithErrorWhenClientVanishes) {
    auto log = std::make_shared<release_log>();
    auto flushed = std::make_shared<send_probe>();
    auto closed = std::make_shared<close_probe>();
    auto src_slot = std::make_shared<guarded<std::shared_ptr<counting_source>>>();
    wharf::server srv(local_config());
    // The response stays open (flush): the connection going away ends it early.
    srv.routes().get("/big", [=](wharf::session& s) {
        s.on_close(closed->callback());
        auto src = std::make_shared<counting_source>(std::uint64_t{1} << 30, false, log);
        src_slot->set(src);
        s.response().append_source(src);
        s.flush(flushed->callback());
    });
    srv.routes().get("/small", [](wharf::session& s) { s.response().append("small"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    client other(a, io_timeout);
    ASSERT_TRUE(other.send(request("GET", "/small")));
    auto res = other.read_response();
    ASSERT_TRUE(res) << other.error();
    EXPECT_EQ(res->body, "small");

    for (int round = 1; round <= 3; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/big")));
        read_some_then_vanish(c, mib);
        ASSERT_TRUE(wait_until([&] {
            return log->calls == round && flushed->calls == round && closed->calls == round;
        })) << "releases "
            << log->calls << ", send callbacks " << flushed->calls << ", on_close "
            << closed->calls;
        const std::error_code released = log->results().back();
        EXPECT_TRUE(is_disconnect(released)) << released.message();
        const wharf::send_result r = flushed->last.get();
        EXPECT_TRUE(is_disconnect(r.error)) << r.error.message();
        EXPECT_TRUE(is_disconnect(closed->why.get())) << closed->why.get().message();
        // Only as fast as the client read: nowhere near the whole GiB was produced.
        EXPECT_LT(src_slot->get()->produced(), 64 * mib);

        // The other connection is unharmed.
        ASSERT_TRUE(other.send(request("GET", "/small")));
        res = other.read_response();
        ASSERT_TRUE(res) << other.error();
        EXPECT_EQ(res->body, "small");
    }
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 1; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(log->calls, 3);
    EXPECT_EQ(flushed->calls, 3);
    EXPECT_EQ(closed->calls, 3);
}

TEST(StreamingSource, FinalSendToVanishedClient) {
    // The whole response was handed over (a final send, or the handler's return), but the
    // client leaves before it is written: the source and the send learn why, once each.
    auto log = std::make_shared<release_log>();
    auto sent = std::make_shared<send_probe>();
    auto closed = std::make_shared<close_probe>();
    wharf::server srv(local_config());
    srv.routes().get("/final", [=](wharf::session& s) {
        s.on_close(closed->callback());
        s.response().append_source(
            std::make_shared<counting_source>(std::uint64_t{1} << 30, true, log));
        s.send(wharf::send_flags::none, sent->callback());
    });
    srv.routes().get("/returned", [=](wharf::session& s) {
        s.response().append_source(
            std::make_shared<counting_source>(std::uint64_t{1} << 30, false, log));
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/final")));
        read_some_then_vanish(c, mib);
    }
    ASSERT_TRUE(wait_until([&] { return log->calls == 1 && sent->calls == 1; }));
    EXPECT_TRUE(is_disconnect(log->results()[0])) << log->results()[0].message();
    EXPECT_TRUE(is_disconnect(sent->last.get().error)) << sent->last.get().error.message();
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/returned")));
        read_some_then_vanish(c, mib);
    }
    ASSERT_TRUE(wait_until([&] { return log->calls == 2; }));
    EXPECT_TRUE(is_disconnect(log->results()[1])) << log->results()[1].message();
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(log->calls, 2);
    EXPECT_EQ(sent->calls, 1);
    // on_close is for responses that had not finished (response_finished(): the last send was
    // queued); after a final send it may or may not run, but never twice.
    EXPECT_LE(closed->calls, 1);
    RecordProperty("on_close_after_final_send", closed->calls.load());
}

// ---------------------------------------------------------------------------------------------
// (b) A second send while one is pending is refused with busy and changes nothing

TEST(StreamingSend, SecondSendWhilePendingIsBusy) {
    const std::string big = pattern(64 * mib);
    auto first = std::make_shared<send_probe>();
    auto last = std::make_shared<send_probe>();
    struct busy_result {
        bool called_synchronously = false;
        wharf::send_result result{};
        bool finished_after = true;
        bool started_after = false;
    };
    auto busy = std::make_shared<guarded<busy_result>>();
    auto busy_ran = std::make_shared<std::atomic<int>>(0);
    wharf::server srv(local_config());
    srv.routes().get("/busy", [&big, first, last, busy, busy_ran](wharf::session& s) {
        s.response().append_chunk(big);
        s.flush([&s, first, last](wharf::send_result r) {
            first->callback()(r);
            s.send(wharf::send_flags::none, last->callback()); // ends the body
        });
        // The first send cannot have been written yet (64 MiB to a client not reading).
        s.response().append("tail");
        auto got = std::make_shared<std::optional<wharf::send_result>>();
        s.send(wharf::send_flags::none, [got, busy_ran](wharf::send_result r) {
            *got = r;
            ++*busy_ran;
        });
        busy_result b;
        b.called_synchronously = got->has_value();
        if (*got) b.result = **got;
        b.finished_after = s.response_finished();
        b.started_after = s.response_started();
        busy->set(b);
    });
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/busy")));
    std::this_thread::sleep_for(300ms); // let the server block on the full socket
    EXPECT_EQ(first->calls, 0) << "64 MiB were written to a client that did not read";

    std::vector<std::size_t> chunks;
    const auto res = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
    ASSERT_EQ(res->body.size(), big.size() + 4);
    EXPECT_TRUE(std::string_view(res->body).substr(0, big.size()) == big) << "body corrupted";
    EXPECT_EQ(res->body.substr(big.size()), "tail");

    const busy_result b = busy->get();
    EXPECT_TRUE(b.called_synchronously);
    EXPECT_EQ(b.result.error, wharf::errc::busy) << b.result.error.message();
    EXPECT_EQ(b.result.bytes, 0u);
    EXPECT_FALSE(b.finished_after) << "a refused send ended the response";
    EXPECT_TRUE(b.started_after);
    ASSERT_TRUE(wait_until([&] { return last->calls == 1; }));
    EXPECT_EQ(first->calls, 1);
    EXPECT_FALSE(first->last.get().error) << first->last.get().error.message();
    EXPECT_EQ(first->last.get().bytes, big.size());
    EXPECT_FALSE(last->last.get().error);
    EXPECT_EQ(last->last.get().bytes, 4u);
    EXPECT_EQ(*busy_ran, 1);
}

// ---------------------------------------------------------------------------------------------
// (c) A source that would block, fed from another thread

/// Bytes pushed by a producer thread; would_block while it has none and has not ended.
class fed_source final : public wharf::body_source {
  public:
    fed_source(std::optional<std::uint64_t> size, std::shared_ptr<release_log> log)
        : size_(size), log_(std::move(log)) {}

    void push(std::string bytes) {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(bytes));
    }
    void end() {
        std::lock_guard lock(mutex_);
        ended_ = true;
    }
    wharf::source_read read(char* buf, std::size_t len) override {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) {
            if (ended_) return wharf::source_read::finished();
            ++blocked_reads;
            return wharf::source_read::blocked();
        }
        std::string& front = queue_.front();
        const std::size_t n = std::min(len, front.size() - offset_);
        std::copy_n(front.data() + offset_, n, buf);
        offset_ += n;
        if (offset_ == front.size()) {
            queue_.pop_front();
            offset_ = 0;
        }
        return wharf::source_read::got(n);
    }
    std::optional<std::uint64_t> size() const override { return size_; }
    void on_release(std::error_code result) override { log_->record(result); }

    std::atomic<int> blocked_reads{0};

  private:
    std::mutex mutex_;
    std::deque<std::string> queue_;
    std::size_t offset_ = 0;
    bool ended_ = false;
    std::optional<std::uint64_t> size_;
    std::shared_ptr<release_log> log_;
};

TEST(StreamingSource, WouldBlockThenNotifyFromAnotherThread) {
    auto log = std::make_shared<release_log>();
    auto slot = std::make_shared<guarded<std::shared_ptr<fed_source>>>();
    wharf::server srv(local_config());
    srv.routes().get("/fed", [slot](wharf::session& s) {
        s.response().content_type("text/plain");
        s.response().append_source(slot->get());
    });
    start(srv);
    const std::string middle = pattern(100000);
    const std::string whole = "alpha-" + middle + "-omega";

    int round = 0;
    for (const bool sized : {false, true}) {
        SCOPED_TRACE(sized ? "size known" : "size unknown");
        ++round;
        auto src = std::make_shared<fed_source>(
            sized ? std::optional<std::uint64_t>(whole.size()) : std::nullopt, log);
        slot->set(src);
        std::atomic<bool> saw_first{false};
        client c(srv.local_addresses()[0], io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/fed")));
        std::thread producer([src, &saw_first, &middle] {
            src->notify_readable(); // nothing waits yet: harmless
            std::this_thread::sleep_for(30ms);
            src->push("alpha-");
            src->notify_readable();
            // The next bytes only once the client has the first: nothing is held back.
            (void)wait_until([&] { return saw_first.load(); });
            src->notify_readable(); // spurious: no new bytes
            std::this_thread::sleep_for(10ms);
            src->push(middle);
            src->notify_readable();
            std::this_thread::sleep_for(20ms);
            src->push("-omega");
            src->end();
            src->notify_readable();
        });
        const bool first_arrived = wait_until([&] {
            if (c.pending().find("alpha-") != std::string::npos) return true;
            (void)c.receive(20ms);
            return c.pending().find("alpha-") != std::string::npos;
        });
        saw_first = true;
        std::vector<std::size_t> chunks;
        const auto res = c.read_framed_response(false, &chunks);
        producer.join();
        EXPECT_TRUE(first_arrived) << "the first bytes did not arrive before the rest was made";
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, 200);
        if (sized) {
            EXPECT_EQ(res->header("Content-Length"), std::to_string(whole.size()));
            EXPECT_FALSE(res->header("Transfer-Encoding"));
        } else {
            EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
            EXPECT_FALSE(res->header("Content-Length"));
            ASSERT_FALSE(chunks.empty());
            EXPECT_EQ(chunks.front(), 6u); // "alpha-" went out alone
        }
        EXPECT_TRUE(res->body == whole) << "body differs (" << res->body.size() << " bytes)";
        EXPECT_GE(src->blocked_reads, 1);
        ASSERT_TRUE(wait_until([&] { return log->calls == round; }));
        EXPECT_FALSE(log->results().back()) << log->results().back().message();

        // The connection carries on.
        ASSERT_TRUE(c.send(request("GET", "/nothing-here")));
        const auto next = c.read_response();
        ASSERT_TRUE(next) << c.error();
        EXPECT_EQ(next->status, 404);
    }
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(log->calls, 2);
}

// ---------------------------------------------------------------------------------------------
// (d) append_now: a source read into the body at once

/// Plays a script: data (served in pieces of at most the buffer's size), would_block, end
/// (repeated forever) or failure.
class scripted_source final : public wharf::body_source {
  public:
    struct step {
        enum kind_t { data, block, end, fail } kind;
        std::string bytes;
        std::error_code error;
    };
    explicit scripted_source(std::deque<step> steps) : steps_(std::move(steps)) {}

    wharf::source_read read(char* buf, std::size_t len) override {
        ++reads;
        if (steps_.empty()) return wharf::source_read::finished();
        step& s = steps_.front();
        switch (s.kind) {
        case step::data: {
            const std::size_t n = std::min(len, s.bytes.size() - offset_);
            std::copy_n(s.bytes.data() + offset_, n, buf);
            offset_ += n;
            if (offset_ == s.bytes.size()) {
                steps_.pop_front();
                offset_ = 0;
            }
            return wharf::source_read::got(n);
        }
        case step::block:
            steps_.pop_front();
            return wharf::source_read::blocked();
        case step::end:
            return wharf::source_read::finished();
        case step::fail: {
            const std::error_code ec = s.error;
            steps_.pop_front();
            return wharf::source_read::failure(ec);
        }
        }
        return wharf::source_read::finished();
    }
    int reads = 0;

  private:
    std::deque<step> steps_;
    std::size_t offset_ = 0;
};

TEST(StreamingResponse, AppendNowImmediateMode) {
    using step = scripted_source::step;
    const std::string part_a = pattern(40000);
    const std::string part_c = noise(20000);
    struct call {
        std::error_code ec;
        std::size_t body_size;
    };
    auto calls = std::make_shared<guarded<std::vector<call>>>();
    auto failed = std::make_shared<guarded<call>>();
    wharf::server srv(local_config());
    srv.routes().get("/now", [&part_a, &part_c, calls](wharf::session& s) {
        auto src = std::make_shared<scripted_source>(std::deque<step>{
            {step::data, part_a, {}},
            {step::block, {}, {}},
            {step::data, "xyz", {}},
            {step::block, {}, {}},
            {step::data, part_c, {}},
            {step::end, {}, {}},
        });
        auto record = [calls, &s](std::error_code ec) {
            auto v = calls->get();
            v.push_back({ec, s.response().body().size()});
            calls->set(v);
        };
        record(s.response().append_now(*src)); // data, then would_block
        // The source said it would block: continue later, on the loop.
        s.post([&s, record, src] {
            record(s.response().append_now(*src)); // "xyz", then would_block again
            s.post([&s, record, src] {
                record(s.response().append_now(*src)); // the rest, then end
                record(s.response().append_now(*src)); // still the end: nothing more
                s.send();
            });
        });
    });
    srv.routes().get("/now-fail", [failed](wharf::session& s) {
        scripted_source src(std::deque<step>{
            {step::data, "partial", {}},
            {step::fail, {}, std::make_error_code(std::errc::io_error)},
        });
        const std::error_code ec = s.response().append_now(src);
        failed->set({ec, s.response().body().size()});
        s.response().body("handled");
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    auto res = fetch(a, request("GET", "/now"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    const std::string whole = part_a + "xyz" + part_c;
    EXPECT_EQ(res->header("Content-Length"), std::to_string(whole.size()));
    EXPECT_TRUE(res->body == whole) << "body differs (" << res->body.size() << " bytes)";
    const auto v = calls->get();
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0].ec, wharf::errc::would_block) << v[0].ec.message();
    EXPECT_EQ(v[0].body_size, part_a.size());
    EXPECT_EQ(v[1].ec, wharf::errc::would_block) << v[1].ec.message();
    EXPECT_EQ(v[1].body_size, part_a.size() + 3);
    EXPECT_FALSE(v[2].ec) << v[2].ec.message();
    EXPECT_EQ(v[2].body_size, whole.size());
    EXPECT_FALSE(v[3].ec) << v[3].ec.message();
    EXPECT_EQ(v[3].body_size, whole.size());

    res = fetch(a, request("GET", "/now-fail"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "handled");
    const call f = failed->get();
    EXPECT_EQ(f.ec, std::errc::io_error) << f.ec.message();
    EXPECT_EQ(f.body_size, 7u);
}

// ---------------------------------------------------------------------------------------------
// (e) File ranges, borrowed memory, many chunks

/// A temporary file that removes itself.
struct temp_file {
    std::string path;
    std::string content;
    explicit temp_file(std::string data) : content(std::move(data)) {
        static std::atomic<int> counter{0};
        path = "/tmp/wharf-streaming-" + std::to_string(::getpid()) + "-" +
               std::to_string(counter++) + ".bin";
        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (!f) throw std::runtime_error("cannot create " + path);
        const bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
        std::fclose(f);
        if (!ok) throw std::runtime_error("cannot write " + path);
    }
    ~temp_file() { ::unlink(path.c_str()); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
};

bool fd_closed(int fd) {
    return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

TEST(StreamingResponse, FileRanges) {
    const temp_file file(noise(mib + 333, 777));
    const std::uint64_t size = file.content.size();
    struct file_result {
        int fd = -1, empty_fd = -1;
        std::error_code small, rest, past_end, too_long, missing;
    };
    auto result = std::make_shared<guarded<file_result>>();
    auto chunked_sent = std::make_shared<send_probe>();
    wharf::server srv(local_config());
    const auto build = [&file, size, result](wharf::response& res) {
        file_result r;
        r.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
        r.empty_fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
        res.append("<");
        res.append_file(wharf::file_range{r.fd, 12345, 500000, true});
        res.append_file(wharf::file_range{r.empty_fd, 5, 0, true}); // nothing to send
        res.append("|");
        r.small = res.append_file(file.path, 1000, 10);
        r.rest = res.append_file(file.path, size - 7);
        res.append(">");
        r.past_end = res.append_file(file.path, size + 1);
        r.too_long = res.append_file(file.path, 10, size);
        r.missing = res.append_file(file.path + ".missing");
        result->set(r);
    };
    srv.routes().get("/file", [build](wharf::session& s) { build(s.response()); });
    srv.routes().get("/file-chunked", [build, chunked_sent](wharf::session& s) {
        build(s.response());
        s.flush([&s, chunked_sent](wharf::send_result r) {
            chunked_sent->callback()(r);
            s.response().append("!");
            s.send();
        });
    });
    start(srv);
    const std::string expected = "<" + file.content.substr(12345, 500000) + "|" +
                                 file.content.substr(1000, 10) + file.content.substr(size - 7) +
                                 ">";
    for (const bool chunked : {false, true}) {
        SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
        client c(srv.local_addresses()[0], io_timeout);
        ASSERT_TRUE(c.send(request("GET", chunked ? "/file-chunked" : "/file")));
        const auto res = c.read_framed_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, 200);
        if (chunked) {
            EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
            EXPECT_TRUE(res->body == expected + "!") << "body differs";
            ASSERT_TRUE(wait_until([&] { return chunked_sent->calls == 1; }));
            EXPECT_FALSE(chunked_sent->last.get().error);
            EXPECT_EQ(chunked_sent->last.get().bytes, expected.size());
        } else {
            EXPECT_EQ(res->header("Content-Length"), std::to_string(expected.size()));
            EXPECT_TRUE(res->body == expected) << "body differs";
        }
        const file_result r = result->get();
        EXPECT_FALSE(r.small) << r.small.message();
        EXPECT_FALSE(r.rest) << r.rest.message();
        EXPECT_EQ(r.past_end, wharf::errc::invalid_argument) << r.past_end.message();
        EXPECT_EQ(r.too_long, wharf::errc::invalid_argument) << r.too_long.message();
        EXPECT_EQ(r.missing, std::errc::no_such_file_or_directory) << r.missing.message();
        // close_fd: the descriptors are closed once sent (or, when empty, at once).
        EXPECT_TRUE(wait_until([&] { return fd_closed(r.fd) && fd_closed(r.empty_fd); }));
    }
}

TEST(StreamingResponse, FileRangePastEndOfFileClosesConnection) {
    // A range longer than the file: the promised length cannot be kept, so the connection is
    // cut at once rather than left open with a broken framing. (The send-rate deadline would
    // close it eventually; with send_grace off, nothing would.)
    const temp_file file(noise(1000, 5));
    auto fd_slot = std::make_shared<std::atomic<int>>(-1);
    auto cfg = local_config();
    cfg.timeouts.shutdown = 500ms;
    wharf::server srv(cfg);
    srv.routes().get("/short", [&file, fd_slot](wharf::session& s) {
        const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
        *fd_slot = fd;
        s.response().append_file(wharf::file_range{fd, 900, 5000, true});
    });
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/short")));
    const bool closed = c.wait_closed(2s);
    EXPECT_TRUE(closed) << "connection still open 2 s after the file ran out";
    const std::string& got = c.pending();
    EXPECT_NE(got.find("Content-Length: 5000\r\n"), std::string::npos) << got.substr(0, 300);
    const std::size_t head_end = got.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    EXPECT_TRUE(got.substr(head_end + 4) == file.content.substr(900)) << "partial body differs";
    if (closed) {
        EXPECT_TRUE(wait_until([&] { return fd_closed(*fd_slot); }));
        EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    }
}

TEST(StreamingResponse, BorrowedReleasedOnce) {
    const std::string small = "borrowed-bytes";
    const std::string big = pattern(64 * mib);
    struct counters {
        std::atomic<int> sent{0}, head{0}, vanished{0}, replaced{0}, threw{0}, chunked{0};
    };
    auto n = std::make_shared<counters>();
    wharf::server srv(local_config());
    auto& r = srv.routes();
    r.get("/sent", [&small, n](wharf::session& s) {
        s.response().append("[").append_borrowed(small, [n] { ++n->sent; }).append("]");
    });
    r.get("/head", [&small, n](wharf::session& s) {
        s.response().append_borrowed(small, [n] { ++n->head; });
    });
    r.get("/vanished", [&big, n](wharf::session& s) {
        s.response().append_borrowed(big, [n] { ++n->vanished; });
    });
    r.get("/replaced", [&small, n](wharf::session& s) {
        s.response().append_borrowed(small, [n] { ++n->replaced; });
        s.response().body("replaced");
    });
    r.get("/threw", [&small, n](wharf::session& s) {
        s.response().append_borrowed(small, [n] { ++n->threw; });
        throw std::runtime_error("handler failure (expected by the test)");
    });
    r.get("/chunked", [&small, n](wharf::session& s) {
        s.response().append_borrowed(small, [n] { ++n->chunked; });
        s.flush([&s](wharf::send_result) { s.send(); });
    });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    auto res = fetch(a, request("GET", "/sent"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "[borrowed-bytes]");
    EXPECT_TRUE(wait_until([&] { return n->sent == 1; }));

    res = fetch(a, request("HEAD", "/head"), true);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->header("Content-Length"), std::to_string(small.size()));
    EXPECT_TRUE(wait_until([&] { return n->head == 1; }));

    res = fetch(a, request("GET", "/replaced"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "replaced");
    EXPECT_TRUE(wait_until([&] { return n->replaced == 1; }));

    res = fetch(a, request("GET", "/threw"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 500);
    EXPECT_TRUE(wait_until([&] { return n->threw == 1; }));

    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/chunked")));
        const auto cr = c.read_framed_response();
        ASSERT_TRUE(cr) << c.error();
        EXPECT_EQ(cr->body, small);
        EXPECT_TRUE(wait_until([&] { return n->chunked == 1; }));
    }
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/vanished")));
        read_some_then_vanish(c, mib);
    }
    EXPECT_TRUE(wait_until([&] { return n->vanished == 1; }));
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(n->sent, 1);
    EXPECT_EQ(n->head, 1);
    EXPECT_EQ(n->vanished, 1);
    EXPECT_EQ(n->replaced, 1);
    EXPECT_EQ(n->threw, 1);
    EXPECT_EQ(n->chunked, 1);
}

TEST(StreamingResponse, NineThousandNineHundredNinetyNineChunksInOneSend) {
    constexpr int parts = 9999;
    const auto piece = [](int i) { return fmt::format("{:05}|", i); };
    auto flushed = std::make_shared<send_probe>();
    wharf::server srv(local_config());
    srv.routes().get("/many", [piece](wharf::session& s) {
        for (int i = 0; i < parts; ++i)
            s.response().append_chunk(piece(i));
    });
    srv.routes().get("/many-chunked", [piece, flushed](wharf::session& s) {
        for (int i = 0; i < parts; ++i)
            s.response().append_chunk(piece(i));
        s.flush([&s, flushed](wharf::send_result r) {
            flushed->callback()(r);
            s.send();
        });
    });
    start(srv);
    std::string expected;
    for (int i = 0; i < parts; ++i)
        expected += piece(i);

    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/many")));
    auto res = c.read_framed_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->header("Content-Length"), std::to_string(expected.size()));
    EXPECT_TRUE(res->body == expected) << "body differs";

    std::vector<std::size_t> chunks;
    ASSERT_TRUE(c.send(request("GET", "/many-chunked")));
    res = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
    EXPECT_TRUE(res->body == expected) << "body differs";
    EXPECT_EQ(chunks.size(), static_cast<std::size_t>(parts));
    EXPECT_TRUE(std::all_of(chunks.begin(), chunks.end(), [](std::size_t k) { return k == 6; }));
    ASSERT_TRUE(wait_until([&] { return flushed->calls == 1; }));
    EXPECT_EQ(flushed->last.get().bytes, expected.size());
}

// ---------------------------------------------------------------------------------------------
// (f) Send flags and declared lengths

TEST(StreamingSendFlags, DisconnectClosesAfterTheResponse) {
    wharf::server srv(local_config());
    srv.routes().get("/disc", [](wharf::session& s) {
        s.response().append("bye");
        s.send(wharf::send_flags::disconnect);
    });
    srv.routes().get("/disc-late", [](wharf::session& s) {
        s.response().append("a");
        s.flush([&s](wharf::send_result) {
            s.response().append("b");
            s.send(wharf::send_flags::disconnect);
        });
    });
    srv.routes().get("/small", [](wharf::session& s) { s.response().append("small"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/disc") + request("GET", "/small")));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, "bye");
        EXPECT_EQ(res->header("Connection"), "close");
        EXPECT_TRUE(c.wait_closed());
        EXPECT_EQ(c.pending(), "") << "answered a request after a disconnecting response";
    }
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/disc-late") + request("GET", "/small")));
        const auto res = c.read_framed_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
        EXPECT_EQ(res->body, "ab");
        EXPECT_TRUE(c.wait_closed());
        EXPECT_EQ(c.pending(), "");
    }
}

TEST(StreamingSendFlags, BufferedSendsCoalesce) {
    struct record {
        bool synchronous = false;
        wharf::send_result result{};
    };
    auto records = std::make_shared<guarded<std::vector<record>>>();
    auto final_send = std::make_shared<send_probe>();
    wharf::server srv(local_config());
    const auto buffered = [records](wharf::session& s, std::string_view text) {
        s.response().append(text);
        auto got = std::make_shared<std::optional<wharf::send_result>>();
        s.send(wharf::send_flags::more | wharf::send_flags::buffer,
               [got](wharf::send_result r) { *got = r; });
        auto v = records->get();
        v.push_back({got->has_value(), got->value_or(wharf::send_result{})});
        records->set(v);
    };
    srv.routes().get("/buffer", [buffered, final_send](wharf::session& s) {
        buffered(s, "aa");
        buffered(s, "bbb");
        s.response().append("cccc");
        s.send(wharf::send_flags::none, final_send->callback());
    });
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/buffer")));
    // Everything leaves in one write: the first read has the whole response.
    ASSERT_TRUE(c.receive());
    const std::string first_read = c.pending();
    const auto res = c.read_framed_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "aabbbcccc");
    EXPECT_EQ(c.pending(), "");
    EXPECT_TRUE(first_read.ends_with("cccc") || first_read.ends_with("cccc\r\n0\r\n\r\n"))
        << "first read: " << first_read;
    // The buffered sends complete at once, without error; byte counts are either what each
    // send added (2, 3, then 4) or what each would carry (2, 5, then all 9).
    const auto v = records->get();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_TRUE(v[0].synchronous);
    EXPECT_FALSE(v[0].result.error);
    EXPECT_TRUE(v[1].synchronous);
    EXPECT_FALSE(v[1].result.error);
    ASSERT_TRUE(wait_until([&] { return final_send->calls == 1; }));
    EXPECT_FALSE(final_send->last.get().error);
    const std::vector<std::uint64_t> counts{v[0].result.bytes, v[1].result.bytes,
                                            final_send->last.get().bytes};
    EXPECT_TRUE(counts == (std::vector<std::uint64_t>{2, 3, 4}) ||
                counts == (std::vector<std::uint64_t>{2, 5, 9}))
        << counts[0] << ", " << counts[1] << ", " << counts[2];
}

TEST(StreamingSendFlags, MoreThenFinal) {
    auto probes = std::make_shared<std::vector<std::unique_ptr<send_probe>>>();
    for (int i = 0; i < 3; ++i)
        probes->push_back(std::make_unique<send_probe>());
    wharf::server srv(local_config());
    srv.routes().get("/more", [probes](wharf::session& s) {
        s.response().append("one");
        s.send(wharf::send_flags::more, [&s, probes](wharf::send_result r) {
            (*probes)[0]->callback()(r);
            s.response().append("two");
            s.send(wharf::send_flags::more, [&s, probes](wharf::send_result r2) {
                (*probes)[1]->callback()(r2);
                s.response().append("three");
                s.send(wharf::send_flags::none, (*probes)[2]->callback());
            });
        });
    });
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    for (int round = 1; round <= 2; ++round) { // the connection is reused afterwards
        std::vector<std::size_t> chunks;
        ASSERT_TRUE(c.send(request("GET", "/more")));
        const auto res = c.read_framed_response(false, &chunks);
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, "onetwothree");
        EXPECT_EQ(chunks, (std::vector<std::size_t>{3, 3, 5}));
        ASSERT_TRUE(wait_until([&] { return (*probes)[2]->calls == round; }));
        const std::uint64_t sizes[] = {3, 3, 5};
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ((*probes)[static_cast<std::size_t>(i)]->calls, round);
            EXPECT_FALSE((*probes)[static_cast<std::size_t>(i)]->last.get().error);
            EXPECT_EQ((*probes)[static_cast<std::size_t>(i)]->last.get().bytes, sizes[i]);
        }
    }
}

TEST(StreamingSendFlags, DeclaredContentLengthWithStreamedPieces) {
    wharf::server srv(local_config());
    srv.routes().get("/declared", [](wharf::session& s) {
        s.response().content_length(10).append("01234");
        s.flush([&s](wharf::send_result) {
            s.response().append_chunk("567");
            s.flush([&s](wharf::send_result) {
                s.response().append("89");
                s.send();
            });
        });
    });
    srv.routes().get("/declared-short", [](wharf::session& s) {
        s.response().content_length(10).append("01234");
        s.send();
    });
    srv.routes().get("/small", [](wharf::session& s) { s.response().append("small"); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    {
        client c(a, io_timeout);
        for (int round = 0; round < 2; ++round) {
            ASSERT_TRUE(c.send(request("GET", "/declared")));
            const auto res = c.read_framed_response();
            ASSERT_TRUE(res) << c.error();
            EXPECT_EQ(res->header("Content-Length"), "10");
            EXPECT_FALSE(res->header("Transfer-Encoding"));
            EXPECT_EQ(res->body, "0123456789");
        }
        ASSERT_TRUE(c.send(request("GET", "/small")));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, "small");
        EXPECT_EQ(c.pending(), "");
    }
    {
        // Fewer bytes than declared: the client must see the connection end, not hang.
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/declared-short")));
        EXPECT_TRUE(c.wait_closed());
        const std::string& got = c.pending();
        EXPECT_NE(got.find("Content-Length: 10\r\n"), std::string::npos) << got;
        EXPECT_TRUE(got.ends_with("\r\n\r\n01234")) << got;
    }
}

TEST(StreamingSendFlags, DeclaredContentLengthIsNeverExceeded) {
    // More body than the declared Content-Length: the bytes past it would be read by the client
    // as the start of the next response. They must never reach the wire.
    wharf::server srv(local_config());
    srv.routes().get("/over", [](wharf::session& s) {
        s.response().content_length(3).append("01234");
        s.send();
    });
    srv.routes().get("/over-streamed", [](wharf::session& s) {
        s.response().content_length(3).append("01");
        s.flush([&s](wharf::send_result) {
            s.response().append("234");
            s.send();
        });
    });
    srv.routes().get("/small", [](wharf::session& s) { s.response().append("small"); });
    start(srv);
    for (const char* target : {"/over", "/over-streamed"}) {
        SCOPED_TRACE(target);
        client c(srv.local_addresses()[0], io_timeout);
        // A pipelined request behind: whatever follows the 3 body bytes is its answer.
        ASSERT_TRUE(c.send(request("GET", target) + request("GET", "/small")));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->header("Content-Length"), "3");
        EXPECT_EQ(res->body, "012");
        (void)c.wait_closed(1s);
        const std::string rest = c.pending();
        EXPECT_TRUE(rest.empty() || rest.starts_with("HTTP/1.1 200 OK\r\n"))
            << "bytes past the declared length: [" << rest.substr(0, 40) << "]";
    }
}

TEST(StreamingSendFlags, BufferedBytesWaitForTheNextUnbufferedSend) {
    // S21: a buffered send keeps its bytes (and the head) until a later send without the flag,
    // even when the handler returns in between.
    auto final_send = std::make_shared<send_probe>();
    wharf::server srv(local_config());
    srv.routes().get("/buffer-late", [final_send](wharf::session& s) {
        s.response().append("aa");
        s.send(wharf::send_flags::more | wharf::send_flags::buffer);
        s.after(300ms, [&s, final_send] {
            s.response().append("cc");
            s.send(wharf::send_flags::none, final_send->callback());
        });
    });
    start(srv);
    client c(srv.local_addresses()[0], io_timeout);
    ASSERT_TRUE(c.send(request("GET", "/buffer-late")));
    EXPECT_TRUE(c.stays_silent(150ms))
        << "buffered bytes went out before the unbuffered send: [" << c.pending() << "]";
    std::vector<std::size_t> chunks;
    const auto res = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "aacc");
    ASSERT_TRUE(wait_until([&] { return final_send->calls == 1; }));
    EXPECT_FALSE(final_send->last.get().error);
}

// ---------------------------------------------------------------------------------------------
// (g) async_send in a coroutine

/// The smallest coroutine type that runs eagerly and frees itself at the end.
struct detached_task {
    struct promise_type {
        detached_task get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};

struct coro_probe {
    std::atomic<int> done{0};
    guarded<std::vector<wharf::send_result>> results;
    void add(wharf::send_result r) {
        auto v = results.get();
        v.push_back(r);
        results.set(v);
    }
};

detached_task stream_in_coroutine(wharf::session& s, std::shared_ptr<coro_probe> probe,
                                  std::size_t big) {
    s.response().append("first;");
    const wharf::send_result r1 = co_await s.async_send(wharf::send_flags::more);
    probe->add(r1);
    if (r1.error) {
        ++probe->done;
        co_return;
    }
    s.response().append_chunk(pattern(big));
    const wharf::send_result r2 = co_await s.async_send(wharf::send_flags::more);
    probe->add(r2);
    if (r2.error) {
        ++probe->done;
        co_return;
    }
    s.response().append(";last");
    const wharf::send_result r3 = co_await s.async_send();
    probe->add(r3);
    ++probe->done;
}

TEST(StreamingCoroutine, AsyncSend) {
    auto probe = std::make_shared<coro_probe>();
    auto vanished = std::make_shared<coro_probe>();
    wharf::server srv(local_config());
    srv.routes().get("/coro",
                     [probe](wharf::session& s) { stream_in_coroutine(s, probe, 8 * mib); });
    srv.routes().get("/coro-vanish",
                     [vanished](wharf::session& s) { stream_in_coroutine(s, vanished, 64 * mib); });
    start(srv);
    const wharf::address a = srv.local_addresses()[0];
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/coro")));
        std::this_thread::sleep_for(100ms); // the 8 MiB send has to wait for the reader
        const auto res = c.read_framed_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
        EXPECT_TRUE(res->body == "first;" + pattern(8 * mib) + ";last") << "body differs";
        ASSERT_TRUE(wait_until([&] { return probe->done == 1; }));
        const auto v = probe->results.get();
        ASSERT_EQ(v.size(), 3u);
        const std::uint64_t sizes[] = {6, 8 * mib, 5};
        for (std::size_t i = 0; i < 3; ++i) {
            EXPECT_FALSE(v[i].error) << i << ": " << v[i].error.message();
            EXPECT_EQ(v[i].bytes, sizes[i]) << i;
        }
    }
    {
        client c(a, io_timeout);
        ASSERT_TRUE(c.send(request("GET", "/coro-vanish")));
        read_some_then_vanish(c, mib);
        ASSERT_TRUE(wait_until([&] { return vanished->done == 1; }));
        const auto v = vanished->results.get();
        ASSERT_EQ(v.size(), 2u);
        EXPECT_FALSE(v[0].error);
        EXPECT_TRUE(is_disconnect(v[1].error)) << v[1].error.message();
    }
}

// ---------------------------------------------------------------------------------------------
// (h) read_body on a stream_body route

struct collected {
    std::string body;
    std::vector<std::size_t> pieces;
    std::error_code error;
};

struct collect_state {
    std::shared_ptr<guarded<collected>> out;
    collected got;
};

void collect_more(wharf::session& s) {
    s.read_body([&s](std::error_code ec, std::string_view piece, bool last) {
        auto* st = s.context<collect_state>();
        if (!st) return;
        if (ec) {
            st->got.error = ec;
            st->out->set(st->got);
            return;
        }
        st->got.body.append(piece);
        st->got.pieces.push_back(piece.size());
        if (!last) {
            collect_more(s);
            return;
        }
        st->out->set(st->got);
        s.response().format("{} {}", st->got.body.size(), fnv1a(st->got.body));
        s.send();
    });
}

std::string chunked_body(const std::string& data, const std::vector<std::size_t>& sizes) {
    std::string out;
    std::size_t at = 0;
    for (std::size_t k : sizes) {
        k = std::min(k, data.size() - at);
        out += fmt::format("{:x}\r\n", k);
        out.append(data, at, k);
        out += "\r\n";
        at += k;
    }
    if (at < data.size()) {
        out += fmt::format("{:x};ext=1\r\n", data.size() - at);
        out.append(data, at);
        out += "\r\n";
    }
    return out + "0\r\n\r\n";
}

TEST(StreamingRequestBody, PiecesArriveInOrder) {
    auto out = std::make_shared<guarded<collected>>();
    wharf::server srv(local_config());
    wharf::route_options streamed;
    streamed.stream_body = true;
    srv.routes().route(
        wharf::method::post, "/collect",
        [out](wharf::session& s) {
            s.emplace_context<collect_state>(collect_state{out, {}});
            collect_more(s);
        },
        streamed);
    start(srv);
    const wharf::address a = srv.local_addresses()[0];

    const std::string big = noise(3 * mib + 11, 99);
    const std::string medium = noise(300000, 7);
    struct {
        const char* name;
        std::string head_fields;
        std::string wire;
        std::string body;
    } cases[] = {
        {"length", "Content-Length: " + std::to_string(big.size()) + "\r\n", big, big},
        {"length 1", "Content-Length: 1\r\n", "x", "x"},
        {"length 0", "Content-Length: 0\r\n", "", ""},
        {"chunked", "Transfer-Encoding: chunked\r\n",
         chunked_body(medium, {1, 2, 3, 65536, 100000, 7, 1, 40000}), medium},
        {"chunked big", "Transfer-Encoding: chunked\r\n", chunked_body(big, {mib, mib}), big},
        {"chunked empty", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", ""},
    };
    client c(a, io_timeout);
    for (const auto& k : cases) {
        SCOPED_TRACE(k.name);
        out->set({});
        // Head, then the body in uneven writes, on one kept-alive connection.
        ASSERT_TRUE(c.send("POST /collect HTTP/1.1\r\nHost: t\r\n" + k.head_fields + "\r\n"));
        std::size_t at = 0;
        std::size_t step = 1;
        while (at < k.wire.size()) {
            const std::size_t n = std::min(step, k.wire.size() - at);
            ASSERT_TRUE(c.send(std::string_view(k.wire).substr(at, n)));
            at += n;
            step = step * 7 + 3;
        }
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, fmt::format("{} {}", k.body.size(), fnv1a(k.body)));
        const collected got = out->get();
        EXPECT_FALSE(got.error);
        EXPECT_TRUE(got.body == k.body) << "concatenated pieces differ";
        std::size_t sum = 0;
        for (std::size_t p : got.pieces)
            sum += p;
        EXPECT_EQ(sum, k.body.size());
    }
}

TEST(StreamingRequestBody, BackPressureWhileTheHandlerDoesNotRead) {
    constexpr std::size_t total = 50 * mib;
    struct slow_state {
        std::uint64_t hash = 14695981039346656037ull;
        std::size_t bytes = 0;
        std::size_t pieces = 0;
        bool stalled = false;
    };
    struct slow_result {
        std::size_t first_piece_after_stall = 0;
        std::size_t largest_piece = 0;
        std::size_t pieces = 0;
    };
    auto result = std::make_shared<guarded<slow_result>>();
    auto stall_over = std::make_shared<std::atomic<bool>>(false);
    wharf::server srv(local_config());
    wharf::route_options streamed;
    streamed.stream_body = true;
    // Reads one piece, then nothing for 800 ms; then the rest slowly (a pause every 8 pieces).
    std::function<void(wharf::session&)> read_next;
    read_next = [result, stall_over, &read_next](wharf::session& s) {
        s.read_body([&s, result, stall_over, &read_next](std::error_code ec, std::string_view piece,
                                                         bool last) {
            auto* st = s.context<slow_state>();
            if (ec || !st) return;
            auto r = result->get();
            if (st->stalled && r.first_piece_after_stall == 0)
                r.first_piece_after_stall = piece.size();
            r.largest_piece = std::max(r.largest_piece, piece.size());
            r.pieces = ++st->pieces;
            result->set(r);
            st->hash = fnv1a(piece, st->hash);
            st->bytes += piece.size();
            if (last) {
                s.response().format("{} {}", st->bytes, st->hash);
                s.send();
                return;
            }
            if (!st->stalled) {
                st->stalled = true;
                s.after(800ms, [&s, stall_over, &read_next] {
                    *stall_over = true;
                    read_next(s);
                });
            } else if (st->pieces % 8 == 0) {
                s.after(1ms, [&s, &read_next] { read_next(s); });
            } else {
                read_next(s);
            }
        });
    };
    srv.routes().route(
        wharf::method::post, "/slow",
        [&read_next](wharf::session& s) {
            s.emplace_context<slow_state>();
            read_next(s);
        },
        streamed);
    start(srv);

    const std::string body = noise(total, 4242);
    client c(srv.local_addresses()[0], io_timeout);
    const int sndbuf = 64 * 1024;
    ASSERT_EQ(::setsockopt(c.fd(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
    ASSERT_TRUE(c.send(
        "POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n"));
    // Send without blocking; note how far the client gets while the handler is not reading.
    std::size_t sent = 0;
    std::optional<std::size_t> stuck_at;
    auto last_progress = std::chrono::steady_clock::now();
    const auto deadline = last_progress + 60s;
    while (sent < total) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "upload stalled at " << sent;
        const ssize_t n =
            ::send(c.fd(), body.data() + sent, std::min<std::size_t>(total - sent, 256 * kib),
                   MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            last_progress = std::chrono::steady_clock::now();
            continue;
        }
        ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) << "send: errno " << errno;
        if (!stuck_at && !*stall_over && std::chrono::steady_clock::now() - last_progress > 300ms)
            stuck_at = sent;
        pollfd p{c.fd(), POLLOUT, 0};
        (void)::poll(&p, 1, 20);
    }
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, fmt::format("{} {}", total, fnv1a(body)));
    ASSERT_TRUE(stuck_at) << "the client never had to wait for the stalled handler";
    const slow_result r = result->get();
    RecordProperty("client_bytes_accepted_during_stall", std::to_string(*stuck_at));
    RecordProperty("first_piece_after_stall", std::to_string(r.first_piece_after_stall));
    RecordProperty("largest_piece", std::to_string(r.largest_piece));
    std::printf("[ measure  ] client got %zu bytes out while the handler stalled; pieces: %zu, "
                "largest %zu, first after the stall %zu\n",
                *stuck_at, r.pieces, r.largest_piece, r.first_piece_after_stall);
    // Bounded by the server's ~64 KiB window plus the kernel's socket buffers, not by the body.
    EXPECT_LT(*stuck_at, 24 * mib);
    EXPECT_LE(r.first_piece_after_stall, 256 * kib);
    EXPECT_LE(r.largest_piece, 1 * mib);
}

} // namespace
