#pragma once

// The master-data store in Redis, as Obsrv keeps it (contracts §3.4, §3.7): each record is a
// JSON string under its key, in the db of its master dataset, without expiry. Lookups are
// `GET`s pipelined per location and batch (one round trip); upserts are Obsrv's cache-indexer
// step: `GET` the old records, deep-merge (json_merge.h), `SET` the results.
//
// Locations: one connection per (host, port, db), made on first use, the db SELECTed after
// every (re)connect (redis/client.h: timeouts, reconnect with back-off). Obsrv takes host and
// port from the dataset (denorm_config / cache_config); `host_override` / `port_override`
// replace them for every dataset, for deployments where those names only resolve inside
// Obsrv's cluster. A dataset without a host uses `default_host`.
//
// The in-process cache in front of the lookups holds records found (not misses, so a record
// indexed later is seen at once) for `cache_ttl`, at most `cache_max_entries` of them (the
// oldest go first); an upsert through this store refreshes its keys in the cache. A record
// changed in Redis by someone else is seen once its cache entry expired.
//
// Failures: a connection that fails, or an error reply (LOADING after a restart, ...), fails
// the whole call: the caller holds its batch and retries (consumption pauses, nothing is
// marked failed). A stored value that is not a JSON object counts as not found (and is counted
// in stats()); the indexer overwrites such a value instead of merging into it.
//
// Threading: thread-safe. Each connection has its own mutex; the cache one more.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pipeline/master_data_store.h"
#include "redis/client.h"

namespace obsrv::pipeline {

struct redis_master_store_options {
    std::string default_host = "127.0.0.1";
    std::string host_override;  // empty: the dataset's host
    int64_t port_override = 0;  // 0: the dataset's port
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{1000};
    std::chrono::milliseconds reconnect_backoff{100};
    std::chrono::milliseconds reconnect_backoff_max{5000};
    size_t cache_max_entries = 100000;  // 0: no cache
    std::chrono::milliseconds cache_ttl{30000};
};

struct redis_master_stats {
    uint64_t cache_hits = 0;
    uint64_t redis_gets = 0;      // keys read from Redis by get()
    uint64_t not_found = 0;       // of those, absent
    uint64_t invalid_values = 0;  // values that are not JSON objects
    uint64_t upserted = 0;        // keys SET by upsert()
    uint64_t failed_calls = 0;    // get() / upsert() calls that failed
};

class redis_master_store final : public master_data_store {
  public:
    explicit redis_master_store(redis_master_store_options options);
    ~redis_master_store() override;

    status get(std::span<const master_get> gets, std::span<master_value> values) override;
    status upsert(const master_location& where, std::span<const master_put> puts,
                  upsert_counts& counts) override;

    redis_master_stats stats() const;
    /// Connections made (reconnects included), over all locations.
    uint64_t connects() const;
    /// The location a dataset's location resolves to (overrides and default applied).
    master_location resolve(const master_location& where) const;

  private:
    struct connection;
    struct cache_entry {
        master_value value;
        std::chrono::steady_clock::time_point expires;
    };

    connection& connection_for(const master_location& resolved);
    static void cache_key(std::string& out, const master_location& resolved, std::string_view key);
    void cache_put(const std::string& key, master_value value,
                   std::chrono::steady_clock::time_point now);
    void count_failure();

    redis_master_store_options _options;

    mutable std::mutex _connections_mutex;
    std::unordered_map<std::string, std::unique_ptr<connection>> _connections;

    mutable std::mutex _cache_mutex;
    std::unordered_map<std::string, cache_entry> _cache;
    std::deque<std::string> _cache_order;  // insertion order, for eviction

    mutable std::mutex _stats_mutex;
    redis_master_stats _stats;
};

}  // namespace obsrv::pipeline
