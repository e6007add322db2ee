#include "kafka/worker_producer.h"

#include <cerrno>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>

namespace obsrv::kafka {

result<std::unique_ptr<worker_producer>> worker_producer::create(client_options options,
                                                                 delivery_callback on_delivery,
                                                                 void* context) {
    std::unique_ptr<worker_producer> p(new worker_producer());
    p->_on_delivery = on_delivery;
    p->_context = context;
    options.kind = client_kind::producer;
    options.delivery_report = &worker_producer::on_delivery_report;
    options.opaque = p.get();
    auto client = make_client(options);
    if (!client) {
        return client.error();
    }
    p->_client = std::move(*client);
    p->_event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->_event_fd < 0) {
        return make_error("eventfd: {}", std::strerror(errno));
    }
    p->_main_queue = rd_kafka_queue_get_main(p->_client.get());
    // librdkafka writes this payload when the queue goes from empty to
    // non-empty; an eventfd counts 8-byte host-order integers.
    static const uint64_t k_one = 1;
    rd_kafka_queue_io_event_enable(p->_main_queue, p->_event_fd, &k_one, sizeof k_one);
    return p;
}

worker_producer::~worker_producer() {
    for (auto& [name, rkt] : _topics) {
        rd_kafka_topic_destroy(rkt);
    }
    if (_main_queue) {
        rd_kafka_queue_io_event_enable(_main_queue, -1, nullptr, 0);
        rd_kafka_queue_destroy(_main_queue);
    }
    _client.reset();
    if (_event_fd >= 0) {
        ::close(_event_fd);
    }
}

void worker_producer::on_delivery_report(rd_kafka_t*, const rd_kafka_message_t* message,
                                         void* opaque) {
    auto* self = static_cast<worker_producer*>(opaque);
    self->_on_delivery(self->_context, *message);
}

void worker_producer::poll() {
    uint64_t count;
    [[maybe_unused]] auto r = ::read(_event_fd, &count, sizeof count);
    // The event fires only on the empty -> non-empty transition: serve until
    // the queue is empty so the next report fires it again.
    while (rd_kafka_poll(_client.get(), 0) > 0) {
    }
}

rd_kafka_topic_t* worker_producer::topic(std::string_view name) {
    auto it = _topics.find(name);
    if (it != _topics.end()) {
        return it->second;
    }
    std::string key(name);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(_client.get(), key.c_str(), nullptr);
    _topics.emplace(std::move(key), rkt);
    return rkt;
}

rd_kafka_resp_err_t worker_producer::produce(std::string_view topic_name, char* payload,
                                             size_t length, void* opaque) {
    rd_kafka_topic_t* rkt = topic(topic_name);
    if (!rkt) {
        return rd_kafka_last_error();
    }
    // No RD_KAFKA_MSG_F_FREE: the caller frees the payload on the delivery report.
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, payload, length, nullptr, 0, opaque) != 0) {
        return rd_kafka_last_error();
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

int worker_producer::flush(std::chrono::steady_clock::time_point deadline) {
    while (rd_kafka_outq_len(_client.get()) > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        rd_kafka_flush(_client.get(), static_cast<int>(std::min<int64_t>(left.count(), 100)));
        poll();
    }
    poll();
    return rd_kafka_outq_len(_client.get());
}

}  // namespace obsrv::kafka
