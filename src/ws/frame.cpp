// SPDX-License-Identifier: MIT
#include "ws/frame.hpp"

#include <cstring>

namespace wharf::detail::ws {

int parse_head(std::span<const char> in, frame_head& out) noexcept {
    if (in.size() < 2) return 0;
    const auto b0 = static_cast<std::uint8_t>(in[0]);
    const auto b1 = static_cast<std::uint8_t>(in[1]);
    out.fin = (b0 & 0x80) != 0;
    out.rsv1 = (b0 & 0x40) != 0;
    out.rsv2 = (b0 & 0x20) != 0;
    out.rsv3 = (b0 & 0x10) != 0;
    out.op = b0 & 0x0F;
    out.masked = (b1 & 0x80) != 0;
    std::size_t size = 2;
    std::uint64_t length = b1 & 0x7F;
    if (length == 126) {
        if (in.size() < 4) return 0;
        length = (std::uint64_t{static_cast<std::uint8_t>(in[2])} << 8) |
                 static_cast<std::uint8_t>(in[3]);
        if (length < 126) return -1;
        size = 4;
    } else if (length == 127) {
        if (in.size() < 10) return 0;
        length = 0;
        for (int i = 2; i < 10; ++i)
            length = (length << 8) | static_cast<std::uint8_t>(in[i]);
        if (length < 65536 || (length >> 63) != 0) return -1;
        size = 10;
    }
    if (out.masked) {
        if (in.size() < size + 4) return 0;
        std::memcpy(out.mask, in.data() + size, 4);
        size += 4;
    }
    out.length = length;
    return static_cast<int>(size);
}

std::size_t write_head(char* out, std::uint8_t op, bool fin, bool rsv1,
                       std::uint64_t length) noexcept {
    out[0] = static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (op & 0x0F));
    if (length < 126) {
        out[1] = static_cast<char>(length);
        return 2;
    }
    if (length < 65536) {
        out[1] = 126;
        out[2] = static_cast<char>(length >> 8);
        out[3] = static_cast<char>(length);
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; ++i)
        out[2 + i] = static_cast<char>(length >> (56 - 8 * i));
    return 10;
}

void unmask(char* data, std::size_t n, const std::uint8_t mask[4], std::uint64_t offset) noexcept {
    std::uint8_t key[8];
    for (int i = 0; i < 8; ++i)
        key[i] = mask[(offset + static_cast<unsigned>(i)) & 3];
    std::uint64_t word_key;
    std::memcpy(&word_key, key, 8);
    std::size_t i = 0;
    // Vector extensions (GCC and Clang): 32 bytes a step where the target has the registers.
    using v32 = std::uint64_t __attribute__((vector_size(32)));
    const v32 wide_key = {word_key, word_key, word_key, word_key};
    for (; i + 32 <= n; i += 32) {
        v32 block;
        std::memcpy(&block, data + i, 32);
        block ^= wide_key;
        std::memcpy(data + i, &block, 32);
    }
    for (; i + 8 <= n; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= word_key;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < n; ++i)
        data[i] = static_cast<char>(data[i] ^ key[i & 7]);
}

} // namespace wharf::detail::ws
