#include "kafka/broker_monitor.h"

#include "common/log.h"
#include "common/thread_name.h"
#include "kafka/topic_admin.h"

namespace obsrv::kafka {

broker_monitor::broker_monitor(rd_kafka_t* client, std::chrono::milliseconds interval,
                               std::chrono::milliseconds timeout, metrics::registry& registry)
    : _client(client),
      _interval(interval),
      _timeout(timeout),
      _reachable(registry.add_gauge("obsrv_kafka_broker_reachable",
                                    "1 when the last Metadata request to the brokers succeeded")),
      _checks(registry.add_counter("obsrv_kafka_metadata_checks_total",
                                   "Metadata requests made to watch the brokers")),
      _failures(registry.add_counter("obsrv_kafka_metadata_failures_total",
                                     "Metadata requests that failed or timed out")) {}

broker_monitor::~broker_monitor() {
    stop();
}

void broker_monitor::add_hook(hook h) {
    _hooks.push_back(std::move(h));
}

void broker_monitor::start() {
    // Start-up waits for this first verdict; a cluster that is down must not
    // hold the process for the whole admin timeout (the thread keeps checking).
    check_once(std::min(_timeout, std::chrono::milliseconds(1500)));
    _thread = std::thread([this] { run(); });
}

void broker_monitor::stop() {
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
    }
    _wake.notify_all();
    if (_thread.joinable()) {
        _thread.join();
    }
}

broker_monitor::snapshot broker_monitor::current() const {
    std::lock_guard lock(_mutex);
    return _snapshot;
}

void broker_monitor::check_once(std::chrono::milliseconds timeout) {
    static const auto logger = log::get("kafka");
    auto topics = list_topics(_client, timeout);
    _checks.inc();
    snapshot next;
    next.checked_at = std::chrono::steady_clock::now();
    next.reachable = topics.has_value();
    if (topics) {
        next.topic_count = topics->size();
    } else {
        next.error = topics.error().message;
        _failures.inc();
    }
    bool was_reachable;
    {
        std::lock_guard lock(_mutex);
        was_reachable = _snapshot.reachable || _snapshot.checked_at == decltype(next.checked_at){};
        _snapshot = next;
    }
    _reachable.set(next.reachable ? 1 : 0);
    _reachable_flag.store(next.reachable, std::memory_order_relaxed);
    if (!next.reachable && was_reachable) {
        logger->warn("brokers unreachable: {}", next.error);
    } else if (next.reachable && !was_reachable) {
        logger->info("brokers reachable again");
    }
    if (next.reachable) {
        std::erase_if(_hooks, [](hook& h) { return h(); });
    }
}

void broker_monitor::run() {
    set_thread_name("kafka-mon");
    std::unique_lock lock(_mutex);
    while (!_stopping) {
        _wake.wait_for(lock, _interval, [this] { return _stopping; });
        if (_stopping) {
            break;
        }
        lock.unlock();
        check_once(_timeout);
        lock.lock();
    }
}

}  // namespace obsrv::kafka
