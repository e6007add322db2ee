#include "ingress/gateway_metrics.h"

namespace obsrv::ingress {

std::string_view to_string(route r) {
    switch (r) {
        case route::ingest_v2:
            return "/v2/data/in";
        case route::ingest_v1:
            return "/data/v1/in";
        case route::health:
            return "/health";
        case route::ready:
            return "/ready";
        case route::metrics:
            return "/metrics";
        case route::other:
        case route::count:
            break;
    }
    return "other";
}

gateway_metrics::gateway_metrics(metrics::registry& r)
    : registry(r),
      body_bytes(
          r.add_counter("obsrv_gateway_request_body_bytes_total", "Body bytes of ingest requests")),
      produced_bytes(r.add_counter("obsrv_gateway_kafka_produced_bytes_total",
                                   "Bytes of Kafka messages handed to the producers")),
      inflight_requests(r.add_gauge("obsrv_gateway_inflight_requests",
                                    "Ingest requests waiting for their Kafka delivery report")),
      inflight_bytes(r.add_gauge("obsrv_gateway_inflight_bytes",
                                 "Kafka message bytes waiting for a delivery report")) {
    // 100 µs .. ~105 s: persisted acks sit around linger.ms plus a broker round trip.
    auto buckets = metrics::exponential_buckets(0.0001, 2, 21);
    for (size_t i = 0; i < static_cast<size_t>(route::count); ++i) {
        latency[i] =
            &r.add_histogram("obsrv_gateway_request_duration_seconds",
                             "Time from a whole request received to its response queued, by route",
                             buckets, {{"route", std::string(to_string(static_cast<route>(i)))}});
    }
    const char* codings[] = {"gzip", "deflate"};
    for (size_t i = 0; i < 2; ++i) {
        decoded_requests[i] = &r.add_counter("obsrv_gateway_decoded_requests_total",
                                             "Ingest requests whose body came with a "
                                             "Content-Encoding and was decoded, by coding",
                                             {{"encoding", codings[i]}});
        decoded_bytes[i] =
            &r.add_counter("obsrv_gateway_decoded_body_bytes_total",
                           "Bytes of request bodies after Content-Encoding decoding, by coding",
                           {{"encoding", codings[i]}});
    }
}

metrics::counter& gateway_series::requests(route r, uint16_t status) {
    uint32_t key = (static_cast<uint32_t>(r) << 16) | status;
    auto it = _requests.find(key);
    if (it != _requests.end()) {
        return *it->second;
    }
    auto& c = _m.registry.add_counter(
        "obsrv_gateway_requests_total", "HTTP requests answered, by route and status code",
        {{"route", std::string(to_string(r))}, {"code", std::to_string(status)}});
    _requests.emplace(key, &c);
    return c;
}

namespace {
template <typename Map, typename Make>
metrics::counter& lookup(Map& map, std::string_view key, Make&& make) {
    auto it = map.find(key);
    if (it != map.end()) {
        return *it->second;
    }
    auto& c = make();
    map.emplace(std::string(key), &c);
    return c;
}
}  // namespace

metrics::counter& gateway_series::events(std::string_view dataset_id) {
    return lookup(_events, dataset_id, [&]() -> metrics::counter& {
        return _m.registry.add_counter("obsrv_gateway_events_total",
                                       "Events accepted (answered 200), by dataset",
                                       {{"dataset", std::string(dataset_id)}});
    });
}

metrics::counter& gateway_series::delivery_error(std::string_view error_name) {
    return lookup(_delivery_errors, error_name, [&]() -> metrics::counter& {
        return _m.registry.add_counter("obsrv_gateway_kafka_delivery_errors_total",
                                       "Kafka messages that failed or expired, by librdkafka error",
                                       {{"error", std::string(error_name)}});
    });
}

metrics::counter& gateway_series::rejected(std::string_view reason) {
    return lookup(_rejected, reason, [&]() -> metrics::counter& {
        return _m.registry.add_counter(
            "obsrv_gateway_backpressure_rejections_total",
            "Ingest requests answered 503 before reaching Kafka, by reason",
            {{"reason", std::string(reason)}});
    });
}

}  // namespace obsrv::ingress
