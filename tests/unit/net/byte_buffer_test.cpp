// SPDX-License-Identifier: MIT
// The receive buffer: bytes survive every growth, from the heap into mapped pages and within
// them, with consumed bytes in front; release gives everything back.
#include <gtest/gtest.h>

#include <string>

#include "net/byte_buffer.hpp"

namespace {

using wharf::detail::byte_buffer;

std::string pattern(std::size_t n, std::size_t from) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (from + i) % 26);
    return s;
}

void append(byte_buffer& b, const std::string& bytes) {
    char* p = b.prepare(bytes.size());
    std::copy(bytes.begin(), bytes.end(), p);
    b.commit(bytes.size());
}

TEST(ByteBuffer, KeepsItsBytesThroughEveryGrowth) {
    byte_buffer b;
    std::string want;
    std::size_t written = 0;
    // Grow past the mapped threshold several times, consuming some in front each round so
    // the data never starts at the beginning of the allocation.
    for (int round = 0; round < 12; ++round) {
        const std::string more = pattern(std::size_t{3000} << round, written);
        written += more.size();
        append(b, more);
        want += more;
        const std::size_t eat = want.size() / 3;
        b.consume(eat);
        want.erase(0, eat);
        ASSERT_EQ(std::string(b.data(), b.size()), want) << "round " << round;
    }
    EXPECT_GE(b.capacity(), byte_buffer::mapped_from);
    b.shrink_by(10);
    want.resize(want.size() - 10);
    EXPECT_EQ(std::string(b.data(), b.size()), want);
    byte_buffer moved = std::move(b);
    EXPECT_EQ(b.capacity(), 0u);
    EXPECT_EQ(std::string(moved.data(), moved.size()), want);
    moved.release();
    EXPECT_EQ(moved.capacity(), 0u);
    EXPECT_TRUE(moved.empty());
}

TEST(ByteBuffer, MoveAssignFreesWhatItHeld) {
    byte_buffer big;
    append(big, pattern(byte_buffer::mapped_from * 2, 0));
    byte_buffer small;
    append(small, "hello");
    big = std::move(small);
    EXPECT_EQ(std::string(big.data(), big.size()), "hello");
}

} // namespace
