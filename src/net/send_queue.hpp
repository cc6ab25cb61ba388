// SPDX-License-Identifier: MIT
// What waits to go out on a connection, in order: bytes (small pieces coalesced into a copy
// buffer, large ones queued by ownership), borrowed memory, file ranges (sendfile), pull-based
// sources (read only when they reach the front, so never faster than the client takes them)
// and completion markers (a send's callback fires once everything before it is written).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/piece_framing.hpp"
#include "net/transport.hpp"
#include "wharf/body.hpp"

namespace wharf::detail {

class send_queue {
  public:
    /// Bodies at least this large are queued by ownership rather than copied.
    static constexpr std::size_t copy_limit = 16 * 1024;
    /// How much of a source is read at once (and so buffered per connection at most).
    static constexpr std::size_t source_chunk = 64 * 1024;

    send_queue() = default;
    send_queue(const send_queue&) = delete;
    send_queue& operator=(const send_queue&) = delete;
    ~send_queue() = default; // pieces still queued are released (canceled) by their destructors

    /// Returns room for `n` bytes at the end of the queue; commit() what was written.
    char* prepare(std::size_t n);
    void commit(std::size_t n) noexcept {
        tail().resize(tail_used_ + n);
        tail_used_ += n;
        size_ += n;
    }
    void append(std::string_view bytes);
    /// Queues `bytes` without copying them (small ones are copied after all).
    void append_owned(std::string&& bytes);
    /// Queues a body piece. With `framing`, each piece a source produces is framed with it (the
    /// caller frames the others, whose sizes are known). `limit` caps a source's bytes.
    void append_piece(body_piece&& piece, const piece_framing* framing = nullptr,
                      std::uint64_t limit = UINT64_MAX);
    /// Queues a completion: `done` gets `bytes` once everything queued before it is written.
    void append_marker(send_callback done, std::uint64_t bytes);
    /// Following appends are written with MSG_MORE (Nagle-like hold) while `on`.
    void set_hold(bool on) noexcept { hold_ = on; }

    /// Unsent bytes held in memory (what the high-water mark bounds).
    std::size_t size() const noexcept { return size_; }
    /// True when nothing at all is queued.
    bool empty() const noexcept { return head_ == segments_.size(); }

    struct flush_result {
        std::size_t written = 0;
        int error = 0;                ///< errno of a failed write (never EAGAIN)
        std::error_code source_error; ///< a source failed: the response is broken
        bool blocked = false;         ///< the socket took less than everything
        bool waiting = false;         ///< a source answered would_block
    };
    /// Writes as much as the transport takes now. Completions that became due are collected;
    /// take them with take_completions() and call them outside the queue.
    flush_result flush(transport& t);
    /// Completions that became due during flush() or cancel(), with their results.
    std::vector<std::pair<send_callback, send_result>> take_completions() {
        return std::exchange(completions_, {});
    }
    bool has_completions() const noexcept { return !completions_.empty(); }
    /// Drops everything: pieces are released with `why`, pending completions fire with it.
    void cancel(std::error_code why);
    /// The source at the front, if the queue waits on one (for its readable hook).
    body_source* waiting_source() noexcept;

    /// The copy buffer kept for the next response, if any: an idle connection gives it back
    /// to its worker, and takes one (give_spare) when it answers again.
    std::string release_spare() noexcept { return std::exchange(spare_, {}); }
    void give_spare(std::string&& b) noexcept {
        if (b.capacity() > spare_.capacity()) spare_ = std::move(b);
    }
    bool has_spare() const noexcept { return spare_.capacity() > std::string().capacity(); }
    /// Frees the bookkeeping a burst grew; call only when empty().
    void trim_idle() noexcept {
        if (segments_.capacity() > 8) std::vector<segment>().swap(segments_);
    }

  private:
    struct segment {
        enum kind_t : std::uint8_t { bytes, piece, marker } kind = bytes;
        std::string data;     // bytes; for a source, what was read and not yet sent
        std::size_t sent = 0; // of data (or of the borrowed view)
        bool copy_target = false;
        bool hold = false;
        const piece_framing* framing = nullptr; // source: how each read is framed
        bool source_ended = false;
        std::uint64_t limit = UINT64_MAX; // source: bytes it may still produce
        body_piece body;                  // borrowed / file / source
        send_callback done;               // marker
        std::uint64_t done_bytes = 0;
    };
    std::string& tail() noexcept { return segments_.back().data; }
    segment& push(segment::kind_t kind);
    /// The memory a segment still has to send (empty for files and sources without data).
    std::string_view pending_bytes(const segment& s) const noexcept;
    void advance(std::size_t n);
    void pop_front();

    std::vector<segment> segments_;
    std::size_t head_ = 0; // first live segment
    std::size_t tail_used_ = 0;
    std::string spare_; // a sent copy buffer, kept for the next response
    std::size_t size_ = 0;
    bool hold_ = false;
    std::vector<std::pair<send_callback, send_result>> completions_;
};

} // namespace wharf::detail
