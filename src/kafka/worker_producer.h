#pragma once

// A Kafka producer owned by one gateway worker. librdkafka signals pending
// delivery reports by writing to an eventfd that the worker's io_uring loop
// polls, and the worker serves them with poll(): delivery reports therefore
// run on the worker's own thread and reach its connections without locks or
// cross-thread queues. One producer per worker also spreads compression over
// the workers' cores.
//
// Threading: everything but the constructor runs on the owning worker thread.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <librdkafka/rdkafka.h>

#include "common/result.h"
#include "kafka/client.h"

namespace obsrv::kafka {

class worker_producer {
  public:
    /// Called from poll() for every delivery report; `opaque` is what
    /// produce() was given.
    using delivery_callback = void (*)(void* context, const rd_kafka_message_t& message);

    static result<std::unique_ptr<worker_producer>> create(client_options options,
                                                           delivery_callback on_delivery,
                                                           void* context);
    ~worker_producer();

    worker_producer(const worker_producer&) = delete;
    worker_producer& operator=(const worker_producer&) = delete;

    /// Readable when delivery reports (or errors) are waiting.
    int wakeup_fd() const { return _event_fd; }

    /// Serves every waiting delivery report; drains the eventfd first so no
    /// wakeup is lost.
    void poll();

    /// Enqueues one message without a key. The caller keeps `payload` valid until the
    /// delivery report and frees it then (a message may live in a buffer the caller reuses, not
    /// only in its own allocation). QUEUE_FULL means back off.
    rd_kafka_resp_err_t produce(std::string_view topic, char* payload, size_t length, void* opaque);

    /// Messages not yet acknowledged by the brokers.
    int queue_length() const { return rd_kafka_outq_len(_client.get()); }

    /// Waits for outstanding deliveries (serving their reports) until
    /// `deadline`; returns what is still unacknowledged.
    int flush(std::chrono::steady_clock::time_point deadline);

    rd_kafka_t* handle() const { return _client.get(); }

  private:
    worker_producer() = default;
    static void on_delivery_report(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
    rd_kafka_topic_t* topic(std::string_view name);

    struct string_hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };

    client_ptr _client;
    rd_kafka_queue_t* _main_queue = nullptr;
    int _event_fd = -1;
    delivery_callback _on_delivery = nullptr;
    void* _context = nullptr;
    std::unordered_map<std::string, rd_kafka_topic_t*, string_hash, std::equal_to<>> _topics;
};

}  // namespace obsrv::kafka
