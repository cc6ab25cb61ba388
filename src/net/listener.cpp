// SPDX-License-Identifier: MIT
#include "net/listener.hpp"

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace wharf::detail {

std::error_code socket_error(int err) noexcept {
    switch (err) {
    case EADDRINUSE:
        return errc::address_in_use;
    case EACCES:
    case EPERM:
        return errc::permission_denied;
    case EMFILE:
    case ENFILE:
        return errc::too_many_files;
    case EADDRNOTAVAIL:
    case EINVAL:
        return errc::invalid_argument;
    default:
        return {err, std::system_category()};
    }
}

std::error_code check_address_free(const address& addr) noexcept {
    if (addr.is_unix() || addr.port() == 0) return {};
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return socket_error(errno);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    // Without SO_REUSEPORT this bind fails while any other socket holds the address.
    std::error_code ec;
    if (::bind(fd, addr.data(), addr.size()) != 0) ec = socket_error(errno);
    ::close(fd);
    return ec;
}

int open_listener(const address& addr, bool reuse_port, int backlog, address& bound,
                  std::error_code& ec) noexcept {
    ec.clear();
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ec = socket_error(errno);
        return -1;
    }
    const int one = 1;
    if (addr.is_unix()) {
        // A stale socket file from an earlier run would make bind fail; remove only sockets.
        struct stat st;
        const std::string path = addr.host();
        if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (::bind(fd, addr.data(), addr.size()) != 0 || ::listen(fd, backlog) != 0) {
        ec = socket_error(errno);
        ::close(fd);
        return -1;
    }
    bound = addr.is_unix() ? addr : address::local_of(fd);
    return fd;
}

} // namespace wharf::detail
