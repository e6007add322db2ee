#pragma once

// Last stage, Obsrv's DynamicRouterFunction (contracts §3.6): computes indexTS from the
// dataset's timestamp_key and writes the event's own members + obsrv_meta + indexTS to the
// dataset's router topic. Events without a usable timestamp fail with ERR_ROUTER_1019, except
// for master datasets, which are routed anyway. Each routed event then gets markComplete's
// totals and a completion system event (or, in interval mode, one aggregate per dataset and
// interval). As in Obsrv, the routed message is written before markComplete, so it carries
// the flags and timespans but not the totals.

#include <string>
#include <unordered_map>

#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

class router {
  public:
    explicit router(const pipeline_options& options) : _options(options) {}

    void process(event_record& r, stage_context& ctx);

    /// Interval mode: writes the aggregates whose interval ended (all of them when `force`).
    void flush_aggregates(stage_context& ctx, bool force);

  private:
    struct aggregate {
        std::string dataset_type;
        int64_t started_ms = 0;
        int64_t events = 0;
        int64_t total_processing_time = 0;
        int64_t latency_time = 0;
        int64_t processing_time = 0;
    };

    /// The previous completion event and what it was built from.
    struct completion {
        bool valid = false;
        const compiled_dataset* dataset = nullptr;
        int64_t ets = 0;
        pipeline_stats stats;
        std::string source;
        std::string event;
    };

    const pipeline_options& _options;
    std::unordered_map<std::string, aggregate> _aggregates;
    completion _last_completion;
};

}  // namespace obsrv::pipeline
