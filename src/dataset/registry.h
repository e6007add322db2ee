#pragma once

// The dataset registry: the datasets of a source (source.h) turned into immutable snapshots,
// reloaded on demand (SIGHUP) and when the source reports a change. Two sources: a directory of
// Obsrv dataset JSON files (directory_source.h: one dataset per file, inotify) and Obsrv's
// PostgreSQL tables (postgres_source.h: one dataset per `datasets` row, polled). Everything that
// uses datasets (gateway, pipeline, obsrvd) sees only this class, whatever the source.
//
// Lifecycle: construct (current() is an empty snapshot, version 0) → load() → optionally
// start_watching() → stop() (also run by the destructor). on_change() callbacks are registered
// before load() to see the first snapshot.
//
// Threads: every member may be called from any thread. Reloads (reload(), load(), the source's
// watcher thread "datasets") are serialised on an internal mutex and do their I/O and parsing
// before publishing; publishing swaps one shared_ptr under a mutex held for a pointer copy, so
// readers never wait for a reload. Hot-path readers cache the pointer and compare version(), a
// single atomic load:
//     if (reg.version() != cached->version()) cached = reg.current();
// A snapshot stays valid while referenced, so a reload never invalidates a request in flight.
//
// An entry (file or row) that fails to read or parse is reported (log, metrics, summary) and the
// dataset it held keeps its previously loaded version; a removed entry's dataset goes away. An
// entry that parses to a dataset equal to the one loaded (a file touched, a row re-published
// with the same content) changes nothing. Two datasets claiming the same dataset_id or alias:
// the one from the entry that sorts first stays, the other is left out and reported. A change
// of the platform settings (snapshot::system_config()) publishes a new snapshot too.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "dataset/directory_source.h"
#include "dataset/snapshot.h"
#include "dataset/source.h"

namespace obsrv::dataset {

/// A dataset file or row that could not be read or parsed, or a system setting that could not be
/// used.
struct file_error {
    std::string file;     // the entry's origin: path as dir + "/" + name, "datasets row 'x'"
    std::string message;  // names the file or row and the field
};

/// What one load or reload did.
struct reload_summary {
    enum class outcome {
        ok,       // every entry parsed, no conflicts
        partial,  // some entries broken or some datasets in conflict; the rest is served
        failed,   // the source could not be read (directory missing, database unreachable);
                  // the previous snapshot stays
    };
    outcome result = outcome::ok;
    bool changed = false;      // a new snapshot was published
    uint64_t version = 0;      // version of the current snapshot afterwards
    std::size_t files = 0;     // entries in the source (dataset files, `datasets` rows)
    std::size_t datasets = 0;  // datasets in the current snapshot
    /// Entries and settings failing now (kept_previous counts the entries still served from an
    /// earlier version).
    std::vector<file_error> errors;
    std::size_t kept_previous = 0;
    std::vector<snapshot::conflict> conflicts;
    std::string message;  // failed: why
};

std::string_view to_string(reload_summary::outcome value);

class registry {
  public:
    using change_callback = std::function<void(const snapshot&)>;

    /// Datasets from `source`.
    registry(std::unique_ptr<source> source, metrics::registry& metrics);
    /// Datasets from a directory (`datasets.dir`), default platform settings. `debounce`: quiet
    /// time after the last file event before the watcher reloads (an editor's write + rename is
    /// one reload); bursts are reloaded at the latest 5 × debounce after their first event.
    registry(std::string dir, metrics::registry& metrics,
             std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// Initial load. Fails (naming the source's key, e.g. `datasets.dir`) only when the source
    /// cannot be read as a whole; broken entries are logged, counted and skipped (see
    /// last_summary()).
    status load();

    /// Re-reads the source; never fails as a whole (see reload_summary::outcome).
    reload_summary reload();

    /// Summary of the latest load or reload.
    reload_summary last_summary() const;

    /// The current snapshot; never null. Costs a mutex-protected shared_ptr copy.
    std::shared_ptr<const snapshot> current() const;

    /// Version of the current snapshot (one atomic load, no lock).
    uint64_t version() const noexcept { return _version.load(std::memory_order_acquire); }

    /// Number of loads and reloads run so far (whatever their outcome).
    uint64_t reload_count() const noexcept { return _reload_count.load(std::memory_order_relaxed); }

    /// Called with each newly published snapshot, in version order, on the thread that
    /// reloaded (caller of load()/reload() or the watcher). Callbacks must not call load(),
    /// reload() or stop(); exceptions they throw are logged and ignored.
    void on_change(change_callback callback);

    /// Starts the source's watcher thread ("datasets"; inotify for a directory, polling and
    /// notifications for PostgreSQL) which reloads on change. Fails when the watch cannot be
    /// set up. Idempotent.
    status start_watching();

    /// Stops the watcher promptly (it is woken, not polled). Idempotent.
    void stop();

    /// The source, for log lines ("config/datasets", "postgres obsrv@host:5432/obsrv").
    std::string describe() const { return _source->describe(); }

  private:
    struct entry_state {
        std::string fingerprint;              // content hash, or the read error
        std::shared_ptr<const dataset> good;  // last version that parsed
        std::optional<std::string> error;     // why the current content is unusable
    };

    reload_summary reload_locked();
    void publish_locked(std::vector<snapshot::dataset_ptr> candidates, reload_summary& summary);
    void record(const reload_summary& summary);

    const std::unique_ptr<source> _source;

    // Reload state, guarded by _reload_mutex.
    mutable std::mutex _reload_mutex;
    std::map<std::string, entry_state, std::less<>> _entries;  // by source_entry::key
    // Datasets of the last publish; owning, so that a compared address is never a reused one.
    std::vector<snapshot::dataset_ptr> _published;
    system_settings _system;                     // settings of the last publish
    std::vector<std::string> _setting_errors;    // messages of the last read, to count new ones
    std::vector<snapshot::conflict> _conflicts;  // found by the last publish
    bool _loaded = false;
    std::string _failure;  // why the last read of the source failed; empty when it worked
    reload_summary _last_summary;

    // The published snapshot: the mutex only covers copying the pointer.
    mutable std::mutex _current_mutex;
    std::shared_ptr<const snapshot> _current;
    std::atomic<uint64_t> _version{0};
    std::atomic<uint64_t> _reload_count{0};

    std::mutex _callbacks_mutex;
    std::vector<change_callback> _callbacks;

    metrics::counter& _reloads_ok;
    metrics::counter& _reloads_partial;
    metrics::counter& _reloads_failed;
    metrics::counter& _file_errors;
    metrics::gauge& _loaded_gauge;
    metrics::gauge& _broken_gauge;
    metrics::gauge& _version_gauge;
};

}  // namespace obsrv::dataset
