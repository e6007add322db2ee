#include "common/config.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/config_schema.h"
#include "test_env.h"

namespace obsrv::config {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& yaml, std::vector<std::string> overrides = {}) {
    auto dir = testing::make_temp_dir("config");
    auto path = dir + "/obsrvd.yaml";
    std::ofstream(path) << yaml;
    auto loaded = load(path, overrides);
    return loaded ? std::string("<loaded>") : loaded.error().message;
}

result<settings> load_yaml(const std::string& yaml, std::vector<std::string> overrides = {}) {
    auto dir = testing::make_temp_dir("config");
    auto path = dir + "/obsrvd.yaml";
    std::ofstream(path) << yaml;
    return load(path, overrides);
}

TEST(config, defaults_follow_the_seed) {
    settings s = defaults();
    EXPECT_EQ(s.gateway.port, 3000);
    EXPECT_TRUE(s.kafka.use_embedded());
    EXPECT_EQ(s.kafka.topics.partitions, 4);
    EXPECT_EQ(s.kafka.topics.replication_factor, 1);
    EXPECT_EQ(s.kafka.topics.retention_ms, 7LL * 24 * 3600 * 1000);
    EXPECT_EQ(s.kafka.topics.max_message_bytes, 5 * 1024 * 1024);
    ASSERT_EQ(s.kafka.topics.names.size(), 16u);
    EXPECT_EQ(s.kafka.topics.names.front(), "ingest");
    EXPECT_THAT(s.kafka.topics.names, ::testing::Contains("transform.failed"));
    EXPECT_THAT(s.kafka.topics.names, ::testing::Contains("masterdata.failed"));
    EXPECT_EQ(s.kafka.producer.at("compression.codec"), "snappy");
    EXPECT_EQ(s.kafka.producer.at("batch.size"), "98304");
    EXPECT_EQ(s.kafka.producer.at("linger.ms"), "10");
    EXPECT_EQ(s.kafka.producer.at("enable.idempotence"), "true");
    EXPECT_EQ(s.kafka.producer.at("acks"), "all");
    EXPECT_EQ(s.kafka.producer.at("retries"), "5");
    EXPECT_EQ(s.kafka.producer.at("retry.backoff.ms"), "3000");
    EXPECT_TRUE(s.kafka.producer.contains("message.timeout.ms"));
    EXPECT_EQ(s.kafka.consumer.at("session.timeout.ms"), "30000");
    EXPECT_EQ(s.kafka.consumer.at("heartbeat.interval.ms"), "3000");
    EXPECT_EQ(s.kafka.consumer.at("enable.auto.commit"), "false");
    EXPECT_TRUE(check(s).has_value());
}

TEST(config, shipped_file_is_the_generated_defaults) {
    // config/obsrvd.yaml is generated from the key table; regenerate it with
    // `obsrvd --print-default-config > config/obsrvd.yaml` after changing keys.
    auto shipped = testing::read_file(testing::source_dir() + "/config/obsrvd.yaml");
    EXPECT_EQ(shipped, render_default_yaml());
    auto loaded = load(testing::source_dir() + "/config/obsrvd.yaml", {});
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(render_yaml(*loaded), render_yaml(defaults()));
}

TEST(config, reference_doc_is_generated) {
    // Regenerate with `obsrvd --print-config-doc > docs/CONFIGURATION.md`.
    auto doc = testing::read_file(testing::source_dir() + "/docs/CONFIGURATION.md");
    EXPECT_EQ(doc, render_markdown_reference());
}

TEST(config, every_key_is_documented_in_the_generated_file) {
    auto yaml = render_default_yaml();
    for (const auto& spec : all_keys()) {
        EXPECT_FALSE(spec.description.empty()) << spec.name;
        auto leaf = spec.name.substr(spec.name.rfind('.') + 1);
        EXPECT_THAT(yaml, HasSubstr(std::string(leaf) + ":")) << spec.name;
    }
}

TEST(config, unknown_key_names_key_line_and_suggestion) {
    auto message = error_of("gateway:\n  prot: 3001\n");
    EXPECT_THAT(message, HasSubstr("obsrvd.yaml:2"));
    EXPECT_THAT(message, HasSubstr("unknown key 'gateway.prot'"));
    EXPECT_THAT(message, HasSubstr("did you mean 'gateway.port'?"));
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
}

TEST(config, wrong_type_names_key_and_expectation) {
    EXPECT_THAT(
        error_of("gateway:\n  port: abc\n"),
        HasSubstr("key 'gateway.port': expected an integer between 1 and 65535, got 'abc'"));
    EXPECT_THAT(
        error_of("kafka:\n  topics:\n    create_on_start: maybe\n"),
        HasSubstr("key 'kafka.topics.create_on_start': expected true or false, got 'maybe'"));
    EXPECT_THAT(error_of("log:\n  format: xml\n"),
                HasSubstr("key 'log.format': expected one of plain|json, got 'xml'"));
    EXPECT_THAT(
        error_of("gateway:\n  port: [1, 2]\n"),
        HasSubstr("key 'gateway.port': expected an integer between 1 and 65535, got a list"));
    EXPECT_THAT(error_of("kafka: 5\n"), HasSubstr("key 'kafka' is a section"));
    EXPECT_THAT(error_of("kafka:\n  producer: 5\n"), HasSubstr("key 'kafka.producer'"));
}

TEST(config, out_of_range_is_refused) {
    EXPECT_THAT(
        error_of("gateway:\n  port: 70000\n"),
        HasSubstr("key 'gateway.port': expected an integer between 1 and 65535, got '70000'"));
    EXPECT_THAT(error_of("kafka:\n  topics:\n    partitions: 0\n"),
                HasSubstr("key 'kafka.topics.partitions'"));
    EXPECT_THAT(error_of("", {"shutdown.timeout_ms=12"}), HasSubstr("key 'shutdown.timeout_ms'"));
    EXPECT_THAT(error_of("", {"gateway.port=3000x"}), HasSubstr("got '3000x'"));
}

TEST(config, file_values_and_overrides_apply_in_order) {
    auto s = load_yaml("gateway:\n  port: 3100\nlog:\n  level: debug\n", {"gateway.port=3200"});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->gateway.port, 3200);  // --set wins over the file
    EXPECT_EQ(s->log.level, "debug");
    EXPECT_EQ(s->admin.port, defaults().admin.port);  // untouched keys keep defaults
}

TEST(config, lists_from_yaml_sequences_and_comma_overrides) {
    auto s = load_yaml("kafka:\n  topics:\n    names: [a, b.c]\n");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->kafka.topics.names, (std::vector<std::string>{"a", "b.c"}));
    auto t = load(std::nullopt, std::vector<std::string>{"kafka.topics.names=x, y ,z"});
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->kafka.topics.names, (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_THAT(error_of("", {"kafka.topics.names=ok,bad topic"}),
                HasSubstr("key 'kafka.topics.names': 'bad topic' is not a valid Kafka topic name"));
}

TEST(config, client_properties_merge_with_defaults) {
    auto s = load_yaml(
        "kafka:\n  producer:\n    linger.ms: 5\n    acks:\n    queue:\n      buffering.max.ms: 7\n",
        {"kafka.producer.batch.size=1000", "kafka.consumer.fetch.wait.max.ms=50"});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->kafka.producer.at("linger.ms"), "5");
    EXPECT_FALSE(s->kafka.producer.contains("acks")) << "null entry falls back to librdkafka";
    EXPECT_EQ(s->kafka.producer.at("queue.buffering.max.ms"), "7") << "nested form";
    EXPECT_EQ(s->kafka.producer.at("batch.size"), "1000");
    EXPECT_EQ(s->kafka.producer.at("compression.codec"), "snappy") << "defaults kept";
    EXPECT_EQ(s->kafka.consumer.at("fetch.wait.max.ms"), "50");
    EXPECT_THAT(error_of("", {"kafka.producer=linger.ms=5"}),
                HasSubstr("key 'kafka.producer' is a map"));
}

TEST(config, connection_keys_cannot_hide_in_client_properties) {
    EXPECT_THAT(error_of("", {"kafka.producer.bootstrap.servers=x:9092"}),
                HasSubstr("key 'kafka.producer.bootstrap.servers': not settable here; use "
                          "kafka.brokers"));
    EXPECT_THAT(error_of("", {"kafka.consumer.group.id=g"}),
                HasSubstr("key 'kafka.consumer.group.id'"));
}

TEST(config, cross_key_checks) {
    EXPECT_THAT(error_of("", {"admin.port=3000"}),
                HasSubstr("key 'admin.port': must differ from gateway.port"));
    EXPECT_THAT(error_of("", {"kafka.embedded.bootstrap_file="}),
                HasSubstr("key 'kafka.embedded.bootstrap_file'"));
    EXPECT_EQ(error_of("", {"kafka.brokers=k1:9092", "kafka.embedded.bootstrap_file="}), "<loaded>")
        << "no bootstrap file needed with real brokers";
}

TEST(config, gateway_limits_are_checked_together) {
    EXPECT_THAT(error_of("", {"gateway.buffer_count=100"}),
                HasSubstr("key 'gateway.buffer_count': expected a power of two, got 100"));
    EXPECT_THAT(error_of("", {"gateway.max_body_bytes=6291456"}),
                HasSubstr("key 'gateway.max_body_bytes': 6291456 leaves no room for the envelope "
                          "under kafka.producer.message.max.bytes (6291456)"));
    EXPECT_EQ(error_of("", {"gateway.max_body_bytes=6291456",
                            "kafka.producer.message.max.bytes=8388608"}),
              "<loaded>");
    EXPECT_THAT(error_of("", {"gateway.ack=eventually"}),
                HasSubstr("key 'gateway.ack': expected one of persisted|enqueued"));
}

TEST(config, malformed_overrides_and_files) {
    EXPECT_THAT(error_of("", {"gateway.port"}), HasSubstr("expected key=value"));
    EXPECT_THAT(error_of("", {"gateway.prot=1"}), HasSubstr("unknown key 'gateway.prot'"));
    EXPECT_THAT(error_of("", {"kafka=1"}), HasSubstr("key 'kafka' is a section"));
    EXPECT_THAT(error_of("gateway: [unclosed\n"), HasSubstr("invalid YAML"));
    EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("expected a mapping of sections"));
    auto missing = load(std::string("/nonexistent/obsrvd.yaml"), {});
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error().message, HasSubstr("cannot read '/nonexistent/obsrvd.yaml'"));
}

TEST(config, empty_file_means_defaults) {
    auto s = load_yaml("");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(render_yaml(*s), render_yaml(defaults()));
}

TEST(config, effective_yaml_round_trips) {
    auto s = load(
        std::nullopt,
        std::vector<std::string>{"gateway.port=3300", "log.format=json", "kafka.topics.names=a,b",
                                 "kafka.producer.linger.ms=1", "datasets.dir=/data/my datasets"});
    ASSERT_TRUE(s) << s.error().message;
    auto text = render_yaml(*s);
    auto again = load_yaml(text);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(render_yaml(*again), text);
    EXPECT_EQ(again->datasets.dir, "/data/my datasets");
}

TEST(config, effective_yaml_hides_secrets) {
    auto s = load(
        std::nullopt,
        std::vector<std::string>{"datasets.source=postgres", "datasets.postgres.password=hunter2",
                                 "datasets.encryption_secret_key=0123456789abcdef"});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->datasets.postgres.password, "hunter2");
    auto text = render_yaml(*s);
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("hunter2")));
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("0123456789abcdef")));
    EXPECT_THAT(text, ::testing::HasSubstr("password: \"(redacted)\""));
    EXPECT_THAT(text, ::testing::HasSubstr("source: postgres"));
}

TEST(config, postgres_source_needs_a_host_and_a_database) {
    auto s = load(std::nullopt, std::vector<std::string>{"datasets.source=postgres",
                                                         "datasets.postgres.dbname="});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message,
              "config: key 'datasets.postgres.dbname': must not be empty when datasets.source is "
              "postgres");
    // Irrelevant in directory mode.
    EXPECT_TRUE(load(std::nullopt, std::vector<std::string>{"datasets.postgres.dbname="}));
}

}  // namespace
}  // namespace obsrv::config
