#pragma once

// One stage worker of the pipeline runtime (thread `pipe-N`): it owns a message_processor and
// a producer, takes the messages of its partitions from an SPSC ring, produces their outputs,
// serves the delivery reports on its own thread and publishes each partition's committable
// offset (the low-water mark of fully delivered inputs) for the consumer thread to commit.
//
// Lifecycle: create() builds the producer; start() launches the thread; drain() asks it to
// finish what it was handed until a deadline, then abandon the rest and end; join() waits for
// the thread; the destructor frees the producer (after the thread ended). Not part of the API:
// pipeline_runtime is its only user.
//
// Threads: push()/notify() from the consumer thread only (the ring's producer side);
// drain(), done(), inflight_inputs(), ring_depth() from any thread; everything else runs on
// the worker thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/result.h"
#include "common/spsc_ring.h"
#include "kafka/client.h"
#include "pipeline/message_processor.h"
#include "pipeline/runtime_shared.h"

namespace obsrv::pipeline::detail {

struct worker_config {
    int index = 0;
    size_t ring_capacity = 1024;
    size_t max_inflight_inputs = 10000;
    int producer_high_water = 50000;
    std::chrono::milliseconds retry_backoff{1000};
    std::chrono::milliseconds tick_interval{100};
    std::string thread_prefix = "pipe";  // thread "<prefix>-<index>"
};

class pipeline_worker {
  public:
    static result<std::unique_ptr<pipeline_worker>> create(
        const worker_config& config, kafka::client_options producer_options,
        std::unique_ptr<message_processor> processor, runtime_probe& probe);
    ~pipeline_worker();

    pipeline_worker(const pipeline_worker&) = delete;
    pipeline_worker& operator=(const pipeline_worker&) = delete;

    void start();

    /// Consumer thread: queues an item; false when the ring is full (the item is untouched).
    bool try_push(const work_item& item) { return _ring.try_push(item); }
    /// Consumer thread: wakes the worker if it sleeps (after one or more pushes).
    void notify();

    /// Any thread: finish what was handed over, deliver, then end; past `deadline`, abandon
    /// the inputs not fully delivered and drop the messages not processed yet.
    void drain(std::chrono::steady_clock::time_point deadline);
    /// Any thread: the worker ended and holds no message or slot any more.
    bool done() const { return _done.load(std::memory_order_acquire); }
    void join();

    int64_t inflight_inputs() const { return _inflight.load(std::memory_order_relaxed); }
    size_t ring_depth() const { return _ring.size_approx(); }
    size_t ring_capacity() const { return _ring.capacity(); }

    class state;  // the worker thread's own data (pipeline_worker.cc)

  private:
    pipeline_worker(const worker_config& config, std::unique_ptr<message_processor> processor,
                    runtime_probe& probe);
    void run();
    void wait(std::chrono::milliseconds timeout);

    const worker_config _config;
    spsc_ring<work_item> _ring;
    std::unique_ptr<state> _state;
    std::thread _thread;
    int _wake_fd = -1;

    // Sleeping flag and wake-up: the worker announces it is about to sleep, the consumer
    // writes the eventfd only then (a Dekker pair with seq_cst fences, see notify()), so a
    // busy worker costs the consumer no syscall.
    alignas(64) std::atomic<bool> _sleeping{false};
    std::atomic<bool> _draining{false};
    std::atomic<int64_t> _deadline_ns{0};
    std::atomic<bool> _done{false};
    std::atomic<int64_t> _inflight{0};
};

}  // namespace obsrv::pipeline::detail
