// The denorm stage inside the stage chain, without Kafka: the exact `denorm` messages (the
// master record merged into the event under denorm_out_field), success / partial / failed, the
// error codes ERR_DENORM_1014/1015/1016 as system events, and the refusal of JSONata keys at
// load time. The master records come from the in-memory store, written the way the cache
// indexer writes them.

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/shared_dedup_window.h"

namespace obsrv::pipeline {
namespace {

// Two denorm fields: vehicle.code → vehicleData (db 3), dealer → dealerData (db 4).
constexpr std::string_view k_event_dataset = R"({
  "id": "trips", "dataset_id": "trips", "type": "event", "status": "Live",
  "denorm_config": {"redis_db_host": "valkey-denorm", "redis_db_port": 6379, "denorm_fields": [
    {"denorm_key": "vehicle.code", "denorm_out_field": "vehicleData", "dataset_id": "vehicles",
     "redis_db": 3},
    {"denorm_key": "dealer", "denorm_out_field": "dealerData", "dataset_id": "dealers",
     "redis_db": 4}]}
})";

// The router's timestamp comes from the master record: later stages see the merged event.
constexpr std::string_view k_timestamp_from_master = R"({
  "id": "rides", "dataset_id": "rides", "type": "event", "status": "Live",
  "denorm_config": {"denorm_fields": [
    {"denorm_key": "vehicleCode", "denorm_out_field": "vehicleData", "redis_db": 3}]},
  "dataset_config": {"keys_config": {"timestamp_key": "vehicleData.registeredAt"}}
})";

constexpr std::string_view k_plain_dataset = R"({
  "id": "plain", "dataset_id": "plain", "type": "event", "status": "Live"
})";

constexpr std::string_view k_meta =
    R"("obsrv_meta":{"syncts":1711966306164,"flags":{},"timespans":{},"error":{},"source":{"connector":"api","connectorInstance":"api"}})";

std::shared_ptr<const dataset::dataset> parse_ok(std::string_view text) {
    auto parsed = dataset::parse_dataset(text, "test");
    EXPECT_TRUE(parsed) << parsed.error().message;
    return std::make_shared<const dataset::dataset>(std::move(parsed).value());
}

class DenormalizerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto snapshot =
            dataset::snapshot::build({parse_ok(k_event_dataset), parse_ok(k_timestamp_from_master),
                                      parse_ok(k_plain_dataset)},
                                     1);
        std::vector<std::string> problems;
        _catalogs =
            std::make_unique<catalog_source>(dataset_catalog::build(*snapshot, {}, &problems));
        ASSERT_TRUE(problems.empty()) << problems.front();
        _processor = std::make_unique<pipeline_processor>(_options, *_catalogs, _dedup, _metrics,
                                                          nullptr, &_store);
        put(3, "V1", R"({"vehicleCode":"V1","model":"Model S","registeredAt":1700000000})");
        put(4, "D1", R"({"dealer":"D1","city":"Pune"})");
        put(4, "42", R"({"dealer":42})");
    }

    void put(int64_t db, std::string_view key, std::string_view json) {
        const master_location where{"", 6379, db};
        const master_put p{key, json};
        upsert_counts counts;
        ASSERT_TRUE(_store.upsert(where, {&p, 1}, counts));
    }

    std::map<std::string, std::vector<std::string>> run(std::string_view dataset,
                                                        std::string_view event) {
        const std::string message = "{" + std::string(k_meta) + R"(,"dataset":")" +
                                    std::string(dataset) + R"(","event":)" + std::string(event) +
                                    "}";
        std::vector<output_message> out;
        const processing_token t =
            _processor->process(input_message{message, 0, _offset++, 1700000000000}, out);
        EXPECT_NE(t, k_not_processed);
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& m : out) {
            by_topic[m.topic].push_back(std::move(m.payload));
        }
        return by_topic;
    }

    static std::string text(simdjson::dom::element e, std::string_view pointer) {
        std::string_view s;
        if (e.at_pointer(pointer).get(s) != simdjson::SUCCESS) {
            return "<missing " + std::string(pointer) + ">";
        }
        return std::string(s);
    }

    // The message up to its obsrv_meta (which holds clock readings).
    static std::string before_meta(const std::string& message) {
        return message.substr(0, message.find(",\"obsrv_meta\":"));
    }

    // A system event with its clock reading zeroed.
    static std::string without_ets(const std::string& event) {
        return std::regex_replace(event, std::regex(R"("ets":[0-9]+)"), R"("ets":0)");
    }

    pipeline_options _options;
    pipeline_metrics _metrics{nullptr};
    shared_dedup_window _dedup{shared_dedup_window_options{}};
    memory_master_store _store;
    std::unique_ptr<catalog_source> _catalogs;
    std::unique_ptr<pipeline_processor> _processor;
    int64_t _offset = 0;
};

TEST_F(DenormalizerTest, EveryFieldFoundIsSuccessWithTheRecordsMergedIntoTheEvent) {
    auto out = run("trips", R"({"id":"t1","vehicle":{"code":"V1"},"dealer":"D1"})");
    ASSERT_EQ(out["denorm"].size(), 1u);
    EXPECT_EQ(
        before_meta(out["denorm"][0]),
        R"({"dataset":"trips","event":{"id":"t1","vehicle":{"code":"V1"},"dealer":"D1","vehicleData":{"vehicleCode":"V1","model":"Model S","registeredAt":1700000000},"dealerData":{"dealer":"D1","city":"Pune"}})");
    simdjson::dom::parser parser;
    auto d = parser.parse(out["denorm"][0]).value();
    EXPECT_EQ(text(d, "/obsrv_meta/flags/denorm"), "success");
    int64_t span = -1;
    EXPECT_EQ(d.at_pointer("/obsrv_meta/timespans/denorm").get(span), simdjson::SUCCESS);
    // No failure, no denorm system event; the event goes on to the router.
    EXPECT_TRUE(out["failed"].empty());
    ASSERT_EQ(out["system.events"].size(), 1u);
    EXPECT_NE(out["system.events"][0].find("DruidRouterJob"), std::string::npos);
    ASSERT_EQ(out["trips"].size(), 1u);
    EXPECT_NE(out["trips"][0].find(R"("dealerData":{"dealer":"D1","city":"Pune"})"),
              std::string::npos);
    simdjson::dom::parser parser2;
    EXPECT_EQ(text(parser2.parse(out["transform"][0]).value(), "/obsrv_meta/flags/denorm"),
              "success");
}

TEST_F(DenormalizerTest, SomeFieldsFoundIsPartialWithOneSystemEventForTheMiss) {
    auto out = run("trips", R"({"id":"t2","vehicle":{"code":"V1"},"dealer":"D9"})");
    ASSERT_EQ(out["denorm"].size(), 1u);
    EXPECT_EQ(
        before_meta(out["denorm"][0]),
        R"({"dataset":"trips","event":{"id":"t2","vehicle":{"code":"V1"},"dealer":"D9","vehicleData":{"vehicleCode":"V1","model":"Model S","registeredAt":1700000000}})");
    simdjson::dom::parser parser;
    EXPECT_EQ(text(parser.parse(out["denorm"][0]).value(), "/obsrv_meta/flags/denorm"), "partial");
    ASSERT_EQ(out["system.events"].size(), 2u);  // the miss, then the router's completion
    EXPECT_EQ(
        without_ets(out["system.events"][0]),
        R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"DenormalizerJob","type":"flink","pid":"denorm"},"dataset":"trips","dataset_type":"event"},"data":{"error":{"pdata_id":"denorm","pdata_status":"failed","error_type":"DenormDataNotFound","error_code":"ERR_DENORM_1016","error_message":"Denorm data not found for the given key","error_level":"critical","error_count":1}},"ets":0})");
    EXPECT_EQ(out["trips"].size(), 1u);
}

TEST_F(DenormalizerTest, NoFieldFoundIsFailedButTheEventStillGoesOnAndNotToFailed) {
    auto out = run("trips", R"({"id":"t3","vehicle":{"code":"V9"},"dealer":"D9"})");
    ASSERT_EQ(out["denorm"].size(), 1u);
    // The event is unchanged.
    EXPECT_EQ(before_meta(out["denorm"][0]),
              R"({"dataset":"trips","event":{"id":"t3","vehicle":{"code":"V9"},"dealer":"D9"})");
    simdjson::dom::parser parser;
    EXPECT_EQ(text(parser.parse(out["denorm"][0]).value(), "/obsrv_meta/flags/denorm"), "failed");
    EXPECT_TRUE(out["failed"].empty());
    EXPECT_EQ(out["transform"].size(), 1u);
    EXPECT_EQ(out["trips"].size(), 1u);
    // Both misses have one code: one event counting two.
    ASSERT_EQ(out["system.events"].size(), 2u);
    auto e = parser.parse(out["system.events"][0]).value();
    EXPECT_EQ(text(e, "/data/error/error_code"), "ERR_DENORM_1016");
    int64_t count = 0;
    ASSERT_EQ(e.at_pointer("/data/error/error_count").get(count), simdjson::SUCCESS);
    EXPECT_EQ(count, 2);
}

TEST_F(DenormalizerTest, MissingBlankOrMistypedKeysGiveErrDenorm1014And1015) {
    simdjson::dom::parser parser;
    struct expectation {
        std::string event;
        std::string status;
        std::vector<std::pair<std::string, int64_t>> codes;  // in the order written
    };
    const std::vector<expectation> cases = {
        // vehicle.code missing, dealer found.
        {R"({"vehicle":{},"dealer":"D1"})", "partial", {{"ERR_DENORM_1014", 1}}},
        // a blank string is no key either.
        {R"({"vehicle":{"code":"  "},"dealer":"D1"})", "partial", {{"ERR_DENORM_1014", 1}}},
        // an object and a boolean are not keys.
        {R"({"vehicle":{"code":{"a":1}},"dealer":true})", "failed", {{"ERR_DENORM_1015", 2}}},
        // null counts as a wrong type (Jackson: not textual, not a number).
        {R"({"vehicle":{"code":null}})",
         "failed",
         {{"ERR_DENORM_1014", 1}, {"ERR_DENORM_1015", 1}}},
        // a number is a key, as text: 42 finds the record stored under "42".
        {R"({"vehicle":{"code":"V1"},"dealer":42})", "success", {}},
    };
    for (const auto& c : cases) {
        auto out = run("trips", c.event);
        ASSERT_EQ(out["denorm"].size(), 1u) << c.event;
        EXPECT_EQ(text(parser.parse(out["denorm"][0]).value(), "/obsrv_meta/flags/denorm"),
                  c.status)
            << c.event;
        EXPECT_TRUE(out["failed"].empty()) << c.event;
        ASSERT_EQ(out["system.events"].size(), c.codes.size() + 1) << c.event;
        for (size_t i = 0; i < c.codes.size(); ++i) {
            auto e = parser.parse(out["system.events"][i]).value();
            EXPECT_EQ(text(e, "/data/error/error_code"), c.codes[i].first) << c.event;
            int64_t count = 0;
            ASSERT_EQ(e.at_pointer("/data/error/error_count").get(count), simdjson::SUCCESS);
            EXPECT_EQ(count, c.codes[i].second) << c.event;
        }
    }
    auto out = run("trips", R"({"vehicle":{"code":"V1"}})");
    auto e = parser.parse(out["system.events"][0]).value();
    EXPECT_EQ(text(e, "/data/error/error_type"), "DenormKeyMissing");
    EXPECT_EQ(text(e, "/data/error/error_message"),
              "No denorm key or transformation expr found or missing data for the specified key");
    out = run("trips", R"({"vehicle":{"code":"V1"},"dealer":[1]})");
    e = parser.parse(out["system.events"][0]).value();
    EXPECT_EQ(text(e, "/data/error/error_type"), "DenormKeyInvalid");
    EXPECT_EQ(text(e, "/data/error/error_message"), "Denorm key value is not a String or Number");
}

TEST_F(DenormalizerTest, AnOutFieldAlreadyInTheEventIsReplaced) {
    auto out = run("trips", R"({"vehicleData":"old","vehicle":{"code":"V1"},"dealer":"D1","z":1})");
    ASSERT_EQ(out["denorm"].size(), 1u);
    EXPECT_EQ(
        before_meta(out["denorm"][0]),
        R"({"dataset":"trips","event":{"vehicle":{"code":"V1"},"dealer":"D1","z":1,"vehicleData":{"vehicleCode":"V1","model":"Model S","registeredAt":1700000000},"dealerData":{"dealer":"D1","city":"Pune"}})");
}

TEST_F(DenormalizerTest, LaterStagesSeeTheMasterData) {
    auto out = run("rides", R"({"vehicleCode":"V1"})");
    ASSERT_EQ(out["rides"].size(), 1u) << (out["failed"].empty() ? "" : out["failed"][0]);
    simdjson::dom::parser parser;
    int64_t index_ts = 0;
    ASSERT_EQ(parser.parse(out["rides"][0]).value().at_key("indexTS").get(index_ts),
              simdjson::SUCCESS);
    EXPECT_EQ(index_ts, 1700000000000);  // vehicleData.registeredAt, 10 digits → ms
}

TEST_F(DenormalizerTest, DatasetsWithoutDenormFieldsAreSkipped) {
    auto out = run("plain", R"({"a":1})");
    ASSERT_EQ(out["denorm"].size(), 1u);
    simdjson::dom::parser parser;
    EXPECT_EQ(text(parser.parse(out["denorm"][0]).value(), "/obsrv_meta/flags/denorm"), "skipped");
    EXPECT_EQ(out["system.events"].size(), 1u);
}

TEST_F(DenormalizerTest, TheEventKeepsItsBytesAsSentAroundTheMergedRecord) {
    auto out = run("rides", R"({ "vehicleCode" : "V1" } )");
    ASSERT_EQ(out["denorm"].size(), 1u);
    EXPECT_EQ(
        before_meta(out["denorm"][0]),
        R"({"dataset":"rides","event":{ "vehicleCode" : "V1" ,"vehicleData":{"vehicleCode":"V1","model":"Model S","registeredAt":1700000000}})");
}

TEST(DenormCatalogTest, JsonataKeysAreRefusedAtLoadWithTheFieldNamed) {
    auto ds = parse_ok(R"j({"id":"j","dataset_id":"j","type":"event","status":"Live",
        "denorm_config":{"denorm_fields":[
          {"denorm_key":"a","denorm_out_field":"A","redis_db":3},
          {"jsonata_expr":"$lowercase(b)","denorm_out_field":"B","redis_db":3}]}})j");
    auto snapshot = dataset::snapshot::build({ds}, 1);
    std::vector<std::string> problems;
    auto catalog = dataset_catalog::build(*snapshot, {}, &problems);
    EXPECT_EQ(catalog->find("j"), nullptr);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0],
              "dataset 'j' (test): denorm_config.denorm_fields[1].jsonata_expr: JSONata "
              "expressions are not supported yet; give the key's path as denorm_key");
}

TEST(DenormCatalogTest, FieldsKnowWhereTheirMasterRecordsAre) {
    auto snapshot = dataset::snapshot::build({parse_ok(k_event_dataset)}, 1);
    auto catalog = dataset_catalog::build(*snapshot, {}, nullptr);
    const compiled_dataset* c = catalog->find("trips");
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->denorm_fields.size(), 2u);
    EXPECT_EQ(c->denorm_fields[0].key_pointer, "/vehicle/code");
    EXPECT_EQ(c->denorm_fields[0].where, (master_location{"valkey-denorm", 6379, 3}));
    EXPECT_EQ(c->denorm_fields[1].where, (master_location{"valkey-denorm", 6379, 4}));
}

}  // namespace
}  // namespace obsrv::pipeline
