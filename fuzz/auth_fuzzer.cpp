// SPDX-License-Identifier: MIT
// The Authorization parsers (src/auth): the whole input is one field value, split after its
// scheme, and its rest read as a #auth-param list, as Digest credentials and as Basic's
// token68, and the value checked as a nonce. Invariants:
// - split_credentials: the scheme is a non-empty prefix; the rest lies inside the input.
// - parse_auth_params: on success at most max_auth_params names, each non-empty, inside the
//   input and unique in any case; writing the list back (name=quoted-value) and parsing it
//   again gives the same list. On failure, no parameters.
// - decode_base64 / parse_basic: base64 is canonical (encoding the decoded bytes gives the
//   input back); Basic credentials have a user without ':' and re-encode to the input.
// - parse_digest: accepted credentials have every required part and an nc of 8 hex digits,
//   not zero, and MD5 or SHA-256.
// - nonce_issuer::check: nothing but an issued nonce is valid (the HMAC cannot be guessed).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth_params.hpp"
#include "auth/basic.hpp"
#include "auth/digest.hpp"
#include "auth/nonce.hpp"
#include "fuzz_support.hpp"
#include "wharf/headers.hpp"

namespace {

using namespace wharf::detail::auth;

void check_params(std::string_view list, const char* buf, std::size_t len) {
    const params_result p = parse_auth_params(list);
    if (!p.ok()) {
        FUZZ_CHECK(p.params.empty());
        return;
    }
    FUZZ_CHECK(p.params.size() <= max_auth_params);
    std::string again;
    for (std::size_t i = 0; i < p.params.size(); ++i) {
        const auth_param& a = p.params[i];
        FUZZ_CHECK(!a.name.empty());
        FUZZ_CHECK(wharf_fuzz::inside(a.name, buf, len));
        for (std::size_t j = 0; j < i; ++j)
            FUZZ_CHECK(!wharf::iequals(p.params[j].name, a.name));
        if (!again.empty()) again += ", ";
        again.append(a.name).append("=").append(quoted(a.value));
    }
    const params_result q = parse_auth_params(again);
    FUZZ_CHECK(q.ok());
    FUZZ_CHECK(q.params.size() == p.params.size());
    for (std::size_t i = 0; i < q.params.size(); ++i) {
        FUZZ_CHECK(q.params[i].name == p.params[i].name);
        FUZZ_CHECK(q.params[i].value == p.params[i].value);
    }
}

void check_basic(std::string_view token68) {
    if (const auto decoded = decode_base64(token68)) FUZZ_CHECK(encode_base64(*decoded) == token68);
    const basic_credentials c = parse_basic(token68);
    if (!c.ok()) return;
    FUZZ_CHECK(c.user.find(':') == std::string::npos);
    FUZZ_CHECK(encode_base64(c.user + ":" + c.password) == token68);
}

void check_digest(std::string_view list) {
    const digest_credentials c = parse_digest(list);
    if (!c.ok()) return;
    FUZZ_CHECK(c.nc != 0);
    FUZZ_CHECK(c.nc_text.size() == 8);
    FUZZ_CHECK(wharf::iequals(c.qop, "auth"));
    FUZZ_CHECK(c.algorithm == wharf::digest_algorithm::md5 ||
               c.algorithm == wharf::digest_algorithm::sha256);
    // The response computation takes any credentials the parser accepted.
    (void)digest_response(c.algorithm, "0", c, "GET");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto buf = wharf_fuzz::copy_of(reinterpret_cast<const char*>(data), size);
    const std::string_view value(buf.get(), size);

    if (const auto split = split_credentials(value)) {
        FUZZ_CHECK(!split->scheme.empty());
        FUZZ_CHECK(split->scheme.data() == buf.get());
        FUZZ_CHECK(split->rest.empty() || wharf_fuzz::inside(split->rest, buf.get(), size));
        check_params(split->rest, buf.get(), size);
        check_basic(split->rest);
        check_digest(split->rest);
    }
    check_params(value, buf.get(), size);
    check_basic(value);
    check_digest(value);

    static const nonce_issuer issuer("fuzz key", "fuzz realm", std::chrono::seconds(300));
    const auto now = time_point(std::chrono::seconds(1'800'000'000));
    FUZZ_CHECK(issuer.check(value, now).state == nonce_state::invalid);
    static const std::string issued = issuer.issue(now);
    FUZZ_CHECK(issuer.check(issued, now).state == nonce_state::valid);
    return 0;
}
