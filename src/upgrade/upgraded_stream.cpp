// SPDX-License-Identifier: MIT
// The application's side of an upgraded connection: calls reach the connection while it is
// open and report closed after.
#include "upgrade/byte_stream.hpp"

namespace wharf {
namespace {

void closed_now(io_callback& done) {
    if (done) done(make_error_code(errc::closed), 0);
}

} // namespace

std::error_code upgraded_handle::post(std::function<void(upgraded_stream&)> task) const {
    auto state = state_.lock();
    if (!state || !state->conn) return make_error_code(errc::closed);
    std::weak_ptr<detail::upgraded_state> weak = state;
    state->loop->post([weak, task = std::move(task)] {
        auto s = weak.lock();
        if (!s || !s->conn) return;
        upgraded_stream stream(s);
        task(stream);
    });
    return {};
}

void upgraded_stream::write_some(std::span<const std::string_view> buffers, io_callback done) {
    if (!state_ || !state_->conn) return closed_now(done);
    state_->conn->write(buffers, false, std::move(done));
}

void upgraded_stream::write_all(std::span<const std::string_view> buffers, io_callback done) {
    if (!state_ || !state_->conn) return closed_now(done);
    state_->conn->write(buffers, true, std::move(done));
}

void upgraded_stream::read_some(std::span<char> buffer, io_callback done) {
    if (!state_ || !state_->conn) return closed_now(done);
    state_->conn->read(buffer, std::move(done));
}

void upgraded_stream::cancel() {
    if (state_ && state_->conn) state_->conn->cancel();
}

void upgraded_stream::close() {
    if (state_ && state_->conn) state_->conn->close_gracefully();
}

void upgraded_stream::abort() {
    if (state_ && state_->conn) state_->conn->abort();
}

bool upgraded_stream::is_open() const noexcept {
    return state_ && state_->conn;
}

address upgraded_stream::peer() const {
    return is_open() ? state_->conn->peer() : address{};
}

address upgraded_stream::local() const {
    return is_open() ? state_->conn->local() : address{};
}

const tls_info* upgraded_stream::tls() const noexcept {
    return is_open() ? state_->conn->tls() : nullptr;
}

void upgraded_stream::set_idle_timeout(std::chrono::milliseconds timeout) {
    if (is_open()) state_->conn->set_idle_timeout(timeout.count());
}

void upgraded_stream::set_write_timeout(std::chrono::milliseconds timeout) {
    if (is_open()) state_->conn->set_write_timeout(timeout.count());
}

void upgraded_stream::set_alarm(std::chrono::milliseconds delay, std::function<void()> task) {
    if (is_open()) state_->conn->set_alarm(delay.count(), std::move(task));
}

void upgraded_stream::on_close(std::function<void(std::error_code)> callback) {
    if (is_open())
        state_->conn->on_close(std::move(callback));
    else if (callback && state_)
        state_->loop->post(
            [callback = std::move(callback)] { callback(make_error_code(errc::closed)); });
}

std::stop_token upgraded_stream::stop_token() const {
    if (is_open()) return state_->conn->stop_token();
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
