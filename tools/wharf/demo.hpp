// SPDX-License-Identifier: MIT
// The demo endpoints `wharf serve` mounts unless --no-demo is given.
#pragma once

#include <wharf/router.hpp>

namespace wharf_cli {

/// GET /plaintext, GET /json, POST /echo, GET /headers.
void add_demo_routes(wharf::router& routes);

} // namespace wharf_cli
