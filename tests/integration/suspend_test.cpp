// SPDX-License-Identifier: MIT
// Suspended sessions, stop tokens, the session's loop (post, after), send_blocking and
// coroutine handlers (wharf::task), on an in-process wharf::server driven over real sockets.
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <wharf/task.hpp>
#include <wharf/thread_pool.hpp>
#include <wharf/wharf.hpp>

#include "test_client.hpp"

namespace {

using namespace std::chrono_literals;
using wharf::errc;
using wharf::session;
using wharf_test::client;
using wharf_test::get;
using wharf_test::local_config;
using wharf_test::request;
using wharf_test::start;
using wharf_test::wait_until;
using clock_type = std::chrono::steady_clock;

/// Adds GET /ok, for checking that the server still answers.
void add_ok_route(wharf::server& srv) {
    srv.routes().get("/ok", [](session& s) { s.response().body("ok", "text/plain"); });
}

/// The server still answers a plain request on a new connection.
void expect_healthy(const wharf::address& a) {
    const auto res = get(a, "/ok");
    ASSERT_TRUE(res) << "no answer from the server";
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "ok");
}

/// Closes with RST (SO_LINGER 0): the server's next read fails with ECONNRESET at once (a
/// plain close sends FIN, which the server reads as the end of the stream).
void reset_close(client& c) {
    linger l{1, 0};
    ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    c.close();
}

long long ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

/// What a handler hands to the test thread: the suspended session's handle and the loop's id.
struct handle_slot {
    mutable std::mutex m;
    std::vector<wharf::session_handle> handles;
    std::thread::id loop_thread;

    void put(wharf::session_handle h) {
        std::lock_guard lock(m);
        handles.push_back(std::move(h));
        loop_thread = std::this_thread::get_id();
    }
    std::size_t count() const {
        std::lock_guard lock(m);
        return handles.size();
    }
    /// The n-th handle, once a handler has stored it (fails the test after 3 s).
    std::optional<wharf::session_handle> wait(std::size_t n = 0) const {
        if (!wait_until([&] { return count() > n; })) return std::nullopt;
        std::lock_guard lock(m);
        return handles[n];
    }
};

/// n bytes of a recognisable pattern.
std::string test_pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7) % 26);
    return s;
}

/// Joins the threads of a list when it goes out of scope (declare it after the server whose
/// sessions the threads use, so they end first).
struct joiner {
    std::mutex& m;
    std::vector<std::thread>& threads;
    ~joiner() {
        std::vector<std::thread> all;
        {
            std::lock_guard lock(m);
            all.swap(threads);
        }
        for (auto& t : all)
            if (t.joinable()) t.join();
    }
};

/// Counts destructions: a local of this type in a coroutine shows when its frame ends.
struct frame_guard {
    std::atomic<int>* destroyed;
    explicit frame_guard(std::atomic<int>& n) : destroyed(&n) {}
    frame_guard(const frame_guard&) = delete;
    frame_guard& operator=(const frame_guard&) = delete;
    ~frame_guard() { destroyed->fetch_add(1); }
};

// ---------------------------------------------------------------------------------------------
// a. Resume from another thread

TEST(SuspendResume, FromAnotherThread) {
    handle_slot slot;
    std::mutex m;
    std::thread::id finish_thread;
    std::atomic<int> finishes{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(10s)); });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    EXPECT_FALSE(h->expired());
    EXPECT_TRUE(c.stays_silent(100ms)) << "answered while suspended: " << c.pending();

    std::error_code ec = make_error_code(errc::canceled);
    std::thread([&] {
        ec = h->resume([&](session& later) {
            {
                std::lock_guard lock(m);
                finish_thread = std::this_thread::get_id();
            }
            ++finishes;
            later.response().body("resumed", "text/plain");
        });
    }).join();
    EXPECT_FALSE(ec) << ec.message();

    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "resumed");
    EXPECT_EQ(res->header("Content-Type"), "text/plain");
    EXPECT_EQ(finishes.load(), 1);
    {
        std::lock_guard lock(m);
        std::lock_guard lock2(slot.m);
        EXPECT_EQ(finish_thread, slot.loop_thread) << "the finish must run on the session's loop";
    }
    // The request has ended: the handle says so and refuses another resume.
    EXPECT_TRUE(wait_until([&] { return h->expired(); }));
    EXPECT_EQ(h->resume([&](session&) { ++finishes; }), errc::closed);
    EXPECT_TRUE(c.stays_silent(100ms));
    EXPECT_EQ(finishes.load(), 1);
}

TEST(SuspendResume, DefaultHandleIsInvalid) {
    const wharf::session_handle h;
    EXPECT_TRUE(h.expired());
    EXPECT_EQ(h.resume([](session&) {}), errc::invalid_argument);
}

TEST(SuspendResume, KeepAliveConnectionGetsAFreshHandlePerRequest) {
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/suspend/{n}", [&](session& s) { slot.put(s.suspend(10s)); });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend/1")));
    const auto first = slot.wait(0);
    ASSERT_TRUE(first);
    ASSERT_FALSE(first->resume([](session& s) { s.response().append("one"); }));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "one");

    // The same session object serves the next request; the old handle must not reach it.
    ASSERT_TRUE(c.send(request("GET", "/suspend/2")));
    const auto second = slot.wait(1);
    ASSERT_TRUE(second);
    EXPECT_TRUE(first->expired());
    EXPECT_FALSE(second->expired());
    EXPECT_EQ(first->resume([](session& s) { s.response().append("stale"); }), errc::closed);
    EXPECT_TRUE(c.stays_silent(100ms));
    ASSERT_FALSE(second->resume([](session& s) { s.response().append("two"); }));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "two");
}

TEST(SuspendResume, FinishMaySuspendAgain) {
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/twice", [&](session& s) { slot.put(s.suspend(10s)); });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/twice")));
    const auto first = slot.wait(0);
    ASSERT_TRUE(first);
    ASSERT_FALSE(first->resume([&](session& s) {
        s.response().append("first,");
        slot.put(s.suspend(10s));
    }));
    const auto second = slot.wait(1);
    ASSERT_TRUE(second);
    EXPECT_TRUE(c.stays_silent(100ms)) << c.pending();
    EXPECT_FALSE(second->expired());
    ASSERT_FALSE(second->resume([](session& s) { s.response().append("second"); }));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "first,second");
}

TEST(SuspendResume, ManySuspendedAtOnceResumedFromManyThreads) {
    constexpr int sessions = 64;
    handle_slot slot;
    wharf::server srv(local_config(2));
    srv.routes().get("/s/{i}", [&](session& s) {
        s.emplace_context<std::string>(s.request().param("i"));
        slot.put(s.suspend(20s));
    });
    start(srv);

    std::vector<client> clients;
    for (int i = 0; i < sessions; ++i) {
        clients.emplace_back(srv.local_addresses()[0]);
        ASSERT_TRUE(clients.back().send(request("GET", "/s/" + std::to_string(i))));
    }
    ASSERT_TRUE(wait_until([&] { return slot.count() == sessions; }));
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = t; i < sessions; i += 4) {
                std::lock_guard lock(slot.m);
                const auto ec = slot.handles[static_cast<std::size_t>(i)].resume([](session& s) {
                    const std::string* ctx = s.context<std::string>();
                    s.response().format("ctx={}", ctx ? *ctx : std::string("none"));
                });
                if (!ec) ++ok;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(ok.load(), sessions);
    for (int i = 0; i < sessions; ++i) {
        const auto res = clients[static_cast<std::size_t>(i)].read_response();
        ASSERT_TRUE(res) << clients[static_cast<std::size_t>(i)].error();
        EXPECT_EQ(res->body, "ctx=" + std::to_string(i));
    }
}

// ---------------------------------------------------------------------------------------------
// b. Resume after the client went away

TEST(SuspendResume, AfterClientResetReportsClosed) {
    handle_slot slot;
    std::atomic<int> finishes{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(10s)); });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return h->expired(); })) << "the handle never expired";
    EXPECT_EQ(h->resume([&](session& s) {
        ++finishes;
        s.response().append("nobody listens");
    }),
              errc::closed);
    EXPECT_EQ(h->resume([&](session&) { ++finishes; }), errc::closed);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(finishes.load(), 0);
    expect_healthy(srv.local_addresses()[0]);
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
}

TEST(SuspendResume, ResumeRacingTheClientResetIsHarmless) {
    // The resume is queued on the loop while the reset is on its way: either the resume
    // reports closed, or its finish runs or is dropped; nothing crashes, the server carries on.
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(10s)); });
    add_ok_route(srv);
    start(srv);
    for (int round = 0; round < 20; ++round) {
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/suspend")));
        const auto h = slot.wait(static_cast<std::size_t>(round));
        ASSERT_TRUE(h);
        std::thread resumer([h] {
            const auto ec = h->resume([](session& s) { s.response().append("late"); });
            EXPECT_TRUE(!ec || ec == errc::closed) << ec.message();
        });
        reset_close(c);
        resumer.join();
        EXPECT_TRUE(wait_until([&] { return h->expired(); }));
    }
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendResume, ClientThatClosesCancelsTheRequest) {
    // A plain close (FIN) while the request is suspended: the client has left, so the request
    // is cancelled at once (on_close, an expired handle), not when its answer is written.
    handle_slot slot;
    std::atomic<int> closes{0};
    std::mutex m;
    std::error_code why;
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) {
        s.on_close([&](std::error_code ec) {
            std::lock_guard lock(m);
            why = ec;
            ++closes;
        });
        slot.put(s.suspend(10s));
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    c.close();
    ASSERT_TRUE(wait_until([&] { return h->expired(); })) << "the request outlived its client";
    EXPECT_EQ(h->resume([](session& s) { s.response().append("to a closed socket"); }),
              errc::closed);
    EXPECT_EQ(closes.load(), 1);
    {
        std::lock_guard lock(m);
        EXPECT_EQ(why, errc::closed);
    }
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendResume, HandlesMayOutliveTheServer) {
    // A thread keeps resuming and sending through its handle while the server is destroyed:
    // every call reports closed once the server is gone, and none touches freed memory.
    handle_slot slot;
    std::atomic<bool> done{false};
    std::atomic<int> sent{0};
    std::thread sender;
    {
        wharf::server srv(local_config());
        srv.routes().get("/stream", [&](session& s) {
            s.response().set_header("Content-Type", "text/plain");
            slot.put(s.suspend(30s));
        });
        start(srv);
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/stream")));
        const auto h = slot.wait();
        ASSERT_TRUE(h);
        sender = std::thread([h = *h, &done, &sent] {
            while (true) {
                const auto r = h.send_blocking("tick\n", wharf::send_flags::more);
                if (r.error) {
                    EXPECT_EQ(r.error, errc::closed);
                    break;
                }
                ++sent;
            }
            EXPECT_EQ(h.resume([](session&) {}), errc::closed);
            done = true;
        });
        ASSERT_TRUE(wait_until([&] { return sent.load() > 10; }));
        srv.stop(0ms);
        srv.wait();
    } // the server, its loops and their mailboxes' owners are gone here
    sender.join();
    EXPECT_TRUE(done.load());
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->expired());
    EXPECT_EQ(h->resume([](session&) {}), errc::closed);
    EXPECT_EQ(h->send_blocking("late").error, errc::closed);
}

TEST(SuspendResume, SourceNotifiedAfterTheServerIsGone) {
    // A body source that a worker thread keeps (and notifies) after the server has gone.
    struct trickle : wharf::body_source {
        std::atomic<int> reads{0}, releases{0};
        std::error_code released_with;
        wharf::source_read read(char*, std::size_t) override {
            ++reads;
            return wharf::source_read::blocked();
        }
        void on_release(std::error_code result) override {
            released_with = result;
            ++releases;
        }
    };
    auto source = std::make_shared<trickle>();
    {
        wharf::server srv(local_config());
        srv.routes().get("/trickle", [&](session& s) { s.response().append_source(source); });
        start(srv);
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/trickle")));
        ASSERT_TRUE(wait_until([&] { return source->reads.load() > 0; }));
        source->notify_readable(); // the loop reads again: still nothing
        ASSERT_TRUE(wait_until([&] { return source->reads.load() > 1; }));
        srv.stop(0ms);
        srv.wait();
    }
    EXPECT_EQ(source->releases.load(), 1);
    EXPECT_TRUE(source->released_with);
    source->notify_readable(); // posts into the closed mailbox: refused, harmless
    EXPECT_GT(source->reads.load(), 1);
}

// ---------------------------------------------------------------------------------------------
// c. Double resume

TEST(SuspendResume, SecondResumeIsBusy) {
    // The loop is held by a posted task while both resumes are made, so the first one's
    // finish cannot have ended the request yet: the second sees "resumed before".
    handle_slot slot;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> loop_held{false};
    std::atomic<int> first_runs{0}, second_runs{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) {
        slot.put(s.suspend(10s));
        s.post([&] {
            loop_held = true;
            released.wait();
        });
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    ASSERT_TRUE(wait_until([&] { return loop_held.load(); }));
    const auto first = h->resume([&](session& s) {
        ++first_runs;
        s.response().append("first");
    });
    const auto second = h->resume([&](session& s) {
        ++second_runs;
        s.response().append("second");
    });
    release.set_value();
    EXPECT_FALSE(first) << first.message();
    EXPECT_EQ(second, errc::busy);

    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "first");
    EXPECT_TRUE(c.stays_silent(150ms)) << "a second response: " << c.pending();
    EXPECT_EQ(first_runs.load(), 1);
    EXPECT_EQ(second_runs.load(), 0);
}

TEST(SuspendResume, ConcurrentResumesOnlyOneWins) {
    handle_slot slot;
    std::atomic<int> runs{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(10s)); });
    start(srv);

    for (int round = 0; round < 10; ++round) {
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/suspend")));
        const auto h = slot.wait(static_cast<std::size_t>(round));
        ASSERT_TRUE(h);
        runs = 0;
        std::atomic<int> winners{0}, losers{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                while (!go.load()) {
                }
                const auto ec = h->resume([&, t](session& s) {
                    ++runs;
                    s.response().format("winner {}", t);
                });
                if (!ec) {
                    ++winners;
                } else {
                    // busy while the request lives; closed once the winner's answer ended it
                    EXPECT_TRUE(ec == errc::busy || ec == errc::closed) << ec.message();
                    ++losers;
                }
            });
        }
        go = true;
        for (auto& t : threads)
            t.join();
        EXPECT_EQ(winners.load(), 1);
        EXPECT_EQ(losers.load(), 7);
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body.rfind("winner ", 0), 0u) << res->body;
        EXPECT_TRUE(c.stays_silent(30ms)) << c.pending();
        EXPECT_EQ(runs.load(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// d. Deadlines

TEST(SuspendDeadline, UnresumedSessionGets503) {
    handle_slot slot;
    std::atomic<int> finishes{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(100ms)); });
    start(srv);

    client c(srv.local_addresses()[0]);
    const auto sent = clock_type::now();
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto res = c.read_response();
    const auto took = ms_since(sent);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 503);
    EXPECT_GE(took, 90);
    EXPECT_LT(took, 3000);

    const auto h = slot.wait();
    ASSERT_TRUE(h);
    EXPECT_TRUE(wait_until([&] { return h->expired(); }));
    const auto ec = h->resume([&](session& s) {
        ++finishes;
        s.response().append("too late");
    });
    // Documented: timed_out. Once the 503 has gone out the request has ended, and resume
    // reports closed instead (see DISABLED_ResumeAfterDeadlineAnswerReportsTimedOut).
    EXPECT_TRUE(ec == errc::timed_out || ec == errc::closed) << ec.message();
    EXPECT_TRUE(c.stays_silent(100ms)) << c.pending();
    EXPECT_EQ(finishes.load(), 0);

    // The connection is still good for another request.
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto again = c.read_response();
    ASSERT_TRUE(again) << c.error();
    EXPECT_EQ(again->status, 503);
}

// KNOWN BUG (reported): session.hpp says "a resume after that [the deadline] reports timed_out",
// but session_handle::resume checks the request's token before the phase, so once the deadline's
// 503 has been sent (at once, in the deadline's own callback) it returns errc::closed. Only a
// resume that lands while the deadline's answer is still pending sees timed_out (tested below).
TEST(SuspendDeadline, ResumeAfterDeadlineAnswerReportsTimedOut) {
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) { slot.put(s.suspend(50ms)); });
    start(srv);
    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 503);
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    EXPECT_EQ(h->resume([](session&) {}), errc::timed_out);
}

TEST(SuspendDeadline, OnDeadlineHandlerAnswers) {
    handle_slot slot;
    std::atomic<int> deadline_runs{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) {
        slot.put(s.suspend(100ms, [&](session& late) {
            ++deadline_runs;
            late.response().set_std(504).body("custom: gave up waiting\n", "text/plain");
            late.response().set_header("X-Deadline", "1");
        }));
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    const auto sent = clock_type::now();
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_GE(ms_since(sent), 90);
    EXPECT_EQ(res->status, 504);
    EXPECT_EQ(res->body, "custom: gave up waiting\n");
    EXPECT_EQ(res->header("X-Deadline"), "1");
    EXPECT_EQ(deadline_runs.load(), 1);
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    const auto ec = h->resume([](session&) {});
    EXPECT_TRUE(ec == errc::timed_out || ec == errc::closed) << ec.message();
    EXPECT_TRUE(c.stays_silent(50ms));
}

TEST(SuspendDeadline, ResumeWhileTheDeadlineAnswerIsPendingIsTimedOut) {
    // The deadline handler answers later (from a timer): a resume in between sees timed_out.
    handle_slot slot;
    std::atomic<bool> deadline_ran{false};
    std::atomic<int> finishes{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) {
        slot.put(s.suspend(50ms, [&](session& late) {
            deadline_ran = true;
            late.after(300ms, [&late] {
                late.response().set_std(504).body("late deadline answer");
                late.send();
            });
        }));
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    ASSERT_TRUE(wait_until([&] { return deadline_ran.load(); }));
    EXPECT_FALSE(h->expired());
    EXPECT_EQ(h->resume([&](session&) { ++finishes; }), errc::timed_out);
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 504);
    EXPECT_EQ(res->body, "late deadline answer");
    EXPECT_EQ(finishes.load(), 0);
}

TEST(SuspendDeadline, ResumeInTimeCancelsTheDeadline) {
    handle_slot slot;
    std::atomic<int> deadline_runs{0};
    wharf::server srv(local_config());
    srv.routes().get("/suspend", [&](session& s) {
        slot.put(s.suspend(150ms, [&](session& late) {
            ++deadline_runs;
            late.response().set_std(504);
        }));
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/suspend")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    ASSERT_FALSE(h->resume([](session& s) { s.response().append("in time"); }));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "in time");
    // Past the deadline: nothing more on the connection, which serves the next request.
    EXPECT_TRUE(c.stays_silent(300ms)) << c.pending();
    EXPECT_EQ(deadline_runs.load(), 0);
    ASSERT_TRUE(c.send(request("GET", "/ok")));
    const auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok");
}

// ---------------------------------------------------------------------------------------------
// e. Stop tokens

/// A thread that watches a stop token, as work handed off by a handler would.
struct token_watcher {
    std::atomic<bool> stopped{false};
    std::atomic<int> callbacks{0};
    std::thread thread;

    void watch(std::stop_token token) {
        thread = std::thread([this, token] {
            std::stop_callback on_stop(token, [this] { ++callbacks; });
            const auto deadline = clock_type::now() + 10s;
            while (!token.stop_requested() && clock_type::now() < deadline)
                std::this_thread::sleep_for(1ms);
            stopped = token.stop_requested();
        });
    }
    ~token_watcher() {
        if (thread.joinable()) thread.join();
    }
};

TEST(SuspendStopToken, RequestedWhenTheClientGoesAway) {
    handle_slot slot;
    std::mutex m;
    std::optional<std::stop_token> token;
    wharf::server srv(local_config());
    srv.routes().get("/work", [&](session& s) {
        {
            std::lock_guard lock(m);
            token = s.stop_token();
        }
        slot.put(s.suspend(10s));
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/work")));
    ASSERT_TRUE(slot.wait());
    token_watcher watcher;
    {
        std::lock_guard lock(m);
        ASSERT_TRUE(token);
        EXPECT_TRUE(token->stop_possible());
        watcher.watch(*token);
    }
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(watcher.stopped.load()) << "stop requested while the client waits";
    reset_close(c);
    EXPECT_TRUE(wait_until([&] { return watcher.stopped.load(); }))
        << "stop never requested after the client went away";
    watcher.thread.join();
    EXPECT_EQ(watcher.callbacks.load(), 1);
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendStopToken, RequestedWhenTheDeadlinePasses) {
    std::mutex m;
    std::optional<std::stop_token> token;
    std::atomic<int> seen_in_deadline{-1};
    wharf::server srv(local_config());
    srv.routes().get("/work", [&](session& s) {
        auto t = s.stop_token();
        {
            std::lock_guard lock(m);
            token = t;
        }
        (void)s.suspend(100ms, [&, t](session& late) {
            // The token is requested before the deadline's answer is made.
            seen_in_deadline = t.stop_requested() ? 1 : 0;
            late.response().set_std(504);
        });
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/work")));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return token.has_value();
    }));
    token_watcher watcher;
    {
        std::lock_guard lock(m);
        watcher.watch(*token);
    }
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 504);
    EXPECT_TRUE(wait_until([&] { return watcher.stopped.load(); }));
    EXPECT_EQ(seen_in_deadline.load(), 1);
}

TEST(SuspendStopToken, RequestedWhenTheServerStops) {
    std::mutex m;
    std::optional<std::stop_token> token;
    token_watcher watcher;
    {
        wharf::server srv(local_config());
        srv.routes().get("/work", [&](session& s) {
            {
                std::lock_guard lock(m);
                token = s.stop_token();
            }
            (void)s.suspend(30s);
        });
        start(srv);
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/work")));
        ASSERT_TRUE(wait_until([&] {
            std::lock_guard lock(m);
            return token.has_value();
        }));
        {
            std::lock_guard lock(m);
            watcher.watch(*token);
        }
        const auto stopping = clock_type::now();
        srv.stop(100ms); // the suspended request is in flight: closed at the deadline
        EXPECT_TRUE(wait_until([&] { return watcher.stopped.load(); }));
        srv.wait();
        EXPECT_LT(ms_since(stopping), 5000);
        EXPECT_TRUE(c.wait_closed(3s));
    }
    EXPECT_TRUE(watcher.stopped.load());
}

// ---------------------------------------------------------------------------------------------
// f. Coroutine handlers

TEST(SuspendCoroutine, SleepThenRespond) {
    std::atomic<long long> slept_ms{-1};
    wharf::server srv(local_config());
    srv.routes().get("/sleep", [&](session& s) -> wharf::task {
        const auto t0 = clock_type::now();
        const std::error_code ec = co_await s.sleep(50ms);
        slept_ms = ms_since(t0);
        s.response().body(ec ? "error " + ec.message() : std::string("slept"), "text/plain");
    });
    start(srv);

    const auto sent = clock_type::now();
    const auto res = get(srv.local_addresses()[0], "/sleep");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "slept");
    EXPECT_GE(ms_since(sent), 45);
    EXPECT_GE(slept_ms.load(), 45);
    EXPECT_LT(slept_ms.load(), 3000);
}

TEST(SuspendCoroutine, SleepsInALoopOnAKeepAliveConnection) {
    wharf::server srv(local_config());
    srv.routes().get("/ticks/{n}", [](session& s) -> wharf::task {
        const int n = std::stoi(std::string(s.request().param("n")));
        for (int i = 0; i < n; ++i) {
            if (co_await s.sleep(1ms)) co_return;
            s.response().format("{};", i);
        }
    });
    start(srv);
    client c(srv.local_addresses()[0]);
    for (int n : {0, 1, 5, 20}) {
        ASSERT_TRUE(c.send(request("GET", "/ticks/" + std::to_string(n))));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        std::string expect;
        for (int i = 0; i < n; ++i)
            expect += std::to_string(i) + ";";
        EXPECT_EQ(res->body, expect);
    }
}

TEST(SuspendCoroutine, AsyncSendMoreThenFinal) {
    std::mutex m;
    std::vector<wharf::send_result> results;
    wharf::server srv(local_config());
    srv.routes().get("/parts", [&](session& s) -> wharf::task {
        s.response().content_type("text/plain").append("first;");
        const auto r1 = co_await s.async_send(wharf::send_flags::more);
        {
            std::lock_guard lock(m);
            results.push_back(r1);
        }
        if (r1.error) co_return;
        EXPECT_TRUE(s.response_started());
        EXPECT_FALSE(s.response_finished());
        s.response().append("second");
        const auto r2 = co_await s.async_send();
        std::lock_guard lock(m);
        results.push_back(r2);
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/parts")));
    std::vector<std::size_t> chunks;
    const auto res = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(res->body, "first;second");
    EXPECT_EQ(chunks, (std::vector<std::size_t>{6, 6}));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return results.size() == 2;
    }));
    {
        std::lock_guard lock(m);
        EXPECT_FALSE(results[0].error) << results[0].error.message();
        EXPECT_EQ(results[0].bytes, 6u);
        EXPECT_FALSE(results[1].error) << results[1].error.message();
        EXPECT_EQ(results[1].bytes, 6u);
    }
    // The response ended with the final send: the connection serves the next request.
    ASSERT_TRUE(c.send(request("GET", "/ok")));
    const auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok");
}

TEST(SuspendCoroutine, AsyncSendWhileAnotherSendIsPendingIsBusy) {
    // A first send of 4 MiB stays pending until the client reads (the socket buffers fill):
    // meanwhile an async_send completes at once with busy and changes nothing.
    const std::string big = test_pattern(4 << 20);
    std::mutex m;
    std::vector<std::string> events;
    wharf::server srv(local_config());
    srv.routes().get("/busy", [&](session& s) -> wharf::task {
        s.response().append(big);
        s.send(wharf::send_flags::more, [&](wharf::send_result r) {
            std::lock_guard lock(m);
            events.push_back("first:" + (r.error ? r.error.message() : std::to_string(r.bytes)));
        });
        s.response().append("tail");
        const auto r = co_await s.async_send();
        {
            std::lock_guard lock(m);
            events.push_back(r.error == errc::busy ? "second:busy" : "second:" + r.error.message());
        }
        // Retry the final send until the first one is done; "tail" is still buffered.
        for (int tries = 0; tries < 1000; ++tries) {
            const auto again = co_await s.async_send();
            if (again.error != errc::busy) {
                std::lock_guard lock(m);
                events.push_back(
                    "final:" + (again.error ? again.error.message() : std::to_string(again.bytes)));
                break;
            }
            if (co_await s.sleep(5ms)) co_return;
        }
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/busy")));
    std::this_thread::sleep_for(50ms); // let the first send block on the full socket
    const auto res = c.read_framed_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body.size(), big.size() + 4);
    EXPECT_TRUE(res->body == big + "tail") << "body differs";
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return events.size() == 3;
    }));
    std::lock_guard lock(m);
    EXPECT_EQ(events, (std::vector<std::string>{"second:busy", "first:4194304", "final:4"}));
}

struct offload_record {
    std::mutex m;
    std::thread::id before, pool_thread, after;
    std::string value;
    std::error_code error;
    bool done = false;
};

TEST(SuspendCoroutine, OffloadRunsOnThePoolAndResumesOnTheLoop) {
    wharf::thread_pool pool(2); // declared before the server: outlives it
    offload_record rec;
    wharf::server srv(local_config());
    srv.routes().get("/offload", [&](session& s) -> wharf::task {
        const auto before = std::this_thread::get_id();
        auto r = co_await s.offload(pool, [&rec] {
            {
                std::lock_guard lock(rec.m);
                rec.pool_thread = std::this_thread::get_id();
            }
            std::this_thread::sleep_for(20ms);
            return std::string("forty-two");
        });
        {
            std::lock_guard lock(rec.m);
            rec.before = before;
            rec.after = std::this_thread::get_id();
            rec.value = r.value;
            rec.error = r.error;
            rec.done = true;
        }
        s.response().body(r.value, "text/plain");
    });
    start(srv);

    const auto res = get(srv.local_addresses()[0], "/offload");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "forty-two");
    std::lock_guard lock(rec.m);
    ASSERT_TRUE(rec.done);
    EXPECT_FALSE(rec.error) << rec.error.message();
    EXPECT_EQ(rec.value, "forty-two");
    EXPECT_EQ(rec.before, rec.after) << "resumed on another thread than the loop's";
    EXPECT_NE(rec.pool_thread, rec.before) << "fn ran on the loop";
    EXPECT_NE(rec.pool_thread, std::thread::id{});
}

TEST(SuspendCoroutine, ManyConcurrentOffloads) {
    wharf::thread_pool pool(2);
    wharf::server srv(local_config(2));
    srv.routes().get("/square/{n}", [&pool](session& s) -> wharf::task {
        const std::uint64_t n = std::stoull(std::string(s.request().param("n")));
        std::uint64_t total = 0;
        for (int step = 0; step < 3; ++step) {
            const auto loop_thread = std::this_thread::get_id();
            const auto r = co_await s.offload(pool, [n] { return n * n; });
            if (r.error) co_return;
            if (std::this_thread::get_id() != loop_thread) throw std::logic_error("wrong thread");
            total += r.value;
        }
        s.response().format("{}", total);
    });
    start(srv);

    constexpr int clients = 40;
    std::vector<client> cs;
    for (int i = 0; i < clients; ++i) {
        cs.emplace_back(srv.local_addresses()[0]);
        ASSERT_TRUE(cs.back().send(request("GET", "/square/" + std::to_string(i))));
    }
    for (int i = 0; i < clients; ++i) {
        const auto res = cs[static_cast<std::size_t>(i)].read_response();
        ASSERT_TRUE(res) << cs[static_cast<std::size_t>(i)].error();
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, std::to_string(3 * i * i));
    }
}

/// POST /upload on a stream_body route: a coroutine gathers the body with next_body_piece and
/// answers "<pieces> <bytes>\n" followed by the body.
void add_upload_route(wharf::server& srv, std::atomic<int>& frames_done) {
    wharf::route_options opts;
    opts.stream_body = true;
    srv.routes().route(
        wharf::method::post, "/upload",
        [&frames_done](session& s) -> wharf::task {
            frame_guard guard(frames_done);
            std::string body;
            std::size_t pieces = 0;
            for (;;) {
                const auto p = co_await s.next_body_piece();
                if (p.error) co_return;
                body.append(p.piece);
                ++pieces;
                if (p.last) break;
            }
            s.response().format("{} {}\n", pieces, body.size()).append(body);
        },
        opts);
}

/// The body part of an /upload answer ("<pieces> <bytes>\n" + body), and its piece count.
std::pair<std::size_t, std::string> upload_answer(const std::string& text) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string::npos) return {0, text};
    return {std::stoul(text.substr(0, text.find(' '))), text.substr(nl + 1)};
}

TEST(SuspendCoroutine, NextBodyPieceWithContentLength) {
    std::atomic<int> frames{0};
    wharf::server srv(local_config());
    add_upload_route(srv, frames);
    start(srv);

    const std::string body = test_pattern(300 * 1024);
    client c(srv.local_addresses()[0]);
    const std::string head =
        "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n";
    ASSERT_TRUE(c.send(head));
    // In parts, with pauses, so the handler sees several pieces.
    for (std::size_t at = 0; at < body.size(); at += 64 * 1024) {
        ASSERT_TRUE(c.send(std::string_view(body).substr(at, 64 * 1024)));
        std::this_thread::sleep_for(5ms);
    }
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    const auto [pieces, echoed] = upload_answer(res->body);
    EXPECT_GT(pieces, 1u);
    EXPECT_TRUE(echoed == body) << "body differs (" << echoed.size() << " bytes)";
    EXPECT_TRUE(wait_until([&] { return frames.load() == 1; }));
}

TEST(SuspendCoroutine, NextBodyPieceChunkedAndContinue) {
    std::atomic<int> frames{0};
    wharf::server srv(local_config());
    add_upload_route(srv, frames);
    start(srv);

    client c(srv.local_addresses()[0]);
    // Chunked, piece by piece.
    ASSERT_TRUE(
        c.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"));
    const char* parts[] = {"5\r\nhello\r\n", "1\r\n \r\n", "5\r\nworld\r\n", "0\r\n\r\n"};
    for (const char* p : parts) {
        ASSERT_TRUE(c.send(p));
        std::this_thread::sleep_for(10ms);
    }
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(upload_answer(res->body).second, "hello world");

    // Expect: 100-continue: the first next_body_piece asks for the body.
    ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\n"
                       "Content-Length: 7\r\n\r\n"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 100);
    ASSERT_TRUE(c.send("payload"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(upload_answer(res->body).second, "payload");

    // No body at all.
    ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"));
    res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(upload_answer(res->body).second, "");
    EXPECT_TRUE(wait_until([&] { return frames.load() == 3; }));
}

// ---------------------------------------------------------------------------------------------
// g. Cancellation of pending co_awaits

TEST(SuspendCancel, SleepIsCanceledWhenTheClientGoesAway) {
    std::atomic<int> frames{0};
    std::atomic<bool> sleeping{false};
    std::atomic<int> outcome{-1};
    std::atomic<long long> waited_ms{-1};
    wharf::server srv(local_config());
    srv.routes().get("/long", [&](session& s) -> wharf::task {
        frame_guard guard(frames);
        sleeping = true;
        const auto t0 = clock_type::now();
        const std::error_code ec = co_await s.sleep(10s);
        waited_ms = ms_since(t0);
        outcome = ec == errc::canceled ? 1 : 0;
        if (ec) co_return;
        s.response().append("woke up");
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/long")));
    ASSERT_TRUE(wait_until([&] { return sleeping.load(); }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(frames.load(), 0);
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return frames.load() == 1; })) << "the coroutine never ended";
    EXPECT_EQ(outcome.load(), 1) << "the sleep did not report canceled";
    EXPECT_LT(waited_ms.load(), 2000);
    expect_healthy(srv.local_addresses()[0]);
    EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
}

TEST(SuspendCancel, StreamingCoroutineEndsWhenTheClientCloses) {
    // A plain close: the next write of the stream fails and the coroutine ends.
    std::atomic<int> frames{0};
    std::atomic<int> events{0};
    wharf::server srv(local_config());
    srv.routes().get("/ticker", [&](session& s) -> wharf::task {
        frame_guard guard(frames);
        s.response().content_type("text/event-stream");
        for (int i = 0; i < 10000; ++i) {
            s.response().format("data: {}\n\n", i);
            if ((co_await s.async_send(wharf::send_flags::more)).error) co_return;
            ++events;
            if (co_await s.sleep(5ms)) co_return;
        }
        co_await s.async_send();
    });
    add_ok_route(srv);
    start(srv);

    for (const bool reset : {false, true}) {
        SCOPED_TRACE(reset ? "reset" : "close");
        frames = 0;
        events = 0;
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/ticker")));
        ASSERT_TRUE(wait_until([&] { return events.load() >= 3; }));
        if (reset)
            reset_close(c);
        else
            c.close();
        ASSERT_TRUE(wait_until([&] { return frames.load() == 1; })) << "the coroutine never ended";
        const int seen = events.load();
        std::this_thread::sleep_for(50ms);
        EXPECT_EQ(events.load(), seen);
        EXPECT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    }
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendCancel, OffloadIsCanceledWhenTheClientGoesAway) {
    wharf::thread_pool pool(2);
    std::atomic<int> frames{0};
    std::atomic<bool> fn_started{false}, fn_finished{false};
    std::atomic<int> outcome{-1};
    wharf::server srv(local_config());
    srv.routes().get("/slow", [&](session& s) -> wharf::task {
        frame_guard guard(frames);
        const auto r = co_await s.offload(pool, [&] {
            fn_started = true;
            std::this_thread::sleep_for(400ms);
            fn_finished = true;
            return 7;
        });
        outcome = r.error == errc::canceled ? 1 : 0;
        if (r.error) co_return;
        s.response().format("{}", r.value);
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/slow")));
    ASSERT_TRUE(wait_until([&] { return fn_started.load(); }));
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return frames.load() == 1; }));
    EXPECT_EQ(outcome.load(), 1);
    EXPECT_FALSE(fn_finished.load()) << "the coroutine waited for the pool";
    // The pool's result arrives for a gone request and is dropped.
    ASSERT_TRUE(wait_until([&] { return fn_finished.load(); }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(frames.load(), 1);
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendCancel, BodyPieceIsCanceledWhenTheClientGoesAway) {
    std::atomic<int> frames{0};
    wharf::server srv(local_config());
    add_upload_route(srv, frames);
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n"
                       "only the beginning"));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(frames.load(), 0);
    reset_close(c);
    EXPECT_TRUE(wait_until([&] { return frames.load() == 1; })) << "the coroutine never ended";
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendCancel, SleepIsCanceledWhenTheServerStops) {
    std::atomic<int> frames{0};
    std::atomic<bool> sleeping{false};
    std::atomic<int> outcome{-1};
    {
        wharf::server srv(local_config());
        srv.routes().get("/long", [&](session& s) -> wharf::task {
            frame_guard guard(frames);
            sleeping = true;
            const std::error_code ec = co_await s.sleep(30s);
            outcome = ec == errc::canceled ? 1 : 0;
        });
        start(srv);
        client c(srv.local_addresses()[0]);
        ASSERT_TRUE(c.send(request("GET", "/long")));
        ASSERT_TRUE(wait_until([&] { return sleeping.load(); }));
        const auto stopping = clock_type::now();
        srv.stop(100ms);
        srv.wait();
        EXPECT_LT(ms_since(stopping), 5000);
    }
    EXPECT_EQ(frames.load(), 1) << "the coroutine frame outlived the server";
    EXPECT_EQ(outcome.load(), 1);
}

TEST(SuspendCancel, OnCloseRunsOnceWithTheReason) {
    std::atomic<int> calls{0};
    std::mutex m;
    std::error_code why;
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/watch", [&](session& s) {
        s.on_close([&](std::error_code ec) {
            ++calls;
            std::lock_guard lock(m);
            why = ec;
        });
        slot.put(s.suspend(10s));
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/watch")));
    ASSERT_TRUE(slot.wait());
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return calls.load() == 1; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(calls.load(), 1);
    std::lock_guard lock(m);
    EXPECT_TRUE(why) << "on_close without a reason";
}

// ---------------------------------------------------------------------------------------------
// h. Exceptions

TEST(SuspendExceptions, SyncHandlerThrows) {
    wharf::server srv(local_config());
    srv.routes().get("/throw", [](session& s) {
        s.response().append("never sent");
        throw std::runtime_error("sync handler failure");
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/throw")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 500);
    EXPECT_EQ(res->body.find("never sent"), std::string::npos);
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendExceptions, CoroutineThrowsBeforeSending) {
    wharf::server srv(local_config());
    srv.routes().get("/at-once", [](session& s) -> wharf::task {
        s.response().append("never sent");
        throw std::runtime_error("coroutine failure before any co_await");
        co_return;
    });
    srv.routes().get("/after-sleep", [](session& s) -> wharf::task {
        s.response().append("never sent");
        co_await s.sleep(10ms);
        throw std::runtime_error("coroutine failure after a co_await");
    });
    srv.routes().get("/non-std", [](session& s) -> wharf::task {
        co_await s.sleep(1ms);
        throw 42;
    });
    add_ok_route(srv);
    start(srv);

    for (const char* target : {"/at-once", "/after-sleep", "/non-std"}) {
        SCOPED_TRACE(target);
        const auto res = get(srv.local_addresses()[0], target);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 500);
        EXPECT_EQ(res->body.find("never sent"), std::string::npos);
    }
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendExceptions, CoroutineThrowsAfterFlushCutsTheConnection) {
    std::atomic<int> frames{0};
    wharf::server srv(local_config());
    srv.routes().get("/partial", [&](session& s) -> wharf::task {
        frame_guard guard(frames);
        s.response().content_type("text/plain").append("partial");
        const auto r = co_await s.async_send(wharf::send_flags::more);
        if (r.error) co_return;
        co_await s.sleep(10ms);
        throw std::runtime_error("failure after the response started");
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/partial")));
    ASSERT_TRUE(c.wait_closed(3s)) << "the connection was not cut";
    const std::string& got = c.pending();
    EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << got;
    EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("\r\n\r\n7\r\npartial\r\n"), std::string::npos) << got;
    EXPECT_EQ(got.find("0\r\n\r\n"), std::string::npos) << "the body was ended: " << got;
    EXPECT_TRUE(wait_until([&] { return frames.load() == 1; }));
    expect_healthy(srv.local_addresses()[0]);
}

TEST(SuspendExceptions, ResumeAndDeadlineHandlersThatThrow) {
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/resume", [&](session& s) { slot.put(s.suspend(10s)); });
    srv.routes().get("/deadline", [](session& s) {
        (void)s.suspend(50ms, [](session&) { throw std::runtime_error("deadline failure"); });
    });
    add_ok_route(srv);
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/resume")));
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    ASSERT_FALSE(h->resume([](session& s) {
        s.response().append("never sent");
        throw std::runtime_error("finish failure");
    }));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 500);

    res = get(srv.local_addresses()[0], "/deadline");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 500);
    expect_healthy(srv.local_addresses()[0]);
}

// ---------------------------------------------------------------------------------------------
// i. post() and after()

struct loop_record {
    std::mutex m;
    std::thread::id handler_thread, task_thread;
    bool handler_returned_first = false;
    bool ran = false;
};

TEST(SuspendLoop, PostRunsAfterTheHandlerAndFinishesTheResponse) {
    loop_record rec;
    std::atomic<bool> returned{false};
    wharf::server srv(local_config());
    srv.routes().get("/posted", [&](session& s) {
        returned = false;
        {
            std::lock_guard lock(rec.m);
            rec.handler_thread = std::this_thread::get_id();
        }
        s.defer();
        s.post([&] {
            {
                std::lock_guard lock(rec.m);
                rec.task_thread = std::this_thread::get_id();
                rec.handler_returned_first = returned.load();
                rec.ran = true;
            }
            s.response().body("from a posted task", "text/plain");
            s.send();
        });
        returned = true;
    });
    start(srv);

    const auto res = get(srv.local_addresses()[0], "/posted");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "from a posted task");
    std::lock_guard lock(rec.m);
    EXPECT_TRUE(rec.ran);
    EXPECT_TRUE(rec.handler_returned_first);
    EXPECT_EQ(rec.task_thread, rec.handler_thread);
}

TEST(SuspendLoop, PostFinishesASuspendedSession) {
    handle_slot slot;
    wharf::server srv(local_config());
    srv.routes().get("/posted", [&](session& s) {
        slot.put(s.suspend(200ms)); // the deadline must not fire once the post answered
        s.post([&s] {
            s.response().append("posted");
            s.send();
        });
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/posted")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "posted");
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    EXPECT_TRUE(wait_until([&] { return h->expired(); }));
    EXPECT_EQ(h->resume([](session&) {}), errc::closed);
    EXPECT_TRUE(c.stays_silent(400ms)) << "a late deadline answer: " << c.pending();
}

TEST(SuspendLoop, PostAfterTheResponseEndedIsDropped) {
    std::atomic<int> runs{0};
    wharf::server srv(local_config());
    srv.routes().get("/done", [&](session& s) {
        s.response().append("done");
        s.send();
        s.post([&] { ++runs; });
    });
    start(srv);
    client c(srv.local_addresses()[0]);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send(request("GET", "/done")));
        const auto res = c.read_response();
        ASSERT_TRUE(res) << c.error();
        EXPECT_EQ(res->body, "done");
    }
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(runs.load(), 0);
}

TEST(SuspendLoop, RepeatingTimerStopsWhenTheResponseEnds) {
    std::atomic<int> ticks{0};
    wharf::server srv(local_config());
    srv.routes().get("/ticks", [&](session& s) {
        ticks = 0;
        s.after(
            5ms,
            [&s, &ticks] {
                if (++ticks == 5) {
                    s.response().format("{} ticks", ticks.load());
                    s.send(); // ends the request: nothing may touch the captures after this
                }
            },
            true);
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/ticks")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "5 ticks");
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(ticks.load(), 5);
}

TEST(SuspendLoop, RepeatingTimerStopsWhenTheClientGoesAway) {
    std::atomic<int> ticks{0};
    wharf::server srv(local_config());
    add_ok_route(srv);
    srv.routes().get("/forever", [&](session& s) {
        (void)s.suspend(30s);
        s.after(
            2ms, [&ticks] { ++ticks; }, true);
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/forever")));
    ASSERT_TRUE(wait_until([&] { return ticks.load() >= 5; }));
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    const int seen = ticks.load();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(ticks.load(), seen) << "the timer outlived its session";
    expect_healthy(srv.local_addresses()[0]);
}

// KNOWN BUG (reported): a session timer's task is destroyed while it runs when the task ends the
// request: session_timer::fire calls task(), s.send() completes the response synchronously,
// session_access::reset clears timers_, and the std::function being executed is freed. A task
// that touches its captures after send() reads freed memory (ASan: heap-use-after-free).
TEST(SuspendLoop, TimerTaskMayUseItsCapturesAfterSend) {
    auto sent = std::make_shared<std::atomic<int>>(0);
    wharf::server srv(local_config());
    srv.routes().get("/once", [sent](session& s) {
        s.after(1ms, [&s, sent, tag = std::string(64, 'x')] {
            s.response().append("once");
            s.send();
            sent->fetch_add(static_cast<int>(tag.size() > 0));
        });
    });
    start(srv);
    const auto res = get(srv.local_addresses()[0], "/once");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "once");
    EXPECT_TRUE(wait_until([&] { return sent->load() == 1; }));
}

// ---------------------------------------------------------------------------------------------
// j. send_blocking

TEST(SuspendSendBlocking, FromAnotherThread) {
    std::mutex m;
    std::vector<wharf::send_result> results;
    std::vector<std::thread> threads;
    std::atomic<int> on_loop{-1};
    wharf::server srv(local_config());
    srv.routes().get("/blocking", [&](session& s) {
        const wharf::session_handle h = s.suspend(5s);
        // On the loop's own thread it refuses rather than deadlock.
        const auto r = h.send_blocking("refused");
        on_loop = r.error == errc::invalid_argument ? 1 : 0;
        s.response().content_type("text/plain");
        std::lock_guard lock(m);
        threads.emplace_back([h, &m, &results] {
            const auto r1 = h.send_blocking("hello ", wharf::send_flags::more);
            std::this_thread::sleep_for(10ms);
            const auto r2 = h.send_blocking("world");
            std::lock_guard inner(m);
            results.push_back(r1);
            results.push_back(r2);
        });
    });
    add_ok_route(srv);
    start(srv);
    joiner join_threads{m, threads};

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/blocking")));
    std::vector<std::size_t> chunks;
    const auto res = c.read_framed_response(false, &chunks);
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "hello world");
    EXPECT_EQ(res->body.find("refused"), std::string::npos);
    EXPECT_EQ(chunks, (std::vector<std::size_t>{6, 5}));
    EXPECT_EQ(on_loop.load(), 1);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return results.size() == 2;
    }));
    {
        std::lock_guard lock(m);
        EXPECT_FALSE(results[0].error) << results[0].error.message();
        EXPECT_EQ(results[0].bytes, 6u);
        EXPECT_FALSE(results[1].error) << results[1].error.message();
        EXPECT_EQ(results[1].bytes, 5u);
    }
    // The connection carries on.
    ASSERT_TRUE(c.send(request("GET", "/ok")));
    const auto next = c.read_response();
    ASSERT_TRUE(next) << c.error();
    EXPECT_EQ(next->body, "ok");
}

TEST(SuspendSendBlocking, RequestEndingWhileQueuedReportsClosed) {
    // The loop is held by a posted task while another thread calls send_blocking; the task then
    // ends the request, so the queued send finds it gone: closed, and nothing more is sent.
    std::mutex m;
    std::vector<std::thread> threads;
    std::atomic<bool> calling{false};
    std::optional<wharf::send_result> late;
    wharf::server srv(local_config());
    srv.routes().get("/race", [&](session& s) {
        const wharf::session_handle h = s.suspend(5s);
        {
            std::lock_guard lock(m);
            threads.emplace_back([h, &m, &late, &calling] {
                calling = true;
                const auto r = h.send_blocking("late");
                std::lock_guard inner(m);
                late = r;
            });
        }
        s.post([&s, &calling] {
            (void)wait_until([&] { return calling.load(); });
            std::this_thread::sleep_for(100ms); // send_blocking has queued its task by now
            s.response().append("ended");
            s.send();
        });
    });
    start(srv);
    joiner join_threads{m, threads};

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/race")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "ended");
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return late.has_value();
    }));
    {
        std::lock_guard lock(m);
        EXPECT_EQ(late->error, errc::closed) << late->error.message();
    }
    EXPECT_TRUE(c.stays_silent(50ms)) << c.pending();
}

TEST(SuspendSendBlocking, AfterTheRequestEndedIsRefused) {
    // The request has ended but its keep-alive connection (and so the session) lives on:
    // the handle knows its request is gone and reports closed.
    std::mutex m;
    std::optional<wharf::session_handle> owner;
    std::optional<wharf::session_token> token;
    wharf::server srv(local_config());
    srv.routes().get("/ended", [&](session& s) {
        std::lock_guard lock(m);
        owner = s.suspend(5s);
        token = s.token();
        (void)owner->resume([](session& later) { later.response().append("ended"); });
    });
    start(srv);

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/ended")));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    std::lock_guard lock(m);
    ASSERT_TRUE(owner.has_value());
    EXPECT_TRUE(wait_until([&] { return token->expired(); }));
    const auto r = owner->send_blocking("late");
    EXPECT_EQ(r.error, errc::closed) << r.error.message();
    EXPECT_TRUE(c.stays_silent(50ms)) << c.pending();
}

// Regression: a thread that sends after its request ended (here: the deadline answered) while the
// keep-alive connection already serves the next request must not reach that next request.
TEST(SuspendSendBlocking, StaleCallDoesNotReachTheNextRequest) {
    std::mutex m;
    std::vector<std::thread> threads;
    handle_slot slot;
    std::atomic<int> requests{0};
    std::optional<wharf::send_result> late;
    std::promise<void> second_started;
    std::shared_future<void> second = second_started.get_future().share();
    wharf::server srv(local_config());
    srv.routes().get("/job/{n}", [&](session& s) {
        if (++requests == 1) {
            const wharf::session_handle h = s.suspend(50ms); // 503 at the deadline: too slow
            std::lock_guard lock(m);
            threads.emplace_back([h, &m, &late, second] {
                (void)second.wait_for(5s);
                const auto r = h.send_blocking("result of job 1");
                std::lock_guard inner(m);
                late = r;
            });
            return;
        }
        slot.put(s.suspend(2s)); // job 2 waits for its own result
        second_started.set_value();
    });
    start(srv);
    joiner join_threads{m, threads};

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/job/1")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->status, 503);
    ASSERT_TRUE(c.send(request("GET", "/job/2")));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return late.has_value();
    }));
    {
        std::lock_guard lock(m);
        EXPECT_EQ(late->error, errc::closed) << late->error.message();
    }
    const auto h = slot.wait();
    ASSERT_TRUE(h);
    (void)h->resume([](session& s) { s.response().append("result of job 2"); });
    res = c.read_framed_response();
    ASSERT_TRUE(res) << c.error();
    EXPECT_EQ(res->body, "result of job 2");
}

// Regression: after the client has gone the connection (and the session in it) is deleted; a
// later send_blocking through the handle must report closed, not touch freed memory.
TEST(SuspendSendBlocking, AfterTheClientWentAwayIsSafe) {
    std::mutex m;
    std::vector<std::thread> threads;
    std::atomic<bool> gone{false};
    std::optional<wharf::send_result> late;
    wharf::server srv(local_config());
    srv.routes().get("/job", [&](session& s) {
        const wharf::session_handle h = s.suspend(5s);
        std::lock_guard lock(m);
        threads.emplace_back([h, &m, &late, &gone] {
            (void)wait_until([&] { return gone.load(); }, 5s);
            std::this_thread::sleep_for(100ms); // the connection is deleted by now
            const auto r = h.send_blocking("nobody listens");
            std::lock_guard inner(m);
            late = r;
        });
    });
    start(srv);
    joiner join_threads{m, threads};

    client c(srv.local_addresses()[0]);
    ASSERT_TRUE(c.send(request("GET", "/job")));
    std::this_thread::sleep_for(50ms);
    reset_close(c);
    ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 0; }));
    gone = true;
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(m);
        return late.has_value();
    }));
    std::lock_guard lock(m);
    EXPECT_EQ(late->error, errc::closed) << late->error.message();
}

} // namespace
