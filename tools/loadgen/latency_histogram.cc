#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace obsrv::loadgen {

namespace {
constexpr uint64_t linear_limit = uint64_t{1} << latency_histogram::sub_bucket_bits;
constexpr size_t half = size_t{1} << (latency_histogram::sub_bucket_bits - 1);
}  // namespace

size_t latency_histogram::bucket_index(uint64_t v) {
    if (v < linear_limit) {
        return static_cast<size_t>(v);
    }
    // v in [2^e, 2^(e+1)), split into `half` buckets of width 2^(e - bits + 1).
    const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;
    const unsigned shift = e - sub_bucket_bits + 1;
    const size_t sub = static_cast<size_t>(v >> shift) - half;
    return static_cast<size_t>(linear_limit) + (e - sub_bucket_bits) * half + sub;
}

uint64_t latency_histogram::bucket_lowest(size_t index) {
    if (index < linear_limit) {
        return index;
    }
    const size_t rest = index - static_cast<size_t>(linear_limit);
    const unsigned e = static_cast<unsigned>(rest / half) + sub_bucket_bits;
    const size_t sub = rest % half;
    const unsigned shift = e - sub_bucket_bits + 1;
    return static_cast<uint64_t>(half + sub) << shift;
}

uint64_t latency_histogram::bucket_highest(size_t index) {
    if (index < linear_limit) {
        return index;
    }
    const size_t rest = index - static_cast<size_t>(linear_limit);
    const unsigned e = static_cast<unsigned>(rest / half) + sub_bucket_bits;
    const unsigned shift = e - sub_bucket_bits + 1;
    return bucket_lowest(index) + ((uint64_t{1} << shift) - 1);
}

void latency_histogram::merge(const latency_histogram& other) {
    if (other._total == 0) {
        return;
    }
    if (other._counts.size() > _counts.size()) {
        _counts.resize(other._counts.size(), 0);
    }
    for (size_t i = 0; i < other._counts.size(); ++i) {
        _counts[i] += other._counts[i];
    }
    _total += other._total;
    _sum += other._sum;
    _max = std::max(_max, other._max);
    _min = std::min(_min, other._min);
}

void latency_histogram::reset() {
    std::fill(_counts.begin(), _counts.end(), 0);
    _total = 0;
    _max = 0;
    _min = UINT64_MAX;
    _sum = 0;
}

uint64_t latency_histogram::percentile(double p) const {
    if (_total == 0) {
        return 0;
    }
    p = std::clamp(p, 0.0, 100.0);
    // Nearest rank: ceil(p/100 * n), at least 1. The small epsilon keeps
    // 99.9% of 1000 at rank 999 despite binary rounding of 0.999 * 1000.
    auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(_total) - 1e-9));
    rank = std::clamp<uint64_t>(rank, 1, _total);
    uint64_t seen = 0;
    for (size_t i = 0; i < _counts.size(); ++i) {
        seen += _counts[i];
        if (seen >= rank) {
            return std::min(bucket_highest(i), _max);
        }
    }
    return _max;
}

}  // namespace obsrv::loadgen
