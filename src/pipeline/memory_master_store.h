#pragma once

// The master-data store in this process: one per pipeline process, shared by the
// denormalizer of every pipeline worker and by the cache indexer (the embedded default: with
// `--roles all` master records produced to a master dataset's topic are found by the
// denormalizer without Redis). Records are kept by (db, key); the host and port of a location
// are ignored (there is one store). No expiry and no bound, as Obsrv's Redis (SET without TTL):
// the master data must fit in memory. Nothing is saved: at start the indexer reads the master
// topics again from the beginning (see pipeline_role).
//
// Threading: a shared mutex; lookups take it shared, upserts exclusively.

#include <cstdint>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "pipeline/master_data_store.h"

namespace obsrv::pipeline {

class memory_master_store final : public master_data_store {
  public:
    status get(std::span<const master_get> gets, std::span<master_value> values) override;
    status upsert(const master_location& where, std::span<const master_put> puts,
                  upsert_counts& counts) override;

    size_t size() const;

  private:
    struct string_hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    static void make_key(std::string& out, int64_t db, std::string_view key);

    mutable std::shared_mutex _mutex;
    std::unordered_map<std::string, master_value, string_hash, std::equal_to<>> _records;
};

}  // namespace obsrv::pipeline
