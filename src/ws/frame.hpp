// SPDX-License-Identifier: MIT
// WebSocket frame heads (RFC 6455 §5.2): parsing the client's, writing the server's, and the
// client's payload mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace wharf::detail::ws {

enum opcode : std::uint8_t {
    op_continuation = 0x0,
    op_text = 0x1,
    op_binary = 0x2,
    op_close = 0x8,
    op_ping = 0x9,
    op_pong = 0xA,
};

constexpr bool is_control(std::uint8_t op) noexcept {
    return (op & 0x8) != 0;
}

/// The longest head: 2 bytes, a 64-bit length and the mask.
inline constexpr std::size_t max_head_size = 14;
/// The longest control payload (RFC 6455 §5.5).
inline constexpr std::size_t max_control_payload = 125;

struct frame_head {
    std::uint64_t length = 0;
    std::uint8_t mask[4] = {};
    std::uint8_t op = 0;
    bool fin = false;
    bool rsv1 = false;
    bool rsv2 = false;
    bool rsv3 = false;
    bool masked = false;
};

/// Parses the head at the front of `in`: its size in bytes, 0 when `in` holds only part of
/// it, or -1 when the length is one no endpoint may send (not in its shortest form, or 2^63
/// and more).
int parse_head(std::span<const char> in, frame_head& out) noexcept;

/// Writes the head of an unmasked (server) frame into `out` (max_head_size bytes of room) and
/// returns its size: 2, 4 or 10.
std::size_t write_head(char* out, std::uint8_t op, bool fin, bool rsv1,
                       std::uint64_t length) noexcept;

/// XORs `n` bytes of payload with the mask; `offset`: how far into the payload `data` starts.
void unmask(char* data, std::size_t n, const std::uint8_t mask[4], std::uint64_t offset) noexcept;

} // namespace wharf::detail::ws
