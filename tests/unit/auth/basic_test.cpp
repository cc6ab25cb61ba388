// SPDX-License-Identifier: MIT
// Basic credentials (RFC 7617): strict base64 (RFC 4648 §4), then user-id ":" password in
// UTF-8, as tables: the RFC's own examples, bad base64, a missing colon, control characters,
// UTF-8 and not.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "auth/basic.hpp"

namespace {

using wharf::detail::auth::basic_error;
using wharf::detail::auth::decode_base64;
using wharf::detail::auth::encode_base64;
using wharf::detail::auth::parse_basic;

TEST(Base64, Rfc4648Vectors) {
    // RFC 4648 §10.
    const std::pair<std::string_view, std::string_view> rows[] = {
        {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, coded] : rows) {
        EXPECT_EQ(encode_base64(plain), coded);
        const auto back = decode_base64(coded);
        ASSERT_TRUE(back.has_value()) << coded;
        EXPECT_EQ(*back, plain);
    }
    EXPECT_EQ(encode_base64(""), "");
    const std::string bytes("\x00\xff\x10\x80", 4);
    EXPECT_EQ(decode_base64(encode_base64(bytes)), bytes);
}

TEST(Base64, StrictDecoding) {
    for (std::string_view bad : {
             "",         // nothing (an empty Basic credential is refused anyway)
             "Zg",       // unpadded
             "Zg=",      // short padding
             "Zm9",      // not a multiple of four
             "Zm9v\n",   // whitespace
             "Zm 9v",    // a space inside
             "Zm9v====", // padding alone
             "Zh==",     // bits set in the padding: 'h' leaves 4 non-zero bits
             "Zm9=",     // the same with one '='
             "Zm-v",     // base64url's '-' is not the standard alphabet
             "Zm_v",     // nor '_'
             "Z===",     // three '='
             "=Zm9",     // padding first
             "Zm=v",     // padding in the middle
         })
        EXPECT_FALSE(decode_base64(bad).has_value()) << bad;
}

struct basic_row {
    std::string_view token68;
    basic_error error;
    std::string_view user, password;
};

TEST(Basic, Table) {
    const basic_row rows[] = {
        // RFC 7617 §2: Aladdin / open sesame.
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ==", basic_error::none, "Aladdin", "open sesame"},
        // RFC 7617 §2.1: "test" / "123£" in UTF-8.
        {"dGVzdDoxMjPCow==", basic_error::none, "test", "123\xc2\xa3"},
        // The password may hold colons; the user-id ends at the first.
        {"YWxpY2U6d29uOmRlcjpsYW5k", basic_error::none, "alice", "won:der:land"},
        // Empty password (allowed), empty user-id (parsed; the filter refuses it).
        {"YWxpY2U6", basic_error::none, "alice", ""},
        {"OnB3", basic_error::none, "", "pw"},
        // Bad base64.
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ", basic_error::not_base64, "", ""},
        {"QWxhZGRpbjpvcGVuIHNlc2FtZQ=", basic_error::not_base64, "", ""},
        {"!!!!", basic_error::not_base64, "", ""},
        {"", basic_error::not_base64, "", ""},
        {"a=\"b\"", basic_error::not_base64, "", ""}, // auth-params are no token68
        // No colon: "Aladdin".
        {"QWxhZGRpbg==", basic_error::no_colon, "", ""},
        // Control characters (RFC 7617 §2): "ali\nce:pw", "alice:p\x7fw", "alice:p\tw".
        {"YWxpCmNlOnB3", basic_error::control, "", ""},
        {"YWxpY2U6cH93", basic_error::control, "", ""},
        {"YWxpY2U6cAl3", basic_error::control, "", ""},
        // Not UTF-8: "test:123\xa3" (ISO-8859-1, which charset="UTF-8" rules out) and an
        // overlong "/" ("a:\xc0\xaf").
        {"dGVzdDoxMjOj", basic_error::not_utf8, "", ""},
        {"YTrArw==", basic_error::not_utf8, "", ""},
        // UTF-8 user names are fine: "J\u00e4ger:x".
        {"SsOkZ2VyOng=", basic_error::none, "J\xc3\xa4ger", "x"},
    };
    for (const basic_row& r : rows) {
        SCOPED_TRACE(std::string(r.token68));
        const auto got = parse_basic(r.token68);
        EXPECT_EQ(got.error, r.error);
        if (r.error != basic_error::none) continue;
        EXPECT_EQ(got.user, r.user);
        EXPECT_EQ(got.password, r.password);
    }
}

} // namespace
