#include "kafka/group_offsets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kafka/embedded_cluster.h"
#include "kafka_helpers.h"
#include "test_env.h"

namespace obsrv::kafka {
namespace {

TEST(group_offsets, committed_end_and_lag_per_partition) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    const auto& bootstrap = (*cluster)->bootstrap();
    ASSERT_EQ((*cluster)->create_topic("events", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(testing::produce(bootstrap, "events", 0, 10), 10);
    ASSERT_EQ(testing::consume_and_commit(bootstrap, "g1", "events", 7,
                                          testing::scaled(std::chrono::seconds(20)))
                  .size(),
              7u);

    auto client = make_metadata_client(bootstrap, "test");
    ASSERT_TRUE(client);
    auto topics = list_topics(client->get(), std::chrono::seconds(10));
    ASSERT_TRUE(topics) << topics.error().message;

    auto progress = describe_group(bootstrap, "g1", *topics, std::chrono::seconds(10));
    ASSERT_TRUE(progress) << progress.error().message;
    ASSERT_EQ(progress->partitions.size(), 1u) << "only the partition with a commit";
    const auto& p = progress->partitions[0];
    EXPECT_EQ(p.topic, "events");
    EXPECT_EQ(p.partition, 0);
    EXPECT_EQ(p.committed, 7);
    EXPECT_EQ(p.end, 10);
    EXPECT_EQ(p.lag, 3);
    EXPECT_EQ(progress->total_lag, 3);
    EXPECT_EQ(progress->to_json(),
              R"({"group":"g1","total_lag":3,"partitions":[{"topic":"events","partition":0,)"
              R"("committed":7,"end":10,"lag":3}]})");

    auto unknown = describe_group(bootstrap, "nobody", *topics, std::chrono::seconds(10));
    ASSERT_TRUE(unknown) << unknown.error().message;
    EXPECT_TRUE(unknown->partitions.empty());
}

TEST(group_offsets, a_group_is_behind_until_it_committed_the_ends_of_the_partitions_with_data) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    const auto& bootstrap = (*cluster)->bootstrap();
    ASSERT_EQ((*cluster)->create_topic("events", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(testing::produce(bootstrap, "events", 0, 10), 10);

    auto client = make_client(consumer_options({}, bootstrap, "test", "g1"));
    ASSERT_TRUE(client) << client.error().message;
    const std::vector<std::string> topics = {"events", "not-there"};
    auto ends = topic_ends(client->get(), topics, std::chrono::seconds(10));
    ASSERT_TRUE(ends) << ends.error().message;
    ASSERT_EQ(ends->size(), 1u) << "partition 1 is empty, not-there does not exist";
    EXPECT_EQ((*ends)[0].topic, "events");
    EXPECT_EQ((*ends)[0].partition, 0);
    EXPECT_EQ((*ends)[0].end, 10);

    auto behind = partitions_behind(client->get(), *ends, std::chrono::seconds(10));
    ASSERT_TRUE(behind) << behind.error().message;
    EXPECT_EQ(*behind, 1u) << "nothing committed yet";
    const auto timeout = testing::scaled(std::chrono::seconds(20));
    ASSERT_EQ(testing::consume_and_commit(bootstrap, "g1", "events", 7, timeout).size(), 7u);
    behind = partitions_behind(client->get(), *ends, std::chrono::seconds(10));
    ASSERT_TRUE(behind) << behind.error().message;
    EXPECT_EQ(*behind, 1u) << "7 of 10 committed";
    EXPECT_EQ(*partitions_behind(client->get(), {}, std::chrono::seconds(10)), 0u);

    ASSERT_EQ(testing::consume_and_commit(bootstrap, "g2", "events", 10, timeout).size(), 10u);
    auto g2 = make_client(consumer_options({}, bootstrap, "test", "g2"));
    ASSERT_TRUE(g2) << g2.error().message;
    behind = partitions_behind(g2->get(), *ends, std::chrono::seconds(10));
    ASSERT_TRUE(behind) << behind.error().message;
    EXPECT_EQ(*behind, 0u) << "all 10 committed";
}

TEST(group_offsets, list_groups_is_refused_by_the_embedded_broker) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    auto client = make_metadata_client((*cluster)->bootstrap(), "test");
    ASSERT_TRUE(client);
    auto groups = list_groups(client->get(), std::chrono::seconds(5));
    ASSERT_FALSE(groups);
    EXPECT_THAT(groups.error().message, ::testing::HasSubstr("cannot list consumer groups"));
}

}  // namespace
}  // namespace obsrv::kafka
