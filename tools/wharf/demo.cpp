// SPDX-License-Identifier: MIT
#include "demo.hpp"

#include <nlohmann/json.hpp>

namespace wharf_cli {

void add_demo_routes(wharf::router& routes) {
    routes.get("/plaintext", [](wharf::session& s) {
        s.response().body("Hello, World!", "text/plain");
    });
    routes.get("/json", [](wharf::session& s) {
        s.response().json(nlohmann::json{{"message", "Hello, World!"}}.dump());
    });
    routes.post("/echo", [](wharf::session& s) {
        const wharf::request& req = s.request();
        s.response().body(std::string(req.body()),
                          req.header("Content-Type").value_or("application/octet-stream"));
    });
    routes.get("/headers", [](wharf::session& s) {
        // Repeated fields become arrays, so nothing the client sent is lost.
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (const wharf::header_field& f : s.request().headers()) {
            const std::string name(f.name);
            auto& slot = out[name];
            if (slot.is_null()) {
                slot = std::string(f.value);
            } else {
                if (!slot.is_array()) slot = nlohmann::ordered_json::array({slot});
                slot.push_back(std::string(f.value));
            }
        }
        s.response().json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
}

} // namespace wharf_cli
