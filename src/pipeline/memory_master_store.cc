#include "pipeline/memory_master_store.h"

#include <charconv>
#include <mutex>

#include "pipeline/json_merge.h"

namespace obsrv::pipeline {

void memory_master_store::make_key(std::string& out, int64_t db, std::string_view key) {
    // "<db>:<key>": the db number cannot contain ':', so keys never collide across dbs.
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, db);
    (void)ec;
    out.assign(buf, end);
    out.push_back(':');
    out.append(key);
}

status memory_master_store::get(std::span<const master_get> gets, std::span<master_value> values) {
    if (gets.size() != values.size()) {
        return make_error("master data get: {} keys but {} values", gets.size(), values.size());
    }
    std::string key;
    std::shared_lock lock(_mutex);
    for (size_t i = 0; i < gets.size(); ++i) {
        make_key(key, gets[i].where->db, gets[i].key);
        auto it = _records.find(key);
        values[i] = it == _records.end() ? nullptr : it->second;
    }
    return {};
}

status memory_master_store::upsert(const master_location& where, std::span<const master_put> puts,
                                   upsert_counts& counts) {
    std::string key;
    std::string merged;
    std::unique_lock lock(_mutex);
    for (const master_put& put : puts) {
        make_key(key, where.db, put.key);
        auto it = _records.find(key);
        const std::string_view old_json = it == _records.end() ? std::string_view() : *it->second;
        if (!merge_json(old_json, put.json, merged)) {
            return make_error("master data upsert: the record of key '{}' is not valid JSON",
                              put.key);
        }
        auto value = std::make_shared<const std::string>(std::move(merged));
        if (it == _records.end()) {
            _records.emplace(key, std::move(value));
            ++counts.inserted;
        } else {
            it->second = std::move(value);
            ++counts.updated;
        }
    }
    return {};
}

size_t memory_master_store::size() const {
    std::shared_lock lock(_mutex);
    return _records.size();
}

}  // namespace obsrv::pipeline
