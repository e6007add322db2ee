// Throughput of the dedup stage's window (src/pipeline/dedup_window.h).
//
//   dedup_key_400B_event     hashing a key the size of a telemetry mid (36 B) with its
//                            dataset id: the per-event cost before the lookup
//   dedup_unique/N           check_and_reserve + commit of fresh keys into a window holding N
//                            entries (steady state: each insert expires or evicts one)
//   dedup_duplicate          check_and_reserve of keys already in the window
// Items are events.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "pipeline/dedup_window.h"

namespace {

using obsrv::pipeline::dedup_key;
using obsrv::pipeline::dedup_window;
using obsrv::pipeline::make_dedup_key;

std::vector<std::string> mids(size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        char buf[64];  // two 64-bit values in hex at most: 16 + 16 + 20 + NUL
        std::snprintf(buf, sizeof buf, "%08zx-4f1c-4b7e-9c2d-%012zx", i * 2654435761u, i);
        out.emplace_back(buf);
    }
    return out;
}

void dedup_key_400B_event(benchmark::State& state) {
    const auto keys = mids(4096);
    size_t i = 0;
    for (auto _ : state) {
        dedup_key k = make_dedup_key("telemetry", keys[i++ & 4095]);
        benchmark::DoNotOptimize(k);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(dedup_key_400B_event);

void dedup_unique(benchmark::State& state) {
    const auto capacity = static_cast<size_t>(state.range(0));
    dedup_window w({.max_entries = capacity});
    int64_t now = 1'700'000'000'000;
    uint64_t n = 0;
    for (auto _ : state) {
        dedup_key k{n * 0x9e3779b97f4a7c15ULL, n};
        ++n;
        auto v = w.check_and_reserve(k, now, 3'600'000);
        w.commit(k);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["evicted"] = static_cast<double>(w.stats().evicted);
}
BENCHMARK(dedup_unique)->Arg(100'000)->Arg(1'000'000);

void dedup_duplicate(benchmark::State& state) {
    dedup_window w;
    constexpr uint64_t k_keys = 100'000;
    for (uint64_t n = 0; n < k_keys; ++n) {
        w.check_and_reserve({n * 0x9e3779b97f4a7c15ULL, n}, 0, 3'600'000);
    }
    uint64_t n = 0;
    for (auto _ : state) {
        const uint64_t i = n++ % k_keys;
        auto v = w.check_and_reserve({i * 0x9e3779b97f4a7c15ULL, i}, 1, 3'600'000);
        benchmark::DoNotOptimize(v);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(dedup_duplicate);

}  // namespace
