#include "pipeline/dedup_window.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <unistd.h>

#include <xxhash.h>

namespace obsrv::pipeline {
namespace {

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

void dedup_window::push_expiry(const dedup_key& key, int64_t expires_ms) {
    _heap.push_back({expires_ms, key});
    std::push_heap(_heap.begin(), _heap.end(), std::greater<>());
    compact_expiry_heap();
}

bool dedup_window::pop_current(expiry_item& out) {
    while (!_heap.empty()) {
        std::pop_heap(_heap.begin(), _heap.end(), std::greater<>());
        expiry_item item = _heap.back();
        _heap.pop_back();
        auto it = _entries.find(item.key);
        if (it != _entries.end() && it->second.expires_ms == item.expires_ms) {
            out = item;
            return true;
        }
    }
    return false;
}

void dedup_window::compact_expiry_heap() {
    // Released and re-reserved keys leave stale items behind; rebuilding when
    // they outnumber the live ones keeps the heap within 2x the entries.
    if (_heap.size() <= 2 * _entries.size() + 1024) {
        return;
    }
    _heap.clear();
    _heap.reserve(_entries.size());
    for (const auto& [key, e] : _entries) {
        _heap.push_back({e.expires_ms, key});
    }
    std::make_heap(_heap.begin(), _heap.end(), std::greater<>());
}

dedup_verdict dedup_window::check_and_reserve(const dedup_key& key, int64_t now_ms,
                                              int64_t period_ms) {
    const int64_t expires_ms = now_ms + std::max<int64_t>(0, period_ms);
    auto it = _entries.find(key);
    if (it != _entries.end()) {
        if (it->second.expires_ms > now_ms) {
            ++_stats.duplicates;
            return dedup_verdict::duplicate;
        }
        // Expired but not swept yet: the key starts a new window.
        it->second = entry{expires_ms, false};
        ++_stats.expired;
        ++_stats.reserved;
        push_expiry(key, expires_ms);
        return dedup_verdict::unique;
    }
    while (_entries.size() >= _options.max_entries) {
        expiry_item oldest;
        if (!pop_current(oldest)) {
            break;
        }
        _entries.erase(oldest.key);
        if (oldest.expires_ms <= now_ms) {
            ++_stats.expired;
        } else {
            ++_stats.evicted;
        }
    }
    _entries.emplace(key, entry{expires_ms, false});
    ++_stats.reserved;
    push_expiry(key, expires_ms);
    return dedup_verdict::unique;
}

void dedup_window::commit(const dedup_key& key) {
    auto it = _entries.find(key);
    if (it != _entries.end() && !it->second.committed) {
        it->second.committed = true;
        ++_stats.committed;
    }
}

void dedup_window::release(const dedup_key& key) {
    auto it = _entries.find(key);
    if (it != _entries.end() && !it->second.committed) {
        _entries.erase(it);
        ++_stats.released;
    }
}

size_t dedup_window::expire(int64_t now_ms) {
    size_t dropped = 0;
    while (!_heap.empty() && _heap.front().expires_ms <= now_ms) {
        expiry_item item;
        if (!pop_current(item)) {
            break;
        }
        if (item.expires_ms > now_ms) {
            push_expiry(item.key, item.expires_ms);  // a live entry behind stale items
            break;
        }
        _entries.erase(item.key);
        ++dropped;
    }
    _stats.expired += dropped;
    return dropped;
}

result<size_t> dedup_window::save(const std::string& path, int64_t now_ms) const {
    std::vector<snapshot_record> records;
    records.reserve(_entries.size());
    for (const auto& [key, e] : _entries) {
        if (e.committed && e.expires_ms > now_ms) {
            records.push_back({key.low, key.high, e.expires_ms});
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
    size_t added = 0;
    for (const auto& r : records) {
        if (r.expires_ms <= now_ms || _entries.size() >= _options.max_entries) {
            continue;
        }
        dedup_key key{r.low, r.high};
        auto [it, inserted] = _entries.try_emplace(key, entry{r.expires_ms, true});
        if (inserted) {
            push_expiry(key, r.expires_ms);
            ++added;
        }
    }
    return added;
}

}  // namespace obsrv::pipeline
