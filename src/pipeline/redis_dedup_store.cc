#include "pipeline/redis_dedup_store.h"

#include <algorithm>

namespace obsrv::pipeline {
namespace {

// Keys per DEL command: one reply for many keys, without building huge commands.
constexpr size_t k_del_chunk = 512;

redis::client_options client_options_of(const redis_dedup_store_options& o) {
    redis::client_options c;
    c.host = o.host;
    c.port = o.port;
    c.db = o.db;
    c.connect_timeout = o.connect_timeout;
    c.command_timeout = o.command_timeout;
    c.reconnect_backoff = o.reconnect_backoff;
    c.reconnect_backoff_max = o.reconnect_backoff_max;
    return c;
}

/// The key holds this probe's own origin: reserved for this very event by an earlier run of
/// the pipeline that never committed or released it (killed before delivery).
bool own_reservation(std::string_view value, const dedup_probe& probe) {
    return !probe.origin.empty() && value == probe.origin;
}

}  // namespace

redis_dedup_store::redis_dedup_store(redis_dedup_store_options options)
    : _max_pending(std::max<size_t>(1, options.max_pending_releases)),
      _client(client_options_of(options)) {}

std::string redis_dedup_store::redis_key(const dedup_probe& probe) {
    std::string key;
    key.reserve(probe.dataset_id.size() + 1 + probe.key_text.size());
    key.append(probe.dataset_id).append(1, ':').append(probe.key_text);
    return key;
}

int64_t redis_dedup_store::ttl_seconds(int64_t period_ms) {
    if (period_ms <= 0) {
        return 1;
    }
    return std::max<int64_t>(1, (period_ms + 999) / 1000);
}

void redis_dedup_store::queue_release(std::string key) {
    if (_pending.size() >= _max_pending) {
        _pending.pop_front();
        ++_stats.pending_dropped;
    }
    _pending.push_back(std::move(key));
}

size_t redis_dedup_store::append_pending_dels() {
    _sending.assign(std::make_move_iterator(_pending.begin()),
                    std::make_move_iterator(_pending.end()));
    _pending.clear();
    size_t commands = 0;
    for (size_t first = 0; first < _sending.size(); first += k_del_chunk) {
        const size_t n = std::min(k_del_chunk, _sending.size() - first);
        _pipeline.begin(1 + n).arg("DEL");
        for (size_t i = first; i < first + n; ++i) {
            _pipeline.arg(_sending[i]);
        }
        ++commands;
    }
    return commands;
}

void redis_dedup_store::requeue_unconfirmed_dels(size_t del_commands) {
    for (size_t c = 0; c < del_commands; ++c) {
        const bool confirmed = c < _replies.size() && !_replies[c].is_error();
        if (confirmed) {
            continue;
        }
        const size_t first = c * k_del_chunk;
        const size_t last = std::min(first + k_del_chunk, _sending.size());
        for (size_t i = first; i < last; ++i) {
            queue_release(std::move(_sending[i]));
        }
    }
    _sending.clear();
}

status redis_dedup_store::reserve(std::span<const dedup_probe> probes,
                                  std::span<dedup_verdict> verdicts, int64_t /*now_ms*/) {
    if (verdicts.size() != probes.size()) {
        return make_error("dedup reserve: {} probes but {} verdicts", probes.size(),
                          verdicts.size());
    }
    if (probes.empty()) {
        return {};
    }
    std::lock_guard lock(_mutex);
    _pipeline.clear();
    const size_t dels = append_pending_dels();
    for (const dedup_probe& p : probes) {
        _pipeline.begin(7)
            .arg("SET")
            .arg_parts({p.dataset_id, ":", p.key_text})
            .arg(p.origin)
            .arg("NX")
            .arg("GET")
            .arg("EX")
            .arg(ttl_seconds(p.period_ms));
    }
    status sent = _client.execute(_pipeline, _replies);
    requeue_unconfirmed_dels(dels);

    // A SET NX GET reply: nil (the key was free and is ours now), the value of a key already
    // held (ours if it is this probe's origin: a reservation left by a killed pipeline for
    // this very event; anyone else's otherwise), an error reply, or none (unknown).
    std::string failure;
    if (sent) {
        for (size_t i = 0; i < probes.size(); ++i) {
            const redis::reply& r = _replies[dels + i];
            if (r.is_nil() || (r.is_string() && own_reservation(r.text, probes[i]))) {
                verdicts[i] = dedup_verdict::unique;
            } else if (r.is_string()) {
                verdicts[i] = dedup_verdict::duplicate;
            } else {
                failure = r.is_error() ? r.text : "unexpected reply to SET";
                break;
            }
        }
        if (failure.empty()) {
            for (dedup_verdict v : verdicts) {
                ++(v == dedup_verdict::unique ? _stats.reserved : _stats.duplicates);
            }
            return {};
        }
    }

    // The batch failed: free whatever of it may be ours before the caller retries.
    ++_stats.failed_batches;
    if (!_client.last_call_wrote()) {
        return sent;  // nothing reached Redis: nothing to undo
    }
    for (size_t i = 0; i < probes.size(); ++i) {
        const size_t at = dels + i;
        const bool answered = at < _replies.size();
        if (!answered || _replies[at].is_nil() ||
            (_replies[at].is_string() && own_reservation(_replies[at].text, probes[i]))) {
            queue_release(redis_key(probes[i]));
        }
    }
    if (!sent) {
        return sent;
    }
    return make_error("redis dedup store: SET failed: {}", failure);
}

void redis_dedup_store::commit(std::span<const dedup_probe> /*probes*/, int64_t /*now_ms*/) {
    // The key was written with its period as TTL by reserve(): nothing left to record.
}

void redis_dedup_store::release(std::span<const dedup_probe> probes) {
    if (probes.empty()) {
        return;
    }
    std::lock_guard lock(_mutex);
    for (const dedup_probe& p : probes) {
        queue_release(redis_key(p));
    }
    _stats.released += probes.size();
    _pipeline.clear();
    const size_t dels = append_pending_dels();
    // A failure leaves the unconfirmed keys queued for the next call.
    (void)_client.execute(_pipeline, _replies);
    requeue_unconfirmed_dels(dels);
}

status redis_dedup_store::ping() {
    std::lock_guard lock(_mutex);
    return _client.ping();
}

redis_dedup_stats redis_dedup_store::stats() const {
    std::lock_guard lock(_mutex);
    return _stats;
}

size_t redis_dedup_store::pending_releases() const {
    std::lock_guard lock(_mutex);
    return _pending.size();
}

}  // namespace obsrv::pipeline
