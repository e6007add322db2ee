#include "kafka/topic_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config.h"
#include "kafka/embedded_cluster.h"

namespace obsrv::kafka {
namespace {

using ::testing::HasSubstr;
constexpr auto k_timeout = std::chrono::seconds(10);

class topic_admin : public ::testing::Test {
  protected:
    void SetUp() override {
        auto cluster = embedded_cluster::start(1);
        ASSERT_TRUE(cluster) << cluster.error().message;
        _cluster = std::move(*cluster);
        auto client = make_metadata_client(_cluster->bootstrap(), "test-admin");
        ASSERT_TRUE(client) << client.error().message;
        _client = std::move(*client);
    }

    std::unique_ptr<embedded_cluster> _cluster;
    client_ptr _client;
};

TEST_F(topic_admin, apply_creates_the_seed_topics_then_is_idempotent) {
    auto specs = configured_topics(config::defaults().kafka.topics);
    ASSERT_EQ(specs.size(), 16u);
    embedded_topic_creator creator(*_cluster);

    auto first = apply_topics(_client.get(), creator, specs, k_timeout);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->count(apply_action::created), 16u);
    EXPECT_TRUE(first->ok());

    auto second = apply_topics(_client.get(), creator, specs, k_timeout);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->count(apply_action::created), 0u);
    EXPECT_EQ(second->count(apply_action::exists), 16u);

    auto topics = list_topics(_client.get(), k_timeout);
    ASSERT_TRUE(topics) << topics.error().message;
    ASSERT_EQ(topics->size(), 16u);
    for (const auto& t : *topics) {
        EXPECT_EQ(t.partitions, 4) << t.name;
        EXPECT_TRUE(t.error.empty()) << t.name << ": " << t.error;
    }
}

TEST_F(topic_admin, existing_topic_with_other_partition_count_is_reported_and_left_alone) {
    ASSERT_EQ(_cluster->create_topic("ingest", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    embedded_topic_creator creator(*_cluster);
    std::vector<topic_spec> specs = {{"ingest", 4, 1, 1000, 1000}, {"raw", 4, 1, 1000, 1000}};
    auto report = apply_topics(_client.get(), creator, specs, k_timeout);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->outcomes.size(), 2u);
    EXPECT_EQ(report->outcomes[0].action, apply_action::partition_mismatch);
    EXPECT_EQ(report->outcomes[0].actual_partitions, 2);
    EXPECT_THAT(report->outcomes[0].message, HasSubstr("has 2 partitions, configured 4"));
    EXPECT_EQ(report->outcomes[1].action, apply_action::created);
    EXPECT_TRUE(report->ok()) << "a mismatch is reported, not a failure";

    auto topics = list_topics(_client.get(), k_timeout);
    ASSERT_TRUE(topics);
    auto ingest = std::find_if(topics->begin(), topics->end(),
                               [](const topic_info& t) { return t.name == "ingest"; });
    ASSERT_NE(ingest, topics->end());
    EXPECT_EQ(ingest->partitions, 2) << "left alone";
}

TEST_F(topic_admin, report_serialises_to_json) {
    apply_report report;
    report.outcomes.push_back({"a", apply_action::created, 4, 4, ""});
    report.outcomes.push_back({"b\"", apply_action::failed, 4, 0, "no \"luck\""});
    EXPECT_EQ(report.to_json(),
              R"({"ok":false,"topics":[{"topic":"a","action":"created","expected_partitions":4,)"
              R"("actual_partitions":4,"message":""},{"topic":"b\"","action":"failed",)"
              R"("expected_partitions":4,"actual_partitions":0,"message":"no \"luck\""}]})");
}

TEST_F(topic_admin, admin_api_on_the_embedded_broker_fails_clearly) {
    // The mock cluster does not implement CreateTopics: the Admin API path is
    // for real clusters, and its failure must be an error, never a hang.
    admin_api_topic_creator creator(_client.get(), std::chrono::milliseconds(1500));
    auto outcome = creator.create({"x", 1, 1, 1000, 1000});
    ASSERT_FALSE(outcome);
    EXPECT_THAT(outcome.error().message, HasSubstr("Timed out"));
}

TEST_F(topic_admin, unreachable_brokers_fail_the_apply) {
    auto client = make_metadata_client("127.0.0.1:1", "test-admin");
    ASSERT_TRUE(client);
    embedded_topic_creator creator(*_cluster);
    std::vector<topic_spec> specs = {{"a", 1, 1, 1000, 1000}};
    auto report = apply_topics(client->get(), creator, specs, std::chrono::milliseconds(1000));
    ASSERT_FALSE(report);
    EXPECT_THAT(report.error().message, HasSubstr("metadata request failed"));
}

}  // namespace
}  // namespace obsrv::kafka
