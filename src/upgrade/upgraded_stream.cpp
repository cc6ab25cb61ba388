// SPDX-License-Identifier: MIT
// The application's side of an upgraded connection: calls reach the connection while it is
// open and report closed after.
#include "upgrade/byte_stream.hpp"

namespace wharf {
namespace {

// The carrier while the stream is open (on the stream's loop), else null.
detail::byte_stream* carrier(const std::shared_ptr<detail::upgraded_state>& s) noexcept {
    return s ? s->conn.load(std::memory_order_relaxed) : nullptr;
}

void closed_now(io_callback& done) {
    if (done) done(make_error_code(errc::closed), 0);
}

} // namespace

std::error_code upgraded_handle::post(std::function<void(upgraded_stream&)> task) const {
    auto state = state_.lock();
    if (!carrier(state)) return make_error_code(errc::closed);
    std::weak_ptr<detail::upgraded_state> weak = state;
    state->loop->post([weak, task = std::move(task)] {
        auto s = weak.lock();
        if (!carrier(s)) return;
        upgraded_stream stream(s);
        task(stream);
    });
    return {};
}

void upgraded_stream::write_some(std::span<const std::string_view> buffers, io_callback done) {
    if (auto* c = carrier(state_))
        c->write(buffers, false, std::move(done));
    else
        closed_now(done);
}

void upgraded_stream::write_all(std::span<const std::string_view> buffers, io_callback done) {
    if (auto* c = carrier(state_))
        c->write(buffers, true, std::move(done));
    else
        closed_now(done);
}

void upgraded_stream::read_some(std::span<char> buffer, io_callback done) {
    if (auto* c = carrier(state_))
        c->read(buffer, std::move(done));
    else
        closed_now(done);
}

void upgraded_stream::cancel() {
    if (auto* c = carrier(state_)) c->cancel();
}

void upgraded_stream::close() {
    if (auto* c = carrier(state_)) c->close_gracefully();
}

void upgraded_stream::abort() {
    if (auto* c = carrier(state_)) c->abort();
}

bool upgraded_stream::is_open() const noexcept {
    return carrier(state_) != nullptr;
}

address upgraded_stream::peer() const {
    auto* c = carrier(state_);
    return c ? c->peer() : address{};
}

address upgraded_stream::local() const {
    auto* c = carrier(state_);
    return c ? c->local() : address{};
}

const tls_info* upgraded_stream::tls() const noexcept {
    auto* c = carrier(state_);
    return c ? c->tls() : nullptr;
}

void upgraded_stream::set_idle_timeout(std::chrono::milliseconds timeout) {
    if (auto* c = carrier(state_)) c->set_idle_timeout(timeout.count());
}

void upgraded_stream::set_write_timeout(std::chrono::milliseconds timeout) {
    if (auto* c = carrier(state_)) c->set_write_timeout(timeout.count());
}

void upgraded_stream::set_alarm(std::chrono::milliseconds delay, std::function<void()> task) {
    if (auto* c = carrier(state_)) c->set_alarm(delay.count(), std::move(task));
}

void upgraded_stream::on_close(std::function<void(std::error_code)> callback) {
    if (auto* c = carrier(state_))
        c->on_close(std::move(callback));
    else if (callback && state_)
        state_->loop->post(
            [callback = std::move(callback)] { callback(make_error_code(errc::closed)); });
}

std::stop_token upgraded_stream::stop_token() const {
    if (auto* c = carrier(state_)) return c->stop_token();
    std::stop_source gone;
    gone.request_stop();
    return gone.get_token();
}

upgraded_handle upgraded_stream::handle() const {
    upgraded_handle h;
    h.state_ = state_;
    return h;
}

} // namespace wharf
