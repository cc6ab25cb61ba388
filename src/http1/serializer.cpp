// SPDX-License-Identifier: MIT
#include "http1/serializer.hpp"

#include <cstring>

#include "wharf/status.hpp"

namespace wharf::http1 {
namespace {

inline char* put(char* out, std::string_view s) noexcept {
    if (s.empty()) return out; // a null view must not reach memcpy
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

inline char* put_uint(char* out, std::uint64_t v) noexcept {
    char tmp[20];
    char* p = tmp + sizeof tmp;
    do {
        *--p = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    return put(out, {p, static_cast<std::size_t>(tmp + sizeof tmp - p)});
}

/// Fields the serializer owns: a handler's copy would contradict the framing it chose.
bool server_owned(std::string_view name) noexcept {
    switch (name.size()) {
    case 10:
        return iequals(name, "connection");
    case 14:
        return iequals(name, "content-length");
    case 17:
        return iequals(name, "transfer-encoding");
    default:
        return false;
    }
}

} // namespace

std::size_t head_size_bound(const response& res, const head_options& opt) noexcept {
    std::size_t n = 9 + 3 + 1 + res.reason().size() + 2; // "HTTP/1.1 200 OK\r\n"
    n += opt.date_line.size() + 8 + opt.server_name.size() + 2;
    n += 16 + 20 + 2; // Content-Length
    n += 32;          // Connection: keep-alive / close, and ", upgrade"
    res.headers().for_each([&](std::string_view name, std::string_view value) {
        n += name.size() + 2 + value.size() + 2;
    });
    return n + 2;
}

char* write_head(char* out, const response& res, const head_options& opt) noexcept {
    const int status = res.status();
    out = put(out, "HTTP/1.1 ");
    *out++ = static_cast<char>('0' + status / 100 % 10);
    *out++ = static_cast<char>('0' + status / 10 % 10);
    *out++ = static_cast<char>('0' + status % 10);
    *out++ = ' ';
    out = put(out, res.reason());
    out = put(out, "\r\n");

    bool user_date = false;
    bool user_server = false;
    bool offers_upgrade = false; // an Upgrade field (426, or an offer on a 200)
    res.headers().for_each([&](std::string_view name, std::string_view) {
        if (server_owned(name)) return;
        if (name.size() == 4 && iequals(name, "date")) user_date = true;
        if (name.size() == 6 && iequals(name, "server")) user_server = true;
        if (name.size() == 7 && iequals(name, "upgrade")) offers_upgrade = true;
    });
    if (!user_date) out = put(out, opt.date_line);
    if (!user_server && !opt.server_name.empty()) {
        out = put(out, "Server: ");
        out = put(out, opt.server_name);
        out = put(out, "\r\n");
    }
    res.headers().for_each([&](std::string_view name, std::string_view value) {
        if (server_owned(name)) return;
        out = put(out, name);
        out = put(out, ": ");
        out = put(out, value);
        out = put(out, "\r\n");
    });
    if (opt.chunked) {
        out = put(out, "Transfer-Encoding: chunked\r\n");
    } else if (opt.content_length) {
        out = put(out, "Content-Length: ");
        out = put_uint(out, opt.body_length);
        out = put(out, "\r\n");
    }
    // RFC 9110 §7.8: a sender of Upgrade also sends the "upgrade" connection option.
    if (opt.upgrade) {
        out = put(out, "Connection: Upgrade\r\n");
    } else if (!opt.keep_alive) {
        out = put(out, offers_upgrade ? "Connection: close, upgrade\r\n" : "Connection: close\r\n");
    } else if (opt.http10) {
        out = put(out, offers_upgrade ? "Connection: keep-alive, upgrade\r\n"
                                      : "Connection: keep-alive\r\n");
    } else if (offers_upgrade) {
        out = put(out, "Connection: upgrade\r\n");
    }
    return put(out, "\r\n");
}

std::size_t last_chunk_size_bound(const field_list& trailers) noexcept {
    std::size_t n = 5;
    trailers.for_each([&](std::string_view name, std::string_view value) {
        n += name.size() + value.size() + 4;
    });
    return n;
}

char* write_last_chunk(char* out, const field_list& trailers) noexcept {
    out = put(out, "0\r\n");
    trailers.for_each([&](std::string_view name, std::string_view value) {
        if (server_owned(name)) return;
        out = put(out, name);
        out = put(out, ": ");
        out = put(out, value);
        out = put(out, "\r\n");
    });
    return put(out, "\r\n");
}

} // namespace wharf::http1
