// SPDX-License-Identifier: MIT
// The TLS layer below the HTTP code: DNS-name matching for SNI, what a context build says about
// broken files, and tls_transport against an OpenSSL client on a non-blocking socketpair
// (handshake, ALPN, SNI, a write that would block retried with the same bytes, pending data,
// close_notify, plain HTTP on the port, resumption by tickets across contexts that share keys).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "temp_dir.hpp"
#include "test_certs.hpp"

#include "tls/context.hpp"
#include "tls/ticket_keys.hpp"
#include "tls/tls_transport.hpp"

namespace {

using wharf::detail::dns_name_matches;
using wharf::detail::ticket_keys;
using wharf::detail::tls_context;
using wharf::detail::tls_transport;
using status = wharf::detail::transport::handshake_status;

TEST(TlsNames, DnsNameMatching) {
    struct row {
        const char* pattern;
        const char* host;
        bool match;
    };
    const row rows[] = {
        {"localhost", "localhost", true},
        {"localhost", "localhost2", false},
        {"example.test", "a.example.test", false},
        {"*.example.test", "a.example.test", true},
        {"*.example.test", "example.test", false},
        {"*.example.test", "a.b.example.test", false},
        {"*.example.test", ".example.test", false},
        {"*.example.test", "aexample.test", false},
        {"*.", "a.", false},
        {"", "", false},
    };
    for (const row& r : rows)
        EXPECT_EQ(dns_name_matches(r.pattern, r.host), r.match) << r.pattern << " / " << r.host;
}

struct files {
    wharf_test::temp_dir dir;
    std::string cert, key, other_cert, other_key;
    files() {
        const auto a = wharf_test::self_signed("localhost", {"localhost", "*.example.test"});
        const auto b = wharf_test::self_signed("other", {"other.test"});
        cert = dir.write("a.pem", a.certificate);
        key = dir.write("a.key", a.key);
        other_cert = dir.write("b.pem", b.certificate);
        other_key = dir.write("b.key", b.key);
    }
    wharf::tls_config config() const {
        wharf::tls_config c;
        c.certificates = {{cert, key}, {other_cert, other_key}};
        return c;
    }
};

std::shared_ptr<const tls_context> build(const wharf::tls_config& c, wharf::tls_error& e,
                                         std::shared_ptr<ticket_keys> keys = nullptr) {
    if (!keys) keys = std::make_shared<ticket_keys>(std::chrono::seconds(3600));
    return tls_context::build(c, {"http/1.1"}, std::move(keys), e);
}

TEST(TlsContext, SniPicksByDnsNames) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx) << e.message;
    EXPECT_EQ(ctx->pick("other.test"), 1u);
    EXPECT_EQ(ctx->pick("OTHER.Test."), 1u); // case and the root's dot do not matter
    EXPECT_EQ(ctx->pick("localhost"), 0u);
    EXPECT_EQ(ctx->pick("x.example.test"), 0u);
    EXPECT_EQ(ctx->pick("nothing.test"), 0u); // the first chain is the default
}

TEST(TlsContext, BrokenFilesAreNamed) {
    files f;
    const std::string garbage = f.dir.write("garbage.pem", "not a certificate\n");
    struct row {
        const char* what;
        wharf::tls_config config;
        std::string expect; // in the message
    };
    std::vector<row> rows;
    auto c = f.config();
    c.certificates[0].certificate_file = f.dir.path + "/missing.pem";
    rows.push_back({"missing", c, "missing.pem: cannot read certificate: No such file"});
    c = f.config();
    c.certificates[1].certificate_file = garbage;
    rows.push_back({"bad PEM", c, "garbage.pem: not a PEM certificate chain"});
    c = f.config();
    c.certificates[0].key_file = garbage;
    rows.push_back({"bad key", c, "garbage.pem: not a PEM private key"});
    c = f.config();
    c.certificates[0].key_file = f.other_key;
    rows.push_back({"mismatch", c, "b.key: the key does not match " + f.cert});
    c = f.config();
    c.certificates.clear();
    rows.push_back({"none", c, "no certificate"});
    c = f.config();
    c.ciphers = "NOT-A-CIPHER";
    rows.push_back({"ciphers", c, "ciphers 'NOT-A-CIPHER'"});
    c = f.config();
    c.verify_client = wharf::client_verify::required;
    rows.push_back({"no CA", c, "no client CA file"});
    for (const row& r : rows) {
        wharf::tls_error e;
        EXPECT_FALSE(build(r.config, e)) << r.what;
        EXPECT_TRUE(e) << r.what;
        EXPECT_NE(e.message.find(r.expect), std::string::npos) << r.what << ": " << e.message;
    }
}

/// A client SSL and a tls_transport on the two ends of a non-blocking socketpair.
struct tls_pair {
    int fds[2] = {-1, -1};
    SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
    SSL* client = nullptr;
    std::unique_ptr<tls_transport> server;

    explicit tls_pair(std::shared_ptr<const tls_context> ctx, const char* sni = nullptr,
                      const std::vector<std::string>& alpn = {}) {
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
        server = std::make_unique<tls_transport>(fds[0], std::move(ctx));
        client = SSL_new(client_ctx);
        SSL_set_fd(client, fds[1]);
        SSL_set_connect_state(client);
        if (sni)
            SSL_ctrl(client, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(sni));
        std::string wire;
        for (const std::string& p : alpn)
            wire += static_cast<char>(p.size()) + p;
        if (!wire.empty())
            SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size()));
    }
    ~tls_pair() {
        SSL_free(client);
        SSL_CTX_free(client_ctx);
        server.reset(); // closes fds[0]
        ::close(fds[1]);
        ERR_clear_error();
    }
    /// Runs both sides until both are done (true) or one fails (false).
    bool handshake() {
        bool client_done = false;
        status s = status::want_read;
        for (int i = 0; i < 200 && !(client_done && s == status::done); ++i) {
            if (!client_done) {
                const int r = SSL_do_handshake(client);
                if (r == 1)
                    client_done = true;
                else if (const int e = SSL_get_error(client, r);
                         e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                    return false;
            }
            if (s != status::done) s = server->handshake();
            if (s == status::failed) return false;
        }
        return client_done && s == status::done;
    }
    /// Everything the client can read now.
    std::string client_read() {
        std::string got;
        char buf[8192];
        for (;;) {
            std::size_t n = 0;
            if (SSL_read_ex(client, buf, sizeof buf, &n) != 1) break;
            got.append(buf, n);
        }
        return got;
    }
};

TEST(TlsTransport, HandshakeAlpnSniAndInfo) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx) << e.message;
    tls_pair p(ctx, "other.test", {"h2", "http/1.1"});
    ASSERT_TRUE(p.handshake());
    const wharf::tls_info* info = p.server->tls();
    EXPECT_EQ(info->version, "TLSv1.3");
    EXPECT_EQ(info->alpn, "http/1.1");
    EXPECT_EQ(info->sni, "other.test");
    EXPECT_FALSE(info->resumed);
    EXPECT_EQ(info->client, nullptr);
    // SNI chose the second chain.
    X509* peer = SSL_get0_peer_certificate(p.client);
    ASSERT_NE(peer, nullptr);
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "other");
}

TEST(TlsTransport, UnknownProtocolsOnlyFailTheHandshake) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx);
    tls_pair p(ctx, nullptr, {"spdy/3", "h2"});
    EXPECT_FALSE(p.handshake());
}

TEST(TlsTransport, WritesThatBlockAreRetriedWithTheSameBytes) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx);
    tls_pair p(ctx);
    ASSERT_TRUE(p.handshake());
    const int small = 4096;
    ::setsockopt(p.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    // 300 buffers of 1..997 bytes: small ones are gathered into records, as a queue hands them.
    std::vector<std::string> pieces;
    std::string all;
    for (int i = 0; i < 300; ++i) {
        pieces.emplace_back(static_cast<std::size_t>(1 + (i * 331) % 997),
                            static_cast<char>('a' + i % 26));
        all += pieces.back();
    }
    std::size_t sent = 0;
    std::string got;
    int blocked = 0;
    while (sent < all.size()) {
        // The iovecs from `sent` on, as a send queue would offer them again.
        std::vector<iovec> iov;
        std::size_t at = 0;
        for (const std::string& s : pieces) {
            if (at + s.size() > sent) {
                const std::size_t skip = sent > at ? sent - at : 0;
                iov.push_back({const_cast<char*>(s.data()) + skip, s.size() - skip});
            }
            at += s.size();
            if (iov.size() == 64) break;
        }
        const ssize_t n = p.server->writev(iov.data(), static_cast<int>(iov.size()), false);
        if (n == -EAGAIN) {
            ++blocked;
            got += p.client_read();
            continue;
        }
        ASSERT_GT(n, 0);
        sent += static_cast<std::size_t>(n);
    }
    for (int i = 0; i < 50 && got.size() < all.size(); ++i)
        got += p.client_read();
    EXPECT_GT(blocked, 0); // the small buffer made writes block
    EXPECT_EQ(got, all);
}

TEST(TlsTransport, PendingUntilAReadWouldBlockThenCloseNotify) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx);
    tls_pair p(ctx);
    ASSERT_TRUE(p.handshake());
    const std::string msg(40'000, 'x');
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_ex(p.client, msg.data(), msg.size(), &written), 1);
    std::string got;
    char buf[1000];
    // Short reads do not say the stream is drained; only one that would block does.
    while (true) {
        const ssize_t n = p.server->read(buf, sizeof buf);
        if (n == -EAGAIN) break;
        ASSERT_GT(n, 0);
        got.append(buf, static_cast<std::size_t>(n));
        EXPECT_TRUE(p.server->has_pending());
    }
    EXPECT_FALSE(p.server->has_pending());
    EXPECT_EQ(got, msg);
    p.server->shutdown_write();
    char one;
    std::size_t n = 0;
    EXPECT_EQ(SSL_read_ex(p.client, &one, 1, &n), 0);
    EXPECT_EQ(SSL_get_error(p.client, 0), SSL_ERROR_ZERO_RETURN); // a close_notify came
}

TEST(TlsTransport, PlainHttpGetsA400) {
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx);
    tls_pair p(ctx);
    const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(::write(p.fds[1], request, sizeof request - 1),
              static_cast<ssize_t>(sizeof request - 1));
    EXPECT_EQ(p.server->handshake(), status::failed);
    char buf[512] = {};
    const ssize_t n = ::read(p.fds[1], buf, sizeof buf - 1);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf).rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << buf;
    EXPECT_NE(std::string(buf).find("HTTPS"), std::string::npos);
}

TEST(TlsTransport, TicketsResumeAcrossContextsThatShareKeys) {
    files f;
    wharf::tls_error e;
    auto keys = std::make_shared<ticket_keys>(std::chrono::seconds(3600));
    auto first = build(f.config(), e, keys);
    auto reloaded = build(f.config(), e, keys); // a reload keeps the keys
    auto stranger = build(f.config(), e);       // another server's keys
    ASSERT_TRUE(first && reloaded && stranger);
    SSL_SESSION* session = nullptr;
    {
        tls_pair p(first, "localhost");
        ASSERT_TRUE(p.handshake());
        const iovec iov{const_cast<char*>("hi"), 2};
        ASSERT_EQ(p.server->writev(&iov, 1, false), 2);
        EXPECT_EQ(p.client_read(), "hi"); // the ticket came before it
        session = SSL_get1_session(p.client);
        ASSERT_NE(session, nullptr);
        EXPECT_TRUE(SSL_SESSION_is_resumable(session));
        EXPECT_TRUE(SSL_SESSION_has_ticket(session));
        SSL_shutdown(p.client); // a client that closes without it marks the session not resumable
    }
    for (const auto& [ctx, resumes] :
         {std::pair{first, true}, std::pair{reloaded, true}, std::pair{stranger, false}}) {
        tls_pair p(ctx, "localhost");
        SSL_set_session(p.client, session);
        ASSERT_TRUE(p.handshake());
        EXPECT_EQ(p.server->tls()->resumed, resumes);
        EXPECT_EQ(SSL_session_reused(p.client) == 1, resumes);
        SSL_shutdown(p.client); // keeps `session` resumable for the next round
    }
    SSL_SESSION_free(session);
}

TEST(TlsTransport, SessionIdsResumeAfterTheServerClosedWithoutCloseNotify) {
    // TLS 1.2 clients without tickets resume from the server's session cache; a connection
    // that ended without close_notify (most do) must leave its session there.
    files f;
    wharf::tls_error e;
    auto ctx = build(f.config(), e);
    ASSERT_TRUE(ctx);
    SSL_SESSION* session = nullptr;
    {
        tls_pair p(ctx);
        SSL_set_options(p.client, SSL_OP_NO_TICKET);
        SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
        ASSERT_TRUE(p.handshake());
        EXPECT_EQ(p.server->tls()->version, "TLSv1.2");
        session = SSL_get1_session(p.client);
        SSL_shutdown(p.client);
    } // the server's end is freed without a close_notify of its own
    tls_pair p(ctx);
    SSL_set_options(p.client, SSL_OP_NO_TICKET);
    SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
    SSL_set_session(p.client, session);
    ASSERT_TRUE(p.handshake());
    EXPECT_TRUE(p.server->tls()->resumed);
    SSL_SESSION_free(session);
}

} // namespace
