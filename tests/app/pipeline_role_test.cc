// The pipeline role with the in-memory master-data store, on the embedded broker: the store
// starts empty at every start and is rebuilt by the cache indexer from the master topics, so
// the role must not take entry messages before that is done. Here the entry topic and the
// master topic are both full before the role starts; every event must find its record.

#include "app/pipeline_role.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "common/config.h"
#include "common/metrics.h"
#include "dataset/registry.h"
#include "kafka/embedded_cluster.h"
#include "kafka_helpers.h"
#include "test_env.h"

namespace obsrv::app {
namespace {

using namespace std::chrono_literals;
using testing::scaled;
using testing::wait_until;

constexpr std::string_view k_users = R"({
  "id": "users", "dataset_id": "users", "type": "master", "status": "Live",
  "dataset_config": {"keys_config": {"data_key": "id"}, "cache_config": {"redis_db": 2}}
})";

constexpr std::string_view k_visits = R"({
  "id": "visits", "dataset_id": "visits", "type": "event", "status": "Live",
  "denorm_config": {"denorm_fields": [
    {"denorm_key": "user", "denorm_out_field": "userData", "dataset_id": "users",
     "redis_db": 2}]}
})";

void write_file(const std::string& path, std::string_view text) {
    std::ofstream(path) << text;
}

int produce(const std::string& bootstrap, const std::string& topic,
            const std::vector<std::string>& payloads) {
    return testing::produce_values(bootstrap, topic, -1, payloads);
}

TEST(PipelineRoleTest, MemoryStoreIsLoadedFromTheMasterTopicsBeforeEntryMessagesAreTaken) {
    auto cluster = kafka::embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    const std::string bootstrap = (*cluster)->bootstrap();
    for (const char* topic : {"ingest", "users", "visits", "raw", "unique", "denorm", "transform",
                              "failed", "system.events", "masterdata.stats"}) {
        ASSERT_EQ((*cluster)->create_topic(topic, 4, 1), RD_KAFKA_RESP_ERR_NO_ERROR) << topic;
    }

    // The records the events need come last, behind many others: an indexer racing the
    // pipeline would still be reading when the pipeline takes the first events.
    constexpr int k_other_users = 20000;
    constexpr int k_users_count = 50;
    constexpr int k_events = 1000;
    std::vector<std::string> records;
    for (int i = 0; i < k_other_users; ++i) {
        records.push_back(fmt::format(R"({{"id":"other-{}","name":"Other {}"}})", i, i));
    }
    for (int i = 0; i < k_users_count; ++i) {
        records.push_back(fmt::format(R"({{"id":"u{}","name":"User {}"}})", i, i));
    }
    ASSERT_EQ(produce(bootstrap, "users", records), k_other_users + k_users_count);
    std::vector<std::string> events;
    for (int i = 0; i < k_events; ++i) {
        events.push_back(fmt::format(
            R"({{"dataset":"visits","event":{{"id":"v{}","user":"u{}"}}}})", i, i % k_users_count));
    }
    ASSERT_EQ(produce(bootstrap, "ingest", events), k_events);

    const std::string dir = testing::make_temp_dir("pipeline-role");
    write_file(dir + "/users.json", k_users);
    write_file(dir + "/visits.json", k_visits);
    const std::vector<std::string> overrides = {
        "datasets.dir=" + dir,
        "pipeline.workers=1",
        "pipeline.commit_interval_ms=100",
        "pipeline.write_raw=false",
        "pipeline.write_unique=false",
        "pipeline.write_transform=false",
        "kafka.consumer.session.timeout.ms=6000",
        "kafka.consumer.heartbeat.interval.ms=300",
    };
    auto config = config::load(std::nullopt, overrides);
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_EQ(config->pipeline.master_data.store, "memory");
    metrics::registry metrics;
    dataset::registry datasets(dir, metrics);
    ASSERT_TRUE(datasets.load());

    auto role = pipeline_role::start(*config, bootstrap, datasets, nullptr, metrics);
    ASSERT_TRUE(role) << role.error().message;

    std::vector<std::string> denorm;
    ASSERT_TRUE(wait_until(
        [&] {
            denorm = testing::read_topic(bootstrap, "denorm", k_events, 1s);
            return denorm.size() == static_cast<size_t>(k_events);
        },
        scaled(60s)))
        << denorm.size() << " of " << k_events << " events denormalized";
    int found = 0;
    for (const auto& m : denorm) {
        if (m.find(R"("userData":{"id":"u)") != std::string::npos &&
            m.find(R"("denorm":"success")") != std::string::npos) {
            ++found;
        }
    }
    EXPECT_EQ(found, k_events) << "events that found their master record; e.g. " << denorm[0];
    (*role)->stop();
}

}  // namespace
}  // namespace obsrv::app
