#pragma once

// What the pipeline's stages need of each dataset, prepared once per registry snapshot: the
// dataset config, its compiled JSON schema, its router timestamp rule, its transformations, its
// denorm fields, and its JSON pointers (Obsrv's dotted paths, "a.b" → "/a/b"). A dataset whose
// schema, timestamp format or transformations cannot be honoured is left out with a logged
// reason naming the dataset and the problem: its events then fail with ERR_EXT_1005 (dataset
// configuration missing) rather than pass unchecked or untransformed. So is a dataset whose
// denorm fields compute their key with `jsonata_expr` (JSONata is not supported yet): its
// events would otherwise pass without the master data they ask for.
//
// Platform-wide settings (Obsrv's system_settings: the encryption key) come with each build;
// catalog_source takes them from the snapshot (the configuration in directory mode, the
// system_settings table with the PostgreSQL source), so a changed key rebuilds the catalog.
//
// Immutable once built; shared by the workers through catalog_source, which swaps in a new
// catalog when the registry publishes a snapshot.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataset/model.h"
#include "dataset/registry.h"
#include "dataset/system_settings.h"
#include "pipeline/index_timestamp.h"
#include "pipeline/master_data_store.h"
#include "pipeline/transformation_plan.h"
#include "schema/validator.h"

namespace obsrv::pipeline {

/// Obsrv's JSONUtil.getKey path: dots become JSON-pointer separators ("a.b" → "/a/b").
std::string dotted_to_pointer(std::string_view dotted);

/// One denorm field, ready for lookups: where its key is in the event and where its master
/// records are (denorm_config.redis_db_host/port and the field's redis_db, as Obsrv reads them).
struct compiled_denorm_field {
    const dataset::denorm_field* config = nullptr;  // owned by compiled_dataset::config
    std::string key_pointer;                        // denorm_key
    master_location where;
};

struct compiled_dataset {
    std::shared_ptr<const dataset::dataset> config;
    /// Null when the validator skips the dataset (validation off, or no schema).
    std::shared_ptr<const schema::compiled_schema> schema;
    index_timestamp_rule timestamp_rule;
    /// Empty when the transformer skips the dataset.
    transformation_plan transformations;
    std::string extraction_pointer;  // extraction_config.extraction_key
    /// extraction_key when it names a top-level member (no '.'), else empty: the extractor
    /// then splits the batch while it scans the message's top level.
    std::string extraction_member;
    std::string batch_dedup_pointer;  // extraction_config.dedup_config.dedup_key
    std::string dedup_pointer;        // dedup_config.dedup_key
    std::string timestamp_pointer;    // dataset_config.keys_config.timestamp_key
    /// timestamp_key starts with "obsrv_meta.": read from the message's obsrv_meta.
    bool timestamp_in_meta = false;
    /// denorm_config.denorm_fields; empty: the denormalizer skips the dataset.
    std::vector<compiled_denorm_field> denorm_fields;
    /// Master datasets: keys_config.data_key and dataset_config.cache_config.
    std::string data_key_pointer;
    master_location cache_location;
};

class dataset_catalog {
  public:
    /// Compiles every dataset of `snapshot`; datasets that cannot be compiled are left out and
    /// described in `problems` ("dataset 'x': ...").
    static std::shared_ptr<const dataset_catalog> build(const dataset::snapshot& snapshot,
                                                        const dataset::system_settings& settings,
                                                        std::vector<std::string>* problems);

    /// By dataset_id (the `dataset` member of pipeline messages); nullptr when unknown.
    const compiled_dataset* find(std::string_view dataset_id) const;
    /// The dataset whose router_config.topic is `topic` (the first one if several share it);
    /// nullptr when none. A scan: for the rare paths only.
    const compiled_dataset* find_by_router_topic(std::string_view topic) const;
    size_t size() const { return _by_id.size(); }
    uint64_t version() const { return _version; }
    /// Router topics of all datasets (to create them at start and on reload).
    std::vector<std::string> router_topics() const;
    /// Router topics of the Live master datasets, sorted: what the cache indexer consumes.
    std::vector<std::string> master_topics() const;
    /// The Live master dataset whose router topic is `topic`; nullptr when none.
    const compiled_dataset* find_master_by_topic(std::string_view topic) const;

  private:
    struct string_hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, compiled_dataset, string_hash, std::equal_to<>> _by_id;
    // Points into _by_id (its nodes never move).
    std::unordered_map<std::string, const compiled_dataset*, string_hash, std::equal_to<>>
        _master_by_topic;
    uint64_t _version = 0;
};

/// Keeps the current catalog in step with a dataset registry. Workers call current() per
/// message: one atomic load when nothing changed.
class catalog_source {
  public:
    /// `on_rebuild` (optional) runs after each rebuild with the new catalog (topic creation).
    explicit catalog_source(dataset::registry& registry,
                            std::function<void(const dataset_catalog&)> on_rebuild = nullptr);
    /// A fixed catalog (tests, benchmarks).
    explicit catalog_source(std::shared_ptr<const dataset_catalog> fixed);

    std::shared_ptr<const dataset_catalog> current() const;
    /// Cheap change detector for per-worker caching.
    uint64_t generation() const { return _generation.load(std::memory_order_acquire); }

  private:
    void rebuild(const dataset::snapshot& snapshot);

    mutable std::mutex _mutex;
    std::shared_ptr<const dataset_catalog> _catalog;
    std::atomic<uint64_t> _generation{0};
    std::function<void(const dataset_catalog&)> _on_rebuild;
};

}  // namespace obsrv::pipeline
