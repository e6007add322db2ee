#pragma once

// One event travelling through the stages of one entry-topic message. Views point into the
// input message or the worker's parsed document: a record lives only during process().

#include <string>
#include <string_view>

#include <simdjson.h>

#include "pipeline/dataset_catalog.h"
#include "pipeline/obsrv_meta.h"

namespace obsrv::pipeline {

/// What a stage decided for an event.
enum class stage_result : uint8_t {
    pass,    // continue to the next stage
    failed,  // written to `failed` by the stage; stop
    dropped  // silently dropped as Obsrv does (validator: dataset not Live); stop
};

struct event_record {
    const compiled_dataset* dataset = nullptr;
    /// The event object as parsed by the extractor; the transformer parses its rewrite again
    /// when that may change what the router reads (timestamp key, obsrv_meta, indexTS).
    simdjson::dom::element event;
    std::string_view json;  // its bytes as received, or `rewritten`
    std::string rewritten;  // the event as a stage rewrote it (DiscardNewFields, transformer)
    obsrv_meta meta;
    stage_result result = stage_result::pass;
};

}  // namespace obsrv::pipeline
