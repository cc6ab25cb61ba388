/* SPDX-License-Identifier: MIT */
/*
 * A server written against wharf's C API only (compiled as C11), with a route for each part
 * of the API; tests/integration/test_capi.py drives it with real clients.
 *
 * Usage: capi_server FILE [CERT KEY [CLIENT_CA]]
 *   FILE is served by /file (wharf_send_entity_body with a file chunk and PROCESS_RANGES);
 *   CERT and KEY add a TLS listener, which asks for an optional client certificate from
 *   CLIENT_CA. Prints "ready PORT [TLS_PORT]" once serving; SIGTERM or
 *   SIGINT stops it gracefully.
 */
#define _POSIX_C_SOURCE 200809L

#include <wharf/wharf.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char* served_file;
static int contexts_destroyed; /* touched on the loops only: one worker */

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int check_err_ = (call);                                                                   \
        if (check_err_ != 0) {                                                                     \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,                          \
                    wharf_strerror(check_err_));                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void sleep_ms(long ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

static void start_thread(void* (*fn)(void*), void* arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) abort();
    pthread_detach(t);
}

/* Appends a wharf_str, or "(null)" when absent. */
static void append_str(wharf_session* sess, wharf_str s) {
    if (s.ptr == NULL)
        CHECK(wharf_response_append(sess, "(null)", 6));
    else
        CHECK(wharf_response_append(sess, s.ptr, s.len));
}

/* ---- fields, status, headers -------------------------------------------------------- */

/* GET /hello: printf into the body. */
static void hello(wharf_session* sess) {
    CHECK(wharf_response_status_ok(sess, "text/plain; charset=utf-8"));
    CHECK(wharf_response_printf(sess, "Hello, %s! %d\n", "C", 42));
}

/* Any method on /request/{x}: what the request says about itself, one field per line. */
static void request_fields(wharf_session* sess) {
    wharf_str type, charset;
    const int has_type = wharf_request_content_type_get(sess, &type, &charset);
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_response_append(sess, "method=", 7));
    append_str(sess, wharf_request_method_get(sess));
    CHECK(wharf_response_append(sess, "\nurl=", 5));
    append_str(sess, wharf_request_url_get(sess));
    CHECK(wharf_response_append(sess, "\nx-test=", 8));
    append_str(sess, wharf_request_header_get(sess, "x-test"));
    CHECK(wharf_response_printf(sess, "\ncontent-type=%s ", has_type == 0 ? "yes" : "no"));
    append_str(sess, type);
    CHECK(wharf_response_append(sess, " ", 1));
    append_str(sess, charset);
    CHECK(wharf_response_append(sess, "\nuser=", 6));
    append_str(sess, wharf_request_username_get(sess));
    CHECK(wharf_response_append(sess, "\ncn=", 4));
    append_str(sess, wharf_request_subject_cn_get(sess));
    CHECK(wharf_response_printf(sess, "\nservice=%s\n", (const char*)wharf_service_ctx_get(sess)));
}

/* GET /status/{which}: the status setters. */
static void status(wharf_session* sess) {
    wharf_str url = wharf_request_url_get(sess);
    const char* which = url.ptr + strlen("/status/");
    size_t n = url.len - strlen("/status/");
    if (n == 6 && memcmp(which, "denied", 6) == 0) {
        CHECK(wharf_response_status_denied(sess, NULL));
    } else if (n == 7 && memcmp(which, "missing", 7) == 0) {
        CHECK(wharf_response_status_not_found(sess, "text/html"));
        CHECK(wharf_response_append(sess, "<p>gone</p>", 11));
    } else if (n == 5 && memcmp(which, "error", 5) == 0) {
        CHECK(wharf_response_status_error(sess, NULL));
    } else if (n == 6 && memcmp(which, "custom", 6) == 0) {
        CHECK(wharf_response_status_set(sess, 299, "Custom Reason", "text/plain"));
        CHECK(wharf_response_append(sess, "custom", 6));
    } else if (n == 3 && memcmp(which, "std", 3) == 0) {
        CHECK(wharf_response_status_set_std(sess, 418, NULL));
    } else {
        /* Out-of-range codes are refused and change nothing. */
        if (wharf_response_status_set(sess, 99, NULL, NULL) != EINVAL) abort();
        if (wharf_response_status_set_std(sess, 1000, NULL) != EINVAL) abort();
        CHECK(wharf_response_status_ok(sess, NULL));
        CHECK(wharf_response_append(sess, "unchanged", 9));
    }
}

/* GET /headers: set, add and remove, and what each refuses. */
static void headers(wharf_session* sess) {
    CHECK(wharf_response_header_set(sess, "X-One", "1"));
    CHECK(wharf_response_header_set(sess, "X-One", "one"));
    CHECK(wharf_response_header_add(sess, "X-Many", "a"));
    CHECK(wharf_response_header_add(sess, "X-Many", "b"));
    CHECK(wharf_response_header_add(sess, "X-Gone", "soon"));
    CHECK(wharf_response_header_remove(sess, "x-gone"));
    CHECK(wharf_response_printf(sess, "remove-absent=%d bad-name=%d bad-value=%d\n",
                                wharf_response_header_remove(sess, "X-Never") == ENOENT,
                                wharf_response_header_set(sess, "Bad Name", "x") == EINVAL,
                                wharf_response_header_set(sess, "X-Bad", "a\r\nInjected: yes") ==
                                    EINVAL));
}

/* ---- contexts ------------------------------------------------------------------------ */

static void destroy_ctx(void* ctx) {
    ++contexts_destroyed;
    free(ctx);
}

/* GET /ctx: sets a context (destroyed when the request ends), replaces it, reads it back. */
static void context(wharf_session* sess) {
    char *first = malloc(8), *second = malloc(8);
    if (!first || !second) abort();
    strcpy(first, "first");
    strcpy(second, "second");
    if (wharf_ctx_get(sess) != NULL) abort();
    CHECK(wharf_ctx_set(sess, first, destroy_ctx));
    CHECK(wharf_ctx_set(sess, second, destroy_ctx)); /* destroys `first` */
    CHECK(wharf_response_printf(sess, "ctx=%s destroyed-before=%d\n",
                                (const char*)wharf_ctx_get(sess), contexts_destroyed));
}

/* GET /ctx/count: how many contexts were destroyed so far. */
static void context_count(wharf_session* sess) {
    CHECK(wharf_response_printf(sess, "%d", contexts_destroyed));
}

/* ---- bodies ---------------------------------------------------------------------------- */

/* POST /string: the buffered body back, as application/octet-stream. */
static void string_body(wharf_session* sess) {
    wharf_str body;
    CHECK(wharf_request_data_get_string(sess, &body));
    CHECK(wharf_response_string(sess, body.ptr, body.len, "application/octet-stream"));
}

/* POST /json: {"name": ...} -> {"hello": name, "n": the value at /list/1}; errors answered. */
static void json_body(wharf_session* sess) {
    wharf_str json, name, second;
    char out[512];
    int err = wharf_request_data_get_json(sess, &json);
    if (err) {
        CHECK(wharf_response_body_error(sess, err));
        return;
    }
    if (wharf_json_get(json, "/name", &name) != 0) name.ptr = "nobody", name.len = 6;
    char name_copy[128];
    snprintf(name_copy, sizeof name_copy, "%.*s", (int)name.len, name.ptr);
    if (wharf_json_get(json, "/list/1", &second) != 0) second.ptr = "null", second.len = 4;
    snprintf(out, sizeof out, "{\"hello\":\"%s\",\"second\":%.*s}", name_copy, (int)second.len,
             second.ptr);
    if (wharf_response_json(sess, "{not json", 9) != EBADMSG) abort();
    CHECK(wharf_response_json(sess, out, strlen(out)));
}

/* POST /xml: <order id="..."><item>..</item></order> -> <ok id=".." first=".."/>. */
static void xml_body(wharf_session* sess) {
    wharf_str xml, id, item;
    char out[512], id_copy[128];
    int err = wharf_request_data_get_xml(sess, &xml);
    if (err) {
        CHECK(wharf_response_body_error(sess, err));
        return;
    }
    if (wharf_xml_get(xml, "/order/@id", &id) != 0) id.ptr = "", id.len = 0;
    snprintf(id_copy, sizeof id_copy, "%.*s", (int)id.len, id.ptr);
    if (wharf_xml_get(xml, "/order/item[1]", &item) != 0) item.ptr = "", item.len = 0;
    snprintf(out, sizeof out, "<ok id=\"%s\" first=\"%.*s\"/>", id_copy, (int)item.len, item.ptr);
    if (wharf_response_xml(sess, "<a><b></a>", 10) != EBADMSG) abort();
    CHECK(wharf_response_xml(sess, out, strlen(out)));
}

/* POST /upload (streamed): the body's size and FNV-1a hash, read piece by piece; after each
 * piece the read pauses and resumes from a posted task (back-pressure by the handler). */
typedef struct {
    unsigned long long bytes;
    unsigned long long hash;
    unsigned pieces;
} upload_state;

static int upload_piece(wharf_session* sess, void* arg, int result, const void* data, size_t len,
                        int last);

static void upload_go_on(wharf_session* sess, void* arg) {
    CHECK(wharf_request_data_get(sess, upload_piece, arg));
}

static int upload_piece(wharf_session* sess, void* arg, int result, const void* data, size_t len,
                        int last) {
    upload_state* st = arg;
    const unsigned char* p = data;
    size_t i;
    if (result != 0) return WHARF_DATA_PAUSE; /* the client went away; the context is freed */
    for (i = 0; i < len; ++i)
        st->hash = (st->hash ^ p[i]) * 1099511628211ULL;
    st->bytes += len;
    ++st->pieces;
    if (!last) {
        CHECK(wharf_session_post(sess, upload_go_on, st));
        return WHARF_DATA_PAUSE;
    }
    CHECK(wharf_response_printf(sess, "bytes=%llu fnv=%016llx\n", st->bytes, st->hash));
    CHECK(wharf_conn_write_res(sess, NULL, NULL));
    return WHARF_DATA_PAUSE;
}

static void upload(wharf_session* sess) {
    upload_state* st = calloc(1, sizeof *st);
    if (!st) abort();
    st->hash = 1469598103934665603ULL;
    CHECK(wharf_ctx_set(sess, st, free));
    CHECK(wharf_request_data_get(sess, upload_piece, st));
}

/* ---- negotiation --------------------------------------------------------------------- */

/* GET /accept: the Accept elements, then the type chosen among JSON and plain text. */
static void accept(wharf_session* sess) {
    static const char* const offered[] = {"application/json", "text/plain"};
    const wharf_accept* acc = wharf_request_accept_construct_get(sess);
    size_t i, n = wharf_accept_count(acc);
    char line[256];
    int chosen = wharf_accept_negotiate(acc, offered, 2);
    if (chosen < 0) {
        CHECK(wharf_response_status_set(sess, 406, NULL, "text/plain"));
        CHECK(wharf_response_append(sess, "none\n", 5));
        return;
    }
    CHECK(wharf_response_status_ok(sess, offered[chosen]));
    for (i = 0; i < n; ++i) {
        wharf_str range;
        unsigned q;
        CHECK(wharf_accept_item(acc, i, &range, &q));
        snprintf(line, sizeof line, "%.*s;%u\n", (int)range.len, range.ptr, q);
        CHECK(wharf_response_append(sess, line, strlen(line)));
    }
    if (wharf_accept_item(acc, n, NULL, NULL) != EINVAL) abort();
}

/* ---- sending --------------------------------------------------------------------------- */

typedef struct {
    int fd;
} file_send;

static void file_sent(void* arg, int result, size_t count) {
    file_send* f = arg;
    (void)result;
    (void)count;
    close(f->fd);
    free(f);
}

/* GET /file: the served file by descriptor, to its end, with ranges and conditionals answered,
 * logged as user "c-api". */
static void file(wharf_session* sess) {
    file_send* f = malloc(sizeof *f);
    wharf_chunk chunk;
    wharf_log_data log;
    if (!f) abort();
    f->fd = open(served_file, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        free(f);
        CHECK(wharf_response_status_not_found(sess, NULL));
        return;
    }
    memset(&chunk, 0, sizeof chunk);
    chunk.kind = WHARF_CHUNK_FILE;
    chunk.fd = f->fd;
    chunk.offset = 0;
    chunk.length = UINT64_MAX;
    memset(&log, 0, sizeof log);
    log.user = "c-api";
    CHECK(wharf_response_status_ok(sess, "application/octet-stream"));
    CHECK(wharf_send_entity_body(sess, WHARF_SEND_PROCESS_RANGES, &chunk, 1, file_sent, f, &log));
}

/* GET /chunks: three memory chunks with MORE_DATA, then the rest once that send completed;
 * what the refused calls returned is in the last part. */
typedef struct {
    int busy, too_many, sync;
} chunk_results;

static const char part_a[] = "alpha,", part_b[] = "beta,", part_c[] = "gamma,";

static void chunks_last(void* arg, int result, size_t count) {
    (void)arg;
    (void)result;
    (void)count;
}

static void chunks_more(void* arg, int result, size_t count) {
    wharf_session* sess = arg;
    chunk_results* r = wharf_ctx_get(sess);
    char tail[128];
    wharf_chunk c;
    if (result != 0) return;
    snprintf(tail, sizeof tail, "%zu|busy=%d e2big=%d edeadlk=%d", count, r->busy, r->too_many,
             r->sync);
    /* The tail is copied into the context: a chunk is borrowed until its send is done. */
    memset(&c, 0, sizeof c);
    c.kind = WHARF_CHUNK_MEMORY;
    c.data = strcpy((char*)(r + 1), tail);
    c.len = strlen(tail);
    CHECK(wharf_send_entity_body(sess, 0, &c, 1, chunks_last, NULL, NULL));
}

static void chunks(wharf_session* sess) {
    wharf_chunk c[3];
    static wharf_chunk many[WHARF_MAX_CHUNKS + 1];
    chunk_results* r = calloc(1, sizeof *r + 128);
    if (!r) abort();
    CHECK(wharf_ctx_set(sess, r, free));
    memset(c, 0, sizeof c);
    c[0].data = part_a, c[0].len = strlen(part_a);
    c[1].data = part_b, c[1].len = strlen(part_b);
    c[2].data = part_c, c[2].len = strlen(part_c);
    r->too_many = wharf_send_entity_body(sess, WHARF_SEND_MORE_DATA, many, WHARF_MAX_CHUNKS + 1,
                                         chunks_last, NULL, NULL) == E2BIG;
    r->sync = wharf_send_entity_body(sess, WHARF_SEND_MORE_DATA, c, 3, NULL, NULL, NULL) == EDEADLK;
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_send_entity_body(sess, WHARF_SEND_MORE_DATA, c, 3, chunks_more, sess, NULL));
    r->busy =
        wharf_send_entity_body(sess, WHARF_SEND_MORE_DATA, c, 1, chunks_last, NULL, NULL) == EBUSY;
}

/* GET /flags: BUFFER_DATA (held, completes at once), then MORE_DATA with ENABLE_NAGLING, then
 * DISCONNECT: "held,more,last" and the connection closes. */
static void flags_last(void* arg, int result, size_t count) {
    wharf_session* sess = arg;
    wharf_chunk c;
    (void)count;
    if (result != 0) return;
    memset(&c, 0, sizeof c);
    c.data = "last";
    c.len = 4;
    CHECK(wharf_send_entity_body(sess, WHARF_SEND_DISCONNECT, &c, 1, chunks_last, NULL, NULL));
}

static void flags_more(void* arg, int result, size_t count) {
    wharf_session* sess = arg;
    wharf_chunk c;
    (void)count;
    if (result != 0) return;
    memset(&c, 0, sizeof c);
    c.data = "more,";
    c.len = 5;
    CHECK(wharf_send_entity_body(sess, WHARF_SEND_MORE_DATA | WHARF_SEND_ENABLE_NAGLING, &c, 1,
                                 flags_last, sess, NULL));
}

static void flags(wharf_session* sess) {
    wharf_chunk c;
    memset(&c, 0, sizeof c);
    c.data = "held,";
    c.len = 5;
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_send_entity_body(sess, WHARF_SEND_BUFFER_DATA | WHARF_SEND_MORE_DATA, &c, 1,
                                 flags_more, sess, NULL));
}

/* GET /write-res: NNG's whole-response write with a completion. */
static void write_res_done(void* arg, int result, size_t count) {
    (void)arg;
    if (result != 0 || count != 11) fprintf(stderr, "write_res: %d %zu\n", result, count);
}

static void write_res(wharf_session* sess) {
    CHECK(wharf_response_string(sess, "whole reply", 11, NULL));
    CHECK(wharf_conn_write_res(sess, write_res_done, NULL));
    if (wharf_conn_write_res(sess, NULL, NULL) != EBUSY) abort();
}

/* GET /flush: the first part flushed at once, the second 100 ms later from a timer. */
static void flush_rest(wharf_session* sess, void* arg) {
    (void)arg;
    CHECK(wharf_response_append(sess, "second", 6));
    CHECK(wharf_conn_write_res(sess, NULL, NULL));
}

static void flush(wharf_session* sess) {
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_response_append(sess, "first,", 6));
    CHECK(wharf_response_flush(sess));
    CHECK(wharf_session_after(sess, 100, flush_rest, NULL, 0));
}

/* GET /after: a repeating timer that answers on its third run. */
static void tick(wharf_session* sess, void* arg) {
    int* n = wharf_ctx_get(sess);
    (void)arg;
    if (++*n < 3) return;
    CHECK(wharf_response_printf(sess, "ticks=%d", *n));
    CHECK(wharf_conn_write_res(sess, NULL, NULL));
}

static void after(wharf_session* sess) {
    int* n = calloc(1, sizeof *n);
    if (!n) abort();
    CHECK(wharf_ctx_set(sess, n, free));
    CHECK(wharf_session_after(sess, 20, tick, NULL, 1));
}

/* ---- other threads -------------------------------------------------------------------- */

/* GET /suspend: resumed from a thread 50 ms later, with an argument. */
static void resumed(wharf_session* sess) {
    CHECK(wharf_response_printf(sess, "resumed with %s", (const char*)wharf_resume_arg(sess)));
}

static void* resume_later(void* arg) {
    sleep_ms(50);
    CHECK(wharf_session_resume(arg, resumed, "from-a-thread"));
    return NULL;
}

static void suspend(wharf_session* sess) {
    wharf_handle* h = wharf_session_suspend(sess, 5000);
    if (!h) abort();
    start_thread(resume_later, h);
}

/* GET /suspend-expire: never resumed in time; the thread's late resume learns why. */
static void* resume_too_late(void* arg) {
    sleep_ms(400);
    if (wharf_session_resume(arg, resumed, "late") != ETIMEDOUT)
        fprintf(stderr, "late resume: not ETIMEDOUT\n");
    return NULL;
}

static void suspend_expire(wharf_session* sess) {
    wharf_handle* h = wharf_session_suspend(sess, 100);
    if (!h) abort();
    start_thread(resume_too_late, h);
}

/* GET /sync: the blocking sends from a thread holding the handle, then the handle freed. */
static void* send_from_thread(void* arg) {
    wharf_handle* h = arg;
    wharf_chunk c;
    size_t sent = 0;
    memset(&c, 0, sizeof c);
    c.data = "sync-one,";
    c.len = 9;
    CHECK(wharf_handle_send_entity_body(h, WHARF_SEND_MORE_DATA, &c, 1, &sent, NULL));
    if (sent != 9) abort();
    c.data = "sync-two";
    c.len = 8;
    CHECK(wharf_handle_send_entity_body(h, 0, &c, 1, &sent, NULL));
    /* The response has ended: another send is refused. */
    if (wharf_handle_send_entity_body(h, 0, &c, 1, NULL, NULL) != ENOTCONN)
        fprintf(stderr, "send after the end: not ENOTCONN\n");
    wharf_handle_free(h);
    return NULL;
}

static void sync_send(wharf_session* sess) {
    wharf_handle* h = wharf_session_suspend(sess, 5000);
    if (!h) abort();
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    start_thread(send_from_thread, h);
}

/* GET /event: a thread posts the answer through the request's event. */
static void event_answer(wharf_session* sess, void* arg) {
    CHECK(wharf_response_printf(sess, "posted %s", (const char*)arg));
    CHECK(wharf_conn_write_res(sess, NULL, NULL));
}

static void* post_event(void* arg) {
    wharf_event* ev = arg;
    sleep_ms(20);
    CHECK(wharf_event_post(ev, event_answer, "from-a-thread"));
    wharf_event_release(ev);
    return NULL;
}

static void event(wharf_session* sess) {
    wharf_event* ev = wharf_request_event_get(sess);
    wharf_handle* h = wharf_session_suspend(sess, 5000); /* the loop waits for the thread */
    if (!ev || !h) abort();
    wharf_handle_free(h);
    start_thread(post_event, ev);
}

/* GET /io and /io-now: an IO object streamed (its first read says EAGAIN until a thread calls
 * wharf_io_ready) or read at once. */
typedef struct {
    wharf_io io;
    int calls;
    int left;
    int ready;
} counting_io;

static ssize_t io_read(void* arg, void* buf, size_t len) {
    counting_io* c = arg;
    char* out = buf;
    size_t n = 0;
    ++c->calls;
    if (!__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE)) return -EAGAIN;
    while (n < len && c->left > 0) {
        out[n++] = (char)('a' + (c->left % 26));
        --c->left;
    }
    return (ssize_t)n;
}

static void io_release(void* arg, int result) {
    (void)result;
    free(arg);
}

static void* make_ready(void* arg) {
    counting_io* c = arg;
    sleep_ms(30);
    __atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
    wharf_io_ready(&c->io);
    return NULL;
}

static counting_io* new_io(int bytes, int ready) {
    counting_io* c = calloc(1, sizeof *c);
    if (!c) abort();
    c->io.read = io_read;
    c->io.release = io_release;
    c->io.arg = c;
    c->io.size = -1;
    c->left = bytes;
    c->ready = ready;
    return c;
}

static void io_streamed(wharf_session* sess) {
    counting_io* c = new_io(100000, 0);
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_response_io(sess, &c->io, 0));
    start_thread(make_ready, c);
}

static void io_now(wharf_session* sess) {
    counting_io* c = new_io(5000, 1);
    CHECK(wharf_response_status_ok(sess, "text/plain"));
    CHECK(wharf_response_io(sess, &c->io, 1)); /* releases it */
}

/* ---- upgrade --------------------------------------------------------------------------- */

typedef struct {
    wharf_stream* stream;
    char buf[4096];
} echo_state;

static void echo_read(echo_state* e);

static void echo_written(void* arg, int result, size_t count) {
    echo_state* e = arg;
    (void)count;
    if (result != 0) {
        wharf_conn_close(e->stream);
        free(e);
        return;
    }
    echo_read(e);
}

static void echo_got(void* arg, int result, size_t count) {
    echo_state* e = arg;
    struct iovec iov[2];
    if (result != 0) { /* the client closed (ENOTCONN) or went away */
        wharf_conn_close(e->stream);
        free(e);
        return;
    }
    iov[0].iov_base = "echo:";
    iov[0].iov_len = 5;
    iov[1].iov_base = e->buf;
    iov[1].iov_len = count;
    CHECK(wharf_conn_write_all(e->stream, iov, 2, echo_written, e));
}

static void echo_read(echo_state* e) {
    CHECK(wharf_conn_read(e->stream, e->buf, sizeof e->buf, echo_got, e));
}

static void greeted(void* arg, int result, size_t count) {
    (void)count;
    if (result == 0) echo_read(arg);
}

static void upgraded(void* arg, int result, wharf_stream* stream) {
    echo_state* e;
    struct iovec hi;
    (void)arg;
    if (result != 0) return;
    e = calloc(1, sizeof *e);
    if (!e) abort();
    e->stream = stream;
    hi.iov_base = "hello\n";
    hi.iov_len = 6;
    CHECK(wharf_conn_write(stream, &hi, 1, greeted, e));
}

static void upgrade(wharf_session* sess) {
    CHECK(wharf_response_status_set(sess, 101, NULL, NULL));
    CHECK(wharf_response_header_set(sess, "Upgrade", "echo"));
    CHECK(wharf_response_header_set(sess, "Connection", "Upgrade"));
    CHECK(wharf_session_upgrade(sess, upgraded, NULL));
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char** argv) {
    sigset_t stop_signals;
    int sig, err = 0;
    wharf_config* cfg;
    wharf_server* srv;
    const int tls = argc >= 4;

    if (argc < 2 || argc == 3 || argc > 5) {
        fprintf(stderr, "usage: %s FILE [CERT KEY [CLIENT_CA]]\n", argv[0]);
        return 2;
    }
    served_file = argv[1];
    /* Blocked before the workers start, so that only sigwait below takes them. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    cfg = wharf_config_new();
    if (!cfg) return 1;
    CHECK(wharf_config_listen(cfg, "127.0.0.1:0"));
    CHECK(wharf_config_workers(cfg, 1));
    CHECK(wharf_config_limit(cfg, WHARF_LIMIT_MAX_BODY_SIZE, 1024 * 1024));
    CHECK(wharf_config_timeout(cfg, WHARF_TIMEOUT_SHUTDOWN, 2000));
    if (getenv("CAPI_ACCESS_LOG")) CHECK(wharf_config_access_log(cfg, getenv("CAPI_ACCESS_LOG")));
    if (wharf_config_listen(cfg, "not an address") != EINVAL) abort();
    if (wharf_config_limit(cfg, WHARF_LIMIT_MAX_BODY_SIZE, 0) != EINVAL) abort();
    if (tls) {
        CHECK(wharf_config_tls_listen(cfg, "127.0.0.1:0"));
        CHECK(wharf_config_tls(cfg, argv[2], argv[3]));
        if (argc == 5) CHECK(wharf_config_tls_client_ca(cfg, argv[4], 0));
    }
    srv = wharf_server_new(cfg, &err);
    wharf_config_free(cfg);
    if (!srv) {
        fprintf(stderr, "wharf_server_new: %s\n", wharf_strerror(err));
        return 1;
    }
    CHECK(wharf_register(srv, "GET", "/hello", hello, NULL));
    CHECK(wharf_register(srv, NULL, "/request/*", request_fields, "the-service"));
    CHECK(wharf_register(srv, "GET", "/status/{which}", status, NULL));
    CHECK(wharf_register(srv, "GET", "/headers", headers, NULL));
    CHECK(wharf_register(srv, "GET", "/ctx", context, NULL));
    CHECK(wharf_register(srv, "GET", "/ctx/count", context_count, NULL));
    CHECK(wharf_register(srv, "POST", "/string", string_body, NULL));
    CHECK(wharf_register(srv, "POST", "/json", json_body, NULL));
    CHECK(wharf_register(srv, "POST", "/xml", xml_body, NULL));
    CHECK(wharf_register_streamed(srv, "POST", "/upload", upload, NULL));
    CHECK(wharf_register(srv, "GET", "/accept", accept, NULL));
    CHECK(wharf_register(srv, "GET", "/file", file, NULL));
    CHECK(wharf_register(srv, "GET", "/chunks", chunks, NULL));
    CHECK(wharf_register(srv, "GET", "/write-res", write_res, NULL));
    CHECK(wharf_register(srv, "GET", "/flags", flags, NULL));
    CHECK(wharf_register(srv, "GET", "/flush", flush, NULL));
    CHECK(wharf_register(srv, "GET", "/after", after, NULL));
    CHECK(wharf_register(srv, "GET", "/suspend", suspend, NULL));
    CHECK(wharf_register(srv, "GET", "/suspend-expire", suspend_expire, NULL));
    CHECK(wharf_register(srv, "GET", "/sync", sync_send, NULL));
    CHECK(wharf_register(srv, "GET", "/event", event, NULL));
    CHECK(wharf_register(srv, "GET", "/io", io_streamed, NULL));
    CHECK(wharf_register(srv, "GET", "/io-now", io_now, NULL));
    CHECK(wharf_register(srv, "GET", "/upgrade", upgrade, NULL));
    if (wharf_register(srv, "GET", "/hello", hello, NULL) != EINVAL) abort(); /* twice */
    if (wharf_register(srv, "GET", "no-slash", hello, NULL) != EINVAL) abort();

    CHECK(wharf_server_start(srv));
    if (wharf_register(srv, "GET", "/late", hello, NULL) != EBUSY) abort();
    if (tls)
        printf("ready %d %d\n", wharf_server_port(srv, 0), wharf_server_port(srv, 1));
    else
        printf("ready %d\n", wharf_server_port(srv, 0));
    if (wharf_server_port(srv, 5) != -1) abort();
    fflush(stdout);

    sigwait(&stop_signals, &sig);
    wharf_server_stop(srv, 2000);
    wharf_server_wait(srv);
    wharf_server_free(srv);
    return 0;
}
