// SPDX-License-Identifier: MIT
// The C API's response: status, fields, body (bytes, printf, JSON, XML, IO objects) and flush.
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "capi/c_session.hpp"
#include "wharf/json.hpp"
#include "wharf/xml.hpp"

namespace {

using wharf::capi::cpp;
using wharf::capi::guarded;

int with_type(wharf_session* sess, const char* content_type) {
    if (content_type) cpp(sess).response().content_type(content_type);
    return 0;
}

int standard(wharf_session* sess, int code, const char* content_type) {
    return guarded([&] {
        cpp(sess).response().set_std(code);
        return with_type(sess, content_type);
    });
}

/// Sets the body to `text` once `well_formed` accepted it (EBADMSG otherwise).
template <class Check>
int checked_body(wharf_session* sess, const char* data, size_t len, const char* content_type,
                 Check well_formed) {
    if (!data && len > 0) return EINVAL;
    return guarded([&] {
        const std::string_view text(data ? data : "", len);
        if (!well_formed(text)) return EBADMSG;
        cpp(sess).response().body(std::string(text), content_type);
        return 0;
    });
}

/// The streamed IO objects, by the address of their wharf_io, so that wharf_io_ready can find
/// theirs from any thread.
class io_registry {
  public:
    void add(wharf_io* io, std::weak_ptr<wharf::body_source> src) {
        std::lock_guard lock(mutex_);
        sources_[io] = std::move(src);
    }
    void remove(wharf_io* io, const wharf::body_source* src) {
        std::lock_guard lock(mutex_);
        auto it = sources_.find(io);
        if (it == sources_.end()) return;
        const auto current = it->second.lock();
        if (!current || current.get() == src) sources_.erase(it);
    }
    std::shared_ptr<wharf::body_source> find(wharf_io* io) {
        std::lock_guard lock(mutex_);
        auto it = sources_.find(io);
        return it == sources_.end() ? nullptr : it->second.lock();
    }

  private:
    std::mutex mutex_;
    std::map<wharf_io*, std::weak_ptr<wharf::body_source>> sources_;
};

io_registry& registry() {
    static io_registry r;
    return r;
}

/// A wharf_io streamed as a response body.
class io_source final : public wharf::body_source {
  public:
    explicit io_source(wharf_io* io) : io_(io) {}
    ~io_source() override { release(ECANCELED); }

    wharf::source_read read(char* buf, std::size_t len) override {
        const ssize_t n = io_->read(io_->arg, buf, len);
        if (n > 0) return wharf::source_read::got(static_cast<std::size_t>(n));
        if (n == 0) return wharf::source_read::finished();
        if (n == -EAGAIN || n == -EWOULDBLOCK) return wharf::source_read::blocked();
        return wharf::source_read::failure(
            std::error_code(static_cast<int>(-n), std::system_category()));
    }
    std::optional<std::uint64_t> size() const override {
        if (io_->size < 0) return std::nullopt;
        return static_cast<std::uint64_t>(io_->size);
    }
    void on_release(std::error_code result) override { release(wharf::capi::errno_of(result)); }

  private:
    void release(int result) {
        if (released_) return;
        released_ = true;
        registry().remove(io_, this);
        if (io_->release) io_->release(io_->arg, result);
    }
    wharf_io* io_;
    bool released_ = false;
};

} // namespace

extern "C" {

int wharf_response_status_ok(wharf_session* sess, const char* content_type) {
    return guarded([&] {
        cpp(sess).response().ok({});
        return with_type(sess, content_type);
    });
}

int wharf_response_status_denied(wharf_session* sess, const char* content_type) {
    return standard(sess, 403, content_type);
}

int wharf_response_status_not_found(wharf_session* sess, const char* content_type) {
    return standard(sess, 404, content_type);
}

int wharf_response_status_error(wharf_session* sess, const char* content_type) {
    return standard(sess, 500, content_type);
}

int wharf_response_status_set(wharf_session* sess, int code, const char* reason,
                              const char* content_type) {
    if (code < 100 || code > 999) return EINVAL;
    return guarded([&] {
        if (reason)
            cpp(sess).response().status(code, reason);
        else
            cpp(sess).response().status(code);
        return with_type(sess, content_type);
    });
}

int wharf_response_status_set_std(wharf_session* sess, int code, const char* content_type) {
    if (code < 100 || code > 999) return EINVAL;
    return standard(sess, code, content_type);
}

int wharf_response_header_set(wharf_session* sess, const char* name, const char* value) {
    if (!name || !value) return EINVAL;
    return guarded([&] {
        cpp(sess).response().set_header(name, value);
        return 0;
    });
}

int wharf_response_header_add(wharf_session* sess, const char* name, const char* value) {
    if (!name || !value) return EINVAL;
    return guarded([&] {
        cpp(sess).response().add_header(name, value);
        return 0;
    });
}

int wharf_response_header_remove(wharf_session* sess, const char* name) {
    if (!name) return EINVAL;
    const bool had = cpp(sess).response().headers().contains(name);
    cpp(sess).response().remove_header(name);
    return had ? 0 : ENOENT;
}

int wharf_response_append(wharf_session* sess, const void* data, size_t len) {
    if (!data && len > 0) return EINVAL;
    return guarded([&] {
        cpp(sess).response().append({static_cast<const char*>(data), len});
        return 0;
    });
}

int wharf_response_printf(wharf_session* sess, const char* format, ...) {
    va_list args;
    va_start(args, format);
    const int r = wharf_response_vprintf(sess, format, args);
    va_end(args);
    return r;
}

int wharf_response_vprintf(wharf_session* sess, const char* format, va_list args) {
    if (!format) return EINVAL;
    return guarded([&] {
        cpp(sess).response().vprintf(format, args);
        return 0;
    });
}

int wharf_response_string(wharf_session* sess, const char* text, size_t len,
                          const char* content_type) {
    if (!text && len > 0) return EINVAL;
    return guarded([&] {
        cpp(sess).response().body(std::string(text ? text : "", len),
                                  content_type ? content_type : "text/plain; charset=utf-8");
        return 0;
    });
}

int wharf_response_json(wharf_session* sess, const char* json, size_t len) {
    return checked_body(sess, json, len, "application/json",
                        [](std::string_view t) { return bool(wharf::parse_json(t)); });
}

int wharf_response_xml(wharf_session* sess, const char* xml, size_t len) {
    return checked_body(sess, xml, len, "application/xml; charset=utf-8",
                        [](std::string_view t) { return bool(wharf::parse_xml(t)); });
}

int wharf_response_io(wharf_session* sess, wharf_io* io, int immediate) {
    if (!io || !io->read) return EINVAL;
    return guarded([&] {
        wharf::response& res = cpp(sess).response();
        if (immediate) {
            char buf[16384];
            for (;;) {
                const ssize_t n = io->read(io->arg, buf, sizeof buf);
                if (n > 0) {
                    res.append({buf, static_cast<std::size_t>(n)});
                    continue;
                }
                if (n == 0) break;
                if (n == -EAGAIN || n == -EWOULDBLOCK) return EAGAIN; // call again to go on
                return static_cast<int>(-n);
            }
            if (io->release) io->release(io->arg, 0);
            return 0;
        }
        auto src = std::make_shared<io_source>(io);
        registry().add(io, src);
        res.append_source(std::move(src));
        return 0;
    });
}

void wharf_io_ready(wharf_io* io) {
    if (!io) return;
    try {
        if (auto src = registry().find(io)) src->notify_readable();
    } catch (...) {
        // nothing to tell: the source is gone
    }
}

} // extern "C"
