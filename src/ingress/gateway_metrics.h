#pragma once

// The gateway's Prometheus metrics (obsrv_gateway_*), registered once and
// shared by the workers. Series with a label chosen per request (route and
// status, dataset) are looked up through a per-worker cache, so the hot
// path does no string work after the first request of each kind.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/metrics.h"

namespace obsrv::ingress {

enum class route : uint8_t { ingest_v2, ingest_v1, health, ready, metrics, other, count };
std::string_view to_string(route r);

struct gateway_metrics {
    explicit gateway_metrics(metrics::registry& registry);

    metrics::registry& registry;
    metrics::counter& body_bytes;
    metrics::counter& produced_bytes;
    metrics::gauge& inflight_requests;
    metrics::gauge& inflight_bytes;
    metrics::histogram* latency[static_cast<size_t>(route::count)];
    /// Bodies sent with Content-Encoding, decoded: [0] gzip, [1] deflate.
    metrics::counter* decoded_requests[2];
    metrics::counter* decoded_bytes[2];
};

/// One worker's view of the labelled series (not thread-safe; one per worker).
class gateway_series {
  public:
    explicit gateway_series(gateway_metrics& m) : _m(m) {}

    metrics::counter& requests(route r, uint16_t status);
    metrics::counter& events(std::string_view dataset_id);
    metrics::counter& delivery_error(std::string_view error_name);
    metrics::counter& rejected(std::string_view reason);
    metrics::histogram& latency(route r) { return *_m.latency[static_cast<size_t>(r)]; }
    gateway_metrics& shared() { return _m; }

  private:
    struct string_hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using by_name =
        std::unordered_map<std::string, metrics::counter*, string_hash, std::equal_to<>>;

    gateway_metrics& _m;
    std::unordered_map<uint32_t, metrics::counter*> _requests;
    by_name _events;
    by_name _delivery_errors;
    by_name _rejected;
};

}  // namespace obsrv::ingress
