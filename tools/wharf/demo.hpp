// SPDX-License-Identifier: MIT
// The demo endpoints `wharf serve` mounts unless --no-demo is given.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <wharf/router.hpp>
#include <wharf/thread_pool.hpp>

namespace wharf_cli {

/// GET /plaintext, /json, /headers, /stream, /bytes, /gather, /wait, /events, /compute and
/// POST /echo, /upload-digest. `pool` runs the work that must not run on a loop.
void add_demo_routes(wharf::router& routes, wharf::thread_pool& pool);

/// GET /negotiate and POST /json/echo, /xml/echo, /form (issue 14's content endpoints).
void add_content_demo_routes(wharf::router& routes);

/// A demo user and password (wharf serve --demo-user NAME:PASSWORD).
using demo_user = std::pair<std::string, std::string>;
/// GET /whoami behind Basic and Digest authentication (realm "wharf demo"), or a verified TLS
/// client certificate; `users` are the accounts (alice:wonderland unless replaced).
void add_auth_demo_routes(wharf::router& routes, std::vector<demo_user> users);

} // namespace wharf_cli
