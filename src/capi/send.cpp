// SPDX-License-Identifier: MIT
// The C API's sends: the whole response (NNG's write_res), the HTTP Server API's entity-body
// sends with their flags and chunks, flush, and suspended sessions with their handles.
#include <sys/stat.h>

#include <memory>
#include <string>

#include "capi/c_session.hpp"

struct wharf_handle {
    wharf::session_handle handle;
};

namespace {

using wharf::capi::cpp;
using wharf::capi::guarded;
using wharf::capi::state_of;

/// The library's completion for a C one: clears the session's pending mark (unless the request
/// has ended since), then tells `done`.
wharf::send_callback completion(wharf::session& s, wharf_done_fn done, void* arg) {
    return [&s, token = s.token(), done, arg](wharf::send_result r) {
        if (!token.expired())
            if (auto* st = s.context<wharf::capi::c_state>()) st->send_pending = false;
        if (done) done(arg, wharf::capi::errno_of(r.error), static_cast<size_t>(r.bytes));
    };
}

/// Sends with `flags`, refusing (EBUSY, nothing changed) while a send is pending.
int send_tracked(wharf::session& s, wharf::send_flags flags, wharf_done_fn done, void* arg) {
    wharf::capi::c_state& st = state_of(s);
    if (st.send_pending) return EBUSY;
    st.send_pending = true;
    s.send(flags, completion(s, done, arg));
    return 0;
}

wharf::send_flags flags_of(unsigned flags) {
    wharf::send_flags f = wharf::send_flags::none;
    if (flags & WHARF_SEND_MORE_DATA) f = f | wharf::send_flags::more;
    if (flags & WHARF_SEND_DISCONNECT) f = f | wharf::send_flags::disconnect;
    if (flags & WHARF_SEND_BUFFER_DATA) f = f | wharf::send_flags::buffer;
    if (flags & WHARF_SEND_ENABLE_NAGLING) f = f | wharf::send_flags::hold;
    return f;
}

constexpr unsigned known_flags = WHARF_SEND_MORE_DATA | WHARF_SEND_DISCONNECT |
                                 WHARF_SEND_BUFFER_DATA | WHARF_SEND_ENABLE_NAGLING |
                                 WHARF_SEND_PROCESS_RANGES | WHARF_SEND_OPAQUE;

/// A chunk list made ready to append: file lengths resolved ("to the end"), everything checked.
int check_chunks(unsigned flags, const wharf_chunk* chunks, size_t count,
                 std::vector<wharf::file_range>& files) {
    if ((flags & ~known_flags) != 0) return EINVAL;
    if (count > WHARF_MAX_CHUNKS) return E2BIG;
    if (count > 0 && !chunks) return EINVAL;
    for (size_t i = 0; i < count; ++i) {
        const wharf_chunk& c = chunks[i];
        if (c.kind == WHARF_CHUNK_MEMORY) {
            if (!c.data && c.len > 0) return EINVAL;
            continue;
        }
        if (c.kind != WHARF_CHUNK_FILE) return EINVAL;
        struct stat st {};
        if (c.fd < 0 || ::fstat(c.fd, &st) != 0) return EBADF;
        const auto size = static_cast<std::uint64_t>(st.st_size);
        if (!S_ISREG(st.st_mode) || c.offset > size) return EINVAL;
        const std::uint64_t length = c.length == UINT64_MAX ? size - c.offset : c.length;
        if (length > size - c.offset) return EINVAL;
        files.push_back({c.fd, c.offset, length, false});
    }
    return 0;
}

/// Appends checked chunks (memory borrowed, files by descriptor) and the log fields.
void append_chunks(wharf::session& s, unsigned flags, const wharf_chunk* chunks, size_t count,
                   const std::vector<wharf::file_range>& files, const wharf_log_data* log) {
    wharf::response& res = s.response();
    std::size_t file = 0;
    for (size_t i = 0; i < count; ++i) {
        const wharf_chunk& c = chunks[i];
        if (c.kind == WHARF_CHUNK_MEMORY) {
            if (c.len > 0) res.append_borrowed({static_cast<const char*>(c.data), c.len}, [] {});
        } else {
            res.append_file(files[file++]);
        }
    }
    if ((flags & WHARF_SEND_PROCESS_RANGES) && !s.response_started()) res.process_ranges();
    if (log) {
        wharf::response::log_fields f;
        if (log->target) f.target = log->target;
        if (log->user) f.user = log->user;
        f.status = log->status;
        res.log_as(std::move(f));
    }
}

} // namespace

extern "C" {

int wharf_conn_write_res(wharf_session* sess, wharf_done_fn done, void* arg) {
    return guarded([&] { return send_tracked(cpp(sess), wharf::send_flags::none, done, arg); });
}

int wharf_response_flush(wharf_session* sess) {
    return guarded(
        [&] { return send_tracked(cpp(sess), wharf::send_flags::more, nullptr, nullptr); });
}

int wharf_send_entity_body(wharf_session* sess, unsigned flags, const wharf_chunk* chunks,
                           size_t count, wharf_done_fn done, void* arg, const wharf_log_data* log) {
    return guarded([&] {
        std::vector<wharf::file_range> files;
        if (const int err = check_chunks(flags, chunks, count, files)) return err;
        // The caller is on the loop (a session function): it cannot wait for the loop.
        if (!done) return EDEADLK;
        wharf::session& s = cpp(sess);
        if (state_of(s).send_pending) return EBUSY;
        append_chunks(s, flags, chunks, count, files, log);
        return send_tracked(s, flags_of(flags), done, arg);
    });
}

wharf_handle* wharf_session_suspend(wharf_session* sess, unsigned deadline_ms) {
    try {
        auto h = std::make_unique<wharf_handle>();
        h->handle =
            cpp(sess).suspend(std::chrono::milliseconds(deadline_ms == 0 ? 30'000 : deadline_ms));
        return h.release();
    } catch (...) {
        return nullptr;
    }
}

int wharf_session_resume(wharf_handle* handle, wharf_handler_fn finish, void* arg) {
    if (!handle) return EINVAL;
    const std::unique_ptr<wharf_handle> owned(handle);
    return guarded([&] {
        return wharf::capi::errno_of(owned->handle.resume([finish, arg](wharf::session& s) {
            state_of(s).resume_arg = arg;
            if (finish) finish(wharf::capi::c_handle(s));
        }));
    });
}

void* wharf_resume_arg(wharf_session* sess) {
    const auto* st = cpp(sess).context<wharf::capi::c_state>();
    return st ? st->resume_arg : nullptr;
}

int wharf_handle_send_entity_body(wharf_handle* handle, unsigned flags, const wharf_chunk* chunks,
                                  size_t count, size_t* sent, const wharf_log_data* log) {
    if (!handle) return EINVAL;
    return guarded([&] {
        std::vector<wharf::file_range> files;
        if (const int err = check_chunks(flags, chunks, count, files)) return err;
        const wharf::send_result r = handle->handle.send_blocking(
            [&](wharf::session& s) { append_chunks(s, flags, chunks, count, files, log); },
            flags_of(flags));
        if (sent) *sent = static_cast<size_t>(r.bytes);
        // The loop's own thread would wait for itself.
        if (r.error == make_error_code(wharf::errc::invalid_argument)) return EDEADLK;
        return wharf::capi::errno_of(r.error);
    });
}

void wharf_handle_free(wharf_handle* handle) {
    delete handle;
}

} // extern "C"
