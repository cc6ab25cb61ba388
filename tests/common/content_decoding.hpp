// SPDX-License-Identifier: MIT
// Reference decoders for the content codings (zlib, libbrotlidec, libzstd), for tests that
// check what wharf's encoders and the compression filter produced.
#pragma once

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <optional>
#include <string>
#include <string_view>

namespace wharf_test {

/// The bytes `in` decodes to under `coding` ("gzip", "br", "zstd"), or nullopt when it is not
/// a complete, valid stream of that coding. `partial`: a prefix of a stream is enough (what a
/// flush promises), and everything it holds is returned.
inline std::optional<std::string> decode(std::string_view coding, std::string_view in,
                                         bool partial = false) {
    std::string out;
    char buf[16384];
    if (coding == "gzip") {
        z_stream z{};
        if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        int rc = Z_OK;
        while (rc == Z_OK) {
            z.next_out = reinterpret_cast<Bytef*>(buf);
            z.avail_out = sizeof buf;
            rc = inflate(&z, Z_NO_FLUSH);
            out.append(buf, sizeof buf - z.avail_out);
            if (rc == Z_BUF_ERROR && z.avail_in == 0) break; // input used up
        }
        const bool complete = rc == Z_STREAM_END && z.avail_in == 0;
        inflateEnd(&z);
        if (complete || (partial && rc == Z_BUF_ERROR)) return out;
        return std::nullopt;
    }
    if (coding == "br") {
        BrotliDecoderState* d = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
        auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
        std::size_t avail_in = in.size();
        BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
        while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
            auto next_out = reinterpret_cast<std::uint8_t*>(buf);
            std::size_t avail_out = sizeof buf;
            rc = BrotliDecoderDecompressStream(d, &avail_in, &next_in, &avail_out, &next_out,
                                               nullptr);
            out.append(buf, sizeof buf - avail_out);
        }
        BrotliDecoderDestroyInstance(d);
        if ((rc == BROTLI_DECODER_RESULT_SUCCESS && avail_in == 0) ||
            (partial && rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT))
            return out;
        return std::nullopt;
    }
    if (coding == "zstd") {
        ZSTD_DStream* d = ZSTD_createDStream();
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        std::size_t rc = 1;
        while (input.pos < input.size || rc != 0) {
            ZSTD_outBuffer output{buf, sizeof buf, 0};
            rc = ZSTD_decompressStream(d, &output, &input);
            if (ZSTD_isError(rc)) break;
            out.append(buf, output.pos);
            if (input.pos == input.size && output.pos < output.size) break; // needs more input
        }
        ZSTD_freeDStream(d);
        if (ZSTD_isError(rc)) return std::nullopt;
        if (rc == 0 || partial) return out;
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace wharf_test
