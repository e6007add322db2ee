#include "pipeline/shared_dedup_window.h"

#include <algorithm>
#include <vector>

namespace obsrv::pipeline {
namespace {

// The keys of a batch, hashed before taking the lock so that only the window lookups run
// under it. Batches up to 256 probes need no allocation.
class batch_keys {
  public:
    explicit batch_keys(std::span<const dedup_probe> probes) {
        if (probes.size() > k_inline) {
            _heap.resize(probes.size());
            _keys = _heap.data();
        }
        for (size_t i = 0; i < probes.size(); ++i) {
            _keys[i] = make_dedup_key(probes[i].dataset_id, probes[i].key_text);
        }
    }
    const dedup_key& operator[](size_t i) const { return _keys[i]; }

  private:
    static constexpr size_t k_inline = 256;
    dedup_key _inline[k_inline];
    std::vector<dedup_key> _heap;
    dedup_key* _keys = _inline;
};

}  // namespace

shared_dedup_window::shared_dedup_window(shared_dedup_window_options options)
    : _window(options.window),
      _expire_interval_ms(std::max<int64_t>(1, options.expire_interval_ms)) {}

void shared_dedup_window::expire_if_due(int64_t now_ms) {
    if (now_ms < _next_expiry_ms) {
        return;
    }
    _window.expire(now_ms);
    _next_expiry_ms = now_ms + _expire_interval_ms;
}

status shared_dedup_window::reserve(std::span<const dedup_probe> probes,
                                    std::span<dedup_verdict> verdicts, int64_t now_ms) {
    if (verdicts.size() != probes.size()) {
        return make_error("dedup reserve: {} probes but {} verdicts", probes.size(),
                          verdicts.size());
    }
    const batch_keys keys(probes);
    std::lock_guard lock(_mutex);
    expire_if_due(now_ms);
    for (size_t i = 0; i < probes.size(); ++i) {
        _window.prefetch(keys[i]);
    }
    _window.prefetch_evictions(probes.size());
    for (size_t i = 0; i < probes.size(); ++i) {
        verdicts[i] = _window.check_and_reserve(keys[i], now_ms, probes[i].period_ms);
    }
    return {};
}

void shared_dedup_window::commit(std::span<const dedup_probe> probes, int64_t /*now_ms*/) {
    const batch_keys keys(probes);
    std::lock_guard lock(_mutex);
    for (size_t i = 0; i < probes.size(); ++i) {
        _window.prefetch(keys[i]);
    }
    for (size_t i = 0; i < probes.size(); ++i) {
        _window.commit(keys[i]);
    }
}

void shared_dedup_window::release(std::span<const dedup_probe> probes) {
    const batch_keys keys(probes);
    std::lock_guard lock(_mutex);
    for (size_t i = 0; i < probes.size(); ++i) {
        _window.release(keys[i]);
    }
}

size_t shared_dedup_window::expire(int64_t now_ms) {
    std::lock_guard lock(_mutex);
    return _window.expire(now_ms);
}

result<size_t> shared_dedup_window::save(const std::string& path, int64_t now_ms) const {
    std::lock_guard lock(_mutex);
    return _window.save(path, now_ms);
}

result<size_t> shared_dedup_window::load(const std::string& path, int64_t now_ms) {
    std::lock_guard lock(_mutex);
    return _window.load(path, now_ms);
}

size_t shared_dedup_window::size() const {
    std::lock_guard lock(_mutex);
    return _window.size();
}

dedup_stats shared_dedup_window::stats() const {
    std::lock_guard lock(_mutex);
    return _window.stats();
}

}  // namespace obsrv::pipeline
