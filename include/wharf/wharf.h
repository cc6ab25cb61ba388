/* SPDX-License-Identifier: MIT */
/*
 * wharf's C API: the seeds' function sets (Momentum's ec_httpsrv_*, NNG's nng_http_conn_write*,
 * the HTTP Server API's HttpSendResponseEntityBody) over the same server as the C++ API.
 *
 * Conventions:
 * - Results are 0 or a positive errno value (wharf_strerror names it). No C++ exception
 *   crosses this boundary: a failure inside becomes a code, or a 500 for the request.
 * - Strings wharf returns are wharf_str (not NUL-terminated; ptr == NULL means absent), valid
 *   until the handler returns or the session is suspended, unless a function says otherwise.
 *   Strings passed in are NUL-terminated, or come with a length where bodies are passed.
 * - Threads: a session's functions must be called on its loop (the handler's thread, or from
 *   wharf_session_post/after and completion callbacks). Only wharf_session_resume, the
 *   wharf_handle_* functions, wharf_event_post/release, wharf_io_ready and wharf_server_stop may
 *   be called from any thread.
 * - Completion callbacks (wharf_done_fn) are called exactly once, on the session's loop.
 */
#ifndef WHARF_WHARF_H
#define WHARF_WHARF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WHARF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WHARF_PRINTF(fmt, args)
#endif

typedef struct wharf_config wharf_config;
typedef struct wharf_server wharf_server;
typedef struct wharf_session wharf_session;
typedef struct wharf_handle wharf_handle; /* a suspended session, usable from any thread */
typedef struct wharf_stream wharf_stream; /* an upgraded connection */
typedef struct wharf_accept wharf_accept; /* a parsed Accept field */
typedef struct wharf_event wharf_event;   /* a request's place on its loop, for other threads */

typedef struct {
    const char* ptr;
    size_t len;
} wharf_str;

typedef void (*wharf_handler_fn)(wharf_session* sess);
typedef void (*wharf_done_fn)(void* arg, int result, size_t count);
/* Work run on a session's loop (wharf_session_post, wharf_session_after, wharf_event_post). */
typedef void (*wharf_task_fn)(wharf_session* sess, void* arg);

/* The message for a result of this API (or any errno value); never NULL. Thread-safe. */
const char* wharf_strerror(int error);

/* ---- Configuration and server -------------------------------------------------------- */

/* A configuration with the defaults: listen on 127.0.0.1:8080, one worker per core. NULL when
 * out of memory. */
wharf_config* wharf_config_new(void);
void wharf_config_free(wharf_config* cfg);
/* Adds a plaintext listener ("127.0.0.1:0", "[::1]:8080", "*:80", "unix:/run/x.sock"); the
 * first call replaces the default. EINVAL for a malformed address. */
int wharf_config_listen(wharf_config* cfg, const char* address);
/* Worker threads (each with its own loop); 0: one per core. */
int wharf_config_workers(wharf_config* cfg, unsigned workers);
/* Adds a TLS listener address (HTTPS, HTTP/2 by ALPN). */
int wharf_config_tls_listen(wharf_config* cfg, const char* address);
/* Adds a certificate chain and key (PEM files) for the TLS listeners; repeatable (SNI picks by
 * name, the first is the default). Checked by wharf_server_start. */
int wharf_config_tls(wharf_config* cfg, const char* cert_file, const char* key_file);
/* Asks TLS clients for a certificate chaining to the CAs in `ca_file` (PEM): with `required`
 * non-zero a handshake without a valid one fails, else it succeeds and
 * wharf_request_subject_cn_get tells whether one verified. */
int wharf_config_tls_client_ca(wharf_config* cfg, const char* ca_file, int required);
/* The access log: NULL or "" off, "-" standard output, else a file appended to. */
int wharf_config_access_log(wharf_config* cfg, const char* path);

typedef enum {
    WHARF_LIMIT_MAX_REQUEST_LINE,        /* bytes; longer: 414 */
    WHARF_LIMIT_MAX_HEADER_BYTES,        /* bytes of a request head; more: 431 */
    WHARF_LIMIT_MAX_HEADERS,             /* fields; more: 431 */
    WHARF_LIMIT_MAX_BODY_SIZE,           /* bytes of a buffered body; more: 413 */
    WHARF_LIMIT_MAX_BUFFERED_BODY_BYTES, /* buffered bodies held at once, server-wide */
    WHARF_LIMIT_MAX_CONNECTIONS,         /* connections, server-wide */
    WHARF_LIMIT_MIN_BODY_RATE,           /* bytes/s a request body must arrive at */
    WHARF_LIMIT_MIN_SEND_RATE            /* bytes/s a blocked response must drain at */
} wharf_limit;
/* Sets a limit (docs/architecture.md, "The budget"). EINVAL for an unknown limit or 0. */
int wharf_config_limit(wharf_config* cfg, wharf_limit limit, uint64_t value);

typedef enum {
    WHARF_TIMEOUT_REQUEST_HEAD, /* a request head, from its first byte */
    WHARF_TIMEOUT_BODY_READ,    /* the gap between two reads of a body */
    WHARF_TIMEOUT_KEEP_ALIVE,   /* an idle connection between requests */
    WHARF_TIMEOUT_SEND_GRACE,   /* how long a send may stay below the minimum rate */
    WHARF_TIMEOUT_SHUTDOWN      /* the graceful-shutdown deadline */
} wharf_timeout;
/* Sets a deadline in milliseconds (0 turns it off). EINVAL for an unknown one. */
int wharf_config_timeout(wharf_config* cfg, wharf_timeout timeout, unsigned milliseconds);

/* A server with a copy of `cfg` (which may be freed after). NULL on failure, with the reason
 * in *error when error is not NULL. */
wharf_server* wharf_server_new(const wharf_config* cfg, int* error);
/* Registers a handler for `method` (one the router names: GET, HEAD, POST, PUT, DELETE,
 * CONNECT, OPTIONS, TRACE, PATCH; NULL: every method, other tokens included) on `pattern`
 * ("/users/{id}", "/files/ *" without the space); `service_ctx` is wharf_service_ctx_get's.
 * Before wharf_server_start only (EBUSY after). EINVAL: a malformed pattern, another method
 * token, or the method and pattern registered twice. A GET route answers HEAD too. */
int wharf_register(wharf_server* srv, const char* method, const char* pattern,
                   wharf_handler_fn handler, void* service_ctx);
/* wharf_register for a handler that reads its body itself with wharf_request_data_get as it
 * arrives (no buffering, no body-size limit). */
int wharf_register_streamed(wharf_server* srv, const char* method, const char* pattern,
                            wharf_handler_fn handler, void* service_ctx);
/* Binds the listeners and starts the workers. EADDRINUSE, EACCES, EINVAL (bad address or TLS
 * files), EMFILE. */
int wharf_server_start(wharf_server* srv);
/* The bound TCP port of listener `index` (plaintext ones first, then TLS), or -1 when there is
 * no such listener or it is a unix socket. */
int wharf_server_port(const wharf_server* srv, size_t index);
/* Graceful stop: stop accepting, finish the requests in flight up to `deadline_ms`, then close
 * what is left. Any thread; returns at once. */
void wharf_server_stop(wharf_server* srv, unsigned deadline_ms);
/* Blocks until the server has stopped. */
void wharf_server_wait(wharf_server* srv);
/* Stops (with the shutdown deadline), joins the workers and frees the server. */
void wharf_server_free(wharf_server* srv);

/* ---- The session: contexts, loop --------------------------------------------------- */

/* The service_ctx given to wharf_register for this handler. */
void* wharf_service_ctx_get(wharf_session* sess);
/* The per-request context (NULL until set). */
void* wharf_ctx_get(wharf_session* sess);
/* Sets the per-request context; `destroy` (may be NULL) is called with it when the request
 * ends or another context replaces it. */
int wharf_ctx_set(wharf_session* sess, void* ctx, void (*destroy)(void* ctx));
/* Runs `task` on the session's loop soon; dropped when the request ends first. */
int wharf_session_post(wharf_session* sess, wharf_task_fn task, void* arg);
/* Runs `task` on the session's loop after `delay_ms`, again every `delay_ms` when `repeat`;
 * cancelled when the request ends. */
int wharf_session_after(wharf_session* sess, unsigned delay_ms, wharf_task_fn task, void* arg,
                        int repeat);
/* The request's event: a reference that other threads use to post work to the session's loop
 * (wharf_event_post). Release it with wharf_event_release (any thread). NULL: ENOMEM. */
wharf_event* wharf_request_event_get(wharf_session* sess);
/* Runs `task` on the request's loop with its session. Any thread. ENOTCONN when the request
 * has ended (the task is then dropped, also when it ends before the task runs). */
int wharf_event_post(wharf_event* ev, wharf_task_fn task, void* arg);
void wharf_event_release(wharf_event* ev);

/* ---- The request ------------------------------------------------------------------- */

wharf_str wharf_request_method_get(wharf_session* sess);
/* The request target as sent: "/path?query". */
wharf_str wharf_request_url_get(wharf_session* sess);
/* The first field named `name` (case-insensitive). */
wharf_str wharf_request_header_get(wharf_session* sess, const char* name);
/* The Content-Type's media type and charset (each ptr NULL when absent); ENOENT when the
 * request has no Content-Type. type or charset may be NULL. */
int wharf_request_content_type_get(wharf_session* sess, wharf_str* type, wharf_str* charset);
/* The authenticated user (an authentication filter set it), or ptr NULL. */
wharf_str wharf_request_username_get(wharf_session* sess);
/* The verified TLS client certificate's subject CN, or ptr NULL. */
wharf_str wharf_request_subject_cn_get(wharf_session* sess);

/* The body, buffered (wharf_register routes). Empty (len 0, ptr not NULL) when none. EINVAL on
 * a streamed route. */
int wharf_request_data_get_string(wharf_session* sess, wharf_str* body);
/* The body validated as JSON (application/json or +json), as its text. ENODATA no body,
 * EMEDIUMTYPE another media type (415), EMSGSIZE too large (413), EBADMSG malformed (400). */
int wharf_request_data_get_json(wharf_session* sess, wharf_str* json);
/* The body validated as XML (application/xml, text/xml, +xml; entities never expanded), as its
 * text. Errors as for JSON. */
int wharf_request_data_get_xml(wharf_session* sess, wharf_str* xml);
/* Answers one of the errors above for the handler: 400, 413 or 415 with a short body. */
int wharf_response_body_error(wharf_session* sess, int error);

/* Called with each piece of the body as it arrives: result 0 and a piece (valid during the
 * call; `last` set on the final one, which may be empty), or an error (ECONNRESET, ETIMEDOUT,
 * ENOTCONN) and no piece. Return WHARF_DATA_CONTINUE to be called with the next piece, or
 * WHARF_DATA_PAUSE to stop reading (back-pressure) until wharf_request_data_get is called
 * again. */
enum { WHARF_DATA_CONTINUE = 0, WHARF_DATA_PAUSE = 1 };
typedef int (*wharf_data_fn)(wharf_session* sess, void* arg, int result, const void* data,
                             size_t len, int last);
/* Reads the request body as a stream of pieces (wharf_register_streamed routes; a buffered
 * body comes as one piece). The response is sent when the handler's code sends it (any
 * wharf_conn_write_res, wharf_send_entity_body), not when the handler returns. EBUSY while a
 * read is pending. */
int wharf_request_data_get(wharf_session* sess, wharf_data_fn on_data, void* arg);

/* The value at RFC 6901 `pointer` ("/a/0/b"; "" the whole document) of the JSON text `json`:
 * a string's contents unescaped, or the JSON text of any other value. The result stays valid
 * until the next wharf_json_get or wharf_xml_get on this thread. EBADMSG malformed JSON,
 * EINVAL a malformed pointer, ENOENT no such value. Any thread. */
int wharf_json_get(wharf_str json, const char* pointer, wharf_str* value);
/* The first node `xpath` selects in the XML text `xml`: an attribute's value, or an element's
 * text content. Valid as for wharf_json_get. EBADMSG, EINVAL (xpath), ENOENT. Any thread. */
int wharf_xml_get(wharf_str xml, const char* xpath, wharf_str* value);

/* The request's Accept field, parsed (RFC 9110 §12.5.1); a missing field accepts anything. */
const wharf_accept* wharf_request_accept_construct_get(wharf_session* sess);
/* Its elements, in the order sent. */
size_t wharf_accept_count(const wharf_accept* accept);
/* Element `index`: the media range ("text/html", "text/ *") and its weight in thousandths
 * (q=0.5 is 500). EINVAL when out of range. */
int wharf_accept_item(const wharf_accept* accept, size_t index, wharf_str* range,
                      unsigned* quality);
/* The index of the best of `offered` media types (the earliest among equals), or -1 when none
 * is acceptable (answer 406). Adds "Accept" to the response's Vary. */
int wharf_accept_negotiate(const wharf_accept* accept, const char* const* offered, size_t count);

/* ---- The response ------------------------------------------------------------------ */

/* Sets status 200 and the content type (NULL: keep the current one, text/plain by default). */
int wharf_response_status_ok(wharf_session* sess, const char* content_type);
int wharf_response_status_denied(wharf_session* sess, const char* content_type);    /* 403 */
int wharf_response_status_not_found(wharf_session* sess, const char* content_type); /* 404 */
int wharf_response_status_error(wharf_session* sess, const char* content_type);     /* 500 */
/* Any status 100-999 with `reason` (NULL: the standard one). EINVAL out of range. */
int wharf_response_status_set(wharf_session* sess, int code, const char* reason,
                              const char* content_type);
/* Any status with its standard reason and, when the handler appends nothing, a short body
 * naming it. */
int wharf_response_status_set_std(wharf_session* sess, int code, const char* content_type);

/* Replaces every field named `name` with one (EINVAL: a name or value HTTP forbids). */
int wharf_response_header_set(wharf_session* sess, const char* name, const char* value);
int wharf_response_header_add(wharf_session* sess, const char* name, const char* value);
/* Removes every field named `name`; ENOENT when there was none. */
int wharf_response_header_remove(wharf_session* sess, const char* name);

/* Appends bytes (copied) to the body. */
int wharf_response_append(wharf_session* sess, const void* data, size_t len);
int wharf_response_printf(wharf_session* sess, const char* format, ...) WHARF_PRINTF(2, 3);
int wharf_response_vprintf(wharf_session* sess, const char* format, va_list args)
    WHARF_PRINTF(2, 0);
/* Sets the body (copied) and its content type (NULL: text/plain; charset=utf-8). */
int wharf_response_string(wharf_session* sess, const char* text, size_t len,
                          const char* content_type);
/* Sets the body to JSON text (checked: EBADMSG when malformed) as application/json. */
int wharf_response_json(wharf_session* sess, const char* json, size_t len);
/* Sets the body to XML text (checked: EBADMSG) as application/xml; charset=utf-8. */
int wharf_response_xml(wharf_session* sess, const char* xml, size_t len);
/* Sends the head and everything appended so far, keeping the response open; the handler (or
 * later code) ends it with a last send. EBUSY while a send is pending. */
int wharf_response_flush(wharf_session* sess);

/* An IO object: read() fills buf with up to len bytes and returns how many, 0 at the end,
 * -EAGAIN when nothing is ready (call wharf_io_ready later), or -errno on failure. release()
 * (may be NULL) is called exactly once when wharf is done with it: result 0 after the end,
 * else why it stopped. size is the total when known, else -1. The struct must stay valid
 * until release (streamed) or until wharf_response_io returns (immediate). */
typedef struct wharf_io {
    ssize_t (*read)(void* arg, void* buf, size_t len);
    void (*release)(void* arg, int result);
    void* arg;
    int64_t size;
} wharf_io;
/* immediate non-zero: reads `io` to its end now and appends it (EAGAIN when a read did: what
 * was read is appended, and the caller calls again later to go on). Zero: the body streams
 * from `io` as the client takes it. */
int wharf_response_io(wharf_session* sess, wharf_io* io, int immediate);
/* A streamed io whose read returned -EAGAIN has bytes again. Any thread; harmless when
 * nothing waits. */
void wharf_io_ready(wharf_io* io);

/* ---- Sending (NNG, the HTTP Server API) -------------------------------------------- */

/* Sends the whole response built so far; `done` (may be NULL) gets 0 and the body bytes, or
 * ECANCELED, ENOTCONN, ECONNRESET, ETIMEDOUT, ENOMEM. EBUSY while a send is pending. */
int wharf_conn_write_res(wharf_session* sess, wharf_done_fn done, void* arg);

enum {
    WHARF_SEND_MORE_DATA = 1,       /* more body follows in later sends */
    WHARF_SEND_DISCONNECT = 2,      /* close the connection after this response */
    WHARF_SEND_BUFFER_DATA = 4,     /* keep the bytes until a send without the flag */
    WHARF_SEND_ENABLE_NAGLING = 8,  /* the last partial packet may wait for the next send */
    WHARF_SEND_PROCESS_RANGES = 16, /* the chunks are the full content: answer Range and
                                       conditionals for it (first send only) */
    WHARF_SEND_OPAQUE = 32          /* (upgrades) accepted; see docs/c-api.md */
};
enum { WHARF_CHUNK_MEMORY = 0, WHARF_CHUNK_FILE = 1 };
enum { WHARF_MAX_CHUNKS = 9999 };
typedef struct {
    int kind;                /* WHARF_CHUNK_MEMORY or WHARF_CHUNK_FILE */
    const void* data;        /* memory: the bytes, borrowed until done */
    size_t len;              /* memory: their length */
    int fd;                  /* file: an open descriptor, borrowed until done */
    uint64_t offset, length; /* file: the range; length UINT64_MAX = to the end */
} wharf_chunk;
/* The access-log fields of the response (the seed's HTTP_LOG_DATA); NULL or 0: the request's. */
typedef struct {
    const char* target; /* the request target written */
    const char* user;   /* the user written */
    int status;         /* the status written */
} wharf_log_data;
/* Sends the head (first call) and `chunks` (at most WHARF_MAX_CHUNKS: E2BIG). `done` gets 0
 * and the body bytes of this send, or why they were not delivered. done == NULL means
 * synchronous, which the loop cannot wait for: EDEADLK (use wharf_handle_send_entity_body
 * from another thread). EBUSY when a send is pending: nothing changes. EBADF, EINVAL for a bad
 * chunk. */
int wharf_send_entity_body(wharf_session* sess, unsigned flags, const wharf_chunk* chunks,
                           size_t count, wharf_done_fn done, void* arg, const wharf_log_data* log);

/* ---- Suspending ---------------------------------------------------------------------- */

/* Suspends the session: the handler may return, and the handle resumes it from any thread.
 * After `deadline_ms` (0: 30 s) the library answers 503 for it. NULL: ENOMEM. */
wharf_handle* wharf_session_suspend(wharf_session* sess, unsigned deadline_ms);
/* Resumes the session on its loop: `finish` (may be NULL) runs there with it and may answer,
 * stream or suspend again; what the response holds when it returns is sent. `arg` is
 * wharf_resume_arg's. Consumes the handle. Any thread. ENOTCONN (the client left), ETIMEDOUT
 * (the deadline answered first), EBUSY (resumed twice). */
int wharf_session_resume(wharf_handle* handle, wharf_handler_fn finish, void* arg);
/* The arg given to wharf_session_resume for the finish running now. */
void* wharf_resume_arg(wharf_session* sess);
/* The synchronous send, from a thread that is not the session's loop: sends `chunks` and
 * blocks until they are written (or fail); *count (may be NULL) gets the body bytes. EDEADLK on
 * the loop's own thread. The handle stays valid: resume or free it after. Any thread. */
int wharf_handle_send_entity_body(wharf_handle* handle, unsigned flags, const wharf_chunk* chunks,
                                  size_t count, size_t* sent, const wharf_log_data* log);
/* Frees a handle that will not be resumed. Any thread. */
void wharf_handle_free(wharf_handle* handle);

/* ---- Upgraded connections (NNG) ----------------------------------------------------- */

/* Gets the stream once the response (a 101 the handler set, or a 2xx to CONNECT) is written:
 * result 0 and the stream, or an error and NULL. */
typedef void (*wharf_upgrade_fn)(void* arg, int result, wharf_stream* stream);
/* Takes the connection after the response built so far: EINVAL for another status, a started
 * response or an HTTP/2 stream. */
int wharf_session_upgrade(wharf_session* sess, wharf_upgrade_fn on_upgraded, void* arg);
/* Writes from `iov` (the buffers stay valid until done) and completes after at least one
 * byte, with the count. EBUSY while a write is pending. */
int wharf_conn_write(wharf_stream* stream, const struct iovec* iov, size_t count,
                     wharf_done_fn done, void* arg);
/* Writes every byte of `iov`, then completes with the total. */
int wharf_conn_write_all(wharf_stream* stream, const struct iovec* iov, size_t count,
                         wharf_done_fn done, void* arg);
/* Reads into buf (valid until done): at least one byte, or ENOTCONN and 0 at the end. */
int wharf_conn_read(wharf_stream* stream, void* buf, size_t len, wharf_done_fn done, void* arg);
/* Closes gracefully (a FIN after the pending write) and frees the stream: pending reads
 * complete with ECANCELED. */
void wharf_conn_close(wharf_stream* stream);

#ifdef __cplusplus
}
#endif

#endif /* WHARF_WHARF_H */
