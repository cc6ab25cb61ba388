// SPDX-License-Identifier: MIT
#include "wharf/address.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/un.h>

namespace wharf {

address::address() noexcept : storage_{}, size_(0) {}

address address::from(const sockaddr* sa, socklen_t length) noexcept {
    address a;
    if (sa == nullptr || length > sizeof a.storage_) return a;
    std::memcpy(&a.storage_, sa, length);
    a.size_ = length;
    return a;
}

address address::local_of(int fd) noexcept {
    sockaddr_storage ss{};
    socklen_t length = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length) != 0) return {};
    return from(reinterpret_cast<const sockaddr*>(&ss), length);
}

address address::parse(std::string_view text, std::error_code& ec) {
    ec.clear();
    address a;
    if (text.starts_with("unix:")) {
        const std::string_view path = text.substr(5);
        auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
        if (path.empty() || path.size() >= sizeof un->sun_path) {
            ec = errc::invalid_argument;
            return a;
        }
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, path.data(), path.size());
        a.size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        return a;
    }

    std::string_view host = "127.0.0.1";
    std::string_view port_text = text;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            ec = errc::invalid_argument;
            return a;
        }
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
        port_text.empty()) {
        ec = errc::invalid_argument;
        return a;
    }
    if (host == "localhost") host = "127.0.0.1";
    if (host == "*" || host.empty()) host = "0.0.0.0";

    const std::string host_z(host);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    if (inet_pton(AF_INET, host_z.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        a.size_ = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host_z.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        a.size_ = sizeof(sockaddr_in6);
    } else {
        ec = errc::invalid_argument;
    }
    return a;
}

std::string address::host() const {
    char buf[INET6_ADDRSTRLEN] = "";
    switch (storage_.ss_family) {
    case AF_INET:
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                  sizeof buf);
        return buf;
    case AF_INET6:
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
                  sizeof buf);
        return buf;
    case AF_UNIX: {
        const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
        return std::string(un->sun_path, strnlen(un->sun_path, sizeof un->sun_path));
    }
    default:
        return {};
    }
}

std::uint16_t address::port() const noexcept {
    switch (storage_.ss_family) {
    case AF_INET:
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
        return 0;
    }
}

void address::set_port(std::uint16_t port) noexcept {
    if (storage_.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    else if (storage_.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string address::to_string() const {
    switch (storage_.ss_family) {
    case AF_INET:
        return fmt::format("{}:{}", host(), port());
    case AF_INET6:
        return fmt::format("[{}]:{}", host(), port());
    case AF_UNIX:
        return fmt::format("unix:{}", host());
    default:
        return "?";
    }
}

} // namespace wharf
