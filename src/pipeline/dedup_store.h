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
// A process killed between reserve() and commit() releases nothing: a store that keeps the
// reservation (Redis) answers `unique` again for the same probe origin (see dedup_probe).
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
///
/// `origin` says where the event came from: its entry-topic message ("topic/partition/offset")
/// and its place in it. Re-processing the same message gives the same origins. A store whose
/// reservations outlive the process (Redis) keeps it as the key's value, so that a reservation
/// left behind by a pipeline killed before its outputs were delivered is recognised when the
/// message is processed again, instead of failing the event as a duplicate of itself. Empty:
/// unknown, never matches.
struct dedup_probe {
    std::string_view dataset_id;
    std::string_view key_text;
    int64_t period_ms = 0;
    std::string_view origin = {};
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

    /// Whether reservations outlive the process, so that probes need their origin (Redis).
    /// False: callers may leave dedup_probe::origin empty and save building it.
    virtual bool keeps_reservations() const { return false; }
};

}  // namespace obsrv::pipeline
