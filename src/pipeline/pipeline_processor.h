#pragma once

// The unified pipeline's stage chain over one entry-topic message (Obsrv's
// UnifiedPipelineStreamTask): extractor → validator → dedup → denorm → transformer → router,
// each stage writing its intermediate topic as Obsrv does (raw, unique, denorm, transform, the
// dataset's router topic), failures to `failed`, metrics events to `system.events`.
//
// Transformer failures go to `transform.failed` (pipeline_options.transform_failed_topic).
//
// Stores that cannot answer (dedup or master data in Redis) hold the worker, retrying with a
// back-off, so consumption pauses rather than events passing unchecked or without their master
// data. Once the runtime stops, a dedup store that cannot answer is bypassed; a master-data
// store that cannot answer makes process() return k_not_processed (the message is processed
// again after the restart).
//
// Delivery awareness: dedup keys reserved for a message are committed in the store when the
// runtime reports all its outputs delivered (complete()), or released (abandon()).
//
// One processor per worker thread; the catalog source and the dedup store are shared.

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include "pipeline/dataset_catalog.h"
#include "pipeline/dedup_store.h"
#include "pipeline/deduplicator.h"
#include "pipeline/denormalizer.h"
#include "pipeline/event_validator.h"
#include "pipeline/extractor.h"
#include "pipeline/master_data_store.h"
#include "pipeline/message_processor.h"
#include "pipeline/router.h"
#include "pipeline/stage_context.h"
#include "pipeline/transformer.h"

namespace obsrv::pipeline {

class pipeline_processor final : public message_processor {
  public:
    /// `stopping` (optional): once true, a dedup store that cannot answer no longer blocks the
    /// worker; its events pass as unique (counted in dedup_store_bypassed()).
    /// `master_data` (optional): the denormalizer's store; without one, the processor has an
    /// empty one of its own (every lookup finds nothing: ERR_DENORM_1016).
    pipeline_processor(const pipeline_options& options, const catalog_source& catalogs,
                       dedup_store& dedup, pipeline_metrics& metrics,
                       const std::atomic<bool>* stopping = nullptr,
                       master_data_store* master_data = nullptr);

    processing_token process(const input_message& in, std::vector<output_message>& out) override;
    void complete(processing_token token) override;
    void abandon(processing_token token) override;
    void tick(int64_t now_ms, std::vector<output_message>& out) override;
    /// A routed message Kafka refused for good becomes a `failed` message (undeliverable.h).
    /// Refused intermediate-topic, failed (and transform.failed) and system-event messages are
    /// dropped: the event's fate is decided by its dataset topic, and a failed message that
    /// cannot be written has nowhere else to go (the runtime counts and logs them).
    void undeliverable(const undeliverable_output& failed,
                       std::vector<output_message>& out) override;

    uint64_t dedup_store_bypassed() const { return _bypassed; }

  private:
    const dataset_catalog& catalog();
    /// Runs the denormalizer, waiting out a store that does not answer; false when the runtime
    /// stops meanwhile.
    bool denormalize();

    const pipeline_options& _options;
    const catalog_source& _catalogs;
    dedup_store& _dedup;
    const std::atomic<bool>* _stopping;
    stage_context _ctx;
    extractor _extractor;
    event_validator _validator;
    deduplicator _deduplicator;
    std::unique_ptr<master_data_store> _own_master_data;  // when none was given
    denormalizer _denormalizer;
    transformer _transformer;
    router _router;

    std::shared_ptr<const dataset_catalog> _catalog;
    uint64_t _catalog_generation = 0;
    std::vector<event_record> _events;
    std::unordered_map<processing_token, reserved_keys> _pending;
    processing_token _next_token = 1;
    uint64_t _bypassed = 0;
};

}  // namespace obsrv::pipeline
