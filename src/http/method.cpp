// SPDX-License-Identifier: MIT
#include "wharf/method.hpp"

#include <array>

namespace wharf {
namespace {

constexpr std::array<std::string_view, method_count> names = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", ""};

} // namespace

method method_from_string(std::string_view token) noexcept {
    // GET and POST first: they are nearly all of the traffic.
    if (token == "GET") return method::get;
    if (token == "POST") return method::post;
    for (std::size_t i = 1; i + 1 < names.size(); ++i)
        if (token == names[i]) return static_cast<method>(i);
    return method::other;
}

std::string_view to_string(method m) noexcept {
    return names[static_cast<std::size_t>(m)];
}

} // namespace wharf
