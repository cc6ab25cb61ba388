// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "wharf/router.hpp"

namespace wharf {

/// Options for static_files().
struct static_file_options {
    /// Directories without an index answer an HTML listing; when false they answer 403.
    bool listing = true;
    /// The Cache-Control value of file responses ("" for none).
    std::string cache_control;
    /// The file a directory serves when present ("" for none).
    std::string index = "index.html";
    /// Follow symlinks whose target lies outside the root (off: such paths answer 404).
    bool follow_symlinks_outside = false;
};

/// A handler that serves files below `root` for GET and HEAD. Mount it on a wildcard route
/// ("/*" or "/files/*"): the wildcard tail names the file.
///
/// - No request can read outside `root`: dot segments, NUL and empty segments are refused,
///   and symlinks that leave the root are not followed (unless the options allow it).
/// - Content-Type comes from the extension (a built-in table, then /etc/mime.types); text/*
///   types carry charset=utf-8.
/// - Every file response has a strong ETag (size, mtime in ns, inode), Last-Modified and
///   Accept-Ranges; conditional requests and Range are answered (response::process_ranges).
/// - Precompressed variants: when the client accepts br, zstd or gzip and `file.br`,
///   `file.zst` or `file.gz` is a regular file beside `file` (not a symlink), it is sent with
///   Content-Encoding; both answers then carry Vary: Accept-Encoding.
/// - A directory requested without its trailing slash is redirected (301) to it; otherwise it
///   serves its index file, or a listing.
/// - Open files are cached (1024 per handler; files up to 32 KiB in memory) and revalidated
///   with stat once a second, so a changed file may be served stale for up to a second.
///
/// Throws std::invalid_argument when `root` is not a directory.
handler static_files(std::string root, static_file_options options = {});

/// The media type for a file name's extension ("application/octet-stream" when unknown).
std::string_view mime_type(std::string_view file_name) noexcept;

} // namespace wharf
