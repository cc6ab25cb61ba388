// SPDX-License-Identifier: MIT
#include "http1/h2c_upgrade.hpp"

#include <openssl/evp.h>

#include "http/chars.hpp"

namespace wharf::http1 {
namespace {

/// RFC 7540 §3.2.1: base64url without padding. False when it is not.
bool decode_settings(std::string_view in, std::string& out) {
    // token68 (RFC 9110 §11.2) has at least one character; far fewer than 4096 hold every
    // setting there is.
    if (in.empty() || in.size() > 4096) return false;
    std::string b64(in);
    for (char& c : b64) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            return false;
    }
    while (b64.size() % 4 != 0)
        b64 += '=';
    out.resize(b64.size() / 4 * 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    if (n < 0) return false;
    out.resize(static_cast<std::size_t>(n) - (b64.size() - in.size())); // padding decodes to 0s
    return out.size() % 6 == 0;                                         // whole SETTINGS entries
}

bool hop_by_hop(std::string_view name) {
    return iequals(name, "connection") || iequals(name, "upgrade") ||
           iequals(name, "http2-settings") || iequals(name, "keep-alive") ||
           iequals(name, "proxy-connection") || iequals(name, "transfer-encoding") ||
           iequals(name, "host") || iequals(name, "te");
}

} // namespace

std::unique_ptr<detail::h2c_upgrade> h2c_upgrade_request(const request_head& head,
                                                         std::span<const header_field> fields,
                                                         std::string_view host) {
    if (head.major != 1 || head.minor != 1) return nullptr;
    bool upgrade = false;
    bool connection_lists_settings = false;
    const header_field* settings = nullptr;
    for (const header_field& f : fields) {
        if (iequals(f.name, "upgrade")) {
            upgrade = upgrade || chars::list_has(f.value, "h2c");
        } else if (iequals(f.name, "connection")) {
            connection_lists_settings =
                connection_lists_settings || chars::list_has(f.value, "http2-settings");
        } else if (iequals(f.name, "http2-settings")) {
            if (settings) return nullptr; // exactly one (RFC 7540 §3.2.1)
            settings = &f;
        }
    }
    if (!upgrade || !connection_lists_settings || !settings) return nullptr;
    auto up = std::make_unique<detail::h2c_upgrade>();
    if (!decode_settings(settings->value, up->settings)) return nullptr;
    up->method = head.method;
    up->target = head.target;
    up->authority = host;
    for (const header_field& f : fields) {
        if (hop_by_hop(f.name)) continue;
        std::string name(f.name);
        for (char& c : name)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        up->fields.emplace_back(std::move(name), std::string(f.value));
    }
    return up;
}

} // namespace wharf::http1
