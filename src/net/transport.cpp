// SPDX-License-Identifier: MIT
#include "net/transport.hpp"

#include <cerrno>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wharf::detail {

ssize_t socket_transport::read(char* buf, std::size_t len) noexcept {
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, len, 0);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t socket_transport::writev(const iovec* iov, int count, bool more) noexcept {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    for (;;) {
        const ssize_t n = ::sendmsg(fd_, &msg, flags);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t socket_transport::sendfile(int fd, off_t* offset, std::size_t count) noexcept {
    for (;;) {
        const ssize_t n = ::sendfile(fd_, fd, offset, count);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

void socket_transport::shutdown_write() noexcept {
    ::shutdown(fd_, SHUT_WR);
}

} // namespace wharf::detail
