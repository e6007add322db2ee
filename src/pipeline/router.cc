#include "pipeline/router.h"

#include <charconv>

#include "pipeline/envelope.h"
#include "pipeline/event_validator.h"
#include "pipeline/extractor.h"

namespace obsrv::pipeline {

namespace {

// The timestamp key's value: from obsrv_meta for "obsrv_meta.*" keys, else from the event
// (numbers by their literal, which decides the epoch unit as Jackson's asText() does).
timestamp_value find_timestamp(const event_record& r) {
    const compiled_dataset& ds = *r.dataset;
    if (ds.timestamp_in_meta) {
        const std::string_view field = std::string_view(ds.timestamp_pointer).substr(1);
        std::optional<int64_t> v;
        if (field == "syncts") {
            v = r.meta.syncts;
        } else if (field == "processingStartTime") {
            v = r.meta.processing_start_time;
        } else if (field == "prevProcessingTime") {
            v = r.meta.prev_processing_time;
        }
        return v ? timestamp_value::integer(*v) : timestamp_value::missing();
    }
    simdjson::dom::element value;
    if (r.event.at_pointer(ds.timestamp_pointer).get(value) != simdjson::SUCCESS) {
        return timestamp_value::missing();
    }
    if (value.is_number()) {
        std::string_view literal;
        if (raw_at_pointer(r.json, ds.timestamp_pointer, literal)) {
            return timestamp_value::from_element(value, literal);
        }
    }
    return timestamp_value::from_element(value);
}

}  // namespace

void router::process(event_record& r, stage_context& ctx) {
    const auto& config = *r.dataset->config;
    const index_ts ts = r.dataset->timestamp_rule.evaluate(find_timestamp(r));
    const bool master = config.type == dataset::dataset_type::master;
    if (!ts.valid && !master) {
        ctx.fail_event(r, producer::router, errors::index_key_missing, jobs::router,
                       "MissingTimestampKey");
        return;
    }
    // Obsrv puts obsrv_meta and indexTS into the event map, replacing members of those names.
    std::string_view event_json = r.json;
    std::string without;
    simdjson::dom::element ignored;
    if (r.event.at_key("obsrv_meta").get(ignored) == simdjson::SUCCESS ||
        r.event.at_key("indexTS").get(ignored) == simdjson::SUCCESS) {
        without = remove_members(r.json, {{"", "obsrv_meta"}, {"", "indexTS"}});
        event_json = without;
    }
    std::string payload;
    payload.reserve(event_json.size() + 400);
    write_routed_event(payload, event_json, ctx.meta_text.text(r.meta), ts);
    ctx.emit(config.router_config.topic, std::move(payload));
    ctx.count(r, producer::router, count_status::success);

    r.meta.mark_complete(config.data_version, ctx.now_ms);
    if (_options.system_event_per_routed_event) {
        // The events of a batch mostly share their stats and clock reading, so mostly share
        // their completion event: built again only when something in it differs.
        const pipeline_stats stats = stats_from_meta(r.meta);
        completion& c = _last_completion;
        if (!c.valid || c.dataset != r.dataset || c.ets != ctx.now_ms || !(c.stats == stats) ||
            c.source != r.meta.source) {
            c.event = make_system_event({jobs::router, producer::router, config.dataset_id,
                                         dataset::to_string(config.type), r.meta.source},
                                        nullptr, &stats, ctx.now_ms);
            c.dataset = r.dataset;
            c.ets = ctx.now_ms;
            c.stats = stats;
            c.source.assign(r.meta.source);
            c.valid = true;
        }
        ctx.emit_system_event(c.event);
        return;
    }
    aggregate& a = _aggregates[config.dataset_id];
    if (a.events == 0) {
        a.started_ms = ctx.now_ms;
        a.dataset_type = dataset::to_string(config.type);
    }
    ++a.events;
    a.total_processing_time += *r.meta.total_processing_time;
    a.latency_time += *r.meta.latency_time;
    a.processing_time += *r.meta.processing_time;
}

void router::flush_aggregates(stage_context& ctx, bool force) {
    for (auto& [dataset_id, a] : _aggregates) {
        if (a.events == 0 ||
            (!force && ctx.now_ms - a.started_ms < _options.system_events_interval_ms)) {
            continue;
        }
        // Averages over the interval; data.extra says how many events they cover.
        pipeline_stats stats;
        stats.total_processing_time = a.total_processing_time / a.events;
        stats.latency_time = a.latency_time / a.events;
        stats.processing_time = a.processing_time / a.events;
        std::string extra = "{\"aggregated_events\":";
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, a.events);
        (void)ec;
        extra.append(buf, end);
        extra.append(",\"interval_start\":");
        auto [end2, ec2] = std::to_chars(buf, buf + sizeof buf, a.started_ms);
        (void)ec2;
        extra.append(buf, end2);
        extra.push_back('}');
        ctx.emit_system_event(
            make_system_event({jobs::router, producer::router, dataset_id, a.dataset_type, {}},
                              nullptr, &stats, ctx.now_ms, extra));
        a.events = 0;
        a.total_processing_time = a.latency_time = a.processing_time = 0;
    }
}

}  // namespace obsrv::pipeline
