// SPDX-License-Identifier: MIT
// A client connection as its worker holds it, whatever it speaks (HTTP/1, HTTP/2 or an
// upgraded stream): started once, drained for a graceful shutdown, aborted at its
// deadline. It lives on the worker's loop thread from accept to close.
#pragma once

#include "loop/event_loop.hpp"

namespace wharf::detail {

class connection : public io_watcher {
  public:
    virtual ~connection() = default;
    /// Registers with the loop; false when it cannot (the worker then aborts it).
    virtual bool start() = 0;
    /// Graceful shutdown: an idle connection closes now, a busy one after what is in flight.
    virtual void drain() = 0;
    /// Closes at once (a reset), whatever is in flight.
    virtual void abort() = 0;

    connection* prev = nullptr; ///< the worker's list
    connection* next = nullptr;
};

} // namespace wharf::detail
