// SPDX-License-Identifier: MIT
// multipart/form-data (wharf/form.hpp). Byte 0: bits 0-1 pick the limits (defaults, or small
// ones that the input can reach), bits 2-4 refuse the Nth part's head (0: none), bits 5-7 and
// byte 1 seed the split points. Then a Content-Type value up to the first '\n', whose boundary
// (multipart_parser::boundary_of) frames the rest, the body.
// Invariants: boundary_of gives 1 to 70 bchars not ending in a space, or nothing; the body fed
// whole and in random pieces gives the same events (part heads, each part's data put together,
// part ends), the same outcome (status, message, offset) and the same part count; data handed
// over never exceeds the bytes fed, and every data view lies in the piece being fed or is a
// prefix of the delimiter (the bytes held back); a field's data keeps within max_field_bytes
// and parts within max_fields; an error's offset is a byte that was fed or the next one (the
// first byte of a part over max_fields), or the body's end when finish() fails; after a failure,
// nothing more is reported.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "wharf/form.hpp"

namespace {

using wharf::body_status;
using wharf::form_limits;
using wharf::multipart_parser;
using wharf::multipart_part;
using wharf_fuzz::splitmix;

struct outcome {
    std::string events; // "[" name ":" filename "|" type "]" data... "$" per part
    std::size_t parts = 0;
    body_status status = body_status::ok;
    std::string message;
    std::size_t offset = 0;
};

bool is_bchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

outcome run(const std::string& boundary, std::string_view body, const form_limits& limits,
            std::size_t refuse_part, splitmix* rng) {
    outcome o;
    const std::string delimiter = "\r\n--" + boundary;
    std::string_view piece;       // what the current feed call was given
    std::uint64_t fed = 0;        // body bytes given to feed so far, `piece` included
    std::uint64_t delivered = 0;  // data bytes handed over, all parts
    std::uint64_t part_bytes = 0; // this part's
    bool in_part = false, is_file = false, failed = false, after_failure = false;
    std::size_t heads = 0;

    multipart_parser::events ev;
    ev.on_part_begin = [&](const multipart_part& p) {
        FUZZ_CHECK(!after_failure);
        FUZZ_CHECK(!in_part);
        in_part = true;
        is_file = p.is_file();
        part_bytes = 0;
        if (++heads == refuse_part) return false;
        o.events += "[" + p.name;
        if (p.filename) o.events += ":" + *p.filename;
        o.events += "|" + p.content_type + "]";
        FUZZ_CHECK(!p.headers.empty());
        return true;
    };
    ev.on_part_data = [&](std::string_view d) {
        FUZZ_CHECK(!after_failure);
        FUZZ_CHECK(in_part);
        FUZZ_CHECK(!d.empty());
        const bool in_piece = wharf_fuzz::inside(d, piece.data(), piece.size());
        const bool held = d.size() < delimiter.size() && delimiter.starts_with(d);
        FUZZ_CHECK(in_piece || held);
        delivered += d.size();
        part_bytes += d.size();
        FUZZ_CHECK(delivered <= fed);
        if (!is_file) FUZZ_CHECK(part_bytes <= limits.max_field_bytes);
        o.events.append(d);
        return true;
    };
    ev.on_part_end = [&] {
        FUZZ_CHECK(!after_failure);
        FUZZ_CHECK(in_part);
        in_part = false;
        o.events += "$";
        return true;
    };

    multipart_parser p(boundary, ev, limits);
    std::size_t at = 0;
    while (at < body.size() || (at == 0 && body.empty())) {
        std::size_t n = body.size() - at;
        if (rng && n > 0) {
            n = 1 + static_cast<std::size_t>(rng->next() % n);
            if (rng->next() % 3 != 0) n = std::min<std::size_t>(n, 1 + rng->next() % 8);
        }
        // An exact-size heap copy: ASan traps a read past the piece or a view kept into it.
        const auto copy = wharf_fuzz::copy_of(body.data() + at, n);
        piece = std::string_view(copy.get(), n);
        fed += n;
        if (!p.feed(piece)) {
            failed = true;
            FUZZ_CHECK(p.error().status != body_status::ok);
            // A byte that was fed, or the one right after them: a limit on parts is reached
            // when a delimiter line ends, and its offset is the new part's first byte.
            FUZZ_CHECK(p.error().offset <= fed);
            break;
        }
        at += n;
        if (body.empty()) break;
    }
    piece = {};
    if (!failed && !p.finish()) {
        failed = true;
        FUZZ_CHECK(p.error().status == body_status::malformed);
        FUZZ_CHECK(p.error().offset == body.size());
    }
    if (!failed) {
        FUZZ_CHECK(p.error().status == body_status::ok);
        FUZZ_CHECK(!in_part);
        FUZZ_CHECK(delivered <= body.size());
    } else {
        // Nothing more after a failure, whatever comes.
        after_failure = true;
        const std::string more = "\r\n--" + boundary +
                                 "\r\nContent-Disposition: form-data; "
                                 "name=x\r\n\r\nmore\r\n--" +
                                 boundary + "--\r\n";
        FUZZ_CHECK(!p.feed(more));
        FUZZ_CHECK(!p.finish());
    }
    FUZZ_CHECK(p.parts() <= limits.max_fields);
    o.parts = p.parts();
    o.status = p.error().status;
    o.message = p.error().message;
    o.offset = p.error().offset;
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t flags = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
    const std::size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    const std::string content_type(input.substr(0, nl));
    const std::string_view body = input.substr(nl + 1);

    const auto boundary = multipart_parser::boundary_of(content_type);
    if (!boundary) return 0;
    FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);
    FUZZ_CHECK(boundary->back() != ' ');
    for (char c : *boundary)
        FUZZ_CHECK(is_bchar(c));

    form_limits limits;
    switch (flags & 3) {
    case 1:
        limits.max_fields = 3;
        limits.max_field_bytes = 8;
        limits.max_part_header_bytes = 96;
        break;
    case 2:
        limits.max_fields = 1;
        limits.max_field_bytes = 0;
        limits.max_part_header_bytes = 48;
        break;
    default:
        break;
    }
    const std::size_t refuse_part = (flags >> 2) & 7;

    const outcome whole = run(*boundary, body, limits, refuse_part, nullptr);
    splitmix rng{(static_cast<std::uint64_t>(flags >> 5) << 8 | data[1]) ^ size};
    for (int round = 0; round < 2; ++round) {
        const outcome split = run(*boundary, body, limits, refuse_part, &rng);
        FUZZ_CHECK(split.events == whole.events);
        FUZZ_CHECK(split.parts == whole.parts);
        FUZZ_CHECK(split.status == whole.status);
        FUZZ_CHECK(split.message == whole.message);
        FUZZ_CHECK(split.offset == whole.offset);
    }
    return 0;
}
