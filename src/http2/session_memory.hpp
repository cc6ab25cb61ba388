// SPDX-License-Identifier: MIT
// The allocator nghttp2 sessions use: per-thread free lists by size class for the small
// blocks a stream costs (stream, outbound items, header copies), so a busy connection's
// streams come and go without reaching malloc. Each worker thread keeps its own lists (a
// session lives on one loop thread).
#pragma once

#include <nghttp2/nghttp2.h>

namespace wharf::http2 {

nghttp2_mem* session_memory() noexcept;

} // namespace wharf::http2
