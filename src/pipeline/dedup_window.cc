#include "pipeline/dedup_window.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <xxhash.h>

namespace obsrv::pipeline {
namespace {

constexpr size_t k_min_slots = 1024;
// Periods are never negative: the queue of keys restored from a snapshot.
constexpr int64_t k_restored_period = -1;

inline size_t home_slot(const dedup_key& key, size_t mask) {
    return static_cast<size_t>(key.low) & mask;  // XXH3 bits: already uniform
}

constexpr char k_magic[8] = {'O', 'B', 'S', 'D', 'E', 'D', 'U', 'P'};
constexpr uint32_t k_format_version = 1;

struct snapshot_record {
    uint64_t low;
    uint64_t high;
    int64_t expires_ms;
};
static_assert(sizeof(snapshot_record) == 24);

struct snapshot_header {
    char magic[8];
    uint32_t version;
    uint32_t record_size;
    uint64_t count;
};
static_assert(sizeof(snapshot_header) == 24);

bool write_all(int fd, const void* data, size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

dedup_key make_dedup_key(std::string_view dataset_id, std::string_view key_text) {
    // The dataset id seeds the key's hash: no concatenation, no allocation.
    const XXH64_hash_t seed = XXH3_64bits(dataset_id.data(), dataset_id.size());
    const XXH128_hash_t h = XXH3_128bits_withSeed(key_text.data(), key_text.size(), seed);
    return dedup_key{h.low64, h.high64};
}

dedup_window::dedup_window(dedup_window_options options) : _options(options) {
    _options.max_entries = std::max<size_t>(1, _options.max_entries);
}

// ---- the table --------------------------------------------------------------------------

dedup_window::slot* dedup_window::find(const dedup_key& key) {
    if (_slots.empty()) {
        return nullptr;
    }
    // Never full (grown past 7/10), so the probe always meets an empty slot.
    for (size_t i = home_slot(key, _mask);; i = (i + 1) & _mask) {
        slot& s = _slots[i];
        if (s.state == slot_state::empty) {
            return nullptr;
        }
        if (s.key == key) {
            return &s;
        }
    }
}

const dedup_window::slot* dedup_window::find(const dedup_key& key) const {
    return const_cast<dedup_window*>(this)->find(key);
}

dedup_window::slot& dedup_window::insert(const dedup_key& key) {
    if (_slots.empty() || (_size + 1) * 10 > _slots.size() * 7) {
        grow();
    }
    size_t i = home_slot(key, _mask);
    while (_slots[i].state != slot_state::empty) {
        i = (i + 1) & _mask;
    }
    _slots[i].key = key;
    ++_size;
    return _slots[i];
}

void dedup_window::grow() {
    std::vector<slot> old = std::move(_slots);
    _slots.assign(std::max(k_min_slots, old.size() * 2), slot{});
    _mask = _slots.size() - 1;
    for (const slot& s : old) {
        if (s.state == slot_state::empty) {
            continue;
        }
        size_t i = home_slot(s.key, _mask);
        while (_slots[i].state != slot_state::empty) {
            i = (i + 1) & _mask;
        }
        _slots[i] = s;
    }
}

void dedup_window::erase(slot& victim) {
    // Backward-shift deletion: the entries after the hole that may live in it move up, so
    // no tombstones build up under churn.
    size_t hole = static_cast<size_t>(&victim - _slots.data());
    for (size_t j = (hole + 1) & _mask; _slots[j].state != slot_state::empty; j = (j + 1) & _mask) {
        const size_t home = home_slot(_slots[j].key, _mask);
        // Stays when its home is cyclically within (hole, j].
        const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            _slots[hole] = _slots[j];
            hole = j;
        }
    }
    _slots[hole] = slot{};
    --_size;
}

// ---- expiry order -----------------------------------------------------------------------

void dedup_window::push_expiry(const dedup_key& key, int64_t expires_ms, int64_t period_ms) {
    if (_last_queue >= _queues.size() || _queues[_last_queue].period_ms != period_ms) {
        auto it = std::find_if(_queues.begin(), _queues.end(),
                               [&](const expiry_queue& q) { return q.period_ms == period_ms; });
        if (it == _queues.end()) {
            _queues.push_back(expiry_queue{period_ms, {}});
            it = _queues.end() - 1;
        }
        _last_queue = static_cast<size_t>(it - _queues.begin());
    }
    _queues[_last_queue].items.push_back({expires_ms, key});
    ++_queued;
    compact_expiry_queues();
}

void dedup_window::prefetch_evictions(size_t count) const {
    if (_size < _options.max_entries || _slots.empty()) {
        return;
    }
    // The oldest items are at the fronts; with one period (the usual case) these are exactly
    // the next evictions, with several a superset.
    for (const auto& q : _queues) {
        const size_t n = std::min(count, q.items.size());
        for (size_t i = 0; i < n; ++i) {
            prefetch(q.items[i].key);
        }
    }
}

bool dedup_window::is_current(const expiry_item& item) const {
    const slot* s = find(item.key);
    return s != nullptr && s->expires_ms == item.expires_ms;
}

bool dedup_window::pop_oldest(expiry_item& out) {
    for (;;) {
        expiry_queue* oldest = nullptr;
        for (auto& q : _queues) {
            if (!q.items.empty() && (oldest == nullptr || q.items.front().expires_ms <
                                                              oldest->items.front().expires_ms)) {
                oldest = &q;
            }
        }
        if (oldest == nullptr) {
            return false;
        }
        const expiry_item item = oldest->items.front();
        oldest->items.pop_front();
        --_queued;
        if (is_current(item)) {
            out = item;
            return true;
        }
    }
}

void dedup_window::compact_expiry_queues() {
    // Released and re-reserved keys leave stale items behind; dropping them when they
    // outnumber the live ones keeps the queues within 2x the entries.
    if (_queued <= 2 * _size + 1024) {
        return;
    }
    _queued = 0;
    for (auto& q : _queues) {
        std::erase_if(q.items, [this](const expiry_item& item) { return !is_current(item); });
        _queued += q.items.size();
    }
    std::erase_if(_queues, [](const expiry_queue& q) { return q.items.empty(); });
    _last_queue = 0;
}

// ---- operations -------------------------------------------------------------------------

dedup_verdict dedup_window::check_and_reserve(const dedup_key& key, int64_t now_ms,
                                              int64_t period_ms) {
    period_ms = std::max<int64_t>(0, period_ms);
    const int64_t expires_ms = now_ms + period_ms;
    if (slot* s = find(key)) {
        if (s->expires_ms > now_ms) {
            ++_stats.duplicates;
            return dedup_verdict::duplicate;
        }
        // Expired but not swept yet: the key starts a new window.
        s->expires_ms = expires_ms;
        s->state = slot_state::reserved;
        ++_stats.expired;
        ++_stats.reserved;
        push_expiry(key, expires_ms, period_ms);
        return dedup_verdict::unique;
    }
    while (_size >= _options.max_entries) {
        expiry_item oldest;
        if (!pop_oldest(oldest)) {
            break;
        }
        erase(*find(oldest.key));
        if (oldest.expires_ms <= now_ms) {
            ++_stats.expired;
        } else {
            ++_stats.evicted;
        }
    }
    slot& s = insert(key);
    s.expires_ms = expires_ms;
    s.state = slot_state::reserved;
    ++_stats.reserved;
    push_expiry(key, expires_ms, period_ms);
    return dedup_verdict::unique;
}

void dedup_window::commit(const dedup_key& key) {
    slot* s = find(key);
    if (s != nullptr && s->state == slot_state::reserved) {
        s->state = slot_state::committed;
        ++_stats.committed;
    }
}

void dedup_window::release(const dedup_key& key) {
    slot* s = find(key);
    if (s != nullptr && s->state == slot_state::reserved) {
        erase(*s);
        ++_stats.released;
    }
}

size_t dedup_window::expire(int64_t now_ms) {
    size_t dropped = 0;
    for (auto& q : _queues) {
        while (!q.items.empty() && q.items.front().expires_ms <= now_ms) {
            const expiry_item item = q.items.front();
            q.items.pop_front();
            --_queued;
            slot* s = find(item.key);
            if (s != nullptr && s->expires_ms == item.expires_ms) {
                erase(*s);
                ++dropped;
            }
        }
    }
    _stats.expired += dropped;
    return dropped;
}

result<size_t> dedup_window::save(const std::string& path, int64_t now_ms) const {
    std::vector<snapshot_record> records;
    records.reserve(_size);
    for (const slot& s : _slots) {
        if (s.state == slot_state::committed && s.expires_ms > now_ms) {
            records.push_back({s.key.low, s.key.high, s.expires_ms});
        }
    }
    snapshot_header header{};
    std::memcpy(header.magic, k_magic, sizeof k_magic);
    header.version = k_format_version;
    header.record_size = sizeof(snapshot_record);
    header.count = records.size();
    const size_t body_size = records.size() * sizeof(snapshot_record);
    const uint64_t checksum = XXH3_64bits(records.data(), body_size);

    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return make_error("dedup snapshot {}: {}", tmp, std::strerror(errno));
    }
    bool ok = write_all(fd, &header, sizeof header) && write_all(fd, records.data(), body_size) &&
              write_all(fd, &checksum, sizeof checksum) && ::fsync(fd) == 0;
    int saved_errno = errno;
    ::close(fd);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        saved_errno = ok ? errno : saved_errno;
        ::unlink(tmp.c_str());
        return make_error("dedup snapshot {}: {}", path, std::strerror(saved_errno));
    }
    return records.size();
}

result<size_t> dedup_window::load(const std::string& path, int64_t now_ms) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (errno == ENOENT) {
            return size_t{0};
        }
        return make_error("dedup snapshot {}: {}", path, std::strerror(errno));
    }
    snapshot_header header{};
    std::vector<snapshot_record> records;
    uint64_t checksum = 0;
    bool ok = std::fread(&header, sizeof header, 1, f) == 1 &&
              std::memcmp(header.magic, k_magic, sizeof k_magic) == 0 &&
              header.version == k_format_version && header.record_size == sizeof(snapshot_record) &&
              header.count < (1ULL << 32);
    if (ok) {
        records.resize(header.count);
        ok = std::fread(records.data(), sizeof(snapshot_record), records.size(), f) ==
                 records.size() &&
             std::fread(&checksum, sizeof checksum, 1, f) == 1 && std::fgetc(f) == EOF &&
             checksum == XXH3_64bits(records.data(), records.size() * sizeof(snapshot_record));
    }
    std::fclose(f);
    if (!ok) {
        return make_error("dedup snapshot {}: not a valid snapshot (damaged or another format)",
                          path);
    }
    // The snapshot does not say which period each key had: the restored keys get a queue of
    // their own, sorted by expiry, so that eviction still takes the closest to expiry first.
    std::sort(records.begin(), records.end(),
              [](const snapshot_record& a, const snapshot_record& b) {
                  return a.expires_ms < b.expires_ms;
              });
    std::vector<expiry_item> restored;
    size_t added = 0;
    for (const auto& r : records) {
        const dedup_key key{r.low, r.high};
        if (r.expires_ms <= now_ms || _size >= _options.max_entries || find(key) != nullptr) {
            continue;
        }
        slot& s = insert(key);
        s.expires_ms = r.expires_ms;
        s.state = slot_state::committed;
        restored.push_back({r.expires_ms, key});
        ++added;
    }
    if (!restored.empty()) {
        auto it = std::find_if(_queues.begin(), _queues.end(), [](const expiry_queue& q) {
            return q.period_ms == k_restored_period;
        });
        if (it == _queues.end()) {
            _queues.push_back(expiry_queue{k_restored_period, {}});
            it = _queues.end() - 1;
        }
        restored.insert(restored.end(), it->items.begin(), it->items.end());
        std::stable_sort(
            restored.begin(), restored.end(),
            [](const expiry_item& a, const expiry_item& b) { return a.expires_ms < b.expires_ms; });
        _queued += restored.size() - it->items.size();
        it->items.assign(restored.begin(), restored.end());
        compact_expiry_queues();
    }
    return added;
}

}  // namespace obsrv::pipeline
