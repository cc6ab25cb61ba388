// SPDX-License-Identifier: MIT
// Digest credentials (RFC 7616 §3.4): reading the auth-params of an Authorization value and
// computing the response they must carry. Only qop=auth, MD5 and SHA-256, userhash=false.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_params.hpp"
#include "wharf/auth.hpp"

namespace wharf::detail::auth {

/// The name of an algorithm in challenges and credentials: "MD5", "SHA-256".
std::string_view algorithm_name(digest_algorithm algorithm) noexcept;

enum class digest_error : std::uint8_t {
    none,
    syntax,                ///< not an auth-param list (see params_error)
    duplicate,             ///< a parameter twice
    missing,               ///< username, realm, nonce, uri, response, qop, cnonce or nc absent
    two_usernames,         ///< both username and username* (RFC 7616 §3.4)
    bad_username,          ///< username* that is not UTF-8 ext-value (RFC 8187), or empty
    unsupported_algorithm, ///< neither MD5 nor SHA-256 (the -sess variants included)
    unsupported_qop,       ///< a qop other than auth (auth-int is not offered)
    bad_nc,                ///< nc is not 8 hex digits, or is zero
    userhash,              ///< userhash=true (not offered), or not a boolean
};

/// The parts of Digest credentials the server checks, unquoted.
struct digest_credentials {
    std::string username; ///< from username, or username* decoded
    std::string realm, nonce, uri, response, cnonce, qop;
    std::string nc_text; ///< nc as sent (it is hashed as sent)
    std::uint32_t nc = 0;
    digest_algorithm algorithm = digest_algorithm::md5; ///< MD5 when absent (RFC 7616 §3.4)
    std::optional<std::string> opaque;
    digest_error error = digest_error::none;
    bool ok() const noexcept { return error == digest_error::none; }
};

/// Reads the auth-params after "Digest " in an Authorization value. Parameters it does not
/// know are ignored (RFC 7616 §3.4).
digest_credentials parse_digest(std::string_view params);

/// HA1 = H(username ":" realm ":" password) in lower-case hex (RFC 7616 §3.4.2).
std::string digest_ha1(digest_algorithm algorithm, std::string_view username,
                       std::string_view realm, std::string_view password);

/// The response the credentials must carry for a request with `method`, given HA1 (RFC 7616
/// §3.4.1, qop=auth): H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)).
std::string digest_response(digest_algorithm algorithm, std::string_view ha1,
                            const digest_credentials& credentials, std::string_view method);

/// The rspauth of the Authentication-Info field that answers the credentials (RFC 7616 §3.5):
/// the response computed with A2 = ":" uri, so the client can tell that the server, too, knows
/// HA1.
std::string digest_rspauth(digest_algorithm algorithm, std::string_view ha1,
                           const digest_credentials& credentials);

} // namespace wharf::detail::auth
