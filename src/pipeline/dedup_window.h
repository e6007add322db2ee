#pragma once

// The dedup stage's in-process store: which (dataset, key value) pairs were
// seen within the dataset's dedup period.
//
// Keys are XXH3 128-bit hashes of the dataset id and the key's text, so an
// entry costs the same whatever the key's length, and a false duplicate needs a
// 128-bit collision. Obsrv keeps "<dataset>:<key>" strings in Redis with a fixed
// one-hour TTL; here each key lives for its dataset's `dedup_period`.
//
// Delivery-aware (at-least-once): a key is *reserved* when its event is
// processed, so a duplicate right behind it (even in the same batch) is caught;
// it is *committed* once the event's outputs were delivered, or *released* when
// delivery failed, so the retry of a failed event is not taken for a duplicate.
//
// Memory is bounded by `max_entries`. When full, the entries closest to expiry
// are evicted first (they would leave the window soonest anyway); an evicted key
// lets a later duplicate through, counted in stats().evicted.
//
// Restart: save() writes the committed, unexpired entries to a file (written to
// a temporary name, synced, then renamed); load() restores them, skipping what
// expired meanwhile. Reservations are not saved: their events were not
// delivered, so they will be processed again.
//
// Not thread-safe: pipeline workers share one through shared_dedup_window (entry-topic
// partitions are not keyed, so the same key may reach any worker).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace obsrv::pipeline {

struct dedup_key {
    uint64_t low = 0;
    uint64_t high = 0;
    bool operator==(const dedup_key&) const = default;
};

/// The key of `key_text` (the event's dedup field as text) in `dataset_id`.
dedup_key make_dedup_key(std::string_view dataset_id, std::string_view key_text);

enum class dedup_verdict : uint8_t { unique, duplicate };

struct dedup_window_options {
    // About 60 bytes per entry in the map (node, bucket) plus 24-48 in the expiry heap.
    size_t max_entries = 10'000'000;
};

struct dedup_stats {
    uint64_t reserved = 0;    // unique verdicts
    uint64_t duplicates = 0;  // duplicate verdicts
    uint64_t committed = 0;
    uint64_t released = 0;
    uint64_t expired = 0;
    uint64_t evicted = 0;  // dropped before expiry because the window was full
};

class dedup_window {
  public:
    explicit dedup_window(dedup_window_options options = {});

    /// Unseen or expired at `now_ms`: reserves the key until now_ms + period_ms
    /// and answers unique. Seen (reserved or committed) and not expired:
    /// duplicate, and the window is unchanged.
    dedup_verdict check_and_reserve(const dedup_key& key, int64_t now_ms, int64_t period_ms);

    /// The event's outputs were delivered: the key stays until it expires.
    void commit(const dedup_key& key);

    /// The event's delivery failed: a reserved key is forgotten. A committed
    /// key is kept (its event was delivered).
    void release(const dedup_key& key);

    /// Drops the entries expired at `now_ms`; returns how many.
    size_t expire(int64_t now_ms);

    size_t size() const { return _entries.size(); }
    const dedup_stats& stats() const { return _stats; }

    /// Writes the committed entries not expired at `now_ms`; returns how many.
    result<size_t> save(const std::string& path, int64_t now_ms) const;
    /// Adds the entries of a file written by save() that are not expired at
    /// `now_ms`, as committed; returns how many. A missing file is 0 entries;
    /// a damaged one is an error and leaves the window as it was.
    result<size_t> load(const std::string& path, int64_t now_ms);

  private:
    struct key_hash {
        size_t operator()(const dedup_key& k) const noexcept { return k.low; }
    };
    struct entry {
        int64_t expires_ms;
        bool committed;
    };
    // Expiry order for expire() and eviction. Items are not removed when their
    // entry goes or changes; a popped item counts only if it still matches.
    struct expiry_item {
        int64_t expires_ms;
        dedup_key key;
        bool operator>(const expiry_item& o) const { return expires_ms > o.expires_ms; }
    };

    void push_expiry(const dedup_key& key, int64_t expires_ms);
    bool pop_current(expiry_item& out);
    void compact_expiry_heap();

    dedup_window_options _options;
    std::unordered_map<dedup_key, entry, key_hash> _entries;
    std::vector<expiry_item> _heap;  // min-heap on expires_ms
    dedup_stats _stats;
};

}  // namespace obsrv::pipeline
