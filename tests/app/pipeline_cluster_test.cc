// obsrvd pipeline processes against a Kafka broker the test owns (the embedded cluster, in this
// process), so the broker and its data outlive the pipelines: a clean restart with the memory
// dedup store's snapshot, kill -9 in mid-stream, two pipeline instances sharing a Redis dedup
// store, and outputs Kafka refuses for good.

#include <cstdio>
#include <map>
#include <set>
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/http_client.h"
#include "e2e_support.h"
#include "kafka/embedded_cluster.h"
#include "kafka/group_offsets.h"
#include "kafka_helpers.h"
#include "obsrvd_process.h"
#include "redis_server.h"
#include "test_env.h"

namespace obsrv::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int k_partitions = 4;
constexpr const char* k_group = "unified-pipeline-group";
constexpr const char* k_dataset = "cl-batch";

std::string text_at(const std::string& json, std::string_view pointer) {
    simdjson::dom::parser parser;
    std::string_view value;
    auto doc = parser.parse(json);
    if (doc.error() || doc.value_unsafe().at_pointer(pointer).get(value)) {
        return "<missing " + std::string(pointer) + ">";
    }
    return std::string(value);
}

/// The `mid` of a routed message ({"mid":...,...}) or of a failed one (inside the event string).
std::string mid_of(const std::string& message) {
    const std::string routed = text_at(message, "/mid");
    if (routed.rfind("<missing", 0) != 0) {
        return routed;
    }
    const std::string inner = text_at(message, "/event");
    simdjson::dom::parser parser;
    std::string_view mid;
    auto doc = parser.parse(inner);
    if (doc.error() || doc.value_unsafe().at_pointer("/event/mid").get(mid)) {
        return {};
    }
    return std::string(mid);
}

std::map<std::string, int> count_by_mid(const std::vector<std::string>& messages) {
    std::map<std::string, int> counts;
    for (const auto& m : messages) {
        ++counts[mid_of(m)];
    }
    return counts;
}

class pipeline_cluster : public ::testing::Test {
  protected:
    void SetUp() override {
        auto cluster = kafka::embedded_cluster::start(1);
        ASSERT_TRUE(cluster) << cluster.error().message;
        _cluster = std::move(*cluster);
        _bootstrap = _cluster->bootstrap();
        for (const char* topic : {"ingest", "raw", "unique", "denorm", "transform", "failed",
                                  "system.events", k_dataset}) {
            ASSERT_EQ(_cluster->create_topic(topic, k_partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
        }
        _datasets = make_temp_dir("datasets");
        write_dataset(_datasets, k_dataset, dataset_json(k_dataset, true, "mid"));
        _dir = make_temp_dir("cluster");
    }

    /// obsrvd with the given roles on the test's broker. Topics exist already (the embedded
    /// broker has no Admin API, so obsrvd must not try to create them).
    std::unique_ptr<obsrvd_process> start(const std::string& roles,
                                          std::vector<std::string> sets = {}) {
        obsrvd_options options;
        options.roles = roles;
        options.datasets_dir = _datasets;
        options.sets = {"kafka.brokers=" + _bootstrap, "kafka.topics.create_on_start=false",
                        "kafka.admin_timeout_ms=500", "pipeline.workers=2", "gateway.workers=1",
                        "pipeline.commit_interval_ms=100",
                        // A killed member leaves the group within seconds.
                        "kafka.consumer.session.timeout.ms=3000",
                        "kafka.consumer.heartbeat.interval.ms=300"};
        options.sets.insert(options.sets.end(), sets.begin(), sets.end());
        auto process = std::make_unique<obsrvd_process>(options);
        EXPECT_TRUE(process->wait_ready()) << process->process().stderr_text();
        return process;
    }

    /// The group's committed offsets summed over the entry topic's partitions.
    int64_t committed() const {
        std::vector<kafka::topic_info> topics{{"ingest", k_partitions, 1, ""}};
        auto progress = kafka::describe_group(_bootstrap, k_group, topics, 10s);
        if (!progress) {
            return -1;
        }
        int64_t total = 0;
        for (const auto& p : progress->partitions) {
            total += std::max<int64_t>(0, p.committed);
        }
        return total;
    }

    bool wait_committed(int64_t messages, std::chrono::milliseconds timeout = 60s) const {
        return wait_until([&] { return committed() >= messages; }, scaled(timeout));
    }

    int64_t count(const std::string& topic) const { return topic_message_count(_bootstrap, topic); }

    void post(obsrvd_process& gateway, const std::string& msgid, std::string_view data) {
        auto r =
            http::post("127.0.0.1", gateway.gateway_port(), std::string("/v2/data/in/") + k_dataset,
                       ingest_body(msgid, data), "application/json", scaled(10s));
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ(r->status, 200) << r->body;
    }

    std::unique_ptr<kafka::embedded_cluster> _cluster;
    std::string _bootstrap;
    std::string _datasets;
    std::string _dir;
};

// ---- the memory store's snapshot carries dedup across a restart ---------------------------

TEST_F(pipeline_cluster, a_key_seen_before_a_restart_is_a_duplicate_after_it) {
    const std::string snapshot = _dir + "/dedup.snapshot";
    const std::vector<std::string> sets = {"pipeline.dedup.store=memory",
                                           "pipeline.dedup.snapshot_path=" + snapshot};
    auto first = start("gateway,pipeline", sets);
    post(*first, "m-1", R"([{"mid":"K","ets":1711966306164}])");
    ASSERT_TRUE(wait_until([&] { return count(k_dataset) == 1; }, scaled(20s)));
    ASSERT_TRUE(wait_committed(1));
    ASSERT_EQ(first->stop(), 0) << first->process().stderr_text();

    auto second = start("gateway,pipeline", sets);
    EXPECT_THAT(second->process().stderr_text(), HasSubstr("dedup window: 2 keys restored from"));
    post(*second, "m-2", R"([{"mid":"K","ets":1711966306164}])");
    post(*second, "m-3", R"([{"mid":"K2","ets":1711966306164}])");
    ASSERT_TRUE(wait_committed(3)) << second->process().stderr_text();
    ASSERT_EQ(second->stop(), 0) << second->process().stderr_text();

    auto failed = read_all(_bootstrap, "failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(text_at(failed[0], "/obsrv_meta/error/error_code"), "ERR_PP_1010");
    EXPECT_EQ(mid_of(failed[0]), "K");
    auto routed = count_by_mid(read_all(_bootstrap, k_dataset));
    EXPECT_EQ(routed, (std::map<std::string, int>{{"K", 1}, {"K2", 1}}));
}

// ---- kill -9 in mid-stream loses nothing --------------------------------------------------

// Every input event reaches its dataset topic at least once after a SIGKILL and a restart:
// the offsets of messages whose outputs were not all delivered were never committed, so the
// restarted pipeline processes them again. Dedup keys are recorded in the store only once an
// event's outputs were delivered (docs/DESIGN.md "Pipeline"), and the memory store's snapshot
// holds only those, so a re-processed event can be taken for a duplicate (ERR_PP_1010) only if
// its first copy already reached the dataset topic. The test therefore asserts: all M distinct
// events on the dataset topic; dataset-topic copies plus ERR_PP_1010 verdicts beyond M at most
// the events of the messages not committed at the kill; and reports both figures.
class pipeline_kill : public pipeline_cluster, public ::testing::WithParamInterface<std::string> {};

TEST_P(pipeline_kill, sigkill_in_mid_stream_loses_no_event) {
    std::vector<std::string> sets = {"pipeline.dedup.store=" + GetParam()};
    std::unique_ptr<redis_server> redis;
    if (GetParam() == "redis") {
        auto launched = redis_server::launch();
        if (!launched) {
            GTEST_SKIP() << launched.error().message;
        }
        redis = std::move(*launched);
        sets.push_back("pipeline.dedup.redis_port=" + std::to_string(redis->port()));
    } else {
        sets.push_back("pipeline.dedup.snapshot_path=" + _dir + "/dedup.snapshot");
        sets.push_back("pipeline.dedup.snapshot_interval_ms=1000");
    }
    constexpr int k_messages = 120;
    constexpr int k_events_per_message = 50;
    constexpr int k_events = k_messages * k_events_per_message;
    std::vector<std::string> messages;
    for (int m = 0; m < k_messages; ++m) {
        std::string events = "[";
        for (int e = 0; e < k_events_per_message; ++e) {
            const int id = m * k_events_per_message + e;
            events += (e ? "," : "") + std::string(R"({"mid":"k)") + std::to_string(id) +
                      R"(","ets":1711966306164,"n":)" + std::to_string(id) + "}";
        }
        events += "]";
        messages.push_back(
            ingest_batch_message(k_dataset, "b-" + std::to_string(m), events, 1711966306164));
    }
    ASSERT_EQ(produce_values(_bootstrap, "ingest", -1, messages), k_messages);

    auto first = start("pipeline", sets);
    int64_t routed_at_kill = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            routed_at_kill = count(k_dataset);
            return routed_at_kill >= k_events / 2;
        },
        scaled(60s)))
        << first->process().stderr_text();
    first->process().signal(SIGKILL);
    ASSERT_EQ(first->process().wait(scaled(10s)), 128 + SIGKILL);
    const int64_t committed_at_kill = committed();
    std::printf(
        "[ INFO     ] killed with %lld of %d events routed, %lld of %d messages committed\n",
        static_cast<long long>(routed_at_kill), k_events, static_cast<long long>(committed_at_kill),
        k_messages);
    EXPECT_LT(committed_at_kill, k_messages) << "the kill came too late to test anything";

    auto second = start("pipeline", sets);
    ASSERT_TRUE(wait_committed(k_messages)) << second->process().stderr_text();
    ASSERT_EQ(second->stop(), 0) << second->process().stderr_text();

    const auto routed = read_all(_bootstrap, k_dataset);
    const auto by_mid = count_by_mid(routed);
    int missing = 0;
    for (int id = 0; id < k_events; ++id) {
        missing += by_mid.count("k" + std::to_string(id)) == 0 ? 1 : 0;
    }
    const auto failed = read_all(_bootstrap, "failed");
    const auto duplicate_verdicts = containing(failed, "ERR_PP_1010").size();
    int lost_to_dedup = 0;
    for (const auto& f : containing(failed, "ERR_PP_1010")) {
        lost_to_dedup += by_mid.count(mid_of(f)) == 0 ? 1 : 0;
    }
    const int64_t reprocessed_events = (k_messages - committed_at_kill) * k_events_per_message;
    const auto extra_copies = static_cast<int64_t>(routed.size()) - k_events + missing;
    std::printf(
        "[ INFO     ] store %s: %zu routed messages for %d events: %lld duplicate copies, %zu "
        "ERR_PP_1010 verdicts on re-processing, %d missing; at most %lld events re-processed\n",
        GetParam().c_str(), routed.size(), k_events, static_cast<long long>(extra_copies),
        duplicate_verdicts, missing, static_cast<long long>(reprocessed_events));
    RecordProperty("duplicate_copies", static_cast<int>(extra_copies));
    RecordProperty("duplicate_verdicts", static_cast<int>(duplicate_verdicts));
    EXPECT_EQ(missing, 0) << "events that never reached the dataset topic";
    EXPECT_EQ(lost_to_dedup, 0) << "re-processed events failed as duplicates of themselves";
    EXPECT_EQ(failed.size(), duplicate_verdicts) << "no other failure expected";
    EXPECT_LE(extra_copies + static_cast<int64_t>(duplicate_verdicts), reprocessed_events);
}

INSTANTIATE_TEST_SUITE_P(stores, pipeline_kill, ::testing::Values("memory", "redis"),
                         [](const auto& param_info) { return param_info.param; });

// ---- two pipeline instances share the Redis dedup store ----------------------------------

TEST_F(pipeline_cluster, two_instances_share_dedup_through_redis_and_lose_nothing) {
    auto redis = redis_server::launch();
    if (!redis) {
        GTEST_SKIP() << redis.error().message;
    }
    const std::vector<std::string> sets = {
        "pipeline.dedup.store=redis",
        "pipeline.dedup.redis_port=" + std::to_string((*redis)->port())};
    auto a = start("pipeline", sets);
    auto b = start("pipeline", sets);
    ASSERT_TRUE(wait_until(
        [&] {
            return a->metric("obsrv_pipeline_assigned_partitions") == 2 &&
                   b->metric("obsrv_pipeline_assigned_partitions") == 2;
        },
        scaled(40s)))
        << "the group did not settle on 2 + 2 partitions";

    // Each "d" key is sent once to every partition, so both instances see it; each "u" key
    // once. One message per event, msgids all distinct (no batch duplicates).
    constexpr int k_dup_keys = 25;
    constexpr int k_unique_keys = 100;
    int msg = 0;
    auto message = [&](const std::string& mid) {
        return ingest_batch_message(k_dataset, "t-" + std::to_string(msg++),
                                    R"([{"mid":")" + mid + R"(","ets":1711966306164}])",
                                    1711966306164);
    };
    for (int p = 0; p < k_partitions; ++p) {
        std::vector<std::string> values;
        for (int k = 0; k < k_dup_keys; ++k) {
            values.push_back(message("d" + std::to_string(k)));
        }
        for (int k = p; k < k_unique_keys; k += k_partitions) {
            values.push_back(message("u" + std::to_string(k)));
        }
        ASSERT_EQ(produce_values(_bootstrap, "ingest", p, values), static_cast<int>(values.size()));
    }
    const int total = msg;
    ASSERT_TRUE(wait_committed(total)) << a->process().stderr_text() << b->process().stderr_text();
    EXPECT_GT(a->metric("obsrv_pipeline_consumed_messages_total"), 0);
    EXPECT_GT(b->metric("obsrv_pipeline_consumed_messages_total"), 0);
    ASSERT_EQ(a->stop(), 0) << a->process().stderr_text();
    ASSERT_EQ(b->stop(), 0) << b->process().stderr_text();

    const auto routed = count_by_mid(read_all(_bootstrap, k_dataset));
    const auto failed = read_all(_bootstrap, "failed");
    const auto duplicates = count_by_mid(containing(failed, "ERR_PP_1010"));
    EXPECT_EQ(failed.size(), static_cast<size_t>(k_dup_keys * (k_partitions - 1)));
    for (int k = 0; k < k_dup_keys; ++k) {
        const std::string mid = "d" + std::to_string(k);
        EXPECT_EQ(routed.count(mid) ? routed.at(mid) : 0, 1) << mid;
        EXPECT_EQ(duplicates.count(mid) ? duplicates.at(mid) : 0, k_partitions - 1) << mid;
    }
    for (int k = 0; k < k_unique_keys; ++k) {
        const std::string mid = "u" + std::to_string(k);
        EXPECT_EQ(routed.count(mid) ? routed.at(mid) : 0, 1) << mid;
    }
    EXPECT_EQ(routed.size(), static_cast<size_t>(k_dup_keys + k_unique_keys));
}

// ---- an output Kafka refuses for good goes to failed and the partition moves on ------------

TEST_F(pipeline_cluster, an_output_too_large_for_the_producer_becomes_a_failed_event) {
    // The pipeline's producer takes at most 6000 bytes (the gateway's body limit must leave
    // room for its envelope under that, hence max_body_bytes): the big event's raw, unique, denorm,
    // transform and dataset-topic messages are all refused at produce time, for good.
    auto pipeline = start(
        "pipeline", {"kafka.producer.message.max.bytes=6000", "kafka.producer.batch.size=6000",
                     "gateway.max_body_bytes=1024", "pipeline.workers=1"});
    const std::string big_mid = "big-" + std::string(7000, 'x');
    ASSERT_EQ(
        produce_values(
            _bootstrap, "ingest", 0,
            {ingest_batch_message(k_dataset, "m-1",
                                  R"([{"mid":"small","ets":1711966306164},{"mid":")" + big_mid +
                                      R"(","ets":1711966306164}])",
                                  1711966306164),
             ingest_batch_message(k_dataset, "m-2", R"([{"mid":"after","ets":1711966306164}])",
                                  1711966306164)}),
        2);
    ASSERT_TRUE(wait_committed(2, 20s)) << pipeline->process().stderr_text();
    EXPECT_EQ(pipeline->metric("obsrv_pipeline_undeliverable_outputs_total"), 5);
    EXPECT_EQ(
        pipeline->metric(
            R"(obsrv_pipeline_events_total{dataset="cl-batch",stage="router",status="failed"})"),
        1);
    ASSERT_EQ(pipeline->stop(), 0) << pipeline->process().stderr_text();
    const std::string log = pipeline->process().stderr_text();
    EXPECT_THAT(log, HasSubstr("output to 'cl-batch' (7427 bytes) refused for good"));
    EXPECT_THAT(log, HasSubstr("refused for good: Broker: Message size too large"));

    const auto routed = count_by_mid(read_all(_bootstrap, k_dataset));
    EXPECT_EQ(routed, (std::map<std::string, int>{{"small", 1}, {"after", 1}}));
    const auto failed = read_all(_bootstrap, "failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_LE(failed[0].size(), 6000u);
    EXPECT_TRUE(matches(
        R"({"dataset":"cl-batch","event":"{\"event\":{\"mid\":\"big-xxx<S>,\"dataset\":\"cl-batch\"}","obsrv_meta":{"syncts":1711966306164,"processingStartTime":<N>,"prevProcessingTime":<N>,)"
        R"("flags":{"extractor":"success","validator":"success","dedup":"success","denorm":"skipped","transformer":"skipped","router":"failed"},)"
        R"("timespans":{"extractor":<N>,"validator":<N>,"dedup":<N>,"denorm":<N>,"transformer":<N>,"router":<N>},)"
        R"j("error":{"src":"router","error_code":"ERR_EXT_1003","error_msg":"Event size has exceeded max configured size: the message for topic 'cl-batch' (<N> bytes) was refused: Broker: Message size too large (event truncated to its first <N> of <N> bytes)"},)j"
        R"("source":{"connector":"api","connectorInstance":"api"}}})",
        failed[0]))
        << failed[0];
    // The intermediate topics lack only the big event's copies.
    for (const char* topic : {"raw", "unique", "denorm", "transform"}) {
        const auto messages = read_all(_bootstrap, topic);
        EXPECT_EQ(messages.size(), 2u) << topic;
        EXPECT_EQ(containing(messages, "big-").size(), 0u) << topic;
    }
    const auto events = read_all(_bootstrap, "system.events");
    const auto size_events = containing(events, R"("error_type":"EventSizeExceeded")");
    ASSERT_EQ(size_events.size(), 1u);
    EXPECT_THAT(size_events[0], HasSubstr(R"("error_code":"ERR_EXT_1003")"));
    EXPECT_THAT(size_events[0], HasSubstr(R"("error_level":"critical")"));
}

}  // namespace
}  // namespace obsrv::testing
