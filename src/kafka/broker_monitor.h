#pragma once

// Watches the brokers with a periodic Metadata request so that /ready and the
// metrics answer from a fresh snapshot without blocking on Kafka. Hooks run
// after each successful check until they report done (e.g. creating topics on
// a cluster that was down at start-up).
//
// Lifecycle: construct, add hooks, start() (first check runs synchronously),
// stop() (idempotent, joins thread "kafka-mon"). current() from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "common/metrics.h"

namespace obsrv::kafka {

class broker_monitor {
  public:
    struct snapshot {
        bool reachable = false;
        std::string error;  // why the last check failed
        size_t topic_count = 0;
        std::chrono::steady_clock::time_point checked_at{};
    };
    /// Returns true when it needs no further calls.
    using hook = std::function<bool()>;

    broker_monitor(rd_kafka_t* client, std::chrono::milliseconds interval,
                   std::chrono::milliseconds timeout, metrics::registry& registry);
    ~broker_monitor();

    void add_hook(hook h);
    void start();
    void stop();
    snapshot current() const;
    /// The last check's verdict, without a lock (hot paths).
    bool reachable() const noexcept { return _reachable_flag.load(std::memory_order_relaxed); }

  private:
    void check_once(std::chrono::milliseconds timeout);
    void run();

    rd_kafka_t* _client;
    std::chrono::milliseconds _interval;
    std::chrono::milliseconds _timeout;
    std::vector<hook> _hooks;
    mutable std::mutex _mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    snapshot _snapshot;
    std::atomic<bool> _reachable_flag{false};
    std::thread _thread;
    metrics::gauge& _reachable;
    metrics::counter& _checks;
    metrics::counter& _failures;
};

}  // namespace obsrv::kafka
