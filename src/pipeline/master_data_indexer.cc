#include "pipeline/master_data_indexer.h"

#include <chrono>
#include <thread>

#include "common/json_text.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/utf8.h"
#include "pipeline/envelope.h"
#include "pipeline/event_validator.h"
#include "pipeline/extractor.h"

namespace obsrv::pipeline {
namespace {

constexpr std::string_view k_job = "CacheIndexerJob";

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

pipeline_options context_options(const master_data_indexer_options& o) {
    pipeline_options p;
    p.failed_topic = o.failed_topic;
    p.system_events_topic = o.system_events_topic;
    return p;
}

bool is_blank(std::string_view s) {
    return json_text::trim(s).empty();
}

}  // namespace

master_data_indexer::master_data_indexer(const master_data_indexer_options& options,
                                         const catalog_source& catalogs, master_data_store& store,
                                         pipeline_metrics& metrics, metrics::registry* registry,
                                         const std::atomic<bool>* stopping)
    : _indexer_options(options),
      _options(context_options(options)),
      _catalogs(catalogs),
      _store(store),
      _registry(registry),
      _stopping(stopping),
      _ctx(_options, metrics) {}

const dataset_catalog& master_data_indexer::catalog() {
    const uint64_t generation = _catalogs.generation();
    if (_catalog == nullptr || generation != _catalog_generation) {
        _catalog = _catalogs.current();
        _catalog_generation = generation;
    }
    return *_catalog;
}

bool master_data_indexer::parse(std::string_view text) {
    auto r = _parser.parse(text.data(), text.size(), true);
    if (r.error() != simdjson::SUCCESS) {
        // Numbers Jackson accepts but simdjson refuses: check a patched copy.
        _padded.assign(text);
        _padded.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
        json_text::patch_big_numbers(_padded.data(), _padded.data() + text.size());
        r = _parser.parse(_padded.data(), text.size(), false);
    }
    if (r.error() != simdjson::SUCCESS) {
        return false;
    }
    _root = r.value_unsafe();
    return _root.is_object();
}

void master_data_indexer::count(std::string_view dataset_id, std::string_view result, uint64_t n) {
    if (_registry == nullptr || n == 0) {
        return;
    }
    std::string key(dataset_id);
    key.push_back('\0');
    key.append(result);
    auto it = _counters.find(key);
    if (it == _counters.end()) {
        metrics::counter& c = _registry->add_counter(
            "obsrv_master_data_records_total",
            "Master-data records handled by the cache indexer: inserted (new key), updated "
            "(merged into the stored record) or failed (to masterdata.failed)",
            {{"dataset", std::string(dataset_id)}, {"result", std::string(result)}});
        it = _counters.emplace(std::move(key), &c).first;
    }
    it->second->inc(n);
}

void master_data_indexer::fail_unparsable(const input_message& in) {
    // Obsrv's deserializer keeps such a record as {"invalid_json": <text>}; without a dataset
    // the base function fails it with ERR_EXT_1004.
    obsrv_meta meta = default_obsrv_meta(in.timestamp_ms, _ctx.now_ms);
    meta.mark_failed(producer::validator, errors::missing_dataset_id.code,
                     std::string(errors::missing_dataset_id.message), _ctx.now_ms);
    std::string member = "\"invalid_json\":";
    append_json_string(member, replace_invalid_utf8(in.value));  // as Java decodes it
    const std::string_view members[] = {member};
    std::string payload;
    write_failed_message(payload, members, {}, meta);
    _ctx.emit(_options.failed_topic, std::move(payload));
    const system_event_error e{producer::validator,
                               stage_status::failed,
                               "MissingDatasetId",
                               errors::missing_dataset_id.code,
                               errors::missing_dataset_id.message,
                               "critical",
                               int64_t{1}};
    const pipeline_stats stats = stats_from_meta(meta);
    _ctx.emit_system_event(make_system_event({k_job, producer::validator, "ALL", {}, meta.source},
                                             &e, &stats, _ctx.now_ms));
    _ctx.count("ALL", producer::validator, count_status::failed);
}

bool master_data_indexer::store(const compiled_dataset& ds, std::string_view key,
                                std::string_view json, upsert_counts& counts) {
    const master_put put{key, json};
    int64_t backoff_ms = 50;
    bool warned = false;
    for (;;) {
        auto stored = _store.upsert(ds.cache_location, {&put, 1}, counts);
        if (stored) {
            return true;
        }
        if (_stopping != nullptr && _stopping->load(std::memory_order_relaxed)) {
            return false;
        }
        if (!warned) {
            log::get("pipeline")
                ->warn("cache indexer: {}; holding the record and retrying",
                       stored.error().message);
            warned = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
    }
}

processing_token master_data_indexer::process(const input_message& in,
                                              std::vector<output_message>& out) {
    _ctx.now_ms = wall_clock_ms();
    _ctx.out = &out;
    struct reset_out {
        stage_context& ctx;
        ~reset_out() { ctx.out = nullptr; }
    } reset{_ctx};

    if (!parse(in.value)) {
        fail_unparsable(in);
        return 0;
    }
    event_record r;
    r.event = _root;
    r.json = json_text::trim(in.value);
    r.meta = default_obsrv_meta(in.timestamp_ms, _ctx.now_ms);

    const compiled_dataset* ds = catalog().find_master_by_topic(in.topic);
    if (ds == nullptr) {
        // ERR_EXT_1005 under the topic's name, as Obsrv's base function does for an unknown
        // dataset (no compiled dataset to hang the event on: written here).
        r.meta.mark_failed(producer::validator, errors::missing_dataset_configuration.code,
                           std::string(errors::missing_dataset_configuration.message), _ctx.now_ms);
        std::string payload;
        write_failed_event(payload, in.topic, r.json, r.meta);
        _ctx.emit(_options.failed_topic, std::move(payload));
        const system_event_error e{producer::validator,
                                   stage_status::failed,
                                   "MissingDatasetId",
                                   errors::missing_dataset_configuration.code,
                                   errors::missing_dataset_configuration.message,
                                   "critical",
                                   int64_t{1}};
        const pipeline_stats stats = stats_from_meta(r.meta);
        _ctx.emit_system_event(make_system_event(
            {k_job, producer::validator, in.topic, {}, r.meta.source}, &e, &stats, _ctx.now_ms));
        _ctx.count(in.topic, producer::validator, count_status::failed);
        return 0;
    }
    r.dataset = ds;
    const auto& config = *ds->config;

    simdjson::dom::element value;
    std::string key;
    const bool have_key =
        !config.dataset_config.keys_config.data_key.empty() &&
        r.event.at_pointer(ds->data_key_pointer).get(value) == simdjson::SUCCESS &&
        (value.is_string() || value.is_number()) && key_text(value, key) && !is_blank(key);
    if (!have_key) {
        _ctx.fail_event(r, producer::masterdataprocessor, errors::missing_master_data_key, k_job,
                        "MissingMasterDatasetKey");
        count(config.dataset_id, "failed", 1);
        return 0;
    }

    // The record minus obsrv_meta (the router's indexTS stays), as the indexer stores it.
    simdjson::dom::element ignored;
    std::string without;
    std::string_view json = r.json;
    if (r.event.at_key("obsrv_meta").get(ignored) == simdjson::SUCCESS) {
        without = remove_members(r.json, {{"", "obsrv_meta"}});
        json = without;
    }
    upsert_counts counts;
    if (!store(*ds, key, json, counts)) {
        out.clear();
        return k_not_processed;
    }
    count(config.dataset_id, "inserted", counts.inserted);
    count(config.dataset_id, "updated", counts.updated);
    r.meta.mark(producer::masterdataprocessor, stage_status::success, _ctx.now_ms);
    _ctx.count(r, producer::masterdataprocessor, count_status::success);
    if (!_indexer_options.stats_topic.empty()) {
        r.meta.mark_complete(config.data_version, _ctx.now_ms);
        std::string payload = "{\"dataset\":";
        append_json_string(payload, config.dataset_id);
        payload.append(",\"obsrv_meta\":");
        r.meta.write(payload);
        payload.push_back('}');
        _ctx.emit(_indexer_options.stats_topic, std::move(payload));
    }
    return 0;
}

}  // namespace obsrv::pipeline
