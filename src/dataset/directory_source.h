#pragma once

// Datasets from a directory of Obsrv dataset JSON files (one dataset per file, named
// <dataset_id>.json by convention), watched with inotify.
//
// Entries are the dataset files sorted by name; a file that cannot be read is an entry with an
// error. The platform settings are fixed at construction (obsrvd's configuration).
//
// Watching: inotify on the directory, debounced: `changed` runs `debounce` after the last
// relevant event, at the latest 5 × debounce after the first, so an editor's write + rename is
// one reload. If the directory is moved or deleted, the watcher looks for it again every second.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "dataset/source.h"

namespace obsrv::dataset {

/// Whether a directory entry is a dataset file: "*.json", not hidden (".x.json", ".#x.json")
/// and not an editor's temporary or backup file ("x.json.swp", "x.json~", "#x.json#").
bool is_dataset_file_name(std::string_view name);

class directory_source final : public source {
  public:
    /// `dir` is the `datasets.dir` setting.
    explicit directory_source(std::string dir, system_settings system = {},
                              std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
    ~directory_source() override;
    directory_source(const directory_source&) = delete;
    directory_source& operator=(const directory_source&) = delete;

    std::string describe() const override { return _dir; }
    std::string_view entry_noun() const override { return "file"; }
    std::string_view config_key() const override { return "datasets.dir"; }
    result<source_listing> read() override;
    status start_watching(std::function<void()> changed) override;
    void stop() override;

    const std::string& dir() const { return _dir; }

  private:
    void watch_loop(int watch_descriptor);

    const std::string _dir;
    const system_settings _system;
    const std::chrono::milliseconds _debounce;

    std::mutex _lifecycle_mutex;
    std::thread _thread;
    std::function<void()> _changed;
    int _inotify_fd = -1;
    int _wake_fd = -1;
};

}  // namespace obsrv::dataset
