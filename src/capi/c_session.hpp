// SPDX-License-Identifier: MIT
// What the C API (wharf/wharf.h) keeps for a session, and the conversions between its handles,
// results and strings and the C++ ones.
#pragma once

#include <cerrno>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "wharf/negotiate.hpp"
#include "wharf/parsed_body.hpp"
#include "wharf/session.hpp"
#include "wharf/wharf.h"

// The opaque C handles. A wharf_session is a wharf::session; the others are these.
struct wharf_accept {
    wharf::session* session = nullptr;
    const wharf::accept_list* list = nullptr;
};

namespace wharf::capi {

/// What a C route registers as its service context.
struct route_context {
    void* service_ctx = nullptr;
    bool streamed = false; // wharf_register_streamed: the handler reads its body
};

inline const route_context* route_of(session& s) noexcept {
    return s.service_context<route_context>();
}

/// Per request, in the session's context slot (the C API owns that slot).
struct c_state {
    void* ctx = nullptr;
    void (*destroy)(void*) = nullptr;
    void* resume_arg = nullptr;
    bool send_pending = false; // a send with a completion is in flight (EBUSY)
    bool reading = false;      // a wharf_request_data_get read is in flight
    wharf_accept accept;
    c_state() = default;
    c_state(const c_state&) = delete;
    c_state& operator=(const c_state&) = delete;
    ~c_state() {
        if (destroy) destroy(ctx);
    }
};

inline session& cpp(wharf_session* s) noexcept {
    return *reinterpret_cast<session*>(s);
}
inline wharf_session* c_handle(session& s) noexcept {
    return reinterpret_cast<wharf_session*>(&s);
}

/// The session's C state, made on first use.
inline c_state& state_of(session& s) {
    if (c_state* st = s.context<c_state>()) return *st;
    return s.emplace_context<c_state>();
}

/// A present string (never a null ptr, even when empty).
inline wharf_str str(std::string_view v) noexcept {
    return {v.data() ? v.data() : "", v.size()};
}
inline wharf_str absent() noexcept {
    return {nullptr, 0};
}

/// The errno value for a wharf or system error code (0 for none).
int errno_of(std::error_code ec) noexcept;
/// The errno value for a body reader's outcome: ENODATA, EMEDIUMTYPE, EMSGSIZE, EBADMSG.
int errno_of(body_status status) noexcept;

/// Runs `f` (returning an errno value), turning any exception into one: no C++ exception
/// crosses the C boundary.
template <class F>
int guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (const std::invalid_argument&) {
        return EINVAL;
    } catch (const std::system_error& e) {
        const int err = errno_of(e.code());
        return err ? err : EIO;
    } catch (...) {
        return EIO;
    }
}

} // namespace wharf::capi
