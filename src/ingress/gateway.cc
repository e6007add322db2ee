#include "ingress/gateway.h"

#include <thread>

#include "common/log.h"
#include "ingress/json_kernel.h"
#include "kafka/client.h"

namespace obsrv::ingress {

gateway::gateway(const settings& config, std::string bootstrap, dataset::registry& datasets,
                 metrics::registry& registry, std::function<bool()> brokers_reachable,
                 readiness_probe readiness)
    : _config(config),
      _bootstrap(std::move(bootstrap)),
      _registry(registry),
      _context(config.gateway, datasets, registry) {
    _context.brokers_reachable = std::move(brokers_reachable);
    _context.readiness = std::move(readiness);
}

gateway::~gateway() {
    stop(std::chrono::steady_clock::now());
}

status gateway::start() {
    const auto& g = _config.gateway;
    auto kernel = select_fastest_json_kernel();
    log::get("gateway")->info("JSON validation uses simdjson's {} kernel (fastest here)", kernel);
    _worker_count = g.workers > 0 ? static_cast<unsigned>(g.workers)
                                  : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < _worker_count; ++i) {
        auto options =
            kafka::producer_options(_config.kafka, _bootstrap, "gateway-" + std::to_string(i));
        auto handler = gateway_handler::create(_context, i, std::move(options));
        if (!handler) {
            return handler.error();
        }
        _handlers.push_back(std::move(*handler));
    }
    {
        std::lock_guard lock(_producers->mutex);
        for (auto& h : _handlers) {
            _producers->producers.push_back(&h->producer());
        }
    }
    _registry.add_gauge_callback(
        "obsrv_gateway_kafka_queue_messages",
        "Messages in the gateway producers' queues, not yet acknowledged by Kafka", {},
        [list = _producers] {
            std::lock_guard lock(list->mutex);
            double total = 0;
            for (auto* p : list->producers) {
                total += p->queue_length();
            }
            return total;
        });

    server_options options;
    options.bind_address = g.bind;
    options.port = static_cast<uint16_t>(g.port);
    options.workers = _worker_count;
    options.ring_entries = static_cast<unsigned>(g.ring_entries);
    options.buffer_count = static_cast<unsigned>(g.buffer_count);
    options.buffer_size = static_cast<size_t>(g.buffer_size);
    options.completion_batch = static_cast<unsigned>(g.completion_batch);
    options.completion_wait = std::chrono::microseconds(g.completion_wait_us);
    options.limits.http.max_head_bytes = static_cast<size_t>(g.max_head_bytes);
    options.limits.http.max_header_count = static_cast<size_t>(g.max_header_count);
    options.limits.http.max_body_bytes = static_cast<uint64_t>(g.max_body_bytes);
    options.limits.max_connections = static_cast<size_t>(g.max_connections);
    options.limits.idle_timeout = std::chrono::milliseconds(g.idle_timeout_ms);
    options.limits.request_timeout = std::chrono::milliseconds(g.request_timeout_ms);
    options.limits.max_pipelined = static_cast<size_t>(g.max_pipelined);
    _server = std::make_unique<http_server>(
        options,
        [this](unsigned index) -> std::unique_ptr<request_handler> {
            return std::move(_handlers[index]);
        },
        _registry);
    if (auto st = _server->start(); !st) {
        return make_error("gateway on {}:{} (gateway.bind, gateway.port): {}", g.bind, g.port,
                          st.error().message);
    }
    log::get("gateway")->info(
        "gateway listening on {}:{} with {} io_uring worker(s), ack={}, max body {} bytes", g.bind,
        _server->port(), _worker_count, g.ack, g.max_body_bytes);
    return {};
}

void gateway::stop(std::chrono::steady_clock::time_point deadline) {
    if (_stopped) {
        return;
    }
    _stopped = true;
    if (_server) {
        _server->stop(deadline);  // answers in-flight requests, flushes the producers
    }
    {
        std::lock_guard lock(_producers->mutex);
        _producers->producers.clear();
    }
    _server.reset();
    _handlers.clear();
}

}  // namespace obsrv::ingress
