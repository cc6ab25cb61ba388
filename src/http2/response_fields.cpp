// SPDX-License-Identifier: MIT
#include "http2/response_fields.hpp"

#include <charconv>

namespace wharf::http2 {
namespace {

// RFC 9113 §8.2.2: fields that only mean something to an HTTP/1 connection.
bool connection_specific(std::string_view name) noexcept {
    switch (name.size()) {
    case 7:
        return iequals(name, "upgrade");
    case 10:
        return iequals(name, "connection") || iequals(name, "keep-alive");
    case 14:
        return iequals(name, "content-length"); // ours: it must match the DATA sent
    case 16:
        return iequals(name, "proxy-connection");
    case 17:
        return iequals(name, "transfer-encoding");
    default:
        return false;
    }
}

} // namespace

void response_fields::add(std::string_view name, std::string_view value, bool lower) {
    const std::size_t at = arena_.size();
    arena_.append(name);
    if (lower) {
        for (std::size_t i = at; i < arena_.size(); ++i)
            if (arena_[i] >= 'A' && arena_[i] <= 'Z') arena_[i] = static_cast<char>(arena_[i] + 32);
    }
    arena_.append(value);
    auto* base = reinterpret_cast<std::uint8_t*>(arena_.data());
    nv_.push_back(
        {base + at, base + at + name.size(), name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
}

void response_fields::build(const response& res, const detail::response_head& head,
                            std::string_view date_line, std::string_view server_name) {
    nv_.clear();
    arena_.clear();
    bool user_date = false;
    bool user_server = false;
    std::size_t bytes = 64 + date_line.size() + server_name.size();
    res.headers().for_each([&](std::string_view name, std::string_view value) {
        bytes += name.size() + value.size();
        if (name.size() == 4 && iequals(name, "date")) user_date = true;
        if (name.size() == 6 && iequals(name, "server")) user_server = true;
    });
    arena_.reserve(bytes); // no reallocation below: the field pointers stay valid

    char status[4];
    const int code = res.status() >= 100 && res.status() <= 999 ? res.status() : 500;
    std::to_chars(status, status + 3, code);
    add(":status", {status, 3}, false);
    if (!user_date && date_line.size() > 8) // "Date: " ... "\r\n"
        add("date", date_line.substr(6, date_line.size() - 8), false);
    if (!user_server && !server_name.empty()) add("server", server_name, false);
    res.headers().for_each([&](std::string_view name, std::string_view value) {
        if (!connection_specific(name)) add(name, value, true);
    });
    if (!head.status_forbids_body && head.length) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, *head.length).ptr;
        add("content-length", {digits, static_cast<std::size_t>(end - digits)}, false);
    }
}

void response_fields::build_trailers(const field_list& trailers) {
    nv_.clear();
    arena_.clear();
    std::size_t bytes = 0;
    trailers.for_each([&](std::string_view name, std::string_view value) {
        bytes += name.size() + value.size();
    });
    arena_.reserve(bytes);
    trailers.for_each([&](std::string_view name, std::string_view value) {
        if (!connection_specific(name)) add(name, value, true);
    });
}

} // namespace wharf::http2
