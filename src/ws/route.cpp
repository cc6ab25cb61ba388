// SPDX-License-Identifier: MIT
// router::websocket: the handshake as a GET handler, then the connection on the upgraded
// stream.
#include <algorithm>

#include "wharf/router.hpp"
#include "wharf/session.hpp"
#include "ws/connection.hpp"
#include "ws/handshake.hpp"

namespace wharf {

struct websocket_route {
    std::shared_ptr<const websocket_handlers> handlers;

    void operator()(session& s) const {
        const request& r = s.request();
        response& res = s.response();
        const auto problem = detail::ws::check_handshake(r);
        if (problem.status) {
            res.status(problem.status).body(std::string(problem.reason) + "\n", "text/plain");
            if (problem.status == 426) res.headers().set("Upgrade", "websocket");
            res.headers().set("Sec-WebSocket-Version", "13");
            return;
        }
        websocket_offer offer;
        offer.offered_ = detail::ws::offered_subprotocols(r.headers());
        for (const std::string& mine : handlers->options.subprotocols)
            if (offer.accept_subprotocol(mine)) break;
        if (handlers->on_handshake && !handlers->on_handshake(s, offer)) {
            if (res.status() < 300) res.status(403);
            return;
        }
        detail::ws::deflate_agreement deflate;
        if (handlers->options.compression)
            deflate = detail::ws::negotiate_deflate(r.headers(),
                                                    handlers->options.compression_context_takeover);
        if (r.version() == request::protocol_version::http2) {
            res.status(200); // RFC 8441 §5: the stream is the WebSocket from here
        } else {
            res.status(101);
            res.headers().set("Upgrade", "websocket");
            res.headers().set("Sec-WebSocket-Accept",
                              detail::ws::accept_key(*r.header("Sec-WebSocket-Key")));
        }
        if (!offer.chosen_.empty()) res.headers().set("Sec-WebSocket-Protocol", offer.chosen_);
        if (deflate.enabled) res.headers().set("Sec-WebSocket-Extensions", deflate.response);
        s.upgrade([handlers = handlers, deflate = std::move(deflate),
                   subprotocol = std::move(offer.chosen_), context = std::move(offer.context)](
                      std::error_code ec, upgraded_stream stream) mutable {
            if (ec) return;
            std::make_shared<detail::ws_connection>(std::move(stream), handlers, std::move(deflate),
                                                    std::move(subprotocol), std::move(context))
                ->start();
        });
    }
};

router& router::websocket(std::string_view pattern, websocket_handlers handlers) {
    // GET for HTTP/1.1's Upgrade, CONNECT for HTTP/2's extended CONNECT (RFC 8441).
    return route({method::get, method::connect}, pattern,
                 websocket_route{std::make_shared<const websocket_handlers>(std::move(handlers))},
                 {});
}

} // namespace wharf
