#pragma once

// Topic provisioning: the topics the configuration names, created when
// missing, existing ones left alone (and reported when their partition count
// differs). Creation goes through a topic_creator: in-process on the embedded
// cluster, or the Kafka Admin API (CreateTopics) on a real cluster.

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/result.h"
#include "common/settings.h"

namespace obsrv::kafka {

class embedded_cluster;

struct topic_spec {
    std::string name;
    int partitions = 1;
    int replication_factor = 1;
    int64_t retention_ms = -1;
    int64_t max_message_bytes = 0;
};

/// The configured topics (kafka.topics.*).
std::vector<topic_spec> configured_topics(const topics_settings& topics);

struct topic_info {
    std::string name;
    int partitions = 0;
    int replication_factor = 0;  // replicas of partition 0
    std::string error;           // non-empty when the broker reported one
};

/// Every topic the cluster reports, sorted by name (one Metadata request).
result<std::vector<topic_info>> list_topics(rd_kafka_t* client, std::chrono::milliseconds timeout);

enum class apply_action { created, exists, partition_mismatch, failed };
std::string_view to_string(apply_action action);

struct topic_outcome {
    std::string topic;
    apply_action action = apply_action::failed;
    int expected_partitions = 0;
    int actual_partitions = 0;
    std::string message;
};

struct apply_report {
    std::vector<topic_outcome> outcomes;
    size_t count(apply_action action) const;
    /// No topic failed (a partition mismatch is reported, not an error).
    bool ok() const { return count(apply_action::failed) == 0; }
    std::string to_json() const;
};

class topic_creator {
  public:
    virtual ~topic_creator() = default;
    /// Creates one topic; TOPIC_ALREADY_EXISTS maps to `exists`, not an error.
    virtual result<apply_action> create(const topic_spec& spec) = 0;
    /// Creates several topics; one result per spec, in order.
    virtual std::vector<result<apply_action>> create_all(std::span<const topic_spec> specs);
};

/// Creates topics in the embedded cluster, in-process.
class embedded_topic_creator final : public topic_creator {
  public:
    explicit embedded_topic_creator(embedded_cluster& cluster) : _cluster(cluster) {}
    result<apply_action> create(const topic_spec& spec) override;
    std::vector<result<apply_action>> create_all(std::span<const topic_spec> specs) override;

  private:
    embedded_cluster& _cluster;
};

/// Creates topics with the Kafka Admin API (real clusters only: the embedded
/// broker does not answer CreateTopics).
class admin_api_topic_creator final : public topic_creator {
  public:
    admin_api_topic_creator(rd_kafka_t* client, std::chrono::milliseconds timeout)
        : _client(client), _timeout(timeout) {}
    result<apply_action> create(const topic_spec& spec) override;

  private:
    rd_kafka_t* _client;
    std::chrono::milliseconds _timeout;
};

/// Creates the missing topics of `specs`; idempotent.
result<apply_report> apply_topics(rd_kafka_t* metadata_client, topic_creator& creator,
                                  std::span<const topic_spec> specs,
                                  std::chrono::milliseconds timeout);

/// retention.ms and max.message.bytes of topics from a real cluster
/// (DescribeConfigs); topic -> (property -> value).
using topic_configs = std::map<std::string, std::map<std::string, std::string>>;
result<topic_configs> describe_topic_configs(rd_kafka_t* client,
                                             std::span<const std::string> topics,
                                             std::chrono::milliseconds timeout);

}  // namespace obsrv::kafka
