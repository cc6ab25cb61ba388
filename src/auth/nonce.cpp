// SPDX-License-Identifier: MIT
#include "auth/nonce.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <functional>

#include "auth/basic.hpp"
#include "auth/crypto.hpp"

namespace wharf::detail::auth {
namespace {

constexpr std::size_t time_bytes = 8, salt_bytes = 12, tag_bytes = 16;
constexpr std::size_t raw_bytes = time_bytes + salt_bytes + tag_bytes; // 36: base64 w/o '='

std::int64_t seconds_of(time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace

nonce_issuer::nonce_issuer(std::string key, std::string realm, std::chrono::seconds lifetime)
    : key_(std::move(key)), realm_(std::move(realm)), lifetime_(lifetime) {
    // Distinct prefixes keep a nonce's HMAC input from ever equalling the opaque's.
    const auto mac = hmac_sha256(key_, "wharf digest opaque\n" + realm_);
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 16; ++i) {
        opaque_ += digits[mac[i] >> 4];
        opaque_ += digits[mac[i] & 0xf];
    }
}

std::string nonce_issuer::tag(std::string_view time_and_salt) const {
    std::string input = "wharf digest nonce\n";
    input += time_and_salt; // fixed length: the realm after it cannot shift into it
    input += realm_;
    const auto mac = hmac_sha256(key_, input);
    return std::string(reinterpret_cast<const char*>(mac.data()), tag_bytes);
}

std::string nonce_issuer::issue(time_point now) const {
    const auto t = static_cast<std::uint64_t>(seconds_of(now));
    std::string raw(time_bytes, '\0');
    for (std::size_t i = 0; i < time_bytes; ++i)
        raw[i] = static_cast<char>(t >> (8 * (time_bytes - 1 - i)) & 0xff);
    raw += random_bytes(salt_bytes);
    raw += tag(raw);
    return encode_base64(raw);
}

nonce_check nonce_issuer::check(std::string_view nonce, time_point now) const {
    nonce_check result;
    if (nonce.size() != raw_bytes / 3 * 4) return result;
    const auto raw = decode_base64(nonce);
    if (!raw || raw->size() != raw_bytes) return result;
    const std::string expected = tag(std::string_view(*raw).substr(0, time_bytes + salt_bytes));
    if (CRYPTO_memcmp(expected.data(), raw->data() + time_bytes + salt_bytes, tag_bytes) != 0)
        return result;
    std::uint64_t t = 0;
    for (std::size_t i = 0; i < time_bytes; ++i)
        t = t << 8 | static_cast<unsigned char>((*raw)[i]);
    result.issued_at = static_cast<std::int64_t>(t);
    // A nonce from the future comes from a server sharing the key whose clock is ahead: it
    // counts as new.
    const std::int64_t age = seconds_of(now) - result.issued_at;
    result.state = age > lifetime_.count() ? nonce_state::stale : nonce_state::valid;
    return result;
}

nonce_counts::nonce_counts(std::size_t capacity, std::size_t shards) {
    shards = std::max<std::size_t>(1, std::min(shards, capacity));
    for (std::size_t i = 0; i < shards; ++i) {
        auto s = std::make_unique<shard>();
        // The first capacity % shards shards take one more, so that the sizes add up.
        s->capacity = std::max<std::size_t>(1, capacity / shards + (i < capacity % shards));
        shards_.push_back(std::move(s));
    }
}

nonce_counts::verdict nonce_counts::record(std::string_view nonce, std::int64_t issued_at,
                                           std::uint32_t nc, std::int64_t expired_before) {
    shard& s = *shards_[std::hash<std::string_view>{}(nonce) % shards_.size()];
    const std::lock_guard lock(s.mutex);
    auto found = s.index.find(nonce);
    if (found == s.index.end()) {
        if (issued_at <= s.evicted_up_to) return verdict::forgotten;
        while (!s.lru.empty() && s.lru.back().issued_at < expired_before) {
            s.index.erase(s.lru.back().nonce);
            s.lru.pop_back();
        }
        if (s.lru.size() >= s.capacity) {
            s.evicted_up_to = std::max(s.evicted_up_to, s.lru.back().issued_at);
            s.index.erase(s.lru.back().nonce);
            s.lru.pop_back();
        }
        s.lru.push_front(entry{std::string(nonce), issued_at, nc, {}});
        s.lru.front().seen.set(0);
        s.index.emplace(s.lru.front().nonce, s.lru.begin());
        return verdict::fresh;
    }
    s.lru.splice(s.lru.begin(), s.lru, found->second);
    entry& e = s.lru.front();
    if (nc > e.highest) {
        const std::uint32_t shift = nc - e.highest;
        if (shift >= window)
            e.seen.reset();
        else
            e.seen <<= shift;
        e.seen.set(0);
        e.highest = nc;
        return verdict::fresh;
    }
    const std::uint32_t below = e.highest - nc;
    if (below >= window || e.seen.test(below)) return verdict::replayed;
    e.seen.set(below);
    return verdict::fresh;
}

std::size_t nonce_counts::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        const std::lock_guard lock(s->mutex);
        n += s->lru.size();
    }
    return n;
}

} // namespace wharf::detail::auth
