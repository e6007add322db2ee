// The master-data store in a real redis-server (started by the test on a loopback port):
// SELECT of each location's db, pipelined GETs, the cache in front (hits, TTL), upserts with
// Obsrv's merge and no expiry, host/port overrides, and a Redis restart while the
// denormalizer is waiting: the batch is held, then passes with its master data, nothing failed.

#include "pipeline/redis_master_store.h"

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/shared_dedup_window.h"
#include "redis/client.h"
#include "redis_server.h"

namespace obsrv::pipeline {
namespace {

using namespace std::chrono_literals;
using obsrv::testing::redis_server;

class RedisMasterStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto server = redis_server::launch();
        if (!server) {
            GTEST_SKIP() << server.error().message;
        }
        _server = std::move(*server);
    }

    redis_master_store_options options() const {
        redis_master_store_options o;
        o.default_host = _server->host();
        o.port_override = _server->port();
        o.reconnect_backoff = 20ms;
        o.reconnect_backoff_max = 100ms;
        return o;
    }

    // A direct connection to one db, to see and change what the store sees.
    redis::client direct(int db) const {
        return redis::client({.host = _server->host(), .port = _server->port(), .db = db});
    }

    std::unique_ptr<redis_server> _server;
};

master_value get_one(redis_master_store& store, const master_location& where,
                     std::string_view key) {
    const master_get get{&where, key};
    master_value value;
    EXPECT_TRUE(store.get({&get, 1}, {&value, 1}));
    return value;
}

TEST_F(RedisMasterStoreTest, GetsSelectTheDbOfTheirLocationAndArePipelined) {
    auto db3 = direct(3);
    ASSERT_TRUE(db3.command({"SET", "V1", R"({"model":"S"})"}));
    ASSERT_TRUE(db3.command({"SET", "V2", R"({"model":"X"})"}));
    auto db4 = direct(4);
    ASSERT_TRUE(db4.command({"SET", "V1", R"({"dealer":"D"})"}));

    redis_master_store store(options());
    const master_location in3{"", 6379, 3};
    const master_location in4{"", 6379, 4};
    const master_get gets[] = {{&in3, "V1"}, {&in4, "V1"}, {&in3, "V2"}, {&in3, "nope"}};
    master_value values[4];
    ASSERT_TRUE(store.get(gets, values));
    ASSERT_NE(values[0], nullptr);
    EXPECT_EQ(*values[0], R"({"model":"S"})");
    ASSERT_NE(values[1], nullptr);
    EXPECT_EQ(*values[1], R"({"dealer":"D"})");
    ASSERT_NE(values[2], nullptr);
    EXPECT_EQ(*values[2], R"({"model":"X"})");
    EXPECT_EQ(values[3], nullptr);
    const auto stats = store.stats();
    EXPECT_EQ(stats.redis_gets, 4u);
    EXPECT_EQ(stats.not_found, 1u);
    EXPECT_EQ(store.connects(), 2u);  // one connection per (host, port, db)

    // One round trip per location: the server saw one GET command per key, in 2 batches.
    auto info = direct(0).command({"INFO", "commandstats"});
    ASSERT_TRUE(info);
    EXPECT_NE(info->text.find("cmdstat_get:calls=4,"), std::string::npos) << info->text;
}

TEST_F(RedisMasterStoreTest, TheCacheAnswersUntilItsTtlThenRedisAgain) {
    auto db3 = direct(3);
    ASSERT_TRUE(db3.command({"SET", "V1", R"({"v":1})"}));
    auto o = options();
    o.cache_ttl = 300ms;
    redis_master_store store(o);
    const master_location in3{"", 6379, 3};
    EXPECT_EQ(*get_one(store, in3, "V1"), R"({"v":1})");
    ASSERT_TRUE(db3.command({"SET", "V1", R"({"v":2})"}));
    EXPECT_EQ(*get_one(store, in3, "V1"), R"({"v":1})");  // cached
    EXPECT_EQ(store.stats().cache_hits, 1u);
    EXPECT_EQ(store.stats().redis_gets, 1u);
    std::this_thread::sleep_for(400ms);
    EXPECT_EQ(*get_one(store, in3, "V1"), R"({"v":2})");  // expired: read again
    EXPECT_EQ(store.stats().redis_gets, 2u);

    // Misses are not cached: a record indexed later is found at once.
    EXPECT_EQ(get_one(store, in3, "V9"), nullptr);
    ASSERT_TRUE(db3.command({"SET", "V9", R"({"v":9})"}));
    ASSERT_NE(get_one(store, in3, "V9"), nullptr);

    // A value that is not a JSON object counts as not found.
    ASSERT_TRUE(db3.command({"SET", "bad", "not json"}));
    EXPECT_EQ(get_one(store, in3, "bad"), nullptr);
    EXPECT_EQ(store.stats().invalid_values, 1u);
}

TEST_F(RedisMasterStoreTest, CacheSizeIsBounded) {
    auto db3 = direct(3);
    for (const char* k : {"a", "b", "c"}) {
        ASSERT_TRUE(db3.command({"SET", k, "{}"}));
    }
    auto o = options();
    o.cache_max_entries = 2;
    redis_master_store store(o);
    const master_location in3{"", 6379, 3};
    for (const char* k : {"a", "b", "c", "c", "a"}) {
        ASSERT_NE(get_one(store, in3, k), nullptr);
    }
    // a was evicted by c (oldest first): a, b, c from Redis, then c cached, a from Redis.
    EXPECT_EQ(store.stats().redis_gets, 4u);
    EXPECT_EQ(store.stats().cache_hits, 1u);
}

TEST_F(RedisMasterStoreTest, UpsertMergesIntoTheStoredRecordWithoutExpiry) {
    redis_master_store store(options());
    const master_location in3{"", 6379, 3};
    const master_put first[] = {{"V1", R"({"code":"V1","owner":{"name":"A"}})"}};
    upsert_counts counts;
    ASSERT_TRUE(store.upsert(in3, first, counts));
    const master_put second[] = {
        {"V1", R"({"owner":{"city":"Pune"}})"}, {"V2", R"({"code":"V2"})"}, {"V1", R"({"km":3})"}};
    ASSERT_TRUE(store.upsert(in3, second, counts));
    EXPECT_EQ(counts.inserted, 2u);
    EXPECT_EQ(counts.updated, 2u);

    auto db3 = direct(3);
    auto v1 = db3.command({"GET", "V1"});
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->text, R"({"code":"V1","owner":{"name":"A","city":"Pune"},"km":3})");
    auto ttl = db3.command({"TTL", "V1"});
    ASSERT_TRUE(ttl);
    EXPECT_EQ(ttl->integer, -1);  // no expiry
    // The cache has the merged record at once.
    EXPECT_EQ(*get_one(store, in3, "V1"), v1->text);
    EXPECT_EQ(store.stats().redis_gets, 0u);
}

TEST_F(RedisMasterStoreTest, OverridesReplaceTheDatasetsHostAndPort) {
    auto db3 = direct(3);
    ASSERT_TRUE(db3.command({"SET", "V1", "{}"}));
    auto o = options();
    o.host_override = _server->host();
    redis_master_store store(o);
    const master_location cluster_name{"valkey-denorm-headless.redis.svc.cluster.local", 6379, 3};
    EXPECT_EQ(store.resolve(cluster_name), (master_location{_server->host(), _server->port(), 3}));
    EXPECT_NE(get_one(store, cluster_name, "V1"), nullptr);
}

TEST_F(RedisMasterStoreTest, CallsFailWhileRedisIsDownAndWorkAfterItIsBack) {
    redis_master_store store(options());
    const master_location in3{"", 6379, 3};
    const master_get get{&in3, "V1"};
    master_value value;
    ASSERT_TRUE(store.get({&get, 1}, {&value, 1}));
    _server->stop();
    EXPECT_FALSE(store.get({&get, 1}, {&value, 1}));
    upsert_counts counts;
    const master_put put{"V1", "{}"};
    EXPECT_FALSE(store.upsert(in3, {&put, 1}, counts));
    ASSERT_TRUE(_server->start());
    std::this_thread::sleep_for(150ms);  // past the reconnect back-off
    EXPECT_TRUE(store.upsert(in3, {&put, 1}, counts));
    EXPECT_TRUE(store.get({&get, 1}, {&value, 1}));
}

// ---- the denorm stage over a restarting Redis -------------------------------------------------

constexpr std::string_view k_dataset = R"({
  "id": "trips", "dataset_id": "trips", "type": "event", "status": "Live",
  "denorm_config": {"redis_db_host": "valkey-denorm", "denorm_fields": [
    {"denorm_key": "vehicleCode", "denorm_out_field": "vehicleData", "redis_db": 3}]}
})";

class RedisDenormTest : public RedisMasterStoreTest {
  protected:
    void SetUp() override {
        RedisMasterStoreTest::SetUp();
        if (IsSkipped()) {
            return;
        }
        auto parsed = dataset::parse_dataset(k_dataset, "test");
        ASSERT_TRUE(parsed);
        auto snapshot = dataset::snapshot::build(
            {std::make_shared<const dataset::dataset>(std::move(parsed).value())}, 1);
        _catalogs =
            std::make_unique<catalog_source>(dataset_catalog::build(*snapshot, {}, nullptr));
        auto o = options();
        o.host_override = _server->host();
        o.cache_max_entries = 0;  // every event reads Redis
        _store = std::make_unique<redis_master_store>(o);
        _processor = std::make_unique<pipeline_processor>(_options, *_catalogs, _dedup, _metrics,
                                                          &_stopping, _store.get());
        ASSERT_TRUE(direct(3).command({"SET", "V1", R"({"model":"S"})"}));
    }

    std::map<std::string, std::vector<std::string>> run(processing_token* token = nullptr) {
        const std::string message = R"({"dataset":"trips","event":{"id":"e)" +
                                    std::to_string(_offset) + R"(","vehicleCode":"V1"}})";
        std::vector<output_message> out;
        const processing_token t =
            _processor->process(input_message{message, 0, _offset++, 1700000000000, "ingest"}, out);
        if (token != nullptr) {
            *token = t;
        }
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& m : out) {
            by_topic[m.topic].push_back(std::move(m.payload));
        }
        return by_topic;
    }

    pipeline_options _options;
    pipeline_metrics _metrics{nullptr};
    shared_dedup_window _dedup{shared_dedup_window_options{}};
    std::atomic<bool> _stopping{false};
    std::unique_ptr<catalog_source> _catalogs;
    std::unique_ptr<redis_master_store> _store;
    std::unique_ptr<pipeline_processor> _processor;
    int64_t _offset = 0;
};

TEST_F(RedisDenormTest, ARedisRestartHoldsTheBatchThenItPassesWithItsMasterData) {
    auto before = run();
    ASSERT_EQ(before["denorm"].size(), 1u);
    EXPECT_NE(before["denorm"][0].find(R"("denorm":"success")"), std::string::npos);

    // Redis restarts with its data (an RDB snapshot in its directory, loaded at start).
    ASSERT_TRUE(direct(0).command({"SAVE"}));
    _server->stop();
    auto held = std::async(std::launch::async, [this] { return run(); });
    EXPECT_EQ(held.wait_for(600ms), std::future_status::timeout);  // waiting, not failing
    ASSERT_TRUE(_server->start());
    ASSERT_EQ(held.wait_for(10s), std::future_status::ready);
    auto after = held.get();
    ASSERT_EQ(after["denorm"].size(), 1u);
    EXPECT_NE(after["denorm"][0].find(R"("vehicleData":{"model":"S"})"), std::string::npos)
        << after["denorm"][0];
    EXPECT_NE(after["denorm"][0].find(R"("denorm":"success")"), std::string::npos);
    EXPECT_TRUE(after["failed"].empty());
    EXPECT_EQ(after["trips"].size(), 1u);
    EXPECT_GT(_store->stats().failed_calls, 0u);
}

TEST_F(RedisDenormTest, StoppingWhileRedisIsDownLeavesTheMessageUnprocessed) {
    _server->stop();
    _stopping.store(true);
    processing_token token = 0;
    auto out = run(&token);
    EXPECT_EQ(token, k_not_processed);
    EXPECT_TRUE(out.empty());  // nothing written: the message is processed again later
}

}  // namespace
}  // namespace obsrv::pipeline
