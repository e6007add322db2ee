#pragma once

// HTTP/1.1 request-head parser for the ingestion gateway (RFC 9112), strict where leniency
// would open request smuggling and fast enough that parsing is never the bottleneck.
//
// Usage: call parse_request_head() on the bytes received for the current request each time
// more arrive:
//   complete    the head is parsed; the body (if any) starts at buffer[head.head_bytes]. Its
//               length is *head.content_length, or chunked (feed chunked_decoder), or 0 when
//               neither is set (a request without framing headers has no body).
//   incomplete  read more and call again (pass the previous size as already_scanned to skip
//               re-parsing). Never returned once the buffer is larger than max_head_bytes, so
//               the caller never buffers more than max_head_bytes + one read per head.
//   error       answer to_http_status(error) and close the connection: after a framing error
//               the position of the next request is unknown.
// Every string_view in the head points into the caller's buffer: it is valid while the buffer
// is neither freed nor moved. Nothing allocates, throws or keeps state between calls; the
// function is reentrant and each http_request_head belongs to one thread at a time.
//
// Decisions on the points RFC 9112 leaves open:
//   - Line endings must be CRLF. A bare LF or bare CR anywhere in the head is a 400: parsers
//     that accept bare LF disagree with proxies that do not on where a header ends.
//   - Empty lines (CRLF) before the request line are skipped; they count towards head_bytes
//     and max_head_bytes.
//   - Request target: origin-form ("/..."), or "*" for OPTIONS only; absolute-form and
//     authority-form are 400 (this is not a proxy). Only visible ASCII is accepted, without
//     '#' (fragments are never sent), and the components are separated by exactly one SP.
//   - Version: "HTTP/1.0" and "HTTP/1.1" only; any other well-formed "HTTP/d.d" is 505, a
//     malformed one ("HTTP/2", "http/1.1", trailing space) is 400.
//   - 414 uri_too_long when the head limit is reached while still reading the request target;
//     431 head_too_large when it is reached anywhere else. Limits are inclusive: a head of
//     exactly max_head_bytes and exactly max_header_count headers is accepted.
//   - obs-fold, whitespace before the colon or before the first header field, NUL, CTLs and
//     DEL in field values are 400. obs-text (bytes >= 0x80) is allowed in values.
//   - Content-Length: 1*DIGIT after OWS trimming (so "Content-Length:  5" is valid, while
//     "+5", "5 5", "0x5", "5, 5" and "" are 400 bad_request). A well-formed value above
//     max_body_bytes, including one that overflows 64 bits, is 413. A second Content-Length
//     field is `smuggling` even with the same value.
//   - Transfer-Encoding: with Content-Length, or a second Transfer-Encoding field, is
//     `smuggling`; in HTTP/1.0 it is 400; any value but "chunked" (case-insensitive, OWS
//     trimmed) is 501 ("chunked, identity", "gzip, chunked", "xchunked", ...).
//   - Connection is a token list; "close" wins over "keep-alive" in either version.
//   - Expect: "100-continue" sets expect_continue (HTTP/1.1 only: RFC 9110 says to ignore it
//     in 1.0); any other expectation sets expect_unsupported, which the server answers with
//     417 before looking at expect_continue.
//   - Host is not enforced (RFC 9112 asks for a 400 when an HTTP/1.1 request has none or
//     several): the gateway routes on the path only. Callers that care read header("host").
//   - Unknown methods parse as http_method::other; the server decides between 405 and 501.
//
// Why hand-written instead of a library: the only HTTP parser packaged in Debian 12 is
// libhttp-parser-dev (nodejs/http-parser 2.9.4, archived upstream and superseded by llhttp).
// It accepts what this gateway must reject (checked: bare LF, space before the colon, obs-fold,
// absolute-form, Transfer-Encoding in HTTP/1.0, "xchunked" and "chunked, identity" all pass),
// and a benchmark shows it would be the bottleneck. Medians of 5 repetitions, both parsers in
// one process on the inputs of perf/http_parser_bench.cc, GCC 12 -O3, 2-vCPU AMD EPYC VM, one
// thread; http-parser's callbacks record the URL and header spans, like our output, and it
// pauses at the end of the head:
//   gateway POST head (8 headers, 326 B)   ours         7.4 M req/s   2.25 GiB/s
//                                          http-parser  1.45 M req/s  0.44 GiB/s  (5.1x slower)
//   browser GET head (15 headers, 776 B)   ours         4.9 M req/s   3.55 GiB/s
//                                          http-parser  0.78 M req/s  0.56 GiB/s  (6.3x slower)
// At 1.45 M heads/s per core http-parser would cost a 4-core gateway at 1 M req/s about 17% of
// its CPU on parsing alone, against under 4% for ours. http-parser could not be linked into
// perf/http_parser_bench.cc without a CMake change, so the comparison was a one-off build of
// that file plus an http-parser case (g++ -O3 -DNDEBUG ... -lhttp_parser), not committed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace obsrv::ingress {

enum class http_method : uint8_t { get, head, post, put, delete_, options, patch, other };

struct http_header {
    std::string_view name;   // as sent; compare case-insensitively
    std::string_view value;  // without leading and trailing OWS
};

struct http_limits {
    size_t max_head_bytes = 16 * 1024;  // request line + headers + final CRLF
    // Clamped to http_request_head::k_header_capacity.
    size_t max_header_count = 100;
    uint64_t max_body_bytes = 5 * 1024 * 1024;
};

enum class http_error : uint8_t {
    none,
    bad_request,                    // 400: malformed syntax, bad bytes, bare CR/LF, obs-fold, ...
    smuggling,                      // 400: ambiguous framing (CL+TE, duplicate CL or TE)
    head_too_large,                 // 431
    too_many_headers,               // 431
    body_too_large,                 // 413: Content-Length above max_body_bytes
    unsupported_transfer_encoding,  // 501: Transfer-Encoding other than exactly "chunked"
    version_not_supported,          // 505: well-formed version other than HTTP/1.0 and 1.1
    uri_too_long,                   // 414: head limit reached inside the request target
};

/// The response status for an error; 200 for http_error::none.
int to_http_status(http_error e) noexcept;

/// Stable snake_case name for logs and metric labels.
std::string_view to_string(http_error e) noexcept;

enum class parse_status : uint8_t { complete, incomplete, error };

namespace detail {
class head_parser;
}

/// The parsed request head. Fields are meaningful only after `complete`. Cheap to construct
/// (the header slots are left uninitialised), so one per request on the stack is fine; it is
/// trivially copyable, and copies keep pointing into the parsed buffer.
struct http_request_head {
    static constexpr size_t k_header_capacity = 128;

    http_method method = http_method::other;
    std::string_view method_text;  // as sent (methods are case-sensitive)
    std::string_view target;       // as sent
    std::string_view path;         // target up to the first '?'
    std::string_view query;        // after the first '?', without it; empty if none
    uint8_t minor_version = 1;     // 0 or 1
    std::optional<uint64_t> content_length;
    bool chunked = false;
    bool keep_alive = false;
    bool expect_continue = false;
    bool expect_unsupported = false;
    size_t head_bytes = 0;  // bytes of the head including leading empty lines and final CRLF
    size_t header_count = 0;

    std::span<const http_header> headers() const noexcept {
        return {_slots.items.data(), header_count};
    }
    /// First header with this name (ASCII case-insensitive), or nullptr.
    const http_header* find_header(std::string_view name) const noexcept;
    /// Value of the first header with this name, or an empty view if there is none.
    std::string_view header(std::string_view name) const noexcept {
        const http_header* h = find_header(name);
        return h != nullptr ? h->value : std::string_view{};
    }

  private:
    friend class detail::head_parser;

    // Zeroing 128 slots would cost about as much as parsing a typical head. Slots below
    // header_count are assigned before they are read; http_header is an implicit-lifetime
    // aggregate with trivial assignment, so assigning into the union creates it.
    union header_slots {
        header_slots() noexcept {}  // NOLINT: deliberately leaves the slots uninitialised
        std::array<http_header, k_header_capacity> items;
    } _slots;
};

/// Parses the request head at the start of `buffer` (see the file comment for the contract).
/// `already_scanned`: the size `buffer` had when a previous call for this same request
/// returned incomplete, or 0. While the new bytes cannot end the head the call then returns
/// incomplete without parsing, so a head trickling in byte by byte costs O(n), not O(n^2);
/// errors in those bytes are reported once the head ends or reaches the limit.
parse_status parse_request_head(std::string_view buffer, const http_limits& limits,
                                http_request_head& head, http_error& error,
                                size_t already_scanned = 0) noexcept;

/// ASCII case-insensitive comparison, as used for header names and tokens.
bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace obsrv::ingress
