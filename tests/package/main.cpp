// SPDX-License-Identifier: MIT
// Builds and links against the installed library; exits 0 when routing works.
#include <wharf/wharf.hpp>

int main() {
    wharf::server_config config;
    config.listen = {"127.0.0.1:0"};
    wharf::server srv(config);
    srv.routes().get("/x", [](wharf::session& s) { s.response().append("x"); });
    if (srv.start()) return 1;
    const bool bound = !srv.local_addresses().empty() && srv.local_addresses()[0].port() != 0;
    srv.stop();
    srv.wait();
    return bound ? 0 : 1;
}
