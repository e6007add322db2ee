#pragma once

// Obsrv `system.events` METRIC events (contracts §5, Models.scala SystemEvent), built as JSON
// text. Optional fields are omitted when absent (Jackson Include.NON_ABSENT), in Obsrv's field
// order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/obsrv_meta.h"

namespace obsrv::pipeline {

/// `ctx`: who reports, about which dataset.
struct system_event_context {
    std::string_view job;  // pdata.id: Obsrv's job name ("ExtractorJob", "DruidRouterJob", ...)
    producer pid = producer::extractor;
    std::string_view dataset;       // "ALL" when unknown; empty = omitted
    std::string_view dataset_type;  // "event" | "master" | ...; empty = omitted
    std::string_view source;        // raw JSON of obsrv_meta.source; empty = omitted
};

/// `data.error` (ErrorLog).
struct system_event_error {
    producer pdata_id = producer::extractor;
    stage_status pdata_status = stage_status::failed;
    std::string_view error_type;  // FunctionalError: "RequiredFieldsMissing", ...
    std::string_view error_code;
    std::string_view error_message;
    std::string_view error_level;  // "debug" | "info" | "warn" | "critical"
    std::optional<int64_t> error_count;
};

/// `data.pipeline_stats` (PipelineStats).
struct pipeline_stats {
    std::optional<int64_t> extractor_events;
    std::optional<stage_status> extractor_status;
    std::optional<int64_t> extractor_time;
    std::optional<stage_status> validator_status;
    std::optional<int64_t> validator_time;
    std::optional<stage_status> dedup_status;
    std::optional<int64_t> dedup_time;
    std::optional<stage_status> denorm_status;
    std::optional<int64_t> denorm_time;
    std::optional<stage_status> transform_status;
    std::optional<int64_t> transform_time;
    std::optional<int64_t> total_processing_time;
    std::optional<int64_t> latency_time;
    std::optional<int64_t> processing_time;
    bool operator==(const pipeline_stats&) const = default;
};

/// Obsrv's SystemEventHandler.generateSystemEvent: the stats read from an event's obsrv_meta.
pipeline_stats stats_from_meta(const obsrv_meta& meta);

/// One system event as JSON; `ets` in ms; `extra` (optional) is raw JSON for `data.extra`.
std::string make_system_event(const system_event_context& ctx, const system_event_error* error,
                              const pipeline_stats* stats, int64_t ets,
                              std::string_view extra = {});

}  // namespace obsrv::pipeline
