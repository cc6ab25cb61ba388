// SPDX-License-Identifier: MIT
// Whether this kernel encrypts TLS records itself (the `tls` upper-layer protocol).
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wharf/tls.hpp"

namespace wharf {

bool kernel_tls_available() noexcept {
    // Asked once: the answer only changes when a module is loaded, and OpenSSL's kTLS attempt
    // costs four failed setsockopt calls per connection where it cannot work.
    static const bool available = [] {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        // The ULP needs a connected socket (ENOTCONN here), but a missing module says ENOENT.
        const int r = ::setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
        const bool yes = r == 0 || errno != ENOENT;
        ::close(fd);
        return yes;
    }();
    return available;
}

} // namespace wharf
