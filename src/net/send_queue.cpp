// SPDX-License-Identifier: MIT
#include "net/send_queue.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "wharf/error.hpp"

namespace wharf::detail {
namespace {

constexpr std::size_t max_sendfile = 1 << 20; // per call: bounds one connection's turn

} // namespace

send_queue::segment& send_queue::push(segment::kind_t kind) {
    segment& s = segments_.emplace_back();
    s.kind = kind;
    s.hold = hold_;
    return s;
}

char* send_queue::prepare(std::size_t n) {
    if (empty() || !segments_.back().copy_target || segments_.back().hold != hold_) {
        segment& s = push(segment::bytes);
        s.copy_target = true;
        s.data = std::exchange(spare_, {});
        s.data.clear();
        tail_used_ = 0;
    }
    std::string& t = tail();
    if (t.capacity() < tail_used_ + n) t.reserve(std::max(tail_used_ + n, std::size_t{4096}));
    // No resize_and_overwrite before C++23: grow now, trim in commit().
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
    size_ += bytes.size();
    segment& s = push(segment::bytes);
    s.data = std::move(bytes);
}

void send_queue::append_piece(body_piece&& piece, const piece_framing* framing,
                              std::uint64_t limit) {
    switch (piece.kind) {
    case body_piece::bytes:
        append_owned(std::move(piece.data));
        return;
    case body_piece::borrowed:
        size_ += piece.view.size();
        break;
    case body_piece::file:
    case body_piece::source:
        break;
    }
    segment& s = push(segment::piece);
    s.framing = framing;
    s.limit = limit;
    s.body = std::move(piece);
}

void send_queue::append_marker(send_callback done, std::uint64_t bytes) {
    segment& s = push(segment::marker);
    s.done = std::move(done);
    s.done_bytes = bytes;
}

std::string_view send_queue::pending_bytes(const segment& s) const noexcept {
    if (s.kind == segment::bytes) return std::string_view(s.data).substr(s.sent);
    if (s.kind == segment::piece) {
        if (s.body.kind == body_piece::borrowed) return s.body.view.substr(s.sent);
        if (s.body.kind == body_piece::source) return std::string_view(s.data).substr(s.sent);
    }
    return {};
}

void send_queue::pop_front() {
    segment& s = segments_[head_];
    if (s.kind == segment::bytes && s.copy_target && s.data.capacity() <= 64 * 1024 &&
        s.data.capacity() > spare_.capacity())
        spare_ = std::move(s.data);
    s = segment{};
    ++head_;
    if (head_ == segments_.size()) {
        segments_.clear();
        head_ = 0;
        tail_used_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= segments_.size()) {
        segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

// Moves the front of the queue on by `n` written bytes of memory segments.
void send_queue::advance(std::size_t n) {
    while (n > 0) {
        segment& s = segments_[head_];
        const bool source = s.kind == segment::piece && s.body.kind == body_piece::source;
        const std::size_t take = std::min(n, pending_bytes(s).size());
        if (take == 0) break;
        s.sent += take;
        n -= take;
        if (!source) size_ -= take;
        if (!pending_bytes(s).empty()) continue;
        if (source) {
            s.data.clear();
            s.sent = 0;
            if (!s.source_ended) break; // stays at the front: more to read from it
        } else if (s.kind == segment::piece) {
            s.body.finish({});
        }
        pop_front();
    }
}

send_queue::flush_result send_queue::flush(transport& t) {
    flush_result result;
    while (!empty()) {
        segment& front = segments_[head_];
        if (front.kind == segment::marker) {
            completions_.emplace_back(std::move(front.done), send_result{{}, front.done_bytes});
            pop_front();
            continue;
        }
        if (front.kind == segment::piece && front.body.kind == body_piece::file &&
            front.body.range.length > 0) {
            file_range& r = front.body.range;
            auto offset = static_cast<off_t>(r.offset);
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(r.length, max_sendfile));
            const ssize_t n = t.sendfile(r.fd, &offset, want);
            if (n < 0) {
                if (n == -EAGAIN)
                    result.blocked = true;
                else
                    result.error = static_cast<int>(-n);
                return result;
            }
            if (n == 0) { // the file shrank under us: the framing promised more bytes
                result.source_error = make_error_code(errc::closed);
                return result;
            }
            r.offset += static_cast<std::uint64_t>(n);
            r.length -= static_cast<std::uint64_t>(n);
            result.written += static_cast<std::size_t>(n);
            if (r.length > 0)
                continue; // the next call says whether the socket is full (EAGAIN)
                          // or the file ended early (0)
            front.body.finish({});
            pop_front();
            continue;
        }
        if (front.kind == segment::piece && front.body.kind == body_piece::file) {
            front.body.finish({});
            pop_front();
            continue;
        }
        if (front.kind == segment::piece && front.body.kind == body_piece::source &&
            pending_bytes(front).empty()) {
            if (front.source_ended) {
                pop_front();
                continue;
            }
            // Pull the next piece; its framing goes around it in the same buffer.
            std::string& buf = front.data;
            const piece_framing* framing = front.framing;
            const std::size_t room = framing ? framing->head_room : 0;
            // A source may not outrun the length the response announced.
            const auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(source_chunk, front.limit));
            buf.resize(room + source_chunk + (framing ? framing->tail_room : 0));
            const source_read r =
                want == 0 ? source_read::finished() : front.body.src->read(buf.data() + room, want);
            if (r.status == source_read::data)
                front.limit -= std::min<std::uint64_t>(r.bytes, front.limit);
            if (r.status == source_read::data && r.bytes > 0) {
                std::size_t begin = 0;
                std::size_t end = room + r.bytes;
                if (framing) {
                    begin = room - framing->write_head(buf.data() + room, r.bytes);
                    end += framing->write_tail(buf.data() + end);
                }
                buf.resize(end);
                front.sent = begin;
                continue;
            }
            buf.clear();
            front.sent = 0;
            if (r.status == source_read::would_block || r.status == source_read::data) {
                result.waiting = true;
                return result;
            }
            if (r.status == source_read::failed) {
                result.source_error = r.error ? r.error : make_error_code(errc::closed);
                return result;
            }
            front.source_ended = true;
            front.body.finish({});
            pop_front();
            continue;
        }

        // Gather the memory at the front into one writev.
        iovec iov[IOV_MAX];
        int count = 0;
        std::size_t offered = 0;
        const bool hold = front.hold;
        for (std::size_t i = head_; i < segments_.size() && count < IOV_MAX; ++i) {
            const segment& s = segments_[i];
            if (s.kind == segment::marker) continue; // markers are passed as the bytes go
            if (s.hold != hold) break;
            const std::string_view bytes = pending_bytes(s);
            if (bytes.empty()) break; // a file, or a source still to be read
            iov[count].iov_base = const_cast<char*>(bytes.data());
            iov[count].iov_len = bytes.size();
            offered += bytes.size();
            ++count;
            // Nothing after a source may go before the source's next bytes.
            if (s.kind == segment::piece && s.body.kind == body_piece::source && !s.source_ended)
                break;
        }
        // With a file next, hold the head back so it shares a segment with the file's bytes.
        const std::size_t after = head_ + static_cast<std::size_t>(count);
        const bool file_next = after < segments_.size() &&
                               segments_[after].kind == segment::piece &&
                               segments_[after].body.kind == body_piece::file;
        const ssize_t n = t.writev(iov, count, hold || file_next);
        if (n < 0) {
            if (n == -EAGAIN)
                result.blocked = true;
            else
                result.error = static_cast<int>(-n);
            return result;
        }
        result.written += static_cast<std::size_t>(n);
        // Markers between the written segments fire as the bytes before them go.
        std::size_t left = static_cast<std::size_t>(n);
        while (left > 0 || (!empty() && segments_[head_].kind == segment::marker)) {
            segment& s = segments_[head_];
            if (s.kind == segment::marker) {
                completions_.emplace_back(std::move(s.done), send_result{{}, s.done_bytes});
                pop_front();
                continue;
            }
            const std::size_t take = std::min(left, pending_bytes(s).size());
            if (take == 0) break;
            advance(take);
            left -= take;
        }
        if (static_cast<std::size_t>(n) < offered) {
            result.blocked = true;
            return result;
        }
    }
    return result;
}

void send_queue::cancel(std::error_code why) {
    for (std::size_t i = head_; i < segments_.size(); ++i) {
        segment& s = segments_[i];
        if (s.kind == segment::marker && s.done)
            completions_.emplace_back(std::move(s.done), send_result{why, 0});
        if (s.kind == segment::piece) s.body.finish(why);
    }
    segments_.clear();
    head_ = 0;
    tail_used_ = 0;
    size_ = 0;
}

body_source* send_queue::waiting_source() noexcept {
    if (empty()) return nullptr;
    segment& s = segments_[head_];
    return (s.kind == segment::piece && s.body.kind == body_piece::source) ? s.body.src.get()
                                                                           : nullptr;
}

} // namespace wharf::detail
