// SPDX-License-Identifier: MIT
#include "net/send_queue.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace wharf::detail {

char* send_queue::prepare(std::size_t n) {
    if (segments_.empty() || !segments_.back().copy_target) {
        segments_.emplace_back();
        tail_used_ = 0;
    }
    std::string& t = tail();
    if (t.capacity() < tail_used_ + n) t.reserve(std::max(tail_used_ + n, std::size_t{4096}));
    // resize without zeroing cost would need C++23 resize_and_overwrite; reserve + a write
    // past size() is not allowed, so grow the size now and trim on commit.
    t.resize(tail_used_ + n);
    return t.data() + tail_used_;
}

void send_queue::append(std::string_view bytes) {
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
}

void send_queue::append_owned(std::string&& bytes) {
    if (bytes.size() < copy_limit) {
        append(bytes);
        return;
    }
    if (!segments_.empty() && segments_.back().copy_target) tail().resize(tail_used_);
    size_ += bytes.size();
    segments_.push_back({std::move(bytes), 0, false});
}

void send_queue::clear() noexcept {
    // Keep the first copy buffer's memory for the next response.
    if (!segments_.empty() && segments_[0].copy_target &&
        segments_[0].bytes.capacity() <= 64 * 1024) {
        segments_.resize(1);
        segments_[0].bytes.clear();
        segments_[0].sent = 0;
    } else {
        segments_.clear();
    }
    head_ = 0;
    tail_used_ = 0;
    size_ = 0;
}

send_queue::flush_result send_queue::flush(transport& t, bool more_follows) {
    flush_result result;
    while (size_ > 0) {
        iovec iov[IOV_MAX];
        int count = 0;
        for (std::size_t i = head_; i < segments_.size() && count < IOV_MAX; ++i) {
            const segment& s = segments_[i];
            const std::size_t len = s.bytes.size();
            if (len == s.sent) continue;
            iov[count].iov_base = const_cast<char*>(s.bytes.data() + s.sent);
            iov[count].iov_len = len - s.sent;
            ++count;
        }
        const ssize_t n = t.writev(iov, count, more_follows);
        if (n < 0) {
            if (n != -EAGAIN)
                result.error = static_cast<int>(-n);
            else
                result.blocked = true;
            return result;
        }
        std::size_t left = static_cast<std::size_t>(n);
        result.written += left;
        size_ -= left;
        while (left > 0) {
            segment& s = segments_[head_];
            const std::size_t len = s.bytes.size();
            const std::size_t take = std::min(left, len - s.sent);
            s.sent += take;
            left -= take;
            if (s.sent == len && head_ + 1 < segments_.size()) ++head_;
        }
        if (size_ == 0) {
            clear();
            return result;
        }
        std::size_t offered = 0;
        for (int i = 0; i < count; ++i)
            offered += iov[i].iov_len;
        if (static_cast<std::size_t>(n) < offered) {
            result.blocked = true;
            return result;
        }
    }
    return result;
}

} // namespace wharf::detail
