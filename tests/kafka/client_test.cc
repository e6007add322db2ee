#include "kafka/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config.h"

namespace obsrv::kafka {
namespace {

using ::testing::HasSubstr;

TEST(kafka_client, default_properties_are_valid_for_librdkafka) {
    auto s = config::defaults();
    EXPECT_TRUE(validate_properties(client_kind::producer, s.kafka.producer, "kafka.producer"));
    EXPECT_TRUE(validate_properties(client_kind::consumer, s.kafka.consumer, "kafka.consumer"));
}

TEST(kafka_client, unknown_property_names_the_config_key) {
    auto st = validate_properties(client_kind::producer, {{"linger.msx", "5"}}, "kafka.producer");
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("config: key 'kafka.producer.linger.msx'"));
    EXPECT_THAT(st.error().message, HasSubstr("No such configuration property"));
}

TEST(kafka_client, bad_value_names_the_config_key) {
    auto st = validate_properties(client_kind::consumer, {{"session.timeout.ms", "soon"}},
                                  "kafka.consumer");
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("kafka.consumer.session.timeout.ms"));
}

TEST(kafka_client, conflicting_properties_are_caught_at_validation) {
    // Idempotence needs acks=all: librdkafka refuses this only when a client
    // is built, which validation does.
    auto st = validate_properties(
        client_kind::producer, {{"enable.idempotence", "true"}, {"acks", "1"}}, "kafka.producer");
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("kafka.producer"));
}

TEST(kafka_client, role_options_carry_identity_and_overrides) {
    auto s = config::defaults();
    auto p = producer_options(s.kafka, "127.0.0.1:1", "gateway");
    EXPECT_EQ(p.client_id, "obsrvd-gateway");
    EXPECT_EQ(p.properties.at("compression.codec"), "snappy");
    auto c = consumer_options(s.kafka, "127.0.0.1:1", "pipeline", "unified-pipeline-group",
                              {{"auto.offset.reset", "latest"}});
    EXPECT_EQ(c.properties.at("group.id"), "unified-pipeline-group");
    EXPECT_EQ(c.properties.at("auto.offset.reset"), "latest");
    EXPECT_EQ(c.properties.at("enable.auto.commit"), "false");
}

TEST(kafka_client, make_client_reports_bad_properties) {
    client_options options;
    options.bootstrap = "127.0.0.1:1";
    options.client_id = "t";
    options.properties["no.such.thing"] = "1";
    auto client = make_client(options);
    ASSERT_FALSE(client);
    EXPECT_THAT(client.error().message, HasSubstr("kafka.producer.no.such.thing"));
}

}  // namespace
}  // namespace obsrv::kafka
