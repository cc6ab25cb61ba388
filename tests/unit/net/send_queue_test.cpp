// SPDX-License-Identifier: MIT
// The send queue over a memory transport: pieces leave in order whatever the peer takes per
// write, sources are pulled only at the front and framed by the protocol's framing, completions
// fire once everything before them is written, and cancellation releases everything.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "memory_transport.hpp"

#include "http1/chunk_framer.hpp"
#include "net/send_queue.hpp"
#include "wharf/error.hpp"

namespace {

using wharf::send_result;
using wharf::source_read;
using wharf::detail::body_piece;
using wharf::detail::send_queue;
using wharf_test::memory_transport;

/// A source of `total` bytes ('a' + i % 26) in reads of at most `step`, blocking every other
/// read when `stutter`.
class pattern_source final : public wharf::body_source {
  public:
    pattern_source(std::size_t total, std::size_t step, bool stutter)
        : left_(total), step_(step), stutter_(stutter) {}
    source_read read(char* buf, std::size_t len) override {
        ++reads;
        if (stutter_ && (blocked_ = !blocked_)) return source_read::blocked();
        if (left_ == 0) return source_read::finished();
        const std::size_t n = std::min({len, step_, left_});
        for (std::size_t i = 0; i < n; ++i)
            buf[i] = static_cast<char>('a' + (at_ + i) % 26);
        at_ += n;
        left_ -= n;
        return source_read::got(n);
    }
    void on_release(std::error_code ec) override {
        released = true;
        release_result = ec;
    }
    int reads = 0;
    bool released = false;
    std::error_code release_result;

  private:
    std::size_t left_, step_, at_ = 0;
    bool stutter_, blocked_ = false;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + i % 26);
    return s;
}

body_piece source_piece(std::shared_ptr<pattern_source> src) {
    body_piece p;
    p.kind = body_piece::source;
    p.src = std::move(src);
    return p;
}

/// Flushes until the queue is empty, the transport taking `per_write` bytes each round.
void drain(send_queue& q, memory_transport& t, std::size_t per_write) {
    for (int rounds = 0; !q.empty() && rounds < 1'000'000; ++rounds) {
        t.write_budget = per_write;
        const auto r = q.flush(t);
        ASSERT_EQ(r.error, 0);
        ASSERT_FALSE(r.source_error);
    }
    ASSERT_TRUE(q.empty());
}

TEST(SendQueue, PiecesLeaveInOrderWhateverThePeerTakes) {
    for (std::size_t per_write : {1u, 7u, 4096u, 1u << 20}) {
        send_queue q;
        memory_transport t;
        q.append("head;");
        q.append_owned(std::string(20000, 'x')); // above the copy limit: queued by ownership
        body_piece borrowed;
        borrowed.kind = body_piece::borrowed;
        borrowed.view = "borrowed;";
        bool released = false;
        borrowed.release = [&] { released = true; };
        q.append_piece(std::move(borrowed));
        std::vector<send_result> done;
        q.append_marker([&](send_result r) { done.push_back(r); }, 42);
        q.append("tail");
        drain(q, t, per_write);
        EXPECT_EQ(t.output, "head;" + std::string(20000, 'x') + "borrowed;tail") << per_write;
        EXPECT_TRUE(released);
        auto completions = q.take_completions();
        ASSERT_EQ(completions.size(), 1u);
        EXPECT_EQ(completions[0].second.bytes, 42u);
        EXPECT_FALSE(completions[0].second.error);
    }
}

TEST(SendQueue, SourcesAreFramedByTheProtocol) {
    for (bool stutter : {false, true}) {
        send_queue q;
        memory_transport t;
        auto src = std::make_shared<pattern_source>(100'000, 30'000, stutter);
        q.append_piece(source_piece(src), &wharf::http1::chunk_framing);
        q.append(wharf::http1::last_chunk);
        drain(q, t, 5000);
        const std::string body = pattern(100'000);
        const std::string want = "7530\r\n" + body.substr(0, 30000) + "\r\n7530\r\n" +
                                 body.substr(30000, 30000) + "\r\n7530\r\n" +
                                 body.substr(60000, 30000) + "\r\n2710\r\n" + body.substr(90000) +
                                 "\r\n0\r\n\r\n";
        EXPECT_EQ(t.output, want) << stutter;
        EXPECT_TRUE(src->released);
        EXPECT_FALSE(src->release_result);
    }
}

TEST(SendQueue, UnframedSourceRespectsItsLimit) {
    send_queue q;
    memory_transport t;
    auto src = std::make_shared<pattern_source>(1000, 300, false);
    q.append_piece(source_piece(src), nullptr, 500);
    drain(q, t, 64);
    EXPECT_EQ(t.output, pattern(500));
    EXPECT_TRUE(src->released);
}

TEST(SendQueue, SourceIsPulledOnlyAtTheFront) {
    send_queue q;
    memory_transport t;
    q.append(std::string(100, 'h'));
    auto src = std::make_shared<pattern_source>(10, 10, false);
    q.append_piece(source_piece(src));
    t.write_budget = 50;
    (void)q.flush(t); // the peer took half of what is before the source
    EXPECT_EQ(src->reads, 0);
    drain(q, t, 1000);
    EXPECT_EQ(t.output, std::string(100, 'h') + pattern(10));
}

TEST(SendQueue, CancelReleasesEverythingWithTheReason) {
    send_queue q;
    memory_transport t;
    auto src = std::make_shared<pattern_source>(1000, 100, false);
    q.append("x");
    q.append_piece(source_piece(src), &wharf::http1::chunk_framing);
    std::vector<send_result> done;
    q.append_marker([&](send_result r) { done.push_back(r); }, 7);
    const auto why = make_error_code(wharf::errc::connection_reset);
    q.cancel(why);
    for (auto& [cb, r] : q.take_completions())
        cb(r);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].error, why);
    EXPECT_TRUE(src->released);
    EXPECT_EQ(src->release_result, why);
    EXPECT_TRUE(q.empty());
}

TEST(SendQueue, WriteErrorsAreReported) {
    send_queue q;
    memory_transport t;
    q.append("abc");
    t.write_error = ECONNRESET;
    EXPECT_EQ(q.flush(t).error, ECONNRESET);
}

TEST(SendQueue, IdleQueueGivesItsSpareBack) {
    send_queue q;
    memory_transport t;
    for (int i = 0; i < 40; ++i)
        q.append(std::string(1000, 'p'));
    drain(q, t, 1 << 20);
    EXPECT_TRUE(q.has_spare());
    const std::string spare = q.release_spare();
    EXPECT_GE(spare.capacity(), 40'000u);
    EXPECT_FALSE(q.has_spare());
    q.trim_idle();
    q.append("again");
    drain(q, t, 1 << 20);
    EXPECT_EQ(t.output.substr(40'000), "again");
}

} // namespace
