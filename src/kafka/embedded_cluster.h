#pragma once

// The embedded Kafka: librdkafka's mock cluster running in-process, a real
// Kafka-protocol broker on loopback that any client (kcat, obsrvctl) can use
// while obsrvd runs. Its log is in memory and bounded by librdkafka (about
// 5 MB or 100,000 message sets per partition; older data is dropped), so it
// serves one machine, demos and tests; production points kafka.brokers at a
// real cluster.
//
// It lacks the Admin API (CreateTopics, DescribeConfigs, ListGroups): topics
// are created here in-process with rd_kafka_mock_topic_create().
//
// Lifecycle: start() binds the brokers and returns once they accept
// connections; the destructor stops them. Thread-safe after start().

#include <memory>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/result.h"
#include "kafka/client.h"

namespace obsrv::kafka {

class embedded_cluster {
  public:
    static result<std::unique_ptr<embedded_cluster>> start(int broker_count);
    ~embedded_cluster();

    embedded_cluster(const embedded_cluster&) = delete;
    embedded_cluster& operator=(const embedded_cluster&) = delete;

    /// "127.0.0.1:port[,...]"
    const std::string& bootstrap() const { return _bootstrap; }
    int broker_count() const { return _broker_count; }
    rd_kafka_mock_cluster_t* mock() const { return _mock; }

    /// Creates a topic; RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS when it exists.
    rd_kafka_resp_err_t create_topic(std::string_view name, int partitions, int replication_factor);

    /// Takes broker `id` (1-based) down or up again: connections are closed and
    /// refused while it is down (tests of "Kafka unavailable").
    status set_broker_down(int id, bool down);

    /// Writes the bootstrap address to `path` atomically (temp file + rename).
    status write_bootstrap_file(const std::string& path) const;

  private:
    embedded_cluster(client_ptr host, rd_kafka_mock_cluster_t* mock, int broker_count);

    client_ptr _host;  // the mock cluster lives inside this handle
    rd_kafka_mock_cluster_t* _mock;
    std::string _bootstrap;
    int _broker_count;
};

}  // namespace obsrv::kafka
