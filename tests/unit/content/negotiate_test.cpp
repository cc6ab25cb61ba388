// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/access.hpp"
#include "wharf/negotiate.hpp"
#include "wharf/request.hpp"
#include "wharf/response.hpp"
#include "wharf/session.hpp"

namespace {

using wharf::accept_item;
using wharf::accept_list;
using kind = accept_list::field_kind;
using wharf::detail::request_access;

/// An item as one line: value, then each parameter, then the weight ("text/html;level=1 q=500").
std::string describe(const accept_item& item) {
    std::string s(item.value);
    for (const auto& [name, value] : item.params) {
        s += ';';
        s += name;
        s += '=';
        s += value;
    }
    s += " q=";
    s += std::to_string(item.quality);
    return s;
}

std::vector<std::string> describe(const accept_list& list) {
    std::vector<std::string> out;
    for (const auto& item : list.items())
        out.push_back(describe(item));
    return out;
}

/// Parses a heap copy of exactly value.size() bytes (ASan sees any read past it) and checks
/// that every view lies inside it.
std::vector<std::string> parse_checked(std::string_view value, kind k) {
    const std::unique_ptr<char[]> copy(new char[value.size() + 1]);
    value.copy(copy.get(), value.size());
    const std::string_view input(copy.get(), value.size());
    const auto inside = [&](std::string_view v) {
        return v.empty() ||
               (v.data() >= input.data() && v.data() + v.size() <= input.data() + input.size());
    };
    const accept_list list = accept_list::parse(input, k);
    EXPECT_EQ(list.kind(), k);
    EXPECT_TRUE(list.present());
    for (const auto& item : list.items()) {
        EXPECT_TRUE(inside(item.value) && inside(item.type) && inside(item.subtype));
        for (const auto& [name, v] : item.params)
            EXPECT_TRUE(inside(name) && inside(v));
    }
    return describe(list);
}

struct parse_row {
    std::string_view field;
    std::vector<std::string> items;
};

void run_parse_rows(kind k, const std::vector<parse_row>& rows) {
    for (const auto& row : rows) {
        SCOPED_TRACE(std::string(row.field));
        EXPECT_EQ(parse_checked(row.field, k), row.items);
    }
}

/// Cut anywhere, a field keeps the elements wholly before the cut unchanged; at most the one
/// the cut falls in is added (or dropped as malformed). Nothing carries over between elements.
void run_prefix_rows(kind k, const std::vector<parse_row>& rows) {
    for (const auto& row : rows) {
        for (std::size_t cut = 0; cut <= row.field.size(); ++cut) {
            SCOPED_TRACE(std::string(row.field.substr(0, cut)));
            const auto got = parse_checked(row.field.substr(0, cut), k);
            ASSERT_LE(got.size(), row.items.size() + 1);
            for (std::size_t i = 0; i + 1 < got.size(); ++i)
                EXPECT_EQ(got[i], row.items[i]);
        }
    }
}

const std::vector<parse_row>& media_rows() {
    static const std::vector<parse_row> rows = {
        // RFC 9110 §12.5.1 examples
        {"audio/*; q=0.2, audio/basic", {"audio/* q=200", "audio/basic q=1000"}},
        {"text/plain; q=0.5, text/html,\r\n       text/x-dvi; q=0.8, text/x-c",
         {"text/plain q=500", "text/html q=1000", "text/x-c q=1000"}}, // CR LF is not OWS
        {"text/plain; q=0.5, text/html, text/x-dvi; q=0.8, text/x-c",
         {"text/plain q=500", "text/html q=1000", "text/x-dvi q=800", "text/x-c q=1000"}},
        {"text/*, text/plain, text/plain;format=flowed, */*",
         {"text/* q=1000", "text/plain q=1000", "text/plain;format=flowed q=1000", "*/* q=1000"}},
        {"text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, "
         "text/plain;format=fixed;q=0.4, */*;q=0.5",
         {"text/* q=300", "text/plain q=700", "text/plain;format=flowed q=1000",
          "text/plain;format=fixed q=400", "*/* q=500"}},
        // empty elements and OWS
        {"", {}},
        {",", {}},
        {" , ,\t,", {}},
        {",,text/html,,", {"text/html q=1000"}},
        {"\ttext/html\t;\tq=0.5\t,\timage/png", {"text/html q=500", "image/png q=1000"}},
        {"text/html ; level=1 ;; ; q=0.5 ;", {"text/html;level=1 q=500"}},
        // case is kept as sent; matching ignores it
        {"TEXT/HTML;Level=1;Q=0.5", {"TEXT/HTML;Level=1 q=500"}},
        // quoted parameter values: commas, semicolons and escapes do not split
        {"text/html;a=\"x,y;z\",image/png", {"text/html;a=x,y;z q=1000", "image/png q=1000"}},
        {"text/html;a=\"q\\\"u,o\\\\\";q=0.1, b/c",
         {"text/html;a=q\\\"u,o\\\\ q=100", "b/c q=1000"}},
        {"a/b;x=\"\", c/d", {"a/b;x= q=1000", "c/d q=1000"}},
        {"a/b;x=\"unterminated, c/d", {}},
        {"a/b;x=\"bad\x01\", c/d", {"c/d q=1000"}},
        // q edge cases
        {"a/b;q=0", {"a/b q=0"}},
        {"a/b;q=0.", {"a/b q=0"}},
        {"a/b;q=0.001", {"a/b q=1"}},
        {"a/b;q=0.01", {"a/b q=10"}},
        {"a/b;q=0.999", {"a/b q=999"}},
        {"a/b;q=1", {"a/b q=1000"}},
        {"a/b;q=1.", {"a/b q=1000"}},
        {"a/b;q=1.000", {"a/b q=1000"}},
        {"a/b;q=1.001, c/d", {"c/d q=1000"}},
        {"a/b;q=2, c/d", {"c/d q=1000"}},
        {"a/b;q=0.1234, c/d", {"c/d q=1000"}},
        {"a/b;q=abc, c/d", {"c/d q=1000"}},
        {"a/b;q=, c/d", {"c/d q=1000"}},
        {"a/b;q=.5, c/d", {"c/d q=1000"}},
        {"a/b;q=-0, c/d", {"c/d q=1000"}},
        {"a/b;q=\"0.5\", c/d", {"c/d q=1000"}},
        {"a/b;q = 0.5, c/d", {"c/d q=1000"}},
        {"a/b;q=0.5;q=0.7", {"a/b q=500"}},       // what follows the weight is an extension
        {"a/b;q=0.5;ext=\"1,2\"", {"a/b q=500"}}, // ... and is not a media-range parameter
        {"a/b;q=0.5;ext=bad value, c/d", {"c/d q=1000"}},
        // malformed ranges
        {"*/html, a/b", {"a/b q=1000"}},
        {"text, text/, /html, te xt/html, text/ht ml, a/b", {"a/b q=1000"}},
        {"text/html/x, text/html garbage, a/b", {"a/b q=1000"}},
        {"text/html;=1, text/html;a, text/html;a=, text/html;a =1, a/b", {"a/b q=1000"}},
        {"text/html;a=b c, text/html;a=\"b\"c, a/b", {"a/b q=1000"}},
        {"text/h\xe9ml, a/b", {"a/b q=1000"}},
        {"*/*;q=0.1, text/*", {"*/* q=100", "text/* q=1000"}},
    };
    return rows;
}

TEST(NegotiateParse, MediaRanges) {
    run_parse_rows(kind::media, media_rows());
}

TEST(NegotiateParse, MediaRangesCutAnywhere) {
    run_prefix_rows(kind::media, media_rows());
}

TEST(NegotiateParse, MediaTypeAndSubtypeViews) {
    const auto list = accept_list::parse("Text/*;charset=\"utf-8\";q=0.5", kind::media);
    ASSERT_EQ(list.items().size(), 1u);
    const auto& item = list.items()[0];
    EXPECT_EQ(item.value, "Text/*");
    EXPECT_EQ(item.type, "Text");
    EXPECT_EQ(item.subtype, "*");
    ASSERT_EQ(item.params.size(), 1u);
    EXPECT_EQ(item.params[0].first, "charset");
    EXPECT_EQ(item.params[0].second, "utf-8");
    EXPECT_EQ(item.quality, 500);
}

const std::vector<parse_row>& coding_rows() {
    static const std::vector<parse_row> rows = {
        // RFC 9110 §12.5.3 examples
        {"compress, gzip", {"compress q=1000", "gzip q=1000"}},
        {"", {}},
        {"*", {"* q=1000"}},
        {"compress;q=0.5, gzip;q=1.0", {"compress q=500", "gzip q=1000"}},
        {"gzip;q=1.0, identity; q=0.5, *;q=0", {"gzip q=1000", "identity q=500", "* q=0"}},
        {"GZIP;Q=0.001, x-gzip", {"GZIP q=1", "x-gzip q=1000"}},
        {" br ,\t, zstd;q=0.9 ", {"br q=1000", "zstd q=900"}},
        {"gzip;level=9", {"gzip q=1000"}}, // parameters other than the weight carry nothing
        {"gz ip, g/zip, gzip;q=1.001, gzip;q, \"gzip\", br", {"br q=1000"}},
    };
    return rows;
}

TEST(NegotiateParse, Codings) {
    run_parse_rows(kind::coding, coding_rows());
}

TEST(NegotiateParse, CodingsCutAnywhere) {
    run_prefix_rows(kind::coding, coding_rows());
}

const std::vector<parse_row>& language_rows() {
    static const std::vector<parse_row> rows = {
        {"da, en-gb;q=0.8, en;q=0.7", {"da q=1000", "en-gb q=800", "en q=700"}}, // RFC 9110
        {"*;q=0.1, zh-Hant-TW, EN-us", {"* q=100", "zh-Hant-TW q=1000", "EN-us q=1000"}},
        {"de-CH-1996, sl-rozaj-biske", {"de-CH-1996 q=1000", "sl-rozaj-biske q=1000"}},
        {"en-12345678, x-abcdefgh", {"en-12345678 q=1000", "x-abcdefgh q=1000"}},
        {"en_US, abcdefghi, en-123456789, en-, -en, 1en, en--gb, e*, fr", {"fr q=1000"}},
        {"en;q=0.5;x=1, de", {"en q=500", "de q=1000"}},
    };
    return rows;
}

TEST(NegotiateParse, LanguageRanges) {
    run_parse_rows(kind::language, language_rows());
}

TEST(NegotiateParse, LanguageRangesCutAnywhere) {
    run_prefix_rows(kind::language, language_rows());
}

const std::vector<parse_row>& charset_rows() {
    static const std::vector<parse_row> rows = {
        {"iso-8859-5, unicode-1-1;q=0.8", {"iso-8859-5 q=1000", "unicode-1-1 q=800"}}, // RFC
        {"UTF-8, *;q=0.1", {"UTF-8 q=1000", "* q=100"}},
        {"utf 8, utf/8, utf-8;q=x, latin1", {"latin1 q=1000"}},
    };
    return rows;
}

TEST(NegotiateParse, Charsets) {
    run_parse_rows(kind::charset, charset_rows());
}

TEST(NegotiateParse, CharsetsCutAnywhere) {
    run_prefix_rows(kind::charset, charset_rows());
}

TEST(NegotiateParse, KeepsTheFirstMaxItemsElements) {
    std::string field = "bad, , */html,";
    for (int i = 0; i < 100; ++i) {
        field += "a/b";
        field += std::to_string(i);
        field += ",";
    }
    const auto list = accept_list::parse(field, kind::media);
    ASSERT_EQ(list.items().size(), accept_list::max_items);
    EXPECT_EQ(list.items().front().value, "a/b0");
    EXPECT_EQ(list.items().back().value, "a/b63");
    // The elements past the limit do not count either way.
    EXPECT_EQ(list.quality("a/b63"), 1000);
    EXPECT_EQ(list.quality("a/b64"), 0);

    std::string exact;
    for (std::size_t i = 0; i < accept_list::max_items; ++i)
        exact += "x/y, ";
    EXPECT_EQ(accept_list::parse(exact, kind::media).items().size(), accept_list::max_items);
}

TEST(NegotiateParse, LongPathologicalFields) {
    // One pass over each; none of these yields an element.
    const std::string quotes(100000, '"');
    const std::string commas(100000, ',');
    std::string params = "a/b";
    for (int i = 0; i < 20000; ++i)
        params += ";;x=\"\\,\"";
    params += ";q=2";
    for (const std::string_view field :
         {std::string_view(quotes), std::string_view(commas), std::string_view(params)})
        EXPECT_TRUE(accept_list::parse(field, kind::media).items().empty());

    std::string many = "a/b";
    for (int i = 0; i < 1000; ++i)
        many += ";p=v";
    const auto list = accept_list::parse(many, kind::media);
    ASSERT_EQ(list.items().size(), 1u);
    EXPECT_EQ(list.items()[0].params.size(), 1000u);
}

TEST(NegotiateParse, AbsentFieldAcceptsAnything) {
    for (const kind k : {kind::media, kind::coding, kind::language, kind::charset}) {
        const auto list = accept_list::parse("", k, false);
        EXPECT_FALSE(list.present());
        EXPECT_TRUE(list.items().empty());
        for (const std::string_view offered : {"text/html", "gzip", "identity", "en", "utf-8", ""})
            EXPECT_EQ(list.quality(offered), 1000) << offered;
    }
    const accept_list defaulted;
    EXPECT_FALSE(defaulted.present());
    EXPECT_EQ(defaulted.quality("text/html"), 1000);
}

struct quality_row {
    std::string_view field;
    std::string_view offered;
    std::uint16_t quality;
};

void run_quality_rows(kind k, const std::vector<quality_row>& rows) {
    for (const auto& row : rows) {
        SCOPED_TRACE(std::string(row.field) + " <- " + std::string(row.offered));
        EXPECT_EQ(accept_list::parse(row.field, k).quality(row.offered), row.quality);
    }
}

TEST(NegotiateQuality, MediaRfc9110Example) {
    // RFC 9110 §12.5.1: the field and its table of resulting qualities.
    constexpr std::string_view field = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed,"
                                       " text/plain;format=fixed;q=0.4, */*;q=0.5";
    run_quality_rows(kind::media, {
                                      {field, "text/plain;format=flowed", 1000},
                                      {field, "text/plain", 700},
                                      {field, "text/html", 300},
                                      {field, "image/jpeg", 500},
                                      {field, "text/plain;format=fixed", 400},
                                      {field, "text/html;level=3", 300},
                                  });
}

TEST(NegotiateQuality, Media) {
    run_quality_rows(kind::media,
                     {
                         {"", "text/html", 0},
                         {"audio/*; q=0.2, audio/basic", "audio/basic", 1000},
                         {"audio/*; q=0.2, audio/basic", "audio/mpeg", 200},
                         {"audio/*; q=0.2, audio/basic", "video/mp4", 0},
                         {"TEXT/HTML", "text/html", 1000},
                         {"text/html", "Text/HTML", 1000},
                         {"text/*;q=0.5", "TEXT/plain", 500},
                         {"*/*;q=0.1, application/json;q=0", "application/json", 0},
                         {"*/*;q=0.1, application/json;q=0", "application/xml", 100},
                         // a range's parameters must all be present with equal values
                         {"text/html;level=1", "text/html", 0},
                         {"text/html;level=1", "text/html;level=1", 1000},
                         {"text/html;level=1", "text/html; LEVEL=1", 1000},
                         {"text/html;level=1", "text/html;level=2", 0},
                         {"text/html;level=1;q=0.2, text/html;q=0.1", "text/html;level=1;x=y", 200},
                         {"text/html;a=1;b=2;q=0.3, text/html;a=1;q=0.2", "text/html;b=2;a=1", 300},
                         {"text/html;a=1;b=2;q=0.3, text/html;a=1;q=0.2", "text/html;a=1", 200},
                         {"text/html;level=1", "text/html;level=\"1\"", 1000},
                         {"text/html;level=\"1\"", "text/html;level=1", 1000},
                         {"a/b;x=\"q\\\"t\"", "a/b;x=\"q\\\"t\"", 1000},
                         {"a/b;x=\"q\\t\"", "a/b;x=qt", 1000},
                         {"a/b;x=\"A,B\"", "a/b;x=\"A,B\"", 1000},
                         // values are case-sensitive, except charset's
                         {"a/b;x=Y", "a/b;x=y", 0},
                         {"text/plain;charset=UTF-8", "text/plain;charset=utf-8", 1000},
                         {"text/plain;Charset=\"utf-8\"", "text/plain;CHARSET=UTF-8", 1000},
                         // type/subtype beats type/* beats */*, whatever the order or weights
                         {"*/*;q=0.9, text/*;q=0.2, text/html;q=0.1", "text/html", 100},
                         {"text/html;q=0.1, text/*;q=0.2, */*;q=0.9", "text/css", 200},
                         // the same range twice: the heavier counts
                         {"text/html;q=0.2, text/html;q=0.6", "text/html", 600},
                         // a malformed offer is acceptable to nobody
                         {"*/*", "html", 0},
                         {"*/*", "*/html", 0},
                         {"*/*", "", 0},
                     });
}

TEST(NegotiateQuality, Codings) {
    constexpr std::string_view rfc = "gzip;q=1.0, identity; q=0.5, *;q=0";
    run_quality_rows(kind::coding, {
                                       // present but empty: only identity
                                       {"", "identity", 1},
                                       {"", "gzip", 0},
                                       {" , ", "identity", 1},
                                       {rfc, "gzip", 1000},
                                       {rfc, "identity", 500},
                                       {rfc, "br", 0},
                                       {"compress;q=0.5, gzip;q=1.0", "compress", 500},
                                       {"compress;q=0.5, gzip;q=1.0", "x-compress", 500},
                                       {"compress;q=0.5, gzip;q=1.0", "identity", 1},
                                       {"compress;q=0.5, gzip;q=1.0", "br", 0},
                                       {"GZIP", "gzip", 1000},
                                       {"gzip", "GZip", 1000},
                                       {"x-gzip;q=0.4", "gzip", 400},
                                       {"gzip;q=0.4", "x-gzip", 400},
                                       {"*", "br", 1000},
                                       {"*", "identity", 1000},
                                       {"*;q=0.3, br", "zstd", 300},
                                       {"*;q=0.3, br", "br", 1000},
                                       {"*;q=0.3, br", "identity", 300},
                                       {"br;q=0, *", "br", 0},
                                       {"br;q=0, *", "gzip", 1000},
                                       // identity is excluded only explicitly
                                       {"identity;q=0", "identity", 0},
                                       {"identity;q=0", "gzip", 0},
                                       {"*;q=0", "identity", 0},
                                       {"*;q=0", "gzip", 0},
                                       {"*;q=0, identity", "identity", 1000},
                                       {"*;q=0, identity;q=0.2", "identity", 200},
                                       {"IDENTITY;Q=0", "identity", 0},
                                       {"gzip;q=0", "identity", 1},
                                   });
}

TEST(NegotiateQuality, Languages) {
    constexpr std::string_view rfc = "da, en-gb;q=0.8, en;q=0.7";
    run_quality_rows(kind::language, {
                                         {rfc, "da", 1000},
                                         {rfc, "DA-dk", 1000},
                                         {rfc, "en-GB", 800},
                                         {rfc, "en-gb-oed", 800},
                                         {rfc, "en", 700},
                                         {rfc, "en-US", 700},
                                         {rfc, "fr", 0},
                                         {rfc, "dan", 0}, // a prefix must end at a '-'
                                         {rfc, "e", 0},
                                         {"", "en", 0},
                                         {"*", "x-klingon", 1000},
                                         {"*;q=0.1, fr", "de", 100},
                                         {"*;q=0.1, fr", "fr-CA", 1000},
                                         {"en-US, en;q=0.5", "en-us", 1000},
                                         {"en-US, en;q=0.5", "en-US-x-twain", 1000},
                                         {"en-US, en;q=0.5", "en-GB", 500},
                                         // the longest matching range decides
                                         {"en, en-US;q=0", "en-US", 0},
                                         {"en, en-US;q=0", "en-GB", 1000},
                                         {"en-US;q=0, en", "en-US", 0},
                                         {"*;q=0.9, en;q=0.1", "en-AU", 100},
                                         {"en-gb", "en", 0},
                                     });
}

TEST(NegotiateQuality, Charsets) {
    constexpr std::string_view rfc = "iso-8859-5, unicode-1-1;q=0.8";
    run_quality_rows(kind::charset, {
                                        {rfc, "iso-8859-5", 1000},
                                        {rfc, "ISO-8859-5", 1000},
                                        {rfc, "unicode-1-1", 800},
                                        {rfc, "utf-8", 0},
                                        {rfc, "iso-8859-1", 0}, // no default since RFC 7231
                                        {"", "utf-8", 0},
                                        {"utf-8, *;q=0.1", "latin1", 100},
                                        {"utf-8, *;q=0.1", "UTF-8", 1000},
                                        {"*;q=0, utf-8", "utf-8", 1000},
                                        {"*;q=0, utf-8", "us-ascii", 0},
                                    });
}

std::vector<std::string> precedence(std::string_view field, kind k) {
    const auto list = accept_list::parse(field, k);
    std::vector<std::string> out;
    for (const accept_item* item : list.by_precedence()) {
        EXPECT_GE(item, list.items().data());
        EXPECT_LT(item, list.items().data() + list.items().size());
        out.push_back(describe(*item));
    }
    return out;
}

TEST(NegotiatePrecedence, Table) {
    struct row {
        kind k;
        std::string_view field;
        std::vector<std::string> order;
    };
    const std::vector<row> rows = {
        {kind::media,
         "*/*, text/*, text/html, text/html;level=1, text/html;level=1;x=y",
         {"text/html;level=1;x=y q=1000", "text/html;level=1 q=1000", "text/html q=1000",
          "text/* q=1000", "*/* q=1000"}},
        // RFC 9110 §12.5.1: "text/plain;format=flowed", "text/plain", "text/*", "*/*"
        {kind::media,
         "text/*, text/plain, text/plain;format=flowed, */*",
         {"text/plain;format=flowed q=1000", "text/plain q=1000", "text/* q=1000", "*/* q=1000"}},
        // equally specific: heavier first, ties in the order sent
        {kind::media,
         "text/plain;q=0.5, text/html, image/png;q=0.5, text/plain",
         {"text/html q=1000", "text/plain q=1000", "text/plain q=500", "image/png q=500"}},
        // specificity wins over weight
        {kind::media,
         "*/*;q=1, text/*;q=0.5, a/b;q=0.1, a/b;x=1;q=0",
         {"a/b;x=1 q=0", "a/b q=100", "text/* q=500", "*/* q=1000"}},
        {kind::media, "text/*;a=1, text/plain", {"text/plain q=1000", "text/*;a=1 q=1000"}},
        {kind::language,
         "*, en, en-GB;q=0.5, de;q=0.7",
         {"en-GB q=500", "en q=1000", "de q=700", "* q=1000"}},
        // more subtags is more specific; their length does not count
        {kind::language, "fil;q=0.5, en, zh-Hant", {"zh-Hant q=1000", "en q=1000", "fil q=500"}},
        {kind::coding,
         "*, gzip;q=0.5, br, identity;q=0",
         {"br q=1000", "gzip q=500", "identity q=0", "* q=1000"}},
        {kind::charset, "*;q=0.9, utf-8;q=0.1", {"utf-8 q=100", "* q=900"}},
        {kind::media, "", {}},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.field));
        EXPECT_EQ(precedence(r.field, r.k), r.order);
    }
}

struct negotiate_row {
    kind k;
    std::string_view field;
    bool present;
    std::vector<std::string_view> offered;
    std::optional<std::size_t> chosen;
};

TEST(NegotiateChoice, Table) {
    const std::vector<negotiate_row> rows = {
        // equal qualities: the server's order decides
        {kind::media, "text/html, application/json", true, {"application/json", "text/html"}, 0},
        {kind::media, "text/html, application/json", true, {"text/html", "application/json"}, 0},
        {kind::media, "*/*", true, {"image/png", "text/html"}, 0},
        {kind::media,
         "text/html;q=0.5, application/json",
         true,
         {"text/html", "application/json"},
         1},
        {kind::media, "text/*;q=0.5, */*;q=0.1", true, {"image/png", "text/css", "text/html"}, 1},
        {kind::media, "image/png", true, {"text/html", "application/json"}, std::nullopt},
        {kind::media, "*/*;q=0", true, {"text/html"}, std::nullopt},
        {kind::media, "text/html", true, {}, std::nullopt},
        {kind::media, "", true, {"text/html"}, std::nullopt},
        {kind::media, "garbage", true, {"text/html"}, std::nullopt},
        // an absent field accepts anything: the first offer
        {kind::media, "", false, {"application/json", "text/html"}, 0},
        {kind::media, "", false, {}, std::nullopt},
        {kind::coding, "gzip;q=0.8, br", true, {"gzip", "br", "identity"}, 1},
        {kind::coding, "gzip, br", true, {"zstd", "br", "gzip", "identity"}, 1},
        {kind::coding, "gzip;q=0.8", true, {"br", "identity"}, 1},
        {kind::coding, "", true, {"gzip", "identity"}, 1},
        {kind::coding, "*;q=0", true, {"gzip", "identity"}, std::nullopt},
        {kind::language,
         "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
         true,
         {"de", "en-US", "fr"},
         2},
        {kind::language, "de", true, {"en", "fr"}, std::nullopt},
        {kind::charset, "utf-8;q=0.5, *", true, {"utf-8", "iso-8859-1"}, 1},
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(std::string(r.field));
        const auto list = accept_list::parse(r.field, r.k, r.present);
        EXPECT_EQ(list.negotiate(std::span<const std::string_view>(r.offered)), r.chosen);
    }
    const auto list = accept_list::parse("text/html;q=0.9, application/json", kind::media);
    EXPECT_EQ(list.negotiate({"text/html", "application/json"}), 1u);
    EXPECT_EQ(list.negotiate({"image/gif"}), std::nullopt);
}

TEST(NegotiateSession, ChoosesFromAcceptAndSetsVary) {
    const wharf::header_field fields[] = {{"Accept", "text/html;q=0.5, application/json"}};
    wharf::session s;
    request_access::set_headers(s.request(), wharf::header_view(fields), "h");
    const std::string_view offered[] = {"text/html", "application/json"};
    const auto chosen = wharf::negotiate(s, offered);
    ASSERT_TRUE(chosen.has_value());
    EXPECT_EQ(chosen->data(), offered[1].data());
    EXPECT_EQ(s.response().headers().get("Vary"), "Accept");

    EXPECT_EQ(wharf::negotiate(s, {"text/html"}), "text/html");
    EXPECT_EQ(s.response().headers().get("Vary"), "Accept"); // not repeated
}

TEST(NegotiateSession, NoAcceptableTypeStillVaries) {
    const wharf::header_field fields[] = {{"Accept", "image/*"}};
    wharf::session s;
    request_access::set_headers(s.request(), wharf::header_view(fields), "h");
    s.response().vary("Accept-Encoding");
    EXPECT_EQ(wharf::negotiate(s, {"text/html", "application/json"}), std::nullopt);
    EXPECT_EQ(s.response().headers().get("Vary"), "Accept-Encoding, Accept");
}

TEST(NegotiateSession, MissingAcceptTakesTheFirstOffer) {
    wharf::session s;
    EXPECT_EQ(wharf::negotiate(s, {"application/json", "text/html"}), "application/json");
    EXPECT_EQ(s.response().headers().get("Vary"), "Accept");
}

} // namespace
