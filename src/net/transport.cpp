// SPDX-License-Identifier: MIT
#include "net/transport.hpp"

#include <algorithm>
#include <cerrno>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

namespace wharf::detail {

ssize_t transport::sendfile(int fd, off_t* offset, std::size_t count) noexcept {
    char buf[16 * 1024];
    const std::size_t want = std::min(count, sizeof buf);
    ssize_t got = 0;
    do {
        got = ::pread(fd, buf, want, *offset);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return got < 0 ? -errno : 0; // 0: the file ended early, as sendfile says
    const iovec iov{buf, static_cast<std::size_t>(got)};
    const ssize_t n = writev(&iov, 1, false);
    if (n > 0) *offset += n;
    return n;
}

socket_transport::~socket_transport() {
    if (fd_ >= 0) ::close(fd_);
}

ssize_t socket_transport::read(char* buf, std::size_t len) noexcept {
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, len, 0);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t socket_transport::writev(const iovec* iov, int count, bool more) noexcept {
    if (count == 1 && !more) {
        // The common small response: send() skips sendmsg's copying of the message header
        // and the iovec from user space.
        for (;;) {
            const ssize_t n = ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
            if (n >= 0) return n;
            if (errno != EINTR) return -errno;
        }
    }
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

std::size_t socket_readable(int fd) noexcept {
    int unread = 0;
    if (::ioctl(fd, FIONREAD, &unread) != 0 || unread < 0) return 0;
    return static_cast<std::size_t>(unread);
}

std::size_t socket_unacknowledged(int fd) noexcept {
    int queued = 0;
    if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
    return static_cast<std::size_t>(queued);
}

void socket_prepare_reset(int fd) noexcept {
    // A reset, not a FIN: the kernel drops what is queued at once instead of keeping it (up
    // to the socket's send buffer) for a peer that is not reading.
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
}

std::size_t socket_transport::unacknowledged() const noexcept {
    return socket_unacknowledged(fd_);
}

void socket_transport::prepare_reset() noexcept {
    socket_prepare_reset(fd_);
}

} // namespace wharf::detail
