// SPDX-License-Identifier: MIT
// application/x-www-form-urlencoded bodies (the WHATWG URL standard's form encoding), strict
// about escapes: a '%' must start %XX.
#include "http/chars.hpp"
#include "wharf/form.hpp"
#include "wharf/headers.hpp"
#include "wharf/request.hpp"

namespace wharf {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

/// Decodes `in` ('+' is a space) into `out`. Returns the index of a bad '%' in `in`, or npos.
/// Unlike detail::percent_decode, %00 is a byte like any other here: a form value may hold it.
std::size_t decode_component(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c != '%') {
            out.push_back(c);
        } else if (i + 2 < in.size() && chars::is_hexdig(in[i + 1]) &&
                   chars::is_hexdig(in[i + 2])) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            return i;
        }
    }
    return std::string_view::npos;
}

body_error error_of(body_status status, std::string message, std::size_t offset = 0) {
    body_error e;
    e.status = status;
    e.message = std::move(message);
    e.offset = offset;
    return e;
}

} // namespace

const std::string* form_body::get(std::string_view name) const noexcept {
    for (const form_field& f : fields)
        if (f.name == name) return &f.value;
    return nullptr;
}

form_body parse_urlencoded(std::string_view body, const form_limits& limits) {
    form_body out;
    std::size_t at = 0;
    while (at <= body.size()) {
        std::size_t end = body.find('&', at);
        if (end == std::string_view::npos) end = body.size();
        const std::string_view pair = body.substr(at, end - at);
        if (!pair.empty()) {
            if (out.fields.size() == limits.max_fields) {
                out.fields.clear();
                out.error = error_of(body_status::too_large, "too many form fields", at);
                return out;
            }
            const std::size_t eq = pair.find('=');
            const std::string_view name = pair.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
            form_field field;
            const std::size_t bad_name = decode_component(name, field.name);
            const std::size_t bad_value = bad_name == std::string_view::npos
                                              ? decode_component(value, field.value)
                                              : std::string_view::npos;
            if (bad_name != std::string_view::npos || bad_value != std::string_view::npos) {
                out.fields.clear();
                const std::size_t bad =
                    bad_name != std::string_view::npos ? at + bad_name : at + eq + 1 + bad_value;
                out.error =
                    error_of(body_status::malformed, "a '%' not followed by two hex digits", bad);
                return out;
            }
            if (field.name.size() > limits.max_field_bytes ||
                field.value.size() > limits.max_field_bytes) {
                out.fields.clear();
                out.error = error_of(body_status::too_large, "a form field is over the limit", at);
                return out;
            }
            out.fields.push_back(std::move(field));
        }
        at = end + 1;
    }
    return out;
}

form_body read_urlencoded(const request& req, const form_limits& limits) {
    form_body out;
    if (req.body().empty() && !req.header("Content-Length") && !req.header("Transfer-Encoding")) {
        out.error = error_of(body_status::no_body, "the request has no body");
        return out;
    }
    if (!iequals(req.content_type().media_type, "application/x-www-form-urlencoded")) {
        out.error = error_of(body_status::wrong_media_type,
                             "the body is not application/x-www-form-urlencoded");
        return out;
    }
    return parse_urlencoded(req.body(), limits);
}

} // namespace wharf
