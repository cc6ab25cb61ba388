// SPDX-License-Identifier: MIT
#include "http/dispatch.hpp"

#include <cstdio>
#include <exception>

#include "http/access.hpp"
#include "http/filters.hpp"
#include "http/uri.hpp"
#include "wharf/status.hpp"

namespace wharf::detail {

bool request_access::set_path(request& r, std::string_view raw_path, std::string_view query) {
    r.raw_path_ = raw_path;
    r.query_ = query;
    if (decoding_is_identity(raw_path, false)) {
        r.path_ = raw_path;
        return true;
    }
    r.decoded_path_.clear();
    if (!percent_decode(raw_path, r.decoded_path_, false)) return false;
    r.path_ = r.decoded_path_;
    return true;
}

void set_error_response(response& res, int status, std::string_view detail) {
    response_access::reset(res);
    res.status(status);
    res.set_header("Content-Type", "text/plain; charset=utf-8");
    std::string& body = response_access::memory(res);
    body.append(std::to_string(status)).append(" ").append(reason_phrase(status));
    if (!detail.empty()) body.append(": ").append(detail);
    body.push_back('\n');
}

void apply_default_body(response& res) {
    if (!response_access::wants_default_body(res) || !res.body().empty()) return;
    res.append(res.reason()).append("\n");
}

void report_handler_exception(session& s, std::exception_ptr e) noexcept {
    const request& req = s.request();
    const char* what = "a non-exception";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        what = ex.what();
    } catch (...) {
    }
    std::fprintf(stderr, "wharf: handler for %.*s %.*s threw: %s\n",
                 static_cast<int>(req.method_name().size()), req.method_name().data(),
                 static_cast<int>(req.target().size()), req.target().data(), what);
    if (!s.response_started()) set_error_response(s.response(), 500);
}

route_match find_route(const router& routes, session& s) {
    request& req = s.request();
    if (req.target() == "*") return {};
    return routes.match(req.method(), req.path(), request_access::params(req));
}

bool dispatch(const route_match& m, session& s) {
    request& req = s.request();
    response& res = s.response();

    if (req.target() == "*") {
        if (req.method() == method::options) {
            res.status(200);
            return false;
        }
        set_error_response(res, 400, "'*' is only a target for OPTIONS");
        return false;
    }

    if (!m.target) {
        if (req.method() == method::other || req.method() == method::connect) {
            set_error_response(res, 501, "method not implemented");
        } else if (!m.path_found()) {
            set_error_response(res, 404);
        } else if (req.method() == method::options) {
            res.status(204);
            res.set_header("Allow",
                           router::allow_header(m.allowed_methods |
                                                (1u << static_cast<unsigned>(method::options))));
        } else {
            set_error_response(res, 405);
            res.set_header("Allow", router::allow_header(m.allowed_methods));
        }
        return false;
    }

    session_access::set_service_context(s, m.service_context);
    bool threw = false;
    try {
        if (!m.filters || run_filters_before(*m.filters, s)) (*m.target)(s);
        if (!s.response_started() && !session_access::left_work_behind(s)) apply_default_body(res);
    } catch (...) {
        threw = true;
        report_handler_exception(s, std::current_exception());
    }
    if (!s.response_started() && (res.status() < 100 || res.status() > 999))
        set_error_response(res, 500, "invalid status code");
    return threw;
}

} // namespace wharf::detail
