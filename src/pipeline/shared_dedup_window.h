#pragma once

// The in-process dedup store of one pipeline process: a dedup_window behind a mutex, shared by
// the process's workers. Sharing is required, not a convenience: entry-topic partitions are
// not keyed by the dedup field, so copies of one event can reach any worker, and per-worker
// windows would let them through.
//
// A batch takes the lock once. Expired entries are dropped on the side, at most every
// `expire_interval_ms` (by reserve(), under the lock it already holds), so memory follows
// the live keys rather than waiting for eviction at max_entries. save()/load() pass through
// to dedup_window (the process's restart snapshot).
//
// Threading: thread-safe; every call holds the mutex for its whole batch.

#include <cstdint>
#include <mutex>
#include <string>

#include "pipeline/dedup_store.h"
#include "pipeline/dedup_window.h"

namespace obsrv::pipeline {

struct shared_dedup_window_options {
    dedup_window_options window;
    int64_t expire_interval_ms = 1000;
};

class shared_dedup_window final : public dedup_store {
  public:
    explicit shared_dedup_window(shared_dedup_window_options options = {});

    status reserve(std::span<const dedup_probe> probes, std::span<dedup_verdict> verdicts,
                   int64_t now_ms) override;
    void commit(std::span<const dedup_probe> probes, int64_t now_ms) override;
    void release(std::span<const dedup_probe> probes) override;

    /// Drops the entries expired at `now_ms`; returns how many.
    size_t expire(int64_t now_ms);

    /// dedup_window::save() / load() under the lock.
    result<size_t> save(const std::string& path, int64_t now_ms) const;
    result<size_t> load(const std::string& path, int64_t now_ms);

    size_t size() const;
    dedup_stats stats() const;

  private:
    void expire_if_due(int64_t now_ms);  // under _mutex

    mutable std::mutex _mutex;
    dedup_window _window;
    int64_t _expire_interval_ms;
    int64_t _next_expiry_ms = 0;
};

}  // namespace obsrv::pipeline
