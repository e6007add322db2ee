#pragma once

// Where the dataset registry reads datasets from: a directory of dataset JSON files
// (directory_source) or Obsrv's PostgreSQL tables (postgres_source). A source only reads and
// tells when to read again; the registry parses, keeps the previous version of a broken entry,
// publishes snapshots and counts (registry.h).
//
// Threads: read() is called by the registry with its reload mutex held, so a source never runs
// two reads at once; start_watching()/stop() come from the registry's lifecycle calls. The
// watcher thread a source starts calls `changed`, which reloads on that thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataset/system_settings.h"

namespace obsrv::dataset {

/// One dataset as a source holds it: a file, or a row of `datasets` with its transformations.
struct source_entry {
    /// Stable identity within the source (file name, `datasets.id`); entries come sorted by it,
    /// which is the precedence order for conflicts.
    std::string key;
    /// Starts every message about the entry (file path, "datasets row 'x'").
    std::string origin;
    /// Equal fingerprints mean equal content: an entry whose fingerprint did not change since
    /// the last read is not parsed again.
    std::string fingerprint;
    /// The dataset JSON document handed to parse_dataset().
    std::string document;
    /// Why there is no document (unreadable file); parse errors are the registry's.
    std::optional<std::string> error;
};

/// A system setting that could not be used (wrong valuetype, unparsable value); the setting
/// keeps its previous value.
struct setting_error {
    std::string origin;   // "system_settings 'maxEventSize'"
    std::string message;  // starts with the origin
};

/// Everything a source holds at one moment.
struct source_listing {
    std::vector<source_entry> entries;
    system_settings system;
    std::vector<setting_error> setting_errors;
};

class source {
  public:
    virtual ~source() = default;

    /// For log lines: "config/datasets", "postgres obsrv@127.0.0.1:5432/obsrv".
    virtual std::string describe() const = 0;
    /// What one entry is called in log lines: "file", "row".
    virtual std::string_view entry_noun() const = 0;
    /// The configuration key a failure of the whole source names ("datasets.dir").
    virtual std::string_view config_key() const = 0;

    /// Reads every entry. An error means the source as a whole could not be read (directory
    /// missing, database unreachable): the registry keeps its current snapshot.
    virtual result<source_listing> read() = 0;

    /// Starts a thread that calls `changed` whenever the content may have changed (inotify,
    /// polling, notifications). Idempotent; fails when the mechanism cannot be set up.
    virtual status start_watching(std::function<void()> changed) = 0;
    /// Stops and joins that thread promptly. Idempotent.
    virtual void stop() = 0;
};

}  // namespace obsrv::dataset
