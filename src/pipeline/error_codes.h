#pragma once

// Obsrv's error catalogue (contracts §3.8, ErrorConstants.scala): the code and message a stage
// writes into obsrv_meta.error and system events. Exact strings, typos included.

#include <string_view>

namespace obsrv::pipeline {

struct obsrv_error {
    std::string_view code;
    std::string_view message;
};

namespace errors {
inline constexpr obsrv_error no_extraction_data{
    "ERR_EXT_1001", "Unable to extract the data from the extraction key"};
inline constexpr obsrv_error extracted_data_not_a_list{"ERR_EXT_1002",
                                                       "The extracted data is not a list"};
inline constexpr obsrv_error event_size_exceeded{"ERR_EXT_1003",
                                                 "Event size has exceeded max configured size"};
inline constexpr obsrv_error missing_dataset_id{"ERR_EXT_1004",
                                                "Dataset Id is missing from the data"};
inline constexpr obsrv_error missing_dataset_configuration{"ERR_EXT_1005",
                                                           "Dataset configuration is missing"};
inline constexpr obsrv_error event_missing{"ERR_EXT_1006", "Event missing in the batch event"};
inline constexpr obsrv_error duplicate_batch_event{"ERR_EXT_1009", "Duplicate batch event found"};
inline constexpr obsrv_error invalid_json{
    "ERR_EXT_1018", "Invalid JSON event, error while deserializing the event"};
inline constexpr obsrv_error duplicate_event{"ERR_PP_1010", "Duplicate event found"};
inline constexpr obsrv_error schema_validation_failed{"ERR_PP_1013",
                                                      "Event failed the schema validation"};
inline constexpr obsrv_error no_dedup_key{"ERR_DEDUP_1007", "No dedup key found or missing data"};
inline constexpr obsrv_error dedup_key_not_text{"ERR_DEDUP_1008",
                                                "Dedup key value is not a String or Text"};
inline constexpr obsrv_error denorm_key_missing{
    "ERR_DENORM_1014",
    "No denorm key or transformation expr found or missing data for the specified key"};
inline constexpr obsrv_error denorm_key_not_text{"ERR_DENORM_1015",
                                                 "Denorm key value is not a String or Number"};
inline constexpr obsrv_error denorm_data_not_found{"ERR_DENORM_1016",
                                                   "Denorm data not found for the given key"};
inline constexpr obsrv_error missing_master_data_key{"ERR_MASTER_DATA_1017",
                                                     "Master dataset configuration key is missing"};
inline constexpr obsrv_error index_key_missing{
    "ERR_ROUTER_1019",
    "Unable to index data as the timestamp key is missing or blank or not a datetime value"};
inline constexpr obsrv_error transform_unknown_error{
    "ERR_TRANSFORM_1022", "Unable to evaluate the transformation expression function"};
inline constexpr obsrv_error transformation_failed{
    "ERR_TRANSFORM_1023", "Atleast one mandatory transformation has failed"};
inline constexpr obsrv_error transformation_field_missing{
    "ERR_TRANSFORM_1024", "Transformation field is either missing or blank"};
/// Ours, not Obsrv's (its numbers end at 1032): Kafka refused the routed message for good for
/// a reason other than its size (the dataset topic does not exist or may not be written).
/// Oversized routed messages use ERR_EXT_1003.
inline constexpr obsrv_error undeliverable_event{
    "ERR_ROUTER_9001", "Unable to deliver the event to the dataset topic"};
}  // namespace errors

}  // namespace obsrv::pipeline
