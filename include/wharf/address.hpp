// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/socket.h>

#include "wharf/error.hpp"

namespace wharf {

/// A socket address: IPv4, IPv6 or a Unix socket path.
class address {
  public:
    address() noexcept;

    /// Parses "host:port", "[v6]:port", "*:port", a bare port ("8080" = 127.0.0.1), or
    /// "unix:/path". Host names are not resolved: only numeric addresses and "localhost".
    static address parse(std::string_view text, std::error_code& ec);

    /// "1.2.3.4:80", "[::1]:80" or "unix:/path".
    std::string to_string() const;
    /// The address without the port ("1.2.3.4", "::1", "/path").
    std::string host() const;
    /// The port, or 0 for Unix sockets.
    std::uint16_t port() const noexcept;
    int family() const noexcept { return storage_.ss_family; }
    bool is_unix() const noexcept { return storage_.ss_family == AF_UNIX; }

    /// The socket address (for bind, connect) and its length.
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return size_; }
    void set_port(std::uint16_t port) noexcept;

    /// A copy of `length` bytes of `sa` (what accept or getsockname filled in); an empty
    /// address when `length` does not fit.
    static address from(const sockaddr* sa, socklen_t length) noexcept;
    /// The local address of socket `fd` (getsockname); empty on failure.
    static address local_of(int fd) noexcept;

  private:
    sockaddr_storage storage_;
    socklen_t size_;
};

} // namespace wharf
