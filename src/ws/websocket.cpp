// SPDX-License-Identifier: MIT
// The application's view of a WebSocket connection: websocket, its handle, the offer.
#include <algorithm>

#include "ws/connection.hpp"

namespace wharf {

ws_send_status websocket::send(std::string_view message, ws_kind kind,
                               std::function<void(std::error_code)> done) {
    return c_->send(message, kind, std::move(done));
}

ws_send_status websocket::send_fragment(std::string_view piece, ws_kind kind, bool last) {
    return c_->send_fragment(piece, kind, last);
}

ws_send_status websocket::ping(std::string_view payload) {
    return c_->ping(payload);
}

void websocket::close(std::uint16_t code, std::string_view reason) {
    c_->close(code, reason);
}

void websocket::abort() {
    c_->abort();
}

std::size_t websocket::buffered_amount() const noexcept {
    return c_->buffered_amount();
}

void websocket::pause_reading() {
    c_->pause_reading();
}

void websocket::resume_reading() {
    c_->resume_reading();
}

bool websocket::is_open() const noexcept {
    return c_->is_open();
}

std::string_view websocket::subprotocol() const noexcept {
    return c_->subprotocol();
}

bool websocket::compressed() const noexcept {
    return c_->compressed();
}

address websocket::peer() const {
    return c_->peer();
}

const tls_info* websocket::tls() const noexcept {
    return c_->tls();
}

std::any& websocket::context() noexcept {
    return c_->context();
}

websocket_handle websocket::handle() const {
    return c_->handle();
}

std::error_code websocket_handle::post(std::function<void(websocket&)> task) const {
    if (conn_.expired()) return make_error_code(errc::closed);
    return stream_.post([conn = conn_, task = std::move(task)](upgraded_stream&) {
        if (auto c = conn.lock()) task(c->facade());
    });
}

std::error_code websocket_handle::send(std::string message, ws_kind kind) const {
    return post([message = std::move(message), kind](websocket& ws) { ws.send(message, kind); });
}

bool websocket_offer::accept_subprotocol(std::string_view name) {
    if (std::find(offered_.begin(), offered_.end(), name) == offered_.end()) return false;
    chosen_.assign(name);
    return true;
}

} // namespace wharf
