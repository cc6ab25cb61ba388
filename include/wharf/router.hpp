// SPDX-License-Identifier: MIT
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/method.hpp"
#include "wharf/session.hpp"

namespace wharf {

namespace detail {
struct route_walker;
}

struct websocket_handlers;
class filter;

/// A request handler: any callable taking the session. It runs on the connection's event-loop
/// thread and must not block it.
using handler = std::function<void(session&)>;

/// What the router found for a method and path.
struct route_match {
    const handler* target = nullptr;     ///< nullptr: no route for this method
    std::any* service_context = nullptr; ///< the context registered with the route
    std::uint32_t allowed_methods = 0;   ///< bit (1 << method) per method the path accepts
    bool stream_body = false;            ///< the route reads its body with session::read_body
    /// The router's filters (router::use), to run before `target`.
    const std::vector<std::shared_ptr<filter>>* filters = nullptr;
    bool path_found() const noexcept { return allowed_methods != 0; }
};

/// How a route wants its request.
struct route_options {
    std::any service_context; ///< handed to the handler as session::service_context<T>()
    /// The handler runs as soon as the head has arrived and reads the body itself, piece by
    /// piece, with session::read_body (no buffering, no max_body_size). Otherwise the body is
    /// buffered (up to limits.max_body_size) before the handler runs.
    bool stream_body = false;
};

/// Maps method + path patterns to handlers (S1).
///
/// A pattern is a sequence of '/'-separated segments: literals ("/users"), parameters
/// ("/users/{id}", one whole segment) and an optional trailing wildcard ("/files/*", the rest of
/// the path, possibly empty). Literal segments win over parameters, parameters over the
/// wildcard. A GET route also answers HEAD. Routes are added before the server starts; matching
/// is then safe from every worker thread at once.
class router {
  public:
    router();
    ~router();
    router(router&&) noexcept;
    router& operator=(router&&) noexcept;

    /// Adds a route. `service_context` is handed to the handler as session::service_context<T>().
    /// Throws std::invalid_argument for a malformed pattern or a duplicate method + pattern.
    router& route(wharf::method m, std::string_view pattern, handler h,
                  std::any service_context = {});
    router& route(std::initializer_list<wharf::method> methods, std::string_view pattern, handler h,
                  std::any service_context = {});
    router& route(wharf::method m, std::string_view pattern, handler h, route_options options);
    /// Adds a route for every method, named or not.
    router& any(std::string_view pattern, handler h, std::any service_context = {});
    router& any(std::string_view pattern, handler h, route_options options);

    router& get(std::string_view p, handler h) { return route(method::get, p, std::move(h)); }
    router& post(std::string_view p, handler h) { return route(method::post, p, std::move(h)); }
    router& put(std::string_view p, handler h) { return route(method::put, p, std::move(h)); }
    router& patch(std::string_view p, handler h) { return route(method::patch, p, std::move(h)); }
    router& del(std::string_view p, handler h) { return route(method::delete_, p, std::move(h)); }

    /// Adds a WebSocket endpoint (RFC 6455) at a GET route: the handshake is checked (426 with
    /// Sec-WebSocket-Version for other versions, 400 for a malformed one), subprotocols and
    /// permessage-deflate negotiated, and the connection then runs `handlers`
    /// (wharf/websocket.hpp).
    router& websocket(std::string_view pattern, websocket_handlers handlers);

    /// Wraps every route (added before or after) in `f`: router filters run in the order
    /// added, before a route's own (with_filters). Not for the answers the router gives
    /// itself (404, 405, OPTIONS).
    router& use(std::shared_ptr<filter> f);

    /// Finds the handler for `m` on the decoded `path`, appending the captured parameters
    /// (views into the pattern and `path`) to `params`.
    route_match match(wharf::method m, std::string_view path,
                      std::vector<std::pair<std::string_view, std::string_view>>& params) const;

    /// The Allow header value for a set of method bits, e.g. "GET, HEAD, POST".
    static std::string allow_header(std::uint32_t allowed_methods);

  private:
    friend struct detail::route_walker;
    struct node;
    router& add(std::initializer_list<wharf::method> methods, std::string_view pattern, handler h,
                std::any service_context, bool stream_body);
    std::unique_ptr<node> root_;
    std::vector<std::shared_ptr<filter>> filters_;
};

} // namespace wharf
