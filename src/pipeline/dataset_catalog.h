#pragma once

// What the pipeline's stages need of each dataset, prepared once per registry snapshot: the
// dataset config, its compiled JSON schema, its router timestamp rule, its transformations, and
// its JSON pointers (Obsrv's dotted paths, "a.b" → "/a/b"). A dataset whose schema, timestamp
// format or transformations cannot be honoured is left out with a logged reason naming the
// dataset and the problem: its events then fail with ERR_EXT_1005 (dataset configuration
// missing) rather than pass unchecked or untransformed.
//
// Platform-wide settings (Obsrv's system_settings: the encryption key) come with each build.
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
#include "pipeline/transformation_plan.h"
#include "schema/validator.h"

namespace obsrv::pipeline {

/// Obsrv's JSONUtil.getKey path: dots become JSON-pointer separators ("a.b" → "/a/b").
std::string dotted_to_pointer(std::string_view dotted);

struct compiled_dataset {
    std::shared_ptr<const dataset::dataset> config;
    /// Null when the validator skips the dataset (validation off, or no schema).
    std::shared_ptr<const schema::compiled_schema> schema;
    index_timestamp_rule timestamp_rule;
    /// Empty when the transformer skips the dataset.
    transformation_plan transformations;
    std::string extraction_pointer;   // extraction_config.extraction_key
    std::string batch_dedup_pointer;  // extraction_config.dedup_config.dedup_key
    std::string dedup_pointer;        // dedup_config.dedup_key
    std::string timestamp_pointer;    // dataset_config.keys_config.timestamp_key
    /// timestamp_key starts with "obsrv_meta.": read from the message's obsrv_meta.
    bool timestamp_in_meta = false;
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
    size_t size() const { return _by_id.size(); }
    uint64_t version() const { return _version; }
    /// Router topics of all datasets (to create them at start and on reload).
    std::vector<std::string> router_topics() const;

  private:
    struct string_hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, compiled_dataset, string_hash, std::equal_to<>> _by_id;
    uint64_t _version = 0;
};

/// Keeps the current catalog in step with a dataset registry. Workers call current() per
/// message: one atomic load when nothing changed.
class catalog_source {
  public:
    /// `on_rebuild` (optional) runs after each rebuild with the new catalog (topic creation).
    catalog_source(dataset::registry& registry, dataset::system_settings settings,
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
    dataset::system_settings _settings;
    std::function<void(const dataset_catalog&)> _on_rebuild;
};

}  // namespace obsrv::pipeline
