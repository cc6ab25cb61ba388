// SPDX-License-Identifier: MIT
#include "demo.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <memory>
#include <optional>
#include <stop_token>

#include <nlohmann/json.hpp>

#include <wharf/task.hpp>
#include <wharf/websocket.hpp>

#include "pattern.hpp"
#include "sha256.hpp"

namespace wharf_cli {
namespace {

// What one request may make the server hold or spend (issue 9: the demo is on by default, so
// it must be safe to expose). Out-of-range parameters get a 400 that names the limit.
// - Memory: /stream and /gather lend their bytes from one shared pattern buffer (no copy per
//   request), /bytes is pulled as the client reads, /upload-digest hashes as the body streams
//   in; /echo holds its body (up to the server's max_body_size) and one copy of it.
// - Time: nothing keeps a request open longer than max_duration_ms by asking (/wait; the
//   delays of /events and /stream in all), and /compute's work stops when its client leaves.
constexpr std::uint64_t max_duration_ms = 600'000;     // ten minutes
constexpr std::uint64_t max_interval_ms = 60'000;      // between two /events or /stream pieces
constexpr std::uint64_t max_compute_n = 100'000'000;   // under 0.1 s of one pool thread
constexpr std::uint64_t compute_check_every = 1 << 20; // additions between stop checks
constexpr std::uint64_t max_events = 100'000;
constexpr std::uint64_t max_stream_chunks = 1'000'000;
constexpr std::uint64_t max_piece = max_lent_pattern; // a /stream chunk, a /gather part: 1 MiB
constexpr std::uint64_t max_gather_parts = 9999;
constexpr std::uint64_t max_gather_bytes = std::uint64_t{256} << 20; // lent, not held
// A lent piece costs the server a few hundred bytes of bookkeeping until it is written, so
// /gather copies parts smaller than this into one buffer instead (what the send queue would do
// with such small pieces anyway).
constexpr std::uint64_t lend_from = 512;
constexpr std::uint64_t max_bytes = std::uint64_t{1} << 40; // pulled, not held

/// The query parameter `name` as an integer in [min, max]; `fallback` when absent; nullopt
/// (and a 400 already set on the response) when malformed or out of range.
std::optional<std::uint64_t> int_param(wharf::session& s, std::string_view name, std::uint64_t min,
                                       std::uint64_t max, std::optional<std::uint64_t> fallback) {
    const auto text = s.request().query_param(name);
    if (!text) {
        if (fallback) return fallback;
        s.response().set_std(400).format("missing query parameter '{}'\n", name);
        return std::nullopt;
    }
    std::uint64_t v = 0;
    const char* end = text->data() + text->size();
    const auto [ptr, ec] = std::from_chars(text->data(), end, v);
    if (ec != std::errc{} || ptr != end || text->empty() || v < min || v > max) {
        s.response().set_std(400).format("query parameter '{}' must be an integer in [{}, {}]\n",
                                         name, min, max);
        return std::nullopt;
    }
    return v;
}

/// False (and a 400 already set) when `count` pieces `interval_ms` apart would keep the
/// request open longer than max_duration_ms; `what` names the product for the message.
bool duration_ok(wharf::session& s, std::string_view what, std::uint64_t count,
                 std::uint64_t interval_ms) {
    if (count < 2 || (count - 1) * interval_ms <= max_duration_ms) return true;
    s.response().set_std(400).format("{} must be at most {} ms\n", what, max_duration_ms);
    return false;
}

/// Appends `len` pattern bytes from body offset `at`, lent from the shared buffer (no copy).
void append_pattern(wharf::response& res, std::size_t len, std::uint64_t at) {
    res.append_borrowed(pattern_view(len, at), [] {});
}

/// GET /stream: `chunks` pieces of `size` bytes, each flushed, `delay_ms` apart.
struct stream_state {
    std::uint64_t chunks, size, delay_ms, sent = 0;
};

void stream_next(wharf::session& s) {
    auto* st = s.context<stream_state>();
    if (!st) return;
    if (st->sent == st->chunks) {
        s.send(); // ends the body (the last chunk on HTTP/1.1, the close on HTTP/1.0)
        return;
    }
    append_pattern(s.response(), static_cast<std::size_t>(st->size), st->sent * st->size);
    ++st->sent;
    s.flush([&s](wharf::send_result r) {
        if (r.error) return; // the client went away; the session ends with the connection
        auto* state = s.context<stream_state>();
        if (!state) return;
        if (state->delay_ms == 0 || state->sent == state->chunks) {
            stream_next(s);
        } else {
            s.after(std::chrono::milliseconds(state->delay_ms), [&s] { stream_next(s); });
        }
    });
}

/// POST /upload-digest: the body is hashed as it streams in, never held whole.
struct digest_state {
    sha256 hash;
    std::uint64_t bytes = 0;
};

void digest_more(wharf::session& s) {
    s.read_body([&s](std::error_code ec, std::string_view piece, bool last) {
        auto* st = s.context<digest_state>();
        if (ec || !st) return; // the client went away
        st->hash.update(piece);
        st->bytes += piece.size();
        if (!last) {
            digest_more(s);
            return;
        }
        s.response().json(nlohmann::json{{"bytes", st->bytes}, {"sha256", st->hash.hex()}}.dump());
        s.send();
    });
}

/// "2026-12-02T05:00:00Z"
std::string iso8601(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

nlohmann::ordered_json or_null(std::string_view s) {
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(std::string(s));
}

/// GET /tls: the connection's TLS session and client certificate, or {"tls": null}.
void tls_report(wharf::session& s) {
    const wharf::tls_info* tls = s.request().tls();
    nlohmann::ordered_json out;
    if (tls == nullptr) {
        out["tls"] = nullptr;
    } else {
        nlohmann::ordered_json t;
        t["version"] = std::string(tls->version);
        t["cipher"] = std::string(tls->cipher);
        t["alpn"] = or_null(tls->alpn);
        t["sni"] = or_null(tls->sni);
        t["resumed"] = tls->resumed;
        if (const wharf::peer_certificate* c = tls->client.get()) {
            nlohmann::ordered_json cert;
            cert["verified"] = c->verified;
            cert["error"] = or_null(c->error);
            cert["subject_cn"] = c->subject_cn;
            cert["subject"] = c->subject;
            cert["issuer"] = c->issuer;
            cert["dns"] = c->dns;
            cert["email"] = c->email;
            cert["serial"] = c->serial;
            cert["not_before"] = iso8601(c->not_before);
            cert["not_after"] = iso8601(c->not_after);
            cert["sha256"] = c->sha256;
            t["client"] = std::move(cert);
        } else {
            t["client"] = nullptr;
        }
        out["tls"] = std::move(t);
    }
    s.response().json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace

/// GET /events: a coroutine writes `count` server-sent events, `interval_ms` apart.
wharf::task events(wharf::session& s, std::uint64_t count, std::uint64_t interval_ms) {
    s.response().content_type("text/event-stream").set_header("Cache-Control", "no-store");
    for (std::uint64_t i = 0; i < count; ++i) {
        s.response().format("data: {}\n\n", i);
        const bool last = i + 1 == count;
        const auto sent =
            co_await s.async_send(last ? wharf::send_flags::none : wharf::send_flags::more);
        if (sent.error || last) co_return;
        if (co_await s.sleep(std::chrono::milliseconds(interval_ms))) co_return; // client gone
    }
    if (count == 0) co_await s.async_send();
}

/// GET /compute: the sum 1..n, computed on a pool thread while the loop serves others. The
/// work checks the request's stop token every compute_check_every additions (well under a
/// millisecond) and gives up once the client has gone: a reset costs the pool next to nothing.
wharf::task compute(wharf::session& s, wharf::thread_pool& pool, std::uint64_t n) {
    const auto r = co_await s.offload(pool, [n](std::stop_token stop) {
        std::uint64_t sum = 0; // n <= max_compute_n: at most 5e15, no overflow
        for (std::uint64_t i = 1; i <= n && !stop.stop_requested();) {
            for (const std::uint64_t last = std::min(n, i + compute_check_every - 1); i <= last;
                 ++i)
                sum += i;
        }
        return sum; // partial when stopped: offload drops it, the request has ended
    });
    if (r.error) co_return; // the client left while the pool worked
    s.response().json(fmt::format("{{\"n\":{},\"sum\":{}}}", n, r.value));
}

/// An upgraded connection that writes back every byte it reads, until the client's FIN.
struct raw_echo : std::enable_shared_from_this<raw_echo> {
    explicit raw_echo(wharf::upgraded_stream s) : stream(std::move(s)) {}
    void read() {
        stream.read_some(buffer, [self = shared_from_this()](std::error_code ec, std::size_t n) {
            if (ec) {
                self->stream.close(); // the client's FIN (or an error): ours follows
                return;
            }
            self->piece = std::string_view(self->buffer.data(), n);
            self->stream.write_all({&self->piece, 1}, [self](std::error_code wec, std::size_t) {
                if (!wec) self->read();
            });
        });
    }
    wharf::upgraded_stream stream;
    std::array<char, 16384> buffer{};
    std::string_view piece;
};

/// GET /upgrade/echo with "Upgrade: echo": 101, then the connection echoes raw bytes.
void upgrade_echo(wharf::session& s) {
    const auto asked = s.request().header("Upgrade");
    if (!asked || !wharf::iequals(*asked, "echo")) {
        s.response().status(426).body("this resource needs Upgrade: echo\n", "text/plain");
        s.response().headers().set("Upgrade", "echo");
        return;
    }
    s.response().status(101);
    s.response().headers().set("Upgrade", "echo");
    s.upgrade([](std::error_code ec, wharf::upgraded_stream stream) {
        if (!ec) std::make_shared<raw_echo>(std::move(stream))->read();
    });
}

/// GET /ws/echo: every message back as it came (text as text, binary as binary).
wharf::websocket_handlers websocket_echo() {
    wharf::websocket_handlers echo;
    echo.on_message = [](wharf::websocket& ws, std::string_view message, wharf::ws_kind kind) {
        ws.send(message, kind);
    };
    return echo;
}

/// GET /ws/chat: every text message to every client of /ws/chat, on every worker.
wharf::websocket_handlers websocket_chat() {
    static wharf::websocket_topic room; // lives as long as the process
    wharf::websocket_handlers chat;
    chat.options.on_overflow = wharf::ws_overflow::close; // a reader that falls behind leaves
    chat.options.send_limit = 4u << 20;
    chat.on_open = [](wharf::websocket& ws) { room.subscribe(ws); };
    chat.on_message = [](wharf::websocket& ws, std::string_view message, wharf::ws_kind kind) {
        if (kind != wharf::ws_kind::text) {
            ws.close(wharf::ws_close::unsupported, "text messages only");
            return;
        }
        room.publish(message);
    };
    return chat;
}

void add_demo_routes(wharf::router& routes, wharf::thread_pool& pool) {
    routes.get("/upgrade/echo", upgrade_echo);
    routes.websocket("/ws/echo", websocket_echo());
    routes.websocket("/ws/chat", websocket_chat());
    routes.get("/wait", [&pool](wharf::session& s) {
        const auto ms = int_param(s, "ms", 0, max_duration_ms, std::nullopt);
        if (!ms) return;
        // The loop is free meanwhile; a pool thread resumes the session when the time is up.
        wharf::session_handle handle = s.suspend(std::chrono::milliseconds(*ms + 30'000));
        auto resume = [handle, ms = *ms] {
            (void)handle.resume([ms](wharf::session& later) {
                later.response().body(fmt::format("waited {} ms", ms), "text/plain");
            });
        };
        if (*ms == 0) {
            pool.post(resume);
            return;
        }
        // The session's own timer (not pool.post_after): a client that leaves takes it along,
        // so nothing of its request stays queued on the pool for up to `ms`.
        s.after(std::chrono::milliseconds(*ms), [&pool, resume] { pool.post(resume); });
    });
    routes.get("/events", [](wharf::session& s) {
        const auto count = int_param(s, "count", 0, max_events, 10);
        if (!count) return;
        const auto interval = int_param(s, "interval_ms", 0, max_interval_ms, 1000);
        if (!interval) return;
        if (!duration_ok(s, "(count - 1) * interval_ms", *count, *interval)) return;
        events(s, *count, *interval);
    });
    routes.get("/compute", [&pool](wharf::session& s) {
        const auto n = int_param(s, "n", 0, max_compute_n, std::nullopt);
        if (!n) return;
        compute(s, pool, *n);
    });
    wharf::route_options streamed;
    streamed.stream_body = true;
    routes.route(
        wharf::method::post, "/upload-digest",
        [](wharf::session& s) {
            s.emplace_context<digest_state>();
            digest_more(s);
        },
        streamed);
    routes.get("/ranges-demo", [](wharf::session& s) {
        // 100,000 pattern bytes from memory; the library answers Range and conditionals.
        static const std::string body = pattern(100'000);
        constexpr auto modified = std::chrono::sys_seconds(std::chrono::seconds(1'700'000'000));
        s.response().status(200).body(body, "text/plain; charset=utf-8");
        s.response().process_ranges("\"ranges-demo-1\"", modified);
    });
    routes.get("/stream", [](wharf::session& s) {
        const auto chunks = int_param(s, "chunks", 0, max_stream_chunks, 10);
        if (!chunks) return;
        const auto size = int_param(s, "size", 1, max_piece, 1024);
        if (!size) return;
        const auto delay = int_param(s, "delay_ms", 0, max_interval_ms, 0);
        if (!delay) return;
        if (!duration_ok(s, "(chunks - 1) * delay_ms", *chunks, *delay)) return;
        // One chunk at a time, lent from the shared pattern: the next is appended once the
        // last was written, so a client that does not read holds nothing but its session.
        s.response().content_type("text/plain");
        s.emplace_context<stream_state>(stream_state{*chunks, *size, *delay});
        stream_next(s);
    });
    routes.get("/bytes", [](wharf::session& s) {
        const auto n = int_param(s, "n", 0, max_bytes, std::nullopt);
        if (!n) return;
        s.response().content_type("application/octet-stream");
        s.response().append_source(std::make_shared<pattern_source>(*n));
    });
    routes.get("/gather", [](wharf::session& s) {
        const auto parts = int_param(s, "parts", 1, max_gather_parts, std::nullopt);
        if (!parts) return;
        const auto size = int_param(s, "size", 1, max_piece, std::nullopt);
        if (!size) return;
        if (*parts * *size > max_gather_bytes) {
            s.response().set_std(400).format("parts * size must be at most {} ({} MiB)\n",
                                             max_gather_bytes, max_gather_bytes >> 20);
            return;
        }
        // K separate memory pieces in one send (S25), lent from the shared pattern: for a
        // client that does not read, the server holds at most about 4 MiB of bookkeeping for
        // them (9999 parts), never the bytes. Parts under lend_from bytes are copied into one
        // buffer instead: 5 MiB at most.
        s.response().content_type("application/octet-stream");
        const auto len = static_cast<std::size_t>(*size);
        if (len < lend_from) s.response().reserve(*parts * len);
        for (std::uint64_t i = 0; i < *parts; ++i) {
            if (len >= lend_from) {
                append_pattern(s.response(), len, i * *size);
            } else {
                s.response().append(pattern_view(len, i * *size));
            }
        }
    });
    routes.get("/trailers", [](wharf::session& s) {
        // Trailer fields after the body (HTTP/2, or a chunked HTTP/1.1 body), as gRPC sends
        // its status.
        const std::string body = "the trailers follow this body\n";
        s.response().body(body, "text/plain");
        s.response().trailers().set("X-Body-Length", std::to_string(body.size()));
        s.response().trailers().set("Grpc-Status", "0");
    });
    routes.get("/tls", tls_report);
    routes.get("/plaintext",
               [](wharf::session& s) { s.response().body("Hello, World!", "text/plain"); });
    routes.get("/json", [](wharf::session& s) {
        s.response().json(nlohmann::json{{"message", "Hello, World!"}}.dump());
    });
    routes.post("/echo", [](wharf::session& s) {
        const wharf::request& req = s.request();
        s.response().body(std::string(req.body()),
                          req.header("Content-Type").value_or("application/octet-stream"));
    });
    routes.get("/headers", [](wharf::session& s) {
        // Repeated fields become arrays, so nothing the client sent is lost.
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (const wharf::header_field& f : s.request().headers()) {
            const std::string name(f.name);
            auto& slot = out[name];
            if (slot.is_null()) {
                slot = std::string(f.value);
            } else {
                if (!slot.is_array()) slot = nlohmann::ordered_json::array({slot});
                slot.push_back(std::string(f.value));
            }
        }
        // Who asked: the client's address (behind a balancer, the one its PROXY header gave),
        // and what the header said.
        wharf::response& res = s.response();
        res.set_header("X-Peer-Address", s.request().peer().to_string());
        if (const wharf::proxy_info* p = s.request().proxy()) {
            res.set_header("X-Proxy-Version", std::to_string(p->version));
            if (!p->alpn.empty()) res.set_header("X-Proxy-Alpn", p->alpn);
            if (!p->authority.empty()) res.set_header("X-Proxy-Authority", p->authority);
            if (!p->unique_id.empty()) res.set_header("X-Proxy-Unique-Id", p->unique_id);
        }
        res.json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
}

} // namespace wharf_cli
