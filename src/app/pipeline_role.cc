#include "app/pipeline_role.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unistd.h>

#include <fmt/ranges.h>

#include "common/log.h"
#include "common/thread_name.h"
#include "kafka/client.h"
#include "kafka/group_offsets.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/redis_dedup_store.h"
#include "pipeline/redis_master_store.h"

namespace obsrv::app {

namespace {

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

result<std::unique_ptr<pipeline_role>> pipeline_role::start(const settings& config,
                                                            std::string bootstrap,
                                                            dataset::registry& datasets,
                                                            kafka::topic_creator* topics,
                                                            metrics::registry& metrics) {
    static const auto logger = log::get("pipeline");
    const pipeline_settings& p = config.pipeline;
    std::unique_ptr<pipeline_role> role(new pipeline_role());
    role->_group = p.group;
    role->_options = pipeline::stage_options(p);
    role->_pipeline_metrics = std::make_unique<pipeline::pipeline_metrics>(&metrics);

    if (p.dedup.store == "redis") {
        pipeline::redis_dedup_store_options r;
        r.host = p.dedup.redis_host;
        r.port = static_cast<uint16_t>(p.dedup.redis_port);
        r.db = static_cast<int>(p.dedup.redis_db);
        r.connect_timeout = std::chrono::milliseconds(p.dedup.redis_timeout_ms);
        r.command_timeout = std::chrono::milliseconds(p.dedup.redis_timeout_ms);
        auto store = std::make_unique<pipeline::redis_dedup_store>(r);
        if (!store->ping()) {
            // Not fatal: the stage holds batches until Redis answers.
            logger->warn(
                "dedup store redis {}:{} db {} (pipeline.dedup.redis_host) does not "
                "answer yet; batches wait for it",
                r.host, r.port, r.db);
        }
        role->_dedup = std::move(store);
    } else {
        pipeline::shared_dedup_window_options w;
        w.window.max_entries = static_cast<size_t>(p.dedup.max_entries);
        auto window = std::make_unique<pipeline::shared_dedup_window>(w);
        role->_snapshot_path = p.dedup.snapshot_path;
        role->_snapshot_interval_ms = p.dedup.snapshot_interval_ms;
        if (!role->_snapshot_path.empty()) {
            auto loaded = window->load(role->_snapshot_path, wall_clock_ms());
            if (!loaded) {
                return make_error("pipeline.dedup.snapshot_path: {}", loaded.error().message);
            }
            logger->info("dedup window: {} keys restored from {}", *loaded, role->_snapshot_path);
        }
        role->_window = window.get();
        role->_dedup = std::move(window);
    }

    const auto& md = p.master_data;
    if (md.store == "redis") {
        pipeline::redis_master_store_options m;
        m.host_override = md.redis_host;
        m.port_override = md.redis_port;
        m.connect_timeout = std::chrono::milliseconds(md.redis_timeout_ms);
        m.command_timeout = std::chrono::milliseconds(md.redis_timeout_ms);
        m.cache_max_entries = static_cast<size_t>(p.denorm.cache_max_entries);
        m.cache_ttl = std::chrono::milliseconds(p.denorm.cache_ttl_ms);
        role->_master_data = std::make_unique<pipeline::redis_master_store>(std::move(m));
    } else {
        role->_master_data = std::make_unique<pipeline::memory_master_store>();
    }

    const int partitions = static_cast<int>(config.kafka.topics.partitions);
    // Platform settings (the encryption key) come with each dataset snapshot.
    role->_catalogs = std::make_unique<pipeline::catalog_source>(
        datasets, [topics, partitions, &config](const pipeline::dataset_catalog& catalog) {
            if (topics == nullptr) {
                return;
            }
            std::vector<kafka::topic_spec> specs;
            for (auto& name : catalog.router_topics()) {
                kafka::topic_spec spec;
                spec.name = name;
                spec.partitions = partitions > 0 ? partitions : 1;
                spec.replication_factor = static_cast<int>(config.kafka.topics.replication_factor);
                spec.retention_ms = config.kafka.topics.retention_ms;
                spec.max_message_bytes = config.kafka.topics.max_message_bytes;
                specs.push_back(std::move(spec));
            }
            auto results = topics->create_all(specs);
            for (size_t i = 0; i < results.size(); ++i) {
                if (!results[i]) {
                    logger->warn("router topic '{}': {}", specs[i].name,
                                 results[i].error().message);
                }
            }
        });

    pipeline::pipeline_runtime_options r;
    r.bootstrap = std::move(bootstrap);
    r.group = p.group;
    r.topics = p.entry_topics;
    r.workers = static_cast<int>(p.workers);
    r.ring_capacity = static_cast<size_t>(p.ring_capacity);
    r.commit_interval = std::chrono::milliseconds(p.commit_interval_ms);
    r.producer_high_water = static_cast<int>(p.producer_high_water);
    r.retry_backoff = std::chrono::milliseconds(p.retry_backoff_ms);
    r.drain_deadline = std::chrono::milliseconds(p.drain_timeout_ms);
    r.kafka = config.kafka;
    r.metrics = &metrics;
    pipeline_role* self = role.get();
    r.factory = [self](int) -> std::unique_ptr<pipeline::message_processor> {
        return std::make_unique<pipeline::pipeline_processor>(
            self->_options, *self->_catalogs, *self->_dedup, *self->_pipeline_metrics,
            &self->_stopping, self->_master_data.get());
    };
    // The indexer's runtime: started by update_indexer() once there are master topics.
    role->_indexer_enabled = md.indexer;
    role->_registry = &metrics;
    role->_indexer_options.failed_topic = md.failed_topic;
    role->_indexer_options.stats_topic = md.stats_topic;
    role->_indexer_options.system_events_topic = p.system_events_topic;
    pipeline::pipeline_runtime_options ir = r;
    ir.group = md.group;
    if (md.store != "redis") {
        // Every process keeps all the master data: a group of its own, read from the start.
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        ir.group = fmt::format("{}-{}-{}-{}", md.group, host, ::getpid(), wall_clock_ms());
    }
    ir.workers = static_cast<int>(md.workers);
    ir.metric_prefix = "obsrv_cache_indexer";
    ir.client_role = "cache-indexer";
    ir.thread_prefix = "cidx";
    ir.factory = [self](int) -> std::unique_ptr<pipeline::message_processor> {
        return std::make_unique<pipeline::master_data_indexer>(
            self->_indexer_options, *self->_catalogs, *self->_master_data, *self->_pipeline_metrics,
            self->_registry, &self->_stopping);
    };
    role->_indexer_runtime_options = std::move(ir);
    // After the catalog source's own callback (registered first): the new catalog is current.
    datasets.on_change([self](const dataset::snapshot&) { self->update_indexer(); });

    role->update_indexer();
    if (md.store != "redis") {
        // The memory store starts empty: entry messages taken before the indexer has read the
        // master topics would miss records that are there (ERR_DENORM_1016).
        role->wait_for_master_data(config, r.bootstrap);
    }
    auto runtime = pipeline::pipeline_runtime::start(std::move(r));
    if (!runtime) {
        return make_error("pipeline: {}", runtime.error().message);
    }
    role->_runtime = std::move(runtime).value();
    if (role->_window != nullptr && !role->_snapshot_path.empty()) {
        role->_snapshotter = std::thread([self] { self->snapshot_loop(); });
    }
    logger->info("pipeline: consuming [{}] as group '{}', dedup store {}, master data store {}",
                 fmt::join(p.entry_topics, ", "), p.group, p.dedup.store, md.store);
    return role;
}

void pipeline_role::wait_for_master_data(const settings& config, const std::string& bootstrap) {
    static const auto logger = log::get("pipeline");
    const auto timeout = std::chrono::milliseconds(config.pipeline.master_data.load_timeout_ms);
    std::vector<std::string> topics;
    std::string group;
    {
        std::lock_guard lock(_indexer_mutex);
        if (!_indexer || timeout.count() == 0) {
            return;
        }
        topics = _indexer->options().topics;
        group = _indexer->options().group;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + timeout;
    const auto request_timeout = std::min(timeout, std::chrono::milliseconds(5000));
    // Reads the indexer group's commits only: it does not join the group.
    auto client = kafka::make_client(kafka::consumer_options(
        config.kafka, bootstrap, "cache-indexer-wait", group, {{"enable.auto.commit", "false"}}));
    auto ends = client ? kafka::topic_ends(client->get(), topics, request_timeout)
                       : result<std::vector<kafka::partition_end>>(client.error());
    if (!ends) {
        logger->warn(
            "cache indexer: cannot read the end of [{}] ({}); the pipeline starts "
            "without waiting for the master data",
            fmt::join(topics, ", "), ends.error().message);
        return;
    }
    if (ends->empty()) {
        return;  // the master topics hold nothing yet
    }
    size_t behind = ends->size();
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto b = kafka::partitions_behind(client->get(), *ends, request_timeout)) {
            behind = *b;
        }
        if (behind == 0) {
            logger->info("cache indexer: master data of [{}] loaded in {} ms",
                         fmt::join(topics, ", "),
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    logger->warn(
        "cache indexer: {} of {} partitions of [{}] not loaded within {} ms "
        "(pipeline.master_data.load_timeout_ms); the pipeline starts anyway and events whose "
        "records are not loaded yet fail denorm with ERR_DENORM_1016",
        behind, ends->size(), fmt::join(topics, ", "), timeout.count());
}

void pipeline_role::update_indexer() {
    static const auto logger = log::get("pipeline");
    if (!_indexer_enabled || _stopping.load()) {
        return;
    }
    std::vector<std::string> topics = _catalogs->current()->master_topics();
    std::lock_guard lock(_indexer_mutex);
    if (_stopping.load()) {
        return;  // stop() ran meanwhile: start nothing new
    }
    if (_indexer) {
        _indexer->subscribe(std::move(topics));  // the runtime ignores an unchanged list
        return;
    }
    if (topics.empty()) {
        return;  // no master dataset yet
    }
    pipeline::pipeline_runtime_options options = _indexer_runtime_options;
    options.topics = topics;
    auto indexer = pipeline::pipeline_runtime::start(std::move(options));
    if (!indexer) {
        logger->error("cache indexer: {} (master data is not indexed)", indexer.error().message);
        return;
    }
    _indexer = std::move(indexer).value();
    logger->info("cache indexer: consuming [{}] as group '{}'", fmt::join(topics, ", "),
                 _indexer->options().group);
}

std::string pipeline_role::indexer_group() const {
    std::lock_guard lock(_indexer_mutex);
    return _indexer ? _indexer->options().group : std::string();
}

pipeline_role::~pipeline_role() {
    stop();
}

void pipeline_role::stop() {
    _stopping.store(true);
    if (_runtime) {
        _runtime->stop();
        _runtime.reset();
    }
    {
        std::lock_guard lock(_indexer_mutex);
        if (_indexer) {
            _indexer->stop();
            _indexer.reset();
        }
    }
    {
        std::lock_guard lock(_mutex);
        _wake.notify_all();
    }
    if (_snapshotter.joinable()) {
        _snapshotter.join();
    }
    save_snapshot();
    _snapshot_path.clear();  // saved once
}

void pipeline_role::snapshot_loop() {
    set_thread_name("dedup-snap");
    std::unique_lock lock(_mutex);
    while (!_stopping.load()) {
        _wake.wait_for(lock, std::chrono::milliseconds(_snapshot_interval_ms));
        if (_stopping.load()) {
            break;
        }
        lock.unlock();
        save_snapshot();
        lock.lock();
    }
}

void pipeline_role::save_snapshot() {
    if (_window == nullptr || _snapshot_path.empty()) {
        return;
    }
    auto saved = _window->save(_snapshot_path, wall_clock_ms());
    if (!saved) {
        log::get("pipeline")->error("dedup snapshot {}: {}", _snapshot_path, saved.error().message);
    }
}

}  // namespace obsrv::app
