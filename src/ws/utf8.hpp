// SPDX-License-Identifier: MIT
// An incremental UTF-8 check (RFC 3629): text may arrive in pieces split anywhere, and the
// first byte that cannot belong to valid UTF-8 is reported at once (WebSocket fails fast).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace wharf::detail::ws {

class utf8_validator {
  public:
    /// False at the first byte that no valid continuation of the text so far can contain.
    bool feed(std::string_view text) noexcept {
        auto p = reinterpret_cast<const unsigned char*>(text.data());
        const auto end = p + text.size();
        while (p < end) {
            if (need_ == 0) {
                while (end - p >= 8) { // ASCII runs, eight bytes at a time
                    std::uint64_t word;
                    std::memcpy(&word, p, 8);
                    if (word & 0x8080808080808080ull) break;
                    p += 8;
                }
                if (p == end) break;
                const unsigned c = *p++;
                if (c < 0x80) continue;
                if (!lead(c)) return false;
            } else {
                const unsigned c = *p++;
                if (c < low_ || c > high_) return false;
                low_ = 0x80;
                high_ = 0xBF;
                --need_;
            }
        }
        return true;
    }
    /// True when the text so far ends on a code point boundary.
    bool complete() const noexcept { return need_ == 0; }
    void reset() noexcept { need_ = 0; }

  private:
    // The ranges of RFC 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF.
    bool lead(unsigned c) noexcept {
        low_ = 0x80;
        high_ = 0xBF;
        if (c < 0xC2) return false;
        if (c < 0xE0) {
            need_ = 1;
        } else if (c < 0xF0) {
            need_ = 2;
            if (c == 0xE0) low_ = 0xA0;
            if (c == 0xED) high_ = 0x9F;
        } else if (c < 0xF5) {
            need_ = 3;
            if (c == 0xF0) low_ = 0x90;
            if (c == 0xF4) high_ = 0x8F;
        } else {
            return false;
        }
        return true;
    }

    std::uint8_t need_ = 0; // continuation bytes still expected
    std::uint8_t low_ = 0x80;
    std::uint8_t high_ = 0xBF;
};

} // namespace wharf::detail::ws
