#pragma once

// An immutable, versioned set of datasets with O(1) lookup by the keys Obsrv's ingest API
// accepts (alias, then dataset_id).
//
// Lifecycle: built by the registry on each change and published as
// std::shared_ptr<const snapshot>; it lives as long as someone holds that pointer, so a reader
// that took a snapshot keeps a consistent view (and valid dataset pointers) however many reloads
// happen meanwhile. Threads: everything is const after build(), any thread may read.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataset/model.h"
#include "dataset/system_settings.h"

namespace obsrv::dataset {

class snapshot {
  public:
    using dataset_ptr = std::shared_ptr<const dataset>;

    /// Two datasets claiming the same key.
    struct conflict {
        enum class kind {
            duplicate_dataset_id,      // `dataset` is left out
            duplicate_alias,           // `dataset` is left out
            alias_shadows_dataset_id,  // both stay: find(key) returns `by`'s dataset (alias
                                       // first, as Obsrv's API); `dataset` stays reachable
                                       // through by_dataset_id()
        };
        kind what = kind::duplicate_dataset_id;
        std::string key;            // the dataset_id or alias both claim
        std::string dataset_id;     // the dataset that loses the key
        std::string origin;         // its file
        std::string by_dataset_id;  // the dataset that holds the key
        std::string by_origin;
    };

    /// `candidates` in precedence order (the registry passes them sorted by file name): a
    /// dataset whose dataset_id, or alias, is already the dataset_id, or alias, of an earlier one
    /// is left out; an alias equal to another dataset's dataset_id shadows it for find(). Each
    /// case is reported in `conflicts` (if given). `system` travels with the datasets.
    static std::shared_ptr<const snapshot> build(std::vector<dataset_ptr> candidates,
                                                 uint64_t version,
                                                 std::vector<conflict>* conflicts = nullptr,
                                                 system_settings system = {});

    /// An empty snapshot (version 0 until a load).
    snapshot() = default;
    snapshot(const snapshot&) = delete;
    snapshot& operator=(const snapshot&) = delete;

    /// The ingest API's lookup: the dataset whose alias is `key`, else the one whose dataset_id
    /// is `key`; nullptr when none. Valid while this snapshot is alive.
    const dataset* find(std::string_view key) const;
    /// The same, as a pointer that may outlive the snapshot.
    dataset_ptr find_shared(std::string_view key) const;
    /// Lookup by dataset_id only (the `dataset` field of pipeline messages).
    const dataset* by_dataset_id(std::string_view dataset_id) const;

    /// All datasets, in file name order.
    const std::vector<dataset_ptr>& datasets() const { return _datasets; }
    std::size_t size() const { return _datasets.size(); }
    bool empty() const { return _datasets.empty(); }
    /// Increases by one with every published change; 0 before the first load.
    uint64_t version() const { return _version; }
    /// Obsrv's platform settings (the `system_settings` table, or obsrvd's configuration in
    /// directory mode) that were current when this snapshot was published.
    const system_settings& system_config() const { return _system; }

  private:
    const dataset_ptr* locate(std::string_view key) const;

    std::vector<dataset_ptr> _datasets;
    // Keys are views into the datasets' own strings, which live as long as _datasets.
    std::unordered_map<std::string_view, const dataset_ptr*> _by_alias;
    std::unordered_map<std::string_view, const dataset_ptr*> _by_id;
    uint64_t _version = 0;
    system_settings _system;
};

/// Field-by-field equality (the struct is shared with code that does not define it).
bool same_system_settings(const system_settings& a, const system_settings& b);

}  // namespace obsrv::dataset
