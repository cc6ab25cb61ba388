// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wharf/address.hpp"
#include "wharf/headers.hpp"
#include "wharf/method.hpp"
#include "wharf/negotiate.hpp"
#include "wharf/proxy.hpp"
#include "wharf/tls.hpp"

namespace wharf {

namespace detail {
struct request_access;
struct accept_fields;
} // namespace detail

/// A media type and its charset parameter, e.g. {"text/html", "utf-8"} (both lowercase views
/// where the input was lowercase; compare with iequals).
struct content_type_info {
    std::string_view media_type;
    std::string_view charset;
};

/// An HTTP request as its handler sees it. Every view returned here stays valid while the
/// handler runs and for the life of the session that owns the request.
class request {
  public:
    request();
    request(const request&) = delete;
    request& operator=(const request&) = delete;
    ~request();

    /// The method token as sent ("GET", "PURGE") and its parsed form.
    std::string_view method_name() const noexcept { return method_name_; }
    wharf::method method() const noexcept { return method_; }

    /// HTTP/2's extended CONNECT (RFC 8441): the protocol the client asks to speak on the
    /// stream (":protocol", e.g. "websocket"); "" for every other request.
    std::string_view connect_protocol() const noexcept { return connect_protocol_; }

    /// The request target as sent: origin form ("/a%20b?x=1"), absolute form, or "*".
    std::string_view target() const noexcept { return target_; }
    /// The percent-decoded path ("/a b"). Always starts with '/', except for "*".
    std::string_view path() const noexcept { return path_; }
    /// The path as sent, still percent-encoded, without the query.
    std::string_view raw_path() const noexcept { return raw_path_; }
    /// The query string as sent, without the '?' ("" when absent).
    std::string_view query() const noexcept { return query_; }
    /// The decoded value of the first query parameter `name` ('+' is a space), if present.
    std::optional<std::string> query_param(std::string_view name) const;

    /// The protocol version the request came in (HTTP/2 reports major 2, minor 0).
    int http_major() const noexcept { return http_major_; }
    int http_minor() const noexcept { return http_minor_; }
    enum class protocol_version : std::uint8_t { http1_0, http1_1, http2 };
    protocol_version version() const noexcept {
        if (http_major_ >= 2) return protocol_version::http2;
        return http_minor_ == 0 ? protocol_version::http1_0 : protocol_version::http1_1;
    }

    const header_view& headers() const noexcept { return headers_; }
    /// The value of the first header named `name` (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        return headers_.get(name);
    }
    /// The authority: Host, or the host of an absolute-form target.
    std::string_view host() const noexcept { return host_; }
    /// The Content-Type's media type and charset ({} when absent).
    content_type_info content_type() const noexcept;
    /// The Accept, Accept-Encoding, Accept-Language and Accept-Charset fields (S4), parsed on
    /// first use (later calls return the same list). Absent fields give a list that accepts
    /// anything; see wharf::negotiate for the choice that also sets Vary.
    const accept_list& accept() const;
    const accept_list& accept_encoding() const;
    const accept_list& accept_language() const;
    const accept_list& accept_charset() const;
    /// The request body, buffered up to the server's body limit (empty when none).
    std::string_view body() const noexcept { return body_; }
    /// The trailer fields of a chunked body. For a buffered body they are here when the handler
    /// runs; for a streamed one, during the read_body callback that delivers the last piece.
    const header_view& trailers() const noexcept { return trailers_; }
    /// HTTP/1: false when the client asked to close the connection after this request
    /// (Connection: close, or HTTP/1.0 without keep-alive). HTTP/2: always true (a stream's end
    /// is not the connection's).
    bool keep_alive() const noexcept { return keep_alive_; }

    /// The value of route parameter `name` ("{id}" in the pattern), or "" if none.
    std::string_view param(std::string_view name) const noexcept;
    /// All route parameters as (name, value), in pattern order; "*" names the wildcard tail.
    const std::vector<std::pair<std::string_view, std::string_view>>& params() const noexcept {
        return params_;
    }

    /// The authenticated user name (S6), as an authentication filter set it; "" when none.
    /// The access log writes it in its user field.
    std::string_view user() const noexcept { return user_; }
    /// How the user was authenticated: "basic", "digest", "tls" (a client certificate), or
    /// what the filter that set it says; "" when there is no user.
    std::string_view auth_scheme() const noexcept { return auth_scheme_; }
    /// For authentication filters: names the request's user and the scheme that proved it
    /// (both last until the request ends).
    void set_user(std::string name, std::string scheme = {}) {
        user_ = std::move(name);
        auth_scheme_ = std::move(scheme);
    }

    /// The client's address: the connection's peer, or the one its PROXY protocol header gave,
    /// or, from a trusted proxy (server_config::trusted_proxies), the one Forwarded names.
    const address& peer() const noexcept { return forwarded_peer_ ? *forwarded_peer_ : *peer_; }
    /// The connection's own peer, whatever Forwarded says.
    const address& connection_peer() const noexcept { return *peer_; }
    const address& local() const noexcept { return *local_; }
    /// The connection's TLS session and the client's certificate; null on plaintext.
    const tls_info* tls() const noexcept { return tls_; }
    /// What the load balancer's PROXY protocol header said (listeners that expect one); null
    /// otherwise. peer() and local() are already its addresses unless it spoke for itself.
    const proxy_info* proxy() const noexcept { return proxy_; }

  private:
    friend struct detail::request_access;

    std::string_view method_name_;
    wharf::method method_ = wharf::method::other;
    std::string_view target_, path_, raw_path_, query_, host_, body_, connect_protocol_;
    int http_major_ = 1, http_minor_ = 1;
    bool keep_alive_ = true;
    header_view headers_;
    header_view trailers_;
    std::vector<std::pair<std::string_view, std::string_view>> params_;
    std::string decoded_path_; // storage behind path_ when decoding changed it
    std::string user_, auth_scheme_;
    mutable std::unique_ptr<detail::accept_fields> accept_; // parsed on first use
    const address* peer_ = nullptr;
    const address* local_ = nullptr;
    const tls_info* tls_ = nullptr;
    const proxy_info* proxy_ = nullptr;
    std::optional<address> forwarded_peer_;
};

} // namespace wharf
