#include "ingress/content_coding.h"

#include <algorithm>
#include <cstring>
#include <libdeflate.h>
#include <new>
#include <zlib.h>

#include <simdjson.h>

#include "common/assert.h"

namespace obsrv::ingress {
namespace {

bool ascii_iequals(std::string_view a, std::string_view lower) noexcept {
    return a.size() == lower.size() &&
           std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? static_cast<char>(x + ('a' - 'A')) : x) == y;
           });
}

// A buffer left large by one big body is given back once a normal one comes.
constexpr std::size_t k_keep_bytes = 1024 * 1024;
constexpr std::size_t k_min_guess = 4096;

std::uint32_t gzip_trailer_size(std::string_view body) noexcept {
    // ISIZE, the last member's decoded size modulo 2^32, little-endian in the last 4 bytes.
    const auto* p = reinterpret_cast<const unsigned char*>(body.data() + body.size() - 4);
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

content_coding parse_content_coding(std::string_view value) noexcept {
    // No character of Latin-1 above ASCII lowercases into ASCII, so ASCII case folding is
    // exactly JavaScript's toLowerCase() comparison here.
    if (value.empty() || ascii_iequals(value, "identity")) {
        return content_coding::identity;
    }
    if (ascii_iequals(value, "gzip")) {
        return content_coding::gzip;
    }
    if (ascii_iequals(value, "deflate")) {
        return content_coding::deflate;
    }
    return content_coding::unsupported;
}

std::string content_coding_for_message(std::string_view value) {
    std::string out;
    out.reserve(value.size() * 2);
    for (const char ch : value) {
        auto b = static_cast<unsigned char>(ch);
        // toLowerCase() within Latin-1: A-Z and À-Þ except × (U+00D7) move down by 0x20.
        if ((b >= 'A' && b <= 'Z') || (b >= 0xC0 && b <= 0xDE && b != 0xD7)) {
            b = static_cast<unsigned char>(b + 0x20);
        }
        if (b < 0x80) {
            out.push_back(static_cast<char>(b));
        } else {
            out.push_back(static_cast<char>(0xC0 | (b >> 6)));
            out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
        }
    }
    return out;
}

body_decoder::body_decoder(std::size_t max_decoded_bytes)
    : _max(max_decoded_bytes), _decompressor(libdeflate_alloc_decompressor()) {
    if (_decompressor == nullptr) {
        throw std::bad_alloc();
    }
}

body_decoder::~body_decoder() {
    libdeflate_free_decompressor(_decompressor);
}

void body_decoder::reserve(std::size_t bytes, std::size_t keep) {
    if (bytes <= _capacity) {
        return;
    }
    std::unique_ptr<char[]> grown(new char[bytes + simdjson::SIMDJSON_PADDING]);
    if (keep > 0) {
        std::memcpy(grown.get(), _buffer.get(), keep);
    }
    // simdjson reads the padding; defined bytes keep memory checkers quiet.
    std::memset(grown.get() + bytes, 0, simdjson::SIMDJSON_PADDING);
    _buffer = std::move(grown);
    _capacity = bytes;
}

body_decode_status body_decoder::decode(content_coding coding, std::string_view body) {
    OBSRV_ASSERT(coding == content_coding::gzip || coding == content_coding::deflate,
                 "body_decoder::decode needs gzip or deflate");
    _size = 0;
    _error.clear();
    const bool gzip = coding == content_coding::gzip;
    // libdeflate decodes into a buffer of known size: start from the size the gzip trailer
    // states (exact for one member) or four times the input, and double when it is short.
    std::size_t guess = body.size() * 4;
    if (gzip && body.size() >= 18) {
        guess = gzip_trailer_size(body);
    }
    guess = std::min(std::max(guess, k_min_guess), _max + 1);
    if (_capacity > k_keep_bytes && guess <= k_keep_bytes) {
        _buffer.reset();
        _capacity = 0;
    }
    reserve(guess, 0);

    const char* in = body.data();
    std::size_t at = 0;
    for (;;) {
        std::size_t used = 0;
        std::size_t produced = 0;
        const std::size_t room = _capacity - _size;
        const libdeflate_result r =
            gzip ? libdeflate_gzip_decompress_ex(_decompressor, in + at, body.size() - at,
                                                 _buffer.get() + _size, room, &used, &produced)
                 : libdeflate_zlib_decompress_ex(_decompressor, in + at, body.size() - at,
                                                 _buffer.get() + _size, room, &used, &produced);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
            if (_capacity > _max) {  // there was room for one byte more than allowed
                _size = 0;
                return body_decode_status::too_large;
            }
            reserve(std::min(_capacity * 2, _max + 1), _size);
            continue;  // the member again, from its start
        }
        if (r != LIBDEFLATE_SUCCESS) {
            _size = 0;
            _error = zlib_error_message(coding, body, _max + 1);
            if (_error.empty()) {  // the two libraries disagree: say what libdeflate said
                _error = "invalid compressed data";
            }
            return body_decode_status::corrupt;
        }
        _size += produced;
        at += used;
        if (_size > _max) {
            _size = 0;
            return body_decode_status::too_large;
        }
        // Node's Gunzip: another member follows unless the input ended or the rest starts
        // with a zero byte (padding); Inflate stops after its one stream.
        if (!gzip || at == body.size() || in[at] == '\0') {
            return body_decode_status::ok;
        }
    }
}

std::string zlib_error_message(content_coding coding, std::string_view body,
                               std::size_t max_output) {
    z_stream stream{};
    const int window_bits = coding == content_coding::gzip ? 16 + MAX_WBITS : MAX_WBITS;
    if (inflateInit2(&stream, window_bits) != Z_OK) {
        return "zlib could not start";
    }
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    stream.avail_in = static_cast<uInt>(body.size());
    unsigned char sink[16384];
    std::string message;
    std::size_t earlier_members = 0;  // output of the members before the current one
    for (;;) {
        stream.next_out = sink;
        stream.avail_out = sizeof sink;
        const int r = inflate(&stream, Z_NO_FLUSH);
        if (r == Z_OK) {
            if (earlier_members + stream.total_out > max_output) {
                break;  // past where libdeflate stopped: zlib would decode it, no message
            }
            continue;
        }
        if (r == Z_STREAM_END) {
            if (coding == content_coding::gzip && stream.avail_in > 0 && *stream.next_in != 0) {
                earlier_members += stream.total_out;
                inflateReset(&stream);
                continue;
            }
            break;  // decoded: no message
        }
        if (r == Z_BUF_ERROR) {
            message = "unexpected end of file";  // all input read, stream not ended (Node's text)
        } else if (r == Z_NEED_DICT) {
            message = "Missing dictionary";  // Node's text: it never sets one
        } else {
            message = stream.msg != nullptr ? stream.msg : "zlib error";
        }
        break;
    }
    inflateEnd(&stream);
    return message;
}

}  // namespace obsrv::ingress
