#include "kafka_helpers.h"

#include <stdexcept>

#include <librdkafka/rdkafka.h>

#include "kafka/client.h"

namespace obsrv::testing {
namespace {

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    if (!message->err) {
        ++*static_cast<int*>(opaque);
    }
}

}  // namespace

int produce(const std::string& bootstrap, const std::string& topic, int32_t partition, int count) {
    int delivered = 0;
    kafka::client_options options;
    options.kind = kafka::client_kind::producer;
    options.bootstrap = bootstrap;
    options.client_id = "test-producer";
    options.properties["linger.ms"] = "1";
    options.delivery_report = count_delivery;
    options.opaque = &delivered;
    auto producer = kafka::make_client(options);
    if (!producer) {
        throw std::runtime_error(producer.error().message);
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer->get(), topic.c_str(), nullptr);
    for (int i = 0; i < count; ++i) {
        std::string payload = "m" + std::to_string(i);
        rd_kafka_produce(rkt, partition < 0 ? RD_KAFKA_PARTITION_UA : partition,
                         RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0, nullptr);
    }
    rd_kafka_flush(producer->get(), 10000);
    rd_kafka_topic_destroy(rkt);
    return delivered;
}

std::vector<std::string> consume_and_commit(const std::string& bootstrap, const std::string& group,
                                            const std::string& topic, int count,
                                            std::chrono::milliseconds timeout) {
    kafka::client_options options;
    options.kind = kafka::client_kind::consumer;
    options.bootstrap = bootstrap;
    options.client_id = "test-consumer";
    options.properties["group.id"] = group;
    options.properties["auto.offset.reset"] = "earliest";
    options.properties["enable.auto.commit"] = "false";
    auto consumer = kafka::make_client(options);
    if (!consumer) {
        throw std::runtime_error(consumer.error().message);
    }
    rd_kafka_t* rk = consumer->get();
    rd_kafka_poll_set_consumer(rk);
    auto* subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    std::vector<std::string> payloads;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<int>(payloads.size()) < count &&
           std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            continue;
        }
        if (!m->err) {
            payloads.emplace_back(static_cast<const char*>(m->payload), m->len);
            if (static_cast<int>(payloads.size()) == count) {
                rd_kafka_commit_message(rk, m, 0);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    return payloads;
}

}  // namespace obsrv::testing
