#include "dataset/snapshot.h"

namespace obsrv::dataset {

std::shared_ptr<const snapshot> snapshot::build(std::vector<dataset_ptr> candidates,
                                                uint64_t version, std::vector<conflict>* conflicts,
                                                system_settings system) {
    auto snap = std::make_shared<snapshot>();
    snap->_version = version;
    snap->_system = std::move(system);

    // First pass: decide who stays. A dataset_id or an alias names one dataset only; the file
    // that sorts first keeps it.
    std::unordered_map<std::string_view, const dataset*> ids;
    std::unordered_map<std::string_view, const dataset*> aliases;
    ids.reserve(candidates.size());
    snap->_datasets.reserve(candidates.size());
    auto report = [&](conflict::kind what, std::string_view key, const dataset& loser,
                      const dataset& holder) {
        if (conflicts) {
            conflicts->push_back({what, std::string(key), loser.dataset_id, loser.origin,
                                  holder.dataset_id, holder.origin});
        }
    };
    for (auto& candidate : candidates) {
        if (!candidate) {
            continue;
        }
        const dataset& ds = *candidate;
        if (auto it = ids.find(ds.dataset_id); it != ids.end()) {
            report(conflict::kind::duplicate_dataset_id, ds.dataset_id, ds, *it->second);
            continue;
        }
        if (!ds.alias.empty()) {
            if (auto it = aliases.find(ds.alias); it != aliases.end()) {
                report(conflict::kind::duplicate_alias, ds.alias, ds, *it->second);
                continue;
            }
            aliases.emplace(ds.alias, &ds);
        }
        ids.emplace(ds.dataset_id, &ds);
        snap->_datasets.push_back(std::move(candidate));
    }
    // An alias that is another dataset's id wins the API lookup, as in Obsrv (whose alias API
    // refuses to create this); both datasets stay and the shadowing is reported.
    for (const auto& ptr : snap->_datasets) {
        if (ptr->alias.empty() || ptr->alias == ptr->dataset_id) {
            continue;
        }
        if (auto it = ids.find(ptr->alias); it != ids.end()) {
            report(conflict::kind::alias_shadows_dataset_id, ptr->alias, *it->second, *ptr);
        }
    }

    // Second pass, once _datasets no longer moves: index by views into the datasets.
    snap->_by_id.reserve(snap->_datasets.size());
    for (const auto& ptr : snap->_datasets) {
        snap->_by_id.emplace(ptr->dataset_id, &ptr);
        if (!ptr->alias.empty()) {
            snap->_by_alias.emplace(ptr->alias, &ptr);
        }
    }
    return snap;
}

const snapshot::dataset_ptr* snapshot::locate(std::string_view key) const {
    if (auto it = _by_alias.find(key); it != _by_alias.end()) {
        return it->second;
    }
    if (auto it = _by_id.find(key); it != _by_id.end()) {
        return it->second;
    }
    return nullptr;
}

const dataset* snapshot::find(std::string_view key) const {
    const dataset_ptr* ptr = locate(key);
    return ptr ? ptr->get() : nullptr;
}

snapshot::dataset_ptr snapshot::find_shared(std::string_view key) const {
    const dataset_ptr* ptr = locate(key);
    return ptr ? *ptr : nullptr;
}

const dataset* snapshot::by_dataset_id(std::string_view dataset_id) const {
    auto it = _by_id.find(dataset_id);
    return it == _by_id.end() ? nullptr : it->second->get();
}

bool same_system_settings(const system_settings& a, const system_settings& b) {
    return a.encryption_secret_key == b.encryption_secret_key &&
           a.max_event_size == b.max_event_size &&
           a.default_dedup_period_seconds == b.default_dedup_period_seconds &&
           a.default_dataset_id == b.default_dataset_id;
}

}  // namespace obsrv::dataset
