#include "dataset/row_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataset/parse.h"

namespace obsrv::dataset {
namespace {

using ::testing::HasSubstr;

TEST(dataset_document, a_row_without_transformations_is_the_row) {
    auto doc = dataset_document(R"({"id":"d1","type":"event"})", std::nullopt);
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_EQ(*doc, R"({"id":"d1","type":"event"})");
}

TEST(dataset_document, transformations_become_transformations_config) {
    auto doc = dataset_document(R"( {"id":"d1", "type":"event"} )",
                                std::string_view(R"([{"field_key":"a"}])"));
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_EQ(*doc, R"({"id":"d1", "type":"event","transformations_config":[{"field_key":"a"}]})");
}

TEST(dataset_document, the_parser_reads_the_row_shape) {
    // What to_json() writes for a row of the V1..V6 `datasets` table, plus json_agg() of two
    // dataset_transformations rows.
    auto doc = dataset_document(
        R"({"id":"d1","dataset_id":"d1","type":"event","name":"d1","validation_config":{"validate":true,"mode":"Strict"},"extraction_config":null,"dedup_config":null,"data_schema":{"type":"object"},"denorm_config":null,"router_config":{"topic":"d1"},"dataset_config":{"keys_config":{"timestamp_key":"ts"}},"tags":["a","b"],"data_version":2,"status":"Live","created_by":"SYSTEM","updated_by":"SYSTEM","created_date":"2024-01-01T00:00:00","updated_date":"2024-01-01T00:00:00","published_date":"2024-01-01T00:00:00","api_version":"v2","version":1,"sample_data":{},"entry_topic":"ingest","alias":null})",
        std::string_view(
            R"([{"id":"t1","dataset_id":"d1","field_key":"email","transformation_function":{"type":"mask","expr":"email"},"status":"Live","created_by":"x","updated_by":"x","created_date":"2024-01-01T00:00:00","updated_date":"2024-01-01T00:00:00","published_date":"2024-01-01T00:00:00","mode":null,"metadata":null}])"));
    ASSERT_TRUE(doc) << doc.error().message;
    auto ds = parse_dataset(*doc, "datasets row 'd1'");
    ASSERT_TRUE(ds) << ds.error().message;
    EXPECT_EQ(ds->data_version, 2);
    EXPECT_EQ(ds->dataset_config.keys_config.timestamp_key, "ts");
    ASSERT_EQ(ds->transformations_config.size(), 1u);
    EXPECT_EQ(ds->transformations_config[0].function_type, "mask");
    EXPECT_EQ(ds->transformations_config[0].mode, transform_mode::strict);
}

TEST(dataset_document, not_an_object_is_an_error) {
    EXPECT_FALSE(dataset_document("", std::nullopt));
    EXPECT_FALSE(dataset_document("[1]", std::nullopt));
    EXPECT_FALSE(dataset_document("{}", std::string_view("{}")));
}

std::vector<system_setting_row> seed_rows() {
    return {{"defaultDatasetId", "ALL", "string"},
            {"defaultDedupPeriodInSeconds", "3600", "int"},
            {"encryptionSecretKey", "0123456789abcdef", "string"},
            {"maxEventSize", "2097152", "long"}};
}

TEST(system_settings_rows, read_with_their_types) {
    auto r = resolve_system_settings(seed_rows(), {});
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.values.encryption_secret_key, "0123456789abcdef");
    EXPECT_EQ(r.values.max_event_size, 2097152);
    EXPECT_EQ(r.values.default_dedup_period_seconds, 3600);
    EXPECT_EQ(r.values.default_dataset_id, "ALL");
}

TEST(system_settings_rows, absent_rows_take_obsrv_defaults) {
    system_settings previous;
    previous.max_event_size = 5;
    auto r = resolve_system_settings({}, previous);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.values.encryption_secret_key, "");
    EXPECT_EQ(r.values.max_event_size, 1048576);
    EXPECT_EQ(r.values.default_dedup_period_seconds, 604800);
    EXPECT_EQ(r.values.default_dataset_id, "ALL");
}

TEST(system_settings_rows, keys_and_valuetypes_match_case_insensitively) {
    auto r = resolve_system_settings({{"MAXEVENTSIZE", "10", "Long"}}, {});
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.values.max_event_size, 10);
}

TEST(system_settings_rows, a_wrong_valuetype_keeps_the_previous_value) {
    system_settings previous;
    previous.max_event_size = 4096;
    previous.encryption_secret_key = "old-key";
    auto rows = seed_rows();
    rows[3].valuetype = "string";    // maxEventSize
    rows[2].valuetype = "password";  // encryptionSecretKey
    auto r = resolve_system_settings(rows, previous);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_EQ(r.errors[0].origin, "system_settings 'encryptionSecretKey'");
    EXPECT_EQ(r.errors[0].message,
              "system_settings 'encryptionSecretKey': field 'valuetype': expected 'string' "
              "(Obsrv reads encryptionSecretKey as a string), got 'password'; keeping the "
              "previous value");
    EXPECT_THAT(r.errors[0].message, ::testing::Not(HasSubstr("0123456789abcdef")));
    EXPECT_EQ(r.errors[1].origin, "system_settings 'maxEventSize'");
    EXPECT_THAT(r.errors[1].message, HasSubstr("expected 'long'"));
    EXPECT_EQ(r.values.max_event_size, 4096);
    EXPECT_EQ(r.values.encryption_secret_key, "old-key");
    EXPECT_EQ(r.values.default_dedup_period_seconds, 3600);  // the others are read
}

TEST(system_settings_rows, values_parse_as_java_integers) {
    for (const char* bad : {"", " 10", "10 ", "1e6", "0x10", "abc", "+-1", "1.0"}) {
        auto r = resolve_system_settings({{"maxEventSize", bad, "long"}}, {});
        ASSERT_EQ(r.errors.size(), 1u) << bad;
        EXPECT_THAT(r.errors[0].message, HasSubstr("field 'value'")) << bad;
        EXPECT_EQ(r.values.max_event_size, 1048576) << bad;
    }
    auto plus = resolve_system_settings({{"maxEventSize", "+10", "long"}}, {});
    EXPECT_TRUE(plus.errors.empty());
    EXPECT_EQ(plus.values.max_event_size, 10);
    // int, not long: Integer.parseInt overflows past 2^31-1.
    auto big = resolve_system_settings({{"defaultDedupPeriodInSeconds", "2147483648", "int"}}, {});
    ASSERT_EQ(big.errors.size(), 1u);
    EXPECT_EQ(big.values.default_dedup_period_seconds, 604800);
    auto zero = resolve_system_settings({{"maxEventSize", "0", "long"}}, {});
    EXPECT_EQ(zero.errors.size(), 1u);
}

}  // namespace
}  // namespace obsrv::dataset
