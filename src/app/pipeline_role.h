#pragma once

// The pipeline role inside obsrvd: builds the dedup store (memory with snapshot, or Redis), the
// master-data store (memory or Redis), the dataset catalog (router topics created as datasets
// load), one stage chain per worker, and the Kafka runtime that feeds them; stops them in order
// (runtime first, so every delivered message's dedup keys are committed before the window is
// saved).
//
// The cache indexer (pipeline.master_data.indexer) is a second runtime in the role, with its
// own group, consuming the topics of the Live master datasets into the same master-data store.
// It starts once there is a master dataset, and follows reloads: when the set of master topics
// changes it resubscribes (a rebalance: the partitions of topics left are finished and
// committed first). With the memory store it starts before the pipeline's own runtime, which
// waits until the indexer has read what the master topics held (bounded by
// pipeline.master_data.load_timeout_ms).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/metrics.h"
#include "common/result.h"
#include "common/settings.h"
#include "dataset/registry.h"
#include "kafka/topic_admin.h"
#include "pipeline/dataset_catalog.h"
#include "pipeline/dedup_store.h"
#include "pipeline/master_data_indexer.h"
#include "pipeline/master_data_store.h"
#include "pipeline/pipeline_runtime.h"
#include "pipeline/shared_dedup_window.h"
#include "pipeline/stage_context.h"

namespace obsrv::app {

class pipeline_role {
  public:
    /// `topics` creates router topics (may be null: then they are left to auto-creation).
    static result<std::unique_ptr<pipeline_role>> start(const settings& config,
                                                        std::string bootstrap,
                                                        dataset::registry& datasets,
                                                        kafka::topic_creator* topics,
                                                        metrics::registry& metrics);
    ~pipeline_role();
    void stop();

    const std::string& group() const { return _group; }
    /// The cache indexer's consumer group (empty when it does not run).
    std::string indexer_group() const;

  private:
    pipeline_role() = default;
    void snapshot_loop();
    void save_snapshot();
    /// Starts the cache indexer, or changes its topics, to the current master topics.
    void update_indexer();
    /// Memory store: waits (pipeline.master_data.load_timeout_ms at most) until the indexer's
    /// group has committed the end offsets the master topics had when the wait began.
    void wait_for_master_data(const settings& config, const std::string& bootstrap);

    std::string _group;
    std::string _snapshot_path;
    int64_t _snapshot_interval_ms = 0;
    pipeline::pipeline_options _options;
    std::unique_ptr<pipeline::pipeline_metrics> _pipeline_metrics;
    std::unique_ptr<pipeline::dedup_store> _dedup;
    pipeline::shared_dedup_window* _window = nullptr;  // _dedup when the store is memory
    std::unique_ptr<pipeline::master_data_store> _master_data;
    std::unique_ptr<pipeline::catalog_source> _catalogs;
    std::atomic<bool> _stopping{false};
    std::unique_ptr<pipeline::pipeline_runtime> _runtime;

    // Cache indexer.
    bool _indexer_enabled = false;
    pipeline::master_data_indexer_options _indexer_options;
    pipeline::pipeline_runtime_options _indexer_runtime_options;  // topics set at each start
    metrics::registry* _registry = nullptr;
    mutable std::mutex _indexer_mutex;
    std::unique_ptr<pipeline::pipeline_runtime> _indexer;
    std::mutex _mutex;
    std::condition_variable _wake;
    std::thread _snapshotter;
};

}  // namespace obsrv::app
