// SPDX-License-Identifier: MIT
// What the fuzz targets share: an invariant check that aborts (libFuzzer then keeps the input),
// exact-size heap copies for ASan to guard, and a small deterministic generator.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace wharf_fuzz {

/// A heap copy of exactly `len` bytes: ASan traps a read one byte past it.
inline std::unique_ptr<char[]> copy_of(const char* p, std::size_t len) {
    std::unique_ptr<char[]> b(new char[len == 0 ? 1 : len]);
    if (len) std::memcpy(b.get(), p, len);
    return b;
}

/// True when the view lies within [buf, buf + len).
inline bool inside(std::string_view v, const char* buf, std::size_t len) {
    const auto lo = reinterpret_cast<std::uintptr_t>(buf);
    const auto at = reinterpret_cast<std::uintptr_t>(v.data());
    return at >= lo && at + v.size() <= lo + len;
}

/// A small deterministic generator, seeded from the input, for split points and piece sizes.
struct splitmix {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
};

} // namespace wharf_fuzz
