#include "pipeline/stage_context.h"

#include "pipeline/envelope.h"

namespace obsrv::pipeline {

namespace {

constexpr std::array<std::string_view, count_status_count> k_count_status_names = {
    "success", "failed", "skipped", "partial", "ignored"};

}  // namespace

pipeline_options stage_options(const pipeline_settings& p) {
    pipeline_options o;
    o.raw_topic = p.raw_topic;
    o.unique_topic = p.unique_topic;
    o.denorm_topic = p.denorm_topic;
    o.transform_topic = p.transform_topic;
    o.failed_topic = p.failed_topic;
    o.transform_failed_topic = p.transform_failed_topic;
    o.system_events_topic = p.system_events_topic;
    o.write_raw = p.write_raw;
    o.write_unique = p.write_unique;
    o.write_denorm = p.write_denorm;
    o.write_transform = p.write_transform;
    o.max_event_size = p.max_event_size;
    o.system_event_per_routed_event = p.system_events != "interval";
    o.system_events_interval_ms = p.system_events_interval_ms;
    return o;
}

const pipeline_metrics::dataset_counters* pipeline_metrics::counters_for(
    std::string_view dataset_id) {
    std::lock_guard lock(_mutex);
    auto it = _by_dataset.find(std::string(dataset_id));
    if (it != _by_dataset.end()) {
        return it->second.get();
    }
    auto counters = std::make_unique<dataset_counters>();
    for (size_t p = 0; p < producer_count; ++p) {
        for (size_t s = 0; s < count_status_count; ++s) {
            metrics::counter* c = nullptr;
            if (_registry != nullptr) {
                c = &_registry->add_counter(
                    "obsrv_pipeline_events_total",
                    "Events handled by each pipeline stage, by dataset and outcome (Obsrv's "
                    "flags; ignored = dropped because the dataset is not Live).",
                    {{"dataset", std::string(dataset_id)},
                     {"stage", std::string(to_string(static_cast<producer>(p)))},
                     {"status", std::string(k_count_status_names[s])}});
            } else {
                _unexported.push_back(std::make_unique<metrics::counter>());
                c = _unexported.back().get();
            }
            (*counters)[p * count_status_count + s] = c;
        }
    }
    auto* raw = counters.get();
    _by_dataset.emplace(std::string(dataset_id), std::move(counters));
    return raw;
}

void stage_context::count(std::string_view dataset_id, producer stage, count_status status,
                          uint64_t n) {
    if (_last_counters == nullptr || dataset_id != _last_dataset) {
        _last_counters = _metrics.counters_for(dataset_id);
        _last_dataset.assign(dataset_id);
    }
    (*_last_counters)[static_cast<size_t>(stage) * count_status_count + static_cast<size_t>(status)]
        ->inc(n);
}

void stage_context::mark_failed(event_record& r, producer stage, const obsrv_error& error,
                                const std::string& topic, std::string detailed_message) {
    r.result = stage_result::failed;
    r.meta.mark_failed(
        stage, error.code,
        detailed_message.empty() ? std::string(error.message) : std::move(detailed_message),
        now_ms);
    std::string payload;
    payload.reserve(r.json.size() + 512);
    write_failed_event(payload, r.dataset->config->dataset_id, r.json, r.meta);
    emit(topic, std::move(payload));
    count(r, stage, count_status::failed);
}

void stage_context::fail_event(event_record& r, producer stage, const obsrv_error& error,
                               std::string_view job, std::string_view functional_error,
                               bool with_system_event, std::string detailed_message) {
    mark_failed(r, stage, error, options.failed_topic, std::move(detailed_message));
    const auto& ds = *r.dataset->config;
    if (with_system_event) {
        const system_event_error e{stage,      stage_status::failed, functional_error,
                                   error.code, error.message,        "critical",
                                   int64_t{1}};
        const pipeline_stats stats = stats_from_meta(r.meta);
        emit_system_event(make_system_event(
            {job, stage, ds.dataset_id, dataset::to_string(ds.type), r.meta.source}, &e, &stats,
            now_ms));
    }
}

}  // namespace obsrv::pipeline
