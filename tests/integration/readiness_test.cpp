// SPDX-License-Identifier: MIT
// server::ready(): false before start, true once serving, set_ready flips it either way, and
// stop() turns it off first; a /readyz handler built on it answers 503 then.
#include <gtest/gtest.h>
#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using wharf_test::fetch;
using wharf_test::local_config;
using wharf_test::request;
using wharf_test::start;

TEST(Readiness, FollowsStartSetReadyAndStop) {
    wharf::server srv(local_config());
    srv.routes().get("/readyz", [&srv](wharf::session& s) {
        if (srv.ready())
            s.response().body("ready\n", "text/plain");
        else
            s.response().status(503).body("draining\n", "text/plain");
    });
    EXPECT_FALSE(srv.ready()); // not serving yet
    start(srv);
    EXPECT_TRUE(srv.ready());
    const wharf::address a = srv.local_addresses()[0];
    auto r = fetch(a, request("GET", "/readyz"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);

    srv.set_ready(false);
    EXPECT_FALSE(srv.ready());
    r = fetch(a, request("GET", "/readyz"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "draining\n");

    srv.set_ready(true);
    r = fetch(a, request("GET", "/readyz"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);

    srv.stop(std::chrono::milliseconds(1000));
    EXPECT_FALSE(srv.ready()); // before the drain has even finished
    srv.set_ready(true);
    EXPECT_FALSE(srv.ready()); // stopping wins
    srv.wait();
}

} // namespace
