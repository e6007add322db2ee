#include "common/json_writer.h"

#include <cmath>

#include <fmt/format.h>

namespace obsrv {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char k_hex[] = "0123456789abcdef";
    out += '"';
    // Runs that need no escape are appended at once.
    const auto plain = [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\';
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (plain(c)) {
            size_t end = i + 1;
            while (end < text.size() && plain(text[end])) {
                ++end;
            }
            out.append(text.data() + i, end - i);
            i = end - 1;
            continue;
        }
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out += k_hex[u >> 4];
                    out += k_hex[u & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void json_writer::before_value() {
    if (_after_key) {
        _after_key = false;
        return;
    }
    if (!_has_items.empty()) {
        if (_has_items.back()) {
            _out += ',';
        }
        _has_items.back() = true;
    }
}

json_writer& json_writer::begin_object() {
    before_value();
    _out += '{';
    _has_items.push_back(false);
    return *this;
}

json_writer& json_writer::end_object() {
    _out += '}';
    _has_items.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    before_value();
    _out += '[';
    _has_items.push_back(false);
    return *this;
}

json_writer& json_writer::end_array() {
    _out += ']';
    _has_items.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view name) {
    before_value();
    append_json_string(_out, name);
    _out += ':';
    _after_key = true;
    return *this;
}

json_writer& json_writer::value(std::string_view text) {
    before_value();
    append_json_string(_out, text);
    return *this;
}

json_writer& json_writer::value(int64_t number) {
    before_value();
    fmt::format_to(std::back_inserter(_out), "{}", number);
    return *this;
}

json_writer& json_writer::value(uint64_t number) {
    before_value();
    fmt::format_to(std::back_inserter(_out), "{}", number);
    return *this;
}

json_writer& json_writer::value(double number) {
    before_value();
    if (std::isfinite(number)) {
        fmt::format_to(std::back_inserter(_out), "{}", number);
    } else {
        _out += "null";  // JSON has no NaN or infinity
    }
    return *this;
}

json_writer& json_writer::value(bool flag) {
    before_value();
    _out += flag ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    _out += "null";
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    before_value();
    _out += json;
    return *this;
}

}  // namespace obsrv
