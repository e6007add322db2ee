#pragma once

// obsrvd's process: the Kafka connection (embedded cluster or configured
// brokers), topic provisioning, the admin endpoint and the roles.
//
// Lifecycle (main thread): start(), then stop() once a signal arrives. Stop
// actions run in reverse order of start: roles first (answer in-flight
// requests, flush producers, commit offsets), then the dataset watcher, the
// admin endpoint, the broker monitor and the embedded cluster. The caller
// bounds stop() with a watchdog (shutdown.timeout_ms).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/pipeline_role.h"
#include "app/roles.h"
#include "common/admin_http_server.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/settings.h"
#include "dataset/registry.h"
#include "ingress/gateway.h"
#include "kafka/broker_monitor.h"
#include "kafka/client.h"
#include "kafka/embedded_cluster.h"
#include "kafka/topic_admin.h"

namespace obsrv::app {

class daemon {
  public:
    daemon(settings config, std::vector<role> roles);
    ~daemon();

    daemon(const daemon&) = delete;
    daemon& operator=(const daemon&) = delete;

    status start();
    /// Stops the roles (bounded by `deadline`), then the rest.
    void stop(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now());
    /// SIGHUP: reload what can be reloaded (datasets).
    void reload();

    const std::string& bootstrap() const { return _bootstrap; }
    uint16_t admin_port() const { return _admin ? _admin->port() : 0; }
    uint16_t gateway_port() const { return _gateway ? _gateway->port() : 0; }
    metrics::registry& metrics() { return _metrics; }

  private:
    status start_kafka();
    status start_datasets();
    status start_gateway();
    status start_pipeline();
    bool has_role(role r) const;
    void register_admin_routes();
    /// /ready's status code and JSON body (admin endpoint and gateway port).
    std::pair<int, std::string> readiness() const;
    /// Creates missing topics; serialised between start-up, the monitor and
    /// `obsrvctl topics apply`.
    result<kafka::apply_report> apply_topics();

    settings _config;
    std::vector<role> _roles;
    metrics::registry _metrics;
    std::unique_ptr<kafka::embedded_cluster> _embedded;
    std::string _bootstrap;
    kafka::client_ptr _metadata_client;
    std::unique_ptr<kafka::topic_creator> _topic_creator;
    std::mutex _apply_mutex;
    std::atomic<bool> _topics_ready{false};
    std::unique_ptr<kafka::broker_monitor> _monitor;
    std::unique_ptr<dataset::registry> _datasets;
    std::unique_ptr<ingress::gateway> _gateway;
    std::unique_ptr<pipeline_role> _pipeline;
    std::unique_ptr<http::admin_server> _admin;
    bool _bootstrap_file_written = false;
};

}  // namespace obsrv::app
