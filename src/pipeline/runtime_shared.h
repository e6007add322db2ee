#pragma once

// Internals of pipeline_runtime shared by its consumer thread and its workers: what travels
// through the rings, the per-partition hand-off of committable offsets, and the metrics.
// Not an API: only pipeline_runtime.cc and pipeline_worker.cc include this.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/metrics.h"

namespace obsrv::pipeline::detail {

struct partition_tracker;  // the owning worker's view, see pipeline_worker.cc

/// One assignment of one partition to this runtime.
///
/// Lifecycle: created by the consumer thread when the partition is assigned; travels to the
/// owning worker with every message of the partition; on revoke the consumer hands the worker
/// a release item (after the partition's last message) and frees the slot once the worker
/// set `released`. A later assignment of the same partition gets a new slot, so a worker still
/// busy with the old one never mixes the two.
struct partition_slot {
    partition_slot(std::string topic_name, int32_t partition_id, int owner)
        : topic(std::move(topic_name)), partition(partition_id), worker(owner) {}

    const std::string topic;
    const int32_t partition;
    const int worker;

    // Consumer thread only.
    int64_t dispatched = 0;        // messages pushed into the worker's ring
    int64_t last_dispatched = -1;  // offset of the last one
    int64_t base = -1;             // offset of the first one: the position we started from
    int64_t acked = -1;            // last offset the group coordinator acknowledged
    // Offsets [delivered_from, delivered_to) were delivered in this runtime's previous
    // assignment of the partition, but the coordinator refused their commit (a rebalance);
    // -1: none. Checked against the first message fetched: if the group's position lies inside
    // the range, the rest of the range is skipped and delivered_to committed; otherwise both
    // are cleared.
    int64_t delivered_from = -1;
    int64_t delivered_to = -1;
    rd_kafka_resp_err_t commit_error = RD_KAFKA_RESP_ERR_NO_ERROR;  // of the last commit answer
    bool paused = false;
    bool revoked = false;

    // Owning worker thread only.
    partition_tracker* tracker = nullptr;

    // Written by the worker, read by the consumer. Its own cache line: the worker stores on
    // every finished input, the consumer reads once per commit interval.
    alignas(64) std::atomic<int64_t> committable{-1};  // next offset to commit, -1: none yet
    std::atomic<int64_t> finished{0};                  // inputs finished, abandoned or discarded
    std::atomic<bool> released{false};                 // the worker holds no reference any more

    // Written by the consumer, read by the worker: the partition was revoked and its commit is
    // done, so messages of it still queued are dropped instead of processed (their next owner
    // processes them; producing them here would only add duplicates).
    std::atomic<bool> given_up{false};
};

/// What the consumer hands a worker. Trivially copyable: the ring moves raw pointers; the
/// message is owned by the ring while queued and by the worker once popped.
struct work_item {
    enum class kind : uint8_t { message, release };
    kind what = kind::message;
    partition_slot* slot = nullptr;
    rd_kafka_message_t* message = nullptr;  // kind::message only
};

/// The runtime's metrics, registered once at start; updated lock-free from every thread.
struct runtime_probe {
    /// Metric names start with `metric_prefix` ("obsrv_pipeline").
    runtime_probe(metrics::registry& registry, int workers, std::string metric_prefix);

    /// The produced-messages counter of `topic`; registers it (mutex) the first time a worker
    /// sees the topic, never per message.
    metrics::counter& produced(std::string_view topic);

    metrics::registry& registry;
    const std::string prefix;
    metrics::counter& consumed_messages;
    metrics::counter& consumed_bytes;
    metrics::counter& delivery_errors;
    metrics::counter& delivery_retries;
    metrics::counter& undeliverable_outputs;
    metrics::counter& committed_offsets;
    metrics::counter& commit_errors;
    metrics::counter& abandoned_inputs;
    metrics::counter& rebalances;
    metrics::gauge& inflight_inputs;
    metrics::gauge& paused_partitions;
    metrics::gauge& assigned_partitions;
    std::vector<metrics::gauge*> ring_depth;  // per worker
};

}  // namespace obsrv::pipeline::detail
