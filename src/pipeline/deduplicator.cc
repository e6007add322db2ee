#include "pipeline/deduplicator.h"

namespace obsrv::pipeline {

bool deduplicator::process(std::vector<event_record>& events, stage_context& ctx,
                           reserved_keys& reserved) {
    _indices.clear();
    _keys.clear();
    _probes.clear();
    // First pass: find the keys (warnings for missing or unusable ones are emitted only once
    // the store answered, so a retry does not repeat them).
    std::vector<std::pair<size_t, const obsrv_error*>> warnings;
    for (size_t i = 0; i < events.size(); ++i) {
        event_record& r = events[i];
        if (r.result != stage_result::pass) {
            continue;
        }
        const auto& config = *r.dataset->config;
        if (!config.dedup_config.drop_duplicates) {
            continue;
        }
        simdjson::dom::element value;
        std::string key;
        if (r.event.at_pointer(r.dataset->dedup_pointer).get(value) != simdjson::SUCCESS) {
            warnings.emplace_back(i, &errors::no_dedup_key);
            continue;
        }
        if (!key_text(value, key)) {
            warnings.emplace_back(i, &errors::dedup_key_not_text);
            continue;
        }
        _indices.push_back(i);
        _keys.push_back(std::move(key));
    }
    // The event's index in the message makes its origin: the same message processed again
    // gives the same indices, and two copies of a key in one message differ.
    const bool with_origin = _store.keeps_reservations();
    _origins.resize(_indices.size());
    for (size_t k = 0; k < _indices.size(); ++k) {
        _origins[k].clear();
        if (with_origin) {
            fmt::format_to(std::back_inserter(_origins[k]), "{}/{}", ctx.input_position,
                           _indices[k]);
        }
    }
    for (size_t k = 0; k < _indices.size(); ++k) {
        const auto& config = *events[_indices[k]].dataset->config;
        _probes.push_back(dedup_probe{config.dataset_id, _keys[k],
                                      config.dedup_config.dedup_period * 1000, _origins[k]});
    }
    _verdicts.assign(_probes.size(), dedup_verdict::unique);
    if (!_probes.empty() && !_store.reserve(_probes, _verdicts, ctx.now_ms)) {
        return false;
    }
    for (const auto& [i, err] : warnings) {
        event_record& r = events[i];
        const auto& config = *r.dataset->config;
        const system_event_error e{producer::dedup, stage_status::skipped, "DedupFailed",
                                   err->code,       err->message,          "warn",
                                   std::nullopt};
        ctx.emit_system_event(make_system_event({jobs::preprocessor,
                                                 producer::dedup,
                                                 config.dataset_id,
                                                 dataset::to_string(config.type),
                                                 {}},
                                                &e, nullptr, ctx.now_ms));
        r.meta.mark(producer::dedup, stage_status::success, ctx.now_ms);
        ctx.count(r, producer::dedup, count_status::success);
    }
    for (size_t k = 0; k < _indices.size(); ++k) {
        event_record& r = events[_indices[k]];
        if (_verdicts[k] == dedup_verdict::duplicate) {
            ctx.fail_event(r, producer::dedup, errors::duplicate_event, jobs::preprocessor,
                           "DedupFailed", false);
            continue;
        }
        reserved.add(_probes[k].dataset_id, _probes[k].key_text, _probes[k].period_ms);
        r.meta.mark(producer::dedup, stage_status::success, ctx.now_ms);
        ctx.count(r, producer::dedup, count_status::success);
    }
    return true;
}

}  // namespace obsrv::pipeline
