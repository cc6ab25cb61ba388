// SPDX-License-Identifier: MIT
// The event loop and its mailbox on real descriptors: posts from other threads run on the loop's
// thread in order, a closed mailbox refuses, readiness reaches its watcher edge-triggered,
// scheduled reads come back, timers fire in order, and deferred work runs after the callbacks.
#include <gtest/gtest.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "loop/event_loop.hpp"

namespace {

using wharf::detail::event_loop;
using wharf::detail::io_watcher;
using wharf::detail::mailbox;
using wharf::detail::timer;

TEST(Mailbox, PostsRunInOrderOnTheLoopThread) {
    event_loop loop;
    std::vector<int> seen;
    std::thread::id ran_on;
    constexpr int posts = 1000;
    std::thread poster([&] {
        for (int i = 0; i < posts; ++i)
            loop.post([&, i] {
                seen.push_back(i);
                ran_on = std::this_thread::get_id();
                if (i + 1 == posts) loop.quit();
            });
    });
    loop.run();
    poster.join();
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(posts));
    for (int i = 0; i < posts; ++i)
        EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(Mailbox, AClosedMailboxRefuses) {
    auto box = std::make_shared<mailbox>();
    bool ran = false;
    EXPECT_TRUE(box->post([&] { ran = true; }));
    box->close();
    EXPECT_FALSE(box->post([&] { ran = true; }));
    EXPECT_TRUE(box->take().empty()); // waiting tasks were dropped with the close
    EXPECT_FALSE(ran);
}

TEST(Mailbox, OutlivesItsLoop) {
    std::shared_ptr<mailbox> kept;
    {
        event_loop loop;
        kept = loop.shared_mailbox();
    }
    EXPECT_FALSE(kept->post([] {}));
}

struct recorder final : io_watcher {
    std::vector<std::uint32_t> events;
    std::function<void()> then;
    void on_io(std::uint32_t e) override {
        events.push_back(e);
        if (then) then();
    }
};

TEST(EventLoop, ReadinessReachesItsWatcherOnceAnEdge) {
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
    event_loop loop;
    recorder r;
    ASSERT_FALSE(loop.add(pair[0], EPOLLIN | EPOLLET, &r));
    ASSERT_EQ(::write(pair[1], "x", 1), 1);
    // Nothing reads the byte: edge-triggered, the watcher hears of it once.
    timer stop([](void* l) { static_cast<event_loop*>(l)->quit(); }, &loop);
    loop.timers().arm(stop, loop.now() + 100);
    loop.run();
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_TRUE(r.events[0] & EPOLLIN);
    loop.remove(pair[0]);
    ::close(pair[0]);
    ::close(pair[1]);
}

TEST(EventLoop, ScheduledReadsComeBackNextIteration) {
    event_loop loop;
    recorder r;
    int rounds = 0;
    r.then = [&] {
        if (++rounds < 3)
            loop.schedule_read(&r);
        else
            loop.quit();
    };
    loop.schedule_read(&r);
    loop.run();
    EXPECT_EQ(rounds, 3);
    for (std::uint32_t e : r.events)
        EXPECT_TRUE(e & EPOLLIN);
}

TEST(EventLoop, UnscheduledWatcherIsNotCalled) {
    event_loop loop;
    recorder r;
    loop.schedule_read(&r);
    loop.unschedule(&r);
    timer stop([](void* l) { static_cast<event_loop*>(l)->quit(); }, &loop);
    loop.timers().arm(stop, loop.now() + 20);
    loop.run();
    EXPECT_TRUE(r.events.empty());
}

TEST(EventLoop, TimersFireInDeadlineOrderAndDeferredWorkRunsAfter) {
    event_loop loop;
    std::vector<int> order;
    struct ctx {
        event_loop* loop;
        std::vector<int>* order;
        int id;
    };
    ctx a{&loop, &order, 2}, b{&loop, &order, 1}, c{&loop, &order, 3};
    auto fire = [](void* p) {
        auto* x = static_cast<ctx*>(p);
        x->order->push_back(x->id);
        if (x->id == 3) {
            x->loop->defer([o = x->order, l = x->loop] {
                o->push_back(4);
                l->quit();
            });
            x->order->push_back(35); // the deferred task waits for the callback to return
        }
    };
    timer ta(fire, &a), tb(fire, &b), tc(fire, &c);
    const auto now = loop.now();
    loop.timers().arm(ta, now + 30);
    loop.timers().arm(tb, now + 10);
    loop.timers().arm(tc, now + 50);
    loop.run();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 35, 4}));
}

} // namespace
