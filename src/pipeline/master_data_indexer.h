#pragma once

// Obsrv's cache indexer (CacheIndexerJob + MasterDataProcessorFunction + MasterDataCache,
// contracts §3.7) as a message_processor for pipeline_runtime: it consumes the router topics
// of the Live master datasets and writes their records into the master-data store the
// denormalizer reads.
//
// Per record (a message of a master dataset's topic, wrapped as Obsrv's
// TopicDeserializationSchema does: {"dataset":<topic>,"event":<record>} + a fresh obsrv_meta):
//   - not a JSON object → ERR_EXT_1004 (the wrapper has no dataset), dataset "ALL";
//   - no Live master dataset has this topic → ERR_EXT_1005;
//   - the record's value at keys_config.data_key missing (or not a non-blank string or a
//     number) → ERR_MASTER_DATA_1017;
//   each to the failed topic (masterdata.failed) with Obsrv's markFailure system event;
//   - else the record minus its obsrv_meta (indexTS stays) is deep-merged into the stored
//     record of that key (json_merge.h) and stored without expiry; a stats message
//     {"dataset":<id>,"obsrv_meta":{...,"flags":{"masterdataprocessor":"success"},...totals}}
//     goes to the stats topic (masterdata.stats), as obsrv 2.0's MasterDataProcessor wrote.
// The runtime commits a record's offset once its outputs are delivered, which is after the
// store write.
//
// A store that does not answer holds the worker (retrying with a back-off), so consumption
// pauses; once the runtime stops, process() returns k_not_processed instead (the record is
// read again after the restart).
//
// One indexer per worker thread; the catalog source and the store are shared.

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "common/metrics.h"
#include "pipeline/dataset_catalog.h"
#include "pipeline/master_data_store.h"
#include "pipeline/message_processor.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

struct master_data_indexer_options {
    std::string failed_topic = "masterdata.failed";
    std::string stats_topic = "masterdata.stats";  // empty: no stats messages
    std::string system_events_topic = "system.events";
};

class master_data_indexer final : public message_processor {
  public:
    /// `registry` (optional) gets obsrv_master_data_records_total{dataset,result}.
    master_data_indexer(const master_data_indexer_options& options, const catalog_source& catalogs,
                        master_data_store& store, pipeline_metrics& metrics,
                        metrics::registry* registry = nullptr,
                        const std::atomic<bool>* stopping = nullptr);

    processing_token process(const input_message& in, std::vector<output_message>& out) override;
    void complete(processing_token) override {}
    void abandon(processing_token) override {}

  private:
    const dataset_catalog& catalog();
    bool parse(std::string_view text);
    void fail_unparsable(const input_message& in);
    /// Upserts, waiting out a store that does not answer; false when the runtime stops.
    bool store(const compiled_dataset& ds, std::string_view key, std::string_view json,
               upsert_counts& counts);
    void count(std::string_view dataset_id, std::string_view result, uint64_t n);

    master_data_indexer_options _indexer_options;
    pipeline_options _options;  // failed and system events topics for the stage context
    const catalog_source& _catalogs;
    master_data_store& _store;
    metrics::registry* _registry;
    const std::atomic<bool>* _stopping;
    stage_context _ctx;
    std::shared_ptr<const dataset_catalog> _catalog;
    uint64_t _catalog_generation = 0;
    simdjson::dom::parser _parser;
    simdjson::dom::element _root;
    std::string _padded;
    std::unordered_map<std::string, metrics::counter*> _counters;
};

}  // namespace obsrv::pipeline
