#pragma once

// Stage 3, Obsrv's DeduplicationFunction (contracts §3.3), over all the events of one message
// at once so that a remote store pays one round trip per message. For datasets with
// dedup_config.drop_duplicates: the key is the event's dedup_key value as text; an unseen key is
// reserved (dedup=success), a key seen within the dataset's dedup_period fails the event with
// ERR_PP_1010 (no system event, as Obsrv). A missing key (ERR_DEDUP_1007) or a key that is not
// a string or number (ERR_DEDUP_1008) lets the event pass as unique with a warning system event.
// Datasets without drop_duplicates pass unchanged (no dedup flag).
//
// When the store cannot answer (Redis down), process() returns false without changing anything:
// the caller waits and retries, which pauses consumption instead of letting duplicates through.

#include <string>
#include <vector>

#include "pipeline/dedup_store.h"
#include "pipeline/extractor.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

class deduplicator {
  public:
    explicit deduplicator(dedup_store& store) : _store(store) {}

    /// Events whose result is not `pass` are left alone. Keys reserved go to `reserved`.
    bool process(std::vector<event_record>& events, stage_context& ctx, reserved_keys& reserved);

  private:
    dedup_store& _store;
    std::vector<size_t> _indices;
    std::vector<std::string> _keys;
    std::vector<std::string> _origins;
    std::vector<dedup_probe> _probes;
    std::vector<dedup_verdict> _verdicts;
};

}  // namespace obsrv::pipeline
