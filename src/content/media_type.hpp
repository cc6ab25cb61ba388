// SPDX-License-Identifier: MIT
// Which media types a body reader takes.
#pragma once

#include <string_view>

#include "wharf/headers.hpp"

namespace wharf::detail {

/// True when `media_type` is `exact` or a structured-syntax type ending in `suffix` ("+json"),
/// ignoring case.
inline bool is_media_type(std::string_view media_type, std::string_view exact,
                          std::string_view suffix) noexcept {
    if (iequals(media_type, exact)) return true;
    const auto slash = media_type.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    const std::string_view subtype = media_type.substr(slash + 1);
    return subtype.size() > suffix.size() &&
           iequals(subtype.substr(subtype.size() - suffix.size()), suffix);
}

} // namespace wharf::detail
