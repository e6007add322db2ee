#include "response_parser.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace obsrv::loadgen {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const size_t comma = value.find(',');
        const std::string_view item = trim(value.substr(0, comma));
        if (iequals(item, token)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        value.remove_prefix(comma + 1);
    }
    return false;
}

// Position just past the blank line ending a header block (CRLF CRLF, or bare
// LF LF which some test servers send), or npos. `from` lets a caller resume
// the scan near the end of what it already searched.
size_t find_head_end(std::string_view s, size_t from) {
    for (size_t i = s.find('\n', from); i != std::string_view::npos; i = s.find('\n', i + 1)) {
        if (i + 1 < s.size() && s[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
            return i + 3;
        }
    }
    return std::string_view::npos;
}

}  // namespace

void response_parser::reset() {
    _state = state::head;
    _head.clear();
    _line.clear();
    _remaining = 0;
    _current = {};
    _error.clear();
}

void response_parser::start_response() {
    _state = state::head;
    _head.clear();
    _line.clear();
    _remaining = 0;
    _current = {};
}

response_parser::step response_parser::fail(size_t consumed, std::string message) {
    _state = state::failed;
    _error = std::move(message);
    return {consumed, parse_status::error};
}

bool response_parser::parse_head(std::string_view head) {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    size_t eol = head.find('\n');
    std::string_view line = trim(head.substr(0, eol));
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
        (line.size() > 12 && line[12] != ' ')) {
        _error = "bad status line";
        return false;
    }
    const bool http10 = line[7] == '0';
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') {
            _error = "bad status code";
            return false;
        }
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100) {
        _error = "bad status code";
        return false;
    }
    _current.status = status;

    bool chunked = false;
    bool have_length = false;
    uint64_t length = 0;
    bool conn_close = false;
    bool conn_keep_alive = false;
    head.remove_prefix(eol + 1);
    while (!head.empty()) {
        eol = head.find('\n');
        std::string_view field = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
        if (!field.empty() && field.back() == '\r') {
            field.remove_suffix(1);
        }
        if (field.empty()) {
            break;  // the blank line
        }
        const size_t colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            _error = "bad header line";
            return false;
        }
        const std::string_view name = field.substr(0, colon);
        const std::string_view value = trim(field.substr(colon + 1));
        if (iequals(name, "content-length")) {
            uint64_t n = 0;
            const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
                _error = "bad Content-Length";
                return false;
            }
            if (have_length && n != length) {
                _error = "conflicting Content-Length";
                return false;
            }
            have_length = true;
            length = n;
        } else if (iequals(name, "transfer-encoding")) {
            // Only the final coding decides the framing (RFC 9112 6.3).
            const size_t comma = value.rfind(',');
            const std::string_view last =
                trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
            chunked = iequals(last, "chunked");
            if (!chunked) {
                _error = "unsupported Transfer-Encoding";
                return false;
            }
        } else if (iequals(name, "connection")) {
            conn_close = conn_close || has_token(value, "close");
            conn_keep_alive = conn_keep_alive || has_token(value, "keep-alive");
        }
    }
    _current.keep_alive = !conn_close && (!http10 || conn_keep_alive);

    if (status < 200 || status == 204 || status == 304) {
        _state = state::head;  // no body; caller decides what to do with 1xx
        _remaining = 0;
    } else if (chunked) {
        _state = state::chunk_size;
    } else if (have_length) {
        _state = state::body_length;
        _remaining = length;
    } else {
        _state = state::body_until_close;
        _current.keep_alive = false;
    }
    return true;
}

response_parser::step response_parser::feed(std::string_view data) {
    size_t pos = 0;
    while (true) {
        switch (_state) {
            case state::failed:
                return {pos, parse_status::error};

            case state::head: {
                if (pos == data.size()) {
                    return {pos, parse_status::need_more};
                }
                const std::string_view rest = data.substr(pos);
                std::string_view head;
                size_t used = 0;
                if (_head.empty()) {
                    // Usual case: the whole head is in this read; parse it in place.
                    const size_t end = find_head_end(rest, 0);
                    if (end == std::string_view::npos) {
                        if (rest.size() > max_header_bytes) {
                            return fail(pos, "response header too large");
                        }
                        _head.assign(rest);
                        _current.total_bytes += rest.size();
                        return {data.size(), parse_status::need_more};
                    }
                    head = rest.substr(0, end);
                    used = end;
                } else {
                    const size_t old = _head.size();
                    const size_t take = std::min(rest.size(), max_header_bytes + 4 - old);
                    _head.append(rest.substr(0, take));
                    const size_t end = find_head_end(_head, old >= 3 ? old - 3 : 0);
                    if (end == std::string_view::npos) {
                        if (_head.size() > max_header_bytes) {
                            return fail(pos, "response header too large");
                        }
                        _current.total_bytes += take;
                        return {data.size(), parse_status::need_more};
                    }
                    used = end - old;
                    _head.resize(end);
                    head = _head;
                }
                if (head.size() > max_header_bytes) {
                    return fail(pos, "response header too large");
                }
                _current.total_bytes += used;
                pos += used;
                if (!parse_head(head)) {
                    _state = state::failed;
                    return {pos, parse_status::error};
                }
                _head.clear();
                if (_current.status < 200) {
                    // Interim response (100 Continue, 103 Early Hints): the real one follows.
                    _current = {};
                    continue;
                }
                if (_state == state::head) {
                    _last = _current;
                    start_response();
                    return {pos, parse_status::complete};
                }
                if (_state == state::body_length && _remaining == 0) {
                    _last = _current;
                    start_response();
                    return {pos, parse_status::complete};
                }
                continue;
            }

            case state::body_length: {
                const size_t take =
                    static_cast<size_t>(std::min<uint64_t>(_remaining, data.size() - pos));
                pos += take;
                _remaining -= take;
                _current.body_bytes += take;
                _current.total_bytes += take;
                if (_remaining == 0) {
                    _last = _current;
                    start_response();
                    return {pos, parse_status::complete};
                }
                return {pos, parse_status::need_more};
            }

            case state::body_until_close: {
                const size_t take = data.size() - pos;
                _current.body_bytes += take;
                _current.total_bytes += take;
                return {data.size(), parse_status::need_more};
            }

            case state::chunk_size:
            case state::trailers: {
                const size_t nl = data.find('\n', pos);
                const size_t end = nl == std::string_view::npos ? data.size() : nl + 1;
                if (_line.size() + (end - pos) > max_line_bytes) {
                    return fail(pos, "chunk-size or trailer line too long");
                }
                _line.append(data.substr(pos, end - pos));
                _current.total_bytes += end - pos;
                pos = end;
                if (nl == std::string_view::npos) {
                    return {pos, parse_status::need_more};
                }
                std::string_view line = _line;
                line.remove_suffix(1);  // '\n'
                if (!line.empty() && line.back() == '\r') {
                    line.remove_suffix(1);
                }
                if (_state == state::trailers) {
                    if (line.empty()) {
                        _line.clear();
                        _last = _current;
                        start_response();
                        return {pos, parse_status::complete};
                    }
                    _line.clear();
                    continue;
                }
                // chunk-size [; extensions]
                const size_t semi = line.find(';');
                const std::string_view hex = trim(line.substr(0, semi));
                uint64_t size = 0;
                const auto [ptr, ec] =
                    std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
                if (hex.empty() || ec != std::errc() || ptr != hex.data() + hex.size()) {
                    return fail(pos, "bad chunk size");
                }
                _line.clear();
                if (size == 0) {
                    _state = state::trailers;
                } else {
                    _remaining = size;
                    _state = state::chunk_data;
                }
                continue;
            }

            case state::chunk_data: {
                const size_t take =
                    static_cast<size_t>(std::min<uint64_t>(_remaining, data.size() - pos));
                pos += take;
                _remaining -= take;
                _current.body_bytes += take;
                _current.total_bytes += take;
                if (_remaining > 0) {
                    return {pos, parse_status::need_more};
                }
                _state = state::chunk_data_end;
                continue;
            }

            case state::chunk_data_end: {
                // CRLF (or a bare LF) after the chunk data; _line counts the CR seen.
                if (pos == data.size()) {
                    return {pos, parse_status::need_more};
                }
                const char c = data[pos];
                if (c == '\r' && _line.empty()) {
                    _line.push_back('\r');
                    ++pos;
                    ++_current.total_bytes;
                    continue;
                }
                if (c != '\n') {
                    return fail(pos, "missing CRLF after chunk data");
                }
                ++pos;
                ++_current.total_bytes;
                _line.clear();
                _state = state::chunk_size;
                continue;
            }
        }
    }
}

parse_status response_parser::finish() {
    switch (_state) {
        case state::body_until_close:
            _last = _current;
            start_response();
            return parse_status::complete;
        case state::head:
            if (_head.empty()) {
                return parse_status::need_more;
            }
            _state = state::failed;
            _error = "connection closed inside a response header";
            return parse_status::error;
        case state::failed:
            return parse_status::error;
        default:
            _state = state::failed;
            _error = "connection closed inside a response body";
            return parse_status::error;
    }
}

}  // namespace obsrv::loadgen
