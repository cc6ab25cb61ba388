// SPDX-License-Identifier: MIT
// The PROXY protocol parser (src/net/proxy_protocol.hpp). Invariants: a header is done only
// within its bounds (107 bytes for v1, the v2 limit), then parsing exactly its bytes gives the
// same header and one byte less is incomplete; an invalid input stays invalid with more bytes;
// a v2 header's TLVs fit in it; parsing never reads past the input (ASan).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "net/proxy_protocol.hpp"

namespace proxy = wharf::detail::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto buf = wharf_fuzz::copy_of(reinterpret_cast<const char*>(data), size);
    const std::string_view in(buf.get(), size);
    proxy::header h;
    const proxy::result r = proxy::parse(in, h);
    switch (r.status) {
    case proxy::status::done: {
        FUZZ_CHECK(r.consumed > 0 && r.consumed <= size);
        FUZZ_CHECK(h.version == 1 || h.version == 2);
        FUZZ_CHECK(h.version != 1 || r.consumed <= proxy::max_v1_bytes);
        FUZZ_CHECK(h.version != 2 || r.consumed <= proxy::default_max_v2_bytes);
        std::size_t tlv_bytes = 0;
        for (const auto& t : h.tlvs)
            tlv_bytes += 3 + t.second.size();
        FUZZ_CHECK(tlv_bytes + (h.version == 2 ? proxy::v2_head_bytes : 0) <= r.consumed);
        FUZZ_CHECK(h.version == 2 || h.tlvs.empty());
        FUZZ_CHECK(h.local || (h.source.family() != 0 && h.destination.family() != 0));
        proxy::header again;
        const proxy::result exact = proxy::parse(in.substr(0, r.consumed), again);
        FUZZ_CHECK(exact.status == proxy::status::done && exact.consumed == r.consumed);
        FUZZ_CHECK(again.local == h.local && again.tlvs == h.tlvs);
        FUZZ_CHECK(proxy::parse(in.substr(0, r.consumed - 1), again).status ==
                   proxy::status::incomplete);
        break;
    }
    case proxy::status::invalid: {
        FUZZ_CHECK(!r.error.empty());
        std::string more(in);
        more += "\r\n\r\nPROXY";
        proxy::header other;
        FUZZ_CHECK(proxy::parse(more, other).status == proxy::status::invalid);
        break;
    }
    case proxy::status::incomplete:
        FUZZ_CHECK(size < proxy::default_max_v2_bytes);
        break;
    }
    return 0;
}
