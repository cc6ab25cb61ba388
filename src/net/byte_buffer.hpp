// SPDX-License-Identifier: MIT
// A contiguous receive buffer with prepare/commit/consume, so the parser always sees one span.
// Views into data() stay valid until the next prepare(), which may move the bytes. Buffers from
// 256 KiB up are mapped pages: they grow without a copy (mremap) and go back to the kernel the
// moment they are freed, so a large body once held does not stay in the process's heap.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>
#include <utility>

namespace wharf::detail {

class byte_buffer {
  public:
    byte_buffer() = default;
    byte_buffer(const byte_buffer&) = delete;
    byte_buffer& operator=(const byte_buffer&) = delete;
    byte_buffer(byte_buffer&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)),
          begin_(std::exchange(o.begin_, 0)), end_(std::exchange(o.end_, 0)) {}
    byte_buffer& operator=(byte_buffer&& o) noexcept {
        if (this != &o) {
            deallocate();
            data_ = std::exchange(o.data_, nullptr);
            capacity_ = std::exchange(o.capacity_, 0);
            begin_ = std::exchange(o.begin_, 0);
            end_ = std::exchange(o.end_, 0);
        }
        return *this;
    }
    ~byte_buffer() { deallocate(); }

    char* data() noexcept { return data_ + begin_; }
    const char* data() const noexcept { return data_ + begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    std::size_t capacity() const noexcept { return capacity_; }

    /// Makes room for at least `n` more bytes after the data and returns where they go. May
    /// move the data (invalidating views) to the front or to a larger allocation.
    char* prepare(std::size_t n) {
        if (capacity_ - end_ >= n) return data_ + end_;
        const std::size_t used = size();
        if (capacity_ - used >= n && begin_ > 0) {
            std::memmove(data_, data_ + begin_, used);
        } else {
            std::size_t cap = capacity_ ? capacity_ : 4096;
            while (cap - used < n)
                cap *= 2;
            if (capacity_ >= mapped_from) {
                void* grown = ::mremap(data_, capacity_, cap, MREMAP_MAYMOVE);
                if (grown == MAP_FAILED) throw std::bad_alloc();
                data_ = static_cast<char*>(grown);
                if (begin_ > 0 && used) std::memmove(data_, data_ + begin_, used);
            } else {
                char* fresh = allocate(cap);
                if (used) std::memcpy(fresh, data_ + begin_, used);
                deallocate();
                data_ = fresh;
            }
            capacity_ = cap;
        }
        begin_ = 0;
        end_ = used;
        return data_ + end_;
    }
    /// Free bytes after the data without moving anything.
    std::size_t tail_room() const noexcept { return capacity_ - end_; }
    void commit(std::size_t n) noexcept { end_ += n; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// Drops the last `n` bytes.
    void shrink_by(std::size_t n) noexcept { end_ -= n; }
    void clear() noexcept { begin_ = end_ = 0; }
    /// Gives the memory back (an idle connection holds none).
    void release() noexcept {
        deallocate();
        data_ = nullptr;
        capacity_ = begin_ = end_ = 0;
    }

    static constexpr std::size_t mapped_from = 256 * 1024;

  private:
    static char* allocate(std::size_t cap) {
        void* p = cap >= mapped_from ? ::mmap(nullptr, cap, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                                     : std::malloc(cap);
        if (p == nullptr || p == MAP_FAILED) throw std::bad_alloc();
        return static_cast<char*>(p);
    }
    void deallocate() noexcept {
        if (capacity_ >= mapped_from)
            ::munmap(data_, capacity_);
        else
            std::free(data_);
    }

    char* data_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

} // namespace wharf::detail
