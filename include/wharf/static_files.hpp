// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "wharf/router.hpp"

namespace wharf {

/// A handler that serves files below `root` for GET and HEAD, with Content-Type from the file
/// extension; 404 for anything missing or outside the root. Mount it on a wildcard route
/// ("/*" or "/files/*"): the wildcard tail names the file, and a directory serves its
/// index.html. No request can read outside `root` ("..", encoded or not, and symlinks that
/// leave the root are refused). Throws std::invalid_argument when `root` is not a directory.
handler static_files(std::string root);

/// The media type for a file name's extension ("application/octet-stream" when unknown).
std::string_view mime_type(std::string_view file_name) noexcept;

} // namespace wharf
