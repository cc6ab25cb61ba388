// SPDX-License-Identifier: MIT
// Digest nonces the server checks without storing them, and the replay check on their nonce
// counts (RFC 7616 §3.3, §5.4, §5.5).
#pragma once

#include <bitset>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wharf::detail::auth {

using time_point = std::chrono::system_clock::time_point;

enum class nonce_state : std::uint8_t {
    valid,
    stale,   ///< made here, but older than the lifetime
    invalid, ///< not made here (or for another realm, or under another key)
};

struct nonce_check {
    nonce_state state = nonce_state::invalid;
    std::int64_t issued_at = 0; ///< seconds since the epoch, when not invalid
};

/// Makes and checks nonces: base64 of the issue time (8 bytes), 12 random bytes (so that two
/// challenges in the same second differ, and their nonce counts never meet in the replay
/// check) and the first 16 bytes of HMAC-SHA256 over time, salt and realm under the key.
/// Thread-safe (it holds nothing that changes).
class nonce_issuer {
  public:
    nonce_issuer(std::string key, std::string realm, std::chrono::seconds lifetime);
    /// A fresh nonce (48 characters).
    std::string issue(time_point now) const;
    /// Whether `nonce` was made by issue() with this key and realm, and whether it expired.
    nonce_check check(std::string_view nonce, time_point now) const;
    /// The opaque value of the challenges: the same for every one (RFC 7616 §3.3 lets the
    /// server choose it), derived from key and realm.
    const std::string& opaque() const noexcept { return opaque_; }
    std::chrono::seconds lifetime() const noexcept { return lifetime_; }

  private:
    std::string tag(std::string_view time_and_salt) const;
    std::string key_, realm_, opaque_;
    std::chrono::seconds lifetime_;
};

/// The nonce counts seen per nonce, for the replay check (RFC 7616 §5.5): for each nonce the
/// highest count seen and which of the `window` counts below it were, in a table of bounded
/// size. Thread-safe: the table is split in shards, each behind its own mutex.
class nonce_counts {
  public:
    static constexpr std::uint32_t window = 128;

    /// Holds up to `capacity` nonces (at least one per shard).
    explicit nonce_counts(std::size_t capacity, std::size_t shards = 16);

    enum class verdict : std::uint8_t {
        fresh,     ///< not seen before: recorded now
        replayed,  ///< seen before, or too far below the highest to tell (refuse it)
        forgotten, ///< unknown, but maybe only because it was evicted: ask for a new nonce
    };
    /// Records count `nc` of `nonce` (issued at `issued_at`). Nonces issued before
    /// `expired_before` (no longer valid anyway) are dropped first when they are in the way.
    verdict record(std::string_view nonce, std::int64_t issued_at, std::uint32_t nc,
                   std::int64_t expired_before);
    /// How many nonces the table holds now.
    std::size_t size() const;

  private:
    struct entry {
        std::string nonce;
        std::int64_t issued_at;
        std::uint32_t highest;    // the highest count seen
        std::bitset<window> seen; // bit i: count highest - i was seen
    };
    struct shard {
        mutable std::mutex mutex;
        std::list<entry> lru; // most recently used first
        std::unordered_map<std::string_view, std::list<entry>::iterator> index;
        // The newest issue time of an evicted (unexpired) nonce: an unknown nonce issued no
        // later may have been evicted, so its counts are unknown.
        std::int64_t evicted_up_to = INT64_MIN;
        std::size_t capacity = 1;
    };
    std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace wharf::detail::auth
