// SPDX-License-Identifier: MIT
// What a websocket_topic shares between threads: its subscribers, per loop.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "loop/mailbox.hpp"

namespace wharf::detail {

class ws_connection;

struct topic_state {
    struct loop_members {
        std::shared_ptr<mailbox> loop;
        std::vector<std::weak_ptr<ws_connection>> members; // touched under `mutex`
    };

    mutable std::mutex mutex;
    std::vector<loop_members> loops;
    std::size_t count = 0;
    std::size_t compressing = 0; // subscribers with permessage-deflate

    void add(ws_connection& c);
    void remove(ws_connection& c);
};

} // namespace wharf::detail
