#pragma once

// Datasets from Obsrv's PostgreSQL tables, read the way Obsrv's DatasetRegistryService and
// SystemConfig read them, and refreshed (Obsrv loads them once):
//   - every row of `datasets` is one entry (key: `id`), its columns turned into the dataset JSON
//     by the server (to_json) and its `dataset_transformations` rows (any status, as Obsrv)
//     embedded as `transformations_config`, so parse_dataset() reads rows and files alike;
//   - `system_settings` gives the platform settings (row_mapping.h);
//   - all three are read in one read-only REPEATABLE READ transaction, so a publish that writes
//     several tables is seen whole or not at all.
//
// Watching: a thread ("datasets") asks for a reload every refresh_interval; a reload that finds
// the same rows publishes nothing. With notify_channel set it also LISTENs on a second
// connection and reloads as soon as a notification arrives (operators add a trigger that
// NOTIFYs; Obsrv sends none).
//
// A database that cannot be reached fails the read (the registry keeps its snapshot); the
// connection is made again on the next read.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dataset/postgres_connection.h"
#include "dataset/source.h"

namespace obsrv::dataset {

class postgres_source final : public source {
  public:
    explicit postgres_source(postgres_options options);
    ~postgres_source() override;
    postgres_source(const postgres_source&) = delete;
    postgres_source& operator=(const postgres_source&) = delete;

    std::string describe() const override;
    std::string_view entry_noun() const override { return "row"; }
    std::string_view config_key() const override { return "datasets.postgres"; }
    result<source_listing> read() override;
    status start_watching(std::function<void()> changed) override;
    void stop() override;

  private:
    result<source_listing> read_tables();
    void watch_loop();

    const postgres_options _options;
    // Used by read() only, which the registry serialises.
    std::unique_ptr<postgres_connection> _connection;
    system_settings _system;  // as last read: what a setting that cannot be used keeps

    std::mutex _lifecycle_mutex;
    std::thread _thread;
    std::function<void()> _changed;
    int _wake_fd = -1;
};

}  // namespace obsrv::dataset
