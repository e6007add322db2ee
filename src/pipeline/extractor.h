#pragma once

// Stage 1, Obsrv's ExtractionFunction (contracts §3.1): reads one entry-topic message, checks
// it (JSON, dataset, event), optionally drops duplicate batches, splits a batch at the dataset's
// extraction_key and wraps each event as {dataset, event, obsrv_meta}. Refused messages and
// events go to `failed` with Obsrv's ERR_EXT codes and system events; the extracted events are
// returned for the next stages (and written to `raw`).
//
// Owned by one worker (its simdjson parser is reused across messages).

#include <string>
#include <vector>

#include <simdjson.h>

#include "pipeline/dedup_store.h"
#include "pipeline/message_processor.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

/// Dedup keys reserved while processing one message, committed or released with it.
struct reserved_keys {
    std::vector<std::string> dataset_ids;
    std::vector<std::string> keys;
    std::vector<int64_t> periods_ms;
    void add(std::string_view dataset_id, std::string_view key, int64_t period_ms) {
        dataset_ids.emplace_back(dataset_id);
        keys.emplace_back(key);
        periods_ms.push_back(period_ms);
    }
    bool empty() const { return keys.empty(); }
    std::vector<dedup_probe> probes() const;
};

class extractor {
  public:
    /// `batch_dedup` may be null (batch dedup then passes everything, with a warning once).
    explicit extractor(dedup_store* batch_dedup) : _batch_dedup(batch_dedup) {}

    /// Extracts `in` into `events`; `reserved` collects the batch dedup key it reserved.
    void process(const input_message& in, const dataset_catalog& catalog, stage_context& ctx,
                 std::vector<event_record>& events, reserved_keys& reserved);

  private:
    bool parse(std::string_view text);

    dedup_store* _batch_dedup;
    simdjson::dom::parser _parser;
    simdjson::dom::element _root;
    std::string _padded;                            // patched copy for numbers simdjson refuses
    std::vector<std::string_view> _batch_elements;  // the batch's events as sent
};

/// The text of a scalar key value as Obsrv's asText() gives it: strings unescaped, integers in
/// decimal, other numbers in shortest form; false for other types (objects, arrays, booleans,
/// null).
bool key_text(simdjson::dom::element value, std::string& out);

/// The raw bytes of the value at a JSON pointer of object keys ("/a/b") in validated JSON text.
bool raw_at_pointer(std::string_view text, std::string_view pointer, std::string_view& out);

/// The raw bytes of each element of a JSON array (validated text).
bool split_array(std::string_view array, std::vector<std::string_view>& out);

}  // namespace obsrv::pipeline
