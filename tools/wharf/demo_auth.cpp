// SPDX-License-Identifier: MIT
// The authentication demo endpoint: GET /whoami, behind Basic and Digest (realm "wharf demo")
// or a verified TLS client certificate.
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <wharf/auth.hpp>
#include <wharf/json.hpp>
#include <wharf/session.hpp>

#include "demo.hpp"

namespace wharf_cli {

namespace {

// WHARF_DEMO_NONCE_LIFETIME=SECONDS shortens the Digest nonces' life (default 300 s), so that
// a test can see stale=true without waiting five minutes. Not a flag: nobody else needs it.
std::chrono::seconds demo_nonce_lifetime() {
    const char* text = std::getenv("WHARF_DEMO_NONCE_LIFETIME");
    if (text != nullptr && *text != '\0') {
        char* end = nullptr;
        const long seconds = std::strtol(text, &end, 10);
        if (*end == '\0' && seconds > 0) return std::chrono::seconds(seconds);
    }
    return std::chrono::seconds(300);
}

// {"user": ..., "scheme": ...} in that order (ordered_json: the contract's order, which a
// reader comparing text rather than values would expect).
void whoami(wharf::session& s) {
    const wharf::request& req = s.request();
    nlohmann::ordered_json body;
    body["user"] = std::string(req.user());
    body["scheme"] = std::string(req.auth_scheme());
    s.response().json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace

void add_auth_demo_routes(wharf::router& routes, std::vector<demo_user> users) {
    // Read-only once built: the lookup runs on every worker at once.
    auto accounts = std::make_shared<const std::map<std::string, std::string, std::less<>>>(
        users.begin(), users.end());

    wharf::auth_options o;
    o.realm = "wharf demo";
    o.nonce_lifetime = demo_nonce_lifetime();
    o.lookup = [accounts](std::string_view user,
                          wharf::digest_algorithm) -> std::optional<wharf::stored_credential> {
        const auto found = accounts->find(user);
        if (found == accounts->end()) return std::nullopt;
        return wharf::stored_credential{wharf::stored_credential::password, found->second};
    };
    // A certificate that chains to --tls-client-ca names its user by its subject CN.
    o.certificate_user = [](const wharf::peer_certificate& cert) -> std::optional<std::string> {
        if (cert.subject_cn.empty()) return std::nullopt;
        return cert.subject_cn;
    };

    routes.get("/whoami", wharf::with_filters({wharf::authenticate(std::move(o))}, whoami));
}

} // namespace wharf_cli
