#include "pipeline/pipeline_processor.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "pipeline/envelope.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/undeliverable.h"

namespace obsrv::pipeline {

namespace {

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Accepts every key: stands in for a store that cannot answer while the worker stops.
class pass_all_store final : public dedup_store {
  public:
    status reserve(std::span<const dedup_probe>, std::span<dedup_verdict> verdicts,
                   int64_t) override {
        for (auto& v : verdicts) {
            v = dedup_verdict::unique;
        }
        return {};
    }
    void commit(std::span<const dedup_probe>, int64_t) override {}
    void release(std::span<const dedup_probe>) override {}
};

}  // namespace

pipeline_processor::pipeline_processor(const pipeline_options& options,
                                       const catalog_source& catalogs, dedup_store& dedup,
                                       pipeline_metrics& metrics, const std::atomic<bool>* stopping,
                                       master_data_store* master_data)
    : _options(options),
      _catalogs(catalogs),
      _dedup(dedup),
      _stopping(stopping),
      _ctx(options, metrics),
      _extractor(&dedup),
      _deduplicator(dedup),
      _own_master_data(master_data == nullptr ? std::make_unique<memory_master_store>() : nullptr),
      _denormalizer(master_data != nullptr ? *master_data : *_own_master_data),
      _router(options) {}

const dataset_catalog& pipeline_processor::catalog() {
    const uint64_t generation = _catalogs.generation();
    if (_catalog == nullptr || generation != _catalog_generation) {
        _catalog = _catalogs.current();
        _catalog_generation = generation;
    }
    return *_catalog;
}

processing_token pipeline_processor::process(const input_message& in,
                                             std::vector<output_message>& out) {
    _ctx.now_ms = wall_clock_ms();
    _ctx.out = &out;
    _ctx.meta_text.reset();
    _ctx.input_position.clear();
    if (_dedup.keeps_reservations()) {
        fmt::format_to(std::back_inserter(_ctx.input_position), "{}/{}/{}", in.topic, in.partition,
                       in.offset);
    }
    _events.clear();
    reserved_keys reserved;
    _extractor.process(in, catalog(), _ctx, _events, reserved);

    const auto stage_output = [&](bool enabled, const std::string& topic) {
        if (!enabled) {
            return;
        }
        for (const event_record& r : _events) {
            if (r.result == stage_result::pass) {
                std::string payload;
                payload.reserve(r.json.size() + 400);
                write_stage_message(payload, r.dataset->config->dataset_id, r.json,
                                    _ctx.meta_text.text(r.meta));
                _ctx.emit(topic, std::move(payload));
            }
        }
    };
    stage_output(_options.write_raw, _options.raw_topic);

    for (event_record& r : _events) {
        _validator.process(r, _ctx);
    }

    // Dedup: a store that cannot answer holds the worker (and so, through the full ring, the
    // consumer) until it can, so no duplicate slips through an outage.
    int64_t backoff_ms = 50;
    bool warned = false;
    while (!_deduplicator.process(_events, _ctx, reserved)) {
        if (_stopping != nullptr && _stopping->load(std::memory_order_relaxed)) {
            pass_all_store bypass;
            deduplicator fallback(bypass);
            reserved_keys ignored;
            (void)fallback.process(_events, _ctx, ignored);
            ++_bypassed;
            break;
        }
        if (!warned) {
            log::get("pipeline")->warn("dedup store unavailable; holding the batch and retrying");
            warned = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
        _ctx.now_ms = wall_clock_ms();
    }
    stage_output(_options.write_unique, _options.unique_topic);

    if (!denormalize()) {
        // Stopping while the master-data store does not answer: nothing of this message is
        // written and its dedup keys are freed; its offset stays uncommitted.
        out.clear();
        if (!reserved.empty()) {
            const auto probes = reserved.probes();
            _dedup.release(probes);
        }
        _ctx.out = nullptr;
        return k_not_processed;
    }
    stage_output(_options.write_denorm, _options.denorm_topic);
    _transformer.process(_events, _ctx);
    stage_output(_options.write_transform, _options.transform_topic);

    for (event_record& r : _events) {
        if (r.result == stage_result::pass) {
            _router.process(r, _ctx);
        }
    }
    _ctx.out = nullptr;

    if (reserved.empty()) {
        return 0;
    }
    const processing_token token = _next_token++;
    _pending.emplace(token, std::move(reserved));
    return token;
}

bool pipeline_processor::denormalize() {
    int64_t backoff_ms = 50;
    bool warned = false;
    while (!_denormalizer.process(_events, _ctx)) {
        if (_stopping != nullptr && _stopping->load(std::memory_order_relaxed)) {
            return false;
        }
        if (!warned) {
            log::get("pipeline")
                ->warn("master data store unavailable; holding the batch and retrying");
            warned = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min<int64_t>(backoff_ms * 2, 1000);
        _ctx.now_ms = wall_clock_ms();
    }
    return true;
}

void pipeline_processor::complete(processing_token token) {
    auto it = _pending.find(token);
    if (it == _pending.end()) {
        return;
    }
    const auto probes = it->second.probes();
    _dedup.commit(probes, wall_clock_ms());
    _pending.erase(it);
}

void pipeline_processor::abandon(processing_token token) {
    auto it = _pending.find(token);
    if (it == _pending.end()) {
        return;
    }
    const auto probes = it->second.probes();
    _dedup.release(probes);
    _pending.erase(it);
}

void pipeline_processor::undeliverable(const undeliverable_output& failed,
                                       std::vector<output_message>& out) {
    const pipeline_options& o = _options;
    for (const std::string* topic :
         {&o.raw_topic, &o.unique_topic, &o.denorm_topic, &o.transform_topic, &o.failed_topic,
          &o.transform_failed_topic, &o.system_events_topic}) {
        if (failed.topic == *topic) {
            return;
        }
    }
    _ctx.now_ms = wall_clock_ms();
    _ctx.out = &out;
    fail_undeliverable_routed_event(failed, catalog(), _ctx);
    _ctx.out = nullptr;
}

void pipeline_processor::tick(int64_t now_ms, std::vector<output_message>& out) {
    _ctx.now_ms = now_ms;
    _ctx.out = &out;
    _router.flush_aggregates(_ctx, false);
    _ctx.out = nullptr;
}

}  // namespace obsrv::pipeline
