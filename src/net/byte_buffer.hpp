// SPDX-License-Identifier: MIT
// A contiguous receive buffer with prepare/commit/consume, so the parser always sees one span.
// Views into data() stay valid until the next prepare(), which may move the bytes.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
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
            std::free(data_);
            data_ = std::exchange(o.data_, nullptr);
            capacity_ = std::exchange(o.capacity_, 0);
            begin_ = std::exchange(o.begin_, 0);
            end_ = std::exchange(o.end_, 0);
        }
        return *this;
    }
    ~byte_buffer() { std::free(data_); }

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
            char* fresh = static_cast<char*>(std::malloc(cap));
            if (!fresh) throw std::bad_alloc();
            if (used) std::memcpy(fresh, data_ + begin_, used);
            std::free(data_);
            data_ = fresh;
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
        std::free(data_);
        data_ = nullptr;
        capacity_ = begin_ = end_ = 0;
    }

  private:
    char* data_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

} // namespace wharf::detail
