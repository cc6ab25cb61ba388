// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string_view>

namespace wharf {

/// The request methods the router knows by name; anything else is `other` (its name stays on
/// the request).
enum class method : std::uint8_t {
    get,
    head,
    post,
    put,
    delete_,
    connect,
    options,
    trace,
    patch,
    other,
};

/// Number of named methods (the size of tables indexed by method).
inline constexpr std::size_t method_count = static_cast<std::size_t>(method::other) + 1;

/// The method for a case-sensitive method token ("GET" is get, "get" is other).
method method_from_string(std::string_view token) noexcept;

/// The canonical token of a named method; "" for `other`.
std::string_view to_string(method m) noexcept;

} // namespace wharf
