// SPDX-License-Identifier: MIT
// The library's side door into the public request / response / session types: protocol code
// fills them in through these, so their public interface stays read-mostly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "http/session_stream.hpp"
#include "wharf/session.hpp"

namespace wharf::detail {

struct request_access {
    static request& fields(request& r) noexcept { return r; }
    static void set_line(request& r, std::string_view method_name, std::string_view target,
                         int major, int minor) noexcept {
        r.method_name_ = method_name;
        r.method_ = method_from_string(method_name);
        r.target_ = target;
        r.http_major_ = major;
        r.http_minor_ = minor;
        r.connect_protocol_ = {};
    }
    static void set_connect_protocol(request& r, std::string_view protocol) noexcept {
        r.connect_protocol_ = protocol;
    }
    static void set_headers(request& r, header_view h, std::string_view host) noexcept {
        r.headers_ = h;
        r.host_ = host;
    }
    static void set_host(request& r, std::string_view host) noexcept { r.host_ = host; }
    /// The client a trusted proxy's Forwarded field names: peer() from now on.
    static void set_forwarded_peer(request& r, const address& a) { r.forwarded_peer_ = a; }
    static void set_body(request& r, std::string_view body) noexcept { r.body_ = body; }
    static void set_trailers(request& r, header_view t) noexcept { r.trailers_ = t; }
    static void set_keep_alive(request& r, bool keep) noexcept { r.keep_alive_ = keep; }
    static void set_connection(request& r, const address* peer, const address* local,
                               const tls_info* tls, const proxy_info* proxy = nullptr) noexcept {
        r.peer_ = peer;
        r.local_ = local;
        r.tls_ = tls;
        r.proxy_ = proxy;
    }
    /// Sets raw path and query; decodes the path. False when the path cannot be decoded.
    static bool set_path(request& r, std::string_view raw_path, std::string_view query);
    static auto& params(request& r) noexcept { return r.params_; }
    /// The bytes behind the request's views moved from old_begin to new_begin: every view
    /// into [old_begin, old_begin + length) follows them (views elsewhere stay).
    static void rebase(request& r, const char* old_begin, std::size_t length,
                       const char* new_begin) noexcept {
        const auto from = reinterpret_cast<std::uintptr_t>(old_begin);
        const auto move = [&](std::string_view& v) {
            const auto at = reinterpret_cast<std::uintptr_t>(v.data());
            if (v.data() != nullptr && at >= from && at - from <= length)
                v = {new_begin + (at - from), v.size()};
        };
        for (std::string_view* v :
             {&r.method_name_, &r.target_, &r.path_, &r.raw_path_, &r.query_, &r.host_, &r.body_})
            move(*v);
        for (auto& [name, value] : r.params_) {
            move(name);
            move(value);
        }
        forget_accept(r); // parsed again from the moved bytes when next asked
    }
    static void forget_accept(request& r) noexcept;
    /// Forgets the request: no view into the connection's buffers survives it (they may be
    /// freed or reused once the request is over).
    static void reset(request& r) noexcept {
        r.params_.clear();
        r.method_name_ = {};
        r.method_ = method::other;
        r.target_ = r.path_ = r.raw_path_ = {};
        r.headers_ = {};
        r.trailers_ = {};
        r.body_ = {};
        r.query_ = {};
        r.host_ = {};
        r.user_.clear();
        r.auth_scheme_.clear();
        r.forwarded_peer_.reset();
        forget_accept(r);
    }
};

struct response_access {
    static constexpr std::size_t keep_capacity = 4096;
    /// Non-memory pieces (and memory sealed before them) waiting to be sent, in order.
    static std::vector<body_piece>& pieces(response& r) noexcept { return r.pieces_; }
    /// The in-memory bytes appended since the last piece.
    static std::string& memory(response& r) noexcept { return r.body_; }
    static bool wants_default_body(const response& r) noexcept { return r.default_body_; }
    /// A body transform changes the length: what the handler declared no longer holds.
    static void forget_declared_length(response& r) noexcept { r.declared_length_.reset(); }
    static void reset(response& r) noexcept {
        r.status_ = 200;
        r.close_ = false;
        r.default_body_ = false;
        r.reason_.clear();
        r.headers_.clear();
        r.trailers_.clear();
        r.body_.clear();
        r.pieces_.clear();
        // What one large response grew is not kept for the next one (nor by an idle
        // connection); what a typical one needs is.
        if (r.body_.capacity() > keep_capacity) std::string().swap(r.body_);
        if (r.pieces_.capacity() > 16) decltype(r.pieces_)().swap(r.pieces_);
        r.declared_length_.reset();
        r.process_ranges_ = false;
        r.etag_.clear();
        r.last_modified_.reset();
        r.log_fields_.reset();
    }
};

struct source_access {
    /// The library's wake-up for body_source::notify_readable().
    static void set_readable_hook(body_source& s, std::function<void()> hook) {
        s.set_readable_hook(std::move(hook));
    }
};

struct session_access {
    static void set_service_context(session& s, std::any* ctx) noexcept {
        s.service_context_ = ctx;
    }
    static void set_stream(session& s, session_stream* stream) noexcept { s.stream_ = stream; }
    static void mark_started(session& s) noexcept { s.started_ = true; }
    static void mark_finished(session& s) noexcept { s.finished_ = true; }
    static bool left_work_behind(const session& s) noexcept { return s.async_; }
    static void clear_left_work(session& s) noexcept { s.async_ = false; }
    static void defer_send(session& s) noexcept { s.async_ = true; }
    static session_stream* stream(session& s) noexcept { return s.stream_; }
    /// The filters the request went through (their before hooks ran), outermost first.
    static std::vector<filter*>& filters(session& s) noexcept { return s.filters_; }
    /// Resumes every co_await still pending with cancellation, until none is left.
    static void cancel_waiters(session& s) {
        while (!s.cancel_hooks_.empty()) {
            auto hooks = std::exchange(s.cancel_hooks_, {});
            for (auto& [done, hook] : hooks)
                if (!*done) hook();
        }
    }
    /// The connection went away before the response finished: tell the handler, once.
    static void notify_closed(session& s, std::error_code why) {
        if (s.stop_) s.stop_->request_stop();
        cancel_waiters(s);
        s.timers_.clear();
        if (auto cb = std::exchange(s.on_close_, nullptr)) cb(why);
    }
    /// Ends the request: its tokens expire, its timers stop, its context is destroyed.
    static void reset(session& s) noexcept {
        // Only the loop thread writes the generation: no locked read-modify-write needed.
        s.anchor_->store(s.anchor_->load(std::memory_order_relaxed) + 1, std::memory_order_release);
        if (s.stop_) {
            s.stop_->request_stop();
            s.stop_.reset();
        }
        cancel_waiters(s);
        s.timers_.clear();
        s.on_close_ = nullptr;
        s.filters_.clear();
        s.reset_context();
        s.service_context_ = nullptr;
        s.started_ = s.finished_ = s.async_ = false;
        request_access::reset(s.request_);
        response_access::reset(s.response_);
    }
};

} // namespace wharf::detail
