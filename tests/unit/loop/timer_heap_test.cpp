// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <vector>

#include "loop/timer_heap.hpp"

namespace {

struct probe {
    std::vector<int>* fired;
    int id;
    wharf::detail::timer t{[](void* self) {
                               auto* p = static_cast<probe*>(self);
                               p->fired->push_back(p->id);
                           },
                           this};
    probe(std::vector<int>* f, int i) : fired(f), id(i) {}
};

TEST(TimerHeap, FiresInDeadlineOrder) {
    std::vector<int> fired;
    wharf::detail::timer_heap heap;
    std::vector<std::unique_ptr<probe>> probes;
    const int deadlines[] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; ++i) {
        probes.push_back(std::make_unique<probe>(&fired, deadlines[i]));
        heap.arm(probes.back()->t, deadlines[i]);
    }
    heap.expire(25);
    EXPECT_EQ(fired, (std::vector<int>{10, 20}));
    heap.expire(100);
    EXPECT_EQ(fired, (std::vector<int>{10, 20, 30, 40, 50}));
    EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeap, LaterDeadlineIsHonouredLazily) {
    std::vector<int> fired;
    wharf::detail::timer_heap heap;
    probe p(&fired, 1);
    heap.arm(p.t, 10);
    heap.arm(p.t, 100); // pushed back: must not fire at 10
    heap.expire(10);
    EXPECT_TRUE(fired.empty());
    EXPECT_TRUE(p.t.armed());
    EXPECT_EQ(heap.wait_ms(10), 90);
    heap.expire(100);
    EXPECT_EQ(fired, std::vector<int>{1});
}

TEST(TimerHeap, EarlierDeadlineMovesUp) {
    std::vector<int> fired;
    wharf::detail::timer_heap heap;
    probe a(&fired, 1), b(&fired, 2);
    heap.arm(a.t, 100);
    heap.arm(b.t, 50);
    heap.arm(a.t, 10);
    EXPECT_EQ(heap.wait_ms(0), 10);
    heap.expire(60);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

TEST(TimerHeap, DisarmRemovesFromTheMiddle) {
    std::vector<int> fired;
    wharf::detail::timer_heap heap;
    std::vector<std::unique_ptr<probe>> probes;
    for (int i = 0; i < 20; ++i) {
        probes.push_back(std::make_unique<probe>(&fired, i));
        heap.arm(probes.back()->t, (i * 7) % 20);
    }
    for (int i = 0; i < 20; i += 2)
        heap.disarm(probes[static_cast<std::size_t>(i)]->t);
    heap.disarm(probes[0]->t); // twice is harmless
    heap.expire(1000);
    ASSERT_EQ(fired.size(), 10u);
    int last = -1;
    for (int id : fired) {
        EXPECT_EQ(id % 2, 1);
        EXPECT_GE((id * 7) % 20, last);
        last = (id * 7) % 20;
    }
    EXPECT_EQ(heap.wait_ms(0), -1);
}

} // namespace
