// SPDX-License-Identifier: MIT
#include "static/open_beneath.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

namespace wharf::detail {

confined_root::confined_root(std::string dir)
    : path_(std::move(dir)), fd_(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "open " + path_);
}

confined_root::~confined_root() {
    if (fd_ >= 0) ::close(fd_);
}

int confined_root::open(const std::string& path, int flags) const noexcept {
    flags |= O_CLOEXEC;
    const bool beneath = fd_ >= 0 && path != path_ && path_within(path_, path);
    if (beneath) {
        const std::string_view rel =
            std::string_view(path).substr(path_ == "/" ? 1 : path_.size() + 1);
        open_how how{};
        how.flags = static_cast<unsigned long long>(flags);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        const std::string rel_path(rel);
        const long fd = ::syscall(SYS_openat2, fd_, rel_path.c_str(), &how, sizeof how);
        if (fd >= 0) return static_cast<int>(fd);
        if (errno != ENOSYS) return -errno;
        // A kernel before 5.6: the caller's realpath check is all there is.
    }
    const int fd = ::open(path.c_str(), flags);
    return fd >= 0 ? fd : -errno;
}

} // namespace wharf::detail
