// SPDX-License-Identifier: MIT
#include "wharf/body.hpp"

#include <unistd.h>
#include <utility>

#include "wharf/error.hpp"

namespace wharf::detail {

body_piece::body_piece(body_piece&& o) noexcept
    : kind(o.kind), data(std::move(o.data)), view(o.view), release(std::move(o.release)),
      range(o.range), src(std::move(o.src)) {
    o.release = nullptr;
    o.range.close_fd = false;
    o.src.reset();
}

body_piece& body_piece::operator=(body_piece&& o) noexcept {
    if (this != &o) {
        finish(errc::canceled);
        kind = o.kind;
        data = std::move(o.data);
        view = o.view;
        release = std::exchange(o.release, nullptr);
        range = o.range;
        o.range.close_fd = false;
        src = std::move(o.src);
    }
    return *this;
}

body_piece::~body_piece() {
    finish(errc::canceled);
}

void body_piece::finish(std::error_code result) noexcept {
    if (release) std::exchange(release, nullptr)();
    if (range.close_fd && range.fd >= 0) ::close(range.fd);
    range.close_fd = false;
    if (src) std::exchange(src, nullptr)->on_release(result);
}

std::optional<std::uint64_t> body_piece::size() const {
    switch (kind) {
    case bytes:
        return data.size();
    case borrowed:
        return view.size();
    case file:
        return range.length;
    case source:
        return src ? src->size() : std::optional<std::uint64_t>(0);
    }
    return std::nullopt;
}

} // namespace wharf::detail
