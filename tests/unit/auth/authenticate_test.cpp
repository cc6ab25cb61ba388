// SPDX-License-Identifier: MIT
// The authentication filter end to end, over an in-memory HTTP/1 connection (the harness of
// tests/unit/http1) with a clock the test moves: the exact 401 challenges, Basic and Digest
// (SHA-256, MD5, stored HA1) accepted, wrong or malformed credentials answered 401 and never
// 500, stale=true only for an expired nonce with a right response, nonce-count replays, the
// uri check (400), and the options it refuses.
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../http1/connection_harness.hpp"
#include "auth/auth_params.hpp"
#include "auth/authenticate.hpp"
#include "auth/basic.hpp"
#include "auth/crypto.hpp"
#include "auth/digest.hpp"
#include "wharf/filter.hpp"
#include "wharf/session.hpp"

namespace {

using namespace std::chrono_literals;
using wharf::digest_algorithm;
using wharf::detail::auth::encode_base64;
using wharf::detail::auth::hash_hex;
using wharf::detail::auth::parse_auth_params;

constexpr std::string_view realm = "wharf demo";

/// One response as the harness saw it.
struct reply {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    std::vector<std::string> all(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : fields)
            if (wharf::iequals(n, name)) out.push_back(v);
        return out;
    }
    std::optional<std::string> one(std::string_view name) const {
        const auto v = all(name);
        if (v.size() != 1) return std::nullopt;
        return v.front();
    }
};

reply parse_reply(const std::string& out) {
    reply r;
    const auto head_end = out.find("\r\n\r\n");
    if (out.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos) {
        ADD_FAILURE() << "not a response: " << out;
        return r;
    }
    r.status = std::stoi(out.substr(9, 3));
    std::size_t at = out.find("\r\n") + 2;
    while (at < head_end) {
        const auto eol = out.find("\r\n", at);
        const std::string line = out.substr(at, eol - at);
        const auto colon = line.find(':');
        r.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        at = eol + 2;
    }
    r.body = out.substr(head_end + 4);
    return r;
}

/// A test server: one route, /p, behind the filter; the handler answers "USER SCHEME".
class auth_server {
  public:
    explicit auth_server(wharf::auth_options o = options()) {
        filter_ = wharf::detail::auth::make_authenticate(
            std::move(o), [this] { return wharf::detail::auth::time_point(now_.load() * 1s); });
        harness_ = std::make_unique<wharf_test::connection_harness>(
            wharf_test::quiet_config(), [this](wharf::router& r) {
                r.any("/*", wharf::with_filters({filter_}, [](wharf::session& s) {
                          std::string text(s.request().user());
                          text.append(" ").append(s.request().auth_scheme());
                          s.response().body(text, "text/plain");
                      }));
            });
    }

    static wharf::auth_options options() {
        wharf::auth_options o;
        o.realm = std::string(realm);
        o.lookup = [](std::string_view user,
                      digest_algorithm a) -> std::optional<wharf::stored_credential> {
            if (user == "alice") return wharf::stored_credential{{}, "wonderland"};
            if (user == "J\xc3\xa4ger") return wharf::stored_credential{{}, "p\xc3\xa4ss"};
            if (user == "hashed") { // HA1 stored instead of the password "secret", upper case
                std::string ha1 = wharf::detail::auth::digest_ha1(a, "hashed", realm, "secret");
                for (char& ch : ha1)
                    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                return wharf::stored_credential{wharf::stored_credential::ha1, ha1};
            }
            return std::nullopt;
        };
        return o;
    }

    /// GET (or `method`) `target` with the given extra header lines ("Name: value\r\n"...).
    reply request(std::string_view target, std::string_view fields = {},
                  std::string_view method = "GET") {
        std::string req;
        req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: h.test\r\n");
        req.append(fields).append("\r\n");
        return parse_reply(harness_->run({req}));
    }
    reply with_authorization(std::string_view value, std::string_view target = "/p",
                             std::string_view method = "GET") {
        return request(target, "Authorization: " + std::string(value) + "\r\n", method);
    }

    void advance(std::chrono::seconds s) { now_ += s.count(); }

  private:
    std::atomic<std::int64_t> now_{1'800'000'000};
    std::shared_ptr<wharf::filter> filter_;
    std::unique_ptr<wharf_test::connection_harness> harness_;
};

/// The parameters of a Digest challenge.
std::map<std::string, std::string> challenge_params(std::string_view value) {
    EXPECT_EQ(value.substr(0, 7), "Digest ");
    const auto p = parse_auth_params(value.substr(7));
    EXPECT_TRUE(p.ok()) << value;
    std::map<std::string, std::string> out;
    for (const auto& param : p.params)
        out[std::string(param.name)] = param.value;
    return out;
}

/// The Digest challenge of `r` for `algorithm`.
std::map<std::string, std::string> digest_challenge(const reply& r, std::string_view algorithm) {
    for (const std::string& v : r.all("WWW-Authenticate"))
        if (v.rfind("Digest ", 0) == 0) {
            auto p = challenge_params(v);
            if (p["algorithm"] == algorithm) return p;
        }
    ADD_FAILURE() << "no Digest challenge for " << algorithm;
    return {};
}

struct digest_client {
    std::string user = "alice", password = "wonderland";
    std::string algorithm = "SHA-256"; // as sent; "" sends none (MD5)
    std::string realm_sent = std::string(realm);
    std::string nonce, opaque;
    std::string cnonce = "0a4f113b";
    std::uint32_t nc = 0;

    digest_algorithm alg() const {
        return algorithm == "SHA-256" ? digest_algorithm::sha256 : digest_algorithm::md5;
    }
    void take(const std::map<std::string, std::string>& challenge) {
        nonce = challenge.at("nonce");
        opaque = challenge.at("opaque");
        nc = 0;
    }
    std::string ha1() const { return hash_hex(alg(), {user, realm_sent, password}); }
    std::string nc_text(std::uint32_t n) const {
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08x", n);
        return buf;
    }
    std::string response(std::string_view method, std::string_view uri, std::uint32_t n) const {
        return hash_hex(alg(),
                        {ha1(), nonce, nc_text(n), cnonce, "auth", hash_hex(alg(), {method, uri})});
    }
    /// The Authorization value for the next request (nc counts up), or for count `n`.
    std::string authorization(std::string_view method, std::string_view uri,
                              std::optional<std::uint32_t> n = std::nullopt,
                              std::string_view uri_sent = {}) {
        const std::uint32_t count = n ? *n : ++nc;
        std::string v = "Digest username=\"" + user + "\", realm=\"" + realm_sent + "\", nonce=\"" +
                        nonce + "\", uri=\"" + std::string(uri_sent.empty() ? uri : uri_sent) +
                        "\"";
        if (!algorithm.empty()) v += ", algorithm=" + algorithm;
        v += ", qop=auth, nc=" + nc_text(count) + ", cnonce=\"" + cnonce + "\", response=\"" +
             response(method, uri_sent.empty() ? uri : uri_sent, count) + "\", opaque=\"" + opaque +
             "\"";
        return v;
    }
};

void expect_challenges(const reply& r, bool stale,
                       std::vector<std::string_view> algorithms = {"SHA-256", "MD5"},
                       bool basic = true) {
    EXPECT_EQ(r.status, 401);
    const auto values = r.all("WWW-Authenticate");
    ASSERT_EQ(values.size(), algorithms.size() + (basic ? 1 : 0));
    std::string nonce;
    for (std::size_t i = 0; i < algorithms.size(); ++i) {
        // The exact form: realm, qop, algorithm, nonce, opaque, and stale=true when stale.
        const std::string& v = values[i];
        auto p = challenge_params(v);
        EXPECT_EQ(p["algorithm"], algorithms[i]);
        const std::string want =
            "Digest realm=\"wharf demo\", qop=\"auth\", algorithm=" + std::string(algorithms[i]) +
            ", nonce=\"" + p["nonce"] + "\", opaque=\"" + p["opaque"] + "\"" +
            (stale ? ", stale=true" : "");
        EXPECT_EQ(v, want);
        EXPECT_EQ(p["nonce"].size(), 48u);
        EXPECT_EQ(p["opaque"].size(), 32u);
        if (i == 0) nonce = p["nonce"];
        EXPECT_EQ(p["nonce"], nonce) << "one nonce for every algorithm";
    }
    if (basic) {
        EXPECT_EQ(values.back(), "Basic realm=\"wharf demo\", charset=\"UTF-8\"");
    }
    EXPECT_EQ(r.one("Authentication-Info"), std::nullopt);
}

std::string basic(std::string_view user_pass) {
    return "Basic " + encode_base64(user_pass);
}

TEST(Authenticate, NoCredentialsGetsEveryChallenge) {
    auth_server srv;
    const reply r = srv.request("/p");
    expect_challenges(r, false);
    EXPECT_EQ(r.body, "Unauthorized\n");
    // A fresh nonce every time.
    EXPECT_NE(challenge_params(srv.request("/p").all("WWW-Authenticate")[0])["nonce"],
              challenge_params(r.all("WWW-Authenticate")[0])["nonce"]);
}

TEST(Authenticate, Basic) {
    auth_server srv;
    reply r = srv.with_authorization(basic("alice:wonderland"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "alice basic");
    EXPECT_TRUE(r.all("WWW-Authenticate").empty());
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    EXPECT_EQ(srv.with_authorization("bAsIc " + encode_base64("alice:wonderland")).status, 200);
    // UTF-8 user and password (charset="UTF-8").
    EXPECT_EQ(srv.with_authorization(basic("J\xc3\xa4ger:p\xc3\xa4ss")).body, "J\xc3\xa4ger basic");
    // A stored HA1 checks a Basic password too.
    EXPECT_EQ(srv.with_authorization(basic("hashed:secret")).body, "hashed basic");
    for (std::string_view wrong : {"alice:Wonderland", "alice:", "alice:wonderland ",
                                   "bob:wonderland", ":wonderland", "hashed:Secret"})
        expect_challenges(srv.with_authorization(basic(wrong)), false);
}

TEST(Authenticate, DigestSha256AndMd5) {
    auth_server srv;
    for (std::string_view algorithm : {"SHA-256", "MD5"}) {
        SCOPED_TRACE(std::string(algorithm));
        digest_client c;
        c.algorithm = algorithm;
        c.take(digest_challenge(srv.request("/p"), algorithm));
        for (int i = 1; i <= 3; ++i) { // the same nonce, counting up
            const reply r = srv.with_authorization(c.authorization("GET", "/p"));
            ASSERT_EQ(r.status, 200);
            EXPECT_EQ(r.body, "alice digest");
            // Authentication-Info (RFC 7616 §3.5) proves the server knows HA1.
            const std::string rspauth =
                hash_hex(c.alg(), {c.ha1(), c.nonce, c.nc_text(c.nc), c.cnonce, "auth",
                                   hash_hex(c.alg(), {"", "/p"})});
            EXPECT_EQ(r.one("Authentication-Info"), "qop=auth, rspauth=\"" + rspauth +
                                                        "\", cnonce=\"" + c.cnonce +
                                                        "\", nc=" + c.nc_text(c.nc));
        }
        // Other methods and targets, with their own A2.
        EXPECT_EQ(
            srv.with_authorization(c.authorization("POST", "/p/x?y=1"), "/p/x?y=1", "POST").status,
            200);
    }
}

TEST(Authenticate, DigestDetails) {
    auth_server srv;
    digest_client c;
    c.take(digest_challenge(srv.request("/p"), "SHA-256"));
    // No algorithm parameter means MD5 (RFC 7616 §3.4).
    digest_client md5 = c;
    md5.algorithm = "";
    EXPECT_EQ(srv.with_authorization(md5.authorization("GET", "/p")).status, 200);
    // A stored HA1 (in upper-case hex) instead of the password.
    digest_client hashed = c;
    hashed.user = "hashed";
    hashed.password = "secret";
    hashed.nc = 10; // counts belong to the nonce, whoever sends them: not md5's 1 again
    EXPECT_EQ(srv.with_authorization(hashed.authorization("GET", "/p")).body, "hashed digest");
    // Upper-case hex in the response is the same digest.
    c.nc = 20;
    std::string upper = c.authorization("GET", "/p");
    const auto at = upper.find("response=\"") + 10;
    for (std::size_t i = at; upper[i] != '"'; ++i)
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    EXPECT_EQ(srv.with_authorization(upper).status, 200);
    // Without opaque: accepted (clients SHOULD return it; RFC 7616 §3.3).
    std::string no_opaque = c.authorization("GET", "/p");
    no_opaque.erase(no_opaque.find(", opaque="));
    EXPECT_EQ(srv.with_authorization(no_opaque).status, 200);
    // Counts out of order within the window (parallel connections).
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 30)).status, 200);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 28)).status, 200);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 29)).status, 200);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 28)).status, 401);
}

TEST(Authenticate, DigestRefusals) {
    auth_server srv;
    digest_client good;
    good.take(digest_challenge(srv.request("/p"), "SHA-256"));

    const auto refused = [&](digest_client c, std::string_view what) {
        SCOPED_TRACE(std::string(what));
        expect_challenges(srv.with_authorization(c.authorization("GET", "/p")), false);
    };
    digest_client c = good;
    c.password = "Wonderland";
    refused(c, "wrong password");
    c = good;
    c.user = "nobody";
    refused(c, "unknown user");
    c = good;
    c.realm_sent = "other";
    refused(c, "another realm");
    c = good;
    c.opaque = "00112233445566778899aabbccddeeff";
    refused(c, "another opaque");
    c = good;
    c.algorithm = "SHA-512-256";
    refused(c, "an algorithm not offered");
    c = good;
    c.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"; // RFC 7616's: not ours
    refused(c, "a forged nonce");
    c = good;
    c.nonce[5] = c.nonce[5] == 'A' ? 'B' : 'A';
    refused(c, "a tampered nonce");
    // A nonce from a server with another key (a restarted one without nonce_key).
    c = good;
    c.nonce = wharf::detail::auth::nonce_issuer("another key", std::string(realm), 300s)
                  .issue(wharf::detail::auth::time_point(1'800'000'000s));
    refused(c, "another server's nonce");
    // The same count twice: a replay, refused without stale (the nonce is fine, the request
    // is not new).
    c = good;
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 1)).status, 200);
    expect_challenges(srv.with_authorization(c.authorization("GET", "/p", 1)), false);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p", 2)).status, 200);
    expect_challenges(srv.with_authorization(c.authorization("GET", "/p", 2)), false);
    // A replay of a successful request, even on another method, is refused.
    EXPECT_EQ(srv.with_authorization(c.authorization("HEAD", "/p", 3), "/p", "HEAD").status, 200);
    expect_challenges(srv.with_authorization(c.authorization("GET", "/p", 3)), false);
    // The response of another method: wrong.
    std::string other_method = c.authorization("POST", "/p", 4);
    expect_challenges(srv.with_authorization(other_method), false);
}

TEST(Authenticate, DigestUriMustBeTheRequestTarget) {
    auth_server srv;
    digest_client c;
    c.take(digest_challenge(srv.request("/p"), "SHA-256"));
    // RFC 7616 §3.4.6: credentials for another resource are a 400 (even if right for it).
    for (std::string_view other : {"/q", "/p?x", "/P", "/p/", "/%70", "http://h.test/q",
                                   "https://h.test/p", "http://other.test/p", "*"}) {
        SCOPED_TRACE(std::string(other));
        const reply r = srv.with_authorization(c.authorization("GET", other), "/p");
        EXPECT_EQ(r.status, 400);
        EXPECT_TRUE(r.all("WWW-Authenticate").empty());
    }
    // The same resource in absolute form (a client configured for a proxy).
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "http://h.test/p"), "/p").status, 200);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "http://H.TEST/p"), "/p").status, 200);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p?a=1&b"), "/p?a=1&b").status, 200);
}

TEST(Authenticate, StaleOnlyForAnExpiredNonceWithTheRightResponse) {
    auth_server srv; // 300 s nonces
    digest_client c;
    c.take(digest_challenge(srv.request("/p"), "SHA-256"));
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p")).status, 200);
    srv.advance(300s);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p")).status, 200); // still good
    srv.advance(1s);
    // Expired, right response: stale=true on every Digest challenge, with a new nonce.
    const reply r = srv.with_authorization(c.authorization("GET", "/p"));
    expect_challenges(r, true);
    const auto fresh = digest_challenge(r, "MD5");
    EXPECT_NE(fresh.at("nonce"), c.nonce);
    // Expired, wrong password: not stale (the user must be asked again).
    digest_client wrong = c;
    wrong.password = "guess";
    expect_challenges(srv.with_authorization(wrong.authorization("GET", "/p")), false);
    // Expired and a replayed count: stale still (the nonce's age is checked first, and a
    // client retrying with the new nonce proves itself again).
    expect_challenges(srv.with_authorization(c.authorization("GET", "/p", 1)), true);
    // The client retries with the new nonce, without asking the user: accepted.
    c.take(fresh);
    EXPECT_EQ(srv.with_authorization(c.authorization("GET", "/p")).status, 200);
}

TEST(Authenticate, EvictedNonceIsStaleNeverAcceptedTwice) {
    wharf::auth_options o = auth_server::options();
    o.replay_entries = 1; // one nonce remembered
    auth_server srv(o);
    digest_client a, b;
    a.take(digest_challenge(srv.request("/p"), "SHA-256"));
    srv.advance(1s); // b's nonce is newer than a's
    b.take(digest_challenge(srv.request("/p"), "SHA-256"));
    const std::string a1 = a.authorization("GET", "/p");
    EXPECT_EQ(srv.with_authorization(a1).status, 200);
    EXPECT_EQ(srv.with_authorization(b.authorization("GET", "/p")).status, 200); // evicts a
    // a's counts are forgotten: its replay (or its next count) gets stale=true, not a 200.
    expect_challenges(srv.with_authorization(a1), true);
    expect_challenges(srv.with_authorization(a.authorization("GET", "/p")), true);
    // b's nonce is still remembered.
    EXPECT_EQ(srv.with_authorization(b.authorization("GET", "/p")).status, 200);
    expect_challenges(srv.with_authorization(b.authorization("GET", "/p", 1)), false);
}

TEST(Authenticate, MalformedAuthorizationIs401) {
    auth_server srv;
    const std::string nonce = digest_challenge(srv.request("/p"), "SHA-256").at("nonce");
    const std::vector<std::string> values = {
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic " + encode_base64("no colon"),
        "Basic " + encode_base64("alice:wonder\nland"),
        "Basic " + encode_base64("alice:wonderland") + " extra",
        "Basic realm=\"x\"",
        "Basic QWxpY2U6d29uZGVybGFuZA", // unpadded
        "Digest",
        "Digest ",
        "Digest username",
        "Digest username=",
        "Digest username=\"alice",
        "Digest username=\"alice\\",
        "Digest username=\"alice\" realm=\"wharf demo\"",
        "Digest username=\"alice\", username=\"alice\"",
        "Digest username=\"alice\", realm=\"wharf demo\", nonce=\"" + nonce +
            "\", uri=\"/p\", qop=auth, nc=00000001, cnonce=\"x\"", // no response
        "Digest username=\"alice\", realm=\"wharf demo\", nonce=\"" + nonce +
            "\", uri=\"/p\", qop=auth, nc=zz, cnonce=\"x\", response=\"00\"",
        "Digest username=\"alice\", realm=\"wharf demo\", nonce=\"" + nonce +
            "\", uri=\"/p\", qop=auth-int, nc=00000001, cnonce=\"x\", response=\"00\"",
        "Digest username=\"alice\", realm=\"wharf demo\", nonce=\"" + nonce +
            "\", uri=\"/p\", response=\"00\"", // RFC 2069 style: no qop
        "Digest " + std::string(4000, ','),
        "Digest " + std::string(2000, 'a') + "=" + std::string(2000, 'b'),
        "Digest a=\"" + std::string(3000, '\\'),
        "Bearer abc",
        "Negotiate YIIB",
        "basicQWxpY2U6d29uZGVybGFuZA==",
        "\"Basic\" x",
        "Basic\xff abc",
        "Digest username=\"\xff\"",
        ",",
    };
    for (const std::string& v : values) {
        SCOPED_TRACE(v);
        expect_challenges(srv.with_authorization(v), false);
    }
    // Authorization twice (it is a singleton field): refused, even when each is right.
    const std::string good = basic("alice:wonderland");
    expect_challenges(
        srv.request("/p", "Authorization: " + good + "\r\nAuthorization: " + good + "\r\n"), false);
    // An empty field value.
    expect_challenges(srv.request("/p", "Authorization:\r\n"), false);
}

TEST(Authenticate, SchemesCanBeTurnedOff) {
    wharf::auth_options o = auth_server::options();
    o.basic = false;
    o.digest_algorithms = {digest_algorithm::sha256};
    auth_server digest_only(o);
    expect_challenges(digest_only.request("/p"), false, {"SHA-256"}, false);
    expect_challenges(digest_only.with_authorization(basic("alice:wonderland")), false, {"SHA-256"},
                      false);
    digest_client md5;
    md5.algorithm = "MD5";
    md5.take(digest_challenge(digest_only.request("/p"), "SHA-256"));
    expect_challenges(digest_only.with_authorization(md5.authorization("GET", "/p")), false,
                      {"SHA-256"}, false);

    o = auth_server::options();
    o.digest = false;
    auth_server basic_only(o);
    expect_challenges(basic_only.request("/p"), false, {}, true);
    EXPECT_EQ(basic_only.with_authorization(basic("alice:wonderland")).status, 200);
}

TEST(Authenticate, RefusesUnusableOptions) {
    const auto refused = [](wharf::auth_options o) {
        EXPECT_THROW((void)wharf::authenticate(std::move(o)), std::invalid_argument);
    };
    wharf::auth_options o = auth_server::options();
    o.lookup = nullptr;
    refused(o);
    o = auth_server::options();
    o.digest_algorithms.clear();
    refused(o);
    o = auth_server::options();
    o.digest_algorithms = {digest_algorithm::md5, digest_algorithm::md5};
    refused(o);
    o = auth_server::options();
    o.realm = "a\r\nb";
    refused(o);
    o = auth_server::options();
    o.nonce_lifetime = 0s;
    refused(o);
    o = auth_server::options();
    o.replay_entries = 0;
    refused(o);
    o = auth_server::options();
    o.basic = o.digest = false;
    refused(o);
    // Certificates alone need no lookup.
    o = {};
    o.basic = o.digest = false;
    o.certificate_user = [](const wharf::peer_certificate& c) { return c.subject_cn; };
    EXPECT_NO_THROW((void)wharf::authenticate(o));
}

TEST(Authenticate, RealmIsQuotedInChallenges) {
    wharf::auth_options o = auth_server::options();
    o.realm = "say \"hi\"";
    o.digest = false;
    auth_server srv(o);
    EXPECT_EQ(srv.request("/p").one("WWW-Authenticate"),
              "Basic realm=\"say \\\"hi\\\"\", charset=\"UTF-8\"");
}

} // namespace
