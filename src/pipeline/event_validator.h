#pragma once

// Stage 2, Obsrv's EventValidationFunction (contracts §3.2): events of datasets that are not
// Live are dropped (counted as ignored), datasets without validation or schema are skipped, the
// others are checked against their compiled JSON schema (draft 2020-12).
//
// Only-additionalProperties errors pass in IgnoreNewFields and DiscardNewFields modes; in
// DiscardNewFields the unknown fields are really removed from the event (Obsrv keeps them).
// Any other error fails the event with ERR_PP_1013, the error list in networknt's
// ValidationMessage form, plus one system event per error class.
//
// Owned by one worker (it reuses its error buffer).

#include <vector>

#include "pipeline/stage_context.h"
#include "schema/validator.h"

namespace obsrv::pipeline {

class event_validator {
  public:
    stage_result process(event_record& r, stage_context& ctx);

  private:
    std::vector<schema::validation_error> _errors;
};

/// `event_json` without the members named by `drops` (instance location of the object + the
/// property), copied byte for byte otherwise.
std::string remove_members(std::string_view event_json,
                           const std::vector<std::pair<std::string, std::string>>& drops);

}  // namespace obsrv::pipeline
