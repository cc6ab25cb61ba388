/* SPDX-License-Identifier: MIT */
/*
 * A complete server in C on wharf's C API: routes, printf, JSON in and out, a request
 * suspended and resumed from another thread, and a file sent by descriptor with ranges
 * answered by the library. Stopped by Ctrl-C or SIGTERM.
 *
 *   cc -std=c11 hello.c $(pkg-config --cflags --libs wharf) -o hello
 *   ./hello [ADDRESS [FILE [WORKERS]]]
 *       (default 127.0.0.1:8080, this program's source, one worker per core)
 */
#define _POSIX_C_SOURCE 200809L

#include <wharf/wharf.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char* file_path = __FILE__;

/* GET /plaintext: the benchmark's route. */
static void plaintext(wharf_session* sess) {
    wharf_response_string(sess, "Hello, World!", 13, "text/plain");
}

/* GET /hello/{name}: printf into the body. */
static void hello(wharf_session* sess) {
    wharf_str url = wharf_request_url_get(sess);
    wharf_response_status_ok(sess, "text/plain; charset=utf-8");
    wharf_response_printf(sess, "Hello, %.*s!\n", (int)(url.len - 7), url.ptr + 7);
}

/* POST /greet {"name": "..."}: JSON in, JSON out; a bad body gets its 400, 413 or 415. */
static void greet(wharf_session* sess) {
    wharf_str json, name;
    char out[256];
    int err = wharf_request_data_get_json(sess, &json);
    if (err) {
        wharf_response_body_error(sess, err);
        return;
    }
    if (wharf_json_get(json, "/name", &name) != 0 || name.len > 100) {
        wharf_response_status_set(sess, 422, NULL, "application/json");
        wharf_response_append(sess, "{\"error\":\"name missing\"}", 24);
        return;
    }
    snprintf(out, sizeof out, "{\"greeting\":\"Hello, %.*s!\"}", (int)name.len, name.ptr);
    wharf_response_json(sess, out, strlen(out));
}

/* GET /slow: suspended; a thread does the "work" and resumes the session with its result. */
static void finish_slow(wharf_session* sess) {
    wharf_response_printf(sess, "done: %s\n", (const char*)wharf_resume_arg(sess));
}

static void* slow_work(void* handle) {
    struct timespec t = {0, 100 * 1000 * 1000};
    nanosleep(&t, NULL);
    wharf_session_resume(handle, finish_slow, "computed on a thread");
    return NULL;
}

static void slow(wharf_session* sess) {
    pthread_t t;
    wharf_handle* h = wharf_session_suspend(sess, 5000);
    if (!h || pthread_create(&t, NULL, slow_work, h) != 0) {
        if (h) wharf_handle_free(h);
        wharf_response_status_error(sess, NULL);
        return;
    }
    pthread_detach(t);
}

/* GET /file: a file by descriptor, to its end; Range and If-None-Match are the library's. */
static void file_sent(void* arg, int result, size_t count) {
    (void)result;
    (void)count;
    close((int)(intptr_t)arg);
}

static void file(wharf_session* sess) {
    wharf_chunk chunk;
    int fd = open(file_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wharf_response_status_not_found(sess, NULL);
        return;
    }
    memset(&chunk, 0, sizeof chunk);
    chunk.kind = WHARF_CHUNK_FILE;
    chunk.fd = fd;
    chunk.length = UINT64_MAX;
    wharf_response_status_ok(sess, "text/plain; charset=utf-8");
    if (wharf_send_entity_body(sess, WHARF_SEND_PROCESS_RANGES, &chunk, 1, file_sent,
                               (void*)(intptr_t)fd, NULL) != 0) {
        close(fd);
        wharf_response_status_error(sess, NULL);
    }
}

int main(int argc, char** argv) {
    sigset_t stop;
    int sig, err = 0;
    wharf_config* cfg = wharf_config_new();
    wharf_server* srv;

    if (argc > 2) file_path = argv[2];
    if (!cfg || wharf_config_listen(cfg, argc > 1 ? argv[1] : "127.0.0.1:8080") != 0) return 2;
    if (argc > 3 && wharf_config_workers(cfg, (unsigned)atoi(argv[3])) != 0) return 2;
    srv = wharf_server_new(cfg, &err);
    wharf_config_free(cfg);
    if (!srv) {
        fprintf(stderr, "hello: %s\n", wharf_strerror(err));
        return 1;
    }
    wharf_register(srv, "GET", "/plaintext", plaintext, NULL);
    wharf_register(srv, "GET", "/hello/{name}", hello, NULL);
    wharf_register(srv, "POST", "/greet", greet, NULL);
    wharf_register(srv, "GET", "/slow", slow, NULL);
    wharf_register(srv, "GET", "/file", file, NULL);

    sigemptyset(&stop); /* blocked before the workers start: they inherit the mask */
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if ((err = wharf_server_start(srv)) != 0) {
        fprintf(stderr, "hello: %s\n", wharf_strerror(err));
        wharf_server_free(srv);
        return 1;
    }
    printf("serving on port %d\n", wharf_server_port(srv, 0));
    fflush(stdout);
    sigwait(&stop, &sig);
    wharf_server_stop(srv, 5000); /* graceful: in-flight requests finish */
    wharf_server_wait(srv);
    wharf_server_free(srv);
    return 0;
}
