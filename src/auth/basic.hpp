// SPDX-License-Identifier: MIT
// Basic credentials (RFC 7617): base64 of user-id ":" password, in UTF-8 (the charset the
// challenge asks for).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wharf::detail::auth {

/// Decodes base64 (RFC 4648 §4) strictly: the standard alphabet, padded to a multiple of
/// four, no whitespace, and no bits set in the padding (so each value has one encoding).
std::optional<std::string> decode_base64(std::string_view in);
/// Encodes `in` in padded base64.
std::string encode_base64(std::string_view in);

enum class basic_error : std::uint8_t {
    none,
    not_base64, ///< not a token68, or not canonical base64
    no_colon,   ///< the decoded text has no ':' between user-id and password
    control,    ///< a control character in the user-id or password (RFC 7617 §2)
    not_utf8,   ///< invalid UTF-8 (RFC 7617 §2.1, charset="UTF-8")
};

struct basic_credentials {
    std::string user;
    std::string password;
    basic_error error = basic_error::none;
    bool ok() const noexcept { return error == basic_error::none; }
};

/// Parses the token68 of a Basic Authorization value. The user-id ends at the first ':'
/// (it cannot hold one); the password is the rest and may.
basic_credentials parse_basic(std::string_view token68);

} // namespace wharf::detail::auth
