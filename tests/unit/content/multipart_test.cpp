// SPDX-License-Identifier: MIT
// multipart/form-data (RFC 7578, RFC 2046 §5.1.1): parser rows, each fed
//   whole          in one call,
//   split          in two calls, at every offset,
//   byte by byte   one byte per call,
// and every run must give the same events (part heads, each part's data concatenated, part
// ends) and the same outcome (status and offset). Every piece is placed right before a
// PROT_NONE page, and over the bytes of the piece before it: a read past the input, or a view
// kept into an earlier piece, shows. Then boundary_of, part heads, handler refusals and the
// parser's bounded hold-back.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "guarded_region.hpp"
#include "wharf/form.hpp"

namespace {

using namespace std::string_literals;
using wharf::body_status;
using wharf::form_limits;
using wharf::multipart_parser;
using wharf::multipart_part;

wharf_test::guarded_region& region() {
    static wharf_test::guarded_region r(64 * 1024);
    return r;
}

/// The events of one run, written as text: "[name]" opens a field part, "[name:file]" a file
/// part, " type" follows the name unless it is text/plain; data follows as sent; "$" ends the
/// part.
struct recorder {
    std::string transcript;
    bool in_part = false;
    std::size_t pieces = 0;
    bool empty_piece = false;  // on_part_data was given no bytes
    bool out_of_place = false; // an event came where none may

    multipart_parser::events events() {
        return {[this](const multipart_part& p) {
                    out_of_place |= in_part;
                    in_part = true;
                    transcript += "[" + p.name;
                    if (p.filename) transcript += ":" + *p.filename;
                    if (p.content_type != "text/plain") transcript += " " + p.content_type;
                    transcript += "]";
                    return true;
                },
                [this](std::string_view d) {
                    out_of_place |= !in_part;
                    empty_piece |= d.empty();
                    ++pieces;
                    transcript.append(d);
                    return true;
                },
                [this] {
                    out_of_place |= !in_part;
                    in_part = false;
                    transcript += "$";
                    return true;
                }};
    }
};

struct outcome {
    std::string transcript;
    body_status status = body_status::ok;
    std::size_t offset = 0;
    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    return os << "{\"" << o.transcript << "\", status " << static_cast<int>(o.status) << ", offset "
              << o.offset << "}";
}

/// Feeds `pieces` in order, then finishes (unless a feed failed).
outcome run(const std::string& boundary, const std::vector<std::string_view>& pieces,
            const form_limits& limits) {
    recorder rec;
    multipart_parser p(boundary, rec.events(), limits);
    bool ok = true;
    for (std::string_view piece : pieces) {
        const char* at = region().place(piece);
        ok = p.feed({at, piece.size()});
        if (!ok) break;
    }
    if (ok) ok = p.finish();
    EXPECT_EQ(ok, p.error().status == body_status::ok);
    EXPECT_FALSE(rec.empty_piece);
    EXPECT_FALSE(rec.out_of_place);
    if (ok) {
        EXPECT_FALSE(rec.in_part);
    }
    return {rec.transcript, p.error().status, p.error().offset};
}

form_limits limits(std::size_t max_fields, std::size_t max_field_bytes,
                   std::size_t max_header_bytes = 8 * 1024) {
    form_limits l;
    l.max_fields = max_fields;
    l.max_field_bytes = max_field_bytes;
    l.max_part_header_bytes = max_header_bytes;
    return l;
}

struct row {
    const char* name;
    std::string body;
    std::string transcript; // the events up to the end or the error
    body_status status = body_status::ok;
    /// Where the error is: the first occurrence of `at` in the body plus `delta`; the body's
    /// end when `at` is null.
    const char* at = nullptr;
    std::size_t delta = 0;
    form_limits limits = {};
    std::string boundary = "b";
};

const std::string cd = "Content-Disposition: form-data; name=";

const row rows[] = {
    // Valid bodies.
    {"one field", "--b\r\n" + cd + "\"a\"\r\n\r\nhello\r\n--b--", "[a]hello$"},
    {"two fields and a file",
     "--b\r\n" + cd + "\"x\"\r\n\r\n1\r\n--b\r\n" + cd + "y\r\n\r\ntwo\r\n--b\r\n" + cd +
         "\"f\"; filename=\"a.png\"\r\nContent-Type: "
         "image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--b--\r\n",
     "[x]1$[y]two$[f:a.png image/png]\x89PNG\r\n\x1a\n$"},
    {"empty parts",
     "--b\r\n" + cd + "a\r\n\r\n\r\n--b\r\n" + cd + "b; filename=\"\"\r\n\r\n\r\n--b--",
     "[a]$[b:]$"},
    {"no parts", "--b--", ""},
    {"preamble and epilogue",
     "This is the preamble, with --b in it.\r\nx--b\r\n-\r\n--\r\n--b\r\n" + cd +
         "a\r\n\r\nv\r\n--b--\r\nThe epilogue, with --b\r\n--b\r\nin it.",
     "[a]v$"},
    {"preamble is only a CRLF", "\r\n--b\r\n" + cd + "a\r\n\r\nv\r\n--b--", "[a]v$"},
    {"close delimiter, padding, CRLF, epilogue", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b-- \r\nx\r\n",
     "[a]v$"},
    {"nothing after the close delimiter but padding", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b--  \t",
     "[a]v$"},
    {"transport padding",
     "--b \t \r\n" + cd + "a\r\n\r\n1\r\n--b\t\r\n" + cd + "b\r\n\r\n2\r\n--b--", "[a]1$[b]2$"},
    {"delimiter prefixes inside data",
     "--bound\r\n" + cd +
         "a\r\n\r\nx\r\n--boun\r\n--bou-\r\n--b\r\n-\r\n\r\r\n\r\n--boun\r\n--bound--",
     "[a]x\r\n--boun\r\n--bou-\r\n--b\r\n-\r\n\r\r\n\r\n--boun$",
     body_status::ok,
     nullptr,
     0,
     {},
     "bound"},
    {"CR and LF alone in data", "--b\r\n" + cd + "a\r\n\r\n\ra\nb\r\rc\n\n\r\r\r\n--b--",
     "[a]\ra\nb\r\rc\n\n\r\r$"},
    {"data ending in CRLF", "--b\r\n" + cd + "a\r\n\r\nline\r\n\r\n--b--", "[a]line\r\n$"},
    {"data that starts like a delimiter", "--b\r\n" + cd + "a\r\n\r\n--b\r\n--b--", "[a]--b$"},
    {"data with NUL and dashes", "--b\r\n" + cd + "a\r\n\r\n\0\0--\r\n-\0\r\n--b--"s,
     "[a]\0\0--\r\n-\0$"s},
    {"quoted boundary with spaces and punctuation",
     "--a b:c=(d)?\r\n" + cd + "a\r\n\r\nv\r\n--a b:c=(d)?--",
     "[a]v$",
     body_status::ok,
     nullptr,
     0,
     {},
     "a b:c=(d)?"},
    {"a 70-byte boundary",
     "--" + std::string(70, 'z') + "\r\n" + cd + "a\r\n\r\n" + std::string(69, 'z') + "\r\n--" +
         std::string(70, 'z') + "--",
     "[a]" + std::string(69, 'z') + "$",
     body_status::ok,
     nullptr,
     0,
     {},
     std::string(70, 'z')},
    {"quoted name and filename with escapes",
     "--b\r\n" + cd + "\"a\\\"q\\\\\"; filename=\"C:\\dir\\f \\\"1\\\".txt\"\r\n\r\nv\r\n--b--",
     "[a\"q\\:C:\\dir\\f \"1\".txt]v$"},
    {"parameters in any order and case, with spaces",
     "--b\r\ncontent-disposition: FORM-DATA ;FILENAME=x.txt;  NAME = \"n\"\r\n\r\nv\r\n--b--",
     "[n:x.txt]v$"}, // RFC 2045 §5.1 parameters, on RFC 822 tokens: whitespace between them
    {"parameters in any order and case",
     "--b\r\ncontent-disposition:FORM-DATA ;FILENAME=x.txt;  NAME=\"n\" ;\r\n\r\nv\r\n--b--",
     "[n:x.txt]v$"},
    {"whitespace around '=' in a quoted filename",
     "--b\r\n" + cd + "a;filename\t=\t\"f.txt\"\r\n\r\nv\r\n--b--", "[a:f.txt]v$"},
    {"other header fields are kept, Content-Type as sent",
     "--b\r\nX-Extra: 1\r\n" + cd + "a\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nv\r\n--b--",
     "[a text/plain;charset=UTF-8]v$"},
    {"unknown disposition parameters are ignored",
     "--b\r\n" + cd + "a; filename*=UTF-8''x; size=3\r\n\r\nv\r\n--b--", "[a]v$"},
    {"an empty name", "--b\r\n" + cd + "\"\"\r\n\r\nv\r\n--b--", "[]v$"},
    {"many parts",
     "--b\r\n" + cd + "1\r\n\r\na\r\n--b\r\n" + cd + "2\r\n\r\nb\r\n--b\r\n" + cd +
         "3\r\n\r\nc\r\n--b\r\n" + cd + "4\r\n\r\nd\r\n--b--",
     "[1]a$[2]b$[3]c$[4]d$"},

    // Malformed bodies.
    {"empty body", "", "", body_status::malformed},
    {"only a preamble", "no delimiter at all\r\n", "", body_status::malformed},
    {"no close delimiter", "--b\r\n" + cd + "a\r\n\r\nvalue", "[a]value", body_status::malformed},
    {"truncated in a delimiter", "--b\r\n" + cd + "a\r\n\r\nvalue\r\n--", "[a]value",
     body_status::malformed},
    {"truncated after a delimiter", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b", "[a]v$",
     body_status::malformed},
    {"truncated in the head", "--b\r\n" + cd + "a\r\n", "", body_status::malformed},
    {"truncated after a delimiter line", "--b\r\n", "", body_status::malformed},
    // The second '-' is missing: the CR is the first byte that cannot continue the body.
    {"close delimiter with one dash", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b-\r\n", "[a]v$",
     body_status::malformed, "-\r\n", 1},
    {"close delimiter followed by other bytes", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b--X", "[a]v$",
     body_status::malformed, "X"},
    {"close delimiter, padding, other bytes", "--b-- \tx\r\n", "", body_status::malformed, "x"},
    {"close delimiter with a CR at the end", "--b--\r", "", body_status::malformed},
    {"close delimiter with a CR without LF", "--b--\rX", "", body_status::malformed, "X"},
    // RFC 2046 §5.1.1, note to implementors: a line that begins with the delimiter is one,
    // whatever follows; then only padding and CRLF may.
    {"a preamble line that begins with the delimiter",
     "This is the preamble.\r\n--b is not a delimiter here\r\n--b\r\n" + cd + "a\r\n\r\nv\r\n--b--",
     "", body_status::malformed, "is not"},
    {"a data line that begins with the delimiter",
     "--b\r\n" + cd + "a\r\n\r\nv\r\n--b2\r\n\r\n--b--", "[a]v$", body_status::malformed, "2\r\n"},
    {"delimiter followed by other bytes", "--b\r\n" + cd + "a\r\n\r\nv\r\n--bX\r\n", "[a]v$",
     body_status::malformed, "X"},
    {"first delimiter followed by other bytes", "--bb\r\n", "", body_status::malformed, "b\r\n"},
    {"dash after padding", "--b \t--", "", body_status::malformed, " \t--", 2},
    {"CR without LF after a delimiter", "--b\rX", "", body_status::malformed, "X"},
    {"obs-fold", "--b\r\n" + cd + "a;\r\n filename=x\r\n\r\nv\r\n--b--", "", body_status::malformed,
     " filename=x"},
    // Without obs-fold, the line ended at its CRLF: what it lacks is the first fault.
    {"obs-fold after a line without a name",
     "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "\r\n name=a"},
    {"header line without a colon", "--b\r\n" + cd + "a\r\nX-Nothing\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "X-Nothing", 9},
    {"space before the colon", "--b\r\nContent-Disposition : form-data; name=a\r\n\r\n--b--", "",
     body_status::malformed, " : "},
    {"empty header name", "--b\r\n" + cd + "a\r\n: v\r\n\r\n--b--", "", body_status::malformed,
     ": v"},
    {"bare LF ends a header line", "--b\r\n" + cd + "a\n\r\nv\r\n--b--", "", body_status::malformed,
     "a\n", 1},
    {"bare CR in a header line", "--b\r\n" + cd + "a\rb\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "b\r\n\r\n"},
    {"control byte in a header value", "--b\r\n" + cd + "a\r\nX-C: a\x01z\r\n\r\n--b--", "",
     body_status::malformed, "\x01"},
    {"no Content-Disposition", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "\r\n\r\n", 2},
    {"no header lines at all", "--b\r\n\r\nv\r\n--b--", "", body_status::malformed, "\r\nv", 0},
    // Content-Disposition: at the byte that cannot continue the field; at its end (the CR)
    // when the name never came; at the name of a parameter given twice.
    {"missing name", "--b\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "\r\n\r\n"},
    {"disposition without parameters", "--b\r\nContent-Disposition: form-data\r\n\r\n--b--", "",
     body_status::malformed, "\r\n\r\n"},
    {"not form-data", "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--b--", "",
     body_status::malformed, "attachment"},
    {"form-data as a prefix", "--b\r\nContent-Disposition: form-datax; name=a\r\n\r\nv\r\n--b--",
     "", body_status::malformed, "form-datax"},
    {"form-data without ';'", "--b\r\nContent-Disposition: form-data name=a\r\n\r\n--b--", "",
     body_status::malformed, "name=a"},
    {"unterminated quoted name", "--b\r\n" + cd + "\"a\r\n\r\n--b--", "", body_status::malformed,
     "\r\n\r\n"},
    {"control byte in a quoted name", "--b\r\n" + cd + "\"a\x7f\"\r\n\r\n--b--", "",
     body_status::malformed, "\x7f"},
    {"empty parameter value", "--b\r\n" + cd + "\r\n\r\n--b--", "", body_status::malformed,
     "\r\n\r\n"},
    {"parameter without a name", "--b\r\nContent-Disposition: form-data; =a\r\n\r\n--b--", "",
     body_status::malformed, "=a"},
    {"parameter without '='", "--b\r\n" + cd + "a; filename\r\n\r\n--b--", "",
     body_status::malformed, "\r\n\r\n"},
    {"garbage after a quoted value", "--b\r\n" + cd + "\"a\"x\r\n\r\n--b--", "",
     body_status::malformed, "x\r\n"},
    {"name given twice", "--b\r\n" + cd + "a; name=b\r\n\r\n--b--", "", body_status::malformed,
     "name=b"},
    {"filename given twice", "--b\r\n" + cd + "a; filename=x; filename=y\r\n\r\n--b--", "",
     body_status::malformed, "filename=y"},
    {"two Content-Disposition fields", "--b\r\n" + cd + "a\r\n" + cd + "b\r\n\r\n--b--", "",
     body_status::malformed, "Content-Disposition: form-data; name=b"},
    {"a bad second part after a good one",
     "--b\r\n" + cd + "a\r\n\r\nv\r\n--b\r\nContent-Disposition: inline\r\n\r\n--b--", "[a]v$",
     body_status::malformed, "inline"},

    // Limits.
    {"field at the limit", "--b\r\n" + cd + "a\r\n\r\n1234\r\n--b--", "[a]1234$", body_status::ok,
     nullptr, 0, limits(10, 4)},
    {"field over the limit", "--b\r\n" + cd + "a\r\n\r\n12345\r\n--b--", "[a]1234",
     body_status::too_large, "5\r\n", 0, limits(10, 4)},
    {"field over the limit by held-back bytes", "--b\r\n" + cd + "a\r\n\r\n123\r\n-x\r\n--b--",
     "[a]123\r", body_status::too_large, "\n-x", 0, limits(10, 4)},
    {"the limit is per part",
     "--b\r\n" + cd + "a\r\n\r\n1234\r\n--b\r\n" + cd + "b\r\n\r\n5678\r\n--b--",
     "[a]1234$[b]5678$", body_status::ok, nullptr, 0, limits(10, 4)},
    {"files are not bounded by the field limit",
     "--b\r\n" + cd + "f; filename=x\r\n\r\n123456789\r\n--b--", "[f:x]123456789$", body_status::ok,
     nullptr, 0, limits(10, 4)},
    {"an empty field with a zero limit", "--b\r\n" + cd + "a\r\n\r\n\r\n--b--", "[a]$",
     body_status::ok, nullptr, 0, limits(10, 0)},
    {"parts at the limit", "--b\r\n" + cd + "a\r\n\r\n1\r\n--b\r\n" + cd + "b\r\n\r\n2\r\n--b--",
     "[a]1$[b]2$", body_status::ok, nullptr, 0, limits(2, 10)},
    {"too many parts",
     "--b\r\n" + cd + "a\r\n\r\n1\r\n--b\r\n" + cd + "b\r\n\r\n2\r\n--b\r\n" + cd +
         "c\r\n\r\n3\r\n--b--",
     "[a]1$[b]2$", body_status::too_large, "Content-Disposition: form-data; name=c", 0,
     limits(2, 10)},
    // The head "Content-Disposition: form-data; name=a\r\n\r\n" is 42 bytes.
    {"header block at the limit", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b--", "[a]v$", body_status::ok,
     nullptr, 0, limits(10, 10, 42)},
    {"header block over the limit", "--b\r\n" + cd + "a\r\n\r\nv\r\n--b--", "",
     body_status::too_large, "Content-Disposition", 41, limits(10, 10, 41)},
    {"a long header line over the limit", "--b\r\nX-Long: " + std::string(100, 'x') + "\r\n", "",
     body_status::too_large, "X-Long", 64, limits(10, 10, 64)},
};

outcome expected_of(const row& r) {
    outcome o{r.transcript, r.status, 0};
    if (r.status != body_status::ok) {
        if (r.at) {
            const std::size_t found = r.body.find(r.at);
            EXPECT_NE(found, std::string::npos) << "marker not in the body: " << r.at;
            o.offset = found + r.delta;
        } else {
            o.offset = r.body.size();
        }
    }
    return o;
}

TEST(MultipartRows, Whole) {
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(run(r.boundary, {r.body}, r.limits), expected_of(r));
    }
}

TEST(MultipartRows, SplitInTwoAtEveryOffset) {
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        const outcome want = expected_of(r);
        const std::string_view body = r.body;
        for (std::size_t i = 0; i <= body.size(); ++i) {
            const outcome got = run(r.boundary, {body.substr(0, i), body.substr(i)}, r.limits);
            if (got != want) {
                ADD_FAILURE() << "split at " << i << ": " << got << " != " << want;
                break;
            }
        }
    }
}

TEST(MultipartRows, ByteByByte) {
    for (const row& r : rows) {
        SCOPED_TRACE(r.name);
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < r.body.size(); ++i)
            bytes.push_back(std::string_view(r.body).substr(i, 1));
        EXPECT_EQ(run(r.boundary, bytes, r.limits), expected_of(r));
    }
}

TEST(MultipartRows, EveryPairOfSplits) {
    // Three pieces: a delimiter may straddle two boundaries between pieces.
    for (const row& r : rows) {
        if (r.body.size() > 120) continue; // quadratic: the short rows suffice
        SCOPED_TRACE(r.name);
        const outcome want = expected_of(r);
        const std::string_view body = r.body;
        bool failed = false;
        for (std::size_t i = 0; i <= body.size() && !failed; ++i)
            for (std::size_t j = i; j <= body.size() && !failed; ++j) {
                const outcome got =
                    run(r.boundary, {body.substr(0, i), body.substr(i, j - i), body.substr(j)},
                        r.limits);
                if (got != want) {
                    ADD_FAILURE() << "split at " << i << ", " << j << ": " << got << " != " << want;
                    failed = true;
                }
            }
    }
}

TEST(MultipartBoundary, FromContentType) {
    struct {
        std::string content_type; // owned: a c_str() of a temporary would dangle
        std::optional<std::string> boundary;
    } cases[] = {
        {"multipart/form-data; boundary=abc", "abc"},
        {"multipart/form-data;boundary=abc", "abc"},
        {"multipart/form-data; BOUNDARY=abc", "abc"},
        {"multipart/form-data ; charset=utf-8; boundary=x-y_z.1+2", "x-y_z.1+2"},
        {"multipart/form-data; boundary=abc;", "abc"},
        {"multipart/form-data; boundary=\"a b:c\"", "a b:c"},
        {"multipart/form-data; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"",
         "----WebKitFormBoundary7MA4YWxkTrZu0gW"},
        {"multipart/form-data; boundary=------------------------d74496d66958873e",
         "------------------------d74496d66958873e"},
        {"multipart/form-data; boundary=\"a\\\"b\"", std::nullopt}, // '"' is not a bchar
        {"multipart/mixed; boundary=simple", "simple"},             // the type is not checked here
        {"multipart/form-data; boundary=" + std::string(70, 'x'), std::string(70, 'x')},
        {"multipart/form-data; boundary=" + std::string(71, 'x'), std::nullopt},
        {"multipart/form-data; boundary = abc", std::nullopt}, // RFC 9110 §5.6.6: no spaces
        {"multipart/form-data", std::nullopt},
        {"multipart/form-data;", std::nullopt},
        {"multipart/form-data; boundary=", std::nullopt},
        {"multipart/form-data; boundary=\"\"", std::nullopt},
        {"multipart/form-data; boundary=\"ends in space \"", std::nullopt},
        {"multipart/form-data; boundary=\"unterminated", std::nullopt},
        {"multipart/form-data; boundary=a; boundary=b", std::nullopt},
        {"multipart/form-data; boundary=a*b", std::nullopt}, // a token, but '*' is no bchar
        {"multipart/form-data; boundary=a b", std::nullopt},
        {"multipart/form-data; charset; boundary=a", std::nullopt},
        {"multipart/form-data; boundary=\"a\"b", std::nullopt},
        {"multipart/form-data; name=x", std::nullopt},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.content_type);
        EXPECT_EQ(multipart_parser::boundary_of(c.content_type), c.boundary);
    }
}

TEST(MultipartParts, HeadsAsSent) {
    std::vector<multipart_part> parts;
    multipart_parser::events ev;
    ev.on_part_begin = [&](const multipart_part& p) {
        parts.push_back(p);
        return true;
    };
    multipart_parser p("b", ev);
    ASSERT_TRUE(p.feed("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a b.txt\"\r\n"
                       "Content-Type:  application/octet-stream \r\nX-Extra:\t\r\n\r\ndata\r\n"
                       "--b\r\ncontent-disposition: form-data; name=g\r\n\r\n\r\n--b--"));
    ASSERT_TRUE(p.finish());
    EXPECT_EQ(p.parts(), 2u);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "f");
    EXPECT_EQ(parts[0].filename, "a b.txt");
    EXPECT_TRUE(parts[0].is_file());
    EXPECT_EQ(parts[0].content_type, "application/octet-stream");
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Disposition", "form-data; name=\"f\"; filename=\"a b.txt\""},
        {"Content-Type", "application/octet-stream"},
        {"X-Extra", ""}};
    EXPECT_EQ(parts[0].headers, headers);
    EXPECT_EQ(parts[1].name, "g");
    EXPECT_FALSE(parts[1].is_file());
    EXPECT_EQ(parts[1].content_type, "text/plain");
    ASSERT_EQ(parts[1].headers.size(), 1u);
    EXPECT_EQ(parts[1].headers[0].first, "content-disposition");
}

TEST(MultipartParts, HandlersCanStopTheParse) {
    const std::string body =
        "--b\r\n" + cd + "a\r\n\r\nvalue\r\n--b\r\n" + cd + "b\r\n\r\nv\r\n--b--";
    struct {
        const char* name;
        int refuse; // 0: on_part_begin of part b, 1: on_part_data, 2: on_part_end
        std::string transcript;
    } cases[] = {{"begin", 0, "[a]value$"}, {"data", 1, "[a]"}, {"end", 2, "[a]value"}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::string seen;
        int calls = 0;
        multipart_parser::events ev;
        ev.on_part_begin = [&](const multipart_part& p) {
            ++calls;
            if (c.refuse == 0 && p.name == "b") return false;
            seen += "[" + p.name + "]";
            return true;
        };
        ev.on_part_data = [&](std::string_view d) {
            ++calls;
            if (c.refuse == 1) return false;
            seen.append(d);
            return true;
        };
        ev.on_part_end = [&] {
            ++calls;
            if (c.refuse == 2) return false;
            seen += "$";
            return true;
        };
        multipart_parser p("b", ev);
        EXPECT_FALSE(p.feed(body));
        EXPECT_EQ(p.error().status, body_status::malformed);
        EXPECT_EQ(p.error().message, "stopped by the handler");
        EXPECT_EQ(seen, c.transcript);
        // Nothing more after a failure, whatever comes.
        const int before = calls;
        EXPECT_FALSE(p.feed("--b\r\n" + cd + "c\r\n\r\nmore\r\n--b--"));
        EXPECT_FALSE(p.finish());
        EXPECT_EQ(calls, before);
    }
}

TEST(MultipartParts, MissingCallbacksAccept) {
    multipart_parser p("b", {});
    EXPECT_TRUE(p.feed("--b\r\n" + cd + "a\r\n\r\nvalue\r\n--b--"));
    EXPECT_TRUE(p.finish());
    EXPECT_TRUE(p.finish()); // finishing twice changes nothing
    EXPECT_EQ(p.parts(), 1u);
}

TEST(MultipartStreaming, DataPassesThroughHoldingBackOnlyADelimiter) {
    // A large file part fed in pieces: everything but a possible delimiter is handed over
    // during the feed that brought it.
    const std::string boundary = "----boundary42";
    std::size_t delivered = 0;
    multipart_parser::events ev;
    ev.on_part_data = [&](std::string_view d) {
        delivered += d.size();
        return true;
    };
    multipart_parser p(boundary, ev);
    ASSERT_TRUE(p.feed("--" + boundary + "\r\n" + cd + "f; filename=big\r\n\r\n"));
    std::string piece(4096, 'x');
    piece[100] = '\r';
    piece[4095] = '\r'; // may begin a delimiter: held back until the next piece shows it is not
    std::size_t fed = 0;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(p.feed(piece));
        fed += piece.size();
        EXPECT_EQ(delivered, fed - 1);
    }
    ASSERT_TRUE(p.feed("\n--" + boundary)); // the held CR was the delimiter's
    EXPECT_EQ(delivered, fed - 1);
    ASSERT_TRUE(p.feed("--\r\n"));
    ASSERT_TRUE(p.finish());
}

TEST(MultipartStreaming, ErrorAnswersWithItsStatus) {
    multipart_parser p("b", {}, limits(10, 2));
    EXPECT_FALSE(p.feed("--b\r\n" + cd + "a\r\n\r\nlong\r\n--b--"));
    EXPECT_EQ(p.error().http_status(), 413);
    multipart_parser q("b", {});
    EXPECT_TRUE(q.feed("--b\r\n"));
    EXPECT_FALSE(q.finish());
    EXPECT_EQ(q.error().http_status(), 400);
    EXPECT_FALSE(q.error().message.empty());
}

} // namespace
