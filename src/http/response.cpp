// SPDX-License-Identifier: MIT
#include "wharf/response.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wharf/error.hpp"
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

response& response::vary(std::string_view field) {
    const auto current = headers_.get("Vary");
    if (!current || current->empty()) {
        headers_.set("Vary", field);
        return *this;
    }
    std::string_view rest = *current;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (item == "*" || iequals(item, field)) return *this;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    std::string joined(*current);
    joined.append(", ").append(field);
    headers_.set("Vary", joined);
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

void response::seal_memory() {
    if (body_.empty()) return;
    detail::body_piece p;
    p.kind = detail::body_piece::bytes;
    p.data = std::move(body_);
    body_.clear();
    pieces_.push_back(std::move(p));
}

response& response::append_chunk(std::string bytes) {
    seal_memory();
    detail::body_piece p;
    p.kind = detail::body_piece::bytes;
    p.data = std::move(bytes);
    pieces_.push_back(std::move(p));
    return *this;
}

response& response::append_borrowed(std::string_view bytes, std::function<void()> release) {
    seal_memory();
    detail::body_piece p;
    p.kind = detail::body_piece::borrowed;
    p.view = bytes;
    p.release = std::move(release);
    pieces_.push_back(std::move(p));
    return *this;
}

response& response::append_file(file_range range) {
    seal_memory();
    detail::body_piece p;
    p.kind = detail::body_piece::file;
    p.range = range;
    pieces_.push_back(std::move(p));
    return *this;
}

std::error_code response::append_file(const std::string& path, std::uint64_t offset,
                                      std::optional<std::uint64_t> length) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {errno, std::system_category()};
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return {err, std::system_category()};
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (offset > size || (length && *length > size - offset)) {
        ::close(fd);
        return errc::invalid_argument;
    }
    append_file(file_range{fd, offset, length.value_or(size - offset), true});
    return {};
}

response& response::append_source(std::shared_ptr<body_source> source) {
    seal_memory();
    detail::body_piece p;
    p.kind = detail::body_piece::source;
    p.src = std::move(source);
    pieces_.push_back(std::move(p));
    return *this;
}

std::error_code response::append_now(body_source& source) {
    for (;;) {
        const std::size_t at = body_.size();
        body_.resize(at + 16 * 1024);
        const source_read r = source.read(body_.data() + at, 16 * 1024);
        body_.resize(at + (r.status == source_read::data ? r.bytes : 0));
        switch (r.status) {
        case source_read::data:
            continue;
        case source_read::would_block:
            return errc::would_block;
        case source_read::end:
            return {};
        case source_read::failed:
            return r.error ? r.error : make_error_code(errc::closed);
        }
    }
}

std::optional<std::uint64_t> response::body_size() const {
    std::uint64_t total = body_.size();
    for (const auto& p : pieces_) {
        const auto n = p.size();
        if (!n) return std::nullopt;
        total += *n;
    }
    return total;
}

response& response::body(std::string body, std::string_view content_type) {
    pieces_.clear();
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

response&
response::process_ranges(std::string_view etag,
                         std::optional<std::chrono::system_clock::time_point> last_modified) {
    process_ranges_ = true;
    etag_.assign(etag);
    last_modified_ = last_modified;
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
