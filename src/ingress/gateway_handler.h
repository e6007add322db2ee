#pragma once

// The gateway's request handler, one per io_uring worker: the Obsrv Dataset
// API routes (POST /v2/data/in/{dataset_id}, legacy POST /data/v1/in/{id})
// plus /health, /ready and /metrics on the gateway port.
//
// An ingest request is validated with simdjson in place, its Kafka message
// built once into a malloc'd buffer that librdkafka takes over, and produced
// on the worker's own producer. With ack=persisted the response waits for the
// delivery report, which arrives on this worker's thread (worker_producer).
// Admission control (in-flight bytes, producer queue, brokers down) answers
// 503 with Retry-After before any work is done, so memory stays bounded.
//
// Threading: everything runs on the owning worker thread, except the shared
// atomics in gateway_context.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/settings.h"
#include "dataset/registry.h"
#include "ingress/api_response.h"
#include "ingress/content_coding.h"
#include "ingress/gateway_metrics.h"
#include "ingress/ingest_message.h"
#include "ingress/ingest_request.h"
#include "ingress/request_handler.h"
#include "kafka/worker_producer.h"

namespace obsrv::ingress {

enum class ack_mode : uint8_t { persisted, enqueued };

/// What the workers share: configuration, datasets, shared counters.
struct gateway_context {
    gateway_context(const gateway_settings& settings, dataset::registry& datasets,
                    metrics::registry& registry);

    ack_mode ack;
    int64_t max_inflight_bytes;
    int64_t max_queued_messages;
    uint32_t retry_after_s;
    size_t max_body_bytes;
    size_t max_head_bytes;
    bool reject_when_brokers_down;
    bool minify;
    dataset::registry& datasets;
    gateway_metrics metrics;
    std::atomic<int64_t> inflight_bytes{0};
    /// False while the brokers are known to be unreachable (set by the role).
    std::function<bool()> brokers_reachable = [] { return true; };
    /// Status and JSON body of /ready (set by the role).
    std::function<std::pair<int, std::string>()> readiness = [] {
        return std::pair<int, std::string>{200, R"({"status":"ready"})"};
    };
};

class gateway_handler final : public request_handler {
  public:
    /// The handler of worker `index` with its own producer.
    static result<std::unique_ptr<gateway_handler>> create(gateway_context& context, unsigned index,
                                                           kafka::client_options producer_options);
    ~gateway_handler() override;

    handled on_request(const request& req, response& out) override;
    response protocol_error(uint16_t status) override;
    int wakeup_fd() override { return _producer->wakeup_fd(); }
    void on_wakeup() override { _producer->poll(); }
    size_t pending() const override { return _awaiting_response; }
    void on_stopped(std::chrono::steady_clock::time_point deadline) override;

    kafka::worker_producer& producer() { return *_producer; }

  private:
    gateway_handler(gateway_context& context, unsigned index);

    struct pending_delivery {
        request_token token;
        route kind = route::ingest_v2;
        bool respond = false;  // false once answered (ack=enqueued) or free
        bool in_use = false;
        std::string msgid;  // the request's msgid, for the response
        response_msgid::kind msgid_kind = response_msgid::kind::omit;
        std::string dataset_id;
        size_t events = 0;
        size_t bytes = 0;        // memory held until delivery (gateway.max_inflight_bytes)
        char* memory = nullptr;  // the message's allocation, freed after delivery
        std::chrono::steady_clock::time_point received;
    };

    /// A Kafka message ready to produce: built in its own allocation, or (`block` set) framed
    /// around the data inside the receive buffer, where the frame is written at the last moment.
    struct outgoing {
        char* message = nullptr;
        size_t length = 0;
        char* memory = nullptr;  // freed with std::free after delivery
        size_t memory_bytes = 0;
        receive_block* block = nullptr;
        message_frame frame{};
    };

    /// The request as a route reads it: its body decoded when it came with a Content-Encoding
    /// (gzip, deflate), as body-parser decodes it. nullopt when refused, with the answer in
    /// `out`: 415 for another coding, 413 for a decoded body above gateway.max_body_bytes, 400
    /// for corrupt data.
    std::optional<request> decode_body(const request& req, route kind, int64_t now_ms,
                                       response& out);
    handled ingest_v2(const request& req, std::string_view key, response& out);
    handled ingest_v2_decoded(const request& req, std::string_view key, int64_t now_ms,
                              response& out);
    handled ingest_v1(const request& req, std::string_view key, response& out);
    handled ingest_v1_decoded(const request& req, std::string_view raw_key, int64_t now_ms,
                              response& out);
    /// 503 reason, or empty when the request may go to Kafka.
    std::string_view admission(size_t body_bytes);
    /// The message framed inside the request's receive buffer, when it may be kept and the
    /// frame fits around the data; nullopt otherwise.
    std::optional<outgoing> frame_in_place(const request& req, const ingest_request& ir,
                                           const message_params& params);
    handled send_to_kafka(const request& req, route kind, const std::string& topic, outgoing msg,
                          std::string_view dataset_id, size_t events, const response_msgid& echo,
                          response& out);
    void delivered(const rd_kafka_message_t& message);
    static void on_delivery(void* context, const rd_kafka_message_t& message);
    void refresh_datasets();
    response_meta meta(response_msgid msgid, int64_t now_ms);
    void finish(route kind, uint16_t status, std::chrono::steady_clock::time_point received);

    gateway_context& _ctx;
    unsigned _index;
    std::unique_ptr<kafka::worker_producer> _producer;
    request_validator _validator;
    body_decoder _decoder;
    id_source _ids;
    gateway_series _series;
    std::shared_ptr<const dataset::snapshot> _snapshot;
    std::vector<pending_delivery> _pending;
    std::vector<uint32_t> _free_pending;
    size_t _awaiting_response = 0;
    size_t _outstanding = 0;
    std::string _key_buffer;
    std::vector<char> _frame_buffer;
};

}  // namespace obsrv::ingress
