// The cache indexer: records of a master dataset's topic upserted into the master-data store
// (deep merge, obsrv_meta dropped, indexTS kept), ERR_MASTER_DATA_1017 to masterdata.failed,
// the stats message; then, on the embedded broker, the indexer and the pipeline in one process
// sharing the in-memory store: a record produced to the master topic denormalizes an event,
// and a master dataset added by a reload is followed (resubscription).

#include "pipeline/master_data_indexer.h"

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include "common/json_writer.h"
#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "kafka/embedded_cluster.h"
#include "kafka_helpers.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/pipeline_runtime.h"
#include "pipeline/shared_dedup_window.h"
#include "test_env.h"

namespace obsrv::pipeline {
namespace {

using namespace std::chrono_literals;
using testing::scaled;
using testing::wait_until;

constexpr std::string_view k_vehicles = R"({
  "id": "vehicles", "dataset_id": "vehicles", "type": "master", "status": "Live",
  "router_config": {"topic": "vehicles"},
  "dataset_config": {"keys_config": {"data_key": "vehicleCode"},
                     "cache_config": {"redis_db_host": "localhost", "redis_db_port": 6379,
                                      "redis_db": 3}}
})";

constexpr std::string_view k_dealers = R"({
  "id": "dealers", "dataset_id": "dealers", "type": "master", "status": "Live",
  "dataset_config": {"keys_config": {"data_key": "id"}, "cache_config": {"redis_db": 4}}
})";

constexpr std::string_view k_retired_master = R"({
  "id": "old", "dataset_id": "old", "type": "master", "status": "Retired",
  "dataset_config": {"keys_config": {"data_key": "id"}, "cache_config": {"redis_db": 5}}
})";

constexpr std::string_view k_trips = R"({
  "id": "trips", "dataset_id": "trips", "type": "event", "status": "Live",
  "denorm_config": {"redis_db_host": "localhost", "redis_db_port": 6379, "denorm_fields": [
    {"denorm_key": "vehicleCode", "denorm_out_field": "vehicleData", "dataset_id": "vehicles",
     "redis_db": 3},
    {"denorm_key": "dealer", "denorm_out_field": "dealerData", "dataset_id": "dealers",
     "redis_db": 4}]}
})";

std::shared_ptr<const dataset::dataset> parse_ok(std::string_view text) {
    auto parsed = dataset::parse_dataset(text, "test");
    if (!parsed) {
        throw std::runtime_error(parsed.error().message);
    }
    return std::make_shared<const dataset::dataset>(std::move(parsed).value());
}

std::shared_ptr<const dataset_catalog> catalog_of(
    std::vector<std::shared_ptr<const dataset::dataset>> datasets) {
    return dataset_catalog::build(*dataset::snapshot::build(std::move(datasets), 1), {}, nullptr);
}

master_value lookup(master_data_store& store, int64_t db, std::string_view key) {
    const master_location where{"", 6379, db};
    const master_get get{&where, key};
    master_value value;
    EXPECT_TRUE(store.get({&get, 1}, {&value, 1}));
    return value;
}

std::string text(simdjson::dom::element e, std::string_view pointer) {
    std::string_view s;
    if (e.at_pointer(pointer).get(s) != simdjson::SUCCESS) {
        return "<missing " + std::string(pointer) + ">";
    }
    return std::string(s);
}

class MasterDataIndexerTest : public ::testing::Test {
  protected:
    MasterDataIndexerTest()
        : _catalogs(catalog_of({parse_ok(k_vehicles), parse_ok(k_retired_master)})),
          _indexer(_options, _catalogs, _store, _metrics) {}

    std::map<std::string, std::vector<std::string>> index(std::string_view topic,
                                                          std::string_view record) {
        std::vector<output_message> out;
        input_message in{record, 0, _offset++, 1700000000000, topic};
        EXPECT_EQ(_indexer.process(in, out), 0u);
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& m : out) {
            by_topic[m.topic].push_back(std::move(m.payload));
        }
        return by_topic;
    }

    master_data_indexer_options _options;
    pipeline_metrics _metrics{nullptr};
    memory_master_store _store;
    catalog_source _catalogs;
    master_data_indexer _indexer;
    int64_t _offset = 0;
};

TEST_F(MasterDataIndexerTest, RecordsAreUpsertedAndASecondOneMergesIntoTheFirst) {
    // As the router writes them: the record's members + obsrv_meta + indexTS.
    auto out = index("vehicles",
                     R"({"vehicleCode":"V1","model":"S","owner":{"name":"A","city":"Pune"},)"
                     R"("obsrv_meta":{"syncts":1,"flags":{"router":"success"}},"indexTS":null})");
    EXPECT_TRUE(out["masterdata.failed"].empty());
    master_value v = lookup(_store, 3, "V1");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(
        *v,
        R"({"vehicleCode":"V1","model":"S","owner":{"name":"A","city":"Pune"},"indexTS":null})");

    index("vehicles", R"({"vehicleCode":"V1","owner":{"city":"Goa"},"fuel":"cng","indexTS":5})");
    v = lookup(_store, 3, "V1");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(
        *v,
        R"({"vehicleCode":"V1","model":"S","owner":{"name":"A","city":"Goa"},"indexTS":5,"fuel":"cng"})");
    EXPECT_EQ(_store.size(), 1u);
}

TEST_F(MasterDataIndexerTest, EachIndexedRecordWritesAStatsMessage) {
    auto out = index("vehicles", R"({"vehicleCode":7})");  // a number key, as text
    EXPECT_NE(lookup(_store, 3, "7"), nullptr);
    ASSERT_EQ(out["masterdata.stats"].size(), 1u);
    const std::string& stats = out["masterdata.stats"][0];
    EXPECT_EQ(stats.rfind(R"({"dataset":"vehicles","obsrv_meta":{"syncts":1700000000000,)", 0), 0u)
        << stats;
    simdjson::dom::parser parser;
    auto s = parser.parse(stats).value();
    EXPECT_EQ(text(s, "/obsrv_meta/flags/masterdataprocessor"), "success");
    int64_t version = 0;
    ASSERT_EQ(s.at_pointer("/obsrv_meta/data_version").get(version), simdjson::SUCCESS);
    EXPECT_EQ(version, 1);
    EXPECT_EQ(s.at_key("event").error(), simdjson::NO_SUCH_FIELD);
}

TEST_F(MasterDataIndexerTest, MissingKeyGoesToMasterdataFailedWithErrMasterData1017) {
    for (std::string_view record :
         {R"({"model":"S"})", R"({"vehicleCode":""})", R"({"vehicleCode":{"a":1}})"}) {
        auto out = index("vehicles", record);
        ASSERT_EQ(out["masterdata.failed"].size(), 1u) << record;
        const std::string& failed = out["masterdata.failed"][0];
        const std::string expected_prefix = R"({"dataset":"vehicles","event":)" + [&] {
            std::string s;
            append_json_string(s,
                               R"({"event":)" + std::string(record) + R"(,"dataset":"vehicles"})");
            return s;
        }() + R"(,"obsrv_meta":{)";
        EXPECT_EQ(failed.rfind(expected_prefix, 0), 0u) << failed;
        simdjson::dom::parser parser;
        auto f = parser.parse(failed).value();
        EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_MASTER_DATA_1017");
        EXPECT_EQ(text(f, "/obsrv_meta/error/error_msg"),
                  "Master dataset configuration key is missing");
        EXPECT_EQ(text(f, "/obsrv_meta/error/src"), "masterdataprocessor");
        EXPECT_EQ(text(f, "/obsrv_meta/flags/masterdataprocessor"), "failed");
        ASSERT_EQ(out["system.events"].size(), 1u);
        auto e = parser.parse(out["system.events"][0]).value();
        EXPECT_EQ(text(e, "/ctx/pdata/id"), "CacheIndexerJob");
        EXPECT_EQ(text(e, "/ctx/pdata/pid"), "masterdataprocessor");
        EXPECT_EQ(text(e, "/ctx/dataset_type"), "master");
        EXPECT_EQ(text(e, "/data/error/error_type"), "MissingMasterDatasetKey");
        EXPECT_EQ(text(e, "/data/error/error_level"), "critical");
        EXPECT_TRUE(out["masterdata.stats"].empty());
    }
    EXPECT_EQ(_store.size(), 0u);
}

TEST_F(MasterDataIndexerTest, UnknownTopicsAndInvalidJsonFailAsObsrvsBaseFunctionDoes) {
    auto out = index("old", R"({"id":"x"})");  // a master dataset, but not Live
    ASSERT_EQ(out["masterdata.failed"].size(), 1u);
    simdjson::dom::parser parser;
    auto f = parser.parse(out["masterdata.failed"][0]).value();
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_EXT_1005");
    EXPECT_EQ(text(f, "/dataset"), "old");

    out = index("vehicles", "not json");
    ASSERT_EQ(out["masterdata.failed"].size(), 1u);
    EXPECT_EQ(
        out["masterdata.failed"][0].rfind(
            R"({"invalid_json":"not json","event":"{\"invalid_json\":\"not json\"}","obsrv_meta":{)",
            0),
        0u)
        << out["masterdata.failed"][0];
    auto g = parser.parse(out["masterdata.failed"][0]).value();
    EXPECT_EQ(text(g, "/obsrv_meta/error/error_code"), "ERR_EXT_1004");
    EXPECT_EQ(text(parser.parse(out["system.events"][0]).value(), "/ctx/dataset"), "ALL");

    // Bytes that are not UTF-8 become U+FFFD, as Java decodes them: still JSON text.
    out = index("vehicles", "not \xc0json\xed\xa0\x80");
    ASSERT_EQ(out["masterdata.failed"].size(), 1u);
    simdjson::dom::element h;
    ASSERT_EQ(parser.parse(out["masterdata.failed"][0]).get(h), simdjson::SUCCESS)
        << out["masterdata.failed"][0];
    EXPECT_EQ(text(h, "/invalid_json"), "not \xef\xbf\xbdjson\xef\xbf\xbd");
}

TEST(MasterDataCatalogTest, MasterTopicsAreTheLiveMastersRouterTopics) {
    auto catalog = catalog_of(
        {parse_ok(k_vehicles), parse_ok(k_dealers), parse_ok(k_retired_master), parse_ok(k_trips)});
    EXPECT_EQ(catalog->master_topics(), (std::vector<std::string>{"dealers", "vehicles"}));
    ASSERT_NE(catalog->find_master_by_topic("dealers"), nullptr);
    EXPECT_EQ(catalog->find_master_by_topic("dealers")->cache_location.db, 4);
    EXPECT_EQ(catalog->find_master_by_topic("trips"), nullptr);
    EXPECT_EQ(catalog->find_master_by_topic("old"), nullptr);
}

// ---- on the embedded broker -----------------------------------------------------------------

int produce(const std::string& bootstrap, const std::string& topic,
            const std::vector<std::string>& payloads) {
    return testing::produce_values(bootstrap, topic, -1, payloads);
}

pipeline_runtime_options runtime_options(const std::string& bootstrap, std::string group) {
    pipeline_runtime_options options;
    options.bootstrap = bootstrap;
    options.group = std::move(group);
    options.workers = 1;
    options.commit_interval = 200ms;
    options.drain_deadline = scaled(5s);
    options.kafka.client_id = "test";
    options.kafka.producer["linger.ms"] = "5";
    options.kafka.consumer["session.timeout.ms"] = "6000";
    options.kafka.consumer["heartbeat.interval.ms"] = "300";
    options.kafka.consumer["topic.metadata.refresh.interval.ms"] = "500";
    return options;
}

TEST(MasterDataIndexerKafkaTest, ARecordProducedToTheMasterTopicDenormalizesAnEvent) {
    auto cluster = kafka::embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    const std::string bootstrap = (*cluster)->bootstrap();
    for (const char* topic : {"ingest", "vehicles", "dealers", "denorm", "masterdata.stats"}) {
        ASSERT_EQ((*cluster)->create_topic(topic, 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    }

    // A reload that adds the master dataset `dealers` is simulated by subscribing the indexer
    // to the new master topics, as pipeline_role does when the catalog changes; the indexer's
    // catalog already knows both masters.
    auto first = catalog_of({parse_ok(k_vehicles), parse_ok(k_trips)});
    auto second = catalog_of({parse_ok(k_vehicles), parse_ok(k_dealers), parse_ok(k_trips)});
    catalog_source catalogs(first);
    catalog_source catalogs_after_reload(second);

    memory_master_store store;
    pipeline_metrics metrics{nullptr};
    master_data_indexer_options indexer_options;
    metrics::registry registry;

    pipeline_runtime_options ir = runtime_options(bootstrap, "cache-indexer-test");
    ir.topics = first->master_topics();
    ir.metrics = &registry;
    ir.metric_prefix = "obsrv_cache_indexer";
    ir.client_role = "cache-indexer";
    ir.thread_prefix = "cidx";
    ir.factory = [&](int) -> std::unique_ptr<message_processor> {
        // The second source serves both catalogs' topics; the first lacks dealers.
        return std::make_unique<master_data_indexer>(indexer_options, catalogs_after_reload, store,
                                                     metrics);
    };
    auto indexer = pipeline_runtime::start(std::move(ir));
    ASSERT_TRUE(indexer) << indexer.error().message;

    pipeline_options stage_options;
    shared_dedup_window dedup{shared_dedup_window_options{}};
    pipeline_runtime_options pr = runtime_options(bootstrap, "pipeline-test");
    pr.topics = {"ingest"};
    pr.metrics = &registry;
    pr.factory = [&](int) -> std::unique_ptr<message_processor> {
        return std::make_unique<pipeline_processor>(stage_options, catalogs, dedup, metrics,
                                                    nullptr, &store);
    };
    auto pipeline = pipeline_runtime::start(std::move(pr));
    ASSERT_TRUE(pipeline) << pipeline.error().message;

    // A master record through Kafka, as the router writes it.
    ASSERT_EQ(
        produce(bootstrap, "vehicles",
                {R"({"vehicleCode":"V1","model":"S","obsrv_meta":{"syncts":1},"indexTS":null})"}),
        1);
    ASSERT_TRUE(wait_until([&] { return lookup(store, 3, "V1") != nullptr; }, scaled(20s)));

    ASSERT_EQ(
        produce(bootstrap, "ingest",
                {R"({"dataset":"trips","event":{"id":"t1","vehicleCode":"V1","dealer":"D1"}})"}),
        1);
    std::vector<std::string> denorm;
    ASSERT_TRUE(wait_until(
        [&] {
            denorm = testing::read_topic(bootstrap, "denorm", 1, 1s);
            return !denorm.empty();
        },
        scaled(20s)));
    EXPECT_NE(denorm[0].find(R"("vehicleData":{"vehicleCode":"V1","model":"S","indexTS":null})"),
              std::string::npos)
        << denorm[0];
    EXPECT_NE(denorm[0].find(R"("denorm":"partial")"), std::string::npos) << denorm[0];

    // A reload adds the master dataset `dealers`: the indexer follows.
    (*indexer)->subscribe(second->master_topics());
    ASSERT_EQ(produce(bootstrap, "dealers", {R"({"id":"D1","city":"Pune"})"}), 1);
    ASSERT_TRUE(wait_until([&] { return lookup(store, 4, "D1") != nullptr; }, scaled(30s)));
    EXPECT_EQ(*lookup(store, 4, "D1"), R"({"id":"D1","city":"Pune"})");
    ASSERT_TRUE(
        wait_until([&] { return testing::topic_message_count(bootstrap, "masterdata.stats") == 2; },
                   scaled(10s)));

    (*pipeline)->stop();
    (*indexer)->stop();
}

}  // namespace
}  // namespace obsrv::pipeline
