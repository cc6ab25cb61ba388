// SPDX-License-Identifier: MIT
#pragma once

namespace wharf {

/// The library's version, "major.minor.patch".
inline constexpr const char* version = "0.1.0";

} // namespace wharf
