// SPDX-License-Identifier: MIT
// The OpenSSL primitives the authentication filters use: Digest's hashes, HMAC, random bytes
// and a comparison that takes as long whatever the secrets hold.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "wharf/auth.hpp"

namespace wharf::detail::auth {

/// The lower-case hex of H(parts joined by ':'), H being MD5 or SHA-256 (RFC 7616 §3.4.1's
/// notation H(a ":" b ...)).
std::string hash_hex(digest_algorithm algorithm, std::initializer_list<std::string_view> parts);

/// HMAC-SHA256 of `data` under `key`.
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);

/// `n` bytes from OpenSSL's CSPRNG. Throws std::runtime_error when it has none to give.
std::string random_bytes(std::size_t n);

/// Whether `a` and `b` are equal, in a time that depends on neither their contents nor
/// which of them is longer: both are hashed (SHA-256) and the digests compared with
/// CRYPTO_memcmp.
bool same_secret(std::string_view a, std::string_view b) noexcept;

/// `s` with ASCII upper-case letters lowered (hex digests compare in lower case).
std::string ascii_lower(std::string_view s);

} // namespace wharf::detail::auth
