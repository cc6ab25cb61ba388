// SPDX-License-Identifier: MIT
// The C API's view of the request: fields, identity, the body (buffered, validated, or as a
// stream of pieces) and the parsed Accept field.
#include <memory>
#include <string>

#include "capi/c_session.hpp"
#include "wharf/json.hpp"
#include "wharf/xml.hpp"

namespace {

using wharf::capi::absent;
using wharf::capi::cpp;
using wharf::capi::guarded;
using wharf::capi::state_of;
using wharf::capi::str;

bool streamed(wharf::session& s) noexcept {
    const auto* route = wharf::capi::route_of(s);
    return route && route->streamed;
}

/// One read of a streamed body, and the next while the callback asks for it.
void read_piece(wharf::session& s, wharf_data_fn on_data, void* arg) {
    s.read_body([&s, on_data, arg](std::error_code ec, std::string_view piece, bool last) {
        if (auto* st = s.context<wharf::capi::c_state>()) st->reading = false;
        const int result = wharf::capi::errno_of(ec);
        const int next =
            on_data(wharf::capi::c_handle(s), arg, result, result ? nullptr : piece.data(),
                    result ? 0 : piece.size(), result ? 1 : last);
        if (result || last || next != WHARF_DATA_CONTINUE) return;
        state_of(s).reading = true;
        read_piece(s, on_data, arg);
    });
}

/// The buffered body as text once `read` (read_json, read_xml) accepted it.
template <class Reader>
int validated_body(wharf_session* sess, wharf_str* out, Reader read) {
    if (!out) return EINVAL;
    return guarded([&] {
        wharf::session& s = cpp(sess);
        if (streamed(s)) return EINVAL;
        const auto in = read(s.request());
        if (!in) return wharf::capi::errno_of(in.error.status);
        *out = str(s.request().body());
        return 0;
    });
}

} // namespace

extern "C" {

wharf_str wharf_request_method_get(wharf_session* sess) {
    return str(cpp(sess).request().method_name());
}

wharf_str wharf_request_url_get(wharf_session* sess) {
    return str(cpp(sess).request().target());
}

wharf_str wharf_request_header_get(wharf_session* sess, const char* name) {
    if (!name) return absent();
    const auto value = cpp(sess).request().header(name);
    return value ? str(*value) : absent();
}

int wharf_request_content_type_get(wharf_session* sess, wharf_str* type, wharf_str* charset) {
    const wharf::request& req = cpp(sess).request();
    const bool present = req.header("Content-Type").has_value();
    const wharf::content_type_info info = req.content_type();
    if (type) *type = present && !info.media_type.empty() ? str(info.media_type) : absent();
    if (charset) *charset = present && !info.charset.empty() ? str(info.charset) : absent();
    return present ? 0 : ENOENT;
}

wharf_str wharf_request_username_get(wharf_session* sess) {
    const std::string_view user = cpp(sess).request().user();
    return user.empty() ? absent() : str(user);
}

wharf_str wharf_request_subject_cn_get(wharf_session* sess) {
    const wharf::tls_info* tls = cpp(sess).request().tls();
    if (!tls || !tls->client || !tls->client->verified || tls->client->subject_cn.empty())
        return absent();
    return str(tls->client->subject_cn);
}

int wharf_request_data_get_string(wharf_session* sess, wharf_str* body) {
    if (!body) return EINVAL;
    wharf::session& s = cpp(sess);
    if (streamed(s)) return EINVAL;
    *body = str(s.request().body());
    return 0;
}

int wharf_request_data_get_json(wharf_session* sess, wharf_str* json) {
    return validated_body(sess, json, [](const wharf::request& r) { return wharf::read_json(r); });
}

int wharf_request_data_get_xml(wharf_session* sess, wharf_str* xml) {
    return validated_body(sess, xml, [](const wharf::request& r) { return wharf::read_xml(r); });
}

int wharf_response_body_error(wharf_session* sess, int error) {
    wharf::body_error e;
    switch (error) {
    case ENODATA:
        e.status = wharf::body_status::no_body;
        e.message = "the request has no body";
        break;
    case EMEDIUMTYPE:
        e.status = wharf::body_status::wrong_media_type;
        e.message = "the body has a media type this resource does not take";
        break;
    case EMSGSIZE:
        e.status = wharf::body_status::too_large;
        e.message = "the body is too large";
        break;
    case EBADMSG:
        e.status = wharf::body_status::malformed;
        e.message = "the body is malformed";
        break;
    default:
        return EINVAL;
    }
    return guarded([&] {
        e.answer(cpp(sess).response());
        return 0;
    });
}

int wharf_request_data_get(wharf_session* sess, wharf_data_fn on_data, void* arg) {
    if (!on_data) return EINVAL;
    return guarded([&] {
        wharf::session& s = cpp(sess);
        wharf::capi::c_state& st = state_of(s);
        if (st.reading) return EBUSY;
        if (!streamed(s)) {
            // The body is buffered already: one piece, the last.
            s.defer();
            const std::string_view body = s.request().body();
            on_data(sess, arg, 0, body.data(), body.size(), 1);
            return 0;
        }
        st.reading = true;
        read_piece(s, on_data, arg);
        return 0;
    });
}

const wharf_accept* wharf_request_accept_construct_get(wharf_session* sess) {
    try {
        wharf::session& s = cpp(sess);
        wharf::capi::c_state& st = state_of(s);
        st.accept.session = &s;
        st.accept.list = &s.request().accept();
        return &st.accept;
    } catch (...) {
        return nullptr;
    }
}

size_t wharf_accept_count(const wharf_accept* accept) {
    return accept && accept->list ? accept->list->items().size() : 0;
}

int wharf_accept_item(const wharf_accept* accept, size_t index, wharf_str* range,
                      unsigned* quality) {
    if (!accept || !accept->list || index >= accept->list->items().size()) return EINVAL;
    const wharf::accept_item& item = accept->list->items()[index];
    if (range) *range = str(item.value);
    if (quality) *quality = item.quality;
    return 0;
}

int wharf_accept_negotiate(const wharf_accept* accept, const char* const* offered, size_t count) {
    if (!accept || !accept->session || (!offered && count > 0)) return -1;
    try {
        std::vector<std::string_view> types;
        types.reserve(count);
        for (size_t i = 0; i < count; ++i)
            types.emplace_back(offered[i] ? offered[i] : "");
        const auto chosen = wharf::negotiate(*accept->session, types);
        if (!chosen) return -1;
        for (size_t i = 0; i < count; ++i)
            if (types[i].data() == chosen->data()) return static_cast<int>(i);
        return -1;
    } catch (...) {
        return -1;
    }
}

} // extern "C"
