// SPDX-License-Identifier: MIT
// The syntax of credentials and challenges (RFC 9110 §11.2-§11.4): an auth-scheme, then a
// token68 or a comma-separated list of auth-params whose values are tokens or quoted-strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wharf::detail::auth {

/// An Authorization value split after its scheme.
struct credentials_view {
    std::string_view scheme; ///< the auth-scheme token as sent (compare with iequals)
    std::string_view rest;   ///< what follows the spaces after it (a token68 or auth-params)
};
/// Splits `value` (already trimmed) into scheme and rest; nullopt when it does not start with
/// a token followed by a space or its end.
std::optional<credentials_view> split_credentials(std::string_view value) noexcept;

/// True for a token68: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
bool is_token68(std::string_view s) noexcept;

/// One auth-param: its name as sent (a view into the parsed list) and its value, unquoted.
struct auth_param {
    std::string_view name;
    std::string value;
};

enum class params_error : std::uint8_t {
    none,
    syntax,    ///< not a #auth-param list (a missing "=", a bad quoted-string, ...)
    duplicate, ///< a name twice, in any case (RFC 9110 §11.2: each at most once)
    too_many,  ///< more than max_auth_params parameters
};

/// A list holds at most this many parameters (Digest credentials have 12 at most).
inline constexpr std::size_t max_auth_params = 32;

struct params_result {
    std::vector<auth_param> params;
    params_error error = params_error::none;
    bool ok() const noexcept { return error == params_error::none; }
    /// The value of the parameter named `name` (case-insensitive), if present.
    const std::string* get(std::string_view name) const noexcept;
};

/// Parses `#auth-param` (RFC 9110 §5.6.1, §11.2): name BWS "=" BWS (token / quoted-string),
/// separated by commas with optional whitespace; empty elements are allowed, as the list
/// rule says. The names are views into `list`.
params_result parse_auth_params(std::string_view list);

/// `s` as a quoted-string: between double quotes, with '"' and '\' escaped.
std::string quoted(std::string_view s);

} // namespace wharf::detail::auth
