#pragma once

// Full validation of JSON text without building a document: simdjson's stage 1 (UTF-8, string
// boundaries, unescaped control characters, the structural index), then a grammar walk over
// that index, the syntax of every number and literal, and every escape sequence. It accepts
// what simdjson's DOM parser accepts, with one difference: numbers the DOM cannot represent
// (integers beyond 64 bits, magnitudes beyond double) are valid JSON and pass here; the gateway
// accepts them on its DOM path too (json_text::patch_big_numbers).
//
// Why not the DOM parser: for a 40 KB request of 100 events, simdjson's stage 2 (writing the
// tape: every string copied and unescaped, every number converted) is ~85% of the parse, and
// the gateway needs only the verdict and a handful of top-level values. The walk costs about
// half of stage 2 (perf/ingest_bench: BM_Check against BM_ParseBaseline).
//
// While it walks, the checker notes the outline of a top-level object: each member's key and
// value bytes, and for member values that are arrays, their length and whether every element
// is an object. That is all the Dataset API's envelope validation needs.
//
// Stage 1 is reached through dom::parser::implementation (public, "for benchmarking access" in
// simdjson's header); the checker uses the parser's structural index buffer and no other state.
// tests/ingress/json_check_test compares its verdict with the DOM parser's.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace obsrv::ingress {

struct json_outline {
    struct member {
        std::string_view raw_key;  // between the quotes, escapes as sent
        std::string_view value;    // exactly the value's bytes
    };
    struct array_shape {
        const char* begin = nullptr;  // the '[' (equals member::value.data())
        std::size_t elements = 0;
        bool all_objects = true;
    };
    bool root_is_object = false;
    /// False when the top-level object had more members or array members than are noted.
    bool complete = true;
    std::vector<member> members;
    std::vector<array_shape> arrays;

    /// The shape of the member array whose '[' is at `begin`, or nullptr.
    const array_shape* array_at(const char* begin) const noexcept {
        for (const auto& a : arrays) {
            if (a.begin == begin) {
                return &a;
            }
        }
        return nullptr;
    }
};

class json_checker {
  public:
    /// Members and member arrays noted per document; beyond them the outline is incomplete.
    static constexpr std::size_t k_max_members = 64;
    static constexpr std::size_t k_max_arrays = 8;

    /// Borrows `parser`'s stage-1 buffers; the parser must be allocated and outlive the
    /// checker, and nothing else may use it during check(). Nesting is limited to the parser's
    /// max_depth(), as in the DOM.
    explicit json_checker(simdjson::dom::parser& parser);

    /// True if `text` is exactly one valid JSON document. Precondition: SIMDJSON_PADDING
    /// readable bytes after text.end() (their values do not matter). Text longer than the
    /// parser's capacity is refused (false).
    bool check(std::string_view text) noexcept;

    /// After check() returned true: the top-level object's outline (root_is_object false for
    /// any other document).
    const json_outline& outline() const noexcept { return _outline; }

  private:
    bool walk(const std::uint8_t* buf, const std::uint8_t* end, const std::uint32_t* index,
              std::uint32_t count) noexcept;
    std::uint32_t walk_value(const std::uint8_t* buf, const std::uint8_t* end,
                             const std::uint32_t* index, std::uint32_t count, std::uint32_t i,
                             std::uint32_t depth) noexcept;

    simdjson::dom::parser& _parser;
    std::vector<std::uint8_t> _scopes;  // per depth: '{' or '['
    json_outline _outline;
};

}  // namespace obsrv::ingress
