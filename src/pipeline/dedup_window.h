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
// Storage, for a window that is full in steady state (every new key evicts one):
// the entries live in one open-addressing table (linear probing, backward-shift
// deletion, 32-byte slots, grown by doubling up to what max_entries needs), so a
// lookup is about one cache miss; expiry order is kept in one FIFO per distinct
// period, since keys of one period expire in the order they were reserved. The
// oldest entry is then the smallest front of a few queues instead of the top of
// a heap, whose pop touched ~log2(n) cache lines. With the clock going back,
// a queue can be slightly out of order: expiry of the entries behind waits for
// its front; verdicts are not affected (each entry keeps its own expiry).
//
// Restart: save() writes the committed, unexpired entries to a file (written to
// a temporary name, synced, then renamed); load() restores them, skipping what
// expired meanwhile. Reservations are not saved: their events were not
// delivered, so they will be processed again.
//
// Not thread-safe: pipeline workers share one through shared_dedup_window (entry-topic
// partitions are not keyed, so the same key may reach any worker).

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
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
    // 46-91 bytes per entry in the table (32-byte slots, load factor 0.35-0.7) plus
    // 24-72 in the expiry queues.
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

    /// Starts loading the memory `key` will be looked up in: a batch prefetches all its keys
    /// first, so that their cache misses overlap instead of queueing one behind the other.
    void prefetch(const dedup_key& key) const {
        if (!_slots.empty()) {
            __builtin_prefetch(&_slots[static_cast<size_t>(key.low) & _mask]);
        }
    }
    /// The same for the entries the next `count` evictions will look up.
    void prefetch_evictions(size_t count) const;

    size_t size() const { return _size; }
    const dedup_stats& stats() const { return _stats; }

    /// Writes the committed entries not expired at `now_ms`; returns how many.
    result<size_t> save(const std::string& path, int64_t now_ms) const;
    /// Adds the entries of a file written by save() that are not expired at
    /// `now_ms`, as committed; returns how many. A missing file is 0 entries;
    /// a damaged one is an error and leaves the window as it was.
    result<size_t> load(const std::string& path, int64_t now_ms);

  private:
    enum class slot_state : uint8_t { empty, reserved, committed };
    struct slot {
        dedup_key key;
        int64_t expires_ms = 0;
        slot_state state = slot_state::empty;
    };
    // Expiry order for expire() and eviction. Items are not removed when their
    // entry goes or changes; a popped item counts only if it still matches.
    struct expiry_item {
        int64_t expires_ms;
        dedup_key key;
    };
    struct expiry_queue {
        int64_t period_ms;
        std::deque<expiry_item> items;
    };

    slot* find(const dedup_key& key);
    const slot* find(const dedup_key& key) const;
    slot& insert(const dedup_key& key);  // the key is not in the table; grows it if needed
    void erase(slot& s);
    void grow();
    void push_expiry(const dedup_key& key, int64_t expires_ms, int64_t period_ms);
    bool pop_oldest(expiry_item& out);  // the live entry closest to expiry
    bool is_current(const expiry_item& item) const;
    void compact_expiry_queues();

    dedup_window_options _options;
    std::vector<slot> _slots;  // size a power of two (or 0 before the first insert)
    size_t _mask = 0;
    size_t _size = 0;
    std::vector<expiry_queue> _queues;
    size_t _queued = 0;      // items in all queues, stale ones included
    size_t _last_queue = 0;  // the queue the previous key went to
    dedup_stats _stats;
};

}  // namespace obsrv::pipeline
