// SPDX-License-Identifier: MIT
// The README's example: a server with two routes and a WebSocket echo, stopped by Ctrl-C.
#include <csignal>
#include <wharf/wharf.hpp>

int main() {
    wharf::server_config config;
    config.listen = {"127.0.0.1:8080", "[::1]:8080"};
    wharf::server srv(config);

    srv.routes().get("/hello/{name}", [](wharf::session& s) {
        s.response().format("Hello, {}!\n", s.request().param("name"));
    });
    srv.routes().post("/sum", [](wharf::session& s) {
        long total = 0;
        for (char c : s.request().body())
            if (c >= '0' && c <= '9') total += c - '0';
        s.response().content_type("application/json").format("{{\"sum\":{}}}", total);
    });
    wharf::websocket_handlers ws; // WebSocket over HTTP/1.1 and HTTP/2
    ws.on_message = [](wharf::websocket& w, std::string_view m, wharf::ws_kind k) { w.send(m, k); };
    srv.routes().websocket("/ws", std::move(ws));

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); // workers inherit the mask
    if (auto ec = srv.start()) return 1;
    int sig = 0;
    sigwait(&stop_signals, &sig);
    srv.stop(); // graceful: in-flight requests finish
    srv.wait();
}
