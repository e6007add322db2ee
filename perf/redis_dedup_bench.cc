// Throughput of the dedup stage's stores (src/pipeline/dedup_store.h), in events per second.
//
//   redis_reserve_unique/B      redis_dedup_store::reserve() of B fresh keys per call (one
//                               pipelined round trip of B `SET NX EX`) against a local
//                               redis-server started by the bench (loopback, no persistence)
//   redis_reserve_duplicate/B   the same keys again: every verdict is duplicate
//   shared_reserve_unique/B     shared_dedup_window::reserve() + commit(), for comparison
//
// The Redis figures include the server's work: on a 2-core machine the bench and
// redis-server each take one core. Items are events.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "pipeline/redis_dedup_store.h"
#include "pipeline/shared_dedup_window.h"
#include "redis/client.h"
#include "redis_server.h"

namespace {

using obsrv::pipeline::dedup_probe;
using obsrv::pipeline::dedup_verdict;
using obsrv::pipeline::redis_dedup_store;
using obsrv::pipeline::shared_dedup_window;
using obsrv::testing::redis_server;

constexpr int64_t k_now = 1'700'000'000'000;
// Long enough to outlive a run, short enough that Redis drops the keys soon after.
constexpr int64_t k_period_ms = 60'000;

redis_server* server() {
    static std::unique_ptr<redis_server> instance = [] {
        auto s = redis_server::launch();
        if (!s) {
            std::fprintf(stderr, "redis_dedup_bench: %s\n", s.error().message.c_str());
            return std::unique_ptr<redis_server>();
        }
        return std::move(*s);
    }();
    return instance.get();
}

redis_dedup_store make_store(const redis_server& s) {
    obsrv::pipeline::redis_dedup_store_options o;
    o.host = s.host();
    o.port = s.port();
    return redis_dedup_store(o);
}

void flush_db(const redis_server& s) {
    obsrv::redis::client c({.host = s.host(), .port = s.port(), .db = 2});
    (void)c.command({"FLUSHDB"});
}

/// Keys like a telemetry `mid` (36 characters), numbered from `first`.
std::vector<std::string> mids(uint64_t first, size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (uint64_t i = first; i < first + n; ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%08llx-4f1c-4b7e-9c2d-%012llx",
                      static_cast<unsigned long long>((i * 2654435761u) & 0xffffffffu),
                      static_cast<unsigned long long>(i));
        out.emplace_back(buf);
    }
    return out;
}

std::vector<dedup_probe> probes_of(const std::vector<std::string>& keys) {
    std::vector<dedup_probe> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
        out.push_back({"telemetry", k, k_period_ms, {}});
    }
    return out;
}

void redis_reserve_unique(benchmark::State& state) {
    redis_server* s = server();
    if (s == nullptr) {
        state.SkipWithError("redis-server unavailable");
        return;
    }
    flush_db(*s);
    const auto batch = static_cast<size_t>(state.range(0));
    redis_dedup_store store = make_store(*s);
    std::vector<dedup_verdict> verdicts(batch);
    // Fresh keys for every call, made outside the timed region in slabs.
    constexpr size_t k_slab = 100'000;
    uint64_t next = 0;
    std::vector<std::string> keys;
    std::vector<dedup_probe> probes;
    size_t at = k_slab;
    uint64_t duplicates = 0;
    for (auto _ : state) {
        if (at + batch > keys.size()) {
            state.PauseTiming();
            keys = mids(next, std::max(k_slab, batch));
            next += keys.size();
            probes = probes_of(keys);
            at = 0;
            state.ResumeTiming();
        }
        auto st = store.reserve(std::span(probes).subspan(at, batch), verdicts, k_now);
        if (!st) {
            state.SkipWithError(st.error().message.c_str());
            return;
        }
        for (dedup_verdict v : verdicts) {
            duplicates += v == dedup_verdict::duplicate;
        }
        at += batch;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
    state.counters["duplicates"] = static_cast<double>(duplicates);  // expected 0
    flush_db(*s);
}
BENCHMARK(redis_reserve_unique)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

void redis_reserve_duplicate(benchmark::State& state) {
    redis_server* s = server();
    if (s == nullptr) {
        state.SkipWithError("redis-server unavailable");
        return;
    }
    flush_db(*s);
    const auto batch = static_cast<size_t>(state.range(0));
    redis_dedup_store store = make_store(*s);
    const auto keys = mids(0, batch);
    const auto probes = probes_of(keys);
    std::vector<dedup_verdict> verdicts(batch);
    (void)store.reserve(probes, verdicts, k_now);  // reserved once: duplicates from here on
    uint64_t unique = 0;
    for (auto _ : state) {
        auto st = store.reserve(probes, verdicts, k_now);
        if (!st) {
            state.SkipWithError(st.error().message.c_str());
            return;
        }
        for (dedup_verdict v : verdicts) {
            unique += v == dedup_verdict::unique;
        }
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
    state.counters["unique"] = static_cast<double>(unique);  // expected 0
    flush_db(*s);
}
BENCHMARK(redis_reserve_duplicate)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

void shared_reserve_unique(benchmark::State& state) {
    const auto batch = static_cast<size_t>(state.range(0));
    shared_dedup_window window;
    std::vector<dedup_verdict> verdicts(batch);
    constexpr size_t k_slab = 100'000;
    uint64_t next = 0;
    std::vector<std::string> keys;
    std::vector<dedup_probe> probes;
    size_t at = k_slab;
    for (auto _ : state) {
        if (at + batch > keys.size()) {
            state.PauseTiming();
            keys = mids(next, std::max(k_slab, batch));
            next += keys.size();
            probes = probes_of(keys);
            at = 0;
            state.ResumeTiming();
        }
        const auto part = std::span(probes).subspan(at, batch);
        auto st = window.reserve(part, verdicts, k_now);
        benchmark::DoNotOptimize(st);
        window.commit(part, k_now);
        at += batch;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}
BENCHMARK(shared_reserve_unique)->Arg(1)->Arg(100)->Arg(1000);

}  // namespace
