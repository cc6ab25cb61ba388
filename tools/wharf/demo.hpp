// SPDX-License-Identifier: MIT
// The demo endpoints `wharf serve` mounts unless --no-demo is given.
#pragma once

#include <wharf/router.hpp>
#include <wharf/thread_pool.hpp>

namespace wharf_cli {

/// GET /plaintext, /json, /headers, /stream, /bytes, /gather, /wait, /events, /compute and
/// POST /echo, /upload-digest. `pool` runs the work that must not run on a loop.
void add_demo_routes(wharf::router& routes, wharf::thread_pool& pool);

} // namespace wharf_cli
