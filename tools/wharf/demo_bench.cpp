// SPDX-License-Identifier: MIT
#include "demo_bench.hpp"

#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include <wharf/session.hpp>

namespace wharf_cli {

namespace {

constexpr std::size_t json_64k_size = 64 * 1024;

std::string make_json_64k() {
    // A linear congruential generator (Knuth's MMIX constants): the same bytes on every run
    // and every machine.
    std::uint64_t state = 0x9e3779b97f4a7c15u;
    auto next = [&state](std::uint64_t bound) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        return (state >> 33) % bound;
    };
    static constexpr std::array<std::string_view, 16> first{
        "alice", "bob",  "carol",   "dave", "erin",   "frank", "grace",  "heidi",
        "ivan",  "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil"};
    static constexpr std::array<std::string_view, 8> domains{
        "example.com", "example.org", "example.net", "mail.test",
        "corp.test",   "wharf.test",  "lists.test",  "users.test"};
    static constexpr std::array<std::string_view, 10> tags{
        "admin", "beta", "staff", "trial", "vip", "legacy", "eu", "us", "apac", "mobile"};
    std::string out = "[";
    std::string record;
    for (std::uint64_t id = 1;; ++id) {
        const std::string_view name = first[next(first.size())];
        record = fmt::format(
            "{{\"id\":{},\"name\":\"{}-{}\",\"email\":\"{}{}@{}\",\"active\":{},"
            "\"score\":{}.{:03},\"visits\":{},\"created\":\"2026-{:02}-{:02}T{:02}:{:02}:{:02}Z\","
            "\"tags\":[\"{}\",\"{}\"]}}",
            id, name, next(10000), name, next(1000), domains[next(domains.size())],
            next(2) ? "true" : "false", next(100), next(1000), next(100000), 1 + next(12),
            1 + next(28), next(24), next(60), next(60), tags[next(tags.size())],
            tags[next(tags.size())]);
        // Room for the separator and the closing bracket.
        if (out.size() + 1 + record.size() + 1 > json_64k_size) break;
        if (out.size() > 1) out += ',';
        out += record;
    }
    // Pad to the exact size with whitespace inside the array (still valid JSON).
    out.append(json_64k_size - 1 - out.size(), ' ');
    out += ']';
    return out;
}

} // namespace

const std::string& json_64k() {
    static const std::string body = make_json_64k();
    return body;
}

void add_bench_demo_routes(wharf::router& routes) {
    routes.get("/json/64k", [](wharf::session& s) {
        // Lent from the static copy: no per-request allocation of the 64 KiB.
        s.response().content_type("application/json");
        s.response().append_borrowed(json_64k(), [] {});
    });
}

} // namespace wharf_cli
