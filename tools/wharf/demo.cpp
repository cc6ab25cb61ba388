// SPDX-License-Identifier: MIT
#include "demo.hpp"

#include <charconv>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <wharf/task.hpp>

#include "pattern.hpp"

namespace wharf_cli {
namespace {

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
    const std::uint64_t at = st->sent * st->size;
    s.response().append(pattern(static_cast<std::size_t>(st->size), at));
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
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::uint64_t bytes = 0;
    digest_state() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
    digest_state(const digest_state&) = delete;
    digest_state& operator=(const digest_state&) = delete;
    ~digest_state() { EVP_MD_CTX_free(ctx); }
};

void digest_more(wharf::session& s) {
    s.read_body([&s](std::error_code ec, std::string_view piece, bool last) {
        auto* st = s.context<digest_state>();
        if (ec || !st) return; // the client went away
        EVP_DigestUpdate(st->ctx, piece.data(), piece.size());
        st->bytes += piece.size();
        if (!last) {
            digest_more(s);
            return;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(st->ctx, md, &len);
        std::string hex;
        for (unsigned i = 0; i < len; ++i)
            hex += fmt::format("{:02x}", md[i]);
        s.response().json(nlohmann::json{{"bytes", st->bytes}, {"sha256", hex}}.dump());
        s.send();
    });
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

/// GET /compute: the sum 1..n, computed on a pool thread while the loop serves others.
wharf::task compute(wharf::session& s, wharf::thread_pool& pool, std::uint64_t n) {
    const auto r = co_await s.offload(pool, [n] {
        std::uint64_t sum = 0; // n <= 1e8: at most 5e15, no overflow
        for (std::uint64_t i = 1; i <= n; ++i)
            sum += i;
        return sum;
    });
    if (r.error) co_return; // the client left while the pool worked
    s.response().json(fmt::format("{{\"n\":{},\"sum\":{}}}", n, r.value));
}

void add_demo_routes(wharf::router& routes, wharf::thread_pool& pool) {
    routes.get("/wait", [&pool](wharf::session& s) {
        const auto ms = int_param(s, "ms", 0, 3'600'000, std::nullopt);
        if (!ms) return;
        // The loop is free meanwhile; a pool thread resumes the session when the time is up.
        wharf::session_handle handle = s.suspend(std::chrono::milliseconds(*ms + 30'000));
        pool.post_after(std::chrono::milliseconds(*ms), [handle, ms = *ms] {
            (void)handle.resume([ms](wharf::session& later) {
                later.response().body(fmt::format("waited {} ms", ms), "text/plain");
            });
        });
    });
    routes.get("/events", [](wharf::session& s) {
        const auto count = int_param(s, "count", 0, 100'000, 10);
        if (!count) return;
        const auto interval = int_param(s, "interval_ms", 0, 60'000, 1000);
        if (!interval) return;
        events(s, *count, *interval);
    });
    routes.get("/compute", [&pool](wharf::session& s) {
        const auto n = int_param(s, "n", 0, 100'000'000, std::nullopt);
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
        const auto chunks = int_param(s, "chunks", 0, 1'000'000, 10);
        if (!chunks) return;
        const auto size = int_param(s, "size", 1, 16 << 20, 1024);
        if (!size) return;
        const auto delay = int_param(s, "delay_ms", 0, 60'000, 0);
        if (!delay) return;
        s.response().content_type("text/plain");
        s.emplace_context<stream_state>(stream_state{*chunks, *size, *delay});
        stream_next(s);
    });
    routes.get("/bytes", [](wharf::session& s) {
        const auto n = int_param(s, "n", 0, std::uint64_t{1} << 40, std::nullopt);
        if (!n) return;
        s.response().content_type("application/octet-stream");
        s.response().append_source(std::make_shared<pattern_source>(*n));
    });
    routes.get("/gather", [](wharf::session& s) {
        const auto parts = int_param(s, "parts", 1, 9999, std::nullopt);
        if (!parts) return;
        const auto size = int_param(s, "size", 1, 1 << 20, std::nullopt);
        if (!size) return;
        if (*parts * *size > (std::uint64_t{256} << 20)) {
            s.response().set_std(400).append("parts * size must be at most 256 MiB\n");
            return;
        }
        // K separate memory chunks, handed over in one send (S25).
        s.response().content_type("application/octet-stream");
        for (std::uint64_t i = 0; i < *parts; ++i)
            s.response().append_chunk(pattern(static_cast<std::size_t>(*size), i * *size));
    });
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
        s.response().json(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
}

} // namespace wharf_cli
