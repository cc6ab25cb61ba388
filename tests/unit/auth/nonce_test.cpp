// SPDX-License-Identifier: MIT
// Stateless Digest nonces (RFC 7616 §3.3, §5.4): good, expired (stale), forged, made under
// another key or realm; and the nonce-count replay window (§5.5): a count reused, counts out
// of order within the window, counts below it, nonces forgotten by eviction (stale, never
// accepted twice), and many threads at once.
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "auth/basic.hpp"
#include "auth/nonce.hpp"

namespace {

using wharf::detail::auth::nonce_counts;
using wharf::detail::auth::nonce_issuer;
using wharf::detail::auth::nonce_state;
using wharf::detail::auth::time_point;
using namespace std::chrono_literals;

// GCC 12's -Wrestrict misfires on "literal" + std::string at -O3: append instead.
std::string numbered(std::string_view prefix, int i) {
    return std::string(prefix).append(std::to_string(i));
}

const time_point t0 = time_point(std::chrono::seconds(1'800'000'000));

TEST(Nonce, GoodWithinItsLifetime) {
    const nonce_issuer issuer("key", "realm", 300s);
    const std::string n = issuer.issue(t0);
    EXPECT_EQ(n.size(), 48u);
    for (char c : n) // it goes in a quoted-string unescaped, and is base64 without '='
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << n;
    for (auto at : {t0, t0 + 1s, t0 + 299s, t0 + 300s}) {
        const auto check = issuer.check(n, at);
        EXPECT_EQ(check.state, nonce_state::valid);
        EXPECT_EQ(check.issued_at, 1'800'000'000);
    }
    // From a server (same key) whose clock is ahead: new, not stale.
    EXPECT_EQ(issuer.check(n, t0 - 10s).state, nonce_state::valid);
}

TEST(Nonce, ExpiredIsStale) {
    const nonce_issuer issuer("key", "realm", 300s);
    const std::string n = issuer.issue(t0);
    EXPECT_EQ(issuer.check(n, t0 + 301s).state, nonce_state::stale);
    EXPECT_EQ(issuer.check(n, t0 + 100'000s).state, nonce_state::stale);
    EXPECT_EQ(issuer.check(n, t0 + 301s).issued_at, 1'800'000'000);
}

TEST(Nonce, EachIsNew) {
    const nonce_issuer issuer("key", "realm", 300s);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(seen.insert(issuer.issue(t0)).second); // same second, still different
}

TEST(Nonce, ForgedOrForeignIsInvalid) {
    const nonce_issuer issuer("key", "realm", 300s);
    const std::string n = issuer.issue(t0);
    // Another key, another realm: their nonces are not ours (and ours not theirs).
    EXPECT_EQ(nonce_issuer("other key", "realm", 300s).check(n, t0).state, nonce_state::invalid);
    EXPECT_EQ(nonce_issuer("key", "other realm", 300s).check(n, t0).state, nonce_state::invalid);
    EXPECT_EQ(issuer.check(nonce_issuer("k2", "realm", 300s).issue(t0), t0).state,
              nonce_state::invalid);
    // Any bit flipped anywhere (the time too: an expired nonce cannot be made young).
    auto raw = *wharf::detail::auth::decode_base64(n);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string forged = raw;
            forged[i] = static_cast<char>(forged[i] ^ (1 << bit));
            EXPECT_EQ(issuer.check(wharf::detail::auth::encode_base64(forged), t0).state,
                      nonce_state::invalid)
                << i << "/" << bit;
        }
    }
    // Not even the shape of one.
    std::string bang = n;
    bang[0] = '!';
    for (std::string_view bad : {std::string_view(""), std::string_view("abc"),
                                 std::string_view("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
                                 std::string_view(n).substr(0, 47), std::string_view(bang)})
        EXPECT_EQ(issuer.check(bad, t0).state, nonce_state::invalid) << bad;
    EXPECT_EQ(issuer.check(n + "A", t0).state, nonce_state::invalid);
    // The same key and realm in another issuer (a restarted server, a sibling): accepted.
    EXPECT_EQ(nonce_issuer("key", "realm", 300s).check(n, t0).state, nonce_state::valid);
}

TEST(Nonce, OpaqueIsStablePerKeyAndRealm) {
    const nonce_issuer a("key", "realm", 300s);
    EXPECT_EQ(a.opaque(), nonce_issuer("key", "realm", 60s).opaque());
    EXPECT_NE(a.opaque(), nonce_issuer("key", "realm2", 300s).opaque());
    EXPECT_NE(a.opaque(), nonce_issuer("key2", "realm", 300s).opaque());
    EXPECT_EQ(a.opaque().size(), 32u);
}

using verdict = nonce_counts::verdict;
constexpr std::int64_t long_ago = INT64_MIN; // nothing has expired

TEST(NonceCounts, ReuseIsReplay) {
    nonce_counts counts(16);
    EXPECT_EQ(counts.record("n", 100, 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 1, long_ago), verdict::replayed);
    EXPECT_EQ(counts.record("n", 100, 2, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 2, long_ago), verdict::replayed);
    EXPECT_EQ(counts.record("n", 100, 1, long_ago), verdict::replayed);
    // Another nonce has its own counts.
    EXPECT_EQ(counts.record("m", 100, 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.size(), 2u);
}

TEST(NonceCounts, OutOfOrderWithinTheWindow) {
    // Requests sent at once on several connections (or HTTP/2 streams) arrive in any order.
    nonce_counts counts(16);
    for (std::uint32_t nc : {3u, 1u, 5u, 2u, 4u})
        EXPECT_EQ(counts.record("n", 100, nc, long_ago), verdict::fresh) << nc;
    for (std::uint32_t nc : {1u, 2u, 3u, 4u, 5u})
        EXPECT_EQ(counts.record("n", 100, nc, long_ago), verdict::replayed) << nc;
    // A jump ahead is fine; what it skipped is still usable while within the window.
    EXPECT_EQ(counts.record("n", 100, 5 + nonce_counts::window - 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 6, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 6, long_ago), verdict::replayed);
    // 5 is now window - 1 below the highest, and was seen; 4 fell below the window: what
    // the window cannot tell about is refused.
    EXPECT_EQ(counts.record("n", 100, 5, long_ago), verdict::replayed);
    EXPECT_EQ(counts.record("n", 100, 4, long_ago), verdict::replayed);
}

TEST(NonceCounts, BelowTheWindowIsRefused) {
    nonce_counts counts(16);
    EXPECT_EQ(counts.record("n", 100, 1000, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 1000 - nonce_counts::window + 1, long_ago),
              verdict::fresh); // the lowest count the window still tells
    EXPECT_EQ(counts.record("n", 100, 1000 - nonce_counts::window, long_ago), verdict::replayed);
    EXPECT_EQ(counts.record("n", 100, 1, long_ago), verdict::replayed);
    // A huge jump forgets the whole window.
    EXPECT_EQ(counts.record("n", 100, 0xffffffffu, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("n", 100, 1000, long_ago), verdict::replayed);
    EXPECT_EQ(counts.record("n", 100, 0xffffffffu, long_ago), verdict::replayed);
}

TEST(NonceCounts, EvictedIsForgottenNeverFresh) {
    // One shard of two entries: a third nonce evicts the least recently used.
    nonce_counts counts(2, 1);
    EXPECT_EQ(counts.record("a", 100, 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("b", 101, 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("a", 100, 2, long_ago), verdict::fresh); // a is the newest used
    EXPECT_EQ(counts.record("c", 102, 1, long_ago), verdict::fresh); // evicts b
    EXPECT_EQ(counts.size(), 2u);
    // b's counts are gone: a replay of b's count 1 must not pass as fresh.
    EXPECT_EQ(counts.record("b", 101, 1, long_ago), verdict::forgotten);
    EXPECT_EQ(counts.record("b", 101, 2, long_ago), verdict::forgotten);
    // So is any unknown nonce issued no later than b (it may have been evicted too)...
    EXPECT_EQ(counts.record("x", 99, 1, long_ago), verdict::forgotten);
    EXPECT_EQ(counts.record("y", 101, 1, long_ago), verdict::forgotten);
    // ... but one issued after b is known to be new.
    EXPECT_EQ(counts.record("z", 103, 1, long_ago), verdict::fresh);
    // The ones still held keep working.
    EXPECT_EQ(counts.record("z", 103, 1, long_ago), verdict::replayed);
}

TEST(NonceCounts, ExpiredEntriesMakeRoomWithoutForgetting) {
    nonce_counts counts(2, 1);
    EXPECT_EQ(counts.record("old1", 100, 1, long_ago), verdict::fresh);
    EXPECT_EQ(counts.record("old2", 101, 1, long_ago), verdict::fresh);
    // Both expired (issued before 200): dropped to make room, and an unknown nonce issued
    // before 200 would be stale before it got here, so nothing counts as forgotten.
    EXPECT_EQ(counts.record("new", 300, 1, 200), verdict::fresh);
    EXPECT_EQ(counts.record("new2", 301, 1, 200), verdict::fresh);
    EXPECT_EQ(counts.size(), 2u);
    // Full of unexpired nonces: the least recently used one ("new") is evicted, and from
    // then on it (and any unknown nonce issued no later) is forgotten.
    EXPECT_EQ(counts.record("new3", 250, 1, 200), verdict::fresh);
    EXPECT_EQ(counts.record("new", 300, 2, 200), verdict::forgotten);
    EXPECT_EQ(counts.record("new4", 300, 1, 200), verdict::forgotten);
    EXPECT_EQ(counts.record("new5", 302, 1, 200), verdict::fresh);
}

TEST(NonceCounts, CapacityAcrossShards) {
    nonce_counts counts(100, 16);
    for (int i = 0; i < 1000; ++i)
        (void)counts.record(numbered("n", i), 100 + i, 1, long_ago);
    EXPECT_LE(counts.size(), 100u);
    EXPECT_GE(counts.size(), 16u);
}

TEST(NonceCounts, ConcurrentCountsAreEachAcceptedOnce) {
    // Four threads record the same counts of the same nonces at once: each (nonce, count)
    // is fresh exactly once.
    nonce_counts counts(64);
    std::atomic<int> fresh{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (std::uint32_t nc = 1; nc <= 100; ++nc)
                for (int n = 0; n < 8; ++n)
                    if (counts.record(numbered("nonce", n), 100, nc, long_ago) == verdict::fresh)
                        ++fresh;
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(fresh.load(), 8 * 100);
}

} // namespace
