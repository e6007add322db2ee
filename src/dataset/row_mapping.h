#pragma once

// Obsrv's PostgreSQL rows → what the registry reads: the dataset JSON of a `datasets` row (its
// columns as one JSON object, with its `dataset_transformations` rows embedded as
// `transformations_config`, the shape parse_dataset() reads from files too), and the platform
// settings of `system_settings`, type-checked as Obsrv's SystemConfig does. Pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataset/source.h"
#include "dataset/system_settings.h"

namespace obsrv::dataset {

/// The document of one dataset: `row_json` is the row as Postgres' to_json() writes it (every
/// column; JSON columns nested as JSON, text[] as arrays, NULL as null); `transformations_json`
/// the JSON array of its transformation rows (json_agg), or nullopt when it has none.
result<std::string> dataset_document(std::string_view row_json,
                                     std::optional<std::string_view> transformations_json);

/// The prefix of every message about a row of `datasets`.
std::string dataset_row_origin(std::string_view id);

/// One row of `system_settings`.
struct system_setting_row {
    std::string key;
    std::string value;
    std::string valuetype;
};

/// The settings obsrvd uses, and the rows it could not use.
struct resolved_system_settings {
    system_settings values;
    std::vector<setting_error> errors;
};

/// Reads encryptionSecretKey (string), maxEventSize (long), defaultDedupPeriodInSeconds (int)
/// and defaultDatasetId (string) as Obsrv's SystemConfig does: keys match case-insensitively,
/// the valuetype column must name the type the setting is read as (case-insensitively), values
/// parse as Java's Long/Integer.parseLong would. An absent setting takes Obsrv's default; one
/// that cannot be used keeps its value from `previous` and is reported.
resolved_system_settings resolve_system_settings(const std::vector<system_setting_row>& rows,
                                                 const system_settings& previous);

}  // namespace obsrv::dataset
