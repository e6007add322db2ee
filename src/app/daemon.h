#pragma once

// obsrvd's process: the Kafka connection (embedded cluster or configured
// brokers), topic provisioning, the admin endpoint and the roles.
//
// Lifecycle (main thread): start(), then stop() once a signal arrives. Stop
// actions run in reverse order of start: roles first (flush producers, commit
// offsets), then the admin endpoint, the broker monitor and the embedded
// cluster. The caller bounds stop() with a watchdog (shutdown.timeout_ms).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/roles.h"
#include "common/admin_http_server.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/settings.h"
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
    void stop();

    const std::string& bootstrap() const { return _bootstrap; }
    uint16_t admin_port() const { return _admin ? _admin->port() : 0; }
    metrics::registry& metrics() { return _metrics; }

  private:
    status start_kafka();
    void register_admin_routes();
    /// Creates missing topics; serialised between start-up, the monitor and
    /// `obsrvctl topics apply`.
    result<kafka::apply_report> apply_topics();
    http::response ready_response() const;

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
    std::unique_ptr<http::admin_server> _admin;
    bool _bootstrap_file_written = false;
};

}  // namespace obsrv::app
