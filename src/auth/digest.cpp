// SPDX-License-Identifier: MIT
#include "auth/digest.hpp"

#include "auth/crypto.hpp"
#include "http/chars.hpp"
#include "wharf/headers.hpp"
#include "ws/utf8.hpp"

namespace wharf::detail::auth {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// nc-value = 8LHEX (RFC 7616 §3.4); upper-case digits are taken too. The first request
// with a nonce counts 1, so 0 is never right.
std::optional<std::uint32_t> parse_nc(std::string_view s) noexcept {
    if (s.size() != 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : s) {
        const int d = hex_value(c);
        if (d < 0) return std::nullopt;
        v = v << 4 | static_cast<std::uint32_t>(d);
    }
    if (v == 0) return std::nullopt;
    return v;
}

// username* (RFC 7616 §3.4.4) is an ext-value (RFC 8187 §3.2): charset "'" [language] "'"
// pct-encoded value. Only UTF-8 is taken (RFC 8187 requires recipients to support it; the
// other charset it names, ISO-8859-1, is not worth the code).
std::optional<std::string> decode_ext_value(std::string_view s) {
    const auto first = s.find('\'');
    if (first == std::string_view::npos || !iequals(s.substr(0, first), "UTF-8"))
        return std::nullopt;
    const auto second = s.find('\'', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    std::string out;
    for (std::size_t i = second + 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi << 4 | lo);
            i += 2;
        } else if (chars::token[static_cast<unsigned char>(c)] && c != '*' && c != '\'' &&
                   c != '%') {
            out += c; // attr-char: a token character but '*', '\'' and '%'
        } else {
            return std::nullopt;
        }
    }
    ws::utf8_validator v;
    if (out.empty() || !v.feed(out) || !v.complete()) return std::nullopt;
    return out;
}

} // namespace

std::string_view algorithm_name(digest_algorithm algorithm) noexcept {
    return algorithm == digest_algorithm::md5 ? "MD5" : "SHA-256";
}

digest_credentials parse_digest(std::string_view list) {
    digest_credentials c;
    const params_result p = parse_auth_params(list);
    if (!p.ok()) {
        c.error =
            p.error == params_error::duplicate ? digest_error::duplicate : digest_error::syntax;
        return c;
    }
    const std::string* username = p.get("username");
    const std::string* username_ext = p.get("username*");
    const std::string* realm = p.get("realm");
    const std::string* nonce = p.get("nonce");
    const std::string* uri = p.get("uri");
    const std::string* response = p.get("response");
    const std::string* qop = p.get("qop");
    const std::string* cnonce = p.get("cnonce");
    const std::string* nc = p.get("nc");
    if ((username == nullptr && username_ext == nullptr) || realm == nullptr || nonce == nullptr ||
        uri == nullptr || response == nullptr || qop == nullptr || cnonce == nullptr ||
        nc == nullptr) {
        c.error = digest_error::missing;
        return c;
    }
    if (username != nullptr && username_ext != nullptr) {
        c.error = digest_error::two_usernames;
        return c;
    }
    if (username_ext != nullptr) {
        auto decoded = decode_ext_value(*username_ext);
        if (!decoded) {
            c.error = digest_error::bad_username;
            return c;
        }
        c.username = std::move(*decoded);
    } else {
        c.username = *username;
    }
    if (const std::string* algorithm = p.get("algorithm")) {
        if (iequals(*algorithm, "MD5")) {
            c.algorithm = digest_algorithm::md5;
        } else if (iequals(*algorithm, "SHA-256")) {
            c.algorithm = digest_algorithm::sha256;
        } else {
            c.error = digest_error::unsupported_algorithm;
            return c;
        }
    }
    if (!iequals(*qop, "auth")) {
        c.error = digest_error::unsupported_qop;
        return c;
    }
    const auto count = parse_nc(*nc);
    if (!count) {
        c.error = digest_error::bad_nc;
        return c;
    }
    if (const std::string* userhash = p.get("userhash"); userhash && !iequals(*userhash, "false")) {
        c.error = digest_error::userhash;
        return c;
    }
    c.realm = *realm;
    c.nonce = *nonce;
    c.uri = *uri;
    c.response = *response;
    c.cnonce = *cnonce;
    c.qop = *qop;
    c.nc_text = *nc;
    c.nc = *count;
    if (const std::string* opaque = p.get("opaque")) c.opaque = *opaque;
    return c;
}

std::string digest_ha1(digest_algorithm algorithm, std::string_view username,
                       std::string_view realm, std::string_view password) {
    return hash_hex(algorithm, {username, realm, password});
}

std::string digest_response(digest_algorithm algorithm, std::string_view ha1,
                            const digest_credentials& c, std::string_view method) {
    const std::string ha2 = hash_hex(algorithm, {method, c.uri});
    return hash_hex(algorithm, {ha1, c.nonce, c.nc_text, c.cnonce, c.qop, ha2});
}

std::string digest_rspauth(digest_algorithm algorithm, std::string_view ha1,
                           const digest_credentials& c) {
    return digest_response(algorithm, ha1, c, {}); // H("" ":" uri) is H(":" uri)
}

} // namespace wharf::detail::auth
