#include "pipeline/mask.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace obsrv::pipeline {

namespace {

// Obsrv's share of the characters left visible (MaskTransformer's maskRatio).
constexpr double k_mask_ratio = 0.35;

// java.util.regex, no flags: what '.' does not match.
bool is_line_terminator(char16_t c) {
    return c == u'\n' || c == u'\r' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

// java.util.regex \s without UNICODE_CHARACTER_CLASS: [ \t\n\x0B\f\r].
bool is_regex_space(char16_t c) {
    return c == u' ' || c == u'\t' || c == u'\n' || c == 0x0B || c == u'\f' || c == u'\r';
}

// Character.isWhitespace(char) (Unicode 10, Java 11), which commons-lang's isBlank uses.
bool is_java_whitespace(char16_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A && c != 0x2007) || c == 0x2028 || c == 0x2029 ||
           c == 0x205F || c == 0x3000;
}

// Pattern "^(.+)@(\S+)$" with matches(): some '@' has a non-empty prefix without line
// terminators before it and a non-empty suffix without regex spaces after it.
template <typename C>
bool is_email(std::basic_string_view<C> s) {
    const size_t n = s.size();
    size_t first_terminator = n;
    for (size_t i = 0; i < n; ++i) {
        if (is_line_terminator(static_cast<char16_t>(s[i]))) {
            first_terminator = i;
            break;
        }
    }
    size_t after_last_space = 0;
    for (size_t i = n; i > 0; --i) {
        if (is_regex_space(static_cast<char16_t>(s[i - 1]))) {
            after_last_space = i;
            break;
        }
    }
    if (n < 3) {
        return false;
    }
    const size_t from = std::max<size_t>(1, after_last_space);
    const size_t to = std::min(first_terminator, n - 2);
    for (size_t i = from; i <= to && i < n; ++i) {
        if (s[i] == C('@')) {
            return true;
        }
    }
    return false;
}

// StringUtils.left / right / repeat("*").
template <typename C>
void append_left(std::basic_string_view<C> s, int64_t count, std::basic_string<C>& out) {
    if (count > 0) {
        out.append(s.substr(0, std::min<size_t>(s.size(), static_cast<size_t>(count))));
    }
}
template <typename C>
void append_right(std::basic_string_view<C> s, int64_t count, std::basic_string<C>& out) {
    if (count > 0) {
        const size_t n = std::min<size_t>(s.size(), static_cast<size_t>(count));
        out.append(s.substr(s.size() - n));
    }
}
template <typename C>
void append_stars(int64_t count, std::basic_string<C>& out) {
    if (count > 0) {
        out.append(static_cast<size_t>(count), C('*'));
    }
}

// MaskUtils.maskAsEmail: fieldValue.split("@") → parts[0] masked 2/1, "@", parts[1]. (When
// nothing but '@' follows the first '@', Java's split drops the empty parts and the call
// throws; here parts[1] is then empty.)
template <typename C>
void mask_email(std::basic_string_view<C> s, std::basic_string<C>& out) {
    const size_t at = s.find(C('@'));
    const auto local = s.substr(0, at);
    auto domain = s.substr(at + 1);
    domain = domain.substr(0, domain.find(C('@')));
    append_left(local, 2, out);
    append_stars(static_cast<int64_t>(local.size()) - 3, out);
    append_right(local, 1, out);
    out.push_back(C('@'));
    out.append(domain);
}

// MaskUtils.mask(value, first, last).
template <typename C>
void mask_generic(std::basic_string_view<C> s, int64_t first, int64_t last,
                  std::basic_string<C>& out) {
    if (std::all_of(s.begin(), s.end(),
                    [](C c) { return is_java_whitespace(static_cast<char16_t>(c)); })) {
        out.append(s);
        return;
    }
    first = std::max<int64_t>(first, 0);
    last = std::max<int64_t>(last, 0);
    if (first == 0 && last == 0) {
        last = 4;
    }
    append_left(s, first, out);
    append_stars(static_cast<int64_t>(s.size()) - (first + last), out);
    append_right(s, last, out);
}

template <typename C>
void mask_units(std::basic_string_view<C> s, std::basic_string<C>& out) {
    if (s.empty()) {
        return;
    }
    if (is_email(s)) {
        mask_email(s, out);
    } else {
        // Double arithmetic as in Scala: (length * 0.35).ceil, (open / 2).floor.
        const double open = std::ceil(static_cast<double>(s.size()) * k_mask_ratio);
        const double first = std::floor(open / 2);
        const double last = open - first;
        mask_generic(s, static_cast<int64_t>(first), static_cast<int64_t>(last), out);
    }
}

// UTF-8 → UTF-16 (invalid bytes become U+FFFD, as Java's decoder replaces them).
void to_utf16(std::string_view s, std::u16string& out) {
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        uint32_t cp = 0xFFFD;
        size_t len = 1;
        if (b < 0x80) {
            cp = b;
        } else if ((b >> 5) == 0x6) {
            len = 2;
            cp = b & 0x1F;
        } else if ((b >> 4) == 0xE) {
            len = 3;
            cp = b & 0x0F;
        } else if ((b >> 3) == 0x1E) {
            len = 4;
            cp = b & 0x07;
        }
        if (len > 1) {
            if (i + len > s.size()) {
                cp = 0xFFFD;
                len = 1;
            } else {
                for (size_t k = 1; k < len; ++k) {
                    const auto c = static_cast<unsigned char>(s[i + k]);
                    if ((c >> 6) != 0x2) {
                        cp = 0xFFFD;
                        len = 1;
                        break;
                    }
                    cp = (cp << 6) | (c & 0x3F);
                }
            }
        } else if (b >= 0x80) {
            cp = 0xFFFD;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
        i += len;
    }
}

// UTF-16 → UTF-8 as Java's String.getBytes(UTF_8): an unpaired surrogate becomes '?'.
void append_utf8(std::u16string_view s, std::string& out) {
    for (size_t i = 0; i < s.size(); ++i) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            if (cp <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00);
                ++i;
            } else {
                out.push_back('?');
                continue;
            }
        }
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
    }
}

}  // namespace

void obsrv_mask(std::string_view text, std::string& out) {
    const size_t start = out.size();
    const bool ascii = std::all_of(text.begin(), text.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) {
        mask_units(text, out);
    } else {
        std::u16string units;
        units.reserve(text.size());
        to_utf16(text, units);
        std::u16string masked;
        mask_units(std::u16string_view(units), masked);
        append_utf8(masked, out);
    }
    // MaskTransformer: maskedValue.replaceAll("\"", "").
    out.erase(std::remove(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), '"'),
              out.end());
}

}  // namespace obsrv::pipeline
