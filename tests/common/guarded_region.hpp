// SPDX-License-Identifier: MIT
// A buffer whose end is followed by an inaccessible page: a parser that reads one byte past
// its input faults at once, without a sanitizer.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace wharf_test {

class guarded_region {
  public:
    explicit guarded_region(std::size_t capacity) {
        page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        size_ = (capacity + page_ - 1) / page_ * page_;
        void* p = mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) std::abort();
        base_ = static_cast<char*>(p);
        if (mprotect(base_ + size_, page_, PROT_NONE) != 0) std::abort();
    }
    ~guarded_region() { munmap(base_, size_ + page_); }
    guarded_region(const guarded_region&) = delete;
    guarded_region& operator=(const guarded_region&) = delete;

    std::size_t capacity() const noexcept { return size_; }
    /// The first byte of the guard page.
    char* end() const noexcept { return base_ + size_; }
    /// Copies `bytes` so that they end right before the guard page; returns their start.
    char* place(std::string_view bytes) const noexcept {
        char* at = end() - bytes.size();
        if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
        return at;
    }

  private:
    std::size_t page_ = 0;
    std::size_t size_ = 0;
    char* base_ = nullptr;
};

} // namespace wharf_test
