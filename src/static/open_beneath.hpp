// SPDX-License-Identifier: MIT
// Opening a path so that the kernel itself keeps it inside a directory: no "..", absolute
// symlink or symlink out of the tree can lead elsewhere, even if the tree changes between a
// check and the open (openat2 with RESOLVE_BENEATH).
#pragma once

#include <string>
#include <string_view>

namespace wharf::detail {

/// True when `path` names `root` itself or something below it (both absolute and resolved).
constexpr bool path_within(std::string_view root, std::string_view path) noexcept {
    return path == root || (path.size() > root.size() && path.starts_with(root) &&
                            (path[root.size()] == '/' || root == "/"));
}

/// A directory that opens are confined to. Empty (no confinement) when default-built.
class confined_root {
  public:
    confined_root() = default;
    /// Opens `dir` (an absolute, resolved path); throws std::system_error when it cannot.
    explicit confined_root(std::string dir);
    ~confined_root();
    confined_root(const confined_root&) = delete;
    confined_root& operator=(const confined_root&) = delete;

    bool empty() const noexcept { return fd_ < 0; }
    const std::string& path() const noexcept { return path_; }

    /// Opens `path` with `flags` (O_CLOEXEC is added). When confined and `path` lies under
    /// the root, it is resolved beneath the root only: escaping it fails with EXDEV (or ELOOP,
    /// ENOENT). Otherwise, and on kernels without openat2, a plain open(). -errno on failure.
    int open(const std::string& path, int flags) const noexcept;

  private:
    std::string path_;
    int fd_ = -1;
};

} // namespace wharf::detail
