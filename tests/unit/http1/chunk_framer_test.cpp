// SPDX-License-Identifier: MIT
// The outgoing chunk lines, against printf's "%llx\r\n" over the edges of every digit count.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "http1/chunk_framer.hpp"

namespace {

std::string expected(std::uint64_t size) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%llx\r\n", static_cast<unsigned long long>(size));
    return {buf, static_cast<std::size_t>(n)};
}

TEST(ChunkFramer, LinesMatchPrintf) {
    std::vector<std::uint64_t> sizes{0, 1, 9, 10, 15, 16, 255, 256, 4095, 65536, UINT64_MAX};
    for (int bits = 1; bits < 64; ++bits) {
        sizes.push_back((std::uint64_t{1} << bits) - 1);
        sizes.push_back(std::uint64_t{1} << bits);
    }
    for (std::uint64_t size : sizes) {
        char line[wharf::http1::max_chunk_line];
        const std::size_t n = wharf::http1::write_chunk_line(line, size);
        ASSERT_LE(n, wharf::http1::max_chunk_line);
        EXPECT_EQ(std::string(line, n), expected(size)) << size;
    }
}

TEST(ChunkFramer, SourceFramingWrapsAPiece) {
    const auto& f = wharf::http1::chunk_framing;
    std::string buf(f.head_room + 5 + f.tail_room, '.');
    buf.replace(f.head_room, 5, "hello");
    const std::size_t head = f.write_head(buf.data() + f.head_room, 5);
    const std::size_t tail = f.write_tail(buf.data() + f.head_room + 5);
    EXPECT_EQ(buf.substr(f.head_room - head, head + 5 + tail), "5\r\nhello\r\n");
}

} // namespace
