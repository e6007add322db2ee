#pragma once

// Forward scanners over JSON text, for the places that need a value's exact bytes (which a
// parsed DOM does not keep): the gateway copies the request's `data` as sent, the pipeline
// copies each event of a batch as sent. Also the big-number patch that lets simdjson check text
// holding numbers it refuses but JSON.parse and Jackson accept.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::json_text {

inline bool is_ws(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// Forward scanners over JSON text. Bounds-checked; they return nullptr when the text is not
/// what they expect, so they are safe on any input but meant for already validated JSON.
const char* skip_ws(const char* p, const char* end) noexcept;
/// `p` at an opening quote; returns one past the closing quote.
const char* skip_string(const char* p, const char* end) noexcept;
/// `p` at the first byte of a value; returns one past its last byte.
const char* skip_value(const char* p, const char* end) noexcept;

/// `p` at the '[' of an array (leading whitespace allowed): appends the raw bytes of each
/// element to `elements` and returns one past the closing ']', or nullptr when the text is not
/// an array. One pass: the elements are found while the array is skipped.
const char* scan_array(const char* p, const char* end, std::vector<std::string_view>& elements);

struct member_span {
    std::string_view raw_key;  // between the quotes, escapes as sent
    std::string_view value;    // exactly the value's bytes
};

/// The whole member as sent: `"key":value` (raw_key points just past the opening quote).
inline std::string_view member_text(const member_span& m) noexcept {
    const char* begin = m.raw_key.data() - 1;
    return {begin, static_cast<size_t>(m.value.data() + m.value.size() - begin)};
}

/// `s` without JSON whitespace at either end.
inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ws(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

/// Iterates the members of the object that starts at `p` ('{', leading whitespace allowed).
class member_cursor {
  public:
    member_cursor(const char* p, const char* end) noexcept : _p(p), _end(end) {}
    /// Reads the next key and its ':'; false at the end of the object or on malformed text
    /// (failed() tells which). Then call value() or last_value().
    bool next_key(std::string_view& raw_key) noexcept;
    /// Scans the current value and moves past it.
    bool value(std::string_view& v) noexcept;
    /// The current value when it belongs to the last member of an object that extends to `end`
    /// (trailing whitespace allowed): found from the end, without scanning it. Ends iteration.
    bool last_value(std::string_view& v) noexcept;
    /// value(), and when the value is an array, the raw bytes of its elements too (appended to
    /// `elements`), in the same pass; `is_array` says whether it was one.
    bool value_with_elements(std::string_view& v, std::vector<std::string_view>& elements,
                             bool& is_array);
    /// next_key + value.
    bool next(member_span& m) noexcept;
    bool failed() const noexcept { return _p == nullptr; }

  private:
    const char* _p;
    const char* _end;
    bool _first = true;
};

/// Unescapes the contents of a JSON string (no quotes) into `out`; false on a bad escape.
bool unescape_json_string(std::string_view raw, std::string& out);
/// Compares a raw (possibly escaped) key with plain text.
bool raw_key_equals(std::string_view raw, std::string_view text);

/// Big-number path: simdjson refuses numbers JSON.parse and Jackson take (integers beyond 64
/// bits, exponents beyond double). In a copy of the text, each such number is overwritten with
/// "1" (or "0" when its mantissa is zero) padded with spaces, so the copy keeps every offset and
/// every JSON type; the copy is only parsed for checking, the original bytes are what is sent on.
void patch_big_numbers(char* p, char* end);

}  // namespace obsrv::json_text
