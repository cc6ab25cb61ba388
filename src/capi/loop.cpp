// SPDX-License-Identifier: MIT
// The C API's access to a session's loop: posted work, timers, and events other threads post
// through.
#include <memory>

#include "capi/c_session.hpp"

struct wharf_event {
    std::function<void(std::function<void()>)> post; // thread-safe, to the session's loop
    wharf::session* session;
    wharf::session_token token;
};

namespace {

using wharf::capi::cpp;
using wharf::capi::guarded;

} // namespace

extern "C" {

int wharf_session_post(wharf_session* sess, wharf_task_fn task, void* arg) {
    if (!task) return EINVAL;
    return guarded([&] {
        cpp(sess).post([sess, task, arg] { task(sess, arg); });
        return 0;
    });
}

int wharf_session_after(wharf_session* sess, unsigned delay_ms, wharf_task_fn task, void* arg,
                        int repeat) {
    if (!task || (repeat && delay_ms == 0)) return EINVAL;
    return guarded([&] {
        cpp(sess).after(
            std::chrono::milliseconds(delay_ms), [sess, task, arg] { task(sess, arg); },
            repeat != 0);
        return 0;
    });
}

wharf_event* wharf_request_event_get(wharf_session* sess) {
    try {
        wharf::session& s = cpp(sess);
        return new wharf_event{wharf::detail::loop_poster(s), &s, s.token()};
    } catch (...) {
        return nullptr;
    }
}

int wharf_event_post(wharf_event* ev, wharf_task_fn task, void* arg) {
    if (!ev || !task) return EINVAL;
    if (ev->token.expired()) return ENOTCONN;
    return guarded([&] {
        // Checked again on the loop, where requests end: only then is the session pointer used.
        ev->post([s = ev->session, token = ev->token, task, arg] {
            if (!token.expired()) task(wharf::capi::c_handle(*s), arg);
        });
        return 0;
    });
}

void wharf_event_release(wharf_event* ev) {
    delete ev;
}

} // extern "C"
