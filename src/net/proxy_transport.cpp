// SPDX-License-Identifier: MIT
#include "net/proxy_transport.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace wharf::detail {

transport::handshake_status proxy_transport::handshake() noexcept {
    if (!have_header_) {
        const handshake_status s = read_header();
        if (s != handshake_status::done) return s;
    }
    return inner_->handshake();
}

transport::handshake_status proxy_transport::read_header() noexcept {
    // Peeked whole each time (at most 4 KiB, so a client that sends it byte by byte costs that
    // much per byte at worst), so that nothing past the header is ever taken from the socket.
    char buf[proxy::default_max_v2_bytes];
    ssize_t n;
    do {
        n = ::recv(fd(), buf, sizeof buf, MSG_PEEK);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? handshake_status::want_read : handshake_status::failed;
    if (n == 0) return handshake_status::failed; // closed before a header
    try {
        const proxy::result r =
            proxy::parse({buf, static_cast<std::size_t>(n)}, header_, proxy::default_max_v2_bytes);
        if (r.status == proxy::status::incomplete) return handshake_status::want_read;
        if (r.status == proxy::status::invalid) return handshake_status::failed;
        std::size_t left = r.consumed;
        while (left > 0) {
            const ssize_t got = ::recv(fd(), buf, left, 0);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return handshake_status::failed; // the peeked bytes are there
            left -= static_cast<std::size_t>(got);
        }
    } catch (...) {
        return handshake_status::failed; // out of memory for the TLVs
    }
    have_header_ = true;
    unread_hint_ = true;
    return handshake_status::done;
}

} // namespace wharf::detail
