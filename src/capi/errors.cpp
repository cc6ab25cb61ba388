// SPDX-License-Identifier: MIT
// Results of the C API: errno values, their names, and the mapping from wharf's error codes.
#include <cstring>

#include "capi/c_session.hpp"

namespace wharf::capi {

int errno_of(std::error_code ec) noexcept {
    if (!ec) return 0;
    if (ec.category() == error_category()) {
        switch (static_cast<errc>(ec.value())) {
        case errc::ok:
            return 0;
        case errc::canceled:
            return ECANCELED;
        case errc::closed:
            return ENOTCONN;
        case errc::connection_reset:
            return ECONNRESET;
        case errc::timed_out:
            return ETIMEDOUT;
        case errc::no_memory:
            return ENOMEM;
        case errc::busy:
            return EBUSY;
        case errc::invalid_argument:
            return EINVAL;
        case errc::address_in_use:
            return EADDRINUSE;
        case errc::permission_denied:
            return EACCES;
        case errc::too_many_files:
            return EMFILE;
        case errc::would_block:
            return EAGAIN;
        }
        return EIO;
    }
    if (ec.category() == std::system_category() || ec.category() == std::generic_category())
        return ec.value();
    return EIO;
}

int errno_of(body_status status) noexcept {
    switch (status) {
    case body_status::ok:
        return 0;
    case body_status::no_body:
        return ENODATA;
    case body_status::wrong_media_type:
        return EMEDIUMTYPE;
    case body_status::too_large:
        return EMSGSIZE;
    case body_status::malformed:
        break;
    }
    return EBADMSG;
}

} // namespace wharf::capi

extern "C" const char* wharf_strerror(int error) {
    switch (error) {
    case 0:
        return "success";
    case E2BIG:
        return "more chunks than one send takes (9999)";
    case EBUSY:
        return "another operation of the kind is pending";
    case EDEADLK:
        return "a synchronous call on the session's own loop would never return";
    case ENOTCONN:
        return "the connection or the request has ended";
    case EMEDIUMTYPE:
        return "the body has another media type (415)";
    default:
        break;
    }
    // glibc's table: static strings, safe from any thread (unlike strerror).
    const char* text = strerrordesc_np(error);
    return text ? text : "unknown error";
}
