// SPDX-License-Identifier: MIT
// The authentication demo endpoint: GET /whoami.
#include "demo.hpp"

namespace wharf_cli {

void add_auth_demo_routes(wharf::router& routes, std::vector<demo_user> users) {
    (void)routes;
    (void)users;
}

} // namespace wharf_cli
