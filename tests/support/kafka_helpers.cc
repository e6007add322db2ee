#include "kafka_helpers.h"

#include <stdexcept>

#include <librdkafka/rdkafka.h>

#include "kafka/client.h"
#include "kafka/topic_admin.h"

namespace obsrv::testing {
namespace {

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    if (!message->err) {
        ++*static_cast<int*>(opaque);
    }
}

}  // namespace

int produce(const std::string& bootstrap, const std::string& topic, int32_t partition, int count,
            int first) {
    std::vector<std::string> values;
    values.reserve(static_cast<size_t>(count));
    for (int i = first; i < first + count; ++i) {
        values.push_back("m" + std::to_string(i));
    }
    return produce_values(bootstrap, topic, partition, values);
}

int produce_values(const std::string& bootstrap, const std::string& topic, int32_t partition,
                   const std::vector<std::string>& values) {
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
    for (const auto& payload : values) {
        while (rd_kafka_produce(rkt, partition < 0 ? RD_KAFKA_PARTITION_UA : partition,
                                RD_KAFKA_MSG_F_COPY, const_cast<char*>(payload.data()),
                                payload.size(), nullptr, 0, nullptr) != 0 &&
               rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(producer->get(), 10);
        }
    }
    rd_kafka_flush(producer->get(), 30000);
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

std::vector<std::string> read_topic(const std::string& bootstrap, const std::string& topic,
                                    size_t count, std::chrono::milliseconds timeout) {
    kafka::client_options options;
    options.kind = kafka::client_kind::consumer;
    options.bootstrap = bootstrap;
    options.client_id = "test-reader";
    options.properties["group.id"] = "test-reader-unused";
    options.properties["enable.auto.commit"] = "false";
    options.properties["enable.partition.eof"] = "false";
    auto consumer = kafka::make_client(options);
    if (!consumer) {
        throw std::runtime_error(consumer.error().message);
    }
    rd_kafka_t* rk = consumer->get();
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_topic_destroy(rkt);
        throw std::runtime_error("metadata for " + topic + " failed");
    }
    auto* assignment = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    std::vector<std::string> payloads;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (payloads.size() < count && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            continue;
        }
        if (!m->err) {
            payloads.emplace_back(static_cast<const char*>(m->payload), m->len);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    return payloads;
}

int64_t topic_message_count(const std::string& bootstrap, const std::string& topic) {
    auto client = kafka::make_metadata_client(bootstrap, "test-counter");
    if (!client) {
        throw std::runtime_error(client.error().message);
    }
    auto topics = kafka::list_topics(client->get(), std::chrono::seconds(10));
    if (!topics) {
        throw std::runtime_error(topics.error().message);
    }
    int64_t total = 0;
    for (const auto& t : *topics) {
        if (t.name != topic) {
            continue;
        }
        for (int p = 0; p < t.partitions; ++p) {
            int64_t low = 0;
            int64_t high = 0;
            rd_kafka_query_watermark_offsets(client->get(), topic.c_str(), p, &low, &high, 5000);
            total += high;
        }
    }
    return total;
}

}  // namespace obsrv::testing
