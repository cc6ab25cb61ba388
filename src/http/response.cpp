// SPDX-License-Identifier: MIT
#include "wharf/response.hpp"

#include <cstdio>

#include "wharf/status.hpp"

namespace wharf {

response& response::status(int code) noexcept {
    status_ = code;
    reason_.clear();
    return *this;
}

response& response::status(int code, std::string_view reason) {
    status_ = code;
    reason_.assign(reason);
    return *this;
}

std::string_view response::reason() const noexcept {
    return reason_.empty() ? reason_phrase(status_) : std::string_view(reason_);
}

response& response::set_header(std::string_view name, std::string_view value) {
    headers_.set(name, value);
    return *this;
}

response& response::add_header(std::string_view name, std::string_view value) {
    headers_.add(name, value);
    return *this;
}

response& response::remove_header(std::string_view name) noexcept {
    headers_.remove(name);
    return *this;
}

response& response::append(std::string_view bytes) {
    body_.append(bytes);
    return *this;
}

response& response::printf(const char* format, ...) {
    std::va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    return *this;
}

response& response::vprintf(const char* format, std::va_list args) {
    std::va_list again;
    va_copy(again, args);
    char small[256];
    const int n = std::vsnprintf(small, sizeof small, format, args);
    if (n > 0) {
        if (static_cast<std::size_t>(n) < sizeof small) {
            body_.append(small, static_cast<std::size_t>(n));
        } else {
            const std::size_t at = body_.size();
            body_.resize(at + static_cast<std::size_t>(n) + 1);
            std::vsnprintf(body_.data() + at, static_cast<std::size_t>(n) + 1, format, again);
            body_.resize(at + static_cast<std::size_t>(n));
        }
    }
    va_end(again);
    return *this;
}

response& response::body(std::string body, std::string_view content_type) {
    body_ = std::move(body);
    if (!content_type.empty()) headers_.set("Content-Type", content_type);
    return *this;
}

response& response::standard(int code) {
    status(code);
    if (!headers_.contains("Content-Type"))
        headers_.set("Content-Type", "text/plain; charset=utf-8");
    default_body_ = code >= 400;
    return *this;
}

response& response::ok(std::string_view content_type) {
    status(200);
    if (!content_type.empty()) headers_.set("Content-Type", content_type);
    default_body_ = false;
    return *this;
}

response& response::denied() {
    return standard(403);
}
response& response::not_found() {
    return standard(404);
}
response& response::server_error() {
    return standard(500);
}
response& response::set_std(int code) {
    return standard(code);
}

} // namespace wharf
