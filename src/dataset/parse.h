#pragma once

// Parsing of one Obsrv dataset JSON document (one row of the `datasets` table, v2 nesting or the
// v1 flat `dataset_config`) into the model. Pure function, safe from any thread.

#include <string_view>

#include "common/result.h"
#include "dataset/model.h"

namespace obsrv::dataset {

/// Parses one dataset. `origin` (a file path) starts every error message, which names the
/// offending field by its dotted path:
///   "config/datasets/x.json: field 'extraction_config.dedup_config.dedup_period': expected an
///   integer"
/// Unknown fields are ignored (exported Obsrv rows carry many); JSON null counts as absent.
result<dataset> parse_dataset(std::string_view json, std::string_view origin);

/// Whether `name` can be a Kafka topic name ([a-zA-Z0-9._-], 1..249 characters).
bool is_valid_topic_name(std::string_view name);

}  // namespace obsrv::dataset
