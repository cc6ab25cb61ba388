// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

namespace wharf {

/// The standard reason phrase for a status code (RFC 9110 §15), or "Unknown" for codes it
/// does not name.
std::string_view reason_phrase(int status) noexcept;

/// True when a response with this status never carries a body (1xx, 204, 304).
constexpr bool status_forbids_body(int status) noexcept {
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace wharf
