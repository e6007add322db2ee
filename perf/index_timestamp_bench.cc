// Throughput of the router's indexTS rule (src/pipeline/index_timestamp.h).
//
//   index_ts_epoch_ms_number      a 13-digit epoch-ms JSON number, no dataset_tz
//   index_ts_epoch_literal_tz     the same number given as its literal, dataset_tz Asia/Kolkata
//   index_ts_pattern_string_tz    "yyyy-MM-dd'T'HH:mm:ss.SSSZ" text, dataset_tz America/New_York
//   index_ts_pattern_no_zone      "yyyy-MM-dd HH:mm:ss" text (default zone UTC), no dataset_tz
// Items are events.

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>

#include "pipeline/index_timestamp.h"

namespace {

using obsrv::pipeline::index_timestamp_rule;
using obsrv::pipeline::index_ts;
using obsrv::pipeline::timestamp_value;

index_timestamp_rule compile(std::optional<std::string_view> format,
                             std::optional<std::string_view> tz) {
    auto r = index_timestamp_rule::compile(format, tz);
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        std::abort();
    }
    return std::move(r).value();
}

void index_ts_epoch_ms_number(benchmark::State& state) {
    const auto rule = compile(std::nullopt, std::nullopt);
    int64_t ms = 1'711'966'530'123;
    for (auto _ : state) {
        index_ts ts = rule.evaluate(timestamp_value::integer(ms++));
        benchmark::DoNotOptimize(ts);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(index_ts_epoch_ms_number);

void index_ts_epoch_literal_tz(benchmark::State& state) {
    const auto rule = compile(std::nullopt, "Asia/Kolkata");
    std::array<std::string, 64> literals;
    for (size_t i = 0; i < literals.size(); ++i) {
        literals[i] = std::to_string(1'711'966'530'123 + static_cast<int64_t>(i) * 3'600'000);
    }
    size_t i = 0;
    for (auto _ : state) {
        index_ts ts = rule.evaluate(timestamp_value::number_literal(literals[i++ & 63]));
        benchmark::DoNotOptimize(ts);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(index_ts_epoch_literal_tz);

// 64 different date-times, as "2024-MM-ddTHH:mm:ss.SSS+0530" or "2024-MM-dd HH:mm:ss".
std::array<std::string, 64> texts(bool iso) {
    std::array<std::string, 64> out;
    for (size_t i = 0; i < out.size(); ++i) {
        char buf[64];
        if (iso) {
            std::snprintf(buf, sizeof buf, "2024-%02zu-%02zuT%02zu:%02zu:%02zu.%03zu+0530",
                          1 + i % 12, 1 + i % 28, i % 24, i % 60, i % 60, i * 7 % 1000);
        } else {
            std::snprintf(buf, sizeof buf, "2024-%02zu-%02zu %02zu:%02zu:%02zu", 1 + i % 12,
                          1 + i % 28, i % 24, i % 60, i % 60);
        }
        out[i] = buf;
    }
    return out;
}

void index_ts_pattern_string_tz(benchmark::State& state) {
    const auto rule = compile("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "America/New_York");
    const auto values = texts(true);
    size_t i = 0;
    for (auto _ : state) {
        index_ts ts = rule.evaluate(timestamp_value::string(values[i++ & 63]));
        benchmark::DoNotOptimize(ts);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(index_ts_pattern_string_tz);

void index_ts_pattern_no_zone(benchmark::State& state) {
    const auto rule = compile("yyyy-MM-dd HH:mm:ss", std::nullopt);
    const auto values = texts(false);
    size_t i = 0;
    for (auto _ : state) {
        index_ts ts = rule.evaluate(timestamp_value::string(values[i++ & 63]));
        benchmark::DoNotOptimize(ts);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(index_ts_pattern_no_zone);

}  // namespace
