#pragma once

// What every stage of one worker shares while it processes a message: the options, the clock
// reading for this message, the output list, the per-dataset counters and the helpers that
// write `failed` messages and system events the way Obsrv's markFailure does.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "common/settings.h"
#include "pipeline/error_codes.h"
#include "pipeline/event_record.h"
#include "pipeline/message_processor.h"
#include "pipeline/system_event.h"

namespace obsrv::pipeline {

struct pipeline_options {
    std::string raw_topic = "raw";
    std::string unique_topic = "unique";
    std::string denorm_topic = "denorm";
    std::string transform_topic = "transform";
    std::string failed_topic = "failed";
    /// Events a Strict transformation failed (ERR_TRANSFORM_1023).
    std::string transform_failed_topic = "transform.failed";
    std::string system_events_topic = "system.events";
    /// Intermediate topics can be switched off (the chain still runs; the router's dataset
    /// topic, failed and system.events are always written).
    bool write_raw = true;
    bool write_unique = true;
    bool write_denorm = true;
    bool write_transform = true;
    /// Extractor: events larger than this (bytes as received) fail with ERR_EXT_1003.
    int64_t max_event_size = 1048576;
    /// Router completion events: one per routed event (Obsrv), or, when false, one aggregate
    /// per dataset every system_events_interval_ms.
    bool system_event_per_routed_event = true;
    int64_t system_events_interval_ms = 60000;
};

/// The stage options of obsrvd's pipeline.* settings (the pipeline role and the tools that
/// must run the chain exactly as it does).
pipeline_options stage_options(const pipeline_settings& settings);

/// Per-dataset event counters: obsrv_pipeline_events_total{dataset,stage,status}.
enum class count_status : uint8_t { success, failed, skipped, partial, ignored };
inline constexpr size_t count_status_count = 5;

class pipeline_metrics {
  public:
    using dataset_counters = std::array<metrics::counter*, producer_count * count_status_count>;

    /// `registry` may be null (benchmarks): counters then live here, unexported.
    explicit pipeline_metrics(metrics::registry* registry) : _registry(registry) {}

    /// The counters of a dataset ("ALL" for messages without a known dataset). Takes a lock:
    /// callers cache the pointer (it stays valid for the life of this object).
    const dataset_counters* counters_for(std::string_view dataset_id);

  private:
    std::mutex _mutex;
    metrics::registry* _registry;
    std::unordered_map<std::string, std::unique_ptr<dataset_counters>> _by_dataset;
    std::vector<std::unique_ptr<metrics::counter>> _unexported;
};

class stage_context {
  public:
    stage_context(const pipeline_options& opts, pipeline_metrics& metrics)
        : options(opts), _metrics(metrics) {}

    const pipeline_options& options;
    int64_t now_ms = 0;
    std::vector<output_message>* out = nullptr;
    /// The JSON of the metas written for the current message; reset() before each message.
    meta_text_cache meta_text;
    /// "topic/partition/offset" of the message being processed (dedup probe origins; empty
    /// when the dedup store does not keep reservations).
    std::string input_position;

    void emit(const std::string& topic, std::string payload) {
        out->push_back(output_message{topic, std::move(payload)});
    }
    void emit_system_event(std::string payload) {
        emit(options.system_events_topic, std::move(payload));
    }

    /// markFailed of an extracted event: the failed-shaped message to `topic`, counted as
    /// failed; no system event.
    void mark_failed(event_record& r, producer stage, const obsrv_error& error,
                     const std::string& topic, std::string detailed_message = {});

    /// markFailure of an extracted event: `failed` message + the failure system event
    /// (error level critical, count 1, pipeline_stats from the flags).
    void fail_event(event_record& r, producer stage, const obsrv_error& error, std::string_view job,
                    std::string_view functional_error, bool with_system_event = true,
                    std::string detailed_message = {});

    void count(std::string_view dataset_id, producer stage, count_status status, uint64_t n = 1);
    void count(const event_record& r, producer stage, count_status status) {
        count(r.dataset->config->dataset_id, stage, status);
    }

  private:
    pipeline_metrics& _metrics;
    std::string _last_dataset;
    const pipeline_metrics::dataset_counters* _last_counters = nullptr;
};

/// Obsrv's job names (system event pdata.id) per stage.
namespace jobs {
inline constexpr std::string_view extractor = "ExtractorJob";
inline constexpr std::string_view preprocessor = "PipelinePreprocessorJob";
inline constexpr std::string_view transformer = "TransformerJob";
inline constexpr std::string_view router = "DruidRouterJob";
}  // namespace jobs

}  // namespace obsrv::pipeline
