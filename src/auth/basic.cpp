// SPDX-License-Identifier: MIT
#include "auth/basic.hpp"

#include <openssl/evp.h>

#include "auth/auth_params.hpp"
#include "ws/utf8.hpp"

namespace wharf::detail::auth {
namespace {

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool has_control(std::string_view s) noexcept {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return true;
    }
    return false;
}

bool valid_utf8(std::string_view s) noexcept {
    ws::utf8_validator v;
    return v.feed(s) && v.complete();
}

} // namespace

std::optional<std::string> decode_base64(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (in.back() == '=') padding = in[in.size() - 2] == '=' ? 2 : 1;
    const std::size_t data = in.size() - padding;
    for (std::size_t i = 0; i < data; ++i)
        if (base64_value(in[i]) < 0) return std::nullopt;
    // The last character before the padding carries 4 (one '=') or 2 (two) unused bits:
    // they must be zero. EVP_DecodeBlock would accept any, and it also skips whitespace,
    // which is why it only runs on input checked here.
    if (padding == 2 && (base64_value(in[data - 1]) & 0x0f) != 0) return std::nullopt;
    if (padding == 1 && (base64_value(in[data - 1]) & 0x03) != 0) return std::nullopt;
    std::string out(in.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) return std::nullopt;
    out.resize(out.size() - padding); // EVP_DecodeBlock decodes each '=' as a zero byte
    return out;
}

std::string encode_base64(std::string_view in) {
    std::string out((in.size() + 2) / 3 * 4, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

basic_credentials parse_basic(std::string_view token68) {
    basic_credentials c;
    std::optional<std::string> text;
    if (is_token68(token68)) text = decode_base64(token68);
    if (!text) {
        c.error = basic_error::not_base64;
        return c;
    }
    const auto colon = text->find(':');
    if (colon == std::string::npos) {
        c.error = basic_error::no_colon;
        return c;
    }
    if (has_control(*text)) {
        c.error = basic_error::control;
        return c;
    }
    if (!valid_utf8(*text)) {
        c.error = basic_error::not_utf8;
        return c;
    }
    c.user = text->substr(0, colon);
    c.password = text->substr(colon + 1);
    return c;
}

} // namespace wharf::detail::auth
