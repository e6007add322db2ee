// Throughput of the ingress HTTP/1.1 head parser and chunked-body decoder.
//
//   parse_head/gateway        POST /v2/data/in/<dataset>, 8 headers, ~300 B: the gateway's
//                             common case
//   parse_head/browser        GET with 15 browser headers, ~750 B
//   parse_head_trickled       the gateway head arriving in 16-byte reads, parsed after each with
//                             the already_scanned hint (what a slow client costs)
//   chunked_decode/string     40 KiB body in 4 KiB chunks, appended to a reused std::string
//   chunked_decode/sink       the same with a sink that only counts bytes: decoder overhead
//                             without the copy
// Items are requests (heads or bodies); bytes are input bytes. The comparison with
// nodejs/http-parser lives in a comment at the top of src/ingress/http_parser.h, because that
// library cannot be linked here without a CMake change. Run with --benchmark_repetitions=5 on a
// quiet machine for figures worth quoting.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "ingress/chunked_decoder.h"
#include "ingress/http_parser.h"

namespace {

using obsrv::ingress::chunked_decoder;
using obsrv::ingress::chunked_limits;
using obsrv::ingress::decode_status;
using obsrv::ingress::http_error;
using obsrv::ingress::http_limits;
using obsrv::ingress::http_request_head;
using obsrv::ingress::parse_request_head;
using obsrv::ingress::parse_status;

const std::string k_gateway_head =
    "POST /v2/data/in/telemetry-device-events HTTP/1.1\r\n"
    "Host: obsrv-ingest:8080\r\n"
    "User-Agent: obsrv-sdk-java/2.3.1\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 1834\r\n"
    "Accept: application/json\r\n"
    "X-Request-ID: 5b1c7d2e-8f3a-4e6b-9c0d-1a2b3c4d5e6f\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2FtcGxl.c2ln\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

const std::string k_browser_head =
    "GET /console/datasets/telemetry-device-events?tab=metrics&range=24h HTTP/1.1\r\n"
    "Host: obsrv.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://obsrv.example.com/console/datasets\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Cookie: obsrv_session=7f3c2a9e51b44d0e9a613c1d2e8b9f00; theme=dark; tz=UTC\r\n"
    "\r\n";

void parse_head(benchmark::State& state, const std::string& input) {
    const http_limits limits;
    http_request_head head;
    http_error error = http_error::none;
    for (auto _ : state) {
        std::string_view buffer = input;
        benchmark::DoNotOptimize(buffer);
        const parse_status status = parse_request_head(buffer, limits, head, error);
        if (status != parse_status::complete) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(head);
    }
    state.SetLabel(std::to_string(input.size()) + " B, " + std::to_string(head.header_count) +
                   " headers");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK_CAPTURE(parse_head, gateway, k_gateway_head);
BENCHMARK_CAPTURE(parse_head, browser, k_browser_head);

void parse_head_trickled(benchmark::State& state) {
    constexpr size_t k_read = 16;
    const std::string& input = k_gateway_head;
    const http_limits limits;
    http_request_head head;
    http_error error = http_error::none;
    for (auto _ : state) {
        size_t scanned = 0;
        parse_status status = parse_status::incomplete;
        for (size_t size = k_read; status == parse_status::incomplete; size += k_read) {
            const std::string_view buffer(input.data(), std::min(size, input.size()));
            status = parse_request_head(buffer, limits, head, error, scanned);
            scanned = buffer.size();
        }
        if (status != parse_status::complete) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(head);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(parse_head_trickled);

std::string make_chunked_body(size_t total, size_t chunk) {
    std::string body;
    for (size_t done = 0; done < total; done += chunk) {
        const size_t n = std::min(chunk, total - done);
        char size_line[32];
        const int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
        body.append(size_line, static_cast<size_t>(len));
        for (size_t i = 0; i < n; ++i) {
            body.push_back(static_cast<char>('a' + (done + i) % 26));
        }
        body += "\r\n";
    }
    return body + "0\r\n\r\n";
}

void chunked_decode(benchmark::State& state, bool to_string) {
    const std::string input = make_chunked_body(40 * 1024, 4 * 1024);
    chunked_decoder decoder(chunked_limits{});
    std::string out;
    out.reserve(64 * 1024);
    uint64_t counted = 0;
    for (auto _ : state) {
        decoder.reset();
        out.clear();
        size_t consumed = 0;
        const decode_status status =
            to_string ? decoder.feed(input, consumed, out)
                      : decoder.feed(input, consumed,
                                     [&counted](std::string_view run) { counted += run.size(); });
        if (status != decode_status::complete) {
            state.SkipWithError("decode failed");
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::DoNotOptimize(counted);
    }
    state.SetLabel(to_string ? "std::string" : "counting sink");
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK_CAPTURE(chunked_decode, string, true);
BENCHMARK_CAPTURE(chunked_decode, sink, false);

}  // namespace
