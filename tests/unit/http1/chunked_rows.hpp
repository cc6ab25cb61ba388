// SPDX-License-Identifier: MIT
// The chunked-body table: every row is a chunked body and what the decoder makes of it (RFC
// 9112 §7.1): its payload, trailers and tail, or its error status, under the row's limits.
// Shared by the decoder's own tests (chunked_test.cpp) and by the connection tests that send
// each row as a request body through a whole http1::connection (connection_rows_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http1/chunked.hpp"

namespace wharf_test::chunked_table {

using namespace std::string_literals;
using wharf::http1::chunked_decoder;

using field_pairs = std::vector<std::pair<std::string, std::string>>;

struct want {
    enum kind_t { done, incomplete, error } kind = done;
    int status = 0;
    std::string payload;  ///< done: the whole payload; incomplete: what is decoded so far
    std::size_t tail = 0; ///< done: bytes after the body, not consumed
    field_pairs trailers;
    chunked_decoder::limits limits{};
    std::size_t max_trailers = 16;
    std::optional<std::uint64_t> framing_bytes; ///< done: framing_bytes() at the end, if given

    want tr(std::string name, std::string value) {
        trailers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    want rest(std::size_t n) {
        tail = n;
        return *this;
    }
    want ext(std::size_t n) {
        limits.max_extension = n;
        return *this;
    }
    want trailer_bytes(std::size_t n) {
        limits.max_trailer_bytes = n;
        return *this;
    }
    want max_body(std::uint64_t n) {
        limits.max_body = n;
        return *this;
    }
    want max_fields(std::size_t n) {
        max_trailers = n;
        return *this;
    }
    want framing(std::uint64_t allowance, std::uint32_t ratio) {
        limits.framing_allowance = allowance;
        limits.framing_ratio = ratio;
        return *this;
    }
    want framed(std::uint64_t n) {
        framing_bytes = n;
        return *this;
    }
};

/// The body decodes to `payload`.
inline want body(std::string payload) {
    want w;
    w.payload = std::move(payload);
    return w;
}
/// The decoder rejects the body with `status`.
inline want bad(int status) {
    want w;
    w.kind = want::error;
    w.status = status;
    return w;
}
/// The body is not finished; `payload` is decoded so far.
inline want partial(std::string payload) {
    want w;
    w.kind = want::incomplete;
    w.payload = std::move(payload);
    return w;
}

struct row {
    const char* what;
    std::string input;
    want expected;
};

inline std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    return size + "\r\n"s + std::string(data) + "\r\n";
}

inline std::vector<row> make_rows() {
    std::string tiny;
    std::string tiny_payload;
    for (int i = 0; i < 200; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        tiny += chunk(std::string(1, c));
        tiny_payload += c;
    }
    tiny += "0\r\n\r\n";
    std::string big_data(5000, '\0');
    for (std::size_t i = 0; i < big_data.size(); ++i)
        big_data[i] = static_cast<char>(i * 7);
    const std::string binary = "\0\xff\r\n\x01"s;
    const std::string next_request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    // What follows each size line of the extension rows.
    const std::string hello = "\r\nhello\r\n0\r\n\r\n";
    const auto sp = [](std::size_t n) { return std::string(n, ' '); };
    // n one-byte chunks whose size is written with `digits` hex digits, then the last chunk.
    const auto one_byte_chunks = [](std::size_t n, int digits, std::string_view ext = "") {
        std::string s;
        for (std::size_t i = 0; i < n; ++i)
            s += std::string(static_cast<std::size_t>(digits - 1), '0') + "1" + std::string(ext) +
                 "\r\n" + static_cast<char>('a' + i % 26) + "\r\n";
        return s + "0\r\n\r\n";
    };
    const auto letters = [](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i)
            s += static_cast<char>('a' + i % 26);
        return s;
    };
    const std::string ext1000 = ";" + std::string(999, 'e'); // 1000 bytes of chunk-ext
    // A streamed body's decoder (connection::start_streamed_request) has no max_body: the
    // framing bound is all that limits it. A 100-byte chunk earns 800 bytes of framing, then
    // n 1-byte chunks with 100-byte extensions spend 105 each and earn 8.
    const auto paid_by_a_big_chunk = [](std::size_t n) {
        std::string s = "64\r\n" + std::string(100, 'p') + "\r\n";
        for (std::size_t i = 0; i < n; ++i)
            s += "1;" + std::string(99, 'e') + "\r\n" + static_cast<char>('a' + i % 26) + "\r\n";
        return s + "0\r\n\r\n";
    };
    const std::string huge_size_ext = "fffffffffffffff;" + std::string(60, 'e') + "\r\n";

    return {
        // --- valid bodies -------------------------------------------------------------------
        {"one chunk", "5\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"s, body("hello world")},
        {"empty body", "0\r\n\r\n"s, body("")},
        {"uppercase hex size", "A\r\n0123456789\r\n0\r\n\r\n"s, body("0123456789")},
        {"lowercase hex size", "a\r\n0123456789\r\n0\r\n\r\n"s, body("0123456789")},
        {"two-digit mixed-case hex",
         "1F\r\n" + std::string(31, 'x') + "\r\n1f\r\n" + std::string(31, 'y') + "\r\n0\r\n\r\n",
         body(std::string(31, 'x') + std::string(31, 'y'))},
        {"leading zeros in the size", "0005\r\nhello\r\n000\r\n\r\n"s, body("hello")},
        {"15 hex digits", "000000000000005\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension name", "5;name\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension name=value", "5;name=value\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension with a quoted value", "5;n=\"quoted; \\\"value\\\"\"\r\nhello\r\n0\r\n\r\n"s,
         body("hello")},
        {"several extensions", "5;a=1;b=2;c\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"extension on the last chunk", "5\r\nhello\r\n0;last=1\r\n\r\n"s, body("hello")},
        {"BWS before the extension", "5 \t ;a\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        {"BWS inside the extension", "5; a = 1\r\nhello\r\n0\r\n\r\n"s, body("hello")},
        // max_extension counts the whole chunk-ext: ';' and BWS too.
        {"extension exactly at its limit", "5;1234567\r\nhello\r\n0\r\n\r\n"s,
         body("hello").ext(8)},
        {"extension limit applies per chunk",
         "1;1234567\r\na\r\n1;1234567\r\nb\r\n0;1234567\r\n\r\n"s, body("ab").ext(8)},
        {"one trailer field", "5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"s, body("hello").tr("X-T", "v")},
        {"two trailer fields", "0\r\nA: 1\r\nB: 2\r\n\r\n"s, body("").tr("A", "1").tr("B", "2")},
        {"trailer OWS trimmed", "0\r\nA:  \t x y \t\r\n\r\n"s, body("").tr("A", "x y")},
        {"trailer with an empty value", "0\r\nA:\r\n\r\n"s, body("").tr("A", "")},
        {"trailer with obs-text", "0\r\nA: \x80\xff\r\n\r\n"s, body("").tr("A", "\x80\xff")},
        {"200 one-byte chunks", tiny, body(tiny_payload)},
        {"CRLFs inside the data", "4\r\n\r\n\r\n\r\n0\r\n\r\n"s, body("\r\n\r\n")},
        {"data that looks like a last chunk", "5\r\n0\r\n\r\n\r\n0\r\n\r\n"s, body("0\r\n\r\n")},
        {"binary data", chunk(binary) + "0\r\n\r\n", body(binary)},
        {"5000-byte chunk", chunk(big_data) + "0\r\n\r\n", body(big_data)},
        {"a request after the body is not consumed", "5\r\nhello\r\n0\r\n\r\n" + next_request,
         body("hello").rest(next_request.size())},
        {"bytes after trailers are not consumed", "0\r\nA: 1\r\n\r\nXYZ"s,
         body("").tr("A", "1").rest(3)},
        {"body exactly at max_body", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"s,
         body("helloworld").max_body(10)},
        {"empty body with max_body 0", "0\r\n\r\n"s, body("").max_body(0)},
        {"trailer section exactly at its limit", "0\r\nX-T: 123456789\r\n\r\n"s,
         body("").tr("X-T", "123456789").trailer_bytes(16)},
        {"trailer fields exactly at the field limit", "0\r\nA: 1\r\nB: 2\r\n\r\n"s,
         body("").tr("A", "1").tr("B", "2").max_fields(2)},

        // --- chunk extensions by the grammar (RFC 9112 §7.1.1) ------------------------------
        {"ext: BWS before the semicolon and a value", "5 ;a=b" + hello, body("hello")},
        {"ext: BWS around the equals sign", "5; a = b" + hello, body("hello")},
        {"ext: tabs as BWS", "5\t;\ta\t=\tb" + hello, body("hello")},
        {"ext: quoted value with SP and an escaped quote", "5;a=\"x y\\\"z\"" + hello,
         body("hello")},
        {"ext: empty quoted value", "5;a=\"\"" + hello, body("hello")},
        {"ext: quoted pairs of HTAB SP obs-text backslash", "5;a=\"\\\t\\ \\\x80\\\\\"" + hello,
         body("hello")},
        {"ext: obs-text in a quoted value", "5;a=\"\xff\x80\"" + hello, body("hello")},
        {"ext: HTAB and every qdtext punctuation in a quoted value",
         "5;a=\"\t!#[]~(),/:;<=>?@{}\"" + hello, body("hello")},
        {"ext: a name then name=value", "5;a;b=c" + hello, body("hello")},
        {"ext: BWS before a semicolon after a name", "5;a ;b" + hello, body("hello")},
        {"ext: BWS before a semicolon after a value", "5;a=1 ;b" + hello, body("hello")},
        {"ext: BWS before a semicolon after a quoted value", "5;a=\"x\"\t;b" + hello,
         body("hello")},
        {"ext: a quoted value then a name", "5;a=\"x\";b" + hello, body("hello")},
        {"ext: every tchar", "5;!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~09AZaz" + hello,
         body("hello")},
        {"ext: on the last chunk with BWS", "5\r\nhello\r\n0 ; a = \"b\"\r\n\r\n"s, body("hello")},

        // --- max_extension counts everything between the size and CR, BWS included ----------
        {"ext: BWS after the size exactly at the limit", "5" + sp(6) + ";a" + hello,
         body("hello").ext(8)},
        {"ext: BWS around the equals sign exactly at the limit", "5;a  = bb" + hello,
         body("hello").ext(8)},
        {"ext: BWS before a second semicolon exactly at the limit", "5;a=1  ;b" + hello,
         body("hello").ext(8)},
        {"ext: quoted value exactly at the limit", "5;a=\"123\"" + hello, body("hello").ext(8)},
        {"ext: BWS limit applies per chunk",
         "1" + sp(6) + ";a\r\nx\r\n1" + sp(6) + ";a\r\ny\r\n0" + sp(6) + ";a\r\n\r\n",
         body("xy").ext(8)},
        {"ext: 1022 spaces then semicolon and name are 1024 bytes, the default limit",
         "1" + sp(1022) + ";a\r\nx\r\n0\r\n\r\n", body("x")},
        {"ext: max_extension 0 allows none", "5\r\nhello\r\n0\r\n\r\n"s, body("hello").ext(0)},

        // --- framing bound: framing_allowance + framing_ratio * payload ---------------------
        {"framing: counts sizes, BWS, extensions and CRLFs", "1 ;a\r\nx\r\n0\r\n\r\n"s,
         body("x").framing(13, 0).framed(13)},
        {"framing: 5 one-byte chunks exactly at allowance 10 ratio 4", one_byte_chunks(5, 1),
         body(letters(5)).framing(10, 4).framed(30)},
        {"framing: the last chunk alone exactly at allowance 5", "0\r\n\r\n"s,
         body("").framing(5, 0).framed(5)},
        {"framing: trailer fields are not framing", "0\r\nA: 1\r\n\r\n"s,
         body("").tr("A", "1").framing(5, 0).framed(5)},
        {"framing: 200 one-byte chunks (5 bytes of framing each) at ratio 8",
         one_byte_chunks(200, 1), body(letters(200)).framing(16, 8).framed(1005)},
        {"framing: 200 one-byte chunks with 4-digit sizes exactly at ratio 8",
         one_byte_chunks(200, 4), body(letters(200)).framing(16, 8).framed(1605)},
        {"framing: four 1-byte chunks with 1000-byte extensions within allowance 4096",
         one_byte_chunks(4, 1, ext1000), body(letters(4)).framing(4096, 8).framed(4025)},
        {"framing: streamed limits, a 100-byte chunk pays for eight 1-byte chunks with "
         "100-byte extensions",
         paid_by_a_big_chunk(8),
         body(std::string(100, 'p') + letters(8)).max_body(UINT64_MAX).framing(16, 8).framed(851)},
        {"framing: streamed limits, a huge declared size waits for its data within allowance 80",
         huge_size_ext, partial("").max_body(UINT64_MAX).framing(80, 8)},

        // --- incomplete ---------------------------------------------------------------------
        {"nothing yet", ""s, partial("")},
        {"size only", "5"s, partial("")},
        {"inside the data", "5\r\nhel"s, partial("hel")},
        {"before the data's CRLF", "5\r\nhello"s, partial("hello")},
        {"last chunk without the empty line", "5\r\nhello\r\n0\r\n"s, partial("hello")},
        {"inside a trailer field", "0\r\nX-T: v\r\n"s, partial("")},
        {"half the final CRLF", "0\r\n\r"s, partial("")},

        // --- errors -------------------------------------------------------------------------
        {"non-hex size", "g\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"junk after the size", "5x\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"empty size", "\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"space before the size", " 5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"whitespace before the CRLF of the size line", "5 \r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"tab before the CRLF of the last chunk", "5\r\nhello\r\n0\t\r\n\r\n"s, bad(400)},
        {"negative size", "-5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"plus sign", "+5\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"16 hex digits", "1000000000000000\r\n"s, bad(400)},
        {"16 zeros", "0000000000000000\r\n\r\n"s, bad(400)},
        {"size overflowing 64 bits", "ffffffffffffffffff\r\n"s, bad(400)},
        {"size line ends in bare LF", "5\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"size line ends in bare CR", "5\rhello\r\n0\r\n\r\n"s, bad(400)},
        {"missing CRLF after the data", "5\r\nhelloX\r\n0\r\n\r\n"s, bad(400)},
        {"data longer than its size", "3\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare LF after the data", "5\r\nhello\n0\r\n\r\n"s, bad(400)},
        {"bare CR after the data", "5\r\nhello\r0\r\n\r\n"s, bad(400)},
        {"extension one byte over its limit", "5;12345678\r\nhello\r\n0\r\n\r\n"s, bad(400).ext(8)},
        {"extension over 1024 bytes", "5;" + std::string(1100, 'e') + "\r\nhello\r\n0\r\n\r\n",
         bad(400)},
        {"control char in an extension",
         "5;a\x01"
         "b\r\nhello\r\n0\r\n\r\n"s,
         bad(400)},
        {"NUL in an extension", "5;a\0b\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"DEL in an extension", "5;a\x7f\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare LF in an extension", "5;a\nhello\r\n0\r\n\r\n"s, bad(400)},
        {"bare CR in an extension", "5;a\rb\r\nhello\r\n0\r\n\r\n"s, bad(400)},
        // --- chunk extensions against the grammar: each would be accepted before ------------
        {"ext: semicolon without a name", "5;" + hello, bad(400)},
        {"ext: BWS after the semicolon without a name", "5; " + hello, bad(400)},
        {"ext: BWS and semicolon without a name", "5 ;" + hello, bad(400)},
        {"ext: equals sign without a name", "5;=" + hello, bad(400)},
        {"ext: equals sign and value without a name", "5;=b" + hello, bad(400)},
        {"ext: two names separated by SP", "5;a b" + hello, bad(400)},
        {"ext: unterminated quoted string", "5;a=\"x" + hello, bad(400)},
        {"ext: quoted string closed by an escaped quote only", "5;a=\"x\\\"" + hello, bad(400)},
        {"ext: CR inside a quoted string", "5;a=\"x\r\n\"" + hello, bad(400)},
        {"ext: empty extension between two semicolons", "5;;" + hello, bad(400)},
        {"ext: empty extension after a name", "5;a;;b" + hello, bad(400)},
        {"ext: trailing semicolon", "5;a=b;" + hello, bad(400)},
        {"ext: BWS between two semicolons", "5; ;a" + hello, bad(400)},
        {"ext: obs-text as a token value", "5;a=\x80" + hello, bad(400)},
        {"ext: obs-text in a name", "5;a\x80" + hello, bad(400)},
        {"ext: equals sign without a value", "5;a=" + hello, bad(400)},
        {"ext: equals sign and BWS without a value", "5;a = " + hello, bad(400)},
        {"ext: equals sign then semicolon", "5;a=;b" + hello, bad(400)},
        {"ext: two equals signs", "5;a==b" + hello, bad(400)},
        {"ext: two values separated by SP", "5;a=b c" + hello, bad(400)},
        {"ext: a token right after a quoted value", "5;a=\"x\"y" + hello, bad(400)},
        {"ext: two quoted strings", "5;a=\"x\"\"y\"" + hello, bad(400)},
        {"ext: a quoted name", "5;\"a\"" + hello, bad(400)},
        {"ext: a quote inside a token value", "5;a=b\"c\"" + hello, bad(400)},
        {"ext: at sign in a name", "5;a@b" + hello, bad(400)},
        {"ext: comma in a token value", "5;a=b,c" + hello, bad(400)},
        {"ext: parentheses in a token value", "5;a=(b)" + hello, bad(400)},
        {"ext: colon after a name", "5;a:b" + hello, bad(400)},
        {"ext: control character in a quoted string", "5;a=\"\x01\"" + hello, bad(400)},
        {"ext: DEL in a quoted string", "5;a=\"\x7f\"" + hello, bad(400)},
        {"ext: NUL in a quoted string", "5;a=\"\0\""s + hello, bad(400)},
        {"ext: quoted pair of DEL", "5;a=\"\\\x7f\"" + hello, bad(400)},
        {"ext: quoted pair of CR", "5;a=\"\\\r\"" + hello, bad(400)},
        {"ext: trailing BWS after a name", "5;a " + hello, bad(400)},
        {"ext: trailing HTAB after a name", "5;a\t" + hello, bad(400)},
        {"ext: trailing BWS after a value", "5; a = 1 " + hello, bad(400)},
        {"ext: trailing BWS after a quoted value", "5;a=\"x\" " + hello, bad(400)},
        {"ext: trailing BWS on the last chunk", "5\r\nhello\r\n0;a \r\n\r\n"s, bad(400)},
        {"ext: semicolon without a name on the last chunk", "5\r\nhello\r\n0;\r\n\r\n"s, bad(400)},
        {"ext: junk after BWS after the size", "5 x" + hello, bad(400)},

        // --- max_extension, one byte over, BWS counted ---------------------------------------
        {"ext: BWS after the size one over the limit", "5" + sp(7) + ";a" + hello, bad(400).ext(8)},
        {"ext: BWS around the equals sign one over the limit", "5;a   = bb" + hello,
         bad(400).ext(8)},
        {"ext: BWS before a second semicolon one over the limit", "5;a=1   ;b" + hello,
         bad(400).ext(8)},
        {"ext: quoted value one over the limit", "5;a=\"1234\"" + hello, bad(400).ext(8)},
        {"ext: BWS on the last chunk one over the limit", "0" + sp(7) + ";a\r\n\r\n",
         bad(400).ext(8)},
        {"ext: 1023 spaces then semicolon and name are one over the default limit",
         "1" + sp(1023) + ";a\r\nx\r\n0\r\n\r\n", bad(400)},
        {"ext: 2000 spaces after the size", "1" + sp(2000) + ";a\r\nx\r\n0\r\n\r\n", bad(400)},
        {"ext: max_extension 0 and one space", "5 ;a" + hello, bad(400).ext(0)},

        // --- framing bound, one byte over --------------------------------------------------
        {"framing: one byte over the count of sizes, BWS, extensions and CRLFs",
         "1 ;a\r\nx\r\n0\r\n\r\n"s, bad(400).framing(12, 0)},
        {"framing: 6 one-byte chunks one over allowance 10 ratio 4", one_byte_chunks(6, 1),
         bad(400).framing(10, 4)},
        {"framing: the last chunk alone one over allowance 4", "0\r\n\r\n"s,
         bad(400).framing(4, 0)},
        {"framing: a leading zero on the last chunk over allowance 5", "00\r\n\r\n"s,
         bad(400).framing(5, 0)},
        {"framing: an extension on the last chunk over allowance 5", "0;a\r\n\r\n"s,
         bad(400).framing(5, 0)},
        {"framing: 200 one-byte chunks at ratio 4", one_byte_chunks(200, 1),
         bad(400).framing(16, 4)},
        {"framing: 200 one-byte chunks with 5-digit sizes over ratio 8", one_byte_chunks(200, 5),
         bad(400).framing(16, 8)},
        {"framing: five 1-byte chunks with 1000-byte extensions over allowance 4096",
         one_byte_chunks(5, 1, ext1000), bad(400).framing(4096, 8)},
        {"framing: 1-byte chunks with 20-byte extensions over allowance 64",
         one_byte_chunks(50, 1, ";" + std::string(19, 'e')), bad(400).framing(64, 8)},
        {"framing: the same 1-byte chunks with 20-byte extensions within the defaults",
         one_byte_chunks(50, 1, ";" + std::string(19, 'e')), body(letters(50)).framed(1255)},
        {"framing: streamed limits, a 100-byte chunk does not pay for nine such chunks",
         paid_by_a_big_chunk(9), bad(400).max_body(UINT64_MAX).framing(16, 8)},
        {"framing: streamed limits, a huge declared size earns nothing before its data",
         huge_size_ext, bad(400).max_body(UINT64_MAX).framing(64, 8)},
        {"one chunk over max_body", "b\r\nhello world\r\n0\r\n\r\n"s, bad(413).max_body(10)},
        {"chunks summing over max_body", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"s,
         bad(413).max_body(10)},
        {"any data with max_body 0", "1\r\nx\r\n0\r\n\r\n"s, bad(413).max_body(0)},
        {"huge size with the default max_body", "fffffffffffffff\r\n"s, partial("")},
        {"huge size with max_body", "fffffffffffffff\r\n"s, bad(413).max_body(1u << 20)},
        {"trailer section one byte over its limit", "0\r\nX-T: 1234567890\r\n\r\n"s,
         bad(431).trailer_bytes(16)},
        {"trailer section without end over its limit", "0\r\nX-T: " + std::string(100, 'x'),
         bad(431).trailer_bytes(64)},
        {"more trailer fields than room", "0\r\nA: 1\r\nB: 2\r\n\r\n"s, bad(431).max_fields(1)},
        {"whitespace before a trailer colon", "0\r\nX-T : v\r\n\r\n"s, bad(400)},
        {"obs-fold in the trailers", "0\r\nX-T: v\r\n w\r\n\r\n"s, bad(400)},
        {"trailer line without a colon", "0\r\nGARBAGE\r\n\r\n"s, bad(400)},
        {"control char in a trailer value",
         "0\r\nX-T: a\x01"
         "b\r\n\r\n"s,
         bad(400)},
        {"bare LF ends a trailer field", "0\r\nX-T: v\n\r\n"s, bad(400)},
        {"bare LF as the final line", "0\r\n\n\n"s, bad(400)},
        {"bare CR at the start of the trailers", "0\r\n\rX\r\n\r\n"s, bad(400)},
        {"invalid trailer field name", "0\r\nX(T): v\r\n\r\n"s, bad(400)},
    };
}

inline const std::vector<row>& rows() {
    static const std::vector<row> r = make_rows();
    return r;
}

} // namespace wharf_test::chunked_table
