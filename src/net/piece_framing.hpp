// SPDX-License-Identifier: MIT
// How a protocol wraps each piece a body source produces while it is written (HTTP/1 chunks;
// HTTP/2 DATA frames later). The writer reserves the room and calls back; it knows no protocol.
#pragma once

#include <cstddef>

namespace wharf::detail {

struct piece_framing {
    std::size_t head_room; ///< most bytes write_head may write
    std::size_t tail_room; ///< most bytes write_tail may write
    /// Writes the frame head for a piece of `size` bytes so that it ends at `head_end`;
    /// returns its length (at most head_room).
    std::size_t (*write_head)(char* head_end, std::size_t size) noexcept;
    /// Writes the frame tail at `tail`; returns its length (at most tail_room).
    std::size_t (*write_tail)(char* tail) noexcept;
};

} // namespace wharf::detail
