#include "pipeline/redis_master_store.h"

#include <charconv>

#include "pipeline/json_merge.h"

namespace obsrv::pipeline {

using steady = std::chrono::steady_clock;

/// One (host, port, db): a client, its command buffers and the mutex that guards them.
struct redis_master_store::connection {
    explicit connection(redis::client_options options) : client(std::move(options)) {}
    std::mutex mutex;
    redis::client client;
    redis::pipeline commands;
    std::vector<redis::reply> replies;
};

namespace {

std::string endpoint_key(const master_location& where) {
    return fmt::format("{}:{}/{}", where.host, where.port, where.db);
}

// WRONGTYPE: the key holds something other than a string, which no retry will change.
bool is_wrong_type(const redis::reply& r) {
    return r.is_error() && r.text.rfind("WRONGTYPE", 0) == 0;
}

}  // namespace

redis_master_store::redis_master_store(redis_master_store_options options)
    : _options(std::move(options)) {}

redis_master_store::~redis_master_store() = default;

master_location redis_master_store::resolve(const master_location& where) const {
    master_location r = where;
    if (!_options.host_override.empty()) {
        r.host = _options.host_override;
    } else if (r.host.empty()) {
        r.host = _options.default_host;
    }
    if (_options.port_override > 0) {
        r.port = _options.port_override;
    }
    return r;
}

redis_master_store::connection& redis_master_store::connection_for(
    const master_location& resolved) {
    std::lock_guard lock(_connections_mutex);
    auto& slot = _connections[endpoint_key(resolved)];
    if (!slot) {
        redis::client_options c;
        c.host = resolved.host;
        c.port = static_cast<uint16_t>(resolved.port);
        c.db = static_cast<int>(resolved.db);
        c.connect_timeout = _options.connect_timeout;
        c.command_timeout = _options.command_timeout;
        c.reconnect_backoff = _options.reconnect_backoff;
        c.reconnect_backoff_max = _options.reconnect_backoff_max;
        slot = std::make_unique<connection>(std::move(c));
    }
    return *slot;
}

void redis_master_store::cache_key(std::string& out, const master_location& resolved,
                                   std::string_view key) {
    out.assign(resolved.host);
    out.push_back(':');
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, resolved.port);
    (void)ec;
    out.append(buf, end);
    out.push_back('/');
    auto [end2, ec2] = std::to_chars(buf, buf + sizeof buf, resolved.db);
    (void)ec2;
    out.append(buf, end2);
    out.push_back('\0');  // cannot occur in the endpoint part
    out.append(key);
}

void redis_master_store::cache_put(const std::string& key, master_value value,
                                   steady::time_point now) {
    // Under _cache_mutex.
    auto [it, inserted] =
        _cache.insert_or_assign(key, cache_entry{std::move(value), now + _options.cache_ttl});
    (void)it;
    if (!inserted) {
        return;  // keeps its place in the eviction order
    }
    _cache_order.push_back(key);
    while (_cache.size() > _options.cache_max_entries && !_cache_order.empty()) {
        _cache.erase(_cache_order.front());
        _cache_order.pop_front();
    }
}

void redis_master_store::count_failure() {
    std::lock_guard lock(_stats_mutex);
    ++_stats.failed_calls;
}

status redis_master_store::get(std::span<const master_get> gets, std::span<master_value> values) {
    if (gets.size() != values.size()) {
        return make_error("master data get: {} keys but {} values", gets.size(), values.size());
    }
    const bool cached = _options.cache_max_entries > 0;
    const auto now = steady::now();
    std::vector<master_location> resolved;
    resolved.reserve(gets.size());
    std::vector<std::string> keys(gets.size());
    std::vector<size_t> misses;
    uint64_t hits = 0;
    {
        std::unique_lock lock(_cache_mutex, std::defer_lock);
        if (cached) {
            lock.lock();
        }
        for (size_t i = 0; i < gets.size(); ++i) {
            resolved.push_back(resolve(*gets[i].where));
            values[i] = nullptr;
            if (cached) {
                cache_key(keys[i], resolved[i], gets[i].key);
                auto it = _cache.find(keys[i]);
                if (it != _cache.end() && it->second.expires > now) {
                    values[i] = it->second.value;
                    ++hits;
                    continue;
                }
            }
            misses.push_back(i);
        }
    }

    // The misses, one pipeline per location.
    uint64_t not_found = 0;
    uint64_t invalid = 0;
    std::vector<bool> done(misses.size(), false);
    std::vector<size_t> group;
    for (size_t m = 0; m < misses.size(); ++m) {
        if (done[m]) {
            continue;
        }
        const master_location& where = resolved[misses[m]];
        group.clear();
        for (size_t n = m; n < misses.size(); ++n) {
            if (!done[n] && resolved[misses[n]] == where) {
                group.push_back(misses[n]);
                done[n] = true;
            }
        }
        connection& c = connection_for(where);
        std::lock_guard lock(c.mutex);
        c.commands.clear();
        for (size_t i : group) {
            c.commands.begin(2).arg("GET").arg(gets[i].key);
        }
        if (auto sent = c.client.execute(c.commands, c.replies); !sent) {
            count_failure();
            return sent;
        }
        for (size_t k = 0; k < group.size(); ++k) {
            const redis::reply& r = c.replies[k];
            const size_t i = group[k];
            if (r.is_nil() || is_wrong_type(r)) {
                ++not_found;
            } else if (r.is_error()) {
                count_failure();
                return make_error("redis {}: GET: {}", endpoint_key(where), r.text);
            } else if (r.type != redis::reply_type::string || !is_json_object(r.text)) {
                ++invalid;
                ++not_found;
            } else {
                values[i] = std::make_shared<const std::string>(r.text);
            }
        }
    }

    if (cached && !misses.empty()) {
        std::lock_guard lock(_cache_mutex);
        for (size_t i : misses) {
            if (values[i] != nullptr) {
                cache_put(keys[i], values[i], now);
            }
        }
    }
    std::lock_guard lock(_stats_mutex);
    _stats.cache_hits += hits;
    _stats.redis_gets += misses.size();
    _stats.not_found += not_found;
    _stats.invalid_values += invalid;
    return {};
}

status redis_master_store::upsert(const master_location& where, std::span<const master_put> puts,
                                  upsert_counts& counts) {
    if (puts.empty()) {
        return {};
    }
    const master_location resolved = resolve(where);
    connection& c = connection_for(resolved);
    std::lock_guard lock(c.mutex);

    // The old records of the distinct keys, in one round trip.
    std::vector<std::string_view> distinct;
    std::unordered_map<std::string_view, size_t> index;
    for (const master_put& p : puts) {
        if (index.emplace(p.key, distinct.size()).second) {
            distinct.push_back(p.key);
        }
    }
    c.commands.clear();
    for (std::string_view key : distinct) {
        c.commands.begin(2).arg("GET").arg(key);
    }
    if (auto sent = c.client.execute(c.commands, c.replies); !sent) {
        count_failure();
        return sent;
    }
    std::vector<std::string> records(distinct.size());
    std::vector<bool> existed(distinct.size(), false);
    uint64_t invalid = 0;
    for (size_t k = 0; k < distinct.size(); ++k) {
        const redis::reply& r = c.replies[k];
        if (r.is_error() && !is_wrong_type(r)) {
            count_failure();
            return make_error("redis {}: GET: {}", endpoint_key(resolved), r.text);
        }
        if (r.type == redis::reply_type::string) {
            // A value that is not a JSON object is replaced, not merged (json4s would throw).
            if (is_json_object(r.text)) {
                records[k] = r.text;
                existed[k] = true;
            } else {
                ++invalid;
            }
        }
    }

    // Merge in order; a key given twice merges twice.
    upsert_counts batch;
    std::string merged;
    for (const master_put& p : puts) {
        const size_t k = index[p.key];
        if (!merge_json(records[k], p.json, merged)) {
            count_failure();
            return make_error("master data upsert: the record of key '{}' is not valid JSON",
                              p.key);
        }
        ++(existed[k] || !records[k].empty() ? batch.updated : batch.inserted);
        records[k].swap(merged);
    }
    c.commands.clear();
    for (size_t k = 0; k < distinct.size(); ++k) {
        c.commands.begin(3).arg("SET").arg(distinct[k]).arg(records[k]);
    }
    if (auto sent = c.client.execute(c.commands, c.replies); !sent) {
        count_failure();
        return sent;
    }
    for (const redis::reply& r : c.replies) {
        if (!r.is_ok()) {
            count_failure();
            return make_error("redis {}: SET: {}", endpoint_key(resolved),
                              r.is_error() ? r.text : "unexpected reply");
        }
    }
    counts.inserted += batch.inserted;
    counts.updated += batch.updated;

    if (_options.cache_max_entries > 0) {
        const auto now = steady::now();
        std::string key;
        std::lock_guard cache_lock(_cache_mutex);
        for (size_t k = 0; k < distinct.size(); ++k) {
            cache_key(key, resolved, distinct[k]);
            cache_put(key, std::make_shared<const std::string>(records[k]), now);
        }
    }
    std::lock_guard stats_lock(_stats_mutex);
    _stats.upserted += distinct.size();
    _stats.invalid_values += invalid;
    return {};
}

redis_master_stats redis_master_store::stats() const {
    std::lock_guard lock(_stats_mutex);
    return _stats;
}

uint64_t redis_master_store::connects() const {
    std::lock_guard lock(_connections_mutex);
    uint64_t n = 0;
    for (const auto& [key, c] : _connections) {
        n += c->client.connects();
    }
    return n;
}

}  // namespace obsrv::pipeline
