// SPDX-License-Identifier: MIT
// The C API's contexts: the route's service context and the per-request one.
#include "capi/c_session.hpp"

extern "C" {

void* wharf_service_ctx_get(wharf_session* sess) {
    const auto* route = wharf::capi::route_of(wharf::capi::cpp(sess));
    return route ? route->service_ctx : nullptr;
}

void* wharf_ctx_get(wharf_session* sess) {
    const auto* st = wharf::capi::cpp(sess).context<wharf::capi::c_state>();
    return st ? st->ctx : nullptr;
}

int wharf_ctx_set(wharf_session* sess, void* ctx, void (*destroy)(void* ctx)) {
    return wharf::capi::guarded([&] {
        wharf::capi::c_state& st = wharf::capi::state_of(wharf::capi::cpp(sess));
        if (st.destroy && st.ctx != ctx) st.destroy(st.ctx);
        st.ctx = ctx;
        st.destroy = destroy;
        return 0;
    });
}

} // extern "C"
