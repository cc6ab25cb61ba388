// SPDX-License-Identifier: MIT
#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <charconv>

#include "http/chars.hpp"

namespace wharf::detail::ws {
namespace {

constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool has_token(const header_view& headers, std::string_view name, std::string_view token) {
    for (const header_field& f : headers) {
        if (iequals(f.name, name) && chars::list_has(f.value, token)) return true;
    }
    return false;
}

bool base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// 16 bytes in base64: 22 characters, "==", and no bits set beyond the 128th.
bool valid_key(std::string_view key) noexcept {
    if (key.size() != 24 || key.substr(22) != "==") return false;
    for (std::size_t i = 0; i < 22; ++i)
        if (!base64_char(key[i])) return false;
    const char last = key[21];
    return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
}

} // namespace

handshake_problem check_handshake(const request& r) noexcept {
    const header_view& h = r.headers();
    if (r.version() == request::protocol_version::http2) {
        // RFC 8441 §4, §5: an extended CONNECT; HTTP/2 has no Upgrade (nor a 426 without it).
        if (r.method() != method::connect || r.connect_protocol() != "websocket")
            return {400, "a WebSocket over HTTP/2 is an extended CONNECT (RFC 8441)"};
        if (h.count("sec-websocket-version") != 1 || *h.get("sec-websocket-version") != "13")
            return {400, "this server speaks WebSocket version 13"};
        return {};
    }
    if (!has_token(h, "Connection", "upgrade") || !has_token(h, "Upgrade", "websocket"))
        return {426, "this resource needs a WebSocket handshake"};
    // RFC 6455 §4.1: the handshake is a GET; HEAD reaches GET routes but cannot switch.
    if (r.method() != method::get) return {426, "a WebSocket handshake is a GET request"};
    if (r.version() != request::protocol_version::http1_1)
        return {400, "a WebSocket handshake needs HTTP/1.1"};
    if (h.count("Sec-WebSocket-Version") != 1 || *h.get("Sec-WebSocket-Version") != "13")
        return {426, "this server speaks WebSocket version 13"};
    if (h.count("Sec-WebSocket-Key") != 1 || !valid_key(*h.get("Sec-WebSocket-Key")))
        return {400, "Sec-WebSocket-Key must be 16 bytes in base64"};
    return {};
}

std::string accept_key(std::string_view key) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    std::string input;
    input.reserve(key.size() + guid.size());
    input.append(key).append(guid);
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    std::string out(28, '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, SHA_DIGEST_LENGTH);
    return out;
}

std::vector<std::string_view> offered_subprotocols(const header_view& headers) {
    std::vector<std::string_view> out;
    for (const header_field& f : headers)
        if (iequals(f.name, "Sec-WebSocket-Protocol"))
            chars::for_each_element(f.value, [&](std::string_view p) {
                out.push_back(p);
                return true;
            });
    return out;
}

namespace {

// One offer's parameters; false when it is malformed (RFC 7692 §7.1: decline it).
struct deflate_offer {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0; // 0: not given
    bool client_max_window_bits = false;
};

bool window_bits(std::string_view value, int& out) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
    if (value.empty() || value.size() > 2 || value.front() == '0') return false;
    int bits = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
    if (ec != std::errc{} || end != value.data() + value.size() || bits < 8 || bits > 15)
        return false;
    out = bits;
    return true;
}

bool parse_offer(std::string_view params, deflate_offer& offer) {
    bool seen[4] = {};
    while (!params.empty()) {
        const auto semi = params.find(';');
        const std::string_view param = chars::trim_ows(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        const auto eq = param.find('=');
        const std::string_view name = chars::trim_ows(param.substr(0, eq));
        const bool has_value = eq != std::string_view::npos;
        const std::string_view value = has_value ? chars::trim_ows(param.substr(eq + 1)) : "";
        int which;
        if (iequals(name, "server_no_context_takeover") && !has_value) {
            which = 0;
            offer.server_no_context_takeover = true;
        } else if (iequals(name, "client_no_context_takeover") && !has_value) {
            which = 1;
            offer.client_no_context_takeover = true;
        } else if (iequals(name, "server_max_window_bits") && has_value) {
            which = 2;
            if (!window_bits(value, offer.server_max_window_bits)) return false;
        } else if (iequals(name, "client_max_window_bits")) {
            which = 3;
            int ignored = 0;
            if (has_value && !window_bits(value, ignored)) return false;
            offer.client_max_window_bits = true;
        } else {
            return false; // an unknown parameter, or a known one with a wrong value shape
        }
        if (seen[which]) return false;
        seen[which] = true;
    }
    return true;
}

} // namespace

deflate_agreement negotiate_deflate(const header_view& headers, bool context_takeover) {
    deflate_agreement agreed;
    for (const header_field& f : headers) {
        if (!iequals(f.name, "Sec-WebSocket-Extensions")) continue;
        chars::for_each_element(f.value, [&](std::string_view extension) {
            const auto semi = extension.find(';');
            if (!iequals(chars::trim_ows(extension.substr(0, semi)), "permessage-deflate"))
                return true;
            deflate_offer offer;
            const std::string_view params =
                semi == std::string_view::npos ? std::string_view{} : extension.substr(semi + 1);
            if (!parse_offer(params, offer)) return true;
            // zlib's raw deflate cannot keep to a 256-byte window: decline such offers.
            if (offer.server_max_window_bits == 8) return true;
            agreed.enabled = true;
            agreed.server_context_takeover = context_takeover && !offer.server_no_context_takeover;
            agreed.client_context_takeover = !offer.client_no_context_takeover;
            agreed.server_window_bits =
                offer.server_max_window_bits ? offer.server_max_window_bits : 15;
            agreed.response = "permessage-deflate";
            if (!agreed.server_context_takeover) agreed.response += "; server_no_context_takeover";
            if (offer.client_no_context_takeover) agreed.response += "; client_no_context_takeover";
            if (offer.server_max_window_bits)
                agreed.response +=
                    "; server_max_window_bits=" + std::to_string(offer.server_max_window_bits);
            return false;
        });
        if (agreed.enabled) break;
    }
    return agreed;
}

} // namespace wharf::detail::ws
