// SPDX-License-Identifier: MIT
// The protocol-neutral step between a parsed request and its response: route, call the
// handler (an exception becomes a 500), and fill in what routing itself answers (404, 405,
// 501, OPTIONS).
#pragma once

#include <exception>

#include "wharf/router.hpp"

namespace wharf::detail {

/// The route for the session's request (its method and decoded path), with the path's
/// parameters stored in the request. Nothing for the "*" target.
route_match find_route(const router& routes, session& s);

/// Calls the route's handler, or answers what routing answers (404, 405, 501, OPTIONS, "*").
/// Returns true when the handler threw (the response is then a 500, unless the handler had
/// already started sending it).
bool dispatch(const route_match& route, session& s);

/// Logs an exception that escaped a handler (with the request line) and, when nothing was sent
/// yet, replaces the response with a 500. Whoever catches decides what happens next.
void report_handler_exception(session& s, std::exception_ptr e) noexcept;

/// Replaces whatever the response holds with a short plain-text error page.
void set_error_response(response& res, int status, std::string_view detail = {});

/// Gives an error status its default body when the handler asked for one and wrote none.
void apply_default_body(response& res);

} // namespace wharf::detail
