#include "pipeline/dataset_catalog.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/log.h"
#include "dataset/snapshot.h"

namespace obsrv::pipeline {

namespace {
std::shared_ptr<spdlog::logger> logger() {
    static auto l = log::get("pipeline");
    return l;
}
// The denorm fields of `ds` into `c`; false (with the reason in `problems`) when one cannot
// be honoured.
bool compile_denorm(const dataset::dataset& ds, compiled_dataset& c,
                    std::vector<std::string>* problems) {
    const auto& denorm = ds.denorm_config;
    for (size_t i = 0; i < denorm.denorm_fields.size(); ++i) {
        const dataset::denorm_field& field = denorm.denorm_fields[i];
        if (!field.jsonata_expr.empty()) {
            if (problems != nullptr) {
                problems->push_back(fmt::format(
                    "dataset '{}' ({}): denorm_config.denorm_fields[{}].jsonata_expr: JSONata "
                    "expressions are not supported yet; give the key's path as denorm_key",
                    ds.dataset_id, ds.origin, i));
            }
            return false;
        }
        compiled_denorm_field f;
        f.config = &field;
        f.key_pointer = dotted_to_pointer(field.denorm_key);
        f.where = master_location{denorm.redis_db_host, denorm.redis_db_port, field.redis_db};
        c.denorm_fields.push_back(std::move(f));
    }
    return true;
}

}  // namespace

std::string dotted_to_pointer(std::string_view dotted) {
    std::string out;
    out.reserve(dotted.size() + 1);
    out.push_back('/');
    for (char c : dotted) {
        // JSON-pointer escapes for the characters that mean something there.
        if (c == '.') {
            out.push_back('/');
        } else if (c == '~') {
            out.append("~0");
        } else if (c == '/') {
            out.append("~1");
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::shared_ptr<const dataset_catalog> dataset_catalog::build(
    const dataset::snapshot& snapshot, const dataset::system_settings& settings,
    std::vector<std::string>* problems) {
    auto catalog = std::make_shared<dataset_catalog>();
    catalog->_version = snapshot.version();
    for (const auto& ds : snapshot.datasets()) {
        compiled_dataset c;
        c.config = ds;
        if (ds->validation_enabled() && !ds->data_schema.empty()) {
            auto compiled = schema::compiled_schema::compile(ds->data_schema);
            if (!compiled) {
                if (problems != nullptr) {
                    problems->push_back(fmt::format("dataset '{}' ({}): data_schema: {}",
                                                    ds->dataset_id, ds->origin,
                                                    compiled.error().message));
                }
                continue;
            }
            c.schema = std::move(compiled).value();
        }
        const auto& format = ds->dataset_config.keys_config.timestamp_format;
        const auto& tz = ds->dataset_config.dataset_tz;
        auto rule = index_timestamp_rule::compile(
            format.empty() ? std::nullopt : std::optional<std::string_view>(format),
            tz.empty() ? std::nullopt : std::optional<std::string_view>(tz));
        if (!rule) {
            if (problems != nullptr) {
                problems->push_back(fmt::format("dataset '{}' ({}): dataset_config: {}",
                                                ds->dataset_id, ds->origin, rule.error().message));
            }
            continue;
        }
        c.timestamp_rule = std::move(rule).value();
        if (!c.timestamp_rule.diagnostic().empty() && problems != nullptr) {
            problems->push_back(fmt::format("dataset '{}' ({}): warning: {}", ds->dataset_id,
                                            ds->origin, c.timestamp_rule.diagnostic()));
        }
        auto transformations = compile_transformations(*ds, settings);
        if (!transformations) {
            if (problems != nullptr) {
                problems->push_back(fmt::format("dataset '{}' ({}): {}", ds->dataset_id, ds->origin,
                                                transformations.error().message));
            }
            continue;
        }
        c.transformations = std::move(transformations).value();
        c.extraction_pointer = dotted_to_pointer(ds->extraction_config.extraction_key);
        const std::string& extraction_key = ds->extraction_config.extraction_key;
        if (!extraction_key.empty() && extraction_key.find('.') == std::string::npos) {
            c.extraction_member = extraction_key;
        }
        c.batch_dedup_pointer = dotted_to_pointer(ds->extraction_config.dedup_config.dedup_key);
        c.dedup_pointer = dotted_to_pointer(ds->dedup_config.dedup_key);
        const std::string& ts_key = ds->dataset_config.keys_config.timestamp_key;
        c.timestamp_in_meta = ts_key.rfind("obsrv_meta.", 0) == 0;
        c.timestamp_pointer =
            dotted_to_pointer(c.timestamp_in_meta ? ts_key.substr(11) : std::string_view(ts_key));
        if (!compile_denorm(*ds, c, problems)) {
            continue;
        }
        if (ds->type == dataset::dataset_type::master) {
            const auto& cache = ds->dataset_config.cache_config;
            c.data_key_pointer = dotted_to_pointer(ds->dataset_config.keys_config.data_key);
            c.cache_location =
                master_location{cache.redis_db_host, cache.redis_db_port, cache.redis_db};
            if (ds->dataset_config.keys_config.data_key.empty() && problems != nullptr) {
                problems->push_back(
                    fmt::format("dataset '{}' ({}): warning: master dataset without "
                                "dataset_config.keys_config.data_key: its records fail with "
                                "ERR_MASTER_DATA_1017",
                                ds->dataset_id, ds->origin));
            }
        }
        auto [it, inserted] = catalog->_by_id.emplace(ds->dataset_id, std::move(c));
        const compiled_dataset& stored = it->second;
        if (inserted && stored.config->type == dataset::dataset_type::master &&
            stored.config->is_live() && !stored.config->router_config.topic.empty()) {
            catalog->_master_by_topic.emplace(stored.config->router_config.topic, &stored);
        }
    }
    return catalog;
}

const compiled_dataset* dataset_catalog::find(std::string_view dataset_id) const {
    auto it = _by_id.find(dataset_id);
    return it == _by_id.end() ? nullptr : &it->second;
}

const compiled_dataset* dataset_catalog::find_by_router_topic(std::string_view topic) const {
    for (const auto& [id, c] : _by_id) {
        if (c.config->router_config.topic == topic) {
            return &c;
        }
    }
    return nullptr;
}

std::vector<std::string> dataset_catalog::router_topics() const {
    std::vector<std::string> topics;
    for (const auto& [id, c] : _by_id) {
        if (!c.config->router_config.topic.empty()) {
            topics.push_back(c.config->router_config.topic);
        }
    }
    return topics;
}

std::vector<std::string> dataset_catalog::master_topics() const {
    std::vector<std::string> topics;
    for (const auto& [topic, c] : _master_by_topic) {
        topics.push_back(topic);
    }
    std::sort(topics.begin(), topics.end());
    return topics;
}

const compiled_dataset* dataset_catalog::find_master_by_topic(std::string_view topic) const {
    auto it = _master_by_topic.find(topic);
    return it == _master_by_topic.end() ? nullptr : it->second;
}

catalog_source::catalog_source(dataset::registry& registry,
                               std::function<void(const dataset_catalog&)> on_rebuild)
    : _on_rebuild(std::move(on_rebuild)) {
    registry.on_change([this](const dataset::snapshot& s) { rebuild(s); });
    rebuild(*registry.current());
}

catalog_source::catalog_source(std::shared_ptr<const dataset_catalog> fixed)
    : _catalog(std::move(fixed)) {
    _generation.store(1, std::memory_order_release);
}

std::shared_ptr<const dataset_catalog> catalog_source::current() const {
    std::lock_guard lock(_mutex);
    return _catalog;
}

void catalog_source::rebuild(const dataset::snapshot& snapshot) {
    std::vector<std::string> problems;
    auto catalog = dataset_catalog::build(snapshot, snapshot.system_config(), &problems);
    for (const auto& p : problems) {
        if (p.find("): warning: ") != std::string::npos) {
            logger()->warn("{}", p);
        } else {
            logger()->error("{} (the dataset is not loaded; its events go to failed)", p);
        }
    }
    logger()->info("{} datasets loaded (snapshot version {})", catalog->size(), snapshot.version());
    if (_on_rebuild) {
        _on_rebuild(*catalog);
    }
    {
        std::lock_guard lock(_mutex);
        _catalog = std::move(catalog);
    }
    _generation.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace obsrv::pipeline
