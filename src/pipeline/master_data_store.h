#pragma once

// Where master-data records live, for the denormalizer (lookups) and the cache indexer
// (upserts): Obsrv keeps them in Redis, one JSON string per key (contracts §3.4, §3.7). Two
// implementations:
//   memory_master_store  in this process, shared by the pipeline workers and the indexer
//                        (the embedded default);
//   redis_master_store   Redis, as Obsrv: `SELECT <db>`, `GET`/`SET <key>`, with an
//                        in-process cache in front of the lookups.
//
// A record's place is a master_location: the Redis host, port and db that Obsrv reads from a
// denorm field (denorm_config.redis_db_host/port + the field's redis_db) or from a master
// dataset (dataset_config.cache_config). The memory store keys by (db, key) only: it is one
// store per process, whatever the host.
//
// Calls are batched (the events of one message) so a remote store pays one round trip per
// location and batch. Implementations are thread-safe. An error means the store could not
// answer (Redis unreachable): nothing was changed, and the caller retries later; a key that
// is not there is not an error.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace obsrv::pipeline {

struct master_location {
    std::string host;  // empty: the store's default
    int64_t port = 6379;
    int64_t db = 0;

    bool operator==(const master_location&) const = default;
};

/// A record as stored: a JSON object, compact text. Shared, immutable.
using master_value = std::shared_ptr<const std::string>;

/// One lookup: the key (event value as text) at a location.
struct master_get {
    const master_location* where = nullptr;
    std::string_view key;
};

/// One upsert: `json` (an object) is deep-merged into the record stored under `key`.
struct master_put {
    std::string_view key;
    std::string_view json;
};

struct upsert_counts {
    uint64_t inserted = 0;  // keys that had no record
    uint64_t updated = 0;   // keys whose record was merged
};

class master_data_store {
  public:
    virtual ~master_data_store() = default;

    /// values[i] = the record of gets[i], or null when there is none (same size as gets).
    virtual status get(std::span<const master_get> gets, std::span<master_value> values) = 0;

    /// For each put in order: record = merge(record, put.json) (Obsrv's json4s merge, see
    /// json_merge.h), stored without expiry. Two puts of one key in a batch merge in order.
    virtual status upsert(const master_location& where, std::span<const master_put> puts,
                          upsert_counts& counts) = 0;
};

}  // namespace obsrv::pipeline
