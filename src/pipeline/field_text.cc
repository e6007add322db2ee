#include "pipeline/field_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace obsrv::pipeline {

namespace {

// json4s findDirectByName for one value: an object's members named `name`; an array's
// elements searched in turn.
void find_direct(std::string_view value, std::string_view name,
                 std::vector<std::string_view>& out) {
    value = json_text::trim(value);
    if (value.empty()) {
        return;
    }
    const char* end = value.data() + value.size();
    if (value.front() == '{') {
        json_text::member_cursor cursor(value.data(), end);
        json_text::member_span m;
        while (cursor.next(m)) {
            if (json_text::raw_key_equals(m.raw_key, name)) {
                out.push_back(m.value);
            }
        }
        return;
    }
    if (value.front() == '[') {
        const char* p = json_text::skip_ws(value.data() + 1, end);
        while (p != nullptr && p < end && *p != ']') {
            const char* v = json_text::skip_value(p, end);
            if (v == nullptr) {
                return;
            }
            find_direct({p, static_cast<size_t>(v - p)}, name, out);
            p = json_text::skip_ws(v, end);
            if (p < end && *p == ',') {
                p = json_text::skip_ws(p + 1, end);
            }
        }
    }
}

// extract[String] of a number literal (see the header).
void number_text(std::string_view literal, std::string& out) {
    const bool integral = literal.find_first_of(".eE") == std::string_view::npos;
    if (integral) {
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), v);
        if (ec == std::errc() && end == literal.data() + literal.size()) {
            char buf[24];
            const auto [e, ec2] = std::to_chars(buf, buf + sizeof buf, v);
            (void)ec2;
            out.assign(buf, e);
            return;
        }
        // Beyond 64 bits (Obsrv's parser throws on those): the digits as sent.
        out.assign(literal);
        return;
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), d);
    if (ec != std::errc() || end != literal.data() + literal.size()) {
        out.assign(literal);  // beyond double range: as sent
        return;
    }
    out.clear();
    append_java_double(d, out);
}

}  // namespace

std::vector<std::string> split_dotted(std::string_view dotted) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t dot = dotted.find('.', start);
        parts.emplace_back(
            dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start));
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    // Java drops trailing empty strings, except that a text without any separator is kept
    // whole (so "" gives one empty part).
    if (parts.size() > 1) {
        while (!parts.empty() && parts.back().empty()) {
            parts.pop_back();
        }
    }
    return parts;
}

bool field_reader::begin(std::string_view event_json) {
    _members.clear();
    const std::string_view object = json_text::trim(event_json);
    json_text::member_cursor cursor(object.data(), object.data() + object.size());
    json_text::member_span m;
    while (cursor.next(m)) {
        _members.push_back(m);
    }
    return !cursor.failed();
}

bool field_reader::read(std::span<const std::string> path, std::string& out) {
    if (path.empty()) {
        return false;  // the event itself: an object
    }
    _current.clear();
    for (const json_text::member_span& m : _members) {
        if (json_text::raw_key_equals(m.raw_key, path.front())) {
            _current.push_back(m.value);
        }
    }
    for (const std::string& name : path.subspan(1)) {
        if (_current.empty()) {
            return false;
        }
        _next.clear();
        for (std::string_view v : _current) {
            find_direct(v, name, _next);
        }
        _current.swap(_next);
    }
    if (_current.size() != 1) {
        return false;  // none, or several: a JSON array, not text
    }
    const std::string_view value = json_text::trim(_current.front());
    if (value.empty()) {
        return false;
    }
    const char c = value.front();
    if (c == '"') {
        return json_text::unescape_json_string(value.substr(1, value.size() - 2), out);
    }
    if (c == '-' || json_text::is_digit(c)) {
        number_text(value, out);
        return true;
    }
    return false;  // object, array, true, false, null
}

void append_java_double(double d, std::string& out) {
    if (d == 0) {
        out.append(std::signbit(d) ? "-0.0" : "0.0");
        return;
    }
    // Shortest round-trip digits, as "d.ddde±x".
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    (void)ec;
    std::string_view sci(buf, static_cast<size_t>(end - buf));
    if (sci.front() == '-') {
        out.push_back('-');
        sci.remove_prefix(1);
    }
    const size_t e_pos = sci.find('e');
    std::string digits;
    for (char ch : sci.substr(0, e_pos)) {
        if (ch != '.') {
            digits.push_back(ch);
        }
    }
    int exponent = 0;
    std::string_view exp_text = sci.substr(e_pos + 1);
    if (!exp_text.empty() && exp_text.front() == '+') {
        exp_text.remove_prefix(1);
    }
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
    const int n = static_cast<int>(digits.size());
    if (exponent >= -3 && exponent < 7) {
        // Plain notation, at least one digit after the point.
        if (exponent < 0) {
            out.append("0.");
            out.append(static_cast<size_t>(-exponent - 1), '0');
            out.append(digits);
        } else if (n > exponent + 1) {
            out.append(digits, 0, static_cast<size_t>(exponent + 1));
            out.push_back('.');
            out.append(digits, static_cast<size_t>(exponent + 1));
        } else {
            out.append(digits);
            out.append(static_cast<size_t>(exponent + 1 - n), '0');
            out.append(".0");
        }
        return;
    }
    // Computerized scientific notation: d.ddd "E" exponent.
    out.push_back(digits.front());
    out.push_back('.');
    if (n > 1) {
        out.append(digits, 1);
    } else {
        out.push_back('0');
    }
    out.push_back('E');
    char exp_buf[8];
    const auto [e, ec2] = std::to_chars(exp_buf, exp_buf + sizeof exp_buf, exponent);
    (void)ec2;
    out.append(exp_buf, e);
}

}  // namespace obsrv::pipeline
