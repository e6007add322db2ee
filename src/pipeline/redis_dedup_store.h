#pragma once

// The dedup store in Redis, shared by several pipeline processes (and with Obsrv's own jobs:
// keys and db are Obsrv's). A reservation is `SET <dataset_id>:<key_text> <origin> NX GET EX
// <ttl>`: the server answers nil for a key it did not hold (set now: unique) and the held value
// for one it did (duplicate), atomically, unlike Obsrv's EXISTS-then-SETEX. Except when the
// held value is the probe's own origin (dedup_probe): then the key was reserved for this very
// event by a pipeline killed before its outputs were delivered (no release() ran), and the
// event, processed again from the uncommitted offset, is unique. Obsrv's jobs write "" and test
// with EXISTS, so the values do not disturb them. NX with GET needs Redis (or Valkey) 7.0.
// ttl is the dataset's dedup period rounded up to whole seconds, at least 1 (Obsrv uses a
// fixed `redis.database.key.expiry.seconds`). A batch is one pipeline: one round trip, and two
// probes of one key in a batch answer unique then duplicate because Redis runs the commands in
// order (their origins differ: the event's place in the message is part of it).
//
// commit() has nothing to do: the key already lives for its period. release() DELs the keys.
//
// Failed reserve(). If the connection fails mid-batch, some SETs may have been applied. Keys
// whose SET answered nil or their own origin are ours; keys with no reply are unknown
// (applied, or not). Both are queued for DEL, and the queue goes out first in the next command
// sent on the connection (this store has one), ahead of the caller's retry, so the retry finds
// its keys free. Keys answered with another value were held by others and are left alone. Deleting
// an unknown key that someone else held can let one duplicate through; keeping one we set would
// drop the retried event as a duplicate: at-least-once prefers the former. An error reply from
// Redis fails the batch the same way. Limits: after a command timeout on a live but stalled server,
// the stalled SETs may still run after the DELs; the queue holds at most max_pending_releases keys
// (older ones are dropped, counted in stats()); and a process that exits with a queue loses it.
//
// Threading: thread-safe. One connection behind a mutex, not one per worker thread: Redis runs
// all commands on one thread anyway, so parallel connections only overlap round trips, which
// batching already amortises; and a single connection orders every command, which the
// failure handling above relies on (the DELs of a failed batch reach the server before any
// later SET, whichever worker retries). While Redis is down, calls fail at once within the
// client's reconnect back-off instead of each waiting for a timeout.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/dedup_store.h"
#include "redis/client.h"

namespace obsrv::pipeline {

struct redis_dedup_store_options {
    std::string host = "127.0.0.1";
    uint16_t port = 6379;
    int db = 2;  // Obsrv's redis.database.preprocessor.duplication.store.id
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{1000};
    std::chrono::milliseconds reconnect_backoff{100};
    std::chrono::milliseconds reconnect_backoff_max{5000};
    size_t max_pending_releases = 1'000'000;
};

struct redis_dedup_stats {
    uint64_t reserved = 0;    // unique verdicts
    uint64_t duplicates = 0;  // duplicate verdicts
    uint64_t released = 0;    // keys DELeted by release()
    uint64_t failed_batches = 0;
    uint64_t pending_dropped = 0;  // queued DELs lost to the queue limit
};

class redis_dedup_store final : public dedup_store {
  public:
    explicit redis_dedup_store(redis_dedup_store_options options);

    status reserve(std::span<const dedup_probe> probes, std::span<dedup_verdict> verdicts,
                   int64_t now_ms) override;
    void commit(std::span<const dedup_probe> probes, int64_t now_ms) override;
    /// Best effort: if Redis is unreachable the DELs are queued and sent with the next call.
    void release(std::span<const dedup_probe> probes) override;
    bool keeps_reservations() const override { return true; }

    /// Connected and the last call succeeded (any thread, no I/O).
    bool healthy() const { return _client.healthy(); }
    /// PING round trip, for start-up checks.
    status ping();

    redis_dedup_stats stats() const;
    size_t pending_releases() const;

    /// The Redis key of a probe: "<dataset_id>:<key_text>", as Obsrv writes it.
    static std::string redis_key(const dedup_probe& probe);
    /// The key's TTL in seconds: the period rounded up, at least 1.
    static int64_t ttl_seconds(int64_t period_ms);

  private:
    // All under _mutex.
    void queue_release(std::string key);
    /// Moves the queued keys to _sending and adds their DELs to _pipeline; returns how many
    /// commands that added.
    size_t append_pending_dels();
    /// After execute(): queues again the keys of the DELs in _sending without a success reply
    /// (`replies` holds the replies read, the DELs first).
    void requeue_unconfirmed_dels(size_t del_commands);

    mutable std::mutex _mutex;
    size_t _max_pending;
    redis::client _client;
    redis::pipeline _pipeline;
    std::vector<redis::reply> _replies;
    std::deque<std::string> _pending;   // keys to DEL before anything else
    std::vector<std::string> _sending;  // the part of _pending in the pipeline being sent
    redis_dedup_stats _stats;
};

}  // namespace obsrv::pipeline
