#include "ingress/json_check.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/hex.h"

namespace obsrv::ingress {
namespace {

bool is_ws(std::uint8_t c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// What may follow a number or literal (simdjson: is_structural_or_whitespace). Not a quote:
// stage 1 does not start a string right after a scalar character, so `4"m"` is one token, which
// the DOM refuses as a number.
bool ends_scalar(std::uint8_t c) noexcept {
    return is_ws(c) || c == ',' || c == ':' || c == ']' || c == '}' || c == '[' || c == '{';
}

bool is_digit(std::uint8_t c) noexcept {
    return c >= '0' && c <= '9';
}

// Four hex digits, or -1.
int hex4(const std::uint8_t* p) noexcept {
    const auto hex = [](std::uint8_t c) { return hex_digit_value(static_cast<char>(c)); };
    const int a = hex(p[0]), b = hex(p[1]), c = hex(p[2]), d = hex(p[3]);
    return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

// RFC 8259 number syntax, byte by byte, `p` at its first byte, `end` the end of the text (a
// top-level number reaches it; the padding after it may hold anything).
bool valid_number_bytewise(const std::uint8_t* p, const std::uint8_t* end) noexcept {
    const auto digits = [&] {
        const std::uint8_t* first = p;
        while (p < end && is_digit(*p)) {
            ++p;
        }
        return p != first;
    };
    if (*p == '-') {
        ++p;
    }
    if (p < end && *p == '0') {
        ++p;
    } else if (p == end || *p < '1' || *p > '9' || !digits()) {
        return false;
    }
    if (p < end && *p == '.') {
        ++p;
        if (!digits()) {
            return false;
        }
    }
    if (p < end && (*p | 0x20) == 'e') {
        ++p;
        if (p < end && (*p == '+' || *p == '-')) {
            ++p;
        }
        if (!digits()) {
            return false;
        }
    }
    return p == end || ends_scalar(*p);
}

#if defined(__SSE2__)
// Bit i set where p[i] is an ASCII digit, for the 16 bytes from p.
std::uint32_t digit_bits16(const std::uint8_t* p) noexcept {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i offset = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8(9)), offset);
    return static_cast<std::uint32_t>(_mm_movemask_epi8(is_digit));
}

// The same syntax as valid_number_bytewise, from a mask of the digits among the first 16
// bytes: each run of digits is one count of trailing zeros instead of a loop with a branch per
// digit, which mispredicts at every number's end. On telemetry events (an epoch-millisecond
// timestamp, a decimal and two small integers each) the bytewise loop was a third of the walk,
// ~42 of 132 ns per event; this takes ~15 (docs/PERFORMANCE.md). Numbers that reach the 16th
// byte (longer than most timestamps and decimals) take the bytewise path. Bytes from `end` on
// are simdjson's padding (readable, any value) and count as the end of the text.
bool valid_number(const std::uint8_t* p, const std::uint8_t* end) noexcept {
    constexpr std::uint32_t window = 16;
    const auto limit = static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(end - p, window));
    std::uint32_t digits = digit_bits16(p);
    if (limit < window) {
        digits &= (1u << limit) - 1;
    }
    const std::uint32_t not_digits = ~digits;  // bits from `window` up are set: runs stop there
    std::uint32_t at = p[0] == '-' ? 1 : 0;
    const auto run = [&] {
        const auto length = static_cast<std::uint32_t>(std::countr_zero(not_digits >> at));
        at += length;
        return length;
    };
    const bool leading_zero = p[at] == '0';
    const std::uint32_t integer_digits = run();
    if (integer_digits == 0 || (leading_zero && integer_digits > 1)) {
        return false;
    }
    if (at < limit && p[at] == '.') {
        ++at;
        if (run() == 0) {
            return at >= window ? valid_number_bytewise(p, end) : false;
        }
    }
    if (at < limit && (p[at] | 0x20) == 'e') {
        ++at;
        if (at < limit && (p[at] == '+' || p[at] == '-')) {
            ++at;
        }
        if (run() == 0) {
            return at >= window ? valid_number_bytewise(p, end) : false;
        }
    }
    if (at >= window) {
        return valid_number_bytewise(p, end);
    }
    return at == limit || ends_scalar(p[at]);
}
#else
bool valid_number(const std::uint8_t* p, const std::uint8_t* end) noexcept {
    return valid_number_bytewise(p, end);
}
#endif

bool valid_literal(const std::uint8_t* p, const std::uint8_t* end) noexcept {
    const auto is = [&](std::string_view word) {
        const auto size = static_cast<std::ptrdiff_t>(word.size());
        return end - p >= size && std::memcmp(p, word.data(), word.size()) == 0 &&
               (end - p == size || ends_scalar(p[size]));
    };
    switch (*p) {
        case 't':
            return is("true");
        case 'f':
            return is("false");
        case 'n':
            return is("null");
        default:
            return false;
    }
}

// Every escape sequence in [p, end). A valid structure puts every backslash inside a string
// (elsewhere it would have failed a number or literal), and stage 1 agreed with this
// left-to-right reading on which quotes are escaped, so the backslashes can be taken in text
// order. \u escapes follow simdjson: a high surrogate must be followed by \u and a low one; a
// lone low surrogate is an error.
bool valid_escapes(const std::uint8_t* p, const std::uint8_t* end) noexcept {
    for (;;) {
        if (p >= end) {  // an escape ran to the end: stage 1 saw an unclosed string first
            return p == end;
        }
        p = static_cast<const std::uint8_t*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
        if (p == nullptr) {
            return true;
        }
        switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                break;
            case 'u': {
                const int unit = hex4(p + 2);
                p += 6;
                if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
                    return false;
                }
                if (unit >= 0xD800 && unit < 0xDC00) {
                    if (p + 6 > end || p[0] != '\\' || p[1] != 'u') {
                        return false;
                    }
                    const int low = hex4(p + 2);
                    if (low < 0xDC00 || low > 0xDFFF) {
                        return false;
                    }
                    p += 6;
                }
                break;
            }
            default:
                return false;
        }
    }
}

// The bytes of a scalar or container value from its first byte to just before the next
// structural character (`next`), without trailing whitespace.
std::string_view trimmed(const std::uint8_t* begin, const std::uint8_t* next) noexcept {
    while (next > begin && is_ws(next[-1])) {
        --next;
    }
    return {reinterpret_cast<const char*>(begin), static_cast<size_t>(next - begin)};
}

}  // namespace

json_checker::json_checker(simdjson::dom::parser& parser)
    : _parser(parser), _scopes(parser.max_depth() + 2) {
    _outline.members.reserve(k_max_members);
    _outline.arrays.reserve(k_max_arrays);
}

bool json_checker::check(std::string_view text) noexcept {
    _outline.root_is_object = false;
    _outline.complete = true;
    _outline.members.clear();
    _outline.arrays.clear();
    auto* impl = _parser.implementation.get();
    if (impl == nullptr || text.size() > _parser.capacity() || text.empty()) {
        return false;
    }
    const auto* buf = reinterpret_cast<const std::uint8_t*>(text.data());
    if (impl->stage1(buf, text.size(), simdjson::stage1_mode::regular) != simdjson::SUCCESS) {
        return false;
    }
    return walk(buf, buf + text.size(), impl->structural_indexes.get(),
                impl->n_structural_indexes) &&
           valid_escapes(buf, buf + text.size());
}

// A state machine over the structural characters, like simdjson's stage 2 without the tape:
// walks the one value that starts at index[i] and returns the index just past it, or 0 when
// the text is invalid there. `depth` is the number of containers around the value.
std::uint32_t json_checker::walk_value(const std::uint8_t* buf, const std::uint8_t* end,
                                       const std::uint32_t* index, std::uint32_t count,
                                       std::uint32_t i, std::uint32_t depth) noexcept {
    const std::uint32_t max_depth = static_cast<std::uint32_t>(_parser.max_depth());
    const std::uint32_t base = depth;
    std::uint8_t* scopes = _scopes.data();
    std::uint8_t c = 0;

value:  // index[i] starts a value
    if (i >= count) {
        return 0;
    }
    c = buf[index[i]];
    switch (c) {
        case '{':
        case '[':
            if (++depth > max_depth) {
                return 0;
            }
            scopes[depth] = c;
            if (++i < count && buf[index[i]] == c + 2) {  // '}' and ']' are 2 past '{' and '['
                ++i;
                --depth;
                goto after_value;
            }
            if (c == '[') {
                goto value;
            }
            goto key;
        case '"':  // contents: stage 1 (UTF-8, control characters) and valid_escapes()
            ++i;
            goto after_value;
        case 't':
        case 'f':
        case 'n':
            if (!valid_literal(buf + index[i], end)) {
                return 0;
            }
            ++i;
            goto after_value;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            if (!valid_number(buf + index[i], end)) {
                return 0;
            }
            ++i;
            goto after_value;
        default:
            return 0;
    }

key:  // index[i] should be a key, index[i + 1] its ':'
    if (i + 1 >= count || buf[index[i]] != '"' || buf[index[i + 1]] != ':') {
        return 0;
    }
    i += 2;
    goto value;

after_value:  // index[i] should be ',' or the scope's closing bracket
    if (depth == base) {
        return i;
    }
    if (i >= count) {
        return 0;
    }
    c = buf[index[i]];
    if (c == ',') {
        ++i;
        if (scopes[depth] == '{') {
            goto key;
        }
        goto value;
    }
    if (c == scopes[depth] + 2) {
        ++i;
        --depth;
        goto after_value;
    }
    return 0;
}

// The document: a top-level object is walked member by member here (for the outline), its
// array members element by element; everything else by walk_value.
bool json_checker::walk(const std::uint8_t* buf, const std::uint8_t* end,
                        const std::uint32_t* index, std::uint32_t count) noexcept {
    if (count == 0) {
        return false;
    }
    if (buf[index[0]] != '{') {
        return walk_value(buf, end, index, count, 0, 0) == count;
    }
    _outline.root_is_object = true;
    const auto text_at = [buf](const std::uint8_t* p) { return reinterpret_cast<const char*>(p); };
    std::uint32_t i = 1;
    if (i < count && buf[index[i]] == '}') {
        return i + 1 == count;
    }
    for (;;) {
        // A key and its ':' (the key ends at the last quote before the ':').
        if (i + 2 >= count || buf[index[i]] != '"' || buf[index[i + 1]] != ':') {
            return false;
        }
        const std::uint8_t* key_end = buf + index[i + 1];
        while (*--key_end != '"') {
        }
        const std::uint8_t* value = buf + index[i + 2];
        const std::uint32_t value_index = i + 2;
        if (*value == '[' && _outline.arrays.size() < k_max_arrays) {
            auto& shape = _outline.arrays.emplace_back();
            shape.begin = text_at(value);
            i = value_index + 1;
            if (i < count && buf[index[i]] == ']') {
                ++i;
            } else {
                for (;;) {
                    if (i >= count) {
                        return false;
                    }
                    ++shape.elements;
                    shape.all_objects = shape.all_objects && buf[index[i]] == '{';
                    i = walk_value(buf, end, index, count, i, 2);
                    if (i == 0 || i >= count) {
                        return false;
                    }
                    if (buf[index[i]] == ']') {
                        ++i;
                        break;
                    }
                    if (buf[index[i]] != ',') {
                        return false;
                    }
                    ++i;
                }
            }
        } else {
            if (*value == '[') {
                _outline.complete = false;
            }
            i = walk_value(buf, end, index, count, value_index, 1);
            if (i == 0) {
                return false;
            }
        }
        if (i >= count) {
            return false;
        }
        if (_outline.members.size() < k_max_members) {
            const std::uint8_t* key = buf + index[value_index - 2] + 1;
            _outline.members.push_back({{text_at(key), static_cast<size_t>(key_end - key)},
                                        trimmed(value, buf + index[i])});
        } else {
            _outline.complete = false;
        }
        if (buf[index[i]] == '}') {
            return i + 1 == count;
        }
        if (buf[index[i]] != ',') {
            return false;
        }
        ++i;
    }
}

}  // namespace obsrv::ingress
