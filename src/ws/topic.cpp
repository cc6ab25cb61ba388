// SPDX-License-Identifier: MIT
#include "ws/topic.hpp"

#include <algorithm>

#include "ws/connection.hpp"
#include "ws/frame.hpp"

namespace wharf::detail {

void topic_state::add(ws_connection& c) {
    std::lock_guard lock(mutex);
    auto it = std::find_if(loops.begin(), loops.end(),
                           [&](const loop_members& l) { return l.loop == c.loop(); });
    if (it == loops.end()) it = loops.insert(loops.end(), loop_members{c.loop(), {}});
    for (const auto& m : it->members)
        if (m.lock().get() == &c) return;
    it->members.push_back(c.weak_from_this());
    ++count;
    if (c.compressed()) ++compressing;
}

void topic_state::remove(ws_connection& c) {
    std::lock_guard lock(mutex);
    for (loop_members& l : loops) {
        if (l.loop != c.loop()) continue;
        const auto it = std::find_if(l.members.begin(), l.members.end(),
                                     [&](const auto& m) { return m.lock().get() == &c; });
        if (it == l.members.end()) return;
        l.members.erase(it);
        --count;
        if (c.compressed()) --compressing;
        return;
    }
}

} // namespace wharf::detail

namespace wharf {

websocket_topic::websocket_topic() : state_(std::make_shared<detail::topic_state>()) {}

websocket_topic::~websocket_topic() = default;

void websocket_topic::subscribe(websocket& ws) {
    detail::ws_connection& c = *ws.c_;
    if (!c.is_open()) return;
    state_->add(c);
    auto& topics = c.topics();
    for (const auto& t : topics)
        if (t.lock() == state_) return;
    topics.push_back(state_);
}

void websocket_topic::unsubscribe(websocket& ws) {
    detail::ws_connection& c = *ws.c_;
    state_->remove(c);
    auto& topics = c.topics();
    std::erase_if(topics, [&](const auto& t) { return t.lock() == state_; });
}

std::size_t websocket_topic::publish(std::string_view message, ws_kind kind) {
    namespace ws = detail::ws;
    const std::uint8_t op = kind == ws_kind::text ? ws::op_text : ws::op_binary;
    // Framed once, compressed once (without context, so any subscriber's client inflates it).
    auto plain = std::make_shared<std::string>();
    char head[ws::max_head_size];
    const std::size_t head_size = ws::write_head(head, op, true, false, message.size());
    plain->reserve(head_size + message.size());
    plain->append(head, head_size).append(message);
    std::shared_ptr<const std::string> packed;
    std::vector<std::shared_ptr<detail::mailbox>> targets;
    std::size_t count;
    bool compress;
    {
        std::lock_guard lock(state_->mutex);
        count = state_->count;
        compress = state_->compressing > 0;
        for (const auto& l : state_->loops)
            if (!l.members.empty()) targets.push_back(l.loop);
    }
    if (compress) {
        std::string body;
        if (ws::shared_deflater(15).compress(message, body) && body.size() < message.size()) {
            auto frame = std::make_shared<std::string>();
            const std::size_t n = ws::write_head(head, op, true, true, body.size());
            frame->reserve(n + body.size());
            frame->append(head, n).append(body);
            packed = std::move(frame);
        }
    }
    std::shared_ptr<const std::string> frame = std::move(plain);
    for (const auto& loop : targets) {
        loop->post([state = std::weak_ptr(state_), raw = loop.get(), frame, head_size, packed] {
            auto s = state.lock();
            if (!s) return;
            std::vector<std::shared_ptr<detail::ws_connection>> members;
            {
                std::lock_guard lock(s->mutex);
                for (const auto& l : s->loops) {
                    if (l.loop.get() != raw) continue;
                    members.reserve(l.members.size());
                    for (const auto& m : l.members)
                        if (auto c = m.lock()) members.push_back(std::move(c));
                }
            }
            for (const auto& c : members)
                (void)c->send_shared(frame, head_size, packed);
        });
    }
    return count;
}

std::size_t websocket_topic::subscribers() const {
    std::lock_guard lock(state_->mutex);
    return state_->count;
}

} // namespace wharf
