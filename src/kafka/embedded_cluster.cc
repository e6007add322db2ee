#include "kafka/embedded_cluster.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace obsrv::kafka {

result<std::unique_ptr<embedded_cluster>> embedded_cluster::start(int broker_count) {
    // `test.mock.num.brokers` makes librdkafka create the mock cluster inside
    // this handle and point the handle at it, so no bootstrap warning is logged.
    client_options options;
    options.kind = client_kind::producer;
    options.client_id = "obsrvd-embedded-kafka";
    options.properties["test.mock.num.brokers"] = std::to_string(broker_count);
    // The host handle itself never produces; keep it quiet and light.
    options.properties["log.connection.close"] = "false";
    auto host = make_client(options);
    if (!host) {
        return host.error();
    }
    rd_kafka_mock_cluster_t* mock = rd_kafka_handle_mock_cluster(host->get());
    if (!mock) {
        return make_error(
            "kafka: the embedded cluster did not start (librdkafka without mock "
            "cluster support?)");
    }
    return std::unique_ptr<embedded_cluster>(
        new embedded_cluster(std::move(*host), mock, broker_count));
}

embedded_cluster::embedded_cluster(client_ptr host, rd_kafka_mock_cluster_t* mock, int broker_count)
    : _host(std::move(host)),
      _mock(mock),
      _bootstrap(rd_kafka_mock_cluster_bootstraps(mock)),
      _broker_count(broker_count) {}

embedded_cluster::~embedded_cluster() = default;  // destroying the handle stops the cluster

rd_kafka_resp_err_t embedded_cluster::create_topic(std::string_view name, int partitions,
                                                   int replication_factor) {
    std::string topic(name);
    // The mock refuses a replication factor above its broker count.
    int replication = std::min(replication_factor, _broker_count);
    return rd_kafka_mock_topic_create(_mock, topic.c_str(), partitions, replication);
}

status embedded_cluster::set_broker_down(int id, bool down) {
    auto err =
        down ? rd_kafka_mock_broker_set_down(_mock, id) : rd_kafka_mock_broker_set_up(_mock, id);
    if (err) {
        return make_error("kafka: embedded broker {}: {}", id, rd_kafka_err2str(err));
    }
    return {};
}

status embedded_cluster::write_bootstrap_file(const std::string& path) const {
    std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
    {
        std::ofstream out(temp, std::ios::trunc);
        out << _bootstrap << '\n';
        out.flush();
        if (!out) {
            return make_error("kafka: cannot write '{}' (kafka.embedded.bootstrap_file): {}", temp,
                              std::strerror(errno));
        }
    }
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        std::remove(temp.c_str());
        return make_error("kafka: cannot write '{}' (kafka.embedded.bootstrap_file): {}", path,
                          std::strerror(saved));
    }
    return {};
}

}  // namespace obsrv::kafka
