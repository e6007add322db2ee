#pragma once

// The gateway role: the Obsrv Dataset API ingest endpoint on io_uring, one
// Kafka producer per worker. Owns the HTTP server and the workers' handlers.
//
// Lifecycle: start() creates the producers (configuration errors surface
// here) and binds gateway.bind:gateway.port; stop(deadline) stops accepting,
// answers what was received, flushes the producers and joins the workers.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "common/settings.h"
#include "dataset/registry.h"
#include "ingress/gateway_handler.h"
#include "ingress/http_server.h"

namespace obsrv::ingress {

class gateway {
  public:
    using readiness_probe = std::function<std::pair<int, std::string>()>;

    gateway(const settings& config, std::string bootstrap, dataset::registry& datasets,
            metrics::registry& registry, std::function<bool()> brokers_reachable,
            readiness_probe readiness);
    ~gateway();

    gateway(const gateway&) = delete;
    gateway& operator=(const gateway&) = delete;

    status start();
    void stop(std::chrono::steady_clock::time_point deadline);

    uint16_t port() const { return _server ? _server->port() : 0; }
    unsigned workers() const { return _worker_count; }

  private:
    /// Producers the queue-depth gauge reads; emptied before they go away.
    struct producer_list {
        std::mutex mutex;
        std::vector<kafka::worker_producer*> producers;
    };

    const settings& _config;
    std::string _bootstrap;
    metrics::registry& _registry;
    gateway_context _context;
    unsigned _worker_count = 1;
    std::vector<std::unique_ptr<gateway_handler>> _handlers;  // moved into the server
    std::unique_ptr<http_server> _server;
    std::shared_ptr<producer_list> _producers = std::make_shared<producer_list>();
    bool _stopped = false;
};

}  // namespace obsrv::ingress
