#include "ingress/http_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace obsrv::ingress {

static_assert(std::is_trivially_copyable_v<http_request_head>);

namespace {

using byte_table = std::array<bool, 256>;

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
//         "~" / DIGIT / ALPHA  (RFC 9110 section 5.6.2)
constexpr byte_table make_tchar_table() {
    byte_table t{};
    for (int c = '0'; c <= '9'; ++c) {
        t[static_cast<size_t>(c)] = true;
    }
    for (int c = 'a'; c <= 'z'; ++c) {
        t[static_cast<size_t>(c)] = true;
        t[static_cast<size_t>(c - 'a' + 'A')] = true;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        t[static_cast<unsigned char>(c)] = true;
    }
    return t;
}

// Bytes that may continue a request-target: visible ASCII except '#'.
constexpr byte_table make_target_table() {
    byte_table t{};
    for (int c = 0x21; c <= 0x7e; ++c) {
        t[static_cast<size_t>(c)] = c != '#';
    }
    return t;
}

// Bytes that may continue a field value: anything but CTLs (HTAB excepted) and DEL. CR ends
// the value; every other stop byte is an error.
constexpr byte_table make_value_table() {
    byte_table t{};
    for (int c = 0; c < 256; ++c) {
        t[static_cast<size_t>(c)] = (c >= 0x20 && c != 0x7f) || c == '\t';
    }
    return t;
}

constexpr byte_table k_tchar = make_tchar_table();
constexpr byte_table k_target_char = make_target_table();
constexpr byte_table k_value_char = make_value_table();

inline unsigned char uc(char c) noexcept {
    return static_cast<unsigned char>(c);
}

inline char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Compares against a lowercase literal of letters and '-'. Every byte of `s` is a tchar, and the
// only tchars that OR 0x20 maps onto a lowercase letter or '-' are that letter in either case
// and '-' itself, so this is an exact case-insensitive match without a table.
inline bool equals_lower_token(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        if ((uc(s[i]) | 0x20u) != uc(lower[i])) {
            return false;
        }
    }
    return true;
}

// The scanners below return the first byte in [p, end) that their table rejects, or end. The
// SSE2 loops cover whole 16-byte blocks inside the buffer (never reading past it) and leave the
// tail to the table; heads are mostly long-ish values and targets, where this pays.

inline const char* scan_target(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i hash = _mm_set1_epi8('#');
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Signed compare: bytes >= 0x80 are negative and so fail "> 0x20" too.
        const unsigned ok = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpgt_epi8(v, space)));
        const __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, hash));
        const unsigned stop = (ok ^ 0xffffu) | static_cast<unsigned>(_mm_movemask_epi8(bad));
        if (stop != 0) {
            return p + __builtin_ctz(stop);
        }
        p += 16;
    }
#endif
    while (p != end && k_target_char[uc(*p)]) {
        ++p;
    }
    return p;
}

inline const char* scan_value(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
    const __m128i max_ctl = _mm_set1_epi8(0x1f);
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i del = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Unsigned v <= 0x1f, which leaves obs-text (>= 0x80) alone.
        const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, max_ctl), v);
        const __m128i stop =
            _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl), _mm_cmpeq_epi8(v, del));
        const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
        if (mask != 0) {
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
#endif
    while (p != end && k_value_char[uc(*p)]) {
        ++p;
    }
    return p;
}

inline const char* scan_token(const char* p, const char* end) noexcept {
    while (p != end && k_tchar[uc(*p)]) {
        ++p;
    }
    return p;
}

http_method classify_method(std::string_view m) noexcept {
    switch (m.size()) {
        case 3:
            if (m == "GET") {
                return http_method::get;
            }
            if (m == "PUT") {
                return http_method::put;
            }
            break;
        case 4:
            if (m == "POST") {
                return http_method::post;
            }
            if (m == "HEAD") {
                return http_method::head;
            }
            break;
        case 5:
            if (m == "PATCH") {
                return http_method::patch;
            }
            break;
        case 6:
            if (m == "DELETE") {
                return http_method::delete_;
            }
            break;
        case 7:
            if (m == "OPTIONS") {
                return http_method::options;
            }
            break;
        default:
            break;
    }
    return http_method::other;
}

// Checks the first min(n, 10) bytes of "HTTP/d.d\r\n". Returns false if they cannot start it.
bool version_shape_ok(const char* p, size_t n) noexcept {
    static constexpr std::string_view k_shape = "HTTP/d.d\r\n";
    const size_t len = std::min(n, k_shape.size());
    for (size_t i = 0; i < len; ++i) {
        if (k_shape[i] == 'd' ? !is_digit(p[i]) : p[i] != k_shape[i]) {
            return false;
        }
    }
    return true;
}

// Header-derived state gathered while scanning the fields; turned into errors and flags once
// the whole head is known, so that e.g. TE followed by CL is reported as smuggling, not 501.
struct framing {
    bool has_content_length = false;
    bool content_length_overflow = false;
    uint64_t content_length = 0;
    bool has_transfer_encoding = false;
    bool transfer_encoding_chunked = false;
    bool connection_close = false;
    bool connection_keep_alive = false;
    bool expect_continue = false;
    bool expect_other = false;
};

http_error on_content_length(std::string_view value, framing& f) noexcept {
    if (f.has_content_length || f.has_transfer_encoding) {
        return http_error::smuggling;
    }
    if (value.empty()) {
        return http_error::bad_request;
    }
    uint64_t n = 0;
    bool overflow = false;
    for (char c : value) {
        if (!is_digit(c)) {
            return http_error::bad_request;
        }
        const auto d = static_cast<uint64_t>(c - '0');
        if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) {
            overflow = true;
        } else {
            n = n * 10 + d;
        }
    }
    f.has_content_length = true;
    f.content_length_overflow = overflow;
    f.content_length = n;
    return http_error::none;
}

http_error on_transfer_encoding(std::string_view value, uint8_t minor_version,
                                framing& f) noexcept {
    if (f.has_content_length || f.has_transfer_encoding) {
        return http_error::smuggling;
    }
    if (minor_version == 0) {
        return http_error::bad_request;
    }
    f.has_transfer_encoding = true;
    f.transfer_encoding_chunked = ascii_iequals(value, "chunked");
    return http_error::none;
}

void on_connection(std::string_view value, framing& f) noexcept {
    while (!value.empty()) {
        const size_t comma = value.find(',');
        std::string_view token = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        while (!token.empty() && is_ows(token.front())) {
            token.remove_prefix(1);
        }
        while (!token.empty() && is_ows(token.back())) {
            token.remove_suffix(1);
        }
        if (ascii_iequals(token, "close")) {
            f.connection_close = true;
        } else if (ascii_iequals(token, "keep-alive")) {
            f.connection_keep_alive = true;
        }
    }
}

void on_expect(std::string_view value, framing& f) noexcept {
    if (ascii_iequals(value, "100-continue")) {
        f.expect_continue = true;
    } else {
        f.expect_other = true;
    }
}

http_error on_header(std::string_view name, std::string_view value, uint8_t minor_version,
                     framing& f) noexcept {
    // Dispatch on length first: most headers match none of the four and cost one switch.
    switch (name.size()) {
        case 14:
            if (equals_lower_token(name, "content-length")) {
                return on_content_length(value, f);
            }
            break;
        case 17:
            if (equals_lower_token(name, "transfer-encoding")) {
                return on_transfer_encoding(value, minor_version, f);
            }
            break;
        case 10:
            if (equals_lower_token(name, "connection")) {
                on_connection(value, f);
            }
            break;
        case 6:
            if (equals_lower_token(name, "expect")) {
                on_expect(value, f);
            }
            break;
        default:
            break;
    }
    return http_error::none;
}

// Whether bytes from `from` on can end the head or hold a bare LF, i.e. whether a full parse
// could answer anything but incomplete. Every complete head ends in CRLF CRLF.
bool may_end_head(std::string_view buffer, size_t from) noexcept {
    const char* const begin = buffer.data();
    const char* const end = begin + buffer.size();
    const char* p = begin + from;
    while (p != end) {
        const auto* nl =
            static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
        if (nl == nullptr) {
            return false;
        }
        if (nl == begin || nl[-1] != '\r') {
            return true;
        }
        if (nl - begin >= 3 && nl[-2] == '\n' && nl[-3] == '\r') {
            return true;
        }
        p = nl + 1;
    }
    return false;
}

}  // namespace

namespace detail {

class head_parser {
  public:
    head_parser(std::string_view buffer, const http_limits& limits) noexcept
        : _begin(buffer.data()),
          _end(buffer.data() + std::min(buffer.size(), limits.max_head_bytes)),
          _truncated(buffer.size() > limits.max_head_bytes),
          _max_headers(std::min(limits.max_header_count, http_request_head::k_header_capacity)),
          _max_body(limits.max_body_bytes) {}

    parse_status run(http_request_head& head, http_error& error) noexcept;

  private:
    // Out of bytes: wait for more, unless the buffer already holds more than the head limit.
    parse_status need_more(http_error over_limit, http_error& error) const noexcept {
        if (!_truncated) {
            return parse_status::incomplete;
        }
        error = over_limit;
        return parse_status::error;
    }

    static parse_status fail(http_error e, http_error& error) noexcept {
        error = e;
        return parse_status::error;
    }

    const char* _begin;
    const char* _end;  // the buffer end, or the head limit if the buffer is longer
    bool _truncated;
    size_t _max_headers;
    uint64_t _max_body;
};

parse_status head_parser::run(http_request_head& head, http_error& error) noexcept {
    const char* p = _begin;
    const char* const end = _end;

    // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before the
    // request line.
    for (;;) {
        if (p == end) {
            return need_more(http_error::head_too_large, error);
        }
        if (*p == '\r') {
            if (end - p < 2) {
                return need_more(http_error::head_too_large, error);
            }
            if (p[1] != '\n') {
                return fail(http_error::bad_request, error);
            }
            p += 2;
        } else if (*p == '\n') {
            return fail(http_error::bad_request, error);
        } else {
            break;
        }
    }

    // method SP
    const char* const method_begin = p;
    p = scan_token(p, end);
    if (p == end) {
        return need_more(http_error::head_too_large, error);
    }
    if (*p != ' ' || p == method_begin) {
        return fail(http_error::bad_request, error);
    }
    const std::string_view method_text(method_begin, static_cast<size_t>(p - method_begin));
    ++p;

    // request-target SP
    const char* const target_begin = p;
    p = scan_target(p, end);
    if (p == end) {
        return need_more(http_error::uri_too_long, error);
    }
    if (*p != ' ' || p == target_begin) {
        return fail(http_error::bad_request, error);
    }
    const std::string_view target(target_begin, static_cast<size_t>(p - target_begin));
    ++p;

    // HTTP-version CRLF
    const auto left = static_cast<size_t>(end - p);
    if (!version_shape_ok(p, left)) {
        return fail(http_error::bad_request, error);
    }
    if (left < 10) {
        return need_more(http_error::head_too_large, error);
    }
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1')) {
        return fail(http_error::version_not_supported, error);
    }
    const auto minor_version = static_cast<uint8_t>(p[7] - '0');
    p += 10;

    // Checked after the version so that an HTTP/2 preface ("PRI * HTTP/2.0") gets its 505.
    const http_method method = classify_method(method_text);
    if (target.front() != '/' && !(target == "*" && method == http_method::options)) {
        return fail(http_error::bad_request, error);
    }

    // field-name ":" OWS field-value OWS CRLF, until an empty line.
    framing f;
    size_t count = 0;
    for (;;) {
        if (p == end) {
            return need_more(http_error::head_too_large, error);
        }
        const char first = *p;
        if (first == '\r') {
            if (end - p < 2) {
                return need_more(http_error::head_too_large, error);
            }
            if (p[1] != '\n') {
                return fail(http_error::bad_request, error);
            }
            p += 2;
            break;
        }
        if (count == _max_headers) {
            // Also catches a bare LF or obs-fold here; the client is over the limit anyway.
            return fail(http_error::too_many_headers, error);
        }
        const char* const name_begin = p;
        p = scan_token(p, end);
        if (p == end) {
            return need_more(http_error::head_too_large, error);
        }
        // Rejects obs-fold and whitespace lines (SP/HTAB first), a bare LF, an empty name and
        // whitespace before the colon.
        if (*p != ':' || p == name_begin) {
            return fail(http_error::bad_request, error);
        }
        const std::string_view name(name_begin, static_cast<size_t>(p - name_begin));
        ++p;
        while (p != end && is_ows(*p)) {
            ++p;
        }
        const char* const value_begin = p;
        p = scan_value(p, end);
        if (p == end) {
            return need_more(http_error::head_too_large, error);
        }
        if (*p != '\r') {
            return fail(http_error::bad_request, error);  // bare LF, NUL, other CTL, DEL
        }
        if (end - p < 2) {
            return need_more(http_error::head_too_large, error);
        }
        if (p[1] != '\n') {
            return fail(http_error::bad_request, error);  // bare CR
        }
        const char* value_end = p;
        while (value_end != value_begin && is_ows(value_end[-1])) {
            --value_end;
        }
        p += 2;
        const std::string_view value(value_begin, static_cast<size_t>(value_end - value_begin));
        head._slots.items[count] = http_header{name, value};
        ++count;
        const http_error e = on_header(name, value, minor_version, f);
        if (e != http_error::none) {
            return fail(e, error);
        }
    }

    if (f.has_transfer_encoding && !f.transfer_encoding_chunked) {
        return fail(http_error::unsupported_transfer_encoding, error);
    }
    if (f.has_content_length && (f.content_length_overflow || f.content_length > _max_body)) {
        return fail(http_error::body_too_large, error);
    }

    head.method = method;
    head.method_text = method_text;
    head.target = target;
    const size_t question = target.find('?');
    if (question == std::string_view::npos) {
        head.path = target;
        head.query = target.substr(target.size());  // empty, but still inside the buffer
    } else {
        head.path = target.substr(0, question);
        head.query = target.substr(question + 1);
    }
    head.minor_version = minor_version;
    head.content_length =
        f.has_content_length ? std::optional<uint64_t>(f.content_length) : std::nullopt;
    head.chunked = f.has_transfer_encoding;
    head.keep_alive = !f.connection_close && (minor_version == 1 || f.connection_keep_alive);
    head.expect_continue = f.expect_continue && minor_version == 1;
    head.expect_unsupported = f.expect_other;
    head.head_bytes = static_cast<size_t>(p - _begin);
    head.header_count = count;
    error = http_error::none;
    return parse_status::complete;
}

}  // namespace detail

int to_http_status(http_error e) noexcept {
    switch (e) {
        case http_error::none:
            return 200;
        case http_error::bad_request:
        case http_error::smuggling:
            return 400;
        case http_error::head_too_large:
        case http_error::too_many_headers:
            return 431;
        case http_error::body_too_large:
            return 413;
        case http_error::unsupported_transfer_encoding:
            return 501;
        case http_error::version_not_supported:
            return 505;
        case http_error::uri_too_long:
            return 414;
    }
    return 400;
}

std::string_view to_string(http_error e) noexcept {
    switch (e) {
        case http_error::none:
            return "none";
        case http_error::bad_request:
            return "bad_request";
        case http_error::smuggling:
            return "smuggling";
        case http_error::head_too_large:
            return "head_too_large";
        case http_error::too_many_headers:
            return "too_many_headers";
        case http_error::body_too_large:
            return "body_too_large";
        case http_error::unsupported_transfer_encoding:
            return "unsupported_transfer_encoding";
        case http_error::version_not_supported:
            return "version_not_supported";
        case http_error::uri_too_long:
            return "uri_too_long";
    }
    return "unknown";
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

const http_header* http_request_head::find_header(std::string_view name) const noexcept {
    for (const http_header& h : headers()) {
        if (ascii_iequals(h.name, name)) {
            return &h;
        }
    }
    return nullptr;
}

parse_status parse_request_head(std::string_view buffer, const http_limits& limits,
                                http_request_head& head, http_error& error,
                                size_t already_scanned) noexcept {
    error = http_error::none;
    // picohttpparser's last_len trick: a previous call saw the first already_scanned bytes
    // without an error or a complete head, so only new bytes can change the answer.
    if (already_scanned != 0 && already_scanned <= buffer.size() &&
        buffer.size() <= limits.max_head_bytes && !may_end_head(buffer, already_scanned)) {
        return parse_status::incomplete;
    }
    return detail::head_parser(buffer, limits).run(head, error);
}

}  // namespace obsrv::ingress
