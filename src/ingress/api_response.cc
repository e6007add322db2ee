#include "ingress/api_response.h"

#include <chrono>
#include <cstring>
#include <random>

namespace obsrv::ingress {

namespace {

constexpr char k_hex[] = "0123456789abcdef";

// 1 for bytes JSON.stringify escapes: controls, '"' and '\'.
struct escape_table {
    std::array<std::uint8_t, 256> needs{};
    constexpr escape_table() {
        for (int c = 0; c < 0x20; ++c) {
            needs[static_cast<std::size_t>(c)] = 1;
        }
        needs['"'] = 1;
        needs['\\'] = 1;
    }
};
constexpr escape_table k_escape{};

// One byte JSON.stringify escapes (k_escape), as its escape sequence.
char* write_escape(char* out, unsigned char c) noexcept {
    *out++ = '\\';
    switch (c) {
        case '"':
            *out++ = '"';
            break;
        case '\\':
            *out++ = '\\';
            break;
        case '\b':
            *out++ = 'b';
            break;
        case '\f':
            *out++ = 'f';
            break;
        case '\n':
            *out++ = 'n';
            break;
        case '\r':
            *out++ = 'r';
            break;
        case '\t':
            *out++ = 't';
            break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = k_hex[c >> 4];
            *out++ = k_hex[c & 0xf];
    }
    return out;
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[20];
    char* end = buf + sizeof(buf);
    char* p = end;
    do {
        *--p = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out.append(p, static_cast<std::size_t>(end - p));
}

void append_int(std::string& out, std::int64_t v) {
    if (v < 0) {
        out += '-';
        append_uint(out, ~static_cast<std::uint64_t>(v) + 1);
    } else {
        append_uint(out, static_cast<std::uint64_t>(v));
    }
}

// {"id":<api_id>,"ver":"v2","ts":"…","params":{"status":"<status>"[,"msgid":…],"resmsgid":"…"},
//  "responseCode":"<code>","result":
void append_v2_head(std::string& out, const response_meta& meta, std::string_view api_id,
                    std::string_view status, std::string_view response_code) {
    out.clear();
    out.append(R"({"id":)");
    detail::append_json_string(out, api_id);
    out.append(R"(,"ver":"v2","ts":)");
    detail::append_json_string(out, meta.ts);
    out.append(R"(,"params":{"status":")");
    out.append(status);
    out += '"';
    switch (meta.msgid.type) {
        case response_msgid::kind::omit:
            break;
        case response_msgid::kind::string:
            out.append(R"(,"msgid":)");
            detail::append_json_string(out, meta.msgid.text);
            break;
        case response_msgid::kind::json:
            out.append(R"(,"msgid":)");
            out.append(meta.msgid.text);
            break;
    }
    out.append(R"(,"resmsgid":)");
    detail::append_json_string(out, meta.resmsgid);
    out.append(R"(},"responseCode":)");
    detail::append_json_string(out, response_code);
    out.append(R"(,"result":)");
}

void append_error_tail(std::string& out, std::string_view code, std::string_view message) {
    out.append(R"(,"error":{"code":)");
    detail::append_json_string(out, code);
    out.append(R"(,"message":)");
    detail::append_json_string(out, message);
    out.append("}}");
}

}  // namespace

// ---- JSON strings --------------------------------------------------------------------------

namespace detail {

char* write_json_string(char* out, std::string_view text) noexcept {
    *out++ = '"';
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        // Copy the run of bytes that need no escaping in one go.
        const auto* run = p;
        while (p < end && k_escape.needs[*p] == 0) {
            ++p;
        }
        const auto n = static_cast<std::size_t>(p - run);
        std::memcpy(out, run, n);
        out += n;
        if (p == end) {
            break;
        }
        out = write_escape(out, *p++);
    }
    *out++ = '"';
    return out;
}

char* write_json_latin1_string(char* out, std::string_view latin1) noexcept {
    *out++ = '"';
    for (const char byte : latin1) {
        const auto c = static_cast<unsigned char>(byte);
        if (c >= 0x80) {  // U+0080..U+00FF: two bytes of UTF-8
            *out++ = static_cast<char>(0xC0 | (c >> 6));
            *out++ = static_cast<char>(0x80 | (c & 0x3F));
        } else if (k_escape.needs[c] != 0) {
            out = write_escape(out, c);
        } else {
            *out++ = byte;
        }
    }
    *out++ = '"';
    return out;
}

void append_json_string(std::string& out, std::string_view text) {
    const std::size_t old = out.size();
    out.resize(old + json_string_bound(text.size()));
    char* end = write_json_string(out.data() + old, text);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace detail

// ---- v2 ------------------------------------------------------------------------------------

int render_success(std::string& out, const response_meta& meta) {
    append_v2_head(out, meta, meta.api_id, "SUCCESS", "OK");
    out.append(R"({"message":"Data ingested successfully"}})");
    return 200;
}

int render_error(std::string& out, const response_meta& meta, const error_spec& spec,
                 std::string_view message) {
    append_v2_head(out, meta, meta.api_id, "FAILED", spec.response_code);
    out.append("{}");
    append_error_tail(out, spec.code, message);
    return spec.http_status;
}

int render_invalid_input(std::string& out, const response_meta& meta, std::string_view message) {
    return render_error(out, meta, k_invalid_input, message);
}

int render_dataset_not_found(std::string& out, const response_meta& meta,
                             std::string_view dataset_key) {
    std::string message;
    message.reserve(40 + dataset_key.size());
    message.append("Dataset with id/alias name '").append(dataset_key).append("' not found");
    return render_error(out, meta, k_dataset_not_found, message);
}

int render_dataset_not_live(std::string& out, const response_meta& meta,
                            std::string_view dataset_key, std::string_view status) {
    std::string message;
    message.reserve(60 + dataset_key.size() + status.size());
    message.append("Dataset with id/alias name '")
        .append(dataset_key)
        .append("' is not Live (status: ")
        .append(status)
        .append(")");
    return render_error(out, meta, k_dataset_not_found, message);
}

int render_topic_not_found(std::string& out, const response_meta& meta) {
    return render_error(out, meta, k_topic_not_found, "Entry topic not found");
}

int render_internal_error(std::string& out, const response_meta& meta, std::string_view message) {
    return render_error(out, meta, k_internal_error, message);
}

int render_payload_too_large(std::string& out, const response_meta& meta, std::size_t limit) {
    std::string message = "Request body exceeds the limit of ";
    append_uint(message, limit);
    message.append(" bytes");
    return render_error(out, meta, k_payload_too_large, message);
}

int render_headers_too_large(std::string& out, const response_meta& meta, std::size_t limit) {
    std::string message = "Request headers exceed the limit of ";
    append_uint(message, limit);
    message.append(" bytes");
    return render_error(out, meta, k_headers_too_large, message);
}

int render_unavailable(std::string& out, const response_meta& meta, std::string_view reason) {
    return render_error(out, meta, k_unavailable, reason);
}

int render_request_timeout(std::string& out, const response_meta& meta) {
    return render_error(out, meta, k_request_timeout, "Request not received in time");
}

int render_method_not_allowed(std::string& out, const response_meta& meta,
                              std::string_view method) {
    std::string message = "Method ";
    message.append(method).append(" not allowed");
    return render_error(out, meta, k_method_not_allowed, message);
}

int render_route_not_found(std::string& out, const response_meta& meta) {
    append_v2_head(out, meta, "api", "FAILED", k_route_not_found.response_code);
    out.append(R"("")");
    append_error_tail(out, k_route_not_found.code, "Route not found");
    return k_route_not_found.http_status;
}

// ---- legacy v1 -----------------------------------------------------------------------------

namespace {

void append_v1_head(std::string& out, std::int64_t ts_ms) {
    out.clear();
    out.append(R"({"id":")");
    out.append(k_v1_api_id);
    out.append(R"(","ver":"v1","ts":)");
    append_int(out, ts_ms);
}

}  // namespace

int render_v1_success(std::string& out, std::int64_t ts_ms) {
    append_v1_head(out, ts_ms);
    out.append(R"(,"params":{"status":"SUCCESS","errmsg":""},"responseCode":"OK",)"
               R"("result":{"message":"The data has been successfully ingested"}})");
    return 200;
}

int render_v1_error(std::string& out, std::int64_t ts_ms, int http_status,
                    std::string_view response_code, std::string_view errmsg) {
    append_v1_head(out, ts_ms);
    out.append(R"(,"params":{"status":"FAILED","errmsg":)");
    detail::append_json_string(out, errmsg);
    out.append(R"(},"responseCode":)");
    detail::append_json_string(out, response_code);
    out.append(R"(,"result":{}})");
    return http_status;
}

int render_v1_invalid_body(std::string& out, std::int64_t ts_ms, std::string_view message) {
    return render_v1_error(out, ts_ms, 400, "BAD_REQUEST", message);
}

int render_v1_dataset_not_found(std::string& out, std::int64_t ts_ms) {
    return render_v1_error(out, ts_ms, 404, "NOT_FOUND", "Dataset Id not found, Failed to ingest");
}

int render_v1_invalid_dataset_config(std::string& out, std::int64_t ts_ms) {
    return render_v1_error(out, ts_ms, 400, "BAD_REQUEST",
                           "Invalid dataset config provided for ingestion");
}

int render_v1_empty_dataset_id(std::string& out, std::int64_t ts_ms) {
    return render_v1_error(out, ts_ms, 400, "BAD_REQUEST",
                           "datasetId parameter in url cannot be empty");
}

int render_v1_internal_error(std::string& out, std::int64_t ts_ms, std::string_view message) {
    return render_v1_error(out, ts_ms, 500, "INTERNAL_SERVER_ERROR", message);
}

// ---- ids and time stamps -------------------------------------------------------------------

namespace {

void put2(char* out, unsigned v) {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
}

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm, proleptic Gregorian).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        --q;
    }
    return q;
}

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

// 16 bytes → 8-4-4-4-12 lower-case hex.
void format_uuid(const std::uint8_t* b, char* out) {
    int j = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[j++] = '-';
        }
        out[j++] = k_hex[b[i] >> 4];
        out[j++] = k_hex[b[i] & 0xf];
    }
}

}  // namespace

void format_iso_timestamp(std::int64_t unix_ms, char* out) noexcept {
    const std::int64_t secs = floor_div(unix_ms, 1000);
    const std::int64_t days = floor_div(secs, 86400);
    const auto sod = static_cast<unsigned>(secs - days * 86400);
    std::int64_t y = 0;
    unsigned m = 0;
    unsigned d = 0;
    civil_from_days(days, y, m, d);
    // Years outside 0000-9999 do not occur for wall-clock time; clamp so the width is fixed.
    const auto year = static_cast<unsigned>(y < 0 ? 0 : (y > 9999 ? 9999 : y));
    put2(out, year / 100);
    put2(out + 2, year % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, sod / 3600);
    out[13] = ':';
    put2(out + 14, sod / 60 % 60);
    out[16] = ':';
    put2(out + 17, sod % 60);
    std::memcpy(out + 19, "+00:00", 6);
}

id_source::id_source() {
    std::random_device rd;
    std::uint64_t seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    seed ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    *this = id_source(seed);
}

id_source::id_source(std::uint64_t seed) {
    for (auto& s : _s) {
        s = splitmix64(seed);
    }
    const std::uint64_t node = next();
    for (std::size_t i = 0; i < _node.size(); ++i) {
        _node[i] = static_cast<std::uint8_t>(node >> (8 * i));
    }
    _node[0] |= 0x01;  // multicast bit: a random node id, not a MAC (RFC 4122 §4.5)
    _clock_seq = static_cast<std::uint16_t>(next() & 0x3fff);
}

std::uint64_t id_source::next() noexcept {
    // xoshiro256** (Blackman & Vigna)
    const std::uint64_t result = rotl(_s[1] * 5, 7) * 9;
    const std::uint64_t t = _s[1] << 17;
    _s[2] ^= _s[0];
    _s[3] ^= _s[1];
    _s[1] ^= _s[2];
    _s[0] ^= _s[3];
    _s[2] ^= t;
    _s[3] = rotl(_s[3], 45);
    return result;
}

void id_source::uuid_v4(char* out) noexcept {
    std::uint8_t b[16];
    const std::uint64_t hi = next();
    const std::uint64_t lo = next();
    std::memcpy(b, &hi, 8);
    std::memcpy(b + 8, &lo, 8);
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    format_uuid(b, out);
}

std::string_view id_source::next_uuid_v4() noexcept {
    uuid_v4(_uuid.data());
    return {_uuid.data(), _uuid.size()};
}

void id_source::uuid_v1(char* out, std::int64_t unix_ms) noexcept {
    // Like uuid@3: ticks within the same ms count up; going back in time bumps the clock seq.
    if (unix_ms < _v1_last_ms) {
        _clock_seq = static_cast<std::uint16_t>((_clock_seq + 1) & 0x3fff);
        _v1_ticks = 0;
    } else if (unix_ms == _v1_last_ms) {
        if (++_v1_ticks >= 10000) {
            // More than 10k ids in one ms: borrow from the next ms rather than repeat an id.
            ++unix_ms;
            _v1_ticks = 0;
        }
    } else {
        _v1_ticks = 0;
    }
    _v1_last_ms = unix_ms;
    // 100-ns intervals since 1582-10-15.
    const std::uint64_t t =
        (static_cast<std::uint64_t>(unix_ms) + 12219292800000ULL) * 10000 + _v1_ticks;
    const auto time_low = static_cast<std::uint32_t>(t & 0xffffffff);
    const auto time_mid = static_cast<std::uint16_t>((t >> 32) & 0xffff);
    const auto time_hi = static_cast<std::uint16_t>(((t >> 48) & 0x0fff) | 0x1000);
    std::uint8_t b[16];
    b[0] = static_cast<std::uint8_t>(time_low >> 24);
    b[1] = static_cast<std::uint8_t>(time_low >> 16);
    b[2] = static_cast<std::uint8_t>(time_low >> 8);
    b[3] = static_cast<std::uint8_t>(time_low);
    b[4] = static_cast<std::uint8_t>(time_mid >> 8);
    b[5] = static_cast<std::uint8_t>(time_mid);
    b[6] = static_cast<std::uint8_t>(time_hi >> 8);
    b[7] = static_cast<std::uint8_t>(time_hi);
    b[8] = static_cast<std::uint8_t>((_clock_seq >> 8) | 0x80);
    b[9] = static_cast<std::uint8_t>(_clock_seq & 0xff);
    std::memcpy(b + 10, _node.data(), _node.size());
    format_uuid(b, out);
}

std::string_view id_source::iso_timestamp(std::int64_t unix_ms) noexcept {
    const std::int64_t second = floor_div(unix_ms, 1000);
    if (second != _ts_second) {
        format_iso_timestamp(unix_ms, _ts.data());
        _ts_second = second;
    }
    return {_ts.data(), _ts.size()};
}

std::int64_t id_source::now_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace obsrv::ingress
