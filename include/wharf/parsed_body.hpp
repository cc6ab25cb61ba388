// SPDX-License-Identifier: MIT
// What reading a request body as JSON, XML or a form found (S5): the value, or why there is
// none, told apart so that each gets its own status.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wharf {

class response;

enum class body_status : std::uint8_t {
    ok,
    no_body,          ///< the request has no body (400)
    wrong_media_type, ///< its Content-Type is not one this reader takes (415)
    too_large,        ///< larger than the reader's limit (413)
    malformed,        ///< the parser refused it (400), with a message and a byte offset
};

/// Why a body could not be read, and the answer that goes with it.
struct body_error {
    body_status status = body_status::ok;
    std::string message;    ///< the parser's message (malformed), or a short explanation
    std::size_t offset = 0; ///< the byte offset of a malformed body's error
    /// 400, 413 or 415 (200 for ok).
    int http_status() const noexcept;
    /// Answers for the handler: the status, and a body that says why (JSON readers answer
    /// {"error": message, "offset": N} as application/json, the others plain text).
    void answer(response& res) const;
    bool json_answer = false; ///< answer() writes JSON rather than plain text
};

} // namespace wharf
