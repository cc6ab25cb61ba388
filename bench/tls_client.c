/* A TLS handshake load generator for bench/run: one connection at a time, each doing a
 * handshake (full, or resumed from the previous connection's session), one request with
 * "Connection: close" and reading the response to the end. Prints the same machine-readable
 * line as bench/report.lua, so bench/run treats it like a wrk run.
 *
 * Usage: tls_client HOST PORT SECONDS full|resume 1.2|1.3 PATH
 *   TLS 1.3: the only cipher suite offered is TLS_AES_128_GCM_SHA256;
 *   TLS 1.2: the only cipher offered is ECDHE-ECDSA-AES128-GCM-SHA256; key exchange X25519 (P-256
 * listed too: TLS 1.2 needs it for the server's P-256 certificate). The certificate is not verified
 * (its signature over the handshake is: that is the protocol). Output: BENCH requests=N bytes=B
 * duration_us=D connect=C read=R write=W status=S timeout=T resumed=M handshakes=H requests:
 * connections that completed a handshake and got a whole 200 response; status: responses other than
 * 200, plus (in resume mode) handshakes after the first that were not resumed, so a server that
 * stops resuming fails the run; connect/read/write/timeout: failures of connect(), of the handshake
 * or reading, of writing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: tls_client HOST PORT SECONDS full|resume 1.2|1.3 PATH\n");
        return 2;
    }
    const char* host = argv[1];
    const int port = atoi(argv[2]);
    const double seconds = atof(argv[3]);
    const int resume = strcmp(argv[4], "resume") == 0;
    const int v13 = strcmp(argv[5], "1.3") == 0;
    const char* path = argv[6];
    if ((!resume && strcmp(argv[4], "full") != 0) || (!v13 && strcmp(argv[5], "1.2") != 0) ||
        port <= 0 || seconds <= 0) {
        fprintf(stderr, "tls_client: bad arguments\n");
        return 2;
    }

    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return 1;
    const int version = v13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* Full mode: never offer a session. Resume mode: offer the last connection's. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "tls_client: HOST must be an IPv4 address\n");
        return 2;
    }

    char request[512];
    const int request_len =
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    char buf[16384];
    long requests = 0, handshakes = 0, resumed = 0, not_resumed = 0, bad_status = 0;
    long err_connect = 0, err_read = 0, err_write = 0, err_timeout = 0;
    unsigned long long bytes = 0;
    SSL_SESSION* session = NULL;
    const double start = now();
    double end = start;
    const struct timeval tv = {10, 0};

    while ((end = now()) - start < seconds) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("socket");
            return 1;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
            err_connect++;
            close(fd);
            if (err_connect > 1000) break;
            continue;
        }
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        if (resume && session) SSL_set_session(ssl, session);
        int ok = 0;
        if (SSL_connect(ssl) != 1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                err_timeout++;
            else
                err_read++;
            ERR_clear_error();
        } else {
            handshakes++;
            if (SSL_session_reused(ssl))
                resumed++;
            else if (resume && session)
                not_resumed++;
            if (SSL_write(ssl, request, request_len) != request_len) {
                err_write++;
                ERR_clear_error();
            } else {
                size_t got = 0;
                char head[16] = {0};
                for (;;) {
                    const int n = SSL_read(ssl, buf, sizeof buf);
                    if (n <= 0) {
                        const int e = SSL_get_error(ssl, n);
                        if (e != SSL_ERROR_ZERO_RETURN && got == 0) {
                            if (errno == EAGAIN || errno == EWOULDBLOCK)
                                err_timeout++;
                            else
                                err_read++;
                        }
                        ERR_clear_error();
                        break;
                    }
                    if (got < sizeof head - 1) {
                        size_t take = sizeof head - 1 - got;
                        if (take > (size_t)n) take = (size_t)n;
                        memcpy(head + got, buf, take);
                    }
                    got += (size_t)n;
                }
                if (got > 0) {
                    bytes += got;
                    if (strncmp(head, "HTTP/1.1 200", 12) == 0) {
                        requests++;
                        ok = 1;
                    } else
                        bad_status++;
                }
            }
            if (resume) {
                /* TLS 1.3: the ticket came after the handshake, with the response. */
                SSL_SESSION* next = SSL_get1_session(ssl);
                if (next && SSL_SESSION_is_resumable(next)) {
                    if (session) SSL_SESSION_free(session);
                    session = next;
                } else if (next) {
                    SSL_SESSION_free(next);
                }
            }
        }
        (void)ok;
        /* The server closed first; a quiet shutdown, as s_time does: freeing an SSL that did
         * not shut down marks its session not resumable. */
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl);
        close(fd);
    }
    end = now();
    if (session) SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    printf(
        "BENCH requests=%ld bytes=%llu duration_us=%.0f connect=%ld read=%ld write=%ld status=%ld "
        "timeout=%ld resumed=%ld handshakes=%ld\n",
        requests, bytes, (end - start) * 1e6, err_connect, err_read, err_write,
        bad_status + not_resumed, err_timeout, resumed, handshakes);
    return 0;
}
