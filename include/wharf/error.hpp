// SPDX-License-Identifier: MIT
#pragma once

#include <system_error>

namespace wharf {

/// Errors that wharf reports as values (std::error_code); never thrown across the event loop.
enum class errc {
    ok = 0,
    canceled,          ///< The operation was canceled before it completed.
    closed,            ///< The connection or server was closed.
    connection_reset,  ///< The peer reset or abandoned the connection.
    timed_out,         ///< A deadline passed (read, send rate, shutdown).
    no_memory,         ///< A buffer or allocation limit was reached.
    busy,              ///< Another operation of the same kind is still pending.
    invalid_argument,  ///< An argument was malformed (bad address, bad option).
    address_in_use,    ///< A listen address is already taken by another socket.
    permission_denied, ///< The OS refused (e.g. binding a privileged port).
    too_many_files,    ///< The process ran out of file descriptors.
    would_block,       ///< Nothing can be done now; try again later (the seeds' EAGAIN).
};

/// The category of wharf::errc; its name is "wharf".
const std::error_category& error_category() noexcept;

/// Makes a std::error_code from a wharf::errc (found by ADL).
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace wharf

template <>
struct std::is_error_code_enum<wharf::errc> : std::true_type {};
