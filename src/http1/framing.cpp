// SPDX-License-Identifier: MIT
#include "http1/framing.hpp"
#include "http1/chars.hpp"

namespace wharf::http1 {
namespace {

/// Calls f(element) for each non-empty element of a comma-separated list (RFC 9110 §5.6.1).
template <class F>
bool for_each_element(std::string_view list, F&& f) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view element = chars::trim_ows(list.substr(0, comma));
        if (!element.empty() && !f(element)) return false;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

request_framing reject(request_framing f, int status, const char* reason) noexcept {
    f.status = status;
    f.reason = reason;
    return f;
}

} // namespace

request_framing analyze_request(const request_head& head,
                                std::span<const header_field> fields) noexcept {
    request_framing f;
    const bool http11 = head.minor >= 1;
    f.keep_alive = http11;

    int hosts = 0;
    bool have_length = false;
    bool have_te = false;
    bool chunked_seen = false;
    bool chunked_last = false;
    bool unknown_coding = false;

    for (const header_field& h : fields) {
        const std::string_view name = h.name;
        if (name.size() == 4 && iequals(name, "host")) {
            ++hosts;
            f.host = h.value;
        } else if (name.size() == 14 && iequals(name, "content-length")) {
            // "5", or a list of identical values ("5, 5") from a repeating intermediary.
            bool ok = true;
            for_each_element(h.value, [&](std::string_view v) {
                if (v.size() > 18) return ok = false;
                std::uint64_t n = 0;
                for (char c : v) {
                    if (c < '0' || c > '9') return ok = false;
                    n = n * 10 + static_cast<unsigned>(c - '0');
                }
                if (have_length && n != f.content_length) return ok = false;
                have_length = true;
                f.content_length = n;
                return true;
            });
            if (!ok || h.value.find_first_of("0123456789") == std::string_view::npos)
                return reject(f, 400, "malformed or conflicting Content-Length");
        } else if (name.size() == 17 && iequals(name, "transfer-encoding")) {
            have_te = true;
            for_each_element(h.value, [&](std::string_view coding) {
                if (chunked_seen) chunked_last = false; // chunked must be last and only once
                if (iequals(coding, "chunked")) {
                    if (chunked_seen) unknown_coding = true;
                    chunked_seen = chunked_last = true;
                } else {
                    unknown_coding = true;
                }
                return true;
            });
        } else if (name.size() == 10 && iequals(name, "connection")) {
            for_each_element(h.value, [&](std::string_view option) {
                if (iequals(option, "close"))
                    f.keep_alive = false;
                else if (iequals(option, "keep-alive") && !http11)
                    f.keep_alive = true;
                else if (iequals(option, "upgrade"))
                    f.upgrade = true;
                return true;
            });
        } else if (name.size() == 6 && iequals(name, "expect")) {
            if (!iequals(h.value, "100-continue")) return reject(f, 417, "unsupported expectation");
            f.expect_continue = http11;
        }
    }
    // "close" wins over "keep-alive" wherever it appears.
    for (const header_field& h : fields)
        if (iequals(h.name, "connection"))
            for_each_element(h.value, [&](std::string_view option) {
                if (iequals(option, "close")) f.keep_alive = false;
                return true;
            });

    if (http11 && hosts == 0) return reject(f, 400, "missing Host header");
    if (hosts > 1) return reject(f, 400, "more than one Host header");
    if (f.host.find_first_of(" \t/\\@\"<>{}|^`,") != std::string_view::npos)
        return reject(f, 400, "malformed Host header");

    if (have_te) {
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 or beside Content-Length is faulty
        // framing and a smuggling vector; reject rather than guess.
        if (!http11) return reject(f, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (have_length) return reject(f, 400, "both Content-Length and Transfer-Encoding");
        if (!chunked_last) return reject(f, 400, "final transfer coding is not chunked");
        if (unknown_coding) return reject(f, 501, "unsupported transfer coding");
        f.body = request_framing::chunked;
        return f;
    }
    if (have_length && f.content_length > 0) f.body = request_framing::length;
    if (f.body == request_framing::none) f.expect_continue = false;
    return f;
}

} // namespace wharf::http1
