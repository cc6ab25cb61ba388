// SPDX-License-Identifier: MIT
// The demo bodies' deterministic pattern: byte i of a body is 'a' + (i % 26).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <wharf/body.hpp>

namespace wharf_cli {

/// Fills `out[0, len)` with the pattern as it continues from body offset `at`, copying from
/// a precomputed run so a source costs little more than the copy.
inline void fill_pattern(char* out, std::size_t len, std::uint64_t at) noexcept {
    static constexpr std::size_t run = 64 * 1024;
    static const std::string table = [] {
        std::string t(run + 26, '\0');
        for (std::size_t i = 0; i < t.size(); ++i)
            t[i] = static_cast<char>('a' + i % 26);
        return t;
    }();
    auto phase = static_cast<std::size_t>(at % 26);
    while (len > 0) {
        const std::size_t n = std::min(len, run);
        std::memcpy(out, table.data() + phase, n);
        out += n;
        len -= n;
        phase = (phase + n) % 26;
    }
}

inline std::string pattern(std::size_t len, std::uint64_t at = 0) {
    std::string s(len, '\0');
    fill_pattern(s.data(), len, at);
    return s;
}

/// The longest piece pattern_view() lends.
inline constexpr std::size_t max_lent_pattern = std::size_t{1} << 20;

/// `len` (at most max_lent_pattern) pattern bytes as they continue from body offset `at`,
/// lent from one read-only buffer that every request and thread shares (1 MiB, built on first
/// use, never freed): a response borrows them (append_borrowed) instead of holding a copy.
inline std::string_view pattern_view(std::size_t len, std::uint64_t at) {
    static const std::string shared = pattern(max_lent_pattern + 25);
    return std::string_view(shared).substr(static_cast<std::size_t>(at % 26),
                                           std::min(len, max_lent_pattern));
}

/// A source of `total` pattern bytes, produced as the client reads them (never buffered).
class pattern_source final : public wharf::body_source {
  public:
    explicit pattern_source(std::uint64_t total) noexcept : total_(total) {}
    wharf::source_read read(char* buf, std::size_t len) override {
        if (at_ == total_) return wharf::source_read::finished();
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(len, total_ - at_));
        fill_pattern(buf, n, at_);
        at_ += n;
        return wharf::source_read::got(n);
    }
    std::optional<std::uint64_t> size() const override { return total_; }

  private:
    std::uint64_t total_;
    std::uint64_t at_ = 0;
};

} // namespace wharf_cli
