// SPDX-License-Identifier: MIT
// A whole HTTP/1 connection over memory, without sockets: a real worker, router and handler,
// and a transport whose bytes the test scripts. The harness plays the kernel and epoll: the
// peer's bytes arrive in pieces, each arrival (and the peer's FIN) is one edge (EPOLLIN,
// EPOLLRDHUP), a write that met a full socket gets EPOLLOUT when the peer takes more, and the
// loop runs until the connection settles. What the connection sees is what an edge-triggered
// socket would show it, so a connection that forgets to read on hangs here too.
//
// The transport's state lives in a `wire` the test keeps: the connection owns (and deletes) the
// transport when it closes, the wire stays to tell what it wrote and how it ended.
#pragma once

#include <sys/epoll.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http/worker.hpp"
#include "http1/connection.hpp"
#include "net/transport.hpp"
#include "wharf/router.hpp"
#include "wharf/server.hpp"
#include "wharf/session.hpp"
#include "wire_transport.hpp"

namespace wharf_test {

/// The config the harness runs with: every deadline and rate off (a loaded machine must not
/// change what a test sees), the rest as a server has it.
inline wharf::server_config quiet_config() {
    wharf::server_config c;
    c.timeouts.request_head = wharf::milliseconds(0);
    c.timeouts.body_read = wharf::milliseconds(0);
    c.timeouts.keep_alive = wharf::milliseconds(0);
    c.timeouts.send_grace = wharf::milliseconds(0);
    c.timeouts.body_grace = wharf::milliseconds(0);
    c.timeouts.min_send_rate = 0;
    c.timeouts.min_body_rate = 0;
    return c;
}

/// What the echo handler answers for a request: "METHOD TARGET\nBODY-LENGTH\nBODY", then one
/// "\nT name: value" per trailer field.
inline std::string
echo_text(std::string_view method, std::string_view target, std::string_view body,
          const std::vector<std::pair<std::string, std::string>>& trailers = {}) {
    std::string e;
    e.append(method).append(" ").append(target).append("\n");
    e.append(std::to_string(body.size())).append("\n").append(body);
    for (const auto& [name, value] : trailers)
        e.append("\nT ").append(name).append(": ").append(value);
    return e;
}

/// The catch-all route: answers 200 with echo_text() of the request.
inline void add_echo_route(wharf::router& r) {
    r.any("/*", [](wharf::session& s) {
        const wharf::request& q = s.request();
        std::vector<std::pair<std::string, std::string>> trailers;
        for (const wharf::header_field& f : q.trailers())
            trailers.emplace_back(std::string(f.name), std::string(f.value));
        s.response().status(200);
        s.response().append(echo_text(q.method_name(), q.target(), q.body(), trailers));
    });
}

/// Replaces the value of every "Date: <IMF-fixdate>" line (29 bytes, "... GMT") with "<date>".
inline std::string normalize_date(std::string s) {
    constexpr std::string_view key = "\r\nDate: ";
    for (std::size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + 1)) {
        const std::size_t v = at + key.size();
        if (v + 31 <= s.size() && s.compare(v + 29, 2, "\r\n") == 0 &&
            s.compare(v + 25, 4, " GMT") == 0)
            s.replace(v, 29, "<date>");
    }
    return s;
}

/// The normalized head of a 200 response as the server writes it.
inline std::string response_head(int status, std::string_view reason, std::uint64_t length,
                                 bool keep_alive, bool http10, std::string_view extra_fields = {}) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nDate: <date>\r\nServer: wharf\r\n" + std::string(extra_fields) +
                    "Content-Length: " + std::to_string(length) + "\r\n";
    if (!keep_alive)
        h += "Connection: close\r\n";
    else if (http10)
        h += "Connection: keep-alive\r\n";
    return h + "\r\n";
}

/// One server (state, worker, routes) that runs connections one after the other.
class connection_harness {
  public:
    explicit connection_harness(
        wharf::server_config config = quiet_config(),
        const std::function<void(wharf::router&)>& routes = add_echo_route) {
        state_.config = std::move(config);
        routes(state_.routes);
        state_.make_connection = &make;
        state_.connections.set_max(std::max<std::size_t>(1, state_.config.limits.max_connections));
        state_.body_bytes.set_max(state_.config.limits.max_buffered_body_bytes);
        worker_ = std::make_unique<wharf::detail::worker>(state_);
        worker_->loop().run_once(0); // the loop's thread is this one from now on
    }
    ~connection_harness() { worker_.reset(); }
    connection_harness(const connection_harness&) = delete;
    connection_harness& operator=(const connection_harness&) = delete;

    /// Starts a new connection (the previous one must be gone); writes take at most
    /// `write_step` bytes per EPOLLOUT edge (SIZE_MAX: a peer that reads everything at once).
    void open(std::size_t write_step = SIZE_MAX) {
        ASSERT_TRUE(!wire_ || wire_->destroyed) << "a connection is still open";
        wire_ = std::make_shared<wire>();
        write_step_ = write_step;
        wire_->write_budget = write_step;
        ASSERT_TRUE(state_.connections.try_take(1));
        made() = nullptr;
        worker_->adopt(std::make_unique<wire_transport>(wire_), wharf::address{}, wharf::address{});
        conn_ = made();
        ASSERT_NE(conn_, nullptr);
        settle();
    }

    /// The peer sends `piece`: one EPOLLIN edge, then the loop runs until the connection
    /// settles.
    void send(std::string_view piece) {
        if (wire_->destroyed) return; // a closed socket: the peer's bytes go nowhere
        wire_->pending.append(piece);
        edge(EPOLLIN);
        settle();
    }
    /// The peer's FIN.
    void send_eof() {
        if (wire_->destroyed) return;
        wire_->eof = true;
        edge(EPOLLIN | EPOLLRDHUP);
        settle();
    }

    /// One connection: `pieces` in turn, then (optionally) EOF; returns what the server wrote,
    /// Date normalized.
    std::string run(const std::vector<std::string_view>& pieces, bool eof = true,
                    std::size_t write_step = SIZE_MAX) {
        open(write_step);
        for (std::string_view p : pieces)
            send(p);
        if (eof) send_eof();
        return output();
    }

    std::string output() const { return normalize_date(wire_->output); }
    const wire& w() const { return *wire_; }
    wharf::detail::worker& worker() { return *worker_; }

  private:
    static wharf::detail::connection*& made() {
        static thread_local wharf::detail::connection* c = nullptr;
        return c;
    }
    static wharf::detail::connection* make(wharf::detail::worker& w,
                                           std::unique_ptr<wharf::detail::transport> io,
                                           const wharf::address& peer,
                                           const wharf::address& local) {
        made() = wharf::http1::make_connection(w, std::move(io), peer, local);
        return made();
    }

    void edge(std::uint32_t events) {
        // The connection is deleted at the end of the loop iteration after it closed: only
        // a live one gets events.
        if (!wire_->destroyed) conn_->on_io(events);
    }

    /// Runs the loop until nothing more happens. A write that met a full socket is given
    /// `write_step` more bytes and an EPOLLOUT edge, as a peer that reads slowly would.
    void settle() {
        for (int i = 0; i < 1'000'000; ++i) {
            const std::uint64_t before = wire_->calls;
            const bool was_destroyed = wire_->destroyed;
            worker_->loop().run_once(0);
            if (wire_->calls != before || wire_->destroyed != was_destroyed) continue;
            if (wire_->destroyed || !wire_->write_refused || write_step_ == SIZE_MAX) return;
            wire_->write_refused = false;
            wire_->write_budget = write_step_;
            edge(EPOLLOUT);
        }
        ADD_FAILURE() << "the connection never settles";
    }

    wharf::detail::server_state state_;
    std::unique_ptr<wharf::detail::worker> worker_;
    std::shared_ptr<wire> wire_;
    wharf::detail::connection* conn_ = nullptr;
    std::size_t write_step_ = SIZE_MAX;
};

} // namespace wharf_test
