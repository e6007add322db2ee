#pragma once

// The gateway's HTTP/1.1 server: N io_uring workers, each with its own
// SO_REUSEPORT listening socket (the kernel spreads connections), ring,
// buffers, connections and request handler. See server_worker.h.
//
// Lifecycle: start() binds (errors name the address), starts the worker
// threads io-0..io-N-1 and returns once every ring is set up; stop() lets
// in-flight requests finish until the deadline and joins the threads.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "ingress/request_handler.h"
#include "ingress/server_worker.h"

namespace obsrv::ingress {

struct server_options {
    std::string bind_address = "0.0.0.0";
    uint16_t port = 0;  // 0: any free port (tests)
    unsigned workers = 1;
    unsigned ring_entries = 4096;
    unsigned buffer_count = 256;
    size_t buffer_size = 64 * 1024;
    unsigned completion_batch = 32;
    std::chrono::microseconds completion_wait{1000};
    int listen_backlog = 4096;
    server_limits limits;  // max_connections is for the whole server
};

class http_server {
  public:
    /// Makes the handler of worker `index`; called on the starting thread.
    using handler_factory = std::function<std::unique_ptr<request_handler>(unsigned index)>;

    http_server(server_options options, handler_factory factory, metrics::registry& registry);
    ~http_server();

    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    status start();
    void stop(std::chrono::steady_clock::time_point deadline);
    uint16_t port() const { return _port; }
    unsigned workers() const { return static_cast<unsigned>(_workers.size()); }

  private:
    server_options _options;
    handler_factory _factory;
    server_metrics _metrics;
    std::vector<int> _listeners;
    std::vector<std::unique_ptr<request_handler>> _handlers;
    std::vector<std::unique_ptr<server_worker>> _workers;
    std::vector<std::thread> _threads;
    uint16_t _port = 0;
    bool _stopped = false;
};

}  // namespace obsrv::ingress
