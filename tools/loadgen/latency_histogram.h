#pragma once

// Log-linear (HDR-style) histogram of latencies in microseconds: exact below
// 2^sub_bucket_bits us, then 2^(sub_bucket_bits-1) equal-width buckets per
// power of two. A percentile is reported as the highest value of its bucket
// (capped at the exact maximum), so it never under-states a latency and
// over-states it by less than relative_error. Counts live in a vector that
// grows to the highest bucket used, so a loopback run costs a few KB and
// merging per-second histograms stays cheap.
//
// Not thread-safe: each worker records into its own and they are merged.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace obsrv::loadgen {

class latency_histogram {
  public:
    static constexpr unsigned sub_bucket_bits = 9;
    /// Upper bound of (reported - exact) / exact for any percentile.
    static constexpr double relative_error = 1.0 / (1u << (sub_bucket_bits - 1));

    void record(uint64_t micros) {
        const size_t i = bucket_index(micros);
        if (i >= _counts.size()) {
            _counts.resize(i + 1, 0);
        }
        ++_counts[i];
        ++_total;
        if (micros > _max) {
            _max = micros;
        }
        if (micros < _min) {
            _min = micros;
        }
        _sum += micros;
    }

    void merge(const latency_histogram& other);
    void reset();

    uint64_t count() const { return _total; }
    uint64_t max() const { return _total ? _max : 0; }
    uint64_t min() const { return _total ? _min : 0; }
    double mean() const { return _total ? static_cast<double>(_sum) / _total : 0.0; }

    /// Nearest-rank percentile, `p` in [0, 100]: the smallest recorded value v
    /// such that at least p% of the values are <= v, rounded up to its bucket's
    /// highest value. 0 when empty.
    uint64_t percentile(double p) const;

    static size_t bucket_index(uint64_t v);
    /// The largest value that falls into bucket `index`.
    static uint64_t bucket_highest(size_t index);
    /// The smallest value that falls into bucket `index`.
    static uint64_t bucket_lowest(size_t index);

  private:
    std::vector<uint64_t> _counts;
    uint64_t _total = 0;
    uint64_t _max = 0;
    uint64_t _min = UINT64_MAX;
    uint64_t _sum = 0;
};

}  // namespace obsrv::loadgen
