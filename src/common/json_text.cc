#include "common/json_text.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/hex.h"

namespace obsrv::json_text {

namespace {

#if defined(__SSE2__)
// Bit i set when p[i] is '"' or '\\', for the 16 bytes at p.
inline int quote_or_backslash_mask(const char* p) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
}

// The masks of one 64-byte block, bit i for byte i.
struct block_masks {
    std::uint64_t quote = 0;
    std::uint64_t backslash = 0;
    std::uint64_t open = 0;   // '{' or '['
    std::uint64_t close = 0;  // '}' or ']'
};

inline block_masks classify_block(const char* p) noexcept {
    block_masks m;
    for (int k = 0; k < 4; ++k) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
        // '[' 0x5B and '{' 0x7B differ only in bit 5, as do ']' 0x5D and '}' 0x7D.
        const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        const auto bits = [&](__m128i hits) {
            return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(hits)))
                   << (16 * k);
        };
        m.quote |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
        m.backslash |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
        m.open |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8('{')));
        m.close |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8('}')));
    }
    return m;
}

// Bit i set when an odd number of bits at or below i are set: the bytes inside a string when
// `x` holds its unescaped quotes.
inline std::uint64_t prefix_xor(std::uint64_t x) noexcept {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

// The bytes escaped by a backslash. `carry` in: whether the previous block's last byte was an
// escaping backslash; out: the same for this block. A backslash escapes the byte after it, so
// in a run the first escapes the second, the third the fourth, and so on. Backslashes are rare
// (none in most events), so they are taken one by one.
inline std::uint64_t escaped_bytes(std::uint64_t backslash, bool& carry) noexcept {
    std::uint64_t escaped = carry ? 1 : 0;
    std::uint64_t escaping = backslash & ~escaped;
    carry = false;
    while (escaping != 0) {
        const std::uint64_t b = escaping & (0 - escaping);
        if (b >> 63) {
            carry = true;
        }
        escaped |= b << 1;
        escaping &= ~(b | (b << 1));
    }
    return escaped;
}

// `p` at '{' or '['. The text is classified 64 bytes at a time (quotes, backslashes,
// brackets), strings are masked out by a prefix XOR over the unescaped quotes, and only the
// brackets outside strings are visited. Measured on the pipeline's batches of ~400 B events,
// this split the batch in about a third of the time of the earlier structural-by-structural
// walk (one call per string, a 16-byte mask per stop), which visited every quote.
const char* skip_nested(const char* p, const char* end) noexcept {
    std::int64_t depth = 0;
    bool in_string = false;
    bool escape_carry = false;
    char tail[64];
    for (const char* block = p; block < end; block += 64) {
        const char* bytes = block;
        std::uint64_t valid = ~std::uint64_t{0};
        if (end - block < 64) {
            // The last partial block, from a zeroed copy (zero bytes classify as nothing).
            const auto n = static_cast<std::size_t>(end - block);
            std::memset(tail, 0, sizeof tail);
            std::memcpy(tail, block, n);
            bytes = tail;
            valid = (std::uint64_t{1} << n) - 1;
        }
        const block_masks m = classify_block(bytes);
        std::uint64_t quotes = m.quote;
        if (m.backslash != 0 || escape_carry) {
            quotes &= ~escaped_bytes(m.backslash, escape_carry);
        }
        const std::uint64_t strings = prefix_xor(quotes) ^ (in_string ? ~std::uint64_t{0} : 0);
        in_string = (strings >> 63) != 0;
        const std::uint64_t open = m.open & ~strings & valid;
        std::uint64_t brackets = (m.open | m.close) & ~strings & valid;
        while (brackets != 0) {
            const int i = __builtin_ctzll(brackets);
            depth += static_cast<std::int64_t>((open >> i) & 1) * 2 - 1;
            if (depth == 0) {
                return block + i + 1;
            }
            brackets &= brackets - 1;
        }
    }
    return nullptr;
}
#else
const char* skip_nested(const char* p, const char* end) noexcept {
    std::size_t depth = 0;
    while (p < end) {
        switch (*p) {
            case '"':
                p = skip_string(p, end);
                if (p == nullptr) {
                    return nullptr;
                }
                continue;
            case '{':
            case '[':
                ++depth;
                break;
            case '}':
            case ']':
                if (depth == 0) {
                    return nullptr;
                }
                if (--depth == 0) {
                    return p + 1;
                }
                break;
            default:
                break;
        }
        ++p;
    }
    return nullptr;
}
#endif

}  // namespace

const char* skip_ws(const char* p, const char* end) noexcept {
    while (p < end && is_ws(*p)) {
        ++p;
    }
    return p;
}

const char* skip_string(const char* p, const char* end) noexcept {
    if (p >= end || *p != '"') {
        return nullptr;
    }
    // A backslash escapes the byte after it, so the string ends at the first quote not taken
    // by a backslash (the same as: preceded by an even number of backslashes).
    const char* q = p + 1;
    for (;;) {
#if defined(__SSE2__)
        while (end - q >= 16) {
            if (const int mask = quote_or_backslash_mask(q)) {
                q += __builtin_ctz(static_cast<unsigned>(mask));
                break;
            }
            q += 16;
        }
#endif
        while (q < end && *q != '"' && *q != '\\') {
            ++q;
        }
        if (q >= end) {
            return nullptr;
        }
        if (*q == '"') {
            return q + 1;
        }
        q += 2;  // the backslash and the byte it escapes
        if (q > end) {
            return nullptr;
        }
    }
}

const char* skip_value(const char* p, const char* end) noexcept {
    if (p >= end) {
        return nullptr;
    }
    switch (*p) {
        case '"':
            return skip_string(p, end);
        case '{':
        case '[':
            return skip_nested(p, end);
        default: {
            const char* q = p;
            while (q < end && !is_ws(*q) && *q != ',' && *q != '}' && *q != ']') {
                ++q;
            }
            return q == p ? nullptr : q;
        }
    }
}

const char* scan_array(const char* p, const char* end, std::vector<std::string_view>& elements) {
    p = skip_ws(p, end);
    if (p == end || *p != '[') {
        return nullptr;
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        return p + 1;
    }
    while (p < end) {
        const char* v = skip_value(p, end);
        if (v == nullptr) {
            return nullptr;
        }
        elements.emplace_back(p, static_cast<std::size_t>(v - p));
        p = skip_ws(v, end);
        if (p == end) {
            return nullptr;
        }
        if (*p == ']') {
            return p + 1;
        }
        if (*p != ',') {
            return nullptr;
        }
        p = skip_ws(p + 1, end);
    }
    return nullptr;
}

bool member_cursor::next_key(std::string_view& raw_key) noexcept {
    if (_p == nullptr) {
        return false;
    }
    _p = skip_ws(_p, _end);
    if (_first) {
        if (_p >= _end || *_p != '{') {
            _p = nullptr;
            return false;
        }
        _p = skip_ws(_p + 1, _end);
        _first = false;
        if (_p < _end && *_p == '}') {
            ++_p;
            return false;
        }
    } else {
        if (_p < _end && *_p == '}') {
            ++_p;
            return false;
        }
        if (_p >= _end || *_p != ',') {
            _p = nullptr;
            return false;
        }
        _p = skip_ws(_p + 1, _end);
    }
    const char* key_end = skip_string(_p, _end);
    if (key_end == nullptr) {
        _p = nullptr;
        return false;
    }
    raw_key = std::string_view(_p + 1, static_cast<std::size_t>(key_end - _p - 2));
    _p = skip_ws(key_end, _end);
    if (_p >= _end || *_p != ':') {
        _p = nullptr;
        return false;
    }
    _p = skip_ws(_p + 1, _end);
    return true;
}

bool member_cursor::value(std::string_view& v) noexcept {
    if (_p == nullptr) {
        return false;
    }
    const char* e = skip_value(_p, _end);
    if (e == nullptr) {
        _p = nullptr;
        return false;
    }
    v = std::string_view(_p, static_cast<std::size_t>(e - _p));
    _p = e;
    return true;
}

bool member_cursor::value_with_elements(std::string_view& v,
                                        std::vector<std::string_view>& elements, bool& is_array) {
    is_array = _p != nullptr && _p < _end && *_p == '[';
    if (!is_array) {
        return value(v);
    }
    const char* e = scan_array(_p, _end, elements);
    if (e == nullptr) {
        _p = nullptr;
        return false;
    }
    v = std::string_view(_p, static_cast<std::size_t>(e - _p));
    _p = e;
    return true;
}

bool member_cursor::last_value(std::string_view& v) noexcept {
    if (_p == nullptr) {
        return false;
    }
    const char* e = _end;
    while (e > _p && is_ws(e[-1])) {
        --e;
    }
    if (e == _p || e[-1] != '}') {
        _p = nullptr;
        return false;
    }
    --e;
    while (e > _p && is_ws(e[-1])) {
        --e;
    }
    if (e == _p) {
        _p = nullptr;
        return false;
    }
    v = std::string_view(_p, static_cast<std::size_t>(e - _p));
    _p = nullptr;  // iteration ends here
    return true;
}

bool member_cursor::next(member_span& m) noexcept {
    return next_key(m.raw_key) && value(m.value);
}

namespace {

bool read_hex4(std::string_view s, std::size_t i, std::uint32_t& v) {
    if (i + 4 > s.size()) {
        return false;
    }
    v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        const int h = hex_digit_value(s[i + k]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | static_cast<std::uint32_t>(h);
    }
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace

bool unescape_json_string(std::string_view raw, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c != '\\') {
            // Copy the run up to the next escape at once.
            const std::size_t next = raw.find('\\', i);
            const std::size_t stop = next == std::string_view::npos ? raw.size() : next;
            out.append(raw.data() + i, stop - i);
            i = stop - 1;
            continue;
        }
        if (++i >= raw.size()) {
            return false;
        }
        switch (raw[i]) {
            case '"':
                out += '"';
                break;
            case '\\':
                out += '\\';
                break;
            case '/':
                out += '/';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!read_hex4(raw, i + 1, cp)) {
                    return false;
                }
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < raw.size() && raw[i + 1] == '\\' &&
                    raw[i + 2] == 'u') {
                    std::uint32_t lo = 0;
                    if (read_hex4(raw, i + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                append_utf8(out, cp);
                break;
            }
            default:
                return false;
        }
    }
    return true;
}

bool raw_key_equals(std::string_view raw, std::string_view text) {
    // An escape is longer than what it stands for: a shorter raw key never matches, and one of
    // the same length matches only byte for byte, without escapes.
    if (raw.size() <= text.size()) {
        return raw == text && raw.find('\\') == std::string_view::npos;
    }
    if (raw.find('\\') == std::string_view::npos) {
        return false;
    }
    thread_local std::string buf;
    return unescape_json_string(raw, buf) && buf == text;
}

// Big-number path: simdjson refuses numbers JSON.parse takes (integers beyond 64 bits,
// exponents beyond double). In a copy of the body, each such number is overwritten with "1"
// (or "0" when its mantissa is zero) padded with spaces, so the copy keeps every offset and
// every JSON type; the copy is only validated, the bytes sent on are the original ones.
void patch_big_numbers(char* p, char* end) {
    while (p < end) {
        const char c = *p;
        if (c == '"') {
            const char* q = skip_string(p, end);
            if (q == nullptr) {
                return;
            }
            p = const_cast<char*>(q);
            continue;
        }
        if (c != '-' && !is_digit(c)) {
            ++p;
            continue;
        }
        char* tok = p;
        while (p < end &&
               (is_digit(*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E')) {
            ++p;
        }
        // Check the JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
        const char* q = tok;
        if (*q == '-') {
            ++q;
        }
        std::size_t int_digits = 0;
        bool mantissa_zero = true;
        if (q < p && *q == '0') {
            ++q;
            int_digits = 1;
        } else {
            while (q < p && is_digit(*q)) {
                mantissa_zero = mantissa_zero && *q == '0';
                ++q;
                ++int_digits;
            }
        }
        if (int_digits == 0) {
            continue;
        }
        bool fraction = false;
        if (q < p && *q == '.') {
            ++q;
            const char* f = q;
            while (q < p && is_digit(*q)) {
                mantissa_zero = mantissa_zero && *q == '0';
                ++q;
            }
            if (q == f) {
                continue;
            }
            fraction = true;
        }
        std::size_t exp_digits = 0;
        if (q < p && (*q == 'e' || *q == 'E')) {
            ++q;
            if (q < p && (*q == '+' || *q == '-')) {
                ++q;
            }
            while (q < p && is_digit(*q)) {
                ++q;
                ++exp_digits;
            }
            if (exp_digits == 0) {
                continue;
            }
        }
        if (q != p) {
            continue;  // not a number: leave it for simdjson to report
        }
        const bool risky = (!fraction && exp_digits == 0 && int_digits >= 19) || exp_digits >= 3;
        if (risky) {
            *tok = mantissa_zero ? '0' : '1';
            std::memset(tok + 1, ' ', static_cast<std::size_t>(p - tok - 1));
        }
    }
}

}  // namespace obsrv::json_text
