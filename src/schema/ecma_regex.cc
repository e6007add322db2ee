#include "schema/ecma_regex.h"

#include <cstdint>
#include <utility>

#include "common/hex.h"

namespace obsrv::schema::detail {

namespace {

// ECMA-262 WhiteSpace and LineTerminator code points (\s), as an RE2 class body.
constexpr std::string_view k_space_body =
    "\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}\\x{feff}";

bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RE2 knows General_Category values only by their short names.
std::string_view short_property_name(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> names[] = {
        {"Letter", "L"},
        {"Uppercase_Letter", "Lu"},
        {"Lowercase_Letter", "Ll"},
        {"Titlecase_Letter", "Lt"},
        {"Modifier_Letter", "Lm"},
        {"Other_Letter", "Lo"},
        {"Mark", "M"},
        {"Combining_Mark", "M"},
        {"Nonspacing_Mark", "Mn"},
        {"Spacing_Mark", "Mc"},
        {"Enclosing_Mark", "Me"},
        {"Number", "N"},
        {"Decimal_Number", "Nd"},
        {"digit", "Nd"},
        {"Letter_Number", "Nl"},
        {"Other_Number", "No"},
        {"Punctuation", "P"},
        {"punct", "P"},
        {"Connector_Punctuation", "Pc"},
        {"Dash_Punctuation", "Pd"},
        {"Open_Punctuation", "Ps"},
        {"Close_Punctuation", "Pe"},
        {"Initial_Punctuation", "Pi"},
        {"Final_Punctuation", "Pf"},
        {"Other_Punctuation", "Po"},
        {"Symbol", "S"},
        {"Math_Symbol", "Sm"},
        {"Currency_Symbol", "Sc"},
        {"Modifier_Symbol", "Sk"},
        {"Other_Symbol", "So"},
        {"Separator", "Z"},
        {"Space_Separator", "Zs"},
        {"Line_Separator", "Zl"},
        {"Paragraph_Separator", "Zp"},
        {"Other", "C"},
        {"Control", "Cc"},
        {"cntrl", "Cc"},
        {"Format", "Cf"},
        {"Surrogate", "Cs"},
        {"Private_Use", "Co"},
    };
    for (const auto& [long_name, short_name] : names) {
        if (long_name == name) {
            return short_name;
        }
    }
    return name;
}

void append_code_point(std::string& out, std::uint32_t cp) {
    out += "\\x{";
    constexpr char digits[] = "0123456789abcdef";
    char buf[8];
    int n = 0;
    do {
        buf[n++] = digits[cp & 0xF];
        cp >>= 4;
    } while (cp != 0);
    while (n > 0) {
        out.push_back(buf[--n]);
    }
    out.push_back('}');
}

class translator {
  public:
    explicit translator(std::string_view p) : _p(p) {}

    obsrv::result<std::string> run() {
        while (_i < _p.size()) {
            const char c = _p[_i];
            if (c == '\\') {
                if (auto st = escape(false); !st) {
                    return st.error();
                }
            } else if (c == '[') {
                if (auto st = char_class(); !st) {
                    return st.error();
                }
            } else if (c == '.') {
                _out += "[^\\n\\r\\x{2028}\\x{2029}]";
                ++_i;
            } else if (c == '(') {
                if (auto st = group(); !st) {
                    return st.error();
                }
            } else if (c == '{') {
                if (auto st = repetition(); !st) {
                    return st.error();
                }
            } else {
                _out.push_back(c);
                ++_i;
            }
        }
        return std::move(_out);
    }

  private:
    obsrv::status group() {
        const std::string_view rest = _p.substr(_i);
        if (rest.starts_with("(?=") || rest.starts_with("(?!") || rest.starts_with("(?<=") ||
            rest.starts_with("(?<!")) {
            return make_error("lookaround assertions are not supported");
        }
        if (rest.starts_with("(?<")) {
            _out += "(?P<";
            _i += 3;
            return {};
        }
        _out.push_back('(');
        ++_i;
        return {};
    }

    // RE2 caps counted repetition at 1000; ECMA has no limit.
    obsrv::status repetition() {
        std::size_t j = _i + 1;
        std::uint64_t value = 0;
        bool digits = false;
        bool valid = true;
        std::uint64_t max_seen = 0;
        for (; j < _p.size() && _p[j] != '}'; ++j) {
            const char c = _p[j];
            if (c >= '0' && c <= '9') {
                value = value * 10 + static_cast<std::uint64_t>(c - '0');
                digits = true;
                if (value > max_seen) {
                    max_seen = value;
                }
                if (value > 100000) {
                    break;
                }
            } else if (c == ',') {
                value = 0;
            } else {
                valid = false;
                break;
            }
        }
        if (valid && digits && j < _p.size() && _p[j] == '}' && max_seen > 1000) {
            return make_error("repetition count above 1000 is not supported");
        }
        if (!(valid && digits && j < _p.size() && _p[j] == '}')) {
            // Annex B: a brace that does not form a quantifier is a literal.
            _out += "\\{";
            ++_i;
            return {};
        }
        _out.append(_p.substr(_i, j + 1 - _i));
        _i = j + 1;
        return {};
    }

    // Reads \uXXXX (plus a trailing low surrogate) or \u{...}; _i is at 'u'.
    obsrv::result<std::uint32_t> unicode_escape() {
        if (_i + 1 < _p.size() && _p[_i + 1] == '{') {
            std::size_t j = _i + 2;
            std::uint32_t cp = 0;
            for (; j < _p.size() && _p[j] != '}'; ++j) {
                const int h = hex_digit_value(_p[j]);
                if (h < 0 || cp > 0x10FFFF) {
                    return make_error("invalid \\u{{...}} escape");
                }
                cp = cp * 16 + static_cast<std::uint32_t>(h);
            }
            if (j >= _p.size() || cp > 0x10FFFF) {
                return make_error("invalid \\u{{...}} escape");
            }
            _i = j + 1;
            return cp;
        }
        auto read4 = [&](std::size_t at) -> int {
            if (at + 4 > _p.size()) {
                return -1;
            }
            int v = 0;
            for (std::size_t k = at; k < at + 4; ++k) {
                const int h = hex_digit_value(_p[k]);
                if (h < 0) {
                    return -1;
                }
                v = v * 16 + h;
            }
            return v;
        };
        const int v = read4(_i + 1);
        if (v < 0) {
            // Annex B: "\u" without four hex digits is the letter u.
            ++_i;
            return static_cast<std::uint32_t>('u');
        }
        _i += 5;
        if (v >= 0xD800 && v <= 0xDBFF && _i + 1 < _p.size() && _p[_i] == '\\' &&
            _p[_i + 1] == 'u') {
            const int lo = read4(_i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                _i += 6;
                return static_cast<std::uint32_t>(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
            }
        }
        if (v >= 0xD800 && v <= 0xDFFF) {
            return make_error("lone surrogate escapes are not supported");
        }
        return static_cast<std::uint32_t>(v);
    }

    // _i is at the backslash.
    obsrv::status escape(bool in_class) {
        if (_i + 1 >= _p.size()) {
            return make_error("pattern ends with a backslash");
        }
        const char c = _p[_i + 1];
        switch (c) {
            case 'd':
            case 'D':
            case 'w':
            case 'W':
            case 't':
            case 'n':
            case 'r':
            case 'f':
            case 'v':
                _out.push_back('\\');
                _out.push_back(c);
                _i += 2;
                return {};
            case 'b':
            case 'B':
                if (in_class) {
                    if (c == 'B') {
                        return make_error("\\B inside a character class is not valid");
                    }
                    _out += "\\x{8}";
                } else {
                    _out.push_back('\\');
                    _out.push_back(c);
                }
                _i += 2;
                return {};
            case 's':
                if (in_class) {
                    _out += k_space_body;
                } else {
                    _out += "[";
                    _out += k_space_body;
                    _out += "]";
                }
                _i += 2;
                return {};
            case 'S':
                if (in_class) {
                    return make_error("\\S inside a character class is not supported");
                }
                _out += "[^";
                _out += k_space_body;
                _out += "]";
                _i += 2;
                return {};
            case 'p':
            case 'P':
                if (_i + 2 < _p.size() && _p[_i + 2] == '{') {
                    const auto close = _p.find('}', _i + 3);
                    if (close == std::string_view::npos) {
                        return make_error("unterminated \\p{{...}}");
                    }
                    std::string_view name = _p.substr(_i + 3, close - _i - 3);
                    if (const auto eq = name.find('='); eq != std::string_view::npos) {
                        const std::string_view prop = name.substr(0, eq);
                        if (prop != "General_Category" && prop != "gc" && prop != "Script" &&
                            prop != "sc") {
                            return make_error("\\p{{{}}} is not supported", name);
                        }
                        name = name.substr(eq + 1);
                    }
                    _out.push_back('\\');
                    _out.push_back(c);
                    _out.push_back('{');
                    _out.append(short_property_name(name));
                    _out.push_back('}');
                    _i = close + 1;
                    return {};
                }
                break;
            case 'u': {
                ++_i;
                auto cp = unicode_escape();
                if (!cp) {
                    return std::move(cp).error();
                }
                append_code_point(_out, *cp);
                return {};
            }
            case 'x':
                if (_i + 3 < _p.size() && hex_digit_value(_p[_i + 2]) >= 0 &&
                    hex_digit_value(_p[_i + 3]) >= 0) {
                    append_code_point(_out,
                                      static_cast<std::uint32_t>(hex_digit_value(_p[_i + 2]) * 16 +
                                                                 hex_digit_value(_p[_i + 3])));
                    _i += 4;
                    return {};
                }
                break;
            case 'c':
                if (_i + 2 < _p.size() && is_ascii_letter(_p[_i + 2])) {
                    append_code_point(_out, static_cast<std::uint32_t>(_p[_i + 2]) % 32);
                    _i += 3;
                    return {};
                }
                break;
            case '0':
                if (_i + 2 >= _p.size() || _p[_i + 2] < '0' || _p[_i + 2] > '9') {
                    _out += "\\x{0}";
                    _i += 2;
                    return {};
                }
                return make_error("octal escapes are not supported");
            case 'k':
                if (_i + 2 < _p.size() && _p[_i + 2] == '<') {
                    return make_error("backreferences are not supported");
                }
                break;
            default:
                if (c >= '1' && c <= '9') {
                    return make_error("backreferences are not supported");
                }
                break;
        }
        // Identity escape: the character itself. Letters are emitted bare
        // because RE2 gives several of them (\a, \z, \Q, \C...) a meaning.
        if (is_ascii_letter(c)) {
            _out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x80) {
            _out.push_back('\\');
            _out.push_back(c);
        } else {
            // A non-ASCII identity escape: copy the UTF-8 sequence literally.
            _i += 1;
            return {};
        }
        _i += 2;
        return {};
    }

    obsrv::status char_class() {
        const std::string_view rest = _p.substr(_i);
        if (rest.starts_with("[^]")) {
            _out += "[\\x{0}-\\x{10ffff}]";
            _i += 3;
            return {};
        }
        if (rest.starts_with("[]")) {
            _out += "[^\\x{0}-\\x{10ffff}]";
            _i += 2;
            return {};
        }
        _out.push_back('[');
        ++_i;
        if (_i < _p.size() && _p[_i] == '^') {
            _out.push_back('^');
            ++_i;
        }
        while (_i < _p.size() && _p[_i] != ']') {
            const char c = _p[_i];
            if (c == '\\') {
                if (auto st = escape(true); !st) {
                    return st;
                }
            } else if (c == '[') {
                // RE2 would read "[:" as a POSIX class.
                _out += "\\[";
                ++_i;
            } else {
                _out.push_back(c);
                ++_i;
            }
        }
        if (_i >= _p.size()) {
            return make_error("unterminated character class");
        }
        _out.push_back(']');
        ++_i;
        return {};
    }

    std::string_view _p;
    std::size_t _i = 0;
    std::string _out;
};

}  // namespace

obsrv::result<std::string> translate_ecma_regex(std::string_view pattern) {
    return translator(pattern).run();
}

}  // namespace obsrv::schema::detail
