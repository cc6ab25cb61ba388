// SPDX-License-Identifier: MIT
// Listening sockets: one SO_REUSEPORT socket per worker for TCP, so the kernel spreads
// connections and no lock is taken on accept; one shared socket for Unix paths.
#pragma once

#include <system_error>

#include "wharf/address.hpp"

namespace wharf::detail {

/// Fails with address_in_use when another socket already holds `addr` (even one that set
/// SO_REUSEPORT too), so a second server never silently shares our port.
std::error_code check_address_free(const address& addr) noexcept;

/// Opens a non-blocking listening socket on `addr`; `bound` gets the real address.
int open_listener(const address& addr, bool reuse_port, int backlog, address& bound,
                  std::error_code& ec) noexcept;

/// Maps an errno from socket calls to a wharf error where one fits.
std::error_code socket_error(int err) noexcept;

} // namespace wharf::detail
