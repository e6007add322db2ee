// Throughput of obsrv::spsc_ring against a mutex + std::deque queue measured in the same run,
// so that the interesting figure is the ratio, not the absolute number (which depends on the
// machine and on whatever else it is running).
//
//   single_thread_round_trip    push then pop on one thread: the uncontended cost of the code
//   two_thread/...              producer on a spawned thread, consumer in the benchmark loop
//       singles                 try_push / try_pop one item at a time
//       batch16                 try_push_batch / pop_batch of 16, the io_uring worker and
//                               pipeline pattern
// Every two-thread case moves k_items_per_iteration items per iteration and reports items/s
// and ns per item (per_item) on wall-clock time. Run with --benchmark_repetitions=5 on a quiet
// machine for figures worth quoting.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <span>
#include <thread>

#include <benchmark/benchmark.h>

#include "common/spsc_ring.h"

namespace {

constexpr size_t k_capacity = 1024;
constexpr size_t k_batch = 16;
constexpr uint64_t k_items_per_iteration = 4096;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Same bounded try_* interface as the ring, so the two-thread drivers below are shared and the
// comparison differs only in the queue.
class mutex_deque_queue {
  public:
    explicit mutex_deque_queue(size_t capacity) : _capacity(capacity) {}

    bool try_push(uint64_t v) {
        std::lock_guard lock(_mutex);
        if (_items.size() == _capacity) {
            return false;
        }
        _items.push_back(v);
        return true;
    }

    bool try_pop(uint64_t& out) {
        std::lock_guard lock(_mutex);
        if (_items.empty()) {
            return false;
        }
        out = _items.front();
        _items.pop_front();
        return true;
    }

    size_t try_push_batch(std::span<uint64_t> items) {
        std::lock_guard lock(_mutex);
        const size_t n = std::min(items.size(), _capacity - _items.size());
        _items.insert(_items.end(), items.begin(), items.begin() + static_cast<ptrdiff_t>(n));
        return n;
    }

    size_t pop_batch(std::span<uint64_t> out) {
        std::lock_guard lock(_mutex);
        const size_t n = std::min(out.size(), _items.size());
        std::copy_n(_items.begin(), n, out.begin());
        _items.erase(_items.begin(), _items.begin() + static_cast<ptrdiff_t>(n));
        return n;
    }

  private:
    std::mutex _mutex;
    std::deque<uint64_t> _items;
    size_t _capacity;
};

// Pins the calling thread to one CPU (when there are at least two) and restores the previous
// mask on scope exit: without it the scheduler may stack both threads on one core and the
// figure measures context switches, not the queue.
class scoped_cpu_pin {
  public:
    explicit scoped_cpu_pin(int cpu) {
        _pinned = std::thread::hardware_concurrency() >= 2 &&
                  ::pthread_getaffinity_np(::pthread_self(), sizeof(_saved), &_saved) == 0;
        if (_pinned) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            _pinned = ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set) == 0;
        }
    }
    ~scoped_cpu_pin() {
        if (_pinned) {
            ::pthread_setaffinity_np(::pthread_self(), sizeof(_saved), &_saved);
        }
    }
    scoped_cpu_pin(const scoped_cpu_pin&) = delete;
    scoped_cpu_pin& operator=(const scoped_cpu_pin&) = delete;

  private:
    cpu_set_t _saved{};
    bool _pinned = false;
};

void report(benchmark::State& state, uint64_t items) {
    state.SetItemsProcessed(static_cast<int64_t>(items));
    state.counters["per_item"] = benchmark::Counter(
        static_cast<double>(items), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_ring_single_thread_round_trip(benchmark::State& state) {
    obsrv::spsc_ring<uint64_t> ring(k_capacity);
    uint64_t i = 0;
    uint64_t out = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ring.try_push(i++));
        benchmark::DoNotOptimize(ring.try_pop(out));
        benchmark::DoNotOptimize(out);
    }
    report(state, static_cast<uint64_t>(state.iterations()));
}
BENCHMARK(BM_ring_single_thread_round_trip);

void BM_mutex_single_thread_round_trip(benchmark::State& state) {
    mutex_deque_queue queue(k_capacity);
    uint64_t i = 0;
    uint64_t out = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(queue.try_push(i++));
        benchmark::DoNotOptimize(queue.try_pop(out));
        benchmark::DoNotOptimize(out);
    }
    report(state, static_cast<uint64_t>(state.iterations()));
}
BENCHMARK(BM_mutex_single_thread_round_trip);

// The producer free-runs on its own thread until told to stop; the benchmark loop is the
// consumer and each iteration drains k_items_per_iteration items. The consumer checks the
// sequence (cheaply) so that a broken queue cannot post a good number.
template <typename Queue>
void two_thread_singles(benchmark::State& state) {
    Queue queue(k_capacity);
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        const scoped_cpu_pin pin(0);
        uint64_t next = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            if (queue.try_push(next)) {
                ++next;
            } else {
                cpu_relax();
            }
        }
    });
    const scoped_cpu_pin pin(1);
    uint64_t expected = 0;
    for (auto _ : state) {
        for (uint64_t n = 0; n < k_items_per_iteration;) {
            uint64_t v = 0;
            if (queue.try_pop(v)) {
                benchmark::DoNotOptimize(v);
                if (v != expected) {
                    state.SkipWithError("out of order");
                    break;
                }
                ++expected;
                ++n;
            } else {
                cpu_relax();
            }
        }
    }
    stop.store(true, std::memory_order_relaxed);
    producer.join();
    report(state, expected);
}

template <typename Queue>
void two_thread_batch16(benchmark::State& state) {
    Queue queue(k_capacity);
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        const scoped_cpu_pin pin(0);
        std::array<uint64_t, k_batch> batch{};
        uint64_t next = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (auto& v : batch) {
                v = next++;
            }
            std::span<uint64_t> rest(batch);
            while (!rest.empty() && !stop.load(std::memory_order_relaxed)) {
                rest = rest.subspan(queue.try_push_batch(rest));
                if (!rest.empty()) {
                    cpu_relax();
                }
            }
        }
    });
    const scoped_cpu_pin pin(1);
    std::array<uint64_t, k_batch> out{};
    uint64_t expected = 0;
    for (auto _ : state) {
        for (uint64_t n = 0; n < k_items_per_iteration;) {
            const size_t got = queue.pop_batch(out);
            if (got == 0) {
                cpu_relax();
                continue;
            }
            benchmark::DoNotOptimize(out.data());
            if (out[0] != expected || out[got - 1] != expected + got - 1) {
                state.SkipWithError("out of order");
                break;
            }
            expected += got;
            n += got;
        }
    }
    stop.store(true, std::memory_order_relaxed);
    producer.join();
    report(state, expected);
}

void BM_ring_two_thread_singles(benchmark::State& state) {
    two_thread_singles<obsrv::spsc_ring<uint64_t>>(state);
}
void BM_mutex_two_thread_singles(benchmark::State& state) {
    two_thread_singles<mutex_deque_queue>(state);
}
void BM_ring_two_thread_batch16(benchmark::State& state) {
    two_thread_batch16<obsrv::spsc_ring<uint64_t>>(state);
}
void BM_mutex_two_thread_batch16(benchmark::State& state) {
    two_thread_batch16<mutex_deque_queue>(state);
}
BENCHMARK(BM_ring_two_thread_singles)->UseRealTime();
BENCHMARK(BM_mutex_two_thread_singles)->UseRealTime();
BENCHMARK(BM_ring_two_thread_batch16)->UseRealTime();
BENCHMARK(BM_mutex_two_thread_batch16)->UseRealTime();

}  // namespace
