// SPDX-License-Identifier: MIT
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include "wharf/error.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"
#include "wharf/upgrade.hpp"

namespace wharf {

namespace detail {
struct session_access;
class session_stream;
struct session_timer;
template <class T>
inline constexpr char type_tag = 0;
/// What session::offload's `fn` returns: called with a std::stop_token when it takes one.
template <class F>
using offload_value_t = typename std::conditional_t<std::is_invocable_v<F&, std::stop_token>,
                                                    std::invoke_result<F&, std::stop_token>,
                                                    std::invoke_result<F&>>::type;
} // namespace detail

/// Says whether a session's request is still the one it was taken from. Thread-safe to copy
/// and to ask; it never dangles (generation-checked, no pointer into the session).
class session_token {
  public:
    session_token() = default;
    session_token(std::weak_ptr<const std::atomic<std::uint64_t>> anchor, std::uint64_t generation)
        : anchor_(std::move(anchor)), generation_(generation) {}
    /// True once that request has ended (response finished, connection closed).
    bool expired() const noexcept {
        auto a = anchor_.lock();
        return !a || a->load(std::memory_order_acquire) != generation_;
    }

  private:
    std::weak_ptr<const std::atomic<std::uint64_t>> anchor_;
    std::uint64_t generation_ = 0;
};

class session;
class thread_pool;
class filter;

/// A suspended session, from session::suspend(). Cheap to copy and move to any thread; it may
/// outlive the request and the server (calls then report closed).
class session_handle {
  public:
    session_handle() = default;
    /// Resumes the session on its own loop: `finish` runs there with the session and may
    /// answer, start a streamed response, or suspend again; returning without sending sends
    /// the response it built. Thread-safe. Errors: closed (the request already ended: client
    /// gone), busy (resumed before), timed_out (the deadline answered first).
    std::error_code resume(std::function<void(session&)> finish) const;
    /// True when the session's request has ended.
    bool expired() const noexcept;
    /// S27, the blocking form: from a thread that is NOT the session's loop, appends `body`
    /// and sends it on the loop, then waits for the result. Reports closed when the request
    /// ended (even if the connection already serves another one); refuses with
    /// invalid_argument on the loop's own thread rather than deadlock.
    send_result send_blocking(std::string body, send_flags flags = send_flags::none) const;
    /// The same, with `prepare` run on the loop first (it appends the body: borrowed memory,
    /// files, sources), unless the request ended.
    send_result send_blocking(std::function<void(session&)> prepare,
                              send_flags flags = send_flags::none) const;

  private:
    friend class session;
    struct state;
    std::shared_ptr<state> state_;
};

/// Receives the request body piece by piece (session::read_body): an error, or a piece (valid
/// only during the call) and whether it is the last one.
using body_callback = std::function<void(std::error_code, std::string_view piece, bool last)>;

/// One request and its response, handed to the handler the router picked (S1-S3). A session
/// belongs to one connection and one event-loop thread; it is reused for the connection's next
/// request once its response is complete, and its context slot is emptied then. Everything
/// here must be called on that thread (the handler's) unless it says otherwise.
class session {
  public:
    session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    ~session();

    wharf::request& request() noexcept { return request_; }
    const wharf::request& request() const noexcept { return request_; }
    wharf::response& response() noexcept { return response_; }
    const wharf::response& response() const noexcept { return response_; }

    /// The context registered with the handler's route (S1), or nullptr when there is none or
    /// it does not hold a T.
    template <class T>
    T* service_context() const noexcept {
        return service_context_ ? std::any_cast<T>(service_context_) : nullptr;
    }

    /// Puts a T in the session's context slot (S2), destroying what was there; the object lives
    /// until the session ends.
    template <class T, class... Args>
    T& emplace_context(Args&&... args) {
        reset_context();
        T* object = new T(std::forward<Args>(args)...);
        context_ = object;
        context_type_ = &detail::type_tag<T>;
        context_destroy_ = [](void* p) { delete static_cast<T*>(p); };
        return *object;
    }
    /// The object in the context slot, or nullptr when it is empty or holds another type.
    template <class T>
    T* context() const noexcept {
        return context_type_ == &detail::type_tag<T> ? static_cast<T*>(context_) : nullptr;
    }
    /// Destroys the object in the context slot, if any.
    void reset_context() noexcept {
        if (context_destroy_) context_destroy_(context_);
        context_ = nullptr;
        context_type_ = nullptr;
        context_destroy_ = nullptr;
    }

    /// Sends the response head (on the first call) and every body piece appended since the
    /// last send (S16, S19). A handler that returns without sending gets its response sent
    /// for it, unless it left work behind (read_body, after, post): then it must send later.
    /// Without send_flags::more this send ends the response; the handler may return before that,
    /// and send later from a timer, a posted task or a callback. `done` gets the result once the
    /// bytes are written (or why they never will be). While one send is pending, another completes
    /// at once with errc::busy and changes nothing (S26).
    void send(send_flags flags = send_flags::none, send_callback done = {});
    /// Sends what is buffered now and keeps the response open (S10).
    void flush(send_callback done = {}) { send(send_flags::more, std::move(done)); }

    /// `co_await s.async_send(flags)`: a send whose completion resumes the coroutine.
    struct send_awaiter {
        session* self;
        send_flags flags;
        send_result result{};
        std::coroutine_handle<> waiting{};
        bool completed = false;
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) {
            self->send(flags, [this](send_result r) {
                result = r;
                completed = true;
                if (auto resume = std::exchange(waiting, {})) resume.resume();
            });
            // Completed during the call (busy, closed, or written at once): no suspension.
            if (completed) return false;
            waiting = h;
            return true;
        }
        send_result await_resume() const noexcept { return result; }
    };
    send_awaiter async_send(send_flags flags = send_flags::none) { return {this, flags}; }

    /// Suspends the session (S15): the handler may return, and a handle resumes it later from
    /// any thread. After `deadline`, the library answers for it: with `on_deadline` when given,
    /// else 503; a resume after that reports timed_out. The stop token is requested then too.
    session_handle suspend(std::chrono::milliseconds deadline = std::chrono::seconds(30),
                           std::function<void(session&)> on_deadline = {});

    /// Requested when the request ends: early (the client went away, a deadline passed, the
    /// server closed the connection) or because its response is complete. Hand it to work on
    /// other threads for this request.
    std::stop_token stop_token();

    /// `co_await s.sleep(d)`: resumes on the session's loop after `d`; the result is
    /// errc::canceled when the request ended first.
    struct sleep_awaiter {
        session* self;
        std::chrono::milliseconds delay;
        std::shared_ptr<std::error_code> outcome{};
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h);
        std::error_code await_resume() const noexcept {
            return outcome ? *outcome : std::error_code{};
        }
    };
    sleep_awaiter sleep(std::chrono::milliseconds delay) { return {this, delay}; }

    /// `co_await s.next_body_piece()`: the next piece of a streamed request body (see
    /// read_body); the piece stays valid until the coroutine next suspends.
    struct body_piece_result {
        std::error_code error;
        std::string_view piece;
        bool last = true;
    };
    struct body_awaiter {
        session* self;
        body_piece_result result{};
        bool ready = false;
        std::coroutine_handle<> waiting{};
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) {
            self->read_body([this](std::error_code ec, std::string_view piece, bool last) {
                result = {ec, piece, last};
                ready = true;
                if (auto resume = std::exchange(waiting, {})) resume.resume();
            });
            if (ready) return false;
            waiting = h;
            return true;
        }
        body_piece_result await_resume() const noexcept { return result; }
    };
    body_awaiter next_body_piece() { return {this}; }

    /// `co_await s.offload(pool, fn)`: runs `fn` on a pool thread and resumes on the session's
    /// loop with its result ({errc::canceled, {}} when the request ended meanwhile). When `fn`
    /// takes a std::stop_token, it gets this request's stop_token(): stop is requested once the
    /// request ends (client gone, deadline, shutdown), so long work can check it and return
    /// early (what it returns then is dropped). The token is safe to use on the pool thread
    /// for as long as `fn` runs, even after the request ended. Otherwise `fn()` is called.
    template <class T>
    struct offload_result {
        std::error_code error;
        T value{};
    };
    template <class F, class T = detail::offload_value_t<F>>
    auto offload(thread_pool& pool, F fn);

    /// Tells the library the handler will finish the response later (from a callback or a
    /// timer); without it, returning sends the response.
    void defer() noexcept { async_ = true; }

    /// True once the head was sent; true once the last send was queued.
    bool response_started() const noexcept { return started_; }
    bool response_finished() const noexcept { return finished_; }

    /// Reads the next piece of the request body as it arrives (routes added with
    /// route_options::stream_body). The first call sends "100 Continue" when the client asked
    /// for it. The socket is not read while no read is pending (back-pressure).
    void read_body(body_callback on_piece);

    /// Called once, on the session's thread, when the connection goes away (client reset or
    /// FIN, timeout, shutdown) before the response finished, i.e. before its last send was
    /// queued; after that, the last send's callback tells whether it was delivered.
    void on_close(std::function<void(std::error_code)> callback) {
        on_close_ = std::move(callback);
    }

    /// Takes the connection (S18, S24): sends the response built so far (101 Switching
    /// Protocols, or a 2xx to CONNECT) without a body, then gives `on_upgraded` the raw byte
    /// stream; no more HTTP is parsed on it. Errors: invalid_argument (another status, a
    /// response already started, or an HTTP/2 stream), closed (the client left first).
    void upgrade(upgrade_callback on_upgraded);
    /// Runs `task` on the session's loop soon (S8); dropped if the session ends first.
    void post(std::function<void()> task);
    /// Runs `task` on the session's loop after `delay`, again every `delay` when `repeat`
    /// (S8); cancelled when the session ends.
    void after(std::chrono::milliseconds delay, std::function<void()> task, bool repeat = false);

    /// A token for this request: work handed elsewhere checks it (on the loop) before
    /// touching the session again.
    session_token token() const noexcept {
        return {anchor_, anchor_->load(std::memory_order_relaxed)};
    }

  private:
    friend struct detail::session_access;

    // Runs `hook` once if the request ends while something waits on it (how a pending
    // co_await learns it was canceled); `done` (set by the waiter once it finished) lets
    // finished hooks be dropped early, so a long request does not accumulate them.
    void at_cancel(std::shared_ptr<bool> done, std::function<void()> hook) {
        std::erase_if(cancel_hooks_, [](const auto& h) { return *h.first; });
        cancel_hooks_.emplace_back(std::move(done), std::move(hook));
    }

    wharf::request request_;
    wharf::response response_;
    std::any* service_context_ = nullptr;
    void* context_ = nullptr;
    const void* context_type_ = nullptr;
    void (*context_destroy_)(void*) = nullptr;

    detail::session_stream* stream_ = nullptr;
    bool started_ = false;
    bool finished_ = false;
    bool async_ = false; // the handler left work behind (a body read, a timer, a post)
    std::function<void(std::error_code)> on_close_;
    std::vector<std::unique_ptr<detail::session_timer>> timers_;
    std::vector<std::pair<std::shared_ptr<bool>, std::function<void()>>> cancel_hooks_;
    std::vector<filter*> filters_; // the filters this request passed through, outermost first
    std::optional<std::stop_source> stop_;
    // Bumped when the request ends, which expires its tokens.
    std::shared_ptr<std::atomic<std::uint64_t>> anchor_;
};

namespace detail {
/// Posts `task` to the session's loop (any thread); used by offload.
/// A thread-safe way to post to the session's loop, taken on the loop's thread.
std::function<void(std::function<void()>)> loop_poster(session& s);
void run_on_pool(thread_pool& pool, std::function<void()> task);
} // namespace detail

template <class F, class T>
auto session::offload(thread_pool& pool, F fn) {
    struct shared {
        offload_result<T> result;
        std::shared_ptr<bool> done = std::make_shared<bool>(false);
        std::coroutine_handle<> waiting;
    };
    struct awaiter {
        session* self;
        thread_pool* pool;
        F fn;
        std::shared_ptr<shared> st = std::make_shared<shared>();
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            st->waiting = h;
            auto finish = [st = st](offload_result<T> r) {
                if (*st->done) return;
                *st->done = true;
                st->result = std::move(r);
                st->waiting.resume();
            };
            self->at_cancel(st->done, [finish] { finish({make_error_code(errc::canceled), {}}); });
            auto post = detail::loop_poster(*self);
            const session_token token = self->token();
            // Taken here, on the loop: stop_token() may create the session's stop_source, which
            // only the loop touches. The copy shares the source's stop state, so it stays valid
            // on the pool thread when the request ends and the session resets (or destroys) the
            // source: a stop was requested on that state first, and the next request gets a
            // new one, so a reused session never un-stops it.
            std::stop_token stop;
            if constexpr (std::is_invocable_v<F&, std::stop_token>) stop = self->stop_token();
            detail::run_on_pool(
                *pool, [post, token, finish, stop = std::move(stop), fn = std::move(fn)]() mutable {
                    T value = [&]() -> T {
                        if constexpr (std::is_invocable_v<F&, std::stop_token>) {
                            return fn(stop);
                        } else {
                            (void)stop; // empty: a token that is never stopped
                            return fn();
                        }
                    }();
                    if (token.expired()) return; // the cancel hook already resumed the coroutine
                    post([token, finish, value = std::move(value)]() mutable {
                        if (!token.expired()) finish({{}, std::move(value)});
                    });
                });
        }
        offload_result<T> await_resume() { return std::move(st->result); }
    };
    return awaiter{this, &pool, std::move(fn)};
}

} // namespace wharf
