// SPDX-License-Identifier: MIT
// The C API's upgraded connections: NNG's nng_http_conn_write family on an upgraded_stream.
#include <memory>
#include <string_view>
#include <vector>

#include "capi/c_session.hpp"

struct wharf_stream {
    wharf::upgraded_stream stream;
};

namespace {

using wharf::capi::guarded;

wharf::io_callback completion(wharf_done_fn done, void* arg) {
    return [done, arg](std::error_code ec, std::size_t n) {
        if (done) done(arg, wharf::capi::errno_of(ec), n);
    };
}

int write(wharf_stream* stream, const struct iovec* iov, size_t count, wharf_done_fn done,
          void* arg, bool all) {
    if (!stream || (!iov && count > 0)) return EINVAL;
    return guarded([&] {
        // The views must outlive the write: its completion holds them.
        auto views = std::make_shared<std::vector<std::string_view>>();
        views->reserve(count);
        for (size_t i = 0; i < count; ++i)
            views->emplace_back(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
        wharf::io_callback finished = [views, done, arg](std::error_code ec, std::size_t n) {
            if (done) done(arg, wharf::capi::errno_of(ec), n);
        };
        if (all)
            stream->stream.write_all(*views, std::move(finished));
        else
            stream->stream.write_some(*views, std::move(finished));
        return 0;
    });
}

} // namespace

extern "C" {

int wharf_session_upgrade(wharf_session* sess, wharf_upgrade_fn on_upgraded, void* arg) {
    if (!on_upgraded) return EINVAL;
    return guarded([&] {
        wharf::capi::cpp(sess).upgrade(
            [on_upgraded, arg](std::error_code ec, wharf::upgraded_stream stream) {
                if (ec) return on_upgraded(arg, wharf::capi::errno_of(ec), nullptr);
                auto* s = new (std::nothrow) wharf_stream{std::move(stream)};
                if (!s) return on_upgraded(arg, ENOMEM, nullptr);
                on_upgraded(arg, 0, s);
            });
        return 0;
    });
}

int wharf_conn_write(wharf_stream* stream, const struct iovec* iov, size_t count,
                     wharf_done_fn done, void* arg) {
    return write(stream, iov, count, done, arg, false);
}

int wharf_conn_write_all(wharf_stream* stream, const struct iovec* iov, size_t count,
                         wharf_done_fn done, void* arg) {
    return write(stream, iov, count, done, arg, true);
}

int wharf_conn_read(wharf_stream* stream, void* buf, size_t len, wharf_done_fn done, void* arg) {
    if (!stream || (!buf && len > 0)) return EINVAL;
    return guarded([&] {
        stream->stream.read_some({static_cast<char*>(buf), len}, completion(done, arg));
        return 0;
    });
}

void wharf_conn_close(wharf_stream* stream) {
    if (!stream) return;
    try {
        stream->stream.close();
    } catch (...) {
        // closing cannot fail in a way the caller could act on
    }
    delete stream;
}

} // extern "C"
