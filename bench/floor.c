/*
 * floor: the reference "floor" server for bench/run.
 *
 * A minimal single-threaded epoll loop that does the least work an HTTP/1.1
 * keep-alive server can do: it parses nothing but the "\r\n\r\n" that ends a
 * request head, and answers each one with a canned response. Whatever a real
 * server costs above this is the price of its parsing, routing and bookkeeping.
 *
 *   floor PORT                 answer every request with "Hello, World!"
 *   floor PORT --file PATH     answer every request with PATH's contents,
 *                              sent with sendfile (Content-Length = its size)
 *
 * Listens on 127.0.0.1:PORT. Requests may be pipelined and their terminators
 * split across reads; all responses owed after one read go out in one write
 * (plaintext mode). Partial writes are kept and resumed on EPOLLOUT; while
 * output is pending the connection is not read, so memory stays bounded.
 * Request bodies are not supported (nothing but the terminator is looked at).
 *
 * Build: cc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char HELLO[] = "HTTP/1.1 200 OK\r\n"
                            "Server: floor\r\n"
                            "Content-Type: text/plain\r\n"
                            "Content-Length: 13\r\n"
                            "\r\n"
                            "Hello, World!";
#define HELLO_LEN (sizeof HELLO - 1)

/* Plaintext mode: the outgoing byte stream is HELLO repeated, so a connection's
 * pending output is just a byte count; bytes are copied out of a block of
 * BLOCK_N back-to-back copies. */
#define BLOCK_N 512
static char block[BLOCK_N * HELLO_LEN];

/* File mode. */
static int file_fd = -1;
static off_t file_size;
static char file_head[256];
static size_t file_head_len;

struct conn {
    uint64_t pending;    /* plaintext: bytes owed; file: responses owed */
    size_t head_off;     /* file: bytes of the current response head already sent */
    off_t body_off;      /* file: bytes of the current response body already sent */
    unsigned char match; /* how much of "\r\n\r\n" the input ended with (0..3) */
    unsigned char out;   /* waiting for EPOLLOUT */
    unsigned char open;
};

static struct conn* conns;
static size_t nconns;
static int ep;

static void die(const char* what) {
    perror(what);
    exit(1);
}

static struct conn* conn_get(int fd) {
    if ((size_t)fd >= nconns) {
        size_t n = nconns ? nconns : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        struct conn* c = realloc(conns, n * sizeof *c);
        if (!c) die("realloc");
        memset(c + nconns, 0, (n - nconns) * sizeof *c);
        conns = c;
        nconns = n;
    }
    return &conns[fd];
}

static void conn_close(int fd) {
    memset(&conns[fd], 0, sizeof conns[fd]);
    close(fd); /* also removes it from the epoll set */
}

static void watch(int fd, struct conn* c, int out) {
    if (c->out == out) return;
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) die("epoll_ctl mod");
    c->out = (unsigned char)out;
}

/* Count request terminators in buf, carrying a partial match across calls. */
static uint64_t count_requests(struct conn* c, const char* buf, size_t n) {
    static const char term[4] = {'\r', '\n', '\r', '\n'};
    uint64_t found = 0;
    unsigned m = c->match;
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];
        if (ch == term[m]) {
            if (++m == 4) {
                found++;
                m = 0;
            }
        } else {
            /* The only self-overlap of "\r\n\r\n" is a restart at '\r'. */
            m = ch == '\r';
        }
    }
    c->match = (unsigned char)m;
    return found;
}

/* Send what is owed until done or the socket is full.
 * Returns 0 when everything went out, 1 when blocked, -1 on error. */
static int flush_plain(int fd, struct conn* c) {
    while (c->pending) {
        size_t off = (HELLO_LEN - c->pending % HELLO_LEN) % HELLO_LEN;
        size_t len = sizeof block - off;
        if (len > c->pending) len = c->pending;
        ssize_t w = send(fd, block + off, len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
        }
        c->pending -= (uint64_t)w;
    }
    return 0;
}

static int flush_file(int fd, struct conn* c) {
    while (c->pending) {
        if (c->head_off < file_head_len) {
            /* MSG_MORE lets the head share a segment with the start of the body. */
            int more = file_size > 0 ? MSG_MORE : 0;
            ssize_t w =
                send(fd, file_head + c->head_off, file_head_len - c->head_off, MSG_NOSIGNAL | more);
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
            }
            c->head_off += (size_t)w;
            continue;
        }
        if (c->body_off < file_size) {
            off_t pos = c->body_off;
            ssize_t w = sendfile(fd, file_fd, &pos, (size_t)(file_size - c->body_off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
            }
            if (w == 0) return -1; /* file shrank under us */
            c->body_off = pos;
            continue;
        }
        c->pending--;
        c->head_off = 0;
        c->body_off = 0;
    }
    return 0;
}

static int flush(int fd, struct conn* c) {
    return file_fd >= 0 ? flush_file(fd, c) : flush_plain(fd, c);
}

static void on_readable(int fd, struct conn* c) {
    static char buf[64 * 1024];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
        conn_close(fd);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        conn_close(fd);
        return;
    }
    uint64_t reqs = count_requests(c, buf, (size_t)n);
    if (!reqs) return;
    c->pending += file_fd >= 0 ? reqs : reqs * HELLO_LEN;
    int r = flush(fd, c);
    if (r < 0)
        conn_close(fd);
    else if (r > 0)
        watch(fd, c, 1);
}

static void on_writable(int fd, struct conn* c) {
    int r = flush(fd, c);
    if (r < 0)
        conn_close(fd);
    else if (r == 0)
        watch(fd, c, 0);
}

static void on_accept(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EMFILE || errno == ENFILE) return; /* try again on the next event */
            die("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn* c = conn_get(fd);
        memset(c, 0, sizeof *c);
        c->open = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl add");
    }
}

static void usage(void) {
    fprintf(stderr, "usage: floor PORT [--file PATH]\n");
    exit(2);
}

int main(int argc, char** argv) {
    if (argc != 2 && argc != 4) usage();
    char* end;
    long port = strtol(argv[1], &end, 10);
    if (*end || port <= 0 || port > 65535) usage();

    if (argc == 4) {
        if (strcmp(argv[2], "--file") != 0) usage();
        file_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
        if (file_fd < 0) die(argv[3]);
        struct stat st;
        if (fstat(file_fd, &st) < 0) die("fstat");
        file_size = st.st_size;
        int len = snprintf(file_head, sizeof file_head,
                           "HTTP/1.1 200 OK\r\n"
                           "Server: floor\r\n"
                           "Content-Type: application/octet-stream\r\n"
                           "Content-Length: %lld\r\n"
                           "\r\n",
                           (long long)file_size);
        file_head_len = (size_t)len;
    } else {
        for (size_t i = 0; i < BLOCK_N; i++)
            memcpy(block + i * HELLO_LEN, HELLO, HELLO_LEN);
    }

    signal(SIGPIPE, SIG_IGN); /* sendfile has no MSG_NOSIGNAL */

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl listen");

    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                on_accept(lfd);
                continue;
            }
            struct conn* c = conn_get(fd);
            if (!c->open) continue; /* closed earlier in this batch */
            if (c->out) {
                /* EPOLLERR/EPOLLHUP surface as a failing send. */
                on_writable(fd, c);
            } else {
                on_readable(fd, c);
            }
        }
    }
}
