#pragma once

// Stage 4, Obsrv's DenormalizerFunction + DenormCache (contracts §3.4), over all the events of
// one message at once so that a remote store pays one round trip per message.
//
// Datasets without denorm fields: denorm=skipped. Otherwise, per field: the key is the event's
// value at `denorm_key` (dotted path); it must be a non-blank string or a number (as text,
// like Jackson's asText()). Missing or blank → ERR_DENORM_1014, another type → 1015, no record
// under it → 1016. A record found is written into the event under `denorm_out_field` (a
// literal top-level member, replacing one of that name) as the JSON object it is.
// Status: every field found = success, some = partial, none = failed. EVERY event goes on to
// the next stage (a failed denorm does not go to `failed`); for a non-success event, one
// system event per error code with the number of its fields that had it (error_count), as
// Obsrv's generateSystemEvent.
//
// The rewritten events are parsed again (one parse per message) so that later stages (the
// transformer's expressions, the router's timestamp_key) see the master data.
//
// When the store cannot answer (Redis down), process() returns false without changing
// anything: the caller waits and retries, which pauses consumption instead of passing events
// without their master data.
//
// Owned by one worker (it reuses its buffers and parser).

#include <string>
#include <vector>

#include <simdjson.h>

#include "pipeline/master_data_store.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

class denormalizer {
  public:
    explicit denormalizer(master_data_store& store) : _store(store) {}

    /// Events whose result is not `pass` are left alone.
    bool process(std::vector<event_record>& events, stage_context& ctx);

  private:
    // One denorm field of one event.
    struct field_lookup {
        size_t event = 0;
        const compiled_denorm_field* field = nullptr;
        const obsrv_error* error = nullptr;  // set when the key is unusable or not found
        size_t get = 0;                      // index in _gets when error is null
    };

    /// Marks the event, writes its records into it; true when its json changed.
    bool apply(event_record& r, std::span<const field_lookup> fields, stage_context& ctx);
    void parse_rewritten(std::vector<event_record>& events);

    master_data_store& _store;
    std::vector<field_lookup> _fields;
    std::vector<std::string> _keys;
    std::vector<master_get> _gets;
    std::vector<master_value> _values;
    std::vector<size_t> _rewritten;  // events whose json changed
    std::string _members;
    std::string _batch;
    simdjson::dom::parser _parser;
};

}  // namespace obsrv::pipeline
