#include "ingress/http_parser.h"

#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ingress/chunked_decoder.h"

namespace obsrv::ingress {
namespace {

using namespace std::string_literals;

const std::string k_gateway_head =
    "POST /v2/data/in/telemetry-events?sync=false&tenant=t1 HTTP/1.1\r\n"
    "Host: ingest.obsrv.local:8080\r\n"
    "User-Agent: obsrv-client/1.4.2\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 2\r\n"
    "Accept: */*\r\n"
    "X-Request-Id: 7f3c2a9e-51b4-4d0e-9a61-3c1d2e8b9f00\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0In0.c2ln\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

const std::string k_browser_head =
    "GET /dashboard/datasets?page=2&sort=name HTTP/1.1\r\n"
    "Host: obsrv.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://obsrv.example.com/dashboard\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=abc123; theme=dark\r\n"
    "\r\n";

// Unusual but valid shapes: leading empty lines, no OWS, lots of OWS, empty value, obs-text,
// every tchar in a name, chunked framing.
const std::string k_odd_head =
    "\r\n\r\n"
    "PUT /a/b/c? HTTP/1.1\r\n"
    "x:y\r\n"
    "Padded: \t  spaced value \t \r\n"
    "Empty:\r\n"
    "Only-Ows:   \r\n"
    "Latin: caf\xc3\xa9\r\n"
    "X-!#$%&'*+-.^_`|~09az: tchar\r\n"
    "Transfer-Encoding: Chunked\r\n"
    "\r\n";

struct result {
    parse_status status;
    http_error error;
};

result parse(std::string_view buffer, http_request_head& head, const http_limits& limits = {},
             size_t already_scanned = 0) {
    http_error error = http_error::none;
    const parse_status status = parse_request_head(buffer, limits, head, error, already_scanned);
    return {status, error};
}

// Parses `buffer`, which must be a complete head, into `head`.
void parse_ok(std::string_view buffer, http_request_head& head, const http_limits& limits = {}) {
    const result r = parse(buffer, head, limits);
    ASSERT_EQ(r.status, parse_status::complete) << "error " << to_string(r.error);
    EXPECT_EQ(r.error, http_error::none);
}

http_error parse_error(std::string_view buffer, const http_limits& limits = {}) {
    http_request_head head;
    const result r = parse(buffer, head, limits);
    EXPECT_EQ(r.status, parse_status::error) << "for " << testing::PrintToString(buffer);
    return r.error;
}

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// --- valid requests ------------------------------------------------------------------------

TEST(http_parser, gateway_post) {
    const std::string buffer = k_gateway_head + "{}";
    http_request_head head;
    parse_ok(buffer, head);
    EXPECT_EQ(head.method, http_method::post);
    EXPECT_EQ(head.method_text, "POST");
    EXPECT_EQ(head.target, "/v2/data/in/telemetry-events?sync=false&tenant=t1");
    EXPECT_EQ(head.path, "/v2/data/in/telemetry-events");
    EXPECT_EQ(head.query, "sync=false&tenant=t1");
    EXPECT_EQ(head.minor_version, 1);
    EXPECT_EQ(head.header_count, 8u);
    EXPECT_EQ(head.headers()[0].name, "Host");
    EXPECT_EQ(head.headers()[0].value, "ingest.obsrv.local:8080");
    EXPECT_EQ(head.headers()[7].name, "Connection");
    EXPECT_EQ(head.headers()[7].value, "keep-alive");
    EXPECT_EQ(head.content_length, std::optional<uint64_t>(2));
    EXPECT_FALSE(head.chunked);
    EXPECT_TRUE(head.keep_alive);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);
    EXPECT_EQ(head.head_bytes, k_gateway_head.size());
    EXPECT_EQ(buffer.substr(head.head_bytes), "{}");
    const http_request_head copy = head;  // copies keep pointing into the buffer
    ASSERT_EQ(copy.header_count, 8u);
    EXPECT_EQ(copy.headers()[3].value, "2");
    EXPECT_EQ(copy.headers()[3].value.data(), head.headers()[3].value.data());
    EXPECT_EQ(copy.header("authorization"), head.header("Authorization"));
    // Views point into the caller's buffer: nothing was copied.
    EXPECT_TRUE(inside(head.target, buffer));
    for (const http_header& h : head.headers()) {
        EXPECT_TRUE(inside(h.name, buffer));
        EXPECT_TRUE(inside(h.value, buffer));
    }
}

TEST(http_parser, browser_get) {
    http_request_head head;
    parse_ok(k_browser_head, head);
    EXPECT_EQ(head.method, http_method::get);
    EXPECT_EQ(head.header_count, 15u);
    EXPECT_EQ(head.path, "/dashboard/datasets");
    EXPECT_EQ(head.query, "page=2&sort=name");
    EXPECT_FALSE(head.content_length.has_value());
    EXPECT_FALSE(head.chunked);
    EXPECT_EQ(head.header("sec-ch-ua"), "\"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"");
    EXPECT_EQ(head.header("cookie"), "session=abc123; theme=dark");
    EXPECT_EQ(head.head_bytes, k_browser_head.size());
}

TEST(http_parser, odd_but_valid_shapes) {
    http_request_head head;
    parse_ok(k_odd_head, head);
    EXPECT_EQ(head.method, http_method::put);
    EXPECT_EQ(head.head_bytes, k_odd_head.size());  // leading CRLFs are consumed too
    EXPECT_EQ(head.path, "/a/b/c");
    EXPECT_EQ(head.query, "");
    ASSERT_EQ(head.header_count, 7u);
    EXPECT_EQ(head.headers()[0].name, "x");
    EXPECT_EQ(head.headers()[0].value, "y");
    EXPECT_EQ(head.headers()[1].value, "spaced value");  // OWS trimmed, inner spaces kept
    EXPECT_EQ(head.headers()[2].value, "");
    EXPECT_EQ(head.headers()[3].value, "");
    EXPECT_EQ(head.headers()[4].value, "caf\xc3\xa9");
    EXPECT_EQ(head.headers()[5].name, "X-!#$%&'*+-.^_`|~09az");
    EXPECT_TRUE(head.chunked);
    EXPECT_FALSE(head.content_length.has_value());
}

TEST(http_parser, head_request) {
    http_request_head head;
    parse_ok("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", head);
    EXPECT_EQ(head.method, http_method::head);
    EXPECT_EQ(head.path, "/health");
    EXPECT_EQ(head.query, "");
}

TEST(http_parser, methods) {
    const std::vector<std::pair<std::string, http_method>> cases = {
        {"GET", http_method::get},        {"HEAD", http_method::head},
        {"POST", http_method::post},      {"PUT", http_method::put},
        {"DELETE", http_method::delete_}, {"OPTIONS", http_method::options},
        {"PATCH", http_method::patch},    {"PROPFIND", http_method::other},
        {"get", http_method::other},      {"POSTX", http_method::other},
        {"M-SEARCH", http_method::other}, {"CONNECT", http_method::other},
    };
    for (const auto& [text, method] : cases) {
        const std::string request = text + " /x HTTP/1.1\r\n\r\n";
        http_request_head head;
        parse_ok(request, head);
        EXPECT_EQ(head.method, method) << text;
        EXPECT_EQ(head.method_text, text);
    }
}

TEST(http_parser, header_values_keep_inner_bytes) {
    http_request_head head;
    parse_ok("GET / HTTP/1.1\r\nA: x:y\tz  w\r\nB:\t\tv\r\nC: \x80\xff\r\n\r\n", head);
    EXPECT_EQ(head.header("a"), "x:y\tz  w");
    EXPECT_EQ(head.header("b"), "v");
    EXPECT_EQ(head.header("c"), "\x80\xff");
}

TEST(http_parser, path_and_query) {
    const std::vector<std::array<std::string, 3>> cases = {
        {"/", "/", ""},
        {"/v2/data/in/ds", "/v2/data/in/ds", ""},
        {"/a?b=1", "/a", "b=1"},
        {"/a?", "/a", ""},
        {"/?a?b=%20", "/", "a?b=%20"},
        {"//x/./y?q=/z", "//x/./y", "q=/z"},
    };
    for (const auto& [target, path, query] : cases) {
        const std::string request = "GET " + target + " HTTP/1.1\r\n\r\n";
        http_request_head head;
        parse_ok(request, head);
        EXPECT_EQ(head.target, target);
        EXPECT_EQ(head.path, path) << target;
        EXPECT_EQ(head.query, query) << target;
    }
}

TEST(http_parser, asterisk_form_only_for_options) {
    http_request_head head;
    parse_ok("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", head);
    EXPECT_EQ(head.method, http_method::options);
    EXPECT_EQ(head.target, "*");
    EXPECT_EQ(head.path, "*");
    EXPECT_EQ(parse_error("GET * HTTP/1.1\r\n\r\n"), http_error::bad_request);
    EXPECT_EQ(parse_error("OPTIONS *x HTTP/1.1\r\n\r\n"), http_error::bad_request);
}

TEST(http_parser, header_lookup_is_case_insensitive_first_match) {
    http_request_head head;
    parse_ok("GET / HTTP/1.1\r\nX-Dup: one\r\nContent-TYPE: text/plain\r\nx-dup: two\r\n\r\n",
             head);
    EXPECT_EQ(head.header("content-type"), "text/plain");
    EXPECT_EQ(head.header("CONTENT-TYPE"), "text/plain");
    EXPECT_EQ(head.header("X-DUP"), "one");
    EXPECT_EQ(head.header("content-typ"), "");
    EXPECT_EQ(head.find_header("missing"), nullptr);
    ASSERT_NE(head.find_header("x-dup"), nullptr);
    EXPECT_EQ(head.find_header("x-dup"), &head.headers()[0]);
    // Letters only differ by 0x20 in case; other bytes must not be folded.
    EXPECT_FALSE(ascii_iequals("a-b", "a\rb"));
    EXPECT_FALSE(ascii_iequals("@", "`"));
    EXPECT_TRUE(ascii_iequals("Keep-Alive", "kEEP-aLIVE"));
}

TEST(http_parser, head_object_is_reused) {
    http_request_head head;
    parse_ok(
        "POST /a?q HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n"
        "Connection: keep-alive\r\nExpect: nope\r\n\r\n",
        head);
    EXPECT_TRUE(head.expect_unsupported);
    parse_ok("GET /b HTTP/1.1\r\n\r\n", head);
    EXPECT_EQ(head.method, http_method::get);
    EXPECT_EQ(head.query, "");
    EXPECT_EQ(head.minor_version, 1);
    EXPECT_EQ(head.header_count, 0u);
    EXPECT_FALSE(head.content_length.has_value());
    EXPECT_FALSE(head.chunked);
    EXPECT_TRUE(head.keep_alive);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);
}

// --- connection management ----------------------------------------------------------------

TEST(http_parser, keep_alive_rules) {
    struct keep_alive_case {
        std::string version;
        std::string headers;
        bool keep_alive;
    };
    const std::vector<keep_alive_case> cases = {
        {"1.1", "", true},
        {"1.1", "Connection: close\r\n", false},
        {"1.1", "Connection: CLOSE\r\n", false},
        {"1.1", "Connection: keep-alive, close\r\n", false},
        {"1.1", "Connection: upgrade,  Close \r\n", false},
        {"1.1", "Connection: keep-alive\r\nConnection: close\r\n", false},
        {"1.1", "Connection: keep-alive\r\n", true},
        {"1.1", "Connection: closed\r\n", true},
        {"1.1", "Connection: upgrade\r\n", true},
        {"1.1", "X-Connection: close\r\n", true},
        {"1.0", "", false},
        {"1.0", "Connection: keep-alive\r\n", true},
        {"1.0", "Connection: Keep-Alive\r\n", true},
        {"1.0", "Connection: te, keep-alive\r\n", true},
        {"1.0", "Connection: keep-alive, close\r\n", false},
        {"1.0", "Connection: close\r\n", false},
        {"1.0", "Connection: keepalive\r\n", false},
    };
    for (const auto& c : cases) {
        const std::string request = "GET / HTTP/" + c.version + "\r\n" + c.headers + "\r\n";
        http_request_head head;
        parse_ok(request, head);
        EXPECT_EQ(head.keep_alive, c.keep_alive) << request;
        EXPECT_EQ(head.minor_version, c.version == "1.1" ? 1 : 0);
    }
}

TEST(http_parser, expect) {
    http_request_head head;
    parse_ok("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", head);
    EXPECT_TRUE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);

    parse_ok("POST / HTTP/1.1\r\nExpect:  100-Continue \r\n\r\n", head);
    EXPECT_TRUE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);

    parse_ok("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", head);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_TRUE(head.expect_unsupported);

    parse_ok("POST / HTTP/1.1\r\nExpect: 100-continue, foo\r\n\r\n", head);
    EXPECT_TRUE(head.expect_unsupported);

    parse_ok("POST / HTTP/1.1\r\n\r\n", head);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);

    // RFC 9110 section 10.1.1: ignore 100-continue from an HTTP/1.0 client.
    parse_ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", head);
    EXPECT_FALSE(head.expect_continue);
    EXPECT_FALSE(head.expect_unsupported);
}

// --- body framing ---------------------------------------------------------------------------

TEST(http_parser, content_length_forms) {
    const std::vector<std::pair<std::string, uint64_t>> cases = {
        {"0", 0}, {"5", 5}, {"007", 7}, {"  5", 5}, {"\t5\t ", 5}, {"5242880", 5242880},
    };
    for (const auto& [value, expected] : cases) {
        const std::string request = "POST / HTTP/1.1\r\nContent-Length:" + value + "\r\n\r\n";
        http_request_head head;
        parse_ok(request, head);
        EXPECT_EQ(head.content_length, std::optional<uint64_t>(expected)) << value;
    }
    http_request_head head;
    parse_ok("POST / HTTP/1.1\r\ncOnTeNt-LeNgTh: 12\r\n\r\n", head);
    EXPECT_EQ(head.content_length, std::optional<uint64_t>(12));
}

TEST(http_parser, transfer_encoding_chunked) {
    for (const std::string value : {"chunked", "CHUNKED", " chunked\t", "ChUnKeD"}) {
        const std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding:" + value + "\r\n\r\n";
        http_request_head head;
        parse_ok(request, head);
        EXPECT_TRUE(head.chunked) << value;
        EXPECT_FALSE(head.content_length.has_value());
    }
}

// --- errors ---------------------------------------------------------------------------------

struct error_case {
    std::string name;
    std::string request;
    http_error error;
};

void expect_errors(const std::vector<error_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(parse_error(c.request), c.error) << testing::PrintToString(c.request);
    }
}

TEST(http_parser, request_line_errors) {
    expect_errors({
        {"double space", "GET  / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"space before version twice", "GET /  HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"trailing space", "GET / HTTP/1.1 \r\n\r\n", http_error::bad_request},
        {"tab separator", "GET\t/ HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"empty method", " / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"bad method char", "GE(T / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"http/0.9", "GET /\r\n\r\n", http_error::bad_request},
        {"no target", "GET HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"absolute-form", "GET http://example.com/ HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"authority-form", "CONNECT example.com:443 HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"relative target", "GET a/b HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"fragment", "GET /a#b HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"obs-text in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"NUL in target", "GET /a\0b HTTP/1.1\r\n\r\n"s, http_error::bad_request},
        {"lowercase version", "GET / http/1.1\r\n\r\n", http_error::bad_request},
        {"short version", "GET / HTTP/1\r\n\r\n", http_error::bad_request},
        {"two-digit major", "GET / HTTP/11.1\r\n\r\n", http_error::bad_request},
        {"two-digit minor", "GET / HTTP/1.10\r\n\r\n", http_error::bad_request},
        {"http/2 short", "GET / HTTP/2\r\n\r\n", http_error::bad_request},
        {"bare LF request line", "GET / HTTP/1.1\n\r\n", http_error::bad_request},
        {"bare CR request line", "GET / HTTP/1.1\rX\r\n\r\n", http_error::bad_request},
        {"leading bare LF", "\nGET / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"leading bare CR", "\rGET / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"leading space", " GET / HTTP/1.1\r\n\r\n", http_error::bad_request},
        {"TLS client hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s,
         http_error::bad_request},
        {"http/1.2", "GET / HTTP/1.2\r\n\r\n", http_error::version_not_supported},
        {"http/2.0", "GET / HTTP/2.0\r\n\r\n", http_error::version_not_supported},
        {"http/0.9 versioned", "GET / HTTP/0.9\r\n\r\n", http_error::version_not_supported},
        {"http/3.0", "GET / HTTP/3.0\r\n\r\n", http_error::version_not_supported},
        {"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", http_error::version_not_supported},
    });
}

TEST(http_parser, header_errors) {
    const std::string line = "GET / HTTP/1.1\r\n";
    expect_errors({
        {"space before colon", line + "Host : x\r\n\r\n", http_error::bad_request},
        {"tab before colon", line + "Host\t: x\r\n\r\n", http_error::bad_request},
        {"no colon", line + "Host x\r\n\r\n", http_error::bad_request},
        {"empty name", line + ": x\r\n\r\n", http_error::bad_request},
        {"obs-fold", line + "X: a\r\n b\r\n\r\n", http_error::bad_request},
        {"obs-fold tab", line + "X: a\r\n\tb\r\n\r\n", http_error::bad_request},
        {"space before first header", line + " Host: x\r\n\r\n", http_error::bad_request},
        {"NUL in value", line + "X: a\0b\r\n\r\n"s, http_error::bad_request},
        {"NUL in name", line + "X\0Y: a\r\n\r\n"s, http_error::bad_request},
        {"bare CR in value", line + "X: a\rb\r\n\r\n", http_error::bad_request},
        {"bare CR at end of value", line + "X: a\r\r\n\r\n", http_error::bad_request},
        {"bare LF in value", line + "X: a\nb\r\n\r\n", http_error::bad_request},
        {"bare LF line end", line + "X: a\n\r\n", http_error::bad_request},
        {"bare LF final line", line + "X: a\r\n\n", http_error::bad_request},
        {"bare LF everywhere", "GET / HTTP/1.1\nHost: x\n\n", http_error::bad_request},
        {"bare CR final line", line + "X: a\r\n\rX", http_error::bad_request},
        {"DEL in value", line + "X: a\x7f\r\n\r\n", http_error::bad_request},
        {"CTL in value", line + "X: a\x01\r\n\r\n", http_error::bad_request},
        {"vertical tab in value", line + "X: \x0b" + "a\r\n\r\n", http_error::bad_request},
        {"form feed in value", line + "X: a\x0c\r\n\r\n", http_error::bad_request},
        {"non-token name", line + "X(Y): a\r\n\r\n", http_error::bad_request},
        {"obs-text name", line + "X\xc3\xa9: a\r\n\r\n", http_error::bad_request},
        {"long value with CTL",
         line + "X: " + std::string(40, 'a') + "\x01" + std::string(40, 'b') + "\r\n\r\n",
         http_error::bad_request},
    });
}

TEST(http_parser, content_length_errors) {
    const auto cl = [](const std::string& value) {
        return "POST / HTTP/1.1\r\nContent-Length: " + value + "\r\n\r\n";
    };
    expect_errors({
        {"plus sign", cl("+5"), http_error::bad_request},
        {"minus sign", cl("-5"), http_error::bad_request},
        {"inner space", cl("5 5"), http_error::bad_request},
        {"hex", cl("0x5"), http_error::bad_request},
        {"comma list", cl("5, 5"), http_error::bad_request},
        {"comma list no space", cl("5,5"), http_error::bad_request},
        {"empty", cl(""), http_error::bad_request},
        {"decimal point", cl("5.0"), http_error::bad_request},
        {"exponent", cl("1e3"), http_error::bad_request},
        {"vertical tab before",
         cl("\x0b"
            "5"),
         http_error::bad_request},
        {"letters", cl("five"), http_error::bad_request},
        {"too large", cl("5242881"), http_error::body_too_large},
        {"overflow", cl("99999999999999999999999"), http_error::body_too_large},
        {"2^64", cl("18446744073709551616"), http_error::body_too_large},
    });
}

TEST(http_parser, smuggling_vectors) {
    const std::string line = "POST / HTTP/1.1\r\n";
    expect_errors({
        {"CL then TE", line + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         http_error::smuggling},
        {"TE then CL", line + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
         http_error::smuggling},
        {"TE then CL, odd case", line + "transfer-ENCODING: chunked\r\nCONTENT-length: 5\r\n\r\n",
         http_error::smuggling},
        {"duplicate CL same value", line + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
         http_error::smuggling},
        {"duplicate CL different", line + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
         http_error::smuggling},
        {"duplicate CL, second too large",
         line + "Content-Length: 5\r\nContent-Length: 99999999\r\n\r\n", http_error::smuggling},
        {"first CL too large, then TE",
         line + "Content-Length: 99999999\r\nTransfer-Encoding: chunked\r\n\r\n",
         http_error::smuggling},
        {"duplicate TE", line + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         http_error::smuggling},
        {"TE gzip with CL", line + "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
         http_error::smuggling},
        {"TE chunked, identity", line + "Transfer-Encoding: chunked, identity\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE identity", line + "Transfer-Encoding: identity\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE gzip, chunked", line + "Transfer-Encoding: gzip, chunked\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE xchunked", line + "Transfer-Encoding: xchunked\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE chunkedx", line + "Transfer-Encoding: chunkedx\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE chunked with parameter", line + "Transfer-Encoding: chunked;q=1\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE empty", line + "Transfer-Encoding:\r\n\r\n",
         http_error::unsupported_transfer_encoding},
        {"TE with space before colon", line + "Transfer-Encoding : chunked\r\n\r\n",
         http_error::bad_request},
        {"TE obs-folded", line + "Transfer-Encoding:\r\n chunked\r\n\r\n", http_error::bad_request},
        {"TE with vertical tab",
         line + "Transfer-Encoding:\x0b"
                "chunked\r\n\r\n",
         http_error::bad_request},
        {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
         http_error::bad_request},
    });
}

TEST(http_parser, status_codes) {
    EXPECT_EQ(to_http_status(http_error::none), 200);
    EXPECT_EQ(to_http_status(http_error::bad_request), 400);
    EXPECT_EQ(to_http_status(http_error::smuggling), 400);
    EXPECT_EQ(to_http_status(http_error::head_too_large), 431);
    EXPECT_EQ(to_http_status(http_error::too_many_headers), 431);
    EXPECT_EQ(to_http_status(http_error::body_too_large), 413);
    EXPECT_EQ(to_http_status(http_error::unsupported_transfer_encoding), 501);
    EXPECT_EQ(to_http_status(http_error::version_not_supported), 505);
    EXPECT_EQ(to_http_status(http_error::uri_too_long), 414);
    EXPECT_EQ(to_string(http_error::smuggling), "smuggling");
    EXPECT_EQ(to_string(http_error::uri_too_long), "uri_too_long");
}

// Every byte value at every offset: reaches both the SSE2 blocks and the scalar tail of each
// scanner, and checks each byte class against the RFC grammar written out independently here.
bool rfc_tchar(unsigned char c) {
    return std::isalnum(c) != 0 && c < 0x80
               ? true
               : std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                     std::string_view::npos;
}

TEST(http_parser, byte_classes_at_every_offset) {
    for (int b = 0; b < 256; ++b) {
        const auto c = static_cast<unsigned char>(b);
        const char ch = static_cast<char>(b);
        // field-vchar / SP / HTAB; CR and LF end or break the line.
        const bool value_ok = c == '\t' || (c >= 0x20 && c != 0x7f);
        // origin-form characters (visible ASCII) without '#'; '?' is allowed.
        const bool target_ok = c > 0x20 && c < 0x7f && c != '#';
        // Lengths around the 16-byte blocks: every offset lands in a SIMD lane or the tail.
        for (const size_t len : {1, 2, 3, 12, 13, 15, 16, 17, 28, 29, 33, 40}) {
            for (size_t at = 0; at < len; ++at) {
                std::string value(len, 'v');
                value[at] = ch;
                const std::string with_value = "GET / HTTP/1.1\r\nA: b\r\nX: " + value + "\r\n\r\n";
                http_request_head head;
                const result rv = parse(with_value, head);
                ASSERT_EQ(rv.status, value_ok ? parse_status::complete : parse_status::error)
                    << "value byte " << b << " at " << at << " of " << len;
                if (value_ok) {
                    std::string_view expected = value;
                    while (!expected.empty() &&
                           (expected.front() == ' ' || expected.front() == '\t')) {
                        expected.remove_prefix(1);
                    }
                    while (!expected.empty() &&
                           (expected.back() == ' ' || expected.back() == '\t')) {
                        expected.remove_suffix(1);
                    }
                    ASSERT_EQ(head.header("x"), expected);
                }

                std::string target = "/" + std::string(len, 't');
                target[at + 1] = ch;
                const std::string with_target = "GET " + target + " HTTP/1.1\r\n\r\n";
                const result rt = parse(with_target, head);
                ASSERT_EQ(rt.status, target_ok ? parse_status::complete : parse_status::error)
                    << "target byte " << b << " at " << at << " of " << len;
                if (target_ok) {
                    ASSERT_EQ(head.target, target);
                }
            }
            // Names are short, so one offset pattern per length is enough.
            std::string name(len, 'n');
            name[len - 1] = ch;
            const std::string with_name = "GET / HTTP/1.1\r\n" + name + ": v\r\n\r\n";
            http_request_head head;
            const result rn = parse(with_name, head);
            const bool name_ok = rfc_tchar(c) || (c == ':' && len > 1);
            ASSERT_EQ(rn.status, name_ok ? parse_status::complete : parse_status::error)
                << "name byte " << b << " at end of " << len;
        }
    }
}

// --- limits ---------------------------------------------------------------------------------

// A GET whose head is exactly `size` bytes (size >= 40), padded in one header value.
std::string head_of_size(size_t size) {
    const std::string prefix = "GET / HTTP/1.1\r\nX-Pad: ";
    const std::string suffix = "\r\n\r\n";
    return prefix + std::string(size - prefix.size() - suffix.size(), 'p') + suffix;
}

TEST(http_parser, head_bytes_limit_is_inclusive) {
    http_limits limits;
    limits.max_head_bytes = 1000;
    http_request_head head;

    const std::string at_limit = head_of_size(1000);
    parse_ok(at_limit, head, limits);
    EXPECT_EQ(head.head_bytes, 1000u);
    parse_ok(at_limit + "trailing body bytes", head, limits);
    EXPECT_EQ(head.head_bytes, 1000u);

    const std::string over = head_of_size(1001);
    EXPECT_EQ(parse_error(over, limits), http_error::head_too_large);
    // Incomplete up to the limit, an error one byte past it.
    EXPECT_EQ(parse(std::string_view(over).substr(0, 1000), head, limits).status,
              parse_status::incomplete);
    EXPECT_EQ(parse_error(std::string_view(over).substr(0, 1001), limits),
              http_error::head_too_large);

    // Leading empty lines count.
    EXPECT_EQ(parse_error("\r\n" + at_limit, limits), http_error::head_too_large);
}

TEST(http_parser, unterminated_garbage_is_bounded) {
    http_limits limits;
    limits.max_head_bytes = 64;
    http_request_head head;
    const std::string endless_header = "GET / HTTP/1.1\r\nX: " + std::string(100, 'a');
    EXPECT_EQ(parse(endless_header.substr(0, 64), head, limits).status, parse_status::incomplete);
    EXPECT_EQ(parse_error(endless_header.substr(0, 65), limits), http_error::head_too_large);
    const std::string endless_method(100, 'G');
    EXPECT_EQ(parse(endless_method.substr(0, 64), head, limits).status, parse_status::incomplete);
    EXPECT_EQ(parse_error(endless_method, limits), http_error::head_too_large);
    const std::string endless_lines = "GET / HTTP/1.1\r\n" + std::string(100, 'a') + ":\r\n";
    EXPECT_EQ(parse_error(endless_lines, limits), http_error::head_too_large);
}

TEST(http_parser, uri_too_long) {
    http_limits limits;
    limits.max_head_bytes = 100;
    const std::string long_target = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n";
    EXPECT_EQ(parse_error(long_target, limits), http_error::uri_too_long);
    EXPECT_EQ(parse_error(long_target.substr(0, 101), limits), http_error::uri_too_long);
    // A target that fits, with headers that do not, is a head problem.
    const std::string fits =
        "GET /" + std::string(60, 'a') + " HTTP/1.1\r\nX: " + std::string(40, 'x') + "\r\n\r\n";
    EXPECT_EQ(parse_error(fits, limits), http_error::head_too_large);
}

std::string request_with_headers(size_t n) {
    std::string request = "GET / HTTP/1.1\r\n";
    for (size_t i = 0; i < n; ++i) {
        request += "H" + std::to_string(i) + ": v\r\n";
    }
    return request + "\r\n";
}

TEST(http_parser, header_count_limit_is_inclusive) {
    http_limits limits;
    limits.max_header_count = 10;
    http_request_head head;
    const std::string ten = request_with_headers(10);  // outlives the views into it
    parse_ok(ten, head, limits);
    EXPECT_EQ(head.header_count, 10u);
    EXPECT_EQ(head.headers()[9].name, "H9");
    EXPECT_EQ(parse_error(request_with_headers(11), limits), http_error::too_many_headers);

    limits.max_header_count = 0;
    parse_ok(request_with_headers(0), head, limits);
    EXPECT_EQ(parse_error(request_with_headers(1), limits), http_error::too_many_headers);

    // Default limit: 100.
    parse_ok(request_with_headers(100), head);
    EXPECT_EQ(parse_error(request_with_headers(101)), http_error::too_many_headers);
}

TEST(http_parser, header_count_is_clamped_to_capacity) {
    http_limits limits;
    limits.max_header_count = 100000;
    limits.max_head_bytes = 1 << 20;
    http_request_head head;
    const size_t capacity = http_request_head::k_header_capacity;
    parse_ok(request_with_headers(capacity), head, limits);
    EXPECT_EQ(head.header_count, capacity);
    EXPECT_EQ(parse_error(request_with_headers(capacity + 1), limits),
              http_error::too_many_headers);
}

TEST(http_parser, body_limit_is_inclusive) {
    http_limits limits;
    limits.max_body_bytes = 1000;
    http_request_head head;
    parse_ok("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", head, limits);
    EXPECT_EQ(head.content_length, std::optional<uint64_t>(1000));
    EXPECT_EQ(parse_error("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", limits),
              http_error::body_too_large);
    limits.max_body_bytes = UINT64_MAX;
    parse_ok("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", head, limits);
    EXPECT_EQ(head.content_length, std::optional<uint64_t>(UINT64_MAX));
    EXPECT_EQ(
        parse_error("POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", limits),
        http_error::body_too_large);
}

// --- incremental input ----------------------------------------------------------------------

TEST(http_parser, every_strict_prefix_is_incomplete) {
    for (const std::string& request :
         {k_gateway_head, k_browser_head, k_odd_head,
          "OPTIONS * HTTP/1.0\r\nExpect: 100-continue\r\nA:\r\n\r\n"s}) {
        // The prefix lives in its own allocation so ASan catches any read past its end.
        for (size_t len = 0; len < request.size(); ++len) {
            const std::vector<char> prefix(request.begin(), request.begin() + len);
            http_request_head head;
            const result r = parse(std::string_view(prefix.data(), len), head);
            ASSERT_EQ(r.status, parse_status::incomplete)
                << "prefix " << len << " of " << testing::PrintToString(request) << " -> "
                << to_string(r.error);
            ASSERT_EQ(r.error, http_error::none);
        }
        http_request_head head;
        parse_ok(request, head);
        EXPECT_EQ(head.head_bytes, request.size());
    }
}

TEST(http_parser, already_scanned_hint_matches_full_parse) {
    for (const std::string& request : {k_gateway_head, k_browser_head, k_odd_head}) {
        // Byte by byte, as a slow client would send it, passing the previous size each time.
        http_request_head head;
        size_t scanned = 0;
        for (size_t len = 1; len < request.size(); ++len) {
            ASSERT_EQ(parse(std::string_view(request).substr(0, len), head, {}, scanned).status,
                      parse_status::incomplete)
                << len;
            scanned = len;
        }
        parse_ok(request, head);
        const size_t expected_headers = head.header_count;
        http_request_head hinted;
        ASSERT_EQ(parse(request, hinted, {}, scanned).status, parse_status::complete);
        EXPECT_EQ(hinted.head_bytes, request.size());
        EXPECT_EQ(hinted.header_count, expected_headers);
    }
    // A bare LF in the new bytes is still reported at once.
    http_request_head head;
    const std::string bare_lf = "GET / HTTP/1.1\r\nX: a\nY";
    EXPECT_EQ(parse(bare_lf, head, {}, 18).status, parse_status::error);
    // Over the limit, the hint is ignored.
    http_limits limits;
    limits.max_head_bytes = 20;
    const std::string long_head = "GET / HTTP/1.1\r\nX: aaaaaaaa";
    EXPECT_EQ(parse(long_head, head, limits, 18).status, parse_status::error);
}

TEST(http_parser, rejects_partial_input_that_cannot_become_valid) {
    // A client speaking something else (TLS, HTTP/2, garbage) gets its 400 at once instead of
    // holding the connection until the head limit or a timeout.
    for (const std::string& partial : {
             "\x16\x03\x01"s,
             "GE(T"s,
             "GET /a#"s,
             "GET /a\x01"s,
             "GET / HTTX"s,
             "GET / HTTP/1,"s,
             "GET / HTTP/1.1\rX"s,
             "GET / HTTP/1.1\r\nHost : x"s,
             "GET / HTTP/1.1\r\n Host"s,
             "GET / HTTP/1.1\r\nHost: a\x7f"s,
         }) {
        http_request_head head;
        const result r = parse(partial, head);
        EXPECT_EQ(r.status, parse_status::error) << testing::PrintToString(partial);
        EXPECT_EQ(r.error, http_error::bad_request);
    }
}

TEST(http_parser, pipelined_requests) {
    const std::string chunked_body = "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nT: x\r\n\r\n";
    const std::string stream =
        k_gateway_head + "{}" + "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
        "POST /two HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_body +
        "POST /three HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz" + "GET /four HTTP/1.0\r\n\r\n";
    std::string_view rest = stream;
    std::vector<std::string> paths;
    std::vector<std::string> bodies;
    while (!rest.empty()) {
        http_request_head head;
        const result r = parse(rest, head);
        ASSERT_EQ(r.status, parse_status::complete) << to_string(r.error);
        paths.emplace_back(head.path);
        rest.remove_prefix(head.head_bytes);
        if (head.chunked) {
            chunked_decoder decoder;
            std::string body;
            size_t consumed = 0;
            ASSERT_EQ(decoder.feed(rest, consumed, body), decode_status::complete);
            bodies.push_back(body);
            rest.remove_prefix(consumed);
        } else {
            const auto length = static_cast<size_t>(head.content_length.value_or(0));
            ASSERT_LE(length, rest.size());
            bodies.emplace_back(rest.substr(0, length));
            rest.remove_prefix(length);
        }
    }
    EXPECT_EQ(paths, (std::vector<std::string>{"/v2/data/in/telemetry-events", "/one", "/two",
                                               "/three", "/four"}));
    EXPECT_EQ(bodies, (std::vector<std::string>{"{}", "", "abcdefg", "xyz", ""}));
}

// --- fuzz-style robustness ------------------------------------------------------------------

// Checks everything a caller relies on after `complete`.
void check_consistent(std::string_view buffer, const http_request_head& head,
                      const http_limits& limits) {
    ASSERT_LE(head.head_bytes, buffer.size());
    ASSERT_LE(head.head_bytes, limits.max_head_bytes);
    const std::string_view head_text = buffer.substr(0, head.head_bytes);
    ASSERT_TRUE(head_text.ends_with("\r\n\r\n"));
    EXPECT_TRUE(inside(head.method_text, head_text));
    EXPECT_TRUE(inside(head.target, head_text));
    EXPECT_TRUE(inside(head.path, head.target));
    EXPECT_TRUE(inside(head.query, head.target));
    EXPECT_FALSE(head.method_text.empty());
    EXPECT_FALSE(head.target.empty());
    EXPECT_TRUE(head.target.front() == '/' || head.target == "*");
    EXPECT_TRUE(head.minor_version == 0 || head.minor_version == 1);
    EXPECT_LE(head.header_count, limits.max_header_count);
    EXPECT_FALSE(head.chunked && head.content_length.has_value());
    if (head.content_length) {
        EXPECT_LE(*head.content_length, limits.max_body_bytes);
    }
    for (const http_header& h : head.headers()) {
        EXPECT_TRUE(inside(h.name, head_text));
        EXPECT_TRUE(inside(h.value, head_text));
        EXPECT_FALSE(h.name.empty());
        EXPECT_EQ(h.name.find_first_of(" \t\r\n:"s + '\0'), std::string_view::npos);
        EXPECT_EQ(h.value.find_first_of("\r\n"s + '\0'), std::string_view::npos);
        if (!h.value.empty()) {
            EXPECT_NE(h.value.front(), ' ');
            EXPECT_NE(h.value.back(), ' ');
        }
    }
}

TEST(http_parser, random_mutations_stay_consistent) {
    const std::vector<std::string> seeds = {
        k_gateway_head + "{}",
        k_browser_head,
        k_odd_head + "5\r\nhello\r\n0\r\n\r\n",
        "POST /x HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc",
        "OPTIONS * HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    const std::string interesting = "\r\n \t:;,?#/\x7f\x80\xff" + "0aZ"s + '\0';
    std::mt19937 rng(20240601);
    const auto pick = [&rng](size_t n) {
        return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
    };
    size_t complete = 0;
    size_t errors = 0;
    for (int iteration = 0; iteration < 6000; ++iteration) {
        std::string s = seeds[pick(seeds.size())];
        const size_t mutations = 1 + pick(4);
        for (size_t m = 0; m < mutations && !s.empty(); ++m) {
            const size_t at = pick(s.size());
            switch (pick(6)) {
                case 0:
                    s[at] = static_cast<char>(pick(256));
                    break;
                case 1:
                    s[at] = interesting[pick(interesting.size())];
                    break;
                case 2:
                    s.insert(at, 1, interesting[pick(interesting.size())]);
                    break;
                case 3:
                    s.erase(at, 1 + pick(3));
                    break;
                case 4:
                    s.insert(at, s.substr(pick(s.size()), 1 + pick(20)));
                    break;
                default:
                    s.resize(at);
                    break;
            }
        }
        http_limits limits;
        if (pick(4) == 0) {
            limits.max_head_bytes = 1 + pick(400);
            limits.max_header_count = pick(20);
            limits.max_body_bytes = pick(10);
        }
        // Exact-size allocation: ASan flags any read past the end.
        const std::vector<char> bytes(s.begin(), s.end());
        const std::string_view buffer(bytes.data(), bytes.size());
        SCOPED_TRACE(testing::PrintToString(s));
        http_request_head head;
        const result r = parse(buffer, head, limits);
        switch (r.status) {
            case parse_status::complete: {
                ++complete;
                EXPECT_EQ(r.error, http_error::none);
                check_consistent(buffer, head, limits);
                // The head alone parses the same, and one byte less is incomplete.
                http_request_head again;
                const std::string_view head_only = buffer.substr(0, head.head_bytes);
                ASSERT_EQ(parse(head_only, again, limits).status, parse_status::complete);
                EXPECT_EQ(again.head_bytes, head.head_bytes);
                EXPECT_EQ(again.header_count, head.header_count);
                EXPECT_EQ(parse(head_only.substr(0, head_only.size() - 1), again, limits).status,
                          parse_status::incomplete);
                // A hint from any incomplete prefix gives the same answer.
                const size_t cut = pick(head.head_bytes);
                if (parse(buffer.substr(0, cut), again, limits).status ==
                    parse_status::incomplete) {
                    ASSERT_EQ(parse(buffer, again, limits, cut).status, parse_status::complete);
                    EXPECT_EQ(again.head_bytes, head.head_bytes);
                }
                break;
            }
            case parse_status::incomplete:
                EXPECT_EQ(r.error, http_error::none);
                EXPECT_LE(buffer.size(), limits.max_head_bytes);
                break;
            case parse_status::error:
                ++errors;
                EXPECT_NE(r.error, http_error::none);
                EXPECT_GE(to_http_status(r.error), 400);
                break;
        }
    }
    // The mutations must exercise both outcomes, or this test checks little.
    EXPECT_GT(complete, 300u);
    EXPECT_GT(errors, 1000u);
}

}  // namespace
}  // namespace obsrv::ingress
