// SPDX-License-Identifier: MIT
#include "http1/chunk_framer.hpp"

#include <cstring>

namespace wharf::http1 {

std::size_t write_chunk_line(char* out, std::uint64_t size) noexcept {
    constexpr char digits[] = "0123456789abcdef";
    char tmp[16];
    std::size_t n = 0;
    do {
        tmp[n++] = digits[size & 0xf];
        size >>= 4;
    } while (size != 0);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = tmp[n - 1 - i];
    out[n] = '\r';
    out[n + 1] = '\n';
    return n + 2;
}

namespace {

std::size_t chunk_head(char* head_end, std::size_t size) noexcept {
    char line[max_chunk_line];
    const std::size_t n = write_chunk_line(line, size);
    std::memcpy(head_end - n, line, n);
    return n;
}

std::size_t chunk_tail(char* tail) noexcept {
    std::memcpy(tail, chunk_end.data(), chunk_end.size());
    return chunk_end.size();
}

} // namespace

const detail::piece_framing chunk_framing{max_chunk_line, chunk_end.size(), chunk_head, chunk_tail};

} // namespace wharf::http1
