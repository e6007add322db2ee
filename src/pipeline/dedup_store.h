#pragma once

// The dedup stage's store interface: which (dataset, key value) pairs were seen within their
// dataset's dedup period. Two implementations: shared_dedup_window (in-process, one per
// pipeline process, shared by its workers) and redis_dedup_store (Redis `SET NX EX`, shared by
// several pipeline processes).
//
// Protocol per event (at-least-once, see docs/DESIGN.md "Pipeline"):
//   reserve()  when the event is processed: unseen keys are reserved and answer `unique`, so a
//              duplicate right behind (even in the same batch) answers `duplicate`;
//   commit()   once every output of the event was delivered;
//   release()  when its outputs will not be delivered (shutdown before delivery, fatal error),
//              so the event's reprocessing is not taken for a duplicate.
//
// Calls are batched (one input message's events at a time) so a remote store pays one round
// trip per batch. Implementations are thread-safe: pipeline workers share one store.

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"
#include "pipeline/dedup_window.h"

namespace obsrv::pipeline {

/// One key to check: the dataset it belongs to, the event's dedup field as text (strings
/// unquoted, numbers as written), and the dataset's dedup period.
struct dedup_probe {
    std::string_view dataset_id;
    std::string_view key_text;
    int64_t period_ms = 0;
};

class dedup_store {
  public:
    virtual ~dedup_store() = default;

    /// Fills verdicts[i] for probes[i] (same size). An error means the store could not answer
    /// (Redis unreachable): nothing was reserved, and the caller retries later.
    virtual status reserve(std::span<const dedup_probe> probes, std::span<dedup_verdict> verdicts,
                           int64_t now_ms) = 0;

    /// The events of these reserved probes were delivered.
    virtual void commit(std::span<const dedup_probe> probes, int64_t now_ms) = 0;

    /// The events of these reserved probes will not be delivered: their keys are free again.
    virtual void release(std::span<const dedup_probe> probes) = 0;
};

}  // namespace obsrv::pipeline
