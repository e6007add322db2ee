#include "dataset/parse.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_env.h"

namespace obsrv::dataset {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The smallest document the parser accepts.
constexpr const char* k_minimal = R"({"dataset_id":"d1","type":"event","status":"Live"})";

dataset parse_ok(const std::string& json) {
    auto parsed = parse_dataset(json, "x.json");
    EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
    return parsed ? std::move(parsed).value() : dataset{};
}

std::string parse_error(const std::string& json, std::string_view origin = "x.json") {
    auto parsed = parse_dataset(json, origin);
    return parsed ? std::string("<parsed>") : parsed.error().message;
}

// A v2 document with `fragment` spliced into the top-level object.
std::string with(const std::string& fragment) {
    return R"({"dataset_id":"d1","type":"event","status":"Live","api_version":"v2",)" + fragment +
           "}";
}

dataset sample(const std::string& name) {
    auto path = testing::source_dir() + "/config/datasets/" + name;
    auto text = testing::read_file(path);
    EXPECT_FALSE(text.empty()) << path;
    auto parsed = parse_dataset(text, path);
    EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
    return parsed ? std::move(parsed).value() : dataset{};
}

TEST(parse_dataset, shipped_batch_dataset_with_dedup) {
    dataset ds = sample("telemetry.json");
    EXPECT_EQ(ds.dataset_id, "telemetry");
    EXPECT_EQ(ds.id, "telemetry");
    EXPECT_EQ(ds.type, dataset_type::event);
    EXPECT_EQ(ds.status, dataset_status::live);
    EXPECT_EQ(ds.version, api_version::v2);
    EXPECT_EQ(ds.entry_topic, "ingest");
    EXPECT_TRUE(ds.extraction_config.is_batch_event);
    EXPECT_EQ(ds.extraction_config.extraction_key, "events");
    EXPECT_TRUE(ds.extraction_config.dedup_config.drop_duplicates);
    EXPECT_TRUE(ds.dedup_config.drop_duplicates);
    EXPECT_EQ(ds.dedup_config.dedup_key, "mid");
    EXPECT_EQ(ds.router_config.topic, "telemetry");
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "ets");
    EXPECT_TRUE(ds.validation_enabled());
    // The schema is kept minified, with the telemetry fields genbody.py produces.
    EXPECT_THAT(ds.data_schema, StartsWith(R"({"$schema":"https://json-schema.org/draft/2020-12)"));
    EXPECT_EQ(ds.data_schema.find('\n'), std::string::npos);
    EXPECT_EQ(ds.data_schema.find(": "), std::string::npos);
    for (const char* field :
         {"\"eid\"", "\"ets\"", "\"ver\"", "\"mid\"", "\"actor\"", "\"context\"", "\"pdata\"",
          "\"sid\"", "\"did\"", "\"object\"", "\"edata\""}) {
        EXPECT_THAT(ds.data_schema, HasSubstr(field));
    }
    EXPECT_THAT(ds.origin, HasSubstr("config/datasets/telemetry.json"));
}

TEST(parse_dataset, shipped_single_event_dataset) {
    dataset ds = sample("vehicle-telemetry.json");
    EXPECT_EQ(ds.dataset_id, "vehicle-telemetry");
    EXPECT_EQ(ds.status, dataset_status::live);
    EXPECT_EQ(ds.version, api_version::v2);
    EXPECT_EQ(ds.entry_topic, "ingest");
    EXPECT_FALSE(ds.extraction_config.is_batch_event);
    EXPECT_EQ(ds.router_config.topic, "vehicle-telemetry");
    EXPECT_EQ(ds.validation_config.mode, validation_mode::strict);
    ASSERT_EQ(ds.denorm_config.denorm_fields.size(), 1u);
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].denorm_key, "vehicleCode");
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].denorm_out_field, "vehicleData");
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].dataset_id, "vehicles");
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].redis_db, 3);
    EXPECT_FALSE(ds.data_schema.empty());
}

TEST(parse_dataset, shipped_master_dataset) {
    dataset ds = sample("vehicles.json");
    EXPECT_EQ(ds.type, dataset_type::master);
    EXPECT_EQ(ds.dataset_config.keys_config.data_key, "vehicleCode");
    EXPECT_TRUE(ds.dataset_config.indexing_config.cache_enabled);
    EXPECT_EQ(ds.dataset_config.cache_config.redis_db, 3);
}

TEST(parse_dataset, defaults_for_absent_fields) {
    dataset ds = parse_ok(R"({"dataset_id":"d1","type":"event","status":"Live"})");
    EXPECT_EQ(ds.id, "d1");
    EXPECT_EQ(ds.name, "d1");
    EXPECT_TRUE(ds.alias.empty());
    // Postgres' column default, no v2 nesting in the document.
    EXPECT_EQ(ds.version, api_version::v1);
    EXPECT_EQ(ds.entry_topic, "ingest");
    EXPECT_EQ(ds.data_version, 1);
    EXPECT_FALSE(ds.extraction_config.is_batch_event);
    EXPECT_EQ(ds.extraction_config.extraction_key, "events");
    EXPECT_FALSE(ds.extraction_config.dedup_config.drop_duplicates);
    EXPECT_EQ(ds.extraction_config.dedup_config.dedup_key, "id");
    EXPECT_EQ(ds.extraction_config.dedup_config.dedup_period, 604800);
    EXPECT_FALSE(ds.dedup_config.drop_duplicates);
    EXPECT_TRUE(ds.dedup_config.dedup_key.empty());
    EXPECT_EQ(ds.dedup_config.dedup_period, 604800);
    // No validation_config: Obsrv skips validation.
    EXPECT_FALSE(ds.validation_config.configured);
    EXPECT_FALSE(ds.validation_enabled());
    EXPECT_TRUE(ds.data_schema.empty());
    EXPECT_TRUE(ds.denorm_config.denorm_fields.empty());
    EXPECT_EQ(ds.denorm_config.redis_db_port, 6379);
    EXPECT_EQ(ds.router_config.topic, "d1");
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "obsrv_meta.syncts");
    EXPECT_TRUE(ds.dataset_config.keys_config.timestamp_format.empty());
    EXPECT_TRUE(ds.dataset_config.dataset_tz.empty());
    EXPECT_TRUE(ds.tags.empty());
    EXPECT_TRUE(ds.transformations_config.empty());
}

TEST(parse_dataset, defaults_inside_present_objects) {
    dataset ds = parse_ok(with(R"("validation_config":{},"extraction_config":{"dedup_config":{}},
        "dedup_config":{"dedup_key":"mid"},"dataset_config":{"keys_config":{}},
        "denorm_config":{"denorm_fields":[{"denorm_key":"k","denorm_out_field":"o"}]})"));
    EXPECT_TRUE(ds.validation_config.configured);
    EXPECT_TRUE(ds.validation_config.validate);
    EXPECT_EQ(ds.validation_config.mode, validation_mode::strict);
    EXPECT_TRUE(ds.validation_enabled());
    EXPECT_FALSE(ds.extraction_config.is_batch_event);
    EXPECT_EQ(ds.extraction_config.extraction_key, "events");
    EXPECT_FALSE(ds.extraction_config.dedup_config.drop_duplicates);
    EXPECT_EQ(ds.extraction_config.dedup_config.dedup_key, "id");
    EXPECT_FALSE(ds.dedup_config.drop_duplicates);
    EXPECT_EQ(ds.dedup_config.dedup_key, "mid");
    EXPECT_EQ(ds.dedup_config.dedup_period, 604800);
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "obsrv_meta.syncts");
    EXPECT_TRUE(ds.dataset_config.indexing_config.olap_store_enabled);
    EXPECT_FALSE(ds.dataset_config.indexing_config.cache_enabled);
    ASSERT_EQ(ds.denorm_config.denorm_fields.size(), 1u);
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].redis_db, 0);
}

TEST(parse_dataset, null_counts_as_absent) {
    dataset ds = parse_ok(with(R"("entry_topic":null,"alias":null,"tags":null,
        "extraction_config":{"is_batch_event":null,"extraction_key":null},
        "dataset_config":{"keys_config":{"timestamp_key":null},"dataset_tz":null},
        "validation_config":null,"data_schema":null)"));
    EXPECT_EQ(ds.entry_topic, "ingest");
    EXPECT_TRUE(ds.alias.empty());
    EXPECT_FALSE(ds.extraction_config.is_batch_event);
    EXPECT_EQ(ds.extraction_config.extraction_key, "events");
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "obsrv_meta.syncts");
    EXPECT_FALSE(ds.validation_config.configured);
    EXPECT_TRUE(ds.data_schema.empty());
}

TEST(parse_dataset, reads_every_v2_field) {
    dataset ds = parse_ok(R"json({
        "id":"row-1","dataset_id":"d1","name":"D one","alias":"d-one","type":"transaction",
        "status":"ReadyToPublish","api_version":"v2","entry_topic":"ingest.custom",
        "data_version":3,"tags":["a","b"],
        "validation_config":{"validate":false,"mode":"DiscardNewFields"},
        "extraction_config":{"is_batch_event":true,"extraction_key":"data.items","batch_id":"bid",
            "dedup_config":{"drop_duplicates":true,"dedup_key":"bid","dedup_period":60}},
        "dedup_config":{"drop_duplicates":true,"dedup_key":"eid","dedup_period":120},
        "data_schema":{"type":"object"},
        "denorm_config":{"redis_db_host":"redis.local","redis_db_port":6380,"denorm_fields":[
            {"denorm_key":"a.b","denorm_out_field":"ab","dataset_id":"m1","redis_db":4},
            {"jsonata_expr":"$string(x)","denorm_out_field":"xs","dataset_id":"m2"}]},
        "router_config":{"topic":"d1.out"},
        "dataset_config":{
            "indexing_config":{"olap_store_enabled":false,"lakehouse_enabled":true,
                               "cache_enabled":true},
            "keys_config":{"data_key":"id","partition_key":"p","timestamp_key":"ts",
                           "timestamp_format":"yyyy-MM-dd"},
            "dataset_tz":"Asia/Kolkata","exclude_fields":["secret"],
            "cache_config":{"redis_db_host":"cache.local","redis_db_port":6381,"redis_db":7},
            "file_upload_path":["ignored.json"]},
        "transformations_config":[
            {"field_key":"email_masked","transformation_function":{"type":"mask",
             "expr":"email","datatype":"string","category":"pii"},"mode":"Lenient"},
            {"field_key":"total","transformation_function":{"type":"jsonata","expr":"a+b",
             "condition":{"type":"jsonata","expr":"a>0"}}}],
        "sample_data":{"whatever":1},"created_by":"SYSTEM","version_key":"123"})json");
    EXPECT_EQ(ds.id, "row-1");
    EXPECT_EQ(ds.dataset_id, "d1");
    EXPECT_EQ(ds.name, "D one");
    EXPECT_EQ(ds.alias, "d-one");
    EXPECT_EQ(ds.type, dataset_type::transaction);
    EXPECT_EQ(ds.status, dataset_status::ready_to_publish);
    EXPECT_EQ(ds.entry_topic, "ingest.custom");
    EXPECT_EQ(ds.data_version, 3);
    EXPECT_THAT(ds.tags, ElementsAre("a", "b"));
    EXPECT_TRUE(ds.validation_config.configured);
    EXPECT_FALSE(ds.validation_config.validate);
    EXPECT_FALSE(ds.validation_enabled());
    EXPECT_EQ(ds.validation_config.mode, validation_mode::discard_new_fields);
    EXPECT_EQ(ds.extraction_config.extraction_key, "data.items");
    EXPECT_EQ(ds.extraction_config.batch_id, "bid");
    EXPECT_EQ(ds.extraction_config.dedup_config.dedup_key, "bid");
    EXPECT_EQ(ds.extraction_config.dedup_config.dedup_period, 60);
    EXPECT_EQ(ds.dedup_config.dedup_key, "eid");
    EXPECT_EQ(ds.dedup_config.dedup_period, 120);
    EXPECT_EQ(ds.data_schema, R"({"type":"object"})");
    EXPECT_EQ(ds.denorm_config.redis_db_host, "redis.local");
    EXPECT_EQ(ds.denorm_config.redis_db_port, 6380);
    ASSERT_EQ(ds.denorm_config.denorm_fields.size(), 2u);
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].denorm_key, "a.b");
    EXPECT_EQ(ds.denorm_config.denorm_fields[0].redis_db, 4);
    EXPECT_EQ(ds.denorm_config.denorm_fields[1].jsonata_expr, "$string(x)");
    EXPECT_EQ(ds.denorm_config.denorm_fields[1].dataset_id, "m2");
    EXPECT_EQ(ds.router_config.topic, "d1.out");
    const auto& cfg = ds.dataset_config;
    EXPECT_FALSE(cfg.indexing_config.olap_store_enabled);
    EXPECT_TRUE(cfg.indexing_config.lakehouse_enabled);
    EXPECT_TRUE(cfg.indexing_config.cache_enabled);
    EXPECT_EQ(cfg.keys_config.data_key, "id");
    EXPECT_EQ(cfg.keys_config.partition_key, "p");
    EXPECT_EQ(cfg.keys_config.timestamp_key, "ts");
    EXPECT_EQ(cfg.keys_config.timestamp_format, "yyyy-MM-dd");
    EXPECT_EQ(cfg.dataset_tz, "Asia/Kolkata");
    EXPECT_THAT(cfg.exclude_fields, ElementsAre("secret"));
    EXPECT_EQ(cfg.cache_config.redis_db_host, "cache.local");
    EXPECT_EQ(cfg.cache_config.redis_db_port, 6381);
    EXPECT_EQ(cfg.cache_config.redis_db, 7);
    ASSERT_EQ(ds.transformations_config.size(), 2u);
    const auto& mask = ds.transformations_config[0];
    EXPECT_EQ(mask.field_key, "email_masked");
    EXPECT_EQ(mask.function_type, "mask");
    EXPECT_EQ(mask.expr, "email");
    EXPECT_EQ(mask.datatype, "string");
    EXPECT_EQ(mask.category, "pii");
    EXPECT_EQ(mask.mode, transform_mode::lenient);
    EXPECT_TRUE(mask.condition_type.empty());
    const auto& total = ds.transformations_config[1];
    EXPECT_EQ(total.mode, transform_mode::strict);  // mode absent ⇒ Strict
    EXPECT_EQ(total.condition_type, "jsonata");
    EXPECT_EQ(total.condition_expr, "a>0");
}

TEST(parse_dataset, v1_flat_row_is_mapped_to_v2) {
    // An obsrv 1.x row: flat dataset_config holding the entry topic and the cache settings.
    dataset ds = parse_ok(R"({"id":"old","dataset_id":"old","type":"master","status":"Live",
        "api_version":"v1","entry_topic":"ignored-for-v1",
        "dataset_config":{"data_key":"code","timestamp_key":"ts","entry_topic":"masterdata.ingest",
            "exclude_fields":["x"],"redis_db_host":"r.local","redis_db_port":6390,"redis_db":5,
            "index_data":false,"timestamp_format":"epoch","dataset_tz":"UTC"}})");
    EXPECT_EQ(ds.version, api_version::v1);
    EXPECT_EQ(ds.entry_topic, "masterdata.ingest");  // the API reads dataset_config.entry_topic
    const auto& cfg = ds.dataset_config;
    EXPECT_EQ(cfg.keys_config.data_key, "code");
    EXPECT_EQ(cfg.keys_config.timestamp_key, "ts");
    EXPECT_EQ(cfg.keys_config.timestamp_format, "epoch");
    EXPECT_EQ(cfg.dataset_tz, "UTC");
    EXPECT_THAT(cfg.exclude_fields, ElementsAre("x"));
    EXPECT_EQ(cfg.cache_config.redis_db_host, "r.local");
    EXPECT_EQ(cfg.cache_config.redis_db_port, 6390);
    EXPECT_EQ(cfg.cache_config.redis_db, 5);
    // As the API's v1 migration: olap from index_data, no lakehouse, cache for masters.
    EXPECT_FALSE(cfg.indexing_config.olap_store_enabled);
    EXPECT_FALSE(cfg.indexing_config.lakehouse_enabled);
    EXPECT_TRUE(cfg.indexing_config.cache_enabled);
}

TEST(parse_dataset, v1_row_without_entry_topic_uses_ingest) {
    dataset ds = parse_ok(R"({"dataset_id":"old","type":"event","status":"Live",
        "api_version":"v1","dataset_config":{"data_key":"id","timestamp_key":"ts"}})");
    EXPECT_EQ(ds.entry_topic, "ingest");
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "ts");
    EXPECT_FALSE(ds.dataset_config.indexing_config.cache_enabled);
}

TEST(parse_dataset, v1_row_ignores_v2_nesting_and_v2_row_ignores_flat_keys) {
    dataset v1 = parse_ok(R"({"dataset_id":"a","type":"event","status":"Live","api_version":"v1",
        "dataset_config":{"keys_config":{"timestamp_key":"nested"},"timestamp_key":"flat"}})");
    EXPECT_EQ(v1.dataset_config.keys_config.timestamp_key, "flat");
    dataset v2 = parse_ok(with(R"("entry_topic":"top",
        "dataset_config":{"timestamp_key":"flat","entry_topic":"flat-topic"})"));
    EXPECT_EQ(v2.dataset_config.keys_config.timestamp_key, "obsrv_meta.syncts");
    EXPECT_EQ(v2.entry_topic, "top");
}

TEST(parse_dataset, api_version_absent_is_inferred_from_the_nesting) {
    dataset ds = parse_ok(R"({"dataset_id":"a","type":"event","status":"Live","entry_topic":"t2",
        "dataset_config":{"keys_config":{"timestamp_key":"ts"}}})");
    EXPECT_EQ(ds.version, api_version::v2);
    EXPECT_EQ(ds.entry_topic, "t2");
    EXPECT_EQ(ds.dataset_config.keys_config.timestamp_key, "ts");
}

TEST(parse_dataset, explicit_empty_entry_topic_stays_empty) {
    // The API answers TOPIC_NOT_FOUND for it; the registry must not paper over it.
    dataset ds = parse_ok(with(R"("entry_topic":"")"));
    EXPECT_TRUE(ds.entry_topic.empty());
}

TEST(parse_dataset, identity_from_id_or_dataset_id) {
    dataset only_id = parse_ok(R"({"id":"x1","type":"event","status":"Live"})");
    EXPECT_EQ(only_id.dataset_id, "x1");
    EXPECT_EQ(only_id.router_config.topic, "x1");
    EXPECT_EQ(parse_error(R"({"type":"event","status":"Live"})"),
              "x.json: field 'dataset_id': required");
    EXPECT_EQ(parse_error(R"({"dataset_id":"","type":"event","status":"Live"})"),
              "x.json: field 'dataset_id': required");
}

TEST(parse_dataset, schema_given_as_a_json_string) {
    dataset ds = parse_ok(with(R"("data_schema":"{ \"type\" : \"object\" }")"));
    EXPECT_EQ(ds.data_schema, R"({"type":"object"})");
    EXPECT_EQ(parse_error(with(R"("data_schema":"{nope")"))
                  .rfind("x.json: field 'data_schema': string is not valid JSON", 0),
              0u);
    EXPECT_EQ(parse_error(with(R"("data_schema":[1])")),
              "x.json: field 'data_schema': expected an object (a JSON schema)");
}

TEST(parse_dataset, enum_errors_name_field_and_file) {
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event","status":"live"})",
                          "config/datasets/d.json"),
              "config/datasets/d.json: field 'status': unknown value 'live' (expected "
              "Draft|Publish|Live|Retired|Purged|ReadyToPublish|Archived)");
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"events","status":"Live"})"),
              "x.json: field 'type': unknown value 'events' (expected event|master|transaction)");
    EXPECT_EQ(parse_error(with(R"("validation_config":{"mode":"Lenient"})")),
              "x.json: field 'validation_config.mode': unknown value 'Lenient' (expected "
              "Strict|IgnoreNewFields|DiscardNewFields)");
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event","status":"Live",
                            "api_version":"v3"})"),
              "x.json: field 'api_version': unknown value 'v3' (expected v1|v2)");
    EXPECT_EQ(parse_error(with(R"("transformations_config":[{"field_key":"f",
                                  "transformation_function":{"type":"mask"},"mode":"Soft"}])")),
              "x.json: field 'transformations_config[0].mode': unknown value 'Soft' (expected "
              "Strict|Lenient)");
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event"})"),
              "x.json: field 'status': required (Draft|Publish|Live|Retired|Purged|"
              "ReadyToPublish|Archived)");
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","status":"Live"})"),
              "x.json: field 'type': required (event|master|transaction)");
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event","status":3})"),
              "x.json: field 'status': expected a string");
}

TEST(parse_dataset, every_enum_value_round_trips) {
    for (const char* status :
         {"Draft", "Publish", "Live", "Retired", "Purged", "ReadyToPublish", "Archived"}) {
        auto json =
            std::string(R"({"dataset_id":"d","type":"event","status":")") + status + R"("})";
        EXPECT_EQ(to_string(parse_ok(json).status), status);
    }
    for (const char* type : {"event", "master", "transaction"}) {
        auto json = std::string(R"({"dataset_id":"d","status":"Live","type":")") + type + R"("})";
        EXPECT_EQ(to_string(parse_ok(json).type), type);
    }
    for (const char* mode : {"Strict", "IgnoreNewFields", "DiscardNewFields"}) {
        auto json = with(std::string(R"("validation_config":{"mode":")") + mode + R"("})");
        EXPECT_EQ(to_string(parse_ok(json).validation_config.mode), mode);
    }
}

TEST(parse_dataset, type_errors_name_the_field_path) {
    struct expectation {
        const char* fragment;
        const char* message;
    };
    const expectation cases[] = {
        {R"("extraction_config":{"dedup_config":{"dedup_period":"7d"}})",
         "field 'extraction_config.dedup_config.dedup_period': expected an integer"},
        {R"("extraction_config":{"dedup_config":{"dedup_period":1.5}})",
         "field 'extraction_config.dedup_config.dedup_period': expected an integer"},
        {R"("extraction_config":{"is_batch_event":"true"})",
         "field 'extraction_config.is_batch_event': expected a boolean"},
        {R"("extraction_config":{"extraction_key":5})",
         "field 'extraction_config.extraction_key': expected a string"},
        {R"("extraction_config":[])", "field 'extraction_config': expected an object"},
        {R"("dedup_config":{"drop_duplicates":1})",
         "field 'dedup_config.drop_duplicates': expected a boolean"},
        {R"("dedup_config":{"dedup_period":-1})",
         "field 'dedup_config.dedup_period': integer out of range"},
        {R"("validation_config":{"validate":"yes"})",
         "field 'validation_config.validate': expected a boolean"},
        {R"("denorm_config":{"redis_db_port":70000})",
         "field 'denorm_config.redis_db_port': integer out of range (1..65535)"},
        {R"("denorm_config":{"denorm_fields":{}})",
         "field 'denorm_config.denorm_fields': expected an array"},
        {R"("denorm_config":{"denorm_fields":["k"]})",
         "field 'denorm_config.denorm_fields[0]': expected an object"},
        {R"("denorm_config":{"denorm_fields":[{"denorm_key":"k","denorm_out_field":"o",
            "redis_db":"3"}]})",
         "field 'denorm_config.denorm_fields[0].redis_db': expected an integer"},
        {R"("denorm_config":{"denorm_fields":[{"denorm_key":"k"}]})",
         "field 'denorm_config.denorm_fields[0].denorm_out_field': required"},
        {R"("denorm_config":{"denorm_fields":[{"denorm_out_field":"o"}]})",
         "field 'denorm_config.denorm_fields[0].denorm_key': required (or jsonata_expr)"},
        {R"("router_config":{"topic":7})", "field 'router_config.topic': expected a string"},
        {R"("router_config":{"topic":"has space"})",
         "field 'router_config.topic': 'has space' is not a valid Kafka topic name"},
        {R"("entry_topic":"a/b")", "field 'entry_topic': 'a/b' is not a valid Kafka topic"},
        {R"("dataset_config":{"keys_config":{"timestamp_key":1}})",
         "field 'dataset_config.keys_config.timestamp_key': expected a string"},
        {R"("dataset_config":{"indexing_config":{"cache_enabled":"no"}})",
         "field 'dataset_config.indexing_config.cache_enabled': expected a boolean"},
        {R"("dataset_config":{"cache_config":{"redis_db":-2}})",
         "field 'dataset_config.cache_config.redis_db': integer out of range"},
        {R"("dataset_config":{"exclude_fields":["a",2]})",
         "field 'dataset_config.exclude_fields[1]': expected a string"},
        {R"("dataset_config":"x")", "field 'dataset_config': expected an object"},
        {R"("tags":"a")", "field 'tags': expected an array"},
        {R"("data_version":"1")", "field 'data_version': expected an integer"},
        {R"("data_version":18446744073709551615)", "field 'data_version': integer out of range"},
        {R"("alias":["a"])", "field 'alias': expected a string"},
        {R"("transformations_config":[{"transformation_function":{"type":"mask"}}])",
         "field 'transformations_config[0].field_key': required"},
        {R"("transformations_config":[{"field_key":"f"}])",
         "field 'transformations_config[0].transformation_function.type': required"},
        {R"("transformations_config":[{"field_key":"f","transformation_function":{"type":"mask",
            "condition":{"expr":5}}}])",
         "field 'transformations_config[0].transformation_function.condition.expr': expected a "
         "string"},
    };
    for (const auto& c : cases) {
        EXPECT_THAT(parse_error(with(c.fragment)), StartsWith(std::string("x.json: ") + c.message))
            << c.fragment;
    }
}

TEST(parse_dataset, v1_type_errors_name_the_flat_field) {
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event","status":"Live","api_version":"v1",
                            "dataset_config":{"redis_db_port":"6379"}})"),
              "x.json: field 'dataset_config.redis_db_port': expected an integer");
    EXPECT_THAT(parse_error(R"({"dataset_id":"d","type":"event","status":"Live",
                "api_version":"v1","dataset_config":{"entry_topic":"bad topic"}})"),
                StartsWith("x.json: field 'dataset_config.entry_topic': 'bad topic' is not a "
                           "valid Kafka topic name"));
}

TEST(parse_dataset, a_key_given_twice_is_an_error) {
    EXPECT_EQ(parse_error(R"({"dataset_id":"d","type":"event","status":"Live","status":"Draft"})"),
              "x.json: field 'status': given more than once");
    EXPECT_EQ(parse_error(with(R"("dedup_config":{"dedup_key":"a","dedup_key":"b"})")),
              "x.json: field 'dedup_config.dedup_key': given more than once");
}

TEST(parse_dataset, integral_doubles_are_integers) {
    dataset ds = parse_ok(with(R"("dedup_config":{"dedup_period":3600.0})"));
    EXPECT_EQ(ds.dedup_config.dedup_period, 3600);
}

TEST(parse_dataset, document_errors) {
    EXPECT_THAT(parse_error("{\"dataset_id\":", "a.json"), StartsWith("a.json: invalid JSON: "));
    EXPECT_THAT(parse_error("", "a.json"), StartsWith("a.json: invalid JSON: "));
    EXPECT_EQ(parse_error(R"([{"dataset_id":"d"}])", "a.json"),
              "a.json: expected a JSON object (one dataset per file)");
}

TEST(parse_dataset, invalid_topic_from_dataset_id_says_where_it_comes_from) {
    EXPECT_THAT(parse_error(R"({"dataset_id":"my ds","type":"event","status":"Live"})"),
                HasSubstr("(it defaults to the dataset_id)"));
}

TEST(topic_names, kafka_rules) {
    EXPECT_TRUE(is_valid_topic_name("ingest"));
    EXPECT_TRUE(is_valid_topic_name("transform.failed"));
    EXPECT_TRUE(is_valid_topic_name("a_b-C.9"));
    EXPECT_FALSE(is_valid_topic_name(""));
    EXPECT_FALSE(is_valid_topic_name("."));
    EXPECT_FALSE(is_valid_topic_name(".."));
    EXPECT_FALSE(is_valid_topic_name("a b"));
    EXPECT_FALSE(is_valid_topic_name("a/b"));
    EXPECT_FALSE(is_valid_topic_name(std::string(250, 'a')));
    EXPECT_TRUE(is_valid_topic_name(std::string(249, 'a')));
}

}  // namespace
}  // namespace obsrv::dataset
