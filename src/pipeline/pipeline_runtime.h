#pragma once

// The Kafka side of the pipeline role, in place of Obsrv's Flink job runtime: consume the entry
// topics as a consumer group, run every message through a message_processor on a worker thread,
// produce its outputs, and commit an input's offset only after all of its outputs were
// delivered (at-least-once).
//
//                       +--> ring --> pipe-0: process() -> produce -> delivery -> complete()
//   pipe-consumer ------+--> ring --> pipe-1: ...                       (low-water mark per
//   poll, pause/resume, |                                                partition, published)
//   rebalance, commit <-+------------------ committable offsets (atomics) <------+
//
// Threads:
//   pipe-consumer  one librdkafka high-level consumer: polls, hands each message to the worker
//                  owning its partition (partition % workers) over an SPSC ring, pauses a
//                  partition whose worker's ring is full (resumes below half), serves rebalances
//                  and commits the workers' low-water marks every commit_interval.
//   pipe-N         one message_processor and one producer each; delivery reports are served on
//                  this thread. A failed delivery is produced again after retry_backoff, for as
//                  long as it takes, and holds back its partition's commits meanwhile.
//
// Memory is bounded: rings of ring_capacity messages, at most max_inflight_inputs unfinished
// inputs and producer_high_water queued outputs per worker (past either, the worker stops
// taking input, its ring fills and the consumer pauses), and librdkafka's prefetch limited to
// fetch_queue_kbytes.
//
// Lifecycle: start() joins the group and returns once the threads run; stop() (or the
// destructor) stops consuming, lets the workers finish what they were handed until
// drain_deadline, abandons the inputs whose outputs were not all delivered (their offsets stay
// uncommitted: they are processed again after a restart or by the next owner of the
// partition), commits, and leaves the group.
//
// Rebalance (eager): a revoked partition's in-flight inputs are finished (until
// revoke_timeout) and committed. If the coordinator refuses that commit for a group reason
// (librdkafka's mock broker refuses every commit while a rebalance is under way; Kafka takes
// them), the delivered range is remembered for the next assignment: if the partition comes
// back and the group's position lies inside it, the rest of the range is skipped and its end
// committed: a runtime that keeps a partition does not process again what it delivered (a
// partition that moves is processed again from the committed offset by its new owner).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "common/settings.h"
#include "pipeline/message_processor.h"

namespace obsrv::pipeline {

struct pipeline_runtime_options {
    std::string bootstrap;  // broker list (embedded or configured)
    std::string group = "unified-pipeline-group";
    std::vector<std::string> topics = {"ingest"};  // entry topics
    int workers = 0;                               // 0: one per core
    size_t ring_capacity = 1024;                   // messages per worker ring (rounded up to 2^n)
    size_t max_inflight_inputs = 10000;            // per worker: processed, outputs not delivered
    std::chrono::milliseconds commit_interval{1000};
    int producer_high_water = 50000;  // per worker: queued outputs above which input stops
    std::chrono::milliseconds retry_backoff{1000};    // before producing a failed output again
    std::chrono::milliseconds drain_deadline{10000};  // stop(): time to deliver what is in flight
    std::chrono::milliseconds revoke_timeout{5000};   // rebalance: wait for in-flight inputs
    std::chrono::milliseconds commit_timeout{5000};   // revoke and stop: wait for the commit
    int64_t fetch_queue_kbytes = 16384;  // librdkafka prefetch bound (queued.max.messages.kbytes)
    /// client_id and the passthrough librdkafka properties (kafka.producer, kafka.consumer).
    /// The runtime overrides what its semantics depend on: manual commits, earliest reset, the
    /// eager assignors, the prefetch bound.
    kafka_settings kafka;
    metrics::registry* metrics = nullptr;  // nullptr: a private registry
    processor_factory factory;             // one processor per worker
    /// Names, so that several runtimes can share a process and a metrics registry: metric
    /// names start with metric_prefix, Kafka client ids end in client_role, threads are
    /// "<thread_prefix>-consumer" and "<thread_prefix>-<n>".
    std::string metric_prefix = "obsrv_pipeline";
    std::string client_role = "pipeline";
    std::string thread_prefix = "pipe";
};

class pipeline_runtime {
  public:
    /// Creates the processors, producers and the consumer, subscribes and starts the threads.
    /// Errors (bad option, bad librdkafka property, factory returning nothing) name the cause.
    static result<std::unique_ptr<pipeline_runtime>> start(pipeline_runtime_options options);

    /// Calls stop().
    ~pipeline_runtime();

    pipeline_runtime(const pipeline_runtime&) = delete;
    pipeline_runtime& operator=(const pipeline_runtime&) = delete;

    /// Stops consuming, drains the workers (bounded by drain_deadline), commits and leaves the
    /// group; returns when every thread has ended. Idempotent; call it from one thread (never
    /// from a processor).
    void stop();

    const pipeline_runtime_options& options() const;

    /// Replaces the subscription (a rebalance follows: partitions of topics no longer
    /// subscribed are finished and committed as at a revoke). Applied by the consumer thread
    /// within a poll interval; any thread may call it. An empty list unsubscribes (the runtime
    /// idles until the next call).
    void subscribe(std::vector<std::string> topics);

    class impl;

  private:
    explicit pipeline_runtime(std::unique_ptr<impl> impl);

    std::unique_ptr<impl> _impl;
};

}  // namespace obsrv::pipeline
