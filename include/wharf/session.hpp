// SPDX-License-Identifier: MIT
#pragma once

#include <any>
#include <memory>
#include <utility>

#include "wharf/request.hpp"
#include "wharf/response.hpp"

namespace wharf {

namespace detail {
struct session_access;
template <class T>
inline constexpr char type_tag = 0;
} // namespace detail

/// One request and its response, handed to the handler the router picked (S1-S3). A session
/// belongs to one connection and one event-loop thread; it is reused for the connection's next
/// request once its response is sent, and its context slot is emptied then.
class session {
  public:
    session() = default;
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    ~session() { reset_context(); }

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

  private:
    friend struct detail::session_access;

    wharf::request request_;
    wharf::response response_;
    std::any* service_context_ = nullptr;
    void* context_ = nullptr;
    const void* context_type_ = nullptr;
    void (*context_destroy_)(void*) = nullptr;
};

} // namespace wharf
