#include "kafka/embedded_cluster.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kafka/topic_admin.h"
#include "kafka_helpers.h"
#include "test_env.h"

namespace obsrv::kafka {
namespace {

bool can_connect(const std::string& bootstrap) {
    auto colon = bootstrap.rfind(':');
    int port = std::stoi(bootstrap.substr(colon + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, bootstrap.substr(0, colon).c_str(), &addr.sin_addr);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

TEST(embedded_cluster, starts_serves_kafka_and_stops) {
    std::string bootstrap;
    {
        auto cluster = embedded_cluster::start(1);
        ASSERT_TRUE(cluster) << cluster.error().message;
        bootstrap = (*cluster)->bootstrap();
        EXPECT_THAT(bootstrap, ::testing::StartsWith("127.0.0.1:"));
        EXPECT_TRUE(can_connect(bootstrap));
        ASSERT_EQ((*cluster)->create_topic("roundtrip", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
        // A real Kafka client round trip over the wire protocol.
        EXPECT_EQ(testing::produce(bootstrap, "roundtrip", 1, 5), 5);
        auto consumed = testing::consume_and_commit(bootstrap, "rt-group", "roundtrip", 5,
                                                    testing::scaled(std::chrono::seconds(20)));
        EXPECT_EQ(consumed, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
    }
    EXPECT_FALSE(can_connect(bootstrap)) << "listener closed after stop";
}

TEST(embedded_cluster, creating_an_existing_topic_is_reported) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    EXPECT_EQ((*cluster)->create_topic("t", 4, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ((*cluster)->create_topic("t", 8, 1), RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
}

TEST(embedded_cluster, replication_is_capped_by_broker_count) {
    auto cluster = embedded_cluster::start(2);
    ASSERT_TRUE(cluster) << cluster.error().message;
    EXPECT_EQ((*cluster)->create_topic("t", 4, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    auto client = make_metadata_client((*cluster)->bootstrap(), "test");
    ASSERT_TRUE(client);
    auto topics = list_topics(client->get(), std::chrono::seconds(10));
    ASSERT_TRUE(topics) << topics.error().message;
    ASSERT_EQ(topics->size(), 1u);
    EXPECT_EQ((*topics)[0].replication_factor, 2);
}

TEST(embedded_cluster, bootstrap_file_is_written_whole) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    auto path = testing::make_temp_dir("bootstrap") + "/bootstrap";
    ASSERT_TRUE((*cluster)->write_bootstrap_file(path));
    EXPECT_EQ(testing::read_file(path), (*cluster)->bootstrap() + "\n");
    auto st = (*cluster)->write_bootstrap_file("/nonexistent-dir/bootstrap");
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, ::testing::HasSubstr("kafka.embedded.bootstrap_file"));
}

TEST(embedded_cluster, broker_down_refuses_clients_until_up) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    auto client = make_metadata_client((*cluster)->bootstrap(), "test");
    ASSERT_TRUE(client);
    ASSERT_TRUE(list_topics(client->get(), std::chrono::seconds(5)));
    ASSERT_TRUE((*cluster)->set_broker_down(1, true));
    EXPECT_FALSE(list_topics(client->get(), std::chrono::milliseconds(1500)));
    ASSERT_TRUE((*cluster)->set_broker_down(1, false));
    EXPECT_TRUE(testing::wait_until(
        [&] { return list_topics(client->get(), std::chrono::seconds(1)).has_value(); },
        testing::scaled(std::chrono::seconds(15))));
}

}  // namespace
}  // namespace obsrv::kafka
