// SPDX-License-Identifier: MIT
// Digest credentials (RFC 7616): the RFC's own example (§3.9.1, MD5 and SHA-256) parsed from
// its Authorization text and recomputed, the rspauth of Authentication-Info, and a table of
// credentials the parser must refuse.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "auth/crypto.hpp"
#include "auth/digest.hpp"

namespace {

using wharf::digest_algorithm;
using wharf::detail::auth::algorithm_name;
using wharf::detail::auth::digest_error;
using wharf::detail::auth::digest_ha1;
using wharf::detail::auth::digest_response;
using wharf::detail::auth::digest_rspauth;
using wharf::detail::auth::hash_hex;
using wharf::detail::auth::parse_digest;
using wharf::detail::auth::same_secret;

// RFC 7616 §3.9.1: user "Mufasa", password "Circle of Life", GET /dir/index.html.
constexpr std::string_view rfc_nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view rfc_cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view rfc_opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
constexpr std::string_view rfc_md5_response = "8ca523f5e9506fed4657c9700eebdbec";
constexpr std::string_view rfc_sha256_response =
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";

// The credentials of the example, as the RFC prints them (after "Digest "), but on one line:
// the RFC folds them, a field value cannot be.
std::string rfc_credentials(std::string_view algorithm, std::string_view response) {
    std::string folded = std::string("username=\"Mufasa\",\n"
                                     "       realm=\"http-auth@example.org\",\n"
                                     "       uri=\"/dir/index.html\",\n"
                                     "       algorithm=") +
                         std::string(algorithm) +
                         ",\n"
                         "       nonce=\"" +
                         std::string(rfc_nonce) +
                         "\",\n"
                         "       nc=00000001,\n"
                         "       cnonce=\"" +
                         std::string(rfc_cnonce) +
                         "\",\n"
                         "       qop=auth,\n"
                         "       response=\"" +
                         std::string(response) +
                         "\",\n"
                         "       opaque=\"" +
                         std::string(rfc_opaque) + "\"";
    std::string out;
    for (char c : folded)
        if (c != '\n') out += c;
    return out;
}

TEST(Digest, Rfc7616ExampleVectors) {
    struct row {
        digest_algorithm algorithm;
        std::string_view response;
    };
    for (const row& r : {row{digest_algorithm::md5, rfc_md5_response},
                         row{digest_algorithm::sha256, rfc_sha256_response}}) {
        const std::string text = rfc_credentials(algorithm_name(r.algorithm), r.response);
        SCOPED_TRACE(text);
        const auto c = parse_digest(text);
        ASSERT_TRUE(c.ok()) << static_cast<int>(c.error);
        EXPECT_EQ(c.username, "Mufasa");
        EXPECT_EQ(c.realm, "http-auth@example.org");
        EXPECT_EQ(c.uri, "/dir/index.html");
        EXPECT_EQ(c.algorithm, r.algorithm);
        EXPECT_EQ(c.nonce, rfc_nonce);
        EXPECT_EQ(c.nc, 1u);
        EXPECT_EQ(c.nc_text, "00000001");
        EXPECT_EQ(c.cnonce, rfc_cnonce);
        EXPECT_EQ(c.qop, "auth");
        EXPECT_EQ(c.response, r.response);
        ASSERT_TRUE(c.opaque.has_value());
        EXPECT_EQ(*c.opaque, rfc_opaque);

        const std::string ha1 =
            digest_ha1(r.algorithm, "Mufasa", "http-auth@example.org", "Circle of Life");
        EXPECT_EQ(digest_response(r.algorithm, ha1, c, "GET"), r.response);
        // The method is part of A2: another one gives another response.
        EXPECT_NE(digest_response(r.algorithm, ha1, c, "POST"), r.response);
        // A wrong password, too.
        EXPECT_NE(digest_response(
                      r.algorithm,
                      digest_ha1(r.algorithm, "Mufasa", "http-auth@example.org", "circle of life"),
                      c, "GET"),
                  r.response);
    }
}

TEST(Digest, Ha1AndHashes) {
    // HA1 is H(user ":" realm ":" password) in lower-case hex, of the algorithm's length.
    EXPECT_EQ(
        digest_ha1(digest_algorithm::md5, "Mufasa", "http-auth@example.org", "Circle of Life"),
        hash_hex(digest_algorithm::md5, {"Mufasa:http-auth@example.org:Circle of Life"}));
    EXPECT_EQ(hash_hex(digest_algorithm::md5, {""}), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hash_hex(digest_algorithm::sha256, {"abc"}),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hash_hex(digest_algorithm::sha256, {"a", "b"}),
              hash_hex(digest_algorithm::sha256, {"a:b"}));
}

TEST(Digest, Rspauth) {
    // RFC 7616 §3.5: like the response, with A2 = ":" uri.
    const auto c = parse_digest(rfc_credentials("SHA-256", rfc_sha256_response));
    ASSERT_TRUE(c.ok());
    const std::string ha1 =
        digest_ha1(digest_algorithm::sha256, "Mufasa", "http-auth@example.org", "Circle of Life");
    const std::string ha2 = hash_hex(digest_algorithm::sha256, {":/dir/index.html"});
    EXPECT_EQ(
        digest_rspauth(digest_algorithm::sha256, ha1, c),
        hash_hex(digest_algorithm::sha256, {ha1, rfc_nonce, "00000001", rfc_cnonce, "auth", ha2}));
    EXPECT_NE(digest_rspauth(digest_algorithm::sha256, ha1, c), rfc_sha256_response);
}

TEST(Digest, Defaults) {
    // No algorithm: MD5 (RFC 7616 §3.4). Unknown parameters are ignored. Values may be
    // tokens where the RFC quotes them, and quoted where it does not.
    const auto c = parse_digest(
        "username=Mufasa, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"abc\", qop=\"auth\", "
        "nc=0000000A, cnonce=\"c\", future=\"x\", userhash=false");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.algorithm, digest_algorithm::md5);
    EXPECT_EQ(c.nc, 10u);
    EXPECT_EQ(c.nc_text, "0000000A"); // hashed as sent
    EXPECT_FALSE(c.opaque.has_value());
    EXPECT_EQ(parse_digest(rfc_credentials("sha-256", "x")).algorithm, digest_algorithm::sha256);
}

TEST(Digest, UsernameStar) {
    // RFC 7616 §3.4.4 / RFC 8187: username* with a UTF-8 ext-value.
    const std::string rest =
        ", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"x\", qop=auth, nc=00000001, "
        "cnonce=\"c\"";
    const auto c = parse_digest("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" + rest);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.username, "J\xc3\xa4s\xc3\xb8n Doe");
    EXPECT_EQ(parse_digest("username*=utf-8'en'abc" + rest).username, "abc");
    for (std::string_view bad :
         {"username*=ISO-8859-1''J%E4ger", "username*=UTF-8''%C3", "username*=UTF-8''%zz",
          "username*=UTF-8'x", "username*=''a", "username*=UTF-8''"})
        EXPECT_EQ(parse_digest(std::string(bad) + rest).error, digest_error::bad_username) << bad;
    EXPECT_EQ(parse_digest("username=\"a\", username*=UTF-8''a" + rest).error,
              digest_error::two_usernames);
}

struct refuse_row {
    std::string_view what;
    std::string credentials;
    digest_error error;
};

// Complete credentials with the parameter `name` left out, and `extra` (if any) added.
std::string credentials_with(std::string_view name, std::string_view extra = {}) {
    constexpr std::string_view all[][2] = {
        {"username", "\"u\""}, {"realm", "\"r\""}, {"nonce", "\"n\""}, {"uri", "\"/\""},
        {"response", "\"x\""}, {"qop", "auth"},    {"nc", "00000001"}, {"cnonce", "\"c\""},
    };
    std::string out;
    for (const auto& p : all) {
        if (p[0] == name) continue;
        if (!out.empty()) out += ", ";
        out.append(p[0]).append("=").append(p[1]);
    }
    if (!extra.empty()) out.append(", ").append(extra);
    return out;
}

TEST(Digest, RefusedCredentials) {
    const refuse_row rows[] = {
        {"syntax", "username=\"u\" realm=\"r\"", digest_error::syntax},
        {"unterminated", "username=\"u", digest_error::syntax},
        {"token68", "dXNlcjpwYXNz", digest_error::syntax},
        {"empty", "", digest_error::missing},
        {"duplicate nonce", credentials_with("", "nonce=\"m\""), digest_error::duplicate},
        {"duplicate any case", credentials_with("", "URI=\"/\""), digest_error::duplicate},
        {"no username", credentials_with("username"), digest_error::missing},
        {"no realm", credentials_with("realm"), digest_error::missing},
        {"no nonce", credentials_with("nonce"), digest_error::missing},
        {"no uri", credentials_with("uri"), digest_error::missing},
        {"no response", credentials_with("response"), digest_error::missing},
        {"no qop (RFC 2069)", credentials_with("qop"), digest_error::missing},
        {"no nc", credentials_with("nc"), digest_error::missing},
        {"no cnonce", credentials_with("cnonce"), digest_error::missing},
        {"MD5-sess", credentials_with("", "algorithm=MD5-sess"),
         digest_error::unsupported_algorithm},
        {"SHA-256-sess", credentials_with("", "algorithm=SHA-256-sess"),
         digest_error::unsupported_algorithm},
        {"SHA-512-256", credentials_with("", "algorithm=SHA-512-256"),
         digest_error::unsupported_algorithm},
        {"auth-int", credentials_with("qop", "qop=auth-int"), digest_error::unsupported_qop},
        {"two qops", credentials_with("qop", "qop=\"auth,auth-int\""),
         digest_error::unsupported_qop},
        {"nc zero", credentials_with("nc", "nc=00000000"), digest_error::bad_nc},
        {"nc short", credentials_with("nc", "nc=1"), digest_error::bad_nc},
        {"nc long", credentials_with("nc", "nc=000000001"), digest_error::bad_nc},
        {"nc not hex", credentials_with("nc", "nc=0000000g"), digest_error::bad_nc},
        {"userhash", credentials_with("", "userhash=true"), digest_error::userhash},
        {"userhash garbage", credentials_with("", "userhash=maybe"), digest_error::userhash},
    };
    EXPECT_TRUE(parse_digest(credentials_with("")).ok()) << credentials_with("");
    for (const refuse_row& r : rows) {
        SCOPED_TRACE(std::string(r.what) + ": " + r.credentials);
        EXPECT_EQ(parse_digest(r.credentials).error, r.error);
    }
}

TEST(Digest, SameSecret) {
    EXPECT_TRUE(same_secret("", ""));
    EXPECT_TRUE(
        same_secret("8ca523f5e9506fed4657c9700eebdbec", "8ca523f5e9506fed4657c9700eebdbec"));
    EXPECT_FALSE(
        same_secret("8ca523f5e9506fed4657c9700eebdbec", "8ca523f5e9506fed4657c9700eebdbed"));
    EXPECT_FALSE(same_secret("abc", "abcd")); // a prefix is not equal
    EXPECT_FALSE(same_secret("abc", ""));
    EXPECT_FALSE(same_secret(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

} // namespace
