#include "ingress/gateway_handler.h"

#include <cstdlib>
#include <cstring>
#include <functional>

#include "common/log.h"
#include "ingress/ingest_message.h"
#include "ingress/route_param.h"
#include "ingress/server_worker.h"

namespace obsrv::ingress {
namespace {

constexpr std::string_view k_v2_prefix = "/v2/data/in/";
constexpr std::string_view k_v1_prefix = "/data/v1/in/";
constexpr std::string_view k_json = "application/json";

std::string_view trim(std::string_view s) {
    // String.prototype.trim: whitespace and line terminators.
    auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    };
    while (!s.empty() && space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::string_view> find_header(const http_request_head& head, std::string_view name) {
    for (const auto& h : head.headers()) {
        if (ascii_iequals(h.name, name)) {
            return h.value;
        }
    }
    return std::nullopt;
}

/// Failures worth retrying (broker or network trouble) answer 503; the rest
/// (message too large, unknown topic, authorisation) 500.
bool retriable(rd_kafka_resp_err_t err) {
    switch (err) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
            return true;
        default:
            return false;
    }
}

}  // namespace

gateway_context::gateway_context(const gateway_settings& settings, dataset::registry& registry,
                                 metrics::registry& metrics_registry)
    : ack(settings.ack == "enqueued" ? ack_mode::enqueued : ack_mode::persisted),
      max_inflight_bytes(settings.max_inflight_bytes),
      max_queued_messages(settings.max_queued_messages),
      retry_after_s(static_cast<uint32_t>(settings.retry_after_s)),
      max_body_bytes(static_cast<size_t>(settings.max_body_bytes)),
      max_head_bytes(static_cast<size_t>(settings.max_head_bytes)),
      reject_when_brokers_down(settings.reject_when_brokers_down),
      minify(settings.minify),
      datasets(registry),
      metrics(metrics_registry) {}

result<std::unique_ptr<gateway_handler>> gateway_handler::create(
    gateway_context& context, unsigned index, kafka::client_options producer_options) {
    std::unique_ptr<gateway_handler> h(new gateway_handler(context, index));
    if (!h->_validator.ready()) {
        return make_error(
            "gateway: cannot allocate a JSON parser for {} byte bodies "
            "(gateway.max_body_bytes)",
            context.max_body_bytes);
    }
    auto producer = kafka::worker_producer::create(std::move(producer_options),
                                                   &gateway_handler::on_delivery, h.get());
    if (!producer) {
        return producer.error();
    }
    h->_producer = std::move(*producer);
    return h;
}

gateway_handler::gateway_handler(gateway_context& context, unsigned index)
    : _ctx(context),
      _index(index),
      _validator(context.max_body_bytes),
      _decoder(context.max_body_bytes),
      _series(context.metrics),
      _snapshot(context.datasets.current()) {}

gateway_handler::~gateway_handler() {
    // Messages never reported (destroyed with the producer) still hold their memory.
    _producer.reset();
    for (auto& p : _pending) {
        std::free(p.memory);
    }
}

void gateway_handler::refresh_datasets() {
    if (_ctx.datasets.version() != _snapshot->version()) {
        _snapshot = _ctx.datasets.current();
    }
}

response_meta gateway_handler::meta(response_msgid msgid, int64_t now_ms) {
    response_meta m;
    m.ts = _ids.iso_timestamp(now_ms);
    m.resmsgid = _ids.next_uuid_v4();
    m.msgid = msgid;
    return m;
}

void gateway_handler::finish(route kind, uint16_t status,
                             std::chrono::steady_clock::time_point received) {
    _series.requests(kind, status).inc();
    _series.latency(kind).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
}

handled gateway_handler::on_request(const request& req, response& out) {
    const auto& head = req.head;
    std::string_view path = head.path;
    out.content_type = k_json;
    route kind = route::other;
    handled how = handled::now;
    if (head.method == http_method::post && path.starts_with(k_v2_prefix) &&
        path.size() > k_v2_prefix.size() &&
        path.find('/', k_v2_prefix.size()) == std::string_view::npos) {
        kind = route::ingest_v2;
        how = ingest_v2(req, path.substr(k_v2_prefix.size()), out);
    } else if (head.method == http_method::post && path.starts_with(k_v1_prefix) &&
               path.size() > k_v1_prefix.size() &&
               path.find('/', k_v1_prefix.size()) == std::string_view::npos) {
        kind = route::ingest_v1;
        how = ingest_v1(req, path.substr(k_v1_prefix.size()), out);
    } else if ((head.method == http_method::get || head.method == http_method::head) &&
               path == "/health") {
        kind = route::health;
        out.body = R"({"status":"ok"})";
    } else if ((head.method == http_method::get || head.method == http_method::head) &&
               path == "/ready") {
        kind = route::ready;
        auto [status, body] = _ctx.readiness();
        out.status = static_cast<uint16_t>(status);
        out.body = std::move(body);
    } else if ((head.method == http_method::get || head.method == http_method::head) &&
               path == "/metrics") {
        kind = route::metrics;
        out.content_type = metrics::text_content_type;
        out.body = _ctx.metrics.registry.render();
    } else {
        // Obsrv's routeNotFound answers every unknown method and path alike.
        out.status = static_cast<uint16_t>(
            render_route_not_found(out.body, meta(response_msgid::none(), id_source::now_ms())));
    }
    if (how == handled::now) {
        finish(kind, out.status, req.received);
    }
    return how;
}

std::string_view gateway_handler::admission(size_t body_bytes) {
    if (_ctx.reject_when_brokers_down && !_ctx.brokers_reachable()) {
        return "Kafka brokers are unreachable";
    }
    if (_ctx.inflight_bytes.load(std::memory_order_relaxed) + static_cast<int64_t>(body_bytes) >
        _ctx.max_inflight_bytes) {
        return "too much data is waiting for Kafka (gateway.max_inflight_bytes)";
    }
    if (_producer->queue_length() >= _ctx.max_queued_messages) {
        return "the Kafka producer queue is full (gateway.max_queued_messages)";
    }
    return {};
}

std::optional<request> gateway_handler::decode_body(const request& req, route kind, int64_t now_ms,
                                                    response& out) {
    // Node joins a repeated field's values with ", " (no coding matches such a list).
    std::string_view value;
    std::string joined;
    size_t fields = 0;
    for (const auto& h : req.head.headers()) {
        if (!ascii_iequals(h.name, "content-encoding")) {
            continue;
        }
        if (fields++ == 0) {
            value = h.value;
            continue;
        }
        if (fields == 2) {
            joined.assign(value);
        }
        joined.append(", ").append(h.value);
    }
    if (fields > 1) {
        value = joined;
    }
    const content_coding coding = parse_content_coding(value);
    if (coding == content_coding::identity) {
        return req;
    }
    const bool v1 = kind == route::ingest_v1;
    if (coding == content_coding::unsupported) {
        const std::string message =
            fmt::format(R"(unsupported content encoding "{}")", content_coding_for_message(value));
        out.status = static_cast<uint16_t>(
            v1 ? render_v1_error(out.body, now_ms, 415, "UNSUPPORTED_MEDIA_TYPE", message)
               : render_error(out.body, meta(response_msgid::none(), now_ms),
                              k_unsupported_encoding, message));
        return std::nullopt;
    }
    const size_t index = coding == content_coding::gzip ? 0 : 1;
    switch (_decoder.decode(coding, req.body)) {
        case body_decode_status::ok:
            break;
        case body_decode_status::too_large:
            out.status = static_cast<uint16_t>(
                v1 ? render_v1_error(out.body, now_ms, 413, "REQUEST_ENTITY_TOO_LARGE",
                                     fmt::format("Request body exceeds the limit of {} bytes",
                                                 _ctx.max_body_bytes))
                   : render_payload_too_large(out.body, meta(response_msgid::none(), now_ms),
                                              _ctx.max_body_bytes));
            return std::nullopt;
        case body_decode_status::corrupt: {
            const std::string message = fmt::format(
                "Invalid {} body: {}", index == 0 ? "gzip" : "deflate", _decoder.error());
            out.status = static_cast<uint16_t>(
                v1 ? render_v1_error(out.body, now_ms, 400, "BAD_REQUEST", message)
                   : render_invalid_input(out.body, meta(response_msgid::none(), now_ms), message));
            return std::nullopt;
        }
    }
    _ctx.metrics.decoded_requests[index]->inc();
    _ctx.metrics.decoded_bytes[index]->inc(_decoder.decoded().size());
    // The decoded body lives in the decoder, not in a receive buffer: never framed in place.
    return request{req.head, _decoder.decoded(), req.token, req.received, nullptr};
}

handled gateway_handler::ingest_v2(const request& req, std::string_view raw_key, response& out) {
    int64_t now_ms = id_source::now_ms();
    _ctx.metrics.body_bytes.inc(req.body.size());
    if (!decode_route_param(raw_key, _key_buffer)) {
        out.status = static_cast<uint16_t>(render_invalid_input(
            out.body, meta(response_msgid::none(), now_ms),
            "Failed to decode param: the dataset id in the path is not percent-encoded UTF-8"));
        return handled::now;
    }
    std::string_view key = trim(_key_buffer);
    if (auto reason = admission(req.body.size()); !reason.empty()) {
        _series.rejected(reason.substr(0, reason.find(' '))).inc();
        out.status = static_cast<uint16_t>(
            render_unavailable(out.body, meta(response_msgid::none(), now_ms), reason));
        out.retry_after_s = _ctx.retry_after_s;
        return handled::now;
    }
    const std::optional<request> decoded = decode_body(req, route::ingest_v2, now_ms, out);
    if (!decoded) {
        return handled::now;
    }
    return ingest_v2_decoded(*decoded, key, now_ms, out);
}

handled gateway_handler::ingest_v2_decoded(const request& req, std::string_view key, int64_t now_ms,
                                           response& out) {
    ingest_request ir;
    if (_validator.validate(req.body, ir) != validation_status::ok) {
        out.status =
            static_cast<uint16_t>(render_invalid_input(out.body, meta(ir.echo, now_ms), ir.error));
        return handled::now;
    }
    refresh_datasets();
    const dataset::dataset* ds = _snapshot->find(key);
    if (!ds) {
        out.status =
            static_cast<uint16_t>(render_dataset_not_found(out.body, meta(ir.echo, now_ms), key));
        return handled::now;
    }
    if (!ds->is_live()) {
        out.status = static_cast<uint16_t>(render_dataset_not_live(
            out.body, meta(ir.echo, now_ms), key, dataset::to_string(ds->status)));
        return handled::now;
    }
    if (ds->entry_topic.empty()) {
        out.status = static_cast<uint16_t>(render_topic_not_found(out.body, meta(ir.echo, now_ms)));
        return handled::now;
    }
    message_params params;
    params.dataset_id = ds->dataset_id;
    params.extraction_key = ds->extraction_config.extraction_key;
    params.dedup_key = ds->extraction_config.dedup_config.dedup_key;
    params.syncts_ms = now_ms;
    params.minify = _ctx.minify;
    if (auto framed = frame_in_place(req, ir, params)) {
        return send_to_kafka(req, route::ingest_v2, ds->entry_topic, *framed, ds->dataset_id,
                             ir.event_count, ir.echo, out);
    }
    size_t bound = message_size_upper_bound(ir, params);
    auto* message = static_cast<char*>(std::malloc(bound));
    OBSRV_RELEASE_ASSERT(message != nullptr, "out of memory for a {} byte message", bound);
    size_t length = build_message(ir, params, message);
    return send_to_kafka(req, route::ingest_v2, ds->entry_topic,
                         outgoing{message, length, message, length}, ds->dataset_id, ir.event_count,
                         ir.echo, out);
}

std::optional<gateway_handler::outgoing> gateway_handler::frame_in_place(
    const request& req, const ingest_request& ir, const message_params& params) {
    receive_block* block = req.block;
    if (block == nullptr || block->taken) {
        return std::nullopt;
    }
    // A kept buffer holds its whole size until delivery: worth it only for a body that fills
    // at least half of it (smaller ones are cheap to copy and would waste the memory).
    const auto block_bytes = static_cast<size_t>(block->end - block->begin);
    if (ir.data.size() < block_bytes / 2) {
        return std::nullopt;
    }
    // The data must be the body's own bytes (not a validator's copy).
    const char* body_end = req.body.data() + req.body.size();
    if (std::less<>{}(ir.data.data(), req.body.data()) ||
        std::less<>{}(body_end, ir.data.data() + ir.data.size())) {
        return std::nullopt;
    }
    _frame_buffer.resize(message_frame_size_upper_bound(ir, params));
    outgoing msg;
    if (!build_message_frame(ir, params, _frame_buffer.data(), msg.frame)) {
        return std::nullopt;
    }
    // The frame must fit around the data in the block.
    char* data = block->begin + (ir.data.data() - block->begin);
    if (static_cast<size_t>(data - block->begin) < msg.frame.prefix.size() ||
        static_cast<size_t>(block->end - (data + ir.data.size())) < msg.frame.suffix.size()) {
        return std::nullopt;
    }
    msg.message = data - msg.frame.prefix.size();
    msg.length = msg.frame.prefix.size() + ir.data.size() + msg.frame.suffix.size();
    msg.memory = block->begin;
    msg.memory_bytes = block_bytes;
    msg.block = block;
    return msg;
}

handled gateway_handler::ingest_v1(const request& req, std::string_view raw_key, response& out) {
    int64_t now_ms = id_source::now_ms();
    _ctx.metrics.body_bytes.inc(req.body.size());
    if (auto reason = admission(req.body.size()); !reason.empty()) {
        _series.rejected(reason.substr(0, reason.find(' '))).inc();
        out.status = static_cast<uint16_t>(
            render_v1_error(out.body, now_ms, 503, "SERVICE_UNAVAILABLE", reason));
        out.retry_after_s = _ctx.retry_after_s;
        return handled::now;
    }
    const std::optional<request> decoded = decode_body(req, route::ingest_v1, now_ms, out);
    if (!decoded) {
        return handled::now;
    }
    return ingest_v1_decoded(*decoded, raw_key, now_ms, out);
}

handled gateway_handler::ingest_v1_decoded(const request& req, std::string_view raw_key,
                                           int64_t now_ms, response& out) {
    legacy_request lr;
    if (_validator.validate_legacy(req.body, lr) != validation_status::ok) {
        out.status = static_cast<uint16_t>(render_v1_invalid_body(out.body, now_ms, lr.error));
        return handled::now;
    }
    if (!decode_route_param(raw_key, _key_buffer)) {
        out.status = static_cast<uint16_t>(render_v1_invalid_body(
            out.body, now_ms, "Failed to decode param: not percent-encoded UTF-8"));
        return handled::now;
    }
    std::string_view key = trim(_key_buffer);
    if (key.empty()) {
        out.status = static_cast<uint16_t>(render_v1_empty_dataset_id(out.body, now_ms));
        return handled::now;
    }
    refresh_datasets();
    // v1 looked datasets up by id among Live ones only.
    const dataset::dataset* ds = _snapshot->by_dataset_id(key);
    if (!ds || !ds->is_live()) {
        out.status = static_cast<uint16_t>(render_v1_dataset_not_found(out.body, now_ms));
        return handled::now;
    }
    const auto& extraction = ds->extraction_config;
    if (!legacy_data_accepted(lr, extraction.is_batch_event,
                              std::optional<std::string_view>(extraction.extraction_key),
                              extraction.batch_id.empty()
                                  ? std::nullopt
                                  : std::optional<std::string_view>(extraction.batch_id))) {
        out.status = static_cast<uint16_t>(render_v1_invalid_dataset_config(out.body, now_ms));
        return handled::now;
    }
    char mid[36];
    _ids.uuid_v1(mid, now_ms);
    legacy_message_params params;
    params.dataset_id = key;
    params.generated_mid = std::string_view(mid, sizeof mid);
    params.syncts_ms = now_ms;
    params.device_id = find_header(req.head, "x-device-id");
    params.channel_id = find_header(req.head, "x-channel-id");
    params.app_id = find_header(req.head, "x-app-id");
    size_t bound = legacy_message_size_upper_bound(lr, params);
    auto* message = static_cast<char*>(std::malloc(bound));
    OBSRV_RELEASE_ASSERT(message != nullptr, "out of memory for a {} byte message", bound);
    size_t length = build_legacy_message(lr, params, message);
    return send_to_kafka(req, route::ingest_v1, ds->entry_topic,
                         outgoing{message, length, message, length}, ds->dataset_id, 1,
                         response_msgid::none(), out);
}

handled gateway_handler::send_to_kafka(const request& req, route kind, const std::string& topic,
                                       outgoing msg, std::string_view dataset_id, size_t events,
                                       const response_msgid& echo, response& out) {
    uint32_t slot;
    if (!_free_pending.empty()) {
        slot = _free_pending.back();
        _free_pending.pop_back();
    } else {
        slot = static_cast<uint32_t>(_pending.size());
        _pending.emplace_back();
    }
    auto& p = _pending[slot];
    p.in_use = true;
    p.token = req.token;
    p.kind = kind;
    p.respond = _ctx.ack == ack_mode::persisted;
    p.msgid.assign(echo.text);
    p.msgid_kind = echo.type;
    p.dataset_id.assign(dataset_id);
    p.events = events;
    p.bytes = msg.memory_bytes;
    p.memory = msg.memory;
    p.received = req.received;
    if (msg.block != nullptr) {
        // Everything needed from the request has been copied (msgid above): the frame may now
        // overwrite its head and the bytes after the data.
        std::memcpy(msg.message, msg.frame.prefix.data(), msg.frame.prefix.size());
        std::memcpy(msg.message + msg.length - msg.frame.suffix.size(), msg.frame.suffix.data(),
                    msg.frame.suffix.size());
        msg.block->taken = true;
    }
    const size_t length = msg.length;

    auto err = _producer->produce(topic, msg.message, length,
                                  reinterpret_cast<void*>(static_cast<uintptr_t>(slot) + 1));
    if (err) {
        std::free(p.memory);  // librdkafka did not take the message
        p.memory = nullptr;
        p.in_use = false;
        _free_pending.push_back(slot);
        int64_t now_ms = id_source::now_ms();
        _series.delivery_error(rd_kafka_err2name(err)).inc();
        // The request's bytes may be overwritten by now: echo the copy.
        auto m = meta(response_msgid{p.msgid_kind, p.msgid}, now_ms);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            _series.rejected("queue_full").inc();
            out.status = static_cast<uint16_t>(
                kind == route::ingest_v1
                    ? render_v1_error(out.body, now_ms, 503, "SERVICE_UNAVAILABLE",
                                      "the Kafka producer queue is full")
                    : render_unavailable(out.body, m, "the Kafka producer queue is full"));
            out.retry_after_s = _ctx.retry_after_s;
        } else if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            out.status = static_cast<uint16_t>(render_payload_too_large(out.body, m, length));
        } else {
            out.status = static_cast<uint16_t>(
                kind == route::ingest_v1
                    ? render_v1_internal_error(out.body, now_ms, rd_kafka_err2str(err))
                    : render_internal_error(out.body, m, rd_kafka_err2str(err)));
        }
        return handled::now;
    }
    _ctx.metrics.produced_bytes.inc(length);
    _ctx.inflight_bytes.fetch_add(static_cast<int64_t>(p.bytes), std::memory_order_relaxed);
    _ctx.metrics.inflight_bytes.add(static_cast<double>(p.bytes));
    ++_outstanding;
    if (p.respond) {
        ++_awaiting_response;
        _ctx.metrics.inflight_requests.add(1);
        return handled::later;
    }
    // ack=enqueued: answer now; the delivery report only settles the books.
    int64_t now_ms = id_source::now_ms();
    out.status = static_cast<uint16_t>(
        kind == route::ingest_v1
            ? render_v1_success(out.body, now_ms)
            : render_success(out.body, meta(response_msgid{p.msgid_kind, p.msgid}, now_ms)));
    _series.events(dataset_id).inc(events);
    return handled::now;
}

void gateway_handler::on_delivery(void* context, const rd_kafka_message_t& message) {
    static_cast<gateway_handler*>(context)->delivered(message);
}

void gateway_handler::delivered(const rd_kafka_message_t& message) {
    auto slot = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(message._private) - 1);
    OBSRV_RELEASE_ASSERT(slot < _pending.size() && _pending[slot].in_use,
                         "delivery report for unknown request slot {}", slot);
    auto& p = _pending[slot];
    --_outstanding;
    _ctx.inflight_bytes.fetch_sub(static_cast<int64_t>(p.bytes), std::memory_order_relaxed);
    _ctx.metrics.inflight_bytes.sub(static_cast<double>(p.bytes));
    if (message.err) {
        _series.delivery_error(rd_kafka_err2name(message.err)).inc();
    }
    if (p.respond) {
        --_awaiting_response;
        _ctx.metrics.inflight_requests.sub(1);
        int64_t now_ms = id_source::now_ms();
        response r;
        r.content_type = k_json;
        bool v1 = p.kind == route::ingest_v1;
        response_msgid echo{p.msgid_kind, p.msgid};
        if (!message.err) {
            r.status = static_cast<uint16_t>(v1 ? render_v1_success(r.body, now_ms)
                                                : render_success(r.body, meta(echo, now_ms)));
            _series.events(p.dataset_id).inc(p.events);
        } else if (retriable(message.err)) {
            std::string reason = fmt::format("Kafka did not acknowledge the data: {}",
                                             rd_kafka_err2str(message.err));
            r.status = static_cast<uint16_t>(
                v1 ? render_v1_error(r.body, now_ms, 503, "SERVICE_UNAVAILABLE", reason)
                   : render_unavailable(r.body, meta(echo, now_ms), reason));
            r.retry_after_s = _ctx.retry_after_s;
        } else {
            std::string reason =
                fmt::format("Kafka refused the data: {}", rd_kafka_err2str(message.err));
            r.status = static_cast<uint16_t>(
                v1 ? render_v1_internal_error(r.body, now_ms, reason)
                   : render_internal_error(r.body, meta(echo, now_ms), reason));
        }
        finish(p.kind, r.status, p.received);
        sink().complete(p.token, std::move(r));
    }
    std::free(p.memory);  // librdkafka is done with the message once it reports it
    p.memory = nullptr;
    p.in_use = false;
    p.respond = false;
    _free_pending.push_back(slot);
}

response gateway_handler::protocol_error(uint16_t status) {
    response r;
    r.status = status;
    r.content_type = k_json;
    auto m = meta(response_msgid::none(), id_source::now_ms());
    switch (status) {
        case 413:
            render_payload_too_large(r.body, m, _ctx.max_body_bytes);
            break;
        case 431:
            render_headers_too_large(r.body, m, _ctx.max_head_bytes);
            break;
        case 408:
            render_request_timeout(r.body, m);
            break;
        default:
            render_error(r.body, m,
                         error_spec{status, status == 400 ? "BAD_REQUEST" : "HTTP_ERROR",
                                    "HTTP_PROTOCOL_ERROR"},
                         fmt::format("The request is not valid HTTP/1.1 ({} {})", status,
                                     status_reason(status)));
    }
    _series.requests(route::other, status).inc();
    return r;
}

void gateway_handler::on_stopped(std::chrono::steady_clock::time_point deadline) {
    int left = _producer->flush(deadline);
    if (left > 0) {
        log::get("gateway")->error(
            "io-{}: {} Kafka messages were not acknowledged before the shutdown deadline", _index,
            left);
    }
}

}  // namespace obsrv::ingress
