// SPDX-License-Identifier: MIT
#include "auth/authenticate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "auth/auth_params.hpp"
#include "auth/basic.hpp"
#include "auth/crypto.hpp"
#include "auth/digest.hpp"
#include "wharf/session.hpp"

namespace wharf {
namespace detail::auth {
namespace {

bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

void check_options(const auth_options& o) {
    if (!o.basic && !o.digest && !o.certificate_user)
        throw std::invalid_argument("authenticate: no scheme is enabled");
    if ((o.basic || o.digest) && !o.lookup)
        throw std::invalid_argument("authenticate: Basic or Digest needs a lookup");
    if (o.digest && o.digest_algorithms.empty())
        throw std::invalid_argument("authenticate: Digest needs an algorithm");
    for (auto a = o.digest_algorithms.begin(); a != o.digest_algorithms.end(); ++a)
        if (std::find(a + 1, o.digest_algorithms.end(), *a) != o.digest_algorithms.end())
            throw std::invalid_argument("authenticate: a Digest algorithm is listed twice");
    if (has_control(o.realm))
        throw std::invalid_argument("authenticate: the realm holds a control character");
    if (o.nonce_lifetime.count() <= 0)
        throw std::invalid_argument("authenticate: the nonce lifetime must be positive");
    if (o.replay_entries == 0)
        throw std::invalid_argument("authenticate: the replay table needs room");
}

// An absolute-form URI split at its path: "http://a.example:8080/p?q" gives scheme "http",
// authority "a.example:8080" and "/p?q" ("/" when the path is empty, RFC 9110 §4.2.3).
struct absolute_uri {
    std::string_view scheme, authority, path;
};
std::optional<absolute_uri> split_absolute(std::string_view s) noexcept {
    const auto colon = s.find("://");
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = s.substr(0, colon);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
    const std::string_view rest = s.substr(colon + 3);
    const auto end = rest.find_first_of("/?");
    if (end == std::string_view::npos) return absolute_uri{scheme, rest, "/"};
    const std::string_view path = rest.substr(end);
    return absolute_uri{scheme, rest.substr(0, end),
                        path.front() == '?' ? std::string_view{} : path};
}

// RFC 7616 §3.4.6: the uri parameter must designate the resource of the request target. It
// is normally the same string; an absolute-form uri (sent by a client that talks through a
// proxy) names the same resource when its scheme is the connection's and its authority and
// path are the request's. Anything else differs: no decoding or normalising.
bool same_resource(std::string_view uri, const request& req) {
    const std::string_view target = req.target();
    if (uri == target) return true;
    const auto u = split_absolute(uri);
    const auto t = split_absolute(target);
    if (!u && !t) return false;
    if (u && !iequals(u->scheme, req.tls() != nullptr ? "https" : "http")) return false;
    const std::string_view uri_authority = u ? u->authority : req.host();
    const std::string_view target_authority = t ? t->authority : req.host();
    if (!iequals(uri_authority, target_authority)) return false;
    const std::string_view uri_path = u ? u->path : uri;
    const std::string_view target_path = t ? t->path : target;
    return !uri_path.empty() && uri_path == target_path;
}

class auth_filter final : public filter {
  public:
    auth_filter(auth_options options, clock_fn clock)
        : options_(std::move(options)), clock_(std::move(clock)),
          nonces_(options_.nonce_key.empty() ? random_bytes(32) : options_.nonce_key,
                  options_.realm, options_.nonce_lifetime),
          counts_(options_.replay_entries) {
        const std::string realm = quoted(options_.realm);
        if (options_.digest)
            for (digest_algorithm a : options_.digest_algorithms)
                digest_prefixes_.push_back(fmt::format(
                    "Digest realm={}, qop=\"auth\", algorithm={}", realm, algorithm_name(a)));
        if (options_.basic)
            basic_challenge_ = fmt::format("Basic realm={}, charset=\"UTF-8\"", realm);
    }

    verdict before(session& s) override {
        request& req = s.request();
        const std::size_t fields = req.headers().count("authorization");
        if (fields == 0 && try_certificate(req)) return verdict::next;
        outcome result = outcome::refused;
        // Authorization is a singleton field: two of them are malformed, answered like any
        // other bad credentials.
        if (fields == 1) result = check(s, *req.header("authorization"));
        if (result == outcome::accepted) return verdict::next;
        if (result == outcome::wrong_uri) {
            // RFC 7616 §3.4.6: credentials made for another resource than the request's are
            // a 400 (a proxy that rewrote the target, or a replay against another resource).
            s.response().status(400);
            s.response().body("Bad Request: the Digest uri is not the request target\n",
                              "text/plain; charset=utf-8");
            return verdict::answered;
        }
        challenge(s.response(), result == outcome::stale);
        return verdict::answered;
    }

  private:
    enum class outcome : std::uint8_t { accepted, refused, stale, wrong_uri };

    bool try_certificate(request& req) const {
        const tls_info* tls = req.tls();
        if (!options_.certificate_user || tls == nullptr || !tls->client || !tls->client->verified)
            return false;
        auto user = options_.certificate_user(*tls->client);
        if (!user || user->empty()) return false;
        req.set_user(std::move(*user), "tls");
        return true;
    }

    // Every failure is a 401 with fresh challenges, malformed credentials included: RFC 9110
    // §11.6.1 asks for 401 whenever the credentials are not acceptable, a client that sent
    // garbage can only recover with new challenges, and a 400 would tell a prober which
    // check failed.
    outcome check(session& s, std::string_view value) {
        const auto credentials = split_credentials(value);
        if (!credentials) return outcome::refused;
        if (options_.basic && iequals(credentials->scheme, "Basic"))
            return check_basic(s.request(), credentials->rest);
        if (options_.digest && iequals(credentials->scheme, "Digest"))
            return check_digest(s, credentials->rest);
        return outcome::refused;
    }

    digest_algorithm basic_algorithm() const noexcept {
        return options_.digest_algorithms.empty() ? digest_algorithm::sha256
                                                  : options_.digest_algorithms.front();
    }

    outcome check_basic(request& req, std::string_view token68) {
        basic_credentials c = parse_basic(token68);
        if (!c.ok() || c.user.empty()) return outcome::refused;
        const digest_algorithm algorithm = basic_algorithm();
        const auto stored = options_.lookup(c.user, algorithm);
        bool right = false;
        if (!stored) {
            (void)same_secret(c.password, c.user); // as long as a known user's check
        } else if (stored->kind == stored_credential::password) {
            right = same_secret(c.password, stored->secret);
        } else {
            right = same_secret(digest_ha1(algorithm, c.user, options_.realm, c.password),
                                ascii_lower(stored->secret));
        }
        if (!right) return outcome::refused;
        req.set_user(std::move(c.user), "basic");
        return outcome::accepted;
    }

    outcome check_digest(session& s, std::string_view params) {
        request& req = s.request();
        digest_credentials c = parse_digest(params);
        if (!c.ok() || c.username.empty()) return outcome::refused;
        if (!same_resource(c.uri, req)) return outcome::wrong_uri;
        // The credentials must answer one of our challenges.
        if (c.realm != options_.realm ||
            std::find(options_.digest_algorithms.begin(), options_.digest_algorithms.end(),
                      c.algorithm) == options_.digest_algorithms.end() ||
            (c.opaque && *c.opaque != nonces_.opaque()))
            return outcome::refused;
        const time_point now = clock_();
        const nonce_check nonce = nonces_.check(c.nonce, now);
        if (nonce.state == nonce_state::invalid) return outcome::refused;

        const auto stored = options_.lookup(c.username, c.algorithm);
        std::string ha1;
        if (stored && stored->kind == stored_credential::password)
            ha1 = digest_ha1(c.algorithm, c.username, options_.realm, stored->secret);
        else if (stored)
            ha1 = ascii_lower(stored->secret);
        // An unknown user costs the same hashing as a known one.
        const std::string expected = digest_response(c.algorithm, ha1, c, req.method_name());
        if (!same_secret(expected, ascii_lower(c.response)) || !stored) return outcome::refused;

        // Only now, with the response proven right, does the nonce's age or count matter:
        // stale=true tells the client its password was right (RFC 7616 §3.3), and counts are
        // recorded only for requests that came from the user.
        if (nonce.state == nonce_state::stale) return outcome::stale;
        const std::int64_t expired_before =
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() -
            options_.nonce_lifetime.count();
        switch (counts_.record(c.nonce, nonce.issued_at, c.nc, expired_before)) {
        case nonce_counts::verdict::fresh:
            // RFC 7616 §3.5: the server MAY prove that it knows HA1 too (mutual
            // authentication); clients that do not check rspauth ignore the field.
            s.response().add_header("Authentication-Info",
                                    fmt::format("qop={}, rspauth=\"{}\", cnonce={}, nc={}", c.qop,
                                                digest_rspauth(c.algorithm, ha1, c),
                                                quoted(c.cnonce), c.nc_text));
            req.set_user(std::move(c.username), "digest");
            return outcome::accepted;
        case nonce_counts::verdict::forgotten:
            return outcome::stale;
        case nonce_counts::verdict::replayed:
            break;
        }
        return outcome::refused;
    }

    void challenge(response& res, bool stale) const {
        res.status(401);
        if (!digest_prefixes_.empty()) {
            const std::string nonce = nonces_.issue(clock_());
            for (const std::string& prefix : digest_prefixes_)
                res.add_header("WWW-Authenticate",
                               fmt::format("{}, nonce=\"{}\", opaque=\"{}\"{}", prefix, nonce,
                                           nonces_.opaque(), stale ? ", stale=true" : ""));
        }
        if (!basic_challenge_.empty()) res.add_header("WWW-Authenticate", basic_challenge_);
        res.body("Unauthorized\n", "text/plain; charset=utf-8");
    }

    const auth_options options_;
    const clock_fn clock_;
    const nonce_issuer nonces_;
    nonce_counts counts_;
    std::vector<std::string> digest_prefixes_; // "Digest realm=..., algorithm=..." each
    std::string basic_challenge_;              // "" when Basic is off
};

} // namespace

std::shared_ptr<filter> make_authenticate(auth_options options, clock_fn clock) {
    check_options(options);
    return std::make_shared<auth_filter>(std::move(options), std::move(clock));
}

} // namespace detail::auth

std::shared_ptr<filter> authenticate(auth_options options) {
    return detail::auth::make_authenticate(std::move(options),
                                           [] { return std::chrono::system_clock::now(); });
}

} // namespace wharf
