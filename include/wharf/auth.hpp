// SPDX-License-Identifier: MIT
// Authentication filters (S6): HTTP Basic (RFC 7617), HTTP Digest (RFC 7616) and TLS client
// certificates, as a filter (wharf/filter.hpp) that names the request's user or answers 401.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wharf/filter.hpp"
#include "wharf/tls.hpp"

namespace wharf {

/// The hash of a Digest challenge and its credentials (RFC 7616 §3.3). The "-sess" variants
/// are not offered, and credentials that name one are refused.
enum class digest_algorithm : std::uint8_t { md5, sha256 };

/// What the application stores for a user.
struct stored_credential {
    enum kind_t : std::uint8_t {
        password, ///< `secret` is the password itself
        ha1,      ///< `secret` is the lower-case hex of H(user ":" realm ":" password), with H
                  ///< the algorithm the lookup was asked for
    } kind = password;
    std::string secret;
};

/// How authenticate() checks requests.
struct auth_options {
    /// The protection space, sent in every challenge and part of every Digest hash.
    std::string realm;
    bool basic = true;  ///< accept and offer Basic (RFC 7617, charset UTF-8)
    bool digest = true; ///< accept and offer Digest (RFC 7616, qop=auth)
    /// One Digest challenge per algorithm, in this order (clients usually take the first they
    /// know: put the strongest first). Credentials for an algorithm not listed are refused.
    std::vector<digest_algorithm> digest_algorithms{digest_algorithm::sha256,
                                                    digest_algorithm::md5};
    /// The application's account lookup: the user's password, or the stored HA1 for
    /// `algorithm`; nullopt for an unknown user. Basic asks for the first of
    /// digest_algorithms (SHA-256 when empty) and checks an HA1 by hashing the password it got.
    /// Called on worker threads, concurrently: it must be thread-safe, and it should not block.
    std::function<std::optional<stored_credential>(std::string_view user,
                                                   digest_algorithm algorithm)>
        lookup;
    /// How long a Digest nonce is good for; a right response with an older one is answered
    /// 401 with stale=true (the client retries with the new nonce, without asking the user).
    std::chrono::seconds nonce_lifetime{300};
    /// The HMAC key that makes nonces verifiable without storing them. Empty: 32 random bytes
    /// per filter. Give every server behind one name the same key to accept each other's
    /// nonces (their clocks should agree, too).
    std::string nonce_key;
    /// How many nonces the replay check remembers (the nonce counts seen, in a window of the
    /// 128 below the highest). The least recently used is forgotten first; a nonce that may
    /// have been forgotten is then answered stale, never accepted twice.
    std::size_t replay_entries = 4096;
    /// When the request has no Authorization field, a verified TLS client certificate may
    /// stand for the user: return the user's name (its subject_cn, say), or nullopt to ignore
    /// the certificate. Unset: certificates are never used. Called on worker threads.
    std::function<std::optional<std::string>(const peer_certificate&)> certificate_user;
};

/// A filter that lets a request through when it proves a user (then request().user() names
/// them and request().auth_scheme() is "basic", "digest" or "tls") and answers anything else
/// with 401 Unauthorized: one WWW-Authenticate field per Digest algorithm (a fresh nonce,
/// stale=true when the old one expired), then one for Basic, and a short text body. Missing,
/// malformed, unknown or wrong credentials are all answered alike, except Digest credentials
/// whose uri is not the request target: 400 (RFC 7616 §3.4.6). An accepted Digest request's
/// response carries Authentication-Info with rspauth (RFC 7616 §3.5). Throws
/// std::invalid_argument for unusable options (no lookup with a scheme on, Digest without
/// algorithms, a realm with control characters, nothing enabled at all).
///
/// @code
///   wharf::auth_options o;
///   o.realm = "staff";
///   o.lookup = [](std::string_view user, wharf::digest_algorithm) {
///       return find_password(user); // std::optional<wharf::stored_credential>
///   };
///   routes.get("/private", wharf::with_filters({wharf::authenticate(o)}, handler));
/// @endcode
std::shared_ptr<filter> authenticate(auth_options options);

} // namespace wharf
