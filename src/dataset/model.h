#pragma once

// The Obsrv dataset configuration model (one row of Obsrv's `datasets` table, api_version v2
// shape). Files in the v1 flat shape are mapped onto it by the parser, so every consumer reads
// one shape. Absent fields carry Obsrv's defaults (docs/DATASETS.md lists them).
//
// Values are plain data: built once by parse_dataset(), then shared read-only through
// std::shared_ptr<const dataset> by every snapshot that contains them, so any thread may read
// them without synchronisation.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::dataset {

enum class dataset_type { event, master, transaction };

enum class dataset_status { draft, publish, live, retired, purged, ready_to_publish, archived };

enum class api_version { v1, v2 };

enum class validation_mode { strict, ignore_new_fields, discard_new_fields };

enum class transform_mode { strict, lenient };

/// Obsrv's spelling of each value ("event", "Live", "v2", "IgnoreNewFields", "Lenient").
std::string_view to_string(dataset_type value);
std::string_view to_string(dataset_status value);
std::string_view to_string(api_version value);
std::string_view to_string(validation_mode value);
std::string_view to_string(transform_mode value);

/// Exact, case-sensitive matches of Obsrv's spellings (Scala Enumeration.withName).
std::optional<dataset_type> parse_dataset_type(std::string_view text);
std::optional<dataset_status> parse_dataset_status(std::string_view text);
std::optional<api_version> parse_api_version(std::string_view text);
std::optional<validation_mode> parse_validation_mode(std::string_view text);
std::optional<transform_mode> parse_transform_mode(std::string_view text);

inline constexpr std::string_view default_entry_topic = "ingest";
inline constexpr std::string_view default_extraction_key = "events";
inline constexpr std::string_view default_batch_dedup_key = "id";
inline constexpr std::string_view default_timestamp_key = "obsrv_meta.syncts";
inline constexpr int64_t default_dedup_period_seconds = 604800;  // system_settings, 7 days
inline constexpr int64_t default_redis_port = 6379;

/// `dedup_config`, both the dataset's (per event) and extraction_config's (per batch).
struct dedup {
    bool drop_duplicates = false;
    /// Path of the key in the event. Empty when absent, except for the batch dedup key, which
    /// defaults to "id" (where the API puts the request's msgid).
    std::string dedup_key;
    int64_t dedup_period = default_dedup_period_seconds;  // seconds; Obsrv's stages ignore it

    bool operator==(const dedup&) const = default;
};

/// `extraction_config`.
struct extraction {
    bool is_batch_event = false;
    std::string extraction_key{default_extraction_key};  // dotted path of the events array
    std::string batch_id;                                // informational in Obsrv
    dedup dedup_config{false, std::string(default_batch_dedup_key), default_dedup_period_seconds};

    bool operator==(const extraction&) const = default;
};

/// `validation_config`. Obsrv skips validation when the whole object is absent (`configured`
/// false) or when `validate` is false: use dataset::validation_enabled().
struct validation {
    bool configured = false;
    bool validate = true;
    validation_mode mode = validation_mode::strict;

    bool operator==(const validation&) const = default;
};

/// One entry of `denorm_config.denorm_fields`.
struct denorm_field {
    std::string denorm_key;        // dotted path of the lookup key in the event
    std::string jsonata_expr;      // v2: expression computing the key instead of denorm_key
    std::string denorm_out_field;  // top-level key the master record is written to
    std::string dataset_id;        // v2: the master dataset the record comes from
    int64_t redis_db = 0;          // Redis DB of that master dataset (set at publish)

    bool operator==(const denorm_field&) const = default;
};

/// `denorm_config`; no fields means the denormalizer skips the dataset.
struct denorm {
    std::string redis_db_host;  // empty when absent
    int64_t redis_db_port = default_redis_port;
    std::vector<denorm_field> denorm_fields;

    bool operator==(const denorm&) const = default;
};

/// `router_config`.
struct router {
    std::string topic;  // defaults to the dataset_id (what Obsrv's DatasetCreate sets)

    bool operator==(const router&) const = default;
};

/// `dataset_config.indexing_config` (which stores a published dataset feeds).
struct indexing {
    bool olap_store_enabled = true;
    bool lakehouse_enabled = true;
    bool cache_enabled = false;  // true by default for master datasets

    bool operator==(const indexing&) const = default;
};

/// `dataset_config.keys_config`.
struct keys {
    std::string data_key;       // master datasets: key of the record in the cache
    std::string partition_key;  // lakehouse partitioning
    std::string timestamp_key{default_timestamp_key};  // source of indexTS (router)
    std::string timestamp_format;                      // "epoch", a Joda pattern, or empty (none)

    bool operator==(const keys&) const = default;
};

/// `dataset_config.cache_config` (where a master dataset's records live).
struct cache {
    std::string redis_db_host;  // empty when absent
    int64_t redis_db_port = default_redis_port;
    int64_t redis_db = 0;

    bool operator==(const cache&) const = default;
};

/// `dataset_config` (v2 nesting; v1 flat keys are mapped into it).
struct settings {
    indexing indexing_config;
    keys keys_config;
    std::string dataset_tz;  // empty when absent (no offset added)
    std::vector<std::string> exclude_fields;
    cache cache_config;

    bool operator==(const settings&) const = default;
};

/// `transformations_config[i]` (rows of Obsrv's dataset_transformations table, embedded the way
/// the v2 dataset export carries them).
struct transformation {
    std::string field_key;       // dotted output path
    std::string function_type;   // transformation_function.type: mask|encrypt|jsonata|...
    std::string expr;            // transformation_function.expr
    std::string condition_type;  // transformation_function.condition.type; empty = no condition
    std::string condition_expr;
    std::string datatype;  // transformation_function.datatype
    std::string category;  // transformation_function.category: pii|transform|derived
    transform_mode mode = transform_mode::strict;

    bool operator==(const transformation&) const = default;
};

/// One Obsrv dataset.
struct dataset {
    std::string id;          // row primary key; equals dataset_id unless the file says otherwise
    std::string dataset_id;  // the name events and API requests carry
    std::string name;        // defaults to dataset_id
    /// Second lookup key of the ingest API (Obsrv's datasets.alias column, later the name of the
    /// dataset's primary datasource); empty when the dataset has none.
    std::string alias;
    dataset_type type = dataset_type::event;
    dataset_status status = dataset_status::draft;
    api_version version = api_version::v2;
    /// Where the API produces ingested data: `entry_topic` for v2 rows, `dataset_config.
    /// entry_topic` for v1 rows; "ingest" when absent. An explicit empty string stays empty
    /// (the API answers TOPIC_NOT_FOUND for it).
    std::string entry_topic{default_entry_topic};
    int64_t data_version = 1;
    validation validation_config;
    extraction extraction_config;
    dedup dedup_config;
    /// The JSON schema, minified; empty when the row has none (validation is then skipped).
    std::string data_schema;
    denorm denorm_config;
    router router_config;
    settings dataset_config;
    std::vector<transformation> transformations_config;
    std::vector<std::string> tags;
    /// Where the dataset was read from (file path), for log lines and error messages.
    std::string origin;

    /// Field by field; a re-read that yields an equal dataset is not a change.
    bool operator==(const dataset&) const = default;

    /// Whether the validator checks events (Obsrv: a validation_config with validate true).
    bool validation_enabled() const {
        return validation_config.configured && validation_config.validate;
    }
    bool is_live() const { return status == dataset_status::live; }
};

}  // namespace obsrv::dataset
