// SPDX-License-Identifier: MIT
// libFuzzer target: a whole HTTP/2 connection (nghttp2's parsing plus wharf's streams,
// exchanges, flow control and output) over memory. The input is what a client sends after the
// connection preface, which the target prepends; it arrives in pieces whose sizes derive from
// the input, the server's writes are taken a few KiB at a time (a slow reader), then the client
// closes. The routes echo request bodies and stream a response from a body source, so DATA
// frames flow both ways.
//
// Invariants checked (any failure aborts): the connection ends (closes and frees its
// transport) once the client closes, nothing is written after the server's FIN, and every
// byte the server wrote starts with its SETTINGS frame. ASan and UBSan watch the rest.

#include <sys/epoll.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/worker.hpp"
#include "http2/connection.hpp"
#include "wharf/body.hpp"
#include "wharf/server.hpp"
#include "wharf/session.hpp"
#include "wire_transport.hpp"

namespace {

using wharf_fuzz::splitmix;
using wharf_test::wire;
using wharf_test::wire_transport;

/// A body of `left` bytes, produced 1000 at a time.
class counted_source final : public wharf::body_source {
  public:
    explicit counted_source(std::size_t n) : left_(n) {}
    wharf::source_read read(char* buf, std::size_t len) override {
        if (left_ == 0) return wharf::source_read::finished();
        const std::size_t n = std::min({len, left_, std::size_t{1000}});
        std::memset(buf, 'x', n);
        left_ -= n;
        return wharf::source_read::got(n);
    }

  private:
    std::size_t left_;
};

wharf::detail::connection* made = nullptr; // the connection the factory made last

struct server {
    wharf::detail::server_state state;
    std::unique_ptr<wharf::detail::worker> worker;

    server() {
        // No deadlines: the run is driven by the input alone.
        auto& t = state.config.timeouts;
        t.request_head = t.body_read = t.keep_alive = t.send_grace = t.body_grace =
            wharf::milliseconds(0);
        t.min_send_rate = t.min_body_rate = 0;
        state.config.limits.max_body_size = 64 * 1024;
        state.routes.any("/source", [](wharf::session& s) {
            s.response().append_source(std::make_shared<counted_source>(40'000));
        });
        state.routes.any("/*", [](wharf::session& s) {
            s.response().status(200).append(s.request().target()).append(s.request().body());
            s.response().trailers().set("x-length", std::to_string(s.request().body().size()));
        });
        state.make_connection = [](wharf::detail::worker& w,
                                   std::unique_ptr<wharf::detail::transport> io,
                                   const wharf::address& peer, const wharf::address& local) {
            made = wharf::http2::make_connection(w, std::move(io), peer, local, {}, nullptr);
            return made;
        };
        state.connections.set_max(1 << 20);
        state.body_bytes.set_max(state.config.limits.max_buffered_body_bytes);
        worker = std::make_unique<wharf::detail::worker>(state);
        worker->loop().run_once(0);
    }
};

/// One edge for the connection, then the loop until it stops calling its transport; a slow
/// reader takes `step` more bytes each time a write met a full socket.
void edge(server& srv, wire& w, wharf::detail::connection* c, std::uint32_t events,
          std::size_t step) {
    if (!w.destroyed) c->on_io(events);
    for (int i = 0; i < 100'000; ++i) {
        const std::uint64_t before = w.calls;
        srv.worker->loop().run_once(0);
        if (w.calls != before) continue;
        if (w.destroyed || !w.write_refused) return;
        w.write_refused = false;
        w.write_budget = step;
        c->on_io(EPOLLOUT);
    }
    FUZZ_CHECK(!"the connection never settles");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static server srv;
    static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    splitmix rng{size * 0x9e3779b97f4a7c15ULL + (size ? data[0] : 0)};

    auto w = std::make_shared<wire>();
    const std::size_t step = 1024 + static_cast<std::size_t>(rng.next() % 8192);
    w->write_budget = step;
    FUZZ_CHECK(srv.state.connections.try_take(1));
    srv.worker->adopt(std::make_unique<wire_transport>(w), wharf::address{}, wharf::address{});
    wharf::detail::connection* c = made;
    std::string bytes(preface);
    bytes.append(input);
    std::size_t at = 0;
    while (at < bytes.size() && !w->destroyed) {
        const std::size_t n = 1 + static_cast<std::size_t>(rng.next() % 2048);
        w->pending.append(bytes, at, n);
        at += n;
        edge(srv, *w, c, EPOLLIN, step);
    }
    w->eof = true;
    w->write_budget = SIZE_MAX;
    edge(srv, *w, c, EPOLLIN | EPOLLRDHUP, step);
    FUZZ_CHECK(w->destroyed);
    FUZZ_CHECK(!w->wrote_after_shut);
    FUZZ_CHECK(w->output.size() >= 9 && w->output[3] == 0x04); // SETTINGS first
    return 0;
}
