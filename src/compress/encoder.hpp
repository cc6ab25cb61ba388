// SPDX-License-Identifier: MIT
// Streaming encoders for the HTTP content codings gzip (RFC 1952, zlib), br (RFC 7932,
// libbrotlienc) and zstd (RFC 8878, libzstd), written to in pieces and flushed on demand.
//
// Memory is bounded per stream, and the big parts of it (windows, hash tables) are kept per
// thread between streams, so that a short response does not pay for allocating them:
//
// | coding | window | one stream's state (measured)   | kept per thread while idle  |
// |--------|--------|---------------------------------|-----------------------------|
// | gzip   | 32 KiB | 262 KiB (windowBits 15, memLevel 8: 2^17 + 2^17 + 5.9 KiB) | 2 z_streams
// (deflateReset) | | br     | ≤ 256 KiB (lgwin 18) | ≤ 1.1 MiB at quality 5 (see brotli_lgwin) |
// freed blocks up to 2 MiB | | zstd   | ≤ 256 KiB (windowLog 18) | ≤ 1.3 MiB at level 3 (see
// zstd_window_log) | 2 ZSTD_CCtx (ZSTD_CCtx_reset) |
//
// A body whose size is known gets a smaller window when it is smaller (brotli's lgwin and
// zstd's pledged size), which also shrinks the tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace wharf::detail::compress {

enum class coding : std::uint8_t { gzip, br, zstd };

/// The coding's token in Content-Encoding and Accept-Encoding: "gzip", "br", "zstd".
std::string_view coding_name(coding c) noexcept;

/// How far one write reaches.
enum class flush_mode : std::uint8_t {
    none,   ///< more input follows: output what the encoder wants to, keep the rest
    flush,  ///< everything written so far can be decoded from the output (Z_SYNC_FLUSH,
            ///< BROTLI_OPERATION_FLUSH, ZSTD_e_flush); nothing is emitted when nothing was
            ///< written since the last flush
    finish, ///< the stream ends here
};

/// zlib's window (2^15 = 32 KiB, the most gzip has) and hash size: memory per stream is
/// 2^(windowBits+2) + 2^(memLevel+9) bytes = 256 KiB, plus the 5.9 KiB deflate_state.
inline constexpr int gzip_window_bits = 15;
inline constexpr int gzip_mem_level = 8;
/// brotli's largest window (2^18 = 256 KiB), smaller for a smaller known size (never below
/// 2^10). Larger windows gain under 1% on web content at the qualities a server streams at.
inline constexpr int brotli_lgwin = 18;
/// zstd's largest window (2^18 = 256 KiB; RFC 8878 lets HTTP decoders refuse over 8 MiB).
inline constexpr int zstd_window_log = 18;

/// One compressed stream. Not thread-safe; it may be created and destroyed on different
/// threads (each returns what it holds to the pool of the thread it ends on).
class encoder {
  public:
    /// An encoder for `c` at `level` (gzip 1-9, br 0-11, zstd 1-19; out-of-range levels are
    /// clamped). `size_hint`: the whole input's size when known (smaller windows for small
    /// bodies; the zstd frame records it). Null only when the codec cannot allocate its state.
    static std::unique_ptr<encoder> make(coding c, int level,
                                         std::optional<std::uint64_t> size_hint = std::nullopt);
    virtual ~encoder() = default;
    encoder(const encoder&) = delete;
    encoder& operator=(const encoder&) = delete;

    /// Appends to `out` the output for `in` up to `mode`. Errors: invalid_argument for input
    /// after the stream finished (an empty finish again is fine), io_error when the codec
    /// fails. After finish the codec's state is back in the thread's pool.
    virtual std::error_code write(std::string_view in, flush_mode mode, std::string& out) = 0;
    /// True once a finish was written.
    bool finished() const noexcept { return finished_; }

  protected:
    encoder() = default;
    bool finished_ = false;
    bool pending_ = false; // input written since the last flush
};

} // namespace wharf::detail::compress
