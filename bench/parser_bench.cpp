// SPDX-License-Identifier: MIT
// The HTTP/1 request-head parser against Node's classic http-parser (Debian's
// libhttp-parser), on the same requests. Both produce what a server needs: method, target,
// version, every header field as (name, value) spans, and the body framing. Run
// build/release/bench/wharf_parser_bench; compare the per-request times of each pair.

#include <array>
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <string>
#include <string_view>

#include <http_parser.h>

#include "http1/framing.hpp"
#include "http1/parser.hpp"

namespace {

const std::string minimal = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

const std::string browser =
    "GET /assets/app.3f9a2c.js?v=20261122 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"156\", \"Not.A/Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/dashboard/overview\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n"
    "Cookie: session=7f3a9c0e2b5d4f18a6c1e9b7d3f2a8c4; theme=dark; consent=1\r\n"
    "If-None-Match: \"3f9a2c-18ea7d203e65cb27\"\r\n"
    "\r\n";

const std::string api_post = "POST /v1/orders HTTP/1.1\r\n"
                             "Host: api.example.com\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 512\r\n"
                             "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig\r\n"
                             "Accept: application/json\r\n"
                             "X-Request-Id: 0c6f1d5e-8b3a-4c2d-9e7f-1a2b3c4d5e6f\r\n"
                             "\r\n";

void wharf_parse(benchmark::State& state, const std::string& req) {
    using namespace wharf::http1;
    std::array<wharf::header_field, 64> fields;
    const head_limits limits;
    for (auto _ : state) {
        request_head head;
        const parse_result r = parse_request_head(req.data(), req.size(), head, fields, limits);
        if (r.kind != parse_result::complete) std::abort();
        const request_framing framing =
            analyze_request(head, std::span(fields.data(), head.num_headers));
        benchmark::DoNotOptimize(head);
        benchmark::DoNotOptimize(framing);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.size()));
}

/// What the http-parser callbacks collect: the same spans wharf's parser returns.
struct collected {
    std::string_view url;
    std::array<wharf::header_field, 64> fields;
    std::size_t count = 0;
    bool done = false;
};

int on_url(http_parser* p, const char* at, std::size_t len) {
    static_cast<collected*>(p->data)->url = {at, len};
    return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t len) {
    auto* c = static_cast<collected*>(p->data);
    c->fields[c->count].name = {at, len}; // whole heads are parsed at once: one piece each
    return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t len) {
    auto* c = static_cast<collected*>(p->data);
    c->fields[c->count++].value = {at, len};
    return 0;
}
int on_headers_complete(http_parser* p) {
    static_cast<collected*>(p->data)->done = true;
    return 0;
}

void http_parser_parse(benchmark::State& state, const std::string& req) {
    http_parser_settings settings{};
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    for (auto _ : state) {
        collected c;
        http_parser parser;
        http_parser_init(&parser, HTTP_REQUEST);
        parser.data = &c;
        const std::size_t n = http_parser_execute(&parser, &settings, req.data(), req.size());
        if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || !c.done) std::abort();
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(c);
        // The framing it computed: keep-alive and the body length.
        benchmark::DoNotOptimize(http_should_keep_alive(&parser));
        benchmark::DoNotOptimize(parser.content_length);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.size()));
}

BENCHMARK_CAPTURE(wharf_parse, minimal, minimal);
BENCHMARK_CAPTURE(http_parser_parse, minimal, minimal);
BENCHMARK_CAPTURE(wharf_parse, browser, browser);
BENCHMARK_CAPTURE(http_parser_parse, browser, browser);
BENCHMARK_CAPTURE(wharf_parse, api_post, api_post);
BENCHMARK_CAPTURE(http_parser_parse, api_post, api_post);

} // namespace

BENCHMARK_MAIN();
