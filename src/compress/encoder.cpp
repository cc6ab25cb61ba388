// SPDX-License-Identifier: MIT
#include "compress/encoder.hpp"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <utility>
#include <vector>

namespace wharf::detail::compress {

std::string_view coding_name(coding c) noexcept {
    switch (c) {
    case coding::gzip:
        return "gzip";
    case coding::br:
        return "br";
    case coding::zstd:
        return "zstd";
    }
    return {};
}

namespace {

// Idle codec states kept per thread and codec: a worker serves one response at a time, so
// two cover a response and the next one starting before the first released its state.
constexpr std::size_t idle_per_thread = 2;
// Freed brotli blocks kept per thread: one quality-5 stream at lgwin 18 allocates about 1 MiB.
constexpr std::size_t brotli_cache_bytes = 2 * 1024 * 1024;
constexpr std::size_t brotli_cache_blocks = 32;

// Output room asked for per codec call: enough for a typical compressed piece at once, small
// enough that a short event does not touch much memory.
std::size_t room_for(std::size_t input) {
    return std::clamp<std::size_t>(input / 2 + 64, 256, 64 * 1024);
}

std::error_code io_error() {
    return make_error_code(std::errc::io_error);
}

int ceil_log2(std::uint64_t n) {
    return n <= 1 ? 0 : std::numeric_limits<std::uint64_t>::digits - std::countl_zero(n - 1);
}

/// A thread's idle states of one codec; `Traits::destroy` frees one for good. The flag lets
/// an encoder that ends during the thread's exit, after the pool is gone, free its state
/// instead of returning it.
template <class State, class Traits>
class idle_pool {
  public:
    ~idle_pool() {
        gone() = true;
        for (State* s : idle_)
            Traits::destroy(s);
    }
    static idle_pool* of_this_thread() {
        if (gone()) return nullptr;
        thread_local idle_pool pool;
        return &pool;
    }
    /// An idle state for which `fits` holds, or null.
    template <class Fits>
    State* take(Fits fits) {
        for (std::size_t i = idle_.size(); i-- > 0;) {
            State* s = idle_[i];
            if (!fits(s)) continue;
            idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
            return s;
        }
        return nullptr;
    }
    /// Keeps `s` (already reset) for the next stream, or frees it when the pool is full.
    static void give_back(State* s) {
        idle_pool* pool = of_this_thread();
        if (!pool) {
            Traits::destroy(s);
            return;
        }
        if (pool->idle_.size() == idle_per_thread) {
            Traits::destroy(pool->idle_.front());
            pool->idle_.erase(pool->idle_.begin());
        }
        pool->idle_.push_back(s);
    }

  private:
    static bool& gone() {
        thread_local bool flag = false; // trivially destructible: readable at thread exit
        return flag;
    }
    std::vector<State*> idle_;
};

// --- gzip -----------------------------------------------------------------------------------

struct deflate_state {
    z_stream z{};
    int level = 0;
};

struct deflate_traits {
    static void destroy(deflate_state* s) {
        deflateEnd(&s->z);
        delete s;
    }
};
using deflate_pool = idle_pool<deflate_state, deflate_traits>;

class gzip_encoder final : public encoder {
  public:
    explicit gzip_encoder(deflate_state* s) : s_(s) {}
    ~gzip_encoder() override { release(); }

    static std::unique_ptr<encoder> make(int level) {
        level = std::clamp(level, 1, 9);
        deflate_state* s = nullptr;
        if (auto* pool = deflate_pool::of_this_thread())
            s = pool->take([level](deflate_state* d) { return d->level == level; });
        if (!s) {
            s = new deflate_state;
            s->level = level;
            // windowBits + 16: the gzip wrapper (RFC 1952) rather than zlib's (RFC 1950).
            if (deflateInit2(&s->z, level, Z_DEFLATED, gzip_window_bits + 16, gzip_mem_level,
                             Z_DEFAULT_STRATEGY) != Z_OK) {
                delete s;
                return nullptr;
            }
        }
        return std::make_unique<gzip_encoder>(s);
    }

    std::error_code write(std::string_view in, flush_mode mode, std::string& out) override {
        if (finished_)
            return in.empty() ? std::error_code{} : make_error_code(std::errc::invalid_argument);
        if (!s_) return io_error();
        if (in.empty() && (mode == flush_mode::none || (mode == flush_mode::flush && !pending_)))
            return {};
        const int how = mode == flush_mode::none    ? Z_NO_FLUSH
                        : mode == flush_mode::flush ? Z_SYNC_FLUSH
                                                    : Z_FINISH;
        z_stream& z = s_->z;
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        std::size_t left = in.size(); // avail_in is 32 bits: feed at most 1 GiB at a time
        for (;;) {
            const std::size_t step = std::min<std::size_t>(left, 1u << 30);
            z.avail_in = static_cast<uInt>(step);
            const bool last_step = step == left;
            const int step_how = last_step ? how : Z_NO_FLUSH;
            int rc = Z_OK;
            do {
                const std::size_t used = out.size();
                const std::size_t room = room_for(z.avail_in);
                out.resize(used + room);
                z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
                z.avail_out = static_cast<uInt>(room);
                rc = deflate(&z, step_how);
                out.resize(used + room - z.avail_out);
                if (rc == Z_STREAM_ERROR) return fail();
                // Until the input is taken and the output had room to spare (zlib's rule for
                // Z_NO_FLUSH and Z_SYNC_FLUSH), or the stream ended (Z_FINISH).
            } while (step_how == Z_FINISH ? rc != Z_STREAM_END
                                          : z.avail_in > 0 || z.avail_out == 0);
            left -= step;
            if (last_step) break;
        }
        pending_ = mode == flush_mode::none;
        if (mode == flush_mode::finish) {
            finished_ = true;
            release();
        }
        return {};
    }

  private:
    std::error_code fail() {
        if (s_) {
            deflate_traits::destroy(s_);
            s_ = nullptr;
        }
        return io_error();
    }
    void release() {
        if (!s_) return;
        deflateReset(&s_->z);
        deflate_pool::give_back(std::exchange(s_, nullptr));
    }
    deflate_state* s_;
};

// --- br -------------------------------------------------------------------------------------

/// brotli has no reset: each stream is a new BrotliEncoderState. Its big blocks (ring buffer,
/// hash tables) come from this per-thread cache of freed blocks, so that a new stream reuses
/// the last one's memory instead of mapping and faulting in fresh pages.
class block_cache {
  public:
    ~block_cache() {
        gone() = true;
        for (void* b : idle_)
            std::free(b);
    }
    static void* allocate(void*, std::size_t size) {
        const std::size_t total = size + header;
        if (!gone()) {
            auto& idle = mine().idle_;
            for (std::size_t i = idle.size(); i-- > 0;) {
                if (size_of(idle[i]) != total) continue;
                void* block = idle[i];
                idle[i] = idle.back();
                idle.pop_back();
                mine().bytes_ -= total;
                return static_cast<char*>(block) + header;
            }
        }
        void* block = std::malloc(total);
        if (!block) return nullptr;
        *static_cast<std::size_t*>(block) = total;
        return static_cast<char*>(block) + header;
    }
    static void release(void*, void* p) {
        if (!p) return;
        void* block = static_cast<char*>(p) - header;
        const std::size_t total = size_of(block);
        if (!gone()) {
            block_cache& c = mine();
            if (c.bytes_ + total <= brotli_cache_bytes && c.idle_.size() < brotli_cache_blocks) {
                c.idle_.push_back(block);
                c.bytes_ += total;
                return;
            }
        }
        std::free(block);
    }

  private:
    // The block's size sits in front of it; the header keeps malloc's alignment.
    static constexpr std::size_t header = alignof(std::max_align_t);
    static std::size_t size_of(void* block) { return *static_cast<std::size_t*>(block); }
    static bool& gone() {
        thread_local bool flag = false;
        return flag;
    }
    static block_cache& mine() {
        thread_local block_cache cache;
        return cache;
    }
    std::vector<void*> idle_;
    std::size_t bytes_ = 0;
};

class brotli_encoder final : public encoder {
  public:
    explicit brotli_encoder(BrotliEncoderState* s) : s_(s) {}
    ~brotli_encoder() override { release(); }

    static std::unique_ptr<encoder> make(int quality, std::optional<std::uint64_t> size_hint) {
        BrotliEncoderState* s =
            BrotliEncoderCreateInstance(&block_cache::allocate, &block_cache::release, nullptr);
        if (!s) return nullptr;
        int lgwin = brotli_lgwin;
        if (size_hint) {
            lgwin = std::clamp(ceil_log2(*size_hint), BROTLI_MIN_WINDOW_BITS, brotli_lgwin);
            BrotliEncoderSetParameter(
                s, BROTLI_PARAM_SIZE_HINT,
                static_cast<std::uint32_t>(std::min<std::uint64_t>(*size_hint, 1u << 30)));
        }
        BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY,
                                  static_cast<std::uint32_t>(
                                      std::clamp(quality, BROTLI_MIN_QUALITY, BROTLI_MAX_QUALITY)));
        BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, static_cast<std::uint32_t>(lgwin));
        return std::make_unique<brotli_encoder>(s);
    }

    std::error_code write(std::string_view in, flush_mode mode, std::string& out) override {
        if (finished_)
            return in.empty() ? std::error_code{} : make_error_code(std::errc::invalid_argument);
        if (!s_) return io_error();
        if (in.empty() && (mode == flush_mode::none || (mode == flush_mode::flush && !pending_)))
            return {};
        const BrotliEncoderOperation op = mode == flush_mode::none    ? BROTLI_OPERATION_PROCESS
                                          : mode == flush_mode::flush ? BROTLI_OPERATION_FLUSH
                                                                      : BROTLI_OPERATION_FINISH;
        const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
        std::size_t avail_in = in.size();
        for (;;) {
            // No output buffer: the encoder's own is handed over by TakeOutput, without a copy
            // on its side.
            std::size_t avail_out = 0;
            if (!BrotliEncoderCompressStream(s_, op, &avail_in, &next_in, &avail_out, nullptr,
                                             nullptr)) {
                BrotliEncoderDestroyInstance(std::exchange(s_, nullptr));
                return io_error();
            }
            std::size_t n = 0;
            const std::uint8_t* produced = BrotliEncoderTakeOutput(s_, &n);
            out.append(reinterpret_cast<const char*>(produced), n);
            if (BrotliEncoderHasMoreOutput(s_)) continue;
            if (mode == flush_mode::finish ? BrotliEncoderIsFinished(s_) : avail_in == 0) break;
        }
        pending_ = mode == flush_mode::none;
        if (mode == flush_mode::finish) {
            finished_ = true;
            release();
        }
        return {};
    }

  private:
    void release() {
        if (s_) BrotliEncoderDestroyInstance(std::exchange(s_, nullptr));
    }
    BrotliEncoderState* s_;
};

// --- zstd -----------------------------------------------------------------------------------

struct zstd_traits {
    static void destroy(ZSTD_CCtx* c) { ZSTD_freeCCtx(c); }
};
using zstd_pool = idle_pool<ZSTD_CCtx, zstd_traits>;

class zstd_encoder final : public encoder {
  public:
    explicit zstd_encoder(ZSTD_CCtx* c) : c_(c) {}
    ~zstd_encoder() override { release(); }

    static std::unique_ptr<encoder> make(int level, std::optional<std::uint64_t> size_hint) {
        ZSTD_CCtx* c = nullptr;
        if (auto* pool = zstd_pool::of_this_thread())
            c = pool->take([](ZSTD_CCtx*) { return true; });
        if (!c) c = ZSTD_createCCtx();
        if (!c) return nullptr;
        // The workspace (windows, tables) stays allocated across the reset.
        ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
        bool ok = !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel,
                                                       std::clamp(level, 1, ZSTD_maxCLevel())));
        ok = ok && !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, zstd_window_log));
        // A known size shrinks the window and tables to fit, and goes into the frame header.
        if (ok && size_hint) ok = !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, *size_hint));
        if (!ok) {
            ZSTD_freeCCtx(c);
            return nullptr;
        }
        return std::make_unique<zstd_encoder>(c);
    }

    std::error_code write(std::string_view in, flush_mode mode, std::string& out) override {
        if (finished_)
            return in.empty() ? std::error_code{} : make_error_code(std::errc::invalid_argument);
        if (!c_) return io_error();
        if (in.empty() && (mode == flush_mode::none || (mode == flush_mode::flush && !pending_)))
            return {};
        const ZSTD_EndDirective how = mode == flush_mode::none    ? ZSTD_e_continue
                                      : mode == flush_mode::flush ? ZSTD_e_flush
                                                                  : ZSTD_e_end;
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        for (;;) {
            const std::size_t used = out.size();
            const std::size_t room = room_for(input.size - input.pos);
            out.resize(used + room);
            ZSTD_outBuffer output{out.data() + used, room, 0};
            const std::size_t left = ZSTD_compressStream2(c_, &output, &input, how);
            out.resize(used + output.pos);
            if (ZSTD_isError(left)) {
                ZSTD_freeCCtx(std::exchange(c_, nullptr));
                return io_error();
            }
            // ZSTD_e_continue may keep output for later; the others report what remains.
            if (input.pos == input.size && (how == ZSTD_e_continue || left == 0)) break;
        }
        pending_ = mode == flush_mode::none;
        if (mode == flush_mode::finish) {
            finished_ = true;
            release();
        }
        return {};
    }

  private:
    void release() {
        if (!c_) return;
        ZSTD_CCtx_reset(c_, ZSTD_reset_session_only);
        zstd_pool::give_back(std::exchange(c_, nullptr));
    }
    ZSTD_CCtx* c_;
};

} // namespace

std::unique_ptr<encoder> encoder::make(coding c, int level,
                                       std::optional<std::uint64_t> size_hint) {
    switch (c) {
    case coding::gzip:
        return gzip_encoder::make(level);
    case coding::br:
        return brotli_encoder::make(level, size_hint);
    case coding::zstd:
        return zstd_encoder::make(level, size_hint);
    }
    return nullptr;
}

} // namespace wharf::detail::compress
