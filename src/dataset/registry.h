#pragma once

// The dataset registry: a directory of Obsrv dataset JSON files (one dataset per file, named
// <dataset_id>.json by convention) turned into immutable snapshots, reloaded on demand (SIGHUP)
// and when the directory changes (inotify).
//
// Lifecycle: construct (current() is an empty snapshot, version 0) → load() → optionally
// start_watching() → stop() (also run by the destructor). on_change() callbacks are registered
// before load() to see the first snapshot.
//
// Threads: every member may be called from any thread. Reloads (reload(), load(), the watcher
// thread "datasets") are serialised on an internal mutex and do their file I/O and parsing
// before publishing; publishing swaps one shared_ptr under a mutex held for a pointer copy, so
// readers never wait for a reload. Hot-path readers cache the pointer and compare version(), a
// single atomic load:
//     if (reg.version() != cached->version()) cached = reg.current();
// A snapshot stays valid while referenced, so a reload never invalidates a request in flight.
//
// A file that fails to read or parse is reported (log, metrics, summary) and the datasets it
// held keep their previously loaded version; a removed file's datasets go away. Two datasets
// claiming the same dataset_id or alias: the one from the file that sorts first stays, the
// other is left out and reported.

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
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "dataset/snapshot.h"

namespace obsrv::dataset {

/// A dataset file that could not be read or parsed.
struct file_error {
    std::string file;     // path as dir + "/" + name
    std::string message;  // names the file and the field
};

/// What one load or reload did.
struct reload_summary {
    enum class outcome {
        ok,       // every file parsed, no conflicts
        partial,  // some files broken or some datasets in conflict; the rest is served
        failed,   // the directory could not be read; the previous snapshot stays
    };
    outcome result = outcome::ok;
    bool changed = false;      // a new snapshot was published
    uint64_t version = 0;      // version of the current snapshot afterwards
    std::size_t files = 0;     // dataset files in the directory
    std::size_t datasets = 0;  // datasets in the current snapshot
    /// Files failing now (kept_previous counts those still served from an earlier version).
    std::vector<file_error> errors;
    std::size_t kept_previous = 0;
    std::vector<snapshot::conflict> conflicts;
    std::string message;  // failed: why
};

std::string_view to_string(reload_summary::outcome value);

/// Whether a directory entry is a dataset file: "*.json", not hidden (".x.json", ".#x.json")
/// and not an editor's temporary or backup file ("x.json.swp", "x.json~", "#x.json#").
bool is_dataset_file_name(std::string_view name);

class registry {
  public:
    using change_callback = std::function<void(const snapshot&)>;

    /// `dir` is the `datasets.dir` setting. `debounce`: quiet time after the last file event
    /// before the watcher reloads (an editor's write + rename is one reload); bursts are
    /// reloaded at the latest 5 × debounce after their first event.
    registry(std::string dir, metrics::registry& metrics,
             std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    /// Initial load. Fails (naming `datasets.dir`) only when the directory cannot be read;
    /// broken files are logged, counted and skipped (see last_summary()).
    status load();

    /// Re-reads the directory; never fails as a whole (see reload_summary::outcome).
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

    /// Starts the watcher thread ("datasets"): inotify on the directory, debounced reloads.
    /// Fails when inotify cannot watch the directory. Idempotent.
    status start_watching();

    /// Stops the watcher promptly (it is woken, not polled). Idempotent.
    void stop();

    const std::string& dir() const { return _dir; }

  private:
    struct file_state {
        std::string fingerprint;              // content hash, or the read error
        std::shared_ptr<const dataset> good;  // last version that parsed
        std::optional<std::string> error;     // why the current content is unusable
    };

    reload_summary reload_locked();
    void publish_locked(std::vector<snapshot::dataset_ptr> candidates, reload_summary& summary);
    void record(const reload_summary& summary);
    void watch_loop(int watch_descriptor);

    const std::string _dir;
    const std::chrono::milliseconds _debounce;

    // Reload state, guarded by _reload_mutex.
    mutable std::mutex _reload_mutex;
    std::map<std::string, file_state, std::less<>> _files;  // by file name
    // Datasets of the last publish; owning, so that a compared address is never a reused one.
    std::vector<snapshot::dataset_ptr> _published;
    std::vector<snapshot::conflict> _conflicts;  // found by the last publish
    bool _loaded = false;
    reload_summary _last_summary;

    // The published snapshot: the mutex only covers copying the pointer.
    mutable std::mutex _current_mutex;
    std::shared_ptr<const snapshot> _current;
    std::atomic<uint64_t> _version{0};
    std::atomic<uint64_t> _reload_count{0};

    std::mutex _callbacks_mutex;
    std::vector<change_callback> _callbacks;

    // Watcher.
    std::mutex _lifecycle_mutex;
    std::thread _thread;
    int _inotify_fd = -1;
    int _wake_fd = -1;

    metrics::counter& _reloads_ok;
    metrics::counter& _reloads_partial;
    metrics::counter& _reloads_failed;
    metrics::counter& _file_errors;
    metrics::gauge& _loaded_gauge;
    metrics::gauge& _broken_gauge;
    metrics::gauge& _version_gauge;
};

}  // namespace obsrv::dataset
