// Throughput of the per-request ingest work of the gateway: validating a ~40 KB body of 100
// events (against a plain simdjson parse as the baseline), building the Kafka message,
// rendering the response, and decoding a body sent with Content-Encoding gzip or deflate
// (bytes/s counts the decoded bytes).
//
// Bodies: /tmp/peers-work/bodies-v2/*.json from /work/shared/bench/genbody.py (override the
// directory with OBSRV_BENCH_BODIES) when present; otherwise similar bodies generated here (CI
// has no shared workload). Arg 0 = genbody's shape ("data" is an object holding an "events"
// array: one Kafka "event"), arg 1 = the same 100 events as a "data" array (batch message).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "common/deflate_compress.h"
#include "ingress/api_response.h"
#include "ingress/content_coding.h"
#include "ingress/ingest_message.h"
#include "ingress/ingest_request.h"
#include "ingress/json_check.h"

namespace {

using namespace obsrv::ingress;

constexpr std::size_t k_max_body = 1 << 20;
constexpr int k_events_per_body = 100;

struct body {
    std::string storage;  // text followed by k_body_padding bytes
    std::size_t size = 0;
    std::size_t events = 0;
    std::string_view view() const { return {storage.data(), size}; }
};

body make_body(std::string text, std::size_t events) {
    body b;
    b.size = text.size();
    b.events = events;
    b.storage = std::move(text);
    b.storage.append(k_body_padding, ' ');
    return b;
}

// An event like genbody.py's (~400 bytes).
std::string make_event(std::mt19937_64& rng, int body_index, int i) {
    static const char* eids[] = {"INTERACT", "IMPRESSION", "START", "END", "LOG", "SEARCH"};
    static const char* pages[] = {"home",    "content-detail", "library",
                                  "profile", "search-results", "player"};
    const auto hex = [&](int n) {
        std::string s;
        for (int k = 0; k < n; ++k) {
            s += "0123456789abcdef"[rng() & 15];
        }
        return s;
    };
    char buf[1024];
    std::snprintf(
        buf, sizeof(buf),
        R"({"eid":"%s","ets":%lld,"ver":"3.0","mid":"req-%d-ev-%d-%s","actor":{"id":"user-%06d",)"
        R"("type":"User"},"context":{"channel":"in.bench","pdata":{"id":"bench.app",)"
        R"("ver":"5.1.%d"},"sid":"%s-%s-%s","did":"%s"},"object":{"id":"do_%lld",)"
        R"("type":"Content"},"edata":{"type":"TOUCH","pageid":"%s","duration":%.3f,)"
        R"("pos":{"x":%d,"y":%d}}})",
        eids[rng() % 6], static_cast<long long>(1700000000000 + body_index * 100 + i), body_index,
        i, hex(8).c_str(), static_cast<int>(rng() % 1000000), static_cast<int>(rng() % 10),
        hex(8).c_str(), hex(4).c_str(), hex(12).c_str(), hex(16).c_str(),
        static_cast<long long>(1000000000000 + rng() % 9000000000000), pages[rng() % 6],
        static_cast<double>(rng() % 600000) / 1000.0, static_cast<int>(rng() % 2000),
        static_cast<int>(rng() % 2000));
    return buf;
}

std::string envelope(int n, const std::string& data) {
    return R"({"id":"api.data.in","ver":"v2","ts":"2023-11-14T22:13:20+05:30",)"
           R"("params":{"msgid":"req-)" +
           std::to_string(n) + R"("},"data":)" + data + "}";
}

// Extracts the events array of a genbody body, to build the array-shaped variant.
std::string events_of(std::string_view text) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
        return "[]";
    }
    simdjson::dom::element events;
    if (root["data"]["events"].get(events) != simdjson::SUCCESS) {
        return "[]";
    }
    return simdjson::minify(events);
}

struct workload {
    std::vector<body> object_bodies;
    std::vector<body> array_bodies;
    bool from_files = false;
};

const workload& bodies() {
    static const workload w = [] {
        workload out;
        const char* env = std::getenv("OBSRV_BENCH_BODIES");
        const std::filesystem::path dir = env != nullptr ? env : "/tmp/peers-work/bodies-v2";
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".json") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        if (files.size() > 20) {
            files.resize(20);
        }
        int n = 0;
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            std::string text = ss.str();
            std::string events = events_of(text);
            out.array_bodies.push_back(make_body(envelope(n, events), k_events_per_body));
            out.object_bodies.push_back(make_body(std::move(text), k_events_per_body));
            ++n;
        }
        out.from_files = !out.object_bodies.empty();
        if (!out.from_files) {
            std::mt19937_64 rng(42);
            for (n = 0; n < 20; ++n) {
                std::string events = "[";
                for (int i = 0; i < k_events_per_body; ++i) {
                    events += (i != 0 ? "," : "");
                    events += make_event(rng, n, i);
                }
                events += "]";
                const std::string rid = "req-" + std::to_string(n);
                out.object_bodies.push_back(
                    make_body(envelope(n, R"({"id":")" + rid + R"(","events":)" + events + "}"),
                              k_events_per_body));
                out.array_bodies.push_back(make_body(envelope(n, events), k_events_per_body));
            }
        }
        return out;
    }();
    return w;
}

const std::vector<body>& pick(const benchmark::State& state) {
    return state.range(0) == 0 ? bodies().object_bodies : bodies().array_bodies;
}

void set_rates(benchmark::State& state, std::int64_t bytes, std::int64_t requests,
               std::int64_t events) {
    state.SetBytesProcessed(bytes);
    state.counters["req/s"] =
        benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
    state.counters["events/s"] =
        benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(bodies().from_files ? "genbody.py bodies" : "generated bodies") +
                   ", minify: " + std::string(minifier_name()));
}

// Runs `per_body` on the bodies in turn, one per iteration, and reports the rates; `per_body`
// returns false for a body it refuses, which stops the benchmark with an error.
template <typename PerBody>
void over_bodies(benchmark::State& state, const std::vector<body>& list, PerBody&& per_body) {
    std::size_t i = 0;
    std::int64_t bytes = 0, events = 0, requests = 0;
    for (auto _ : state) {
        const body& b = list[i++ % list.size()];
        if (!per_body(b)) {
            state.SkipWithError("invalid body");
            return;
        }
        bytes += static_cast<std::int64_t>(b.size);
        events += static_cast<std::int64_t>(b.events);
        ++requests;
    }
    set_rates(state, bytes, requests, events);
}

void BM_ParseBaseline(benchmark::State& state) {
    const auto& list = pick(state);
    simdjson::dom::parser parser(k_max_body);
    if (parser.allocate(k_max_body) != simdjson::SUCCESS) {
        state.SkipWithError("allocate");
        return;
    }
    over_bodies(state, list, [&](const body& b) {
        simdjson::dom::element root;
        auto error =
            parser.parse(reinterpret_cast<const std::uint8_t*>(b.storage.data()), b.size, false)
                .get(root);
        benchmark::DoNotOptimize(error);
        return true;
    });
}

// json_checker alone: stage 1 and the grammar walk, no tape (what replaced the parse).
void BM_Check(benchmark::State& state) {
    const auto& list = pick(state);
    simdjson::dom::parser parser(k_max_body);
    if (parser.allocate(k_max_body) != simdjson::SUCCESS) {
        state.SkipWithError("allocate");
        return;
    }
    json_checker checker(parser);
    over_bodies(state, list, [&](const body& b) { return checker.check(b.view()); });
}

// Arg 2: the request validator on its DOM path only (the reference the outline path matches).
void BM_Validate(benchmark::State& state) {
    const auto& list = state.range(0) == 2 ? bodies().array_bodies : pick(state);
    request_validator validator(k_max_body, state.range(0) == 2);
    over_bodies(state, list, [&](const body& b) {
        ingest_request req;
        auto status = validator.validate(b.view(), req);
        benchmark::DoNotOptimize(status);
        return status == validation_status::ok;
    });
}

// Validation cost relative to a bare parse of the same bodies, measured back to back.
void BM_ValidateOverParse(benchmark::State& state) {
    const auto& list = pick(state);
    request_validator validator(k_max_body);
    simdjson::dom::parser parser(k_max_body);
    if (parser.allocate(k_max_body) != simdjson::SUCCESS) {
        state.SkipWithError("allocate");
        return;
    }
    using clock = std::chrono::steady_clock;
    clock::duration parse_time{};
    clock::duration validate_time{};
    std::size_t i = 0;
    for (auto _ : state) {
        const body& b = list[i++ % list.size()];
        // Alternate which one runs first so neither always finds the body warm in cache.
        for (int turn = 0; turn < 2; ++turn) {
            const bool parse_turn = (turn == 0) == (i % 2 == 0);
            const auto t0 = clock::now();
            if (parse_turn) {
                simdjson::dom::element root;
                auto error = parser
                                 .parse(reinterpret_cast<const std::uint8_t*>(b.storage.data()),
                                        b.size, false)
                                 .get(root);
                benchmark::DoNotOptimize(error);
                parse_time += clock::now() - t0;
            } else {
                ingest_request req;
                auto status = validator.validate(b.view(), req);
                benchmark::DoNotOptimize(status);
                validate_time += clock::now() - t0;
            }
        }
    }
    state.counters["validate/parse"] =
        static_cast<double>(validate_time.count()) /
        static_cast<double>(std::max<clock::rep>(1, parse_time.count()));
}

void BM_Build(benchmark::State& state) {
    const auto& list = pick(state);
    // One validator per body: build only reads the request, whose views stay valid.
    std::vector<std::unique_ptr<request_validator>> validators;
    std::vector<ingest_request> requests(list.size());
    std::size_t bound = 0;
    const message_params params{"telemetry", "events", "id", 1711966306164};
    for (std::size_t k = 0; k < list.size(); ++k) {
        validators.push_back(std::make_unique<request_validator>(k_max_body));
        if (validators.back()->validate(list[k].view(), requests[k]) != validation_status::ok) {
            state.SkipWithError("invalid body");
            return;
        }
        bound = std::max(bound, message_size_upper_bound(requests[k], params));
    }
    std::unique_ptr<char[]> buf(new char[bound]);
    std::size_t i = 0;
    std::int64_t bytes = 0, events = 0, count = 0;
    for (auto _ : state) {
        const std::size_t k = i++ % list.size();
        const std::size_t n = build_message(requests[k], params, buf.get());
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
        bytes += static_cast<std::int64_t>(list[k].size);
        events += static_cast<std::int64_t>(list[k].events);
        ++count;
    }
    set_rates(state, bytes, count, events);
}

// What a worker does per request before producing: validate, size, malloc, build (the buffer
// goes to librdkafka with RD_KAFKA_MSG_F_FREE; freed here).
void BM_ValidateAndBuild(benchmark::State& state) {
    const auto& list = pick(state);
    request_validator validator(k_max_body);
    over_bodies(state, list, [&](const body& b) {
        ingest_request req;
        if (validator.validate(b.view(), req) != validation_status::ok) {
            return false;
        }
        const message_params params{"telemetry", "events", "id", 1711966306164};
        char* buf = static_cast<char*>(std::malloc(message_size_upper_bound(req, params)));
        const std::size_t n = build_message(req, params, buf);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(buf);
        std::free(buf);
        return true;
    });
}

void BM_RenderSuccess(benchmark::State& state) {
    id_source ids;
    std::string out;
    out.reserve(512);
    std::int64_t requests = 0;
    for (auto _ : state) {
        const std::int64_t now = id_source::now_ms();
        const response_meta meta{ids.iso_timestamp(now), ids.next_uuid_v4(),
                                 response_msgid::of_string("req-12345")};
        const int status = render_success(out, meta);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(out.data());
        ++requests;
    }
    state.counters["req/s"] =
        benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
}

void BM_RenderInvalidInput(benchmark::State& state) {
    id_source ids;
    std::string out;
    out.reserve(512);
    for (auto _ : state) {
        const std::int64_t now = id_source::now_ms();
        const response_meta meta{ids.iso_timestamp(now), ids.next_uuid_v4(),
                                 response_msgid::of_string("req-12345")};
        const int status =
            render_invalid_input(out, meta, "#required must have required property 'id'");
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(out.data());
    }
}

// Arg 0: gzip, 1: deflate; the array-shaped bodies.
void BM_Decode(benchmark::State& state) {
    const bool gzip = state.range(0) == 0;
    const auto& list = bodies().array_bodies;
    std::vector<std::string> encoded;
    std::int64_t encoded_bytes = 0;
    for (const auto& b : list) {
        encoded.push_back(obsrv::deflate_compress(
            b.view(), gzip ? obsrv::deflate_wrapper::gzip : obsrv::deflate_wrapper::zlib));
        encoded_bytes += static_cast<std::int64_t>(encoded.back().size());
    }
    body_decoder decoder(k_max_body);
    std::size_t i = 0;
    over_bodies(state, list, [&](const body&) {
        // over_bodies counts list[i]'s decoded size; encoded[i] is that body compressed.
        return decoder.decode(gzip ? content_coding::gzip : content_coding::deflate,
                              encoded[i++ % encoded.size()]) == body_decode_status::ok;
    });
    std::int64_t decoded_bytes = 0;
    for (const auto& b : list) {
        decoded_bytes += static_cast<std::int64_t>(b.size);
    }
    state.counters["ratio"] =
        static_cast<double>(decoded_bytes) / static_cast<double>(encoded_bytes);
}

BENCHMARK(BM_ParseBaseline)->Arg(0)->Arg(1);
BENCHMARK(BM_Check)->Arg(0)->Arg(1);
BENCHMARK(BM_Validate)->Arg(0)->Arg(1)->Arg(2);
BENCHMARK(BM_ValidateOverParse)->Arg(0)->Arg(1);
BENCHMARK(BM_Build)->Arg(0)->Arg(1);
BENCHMARK(BM_ValidateAndBuild)->Arg(0)->Arg(1);
BENCHMARK(BM_RenderSuccess);
BENCHMARK(BM_RenderInvalidInput);
BENCHMARK(BM_Decode)->Arg(0)->Arg(1);

}  // namespace
