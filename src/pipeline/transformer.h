#pragma once

// Stage 5, Obsrv's TransformerFunction (contracts §3.5): applies the dataset's mask and encrypt
// transformations (transformation_plan) to each event.
//   - Every transformation reads the event as it came in; the results are merged into it
//     (event_patch), so the event is re-serialised, untouched values keeping their bytes.
//   - A transformation whose input is not text (missing, object, array, boolean, null) fails
//     with ERR_TRANSFORM_1024, and its field_key is left out of the event (Obsrv writes null,
//     which its serialiser drops).
//   - Any failed Strict transformation (mode absent = Strict) fails the event: ERR_TRANSFORM_1023
//     to pipeline.transform_failed_topic; only Lenient ones failed: flag `partial`; else
//     `success`; no transformations: `skipped`.
//   - Failed and partial events get one system event per error code (error_count = fields),
//     as Obsrv's logSystemEvents, but with pid / pdata_id `transformer` where Obsrv writes
//     `denorm`.
//
// Owned by one worker (its cipher, buffers and re-parsed documents are reused).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "pipeline/event_patch.h"
#include "pipeline/field_cipher.h"
#include "pipeline/field_text.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

class transformer {
  public:
    /// Transforms the events that passed the earlier stages.
    void process(std::vector<event_record>& events, stage_context& ctx);

  private:
    void transform(event_record& r, stage_context& ctx);
    bool encrypt(const std::string& key, std::string_view plain, std::string& out);
    void reparse(event_record& r);

    field_reader _reader;
    event_patch _patch;
    std::optional<field_cipher> _cipher;
    std::string _input;
    std::string _output;
    std::string _text;
    // Events whose rewrite changed what the router reads are parsed again into these (one per
    // such event of the current message).
    simdjson::dom::parser _parser;
    std::vector<std::unique_ptr<simdjson::dom::document>> _documents;
    size_t _documents_used = 0;
    std::string _patched;
};

}  // namespace obsrv::pipeline
