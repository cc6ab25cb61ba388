// SPDX-License-Identifier: MIT
#pragma once

#include <coroutine>
#include <exception>

#include "wharf/session.hpp"

namespace wharf {

namespace detail {
/// The coroutine ended: send the response if it never did.
void coroutine_returned(session& s) noexcept;
/// An exception escaped the coroutine: a 500 when nothing was sent yet, else the connection
/// is cut; logged either way.
void coroutine_threw(session& s, std::exception_ptr e) noexcept;
} // namespace detail

/// The return type of a coroutine handler: `[](wharf::session& s) -> wharf::task { ... }`.
/// It starts at once, runs on the session's loop between co_awaits, and frees itself when
/// done. Returning (co_return or falling off the end) without sending sends the response
/// built so far; an escaping exception becomes a 500 (or a cut connection if the response
/// had started), never a crash. Awaitables: s.async_send(), s.sleep(), s.next_body_piece(),
/// s.offload(pool, fn); each reports cancellation when the request ends early.
class task {
  public:
    struct promise_type {
        session* owner;

        // The coroutine's first parameter is the session (after the closure, for a lambda).
        template <class... Rest>
        explicit promise_type(session& s, Rest&...) noexcept : owner(&s) {
            s.defer();
        }
        template <class Closure, class... Rest>
        promise_type(Closure&, session& s, Rest&...) noexcept : owner(&s) {
            s.defer();
        }

        task get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept { detail::coroutine_returned(*owner); }
        void unhandled_exception() noexcept {
            detail::coroutine_threw(*owner, std::current_exception());
        }
    };
};

} // namespace wharf
