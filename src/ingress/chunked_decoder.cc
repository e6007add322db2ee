#include "ingress/chunked_decoder.h"

#include <algorithm>
#include <array>

namespace obsrv::ingress {

namespace {

constexpr size_t k_max_size_digits = 16;  // 16 hex digits always fit in 64 bits

constexpr std::array<int8_t, 256> make_hex_table() {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int c = 0; c < 10; ++c) {
        t[static_cast<size_t>('0' + c)] = static_cast<int8_t>(c);
    }
    for (int c = 0; c < 6; ++c) {
        t[static_cast<size_t>('a' + c)] = static_cast<int8_t>(10 + c);
        t[static_cast<size_t>('A' + c)] = static_cast<int8_t>(10 + c);
    }
    return t;
}

constexpr std::array<int8_t, 256> k_hex = make_hex_table();

// tchar (RFC 9110 section 5.6.2), for trailer field names.
constexpr std::array<bool, 256> make_tchar_table() {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) {
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        t[static_cast<size_t>(c)] = alnum;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        t[static_cast<unsigned char>(c)] = true;
    }
    return t;
}

constexpr std::array<bool, 256> k_tchar = make_tchar_table();

// CTLs other than HTAB, and DEL: never valid inside an extension or a field value.
inline bool is_bad_ctl(unsigned char c) noexcept {
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

inline bool is_ws(unsigned char c) noexcept {
    return c == ' ' || c == '\t';
}

}  // namespace

int to_http_status(chunked_error e) noexcept {
    switch (e) {
        case chunked_error::none:
            return 200;
        case chunked_error::bad_chunk_size:
        case chunked_error::bad_chunk_extension:
        case chunked_error::bad_line_ending:
        case chunked_error::missing_crlf:
        case chunked_error::bad_trailer:
            return 400;
        case chunked_error::body_too_large:
            return 413;
        case chunked_error::trailer_too_large:
            return 431;
    }
    return 400;
}

std::string_view to_string(chunked_error e) noexcept {
    switch (e) {
        case chunked_error::none:
            return "none";
        case chunked_error::bad_chunk_size:
            return "bad_chunk_size";
        case chunked_error::bad_chunk_extension:
            return "bad_chunk_extension";
        case chunked_error::bad_line_ending:
            return "bad_line_ending";
        case chunked_error::missing_crlf:
            return "missing_crlf";
        case chunked_error::bad_trailer:
            return "bad_trailer";
        case chunked_error::body_too_large:
            return "body_too_large";
        case chunked_error::trailer_too_large:
            return "trailer_too_large";
    }
    return "unknown";
}

void chunked_decoder::reset() noexcept {
    _state = state::size_first;
    _error = chunked_error::none;
    _digits = 0;
    _chunk_size = 0;
    _remaining = 0;
    _announced = 0;
    _extension_bytes = 0;
    _trailer_bytes = 0;
}

chunked_decoder::step chunked_decoder::_fail(chunked_error e) noexcept {
    _state = state::failed;
    _error = e;
    return step::error;
}

chunked_decoder::step chunked_decoder::_step(std::string_view input, size_t& pos,
                                             std::string_view& data) noexcept {
    const size_t n = input.size();
    for (; pos < n || _state == state::done || _state == state::failed; ++pos) {
        if (_state == state::done) {
            return step::complete;
        }
        if (_state == state::failed) {
            return step::error;
        }
        if (_state == state::data) {
            const auto take = static_cast<size_t>(std::min<uint64_t>(_remaining, n - pos));
            data = input.substr(pos, take);
            pos += take;
            _remaining -= take;
            if (_remaining == 0) {
                _state = state::data_cr;
            }
            return step::data;
        }

        const auto c = static_cast<unsigned char>(input[pos]);
        // Bytes of the trailer section, final CRLF included, against their limit.
        if (_state >= state::trailer_line && ++_trailer_bytes > _limits.max_trailer_bytes) {
            return _fail(chunked_error::trailer_too_large);
        }
        switch (_state) {
            case state::size_first:
            case state::size: {
                const int8_t d = k_hex[c];
                if (d >= 0) {
                    if (++_digits > k_max_size_digits) {
                        return _fail(chunked_error::bad_chunk_size);
                    }
                    _chunk_size = (_chunk_size << 4) | static_cast<uint64_t>(d);
                    _state = state::size;
                    break;
                }
                if (_state == state::size_first) {
                    return _fail(c == '\n' ? chunked_error::bad_line_ending
                                           : chunked_error::bad_chunk_size);
                }
                // End of the digits: refuse an oversized chunk before its data arrives.
                if (_chunk_size > _limits.max_body_bytes - _announced) {
                    return _fail(chunked_error::body_too_large);
                }
                if (c == '\r') {
                    _state = state::size_lf;
                } else if (c == ';' || is_ws(c)) {
                    if (++_extension_bytes > _limits.max_extension_bytes) {
                        return _fail(chunked_error::bad_chunk_extension);
                    }
                    _state = c == ';' ? state::extension : state::size_bws;
                } else if (c == '\n') {
                    return _fail(chunked_error::bad_line_ending);
                } else {
                    return _fail(chunked_error::bad_chunk_size);
                }
                break;
            }
            case state::size_bws:
                if (c != ';' && !is_ws(c)) {
                    return _fail(chunked_error::bad_chunk_size);
                }
                if (++_extension_bytes > _limits.max_extension_bytes) {
                    return _fail(chunked_error::bad_chunk_extension);
                }
                if (c == ';') {
                    _state = state::extension;
                }
                break;
            case state::extension:
                if (c == '\r') {
                    _state = state::size_lf;
                    break;
                }
                if (c == '\n') {
                    return _fail(chunked_error::bad_line_ending);
                }
                if (is_bad_ctl(c) || ++_extension_bytes > _limits.max_extension_bytes) {
                    return _fail(chunked_error::bad_chunk_extension);
                }
                break;
            case state::size_lf:
                if (c != '\n') {
                    return _fail(chunked_error::bad_line_ending);
                }
                _announced += _chunk_size;
                _remaining = _chunk_size;
                _state = _chunk_size == 0 ? state::trailer_line : state::data;
                _chunk_size = 0;
                _digits = 0;
                break;
            case state::data_cr:
                if (c != '\r') {
                    return _fail(chunked_error::missing_crlf);
                }
                _state = state::data_lf;
                break;
            case state::data_lf:
                if (c != '\n') {
                    return _fail(chunked_error::missing_crlf);
                }
                _state = state::size_first;
                break;
            case state::trailer_line:
                if (c == '\r') {
                    _state = state::final_lf;
                } else if (c == '\n') {
                    return _fail(chunked_error::bad_line_ending);
                } else if (k_tchar[c]) {
                    _state = state::trailer_name;
                } else {
                    return _fail(chunked_error::bad_trailer);  // obs-fold, empty name, ...
                }
                break;
            case state::trailer_name:
                if (c == ':') {
                    _state = state::trailer_value;
                } else if (!k_tchar[c]) {
                    return _fail(c == '\n' ? chunked_error::bad_line_ending
                                           : chunked_error::bad_trailer);
                }
                break;
            case state::trailer_value:
                if (c == '\r') {
                    _state = state::trailer_lf;
                } else if (c == '\n') {
                    return _fail(chunked_error::bad_line_ending);
                } else if (is_bad_ctl(c)) {
                    return _fail(chunked_error::bad_trailer);
                }
                break;
            case state::trailer_lf:
                if (c != '\n') {
                    return _fail(chunked_error::bad_line_ending);
                }
                _state = state::trailer_line;
                break;
            case state::final_lf:
                if (c != '\n') {
                    return _fail(chunked_error::bad_line_ending);
                }
                _state = state::done;
                ++pos;
                return step::complete;
            case state::data:
            case state::done:
            case state::failed:
                break;  // handled before the switch
        }
    }
    return step::incomplete;
}

}  // namespace obsrv::ingress
