#include "kafka/broker_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kafka/client.h"
#include "kafka/embedded_cluster.h"
#include "test_env.h"

namespace obsrv::kafka {
namespace {

TEST(broker_monitor, tracks_reachability_and_runs_hooks_until_done) {
    auto cluster = embedded_cluster::start(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    auto client = make_metadata_client((*cluster)->bootstrap(), "test");
    ASSERT_TRUE(client);
    metrics::registry registry;
    broker_monitor monitor(client->get(), std::chrono::milliseconds(100),
                           std::chrono::milliseconds(500), registry);
    std::atomic<int> calls{0};
    monitor.add_hook([&] { return ++calls >= 3; });  // done on the third call
    monitor.start();
    EXPECT_TRUE(monitor.current().reachable) << "first check is synchronous";
    EXPECT_THAT(registry.render(), ::testing::HasSubstr("obsrv_kafka_broker_reachable 1"));
    ASSERT_TRUE(testing::wait_until([&] { return calls.load() >= 3; }, std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(calls.load(), 3) << "a hook that is done is not called again";

    ASSERT_TRUE((*cluster)->set_broker_down(1, true));
    EXPECT_TRUE(testing::wait_until([&] { return !monitor.current().reachable; },
                                    testing::scaled(std::chrono::seconds(10))));
    EXPECT_FALSE(monitor.current().error.empty());
    EXPECT_THAT(registry.render(), ::testing::HasSubstr("obsrv_kafka_broker_reachable 0"));
    ASSERT_TRUE((*cluster)->set_broker_down(1, false));
    EXPECT_TRUE(testing::wait_until([&] { return monitor.current().reachable; },
                                    testing::scaled(std::chrono::seconds(15))));
    monitor.stop();
}

}  // namespace
}  // namespace obsrv::kafka
