// SPDX-License-Identifier: MIT
#include "http2/session_memory.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wharf::http2 {
namespace {

constexpr std::size_t header = alignof(std::max_align_t); // holds the block's size class
constexpr std::size_t class_step = 64;
constexpr std::size_t classes = 32; // up to 2 KiB; larger blocks go to malloc
#if defined(__SANITIZE_ADDRESS__)
#define WHARF_HTTP2_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WHARF_HTTP2_ASAN 1
#endif
#endif
#ifdef WHARF_HTTP2_ASAN
constexpr std::size_t kept_per_class = 0; // every block back to malloc, where ASan watches it
#else
constexpr std::size_t kept_per_class = 512;
#endif
constexpr std::size_t big = classes; // the class of a block that came from malloc

struct free_lists {
    std::vector<void*> lists[classes];
    ~free_lists() {
        for (auto& l : lists)
            for (void* p : l)
                std::free(p);
    }
};
thread_local free_lists pool;

std::size_t class_of(std::size_t size) noexcept {
    return size == 0 ? 0 : (size - 1) / class_step;
}

void* allocate(std::size_t size, void*) {
    const std::size_t c = class_of(size);
    void* raw;
    if (c < classes) {
        auto& list = pool.lists[c];
        if (!list.empty()) {
            raw = list.back();
            list.pop_back();
        } else {
            raw = std::malloc(header + (c + 1) * class_step);
            if (!raw) return nullptr;
        }
    } else {
        raw = std::malloc(header + size);
        if (!raw) return nullptr;
    }
    *static_cast<std::size_t*>(raw) = c < classes ? c : big;
    return static_cast<char*>(raw) + header;
}

void release(void* p, void*) {
    if (!p) return;
    void* raw = static_cast<char*>(p) - header;
    const std::size_t c = *static_cast<std::size_t*>(raw);
    if (c < classes && pool.lists[c].size() < kept_per_class) {
        pool.lists[c].push_back(raw);
        return;
    }
    std::free(raw);
}

void* allocate_zeroed(std::size_t n, std::size_t size, void* u) {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    void* p = allocate(n * size, u);
    if (p) std::memset(p, 0, n * size);
    return p;
}

void* reallocate(void* p, std::size_t size, void* u) {
    if (!p) return allocate(size, u);
    if (size == 0) {
        release(p, u);
        return nullptr;
    }
    void* raw = static_cast<char*>(p) - header;
    const std::size_t c = *static_cast<std::size_t*>(raw);
    if (c == big) {
        // A malloc block stays one (its class says "big"), whatever its new size.
        void* grown = std::realloc(raw, header + size);
        return grown ? static_cast<char*>(grown) + header : nullptr;
    }
    const std::size_t have = (c + 1) * class_step;
    if (size <= have) return p;
    void* q = allocate(size, u);
    if (!q) return nullptr;
    std::memcpy(q, p, have);
    release(p, u);
    return q;
}

} // namespace

nghttp2_mem* session_memory() noexcept {
    static nghttp2_mem mem{nullptr, allocate, release, allocate_zeroed, reallocate};
    return &mem;
}

} // namespace wharf::http2
