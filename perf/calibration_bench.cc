// Reference workloads for tools/perf-regress. A micro-benchmark's figure is
// compared across runs as a ratio to one of these, measured in the same run,
// so that a machine that is slower or busier today (CPU frequency, a noisy
// neighbour) does not read as a regression of our code.
//
//   calibration_scalar   a dependent chain of integer multiply/xor/shift: tracks
//                        the core's clock and pipeline, like parsing code does
//   calibration_copy     memcpy of 40 KB (the gateway's request size): tracks
//                        cache and memory bandwidth, like copy-bound code does

#include <cstdint>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

namespace {

void calibration_scalar(benchmark::State& state) {
    constexpr int k_steps = 4096;
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (auto _ : state) {
        for (int i = 0; i < k_steps; ++i) {
            // splitmix64's finaliser: each step depends on the last, so the
            // compiler cannot vectorise or reorder the chain away.
            x += 0x9e3779b97f4a7c15ULL;
            x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
            x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
            x ^= x >> 31;
        }
        benchmark::DoNotOptimize(x);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * k_steps);
}
BENCHMARK(calibration_scalar);

void calibration_copy(benchmark::State& state) {
    constexpr std::size_t k_size = 40 * 1024;
    // Rotating over 64 buffer pairs (5 MB) keeps the copy out of L1/L2, as a
    // request body that the kernel has just written is.
    constexpr std::size_t k_slots = 64;
    std::vector<char> from(k_size * k_slots, 'x');
    std::vector<char> to(k_size * k_slots);
    std::size_t slot = 0;
    for (auto _ : state) {
        std::memcpy(to.data() + slot * k_size, from.data() + slot * k_size, k_size);
        benchmark::DoNotOptimize(to.data());
        benchmark::ClobberMemory();
        slot = (slot + 1) % k_slots;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * k_size));
}
BENCHMARK(calibration_copy);

}  // namespace
