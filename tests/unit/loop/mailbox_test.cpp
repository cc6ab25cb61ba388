// SPDX-License-Identifier: MIT
// The mailbox on its own (tests/unit/loop/event_loop_test.cpp has it behind a running loop):
// tasks come out in the order they were posted, posts from several threads all arrive, the
// wake-up fd is readable exactly while tasks wait, a closed mailbox refuses and destroys what
// it is given, and on_loop_thread is true only on the owner's thread. No test waits on a clock:
// threads are joined before anything is checked.
#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "loop/event_loop.hpp"
#include "loop/mailbox.hpp"

namespace {

using wharf::detail::event_loop;
using wharf::detail::mailbox;

/// True when the mailbox's eventfd is readable right now (poll with a zero timeout).
bool wake_pending(const mailbox& box) {
    pollfd p{box.wake_fd(), POLLIN, 0};
    const int n = ::poll(&p, 1, 0);
    EXPECT_GE(n, 0);
    return n == 1 && (p.revents & POLLIN) != 0;
}

/// Runs every task `take()` returns, in the order given; returns how many ran.
std::size_t run_all(mailbox& box) {
    auto tasks = box.take();
    for (auto& task : tasks)
        task();
    return tasks.size();
}

TEST(MailboxDirect, PostsFromAnotherThreadComeOutInOrder) {
    mailbox box;
    constexpr int posts = 5000;
    std::vector<int> seen;
    std::thread poster([&] {
        for (int i = 0; i < posts; ++i)
            EXPECT_TRUE(box.post([&seen, i] { seen.push_back(i); }));
    });
    poster.join();
    ASSERT_EQ(run_all(box), static_cast<std::size_t>(posts));
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(posts));
    for (int i = 0; i < posts; ++i)
        ASSERT_EQ(seen[static_cast<std::size_t>(i)], i) << "out of order at " << i;
    // Taken means gone: a second take has nothing.
    EXPECT_TRUE(box.take().empty());
}

TEST(MailboxDirect, OrderHoldsAcrossTakes) {
    // Tasks posted after a take come out after it, still in posting order.
    mailbox box;
    std::vector<int> seen;
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(box.post([&seen, i] { seen.push_back(i); }));
    EXPECT_EQ(run_all(box), 3u);
    for (int i = 3; i < 7; ++i)
        ASSERT_TRUE(box.post([&seen, i] { seen.push_back(i); }));
    EXPECT_EQ(run_all(box), 4u);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(MailboxDirect, PostsFromSeveralThreadsAllArriveEachInItsOrder) {
    mailbox box;
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    // Each task records (thread, sequence); the tasks run here, after every poster joined.
    std::vector<std::pair<int, int>> seen;
    std::atomic<int> go{0};
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t) {
        posters.emplace_back([&, t] {
            // Start together so the posts interleave (not required for the checks below).
            go.fetch_add(1);
            while (go.load() < threads)
                std::this_thread::yield();
            for (int i = 0; i < per_thread; ++i)
                EXPECT_TRUE(box.post([&seen, t, i] { seen.emplace_back(t, i); }));
        });
    }
    for (auto& p : posters)
        p.join();
    ASSERT_EQ(run_all(box), static_cast<std::size_t>(threads * per_thread));
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
    std::vector<int> next(threads, 0);
    for (const auto& [t, i] : seen) {
        ASSERT_GE(t, 0);
        ASSERT_LT(t, threads);
        // Per thread, the sequence numbers come exactly 0, 1, 2, ...: none lost, none twice,
        // none reordered.
        ASSERT_EQ(i, next[static_cast<std::size_t>(t)]) << "thread " << t;
        ++next[static_cast<std::size_t>(t)];
    }
    for (int t = 0; t < threads; ++t)
        EXPECT_EQ(next[static_cast<std::size_t>(t)], per_thread) << "thread " << t;
}

TEST(MailboxDirect, WakeFdIsReadableExactlyWhileTasksWait) {
    mailbox box;
    EXPECT_FALSE(wake_pending(box));
    ASSERT_TRUE(box.post([] {}));
    EXPECT_TRUE(wake_pending(box));
    ASSERT_TRUE(box.post([] {})); // a second post while one is pending: still readable
    EXPECT_TRUE(wake_pending(box));
    EXPECT_EQ(box.take().size(), 2u);
    EXPECT_FALSE(wake_pending(box)); // take drains the eventfd
    // A post after a take wakes again (the pending flag was cleared by the take).
    std::thread poster([&] { EXPECT_TRUE(box.post([] {})); });
    poster.join();
    EXPECT_TRUE(wake_pending(box));
    EXPECT_EQ(box.take().size(), 1u);
    EXPECT_FALSE(wake_pending(box));
}

TEST(MailboxDirect, AClosedMailboxRefusesAndDestroysTheTask) {
    mailbox box;
    auto token = std::make_shared<int>(0);
    bool ran = false;
    ASSERT_TRUE(box.post([token, &ran] { ran = true; }));
    EXPECT_EQ(token.use_count(), 2); // the waiting task holds a copy
    box.close();
    // close drops the waiting task, and destroys it.
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_FALSE(box.post([token, &ran] { ran = true; }));
    // The refused task was not kept anywhere.
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_TRUE(box.take().empty());
    EXPECT_FALSE(ran);
    // Closing twice is harmless, and still refuses.
    box.close();
    EXPECT_FALSE(box.post([] {}));
}

TEST(MailboxDirect, PostsFromOtherThreadsAfterCloseAreAllRefused) {
    mailbox box;
    box.close();
    constexpr int threads = 3;
    std::atomic<int> accepted{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t) {
        posters.emplace_back([&] {
            for (int i = 0; i < 100; ++i)
                (box.post([] {}) ? accepted : refused).fetch_add(1);
        });
    }
    for (auto& p : posters)
        p.join();
    EXPECT_EQ(accepted.load(), 0);
    EXPECT_EQ(refused.load(), threads * 100);
    EXPECT_TRUE(box.take().empty());
}

TEST(MailboxDirect, ATaskDroppedByCloseMayPostFromItsDestructor) {
    // close destroys the dropped tasks outside its lock: a capture whose destructor posts again
    // is refused rather than deadlocking on the mailbox's mutex.
    struct posts_on_destruction {
        mailbox* box;
        std::shared_ptr<int> result; // 1: the post was accepted, 0: refused, -1: not tried
        posts_on_destruction(mailbox* b, std::shared_ptr<int> r) : box(b), result(std::move(r)) {}
        posts_on_destruction(const posts_on_destruction&) = delete;
        posts_on_destruction& operator=(const posts_on_destruction&) = delete;
        ~posts_on_destruction() {
            *result = box->post([] {}) ? 1 : 0;
        }
    };
    mailbox box;
    auto result = std::make_shared<int>(-1);
    {
        auto capture = std::make_shared<posts_on_destruction>(&box, result);
        ASSERT_TRUE(box.post([capture] { (void)capture; }));
    }
    EXPECT_EQ(*result, -1); // the mailbox still holds the only copy
    box.close();
    EXPECT_EQ(*result, 0);
    EXPECT_TRUE(box.take().empty());
}

TEST(MailboxDirect, OnLoopThreadIsTrueOnlyOnTheOwner) {
    mailbox box;
    // No owner yet: no thread is the loop's.
    EXPECT_FALSE(box.on_loop_thread());
    box.set_owner(std::this_thread::get_id());
    EXPECT_TRUE(box.on_loop_thread());
    bool elsewhere = true;
    std::thread other([&] { elsewhere = box.on_loop_thread(); });
    other.join();
    EXPECT_FALSE(elsewhere);

    // Hand the mailbox to another thread: true there, false here.
    bool there = false;
    std::thread owner([&] {
        box.set_owner(std::this_thread::get_id());
        there = box.on_loop_thread();
    });
    owner.join();
    EXPECT_TRUE(there);
    EXPECT_FALSE(box.on_loop_thread());
}

TEST(MailboxDirect, ARunningLoopOwnsItsMailbox) {
    // event_loop::run makes its thread the owner: tasks it runs see on_loop_thread, the
    // posting thread does not.
    event_loop loop;
    const auto& box = loop.shared_mailbox();
    bool poster_is_loop = true;
    bool task_is_loop = false;
    bool task_sees_loop = false;
    std::thread poster([&] {
        poster_is_loop = box->on_loop_thread();
        EXPECT_TRUE(box->post([&] {
            task_is_loop = box->on_loop_thread();
            task_sees_loop = loop.on_loop_thread();
            loop.quit();
        }));
    });
    loop.run();
    poster.join();
    EXPECT_FALSE(poster_is_loop);
    EXPECT_TRUE(task_is_loop);
    EXPECT_TRUE(task_sees_loop);
    EXPECT_TRUE(box->on_loop_thread()); // this thread ran the loop
}

} // namespace
