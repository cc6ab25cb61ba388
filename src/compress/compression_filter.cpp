// SPDX-License-Identifier: MIT
#include <utility>

#include "compress/encoder.hpp"
#include "compress/policy.hpp"
#include "http/chars.hpp"
#include "wharf/compress.hpp"
#include "wharf/session.hpp"

namespace wharf {
namespace {

using detail::compress::coding;
using detail::compress::encoder;
using detail::compress::flush_mode;

/// One response's body through one encoder.
class compressing_transform final : public body_transform {
  public:
    explicit compressing_transform(std::unique_ptr<encoder> enc) : encoder_(std::move(enc)) {}

    std::error_code transform(std::string_view in, boundary end, std::string& out) override {
        const flush_mode mode = end == boundary::finish  ? flush_mode::finish
                                : end == boundary::flush ? flush_mode::flush
                                                         : flush_mode::none;
        return encoder_->write(in, mode, out);
    }

    // No body after all (304, 412): the coding goes; the ETag stays, it is the one that met
    // the request's conditions.
    void abandon(response& res) override { res.remove_header("Content-Encoding"); }

  private:
    std::unique_ptr<encoder> encoder_;
};

bool no_transform(const header_view& fields) {
    for (const header_field& f : fields)
        if (iequals(f.name, "Cache-Control") && chars::list_has(f.value, "no-transform"))
            return true;
    return false;
}

bool no_transform(const field_list& fields) {
    bool found = false;
    fields.for_each([&](std::string_view name, std::string_view value) {
        found = found || (iequals(name, "Cache-Control") && chars::list_has(value, "no-transform"));
    });
    return found;
}

class compression_filter final : public filter {
  public:
    explicit compression_filter(compression_options options) : options_(std::move(options)) {}

    std::unique_ptr<body_transform> on_head(session& s, const head_context& head) override {
        const request& req = s.request();
        response& res = s.response();
        const int status = res.status();
        if (status < 200 || status == 204 || status == 206 || status == 304) return nullptr;
        if (res.headers().contains("Content-Encoding")) return nullptr;
        const auto type = res.headers().get("Content-Type");
        if (!type || !detail::compress::compressible_type(*type, options_.types)) return nullptr;
        // The body depends on Accept-Encoding from here on, whether or not this one is coded.
        res.vary("Accept-Encoding");
        if (req.method() == method::head || no_transform(req.headers()) ||
            no_transform(res.headers()))
            return nullptr;
        // Ranges are of the identity representation: a Range request gets it uncoded.
        if (res.processes_ranges() && req.header("Range")) return nullptr;
        const auto size = head.whole ? res.body_size() : res.declared_length();
        if (size && *size < options_.min_size) return nullptr;
        const auto chosen =
            detail::compress::choose_coding(req.accept_encoding(), options_.codings);
        if (!chosen) return nullptr;
        auto enc = encoder::make(*chosen, level_of(*chosen), size);
        if (!enc) return nullptr;

        res.set_header("Content-Encoding", detail::compress::coding_name(*chosen));
        if (res.processes_ranges() && !res.etag().empty())
            res.process_ranges(detail::compress::etag_with_coding(res.etag(), *chosen),
                               res.last_modified());
        else if (const auto etag = res.headers().get("ETag"))
            res.set_header("ETag", detail::compress::etag_with_coding(*etag, *chosen));
        return std::make_unique<compressing_transform>(std::move(enc));
    }

  private:
    int level_of(coding c) const noexcept {
        switch (c) {
        case coding::br:
            return options_.brotli_level;
        case coding::zstd:
            return options_.zstd_level;
        case coding::gzip:
            break;
        }
        return options_.gzip_level;
    }

    const compression_options options_;
};

} // namespace

std::shared_ptr<filter> compression(compression_options options) {
    return std::make_shared<compression_filter>(std::move(options));
}

} // namespace wharf
