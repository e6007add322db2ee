#include "pipeline/pipeline_runtime.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/ranges.h>
#include <librdkafka/rdkafka.h>

#include "common/log.h"
#include "common/thread_name.h"
#include "kafka/client.h"
#include "pipeline/pipeline_worker.h"
#include "pipeline/runtime_shared.h"

namespace obsrv::pipeline {
namespace detail {

runtime_probe::runtime_probe(metrics::registry& r, int workers, std::string metric_prefix)
    : registry(r),
      prefix(std::move(metric_prefix)),
      consumed_messages(r.add_counter(prefix + "_consumed_messages_total",
                                      "Messages consumed from the entry topics")),
      consumed_bytes(r.add_counter(prefix + "_consumed_bytes_total",
                                   "Payload bytes consumed from the entry topics")),
      delivery_errors(r.add_counter(
          prefix + "_delivery_errors_total",
          "Output messages whose delivery failed (retried unless the error is permanent)")),
      delivery_retries(r.add_counter(prefix + "_delivery_retries_total",
                                     "Output messages produced again after a failed delivery")),
      undeliverable_outputs(r.add_counter(
          prefix + "_undeliverable_outputs_total",
          "Output messages refused for good (too large, topic unknown or not authorised): not "
          "retried; the stage chain writes a failed message in place of a dataset-topic one")),
      committed_offsets(r.add_counter(
          prefix + "_committed_offsets_total",
          "Entry-topic messages covered by offsets the group coordinator acknowledged")),
      commit_errors(
          r.add_counter(prefix + "_commit_errors_total", "Partition offset commits that failed")),
      abandoned_inputs(
          r.add_counter(prefix + "_abandoned_inputs_total",
                        "Inputs given up at shutdown or revoke before all outputs were delivered")),
      rebalances(r.add_counter(prefix + "_rebalances_total",
                               "Partition assignments and revocations served")),
      inflight_inputs(r.add_gauge(prefix + "_inflight_inputs",
                                  "Inputs processed whose outputs are not all delivered yet")),
      paused_partitions(r.add_gauge(prefix + "_paused_partitions",
                                    "Partitions paused because their worker is backed up")),
      assigned_partitions(
          r.add_gauge(prefix + "_assigned_partitions", "Entry-topic partitions assigned")) {
    for (int w = 0; w < workers; ++w) {
        ring_depth.push_back(&r.add_gauge(prefix + "_worker_ring_depth",
                                          "Messages queued for a pipeline worker",
                                          {{"worker", std::to_string(w)}}));
    }
}

metrics::counter& runtime_probe::produced(std::string_view topic) {
    return registry.add_counter(prefix + "_produced_messages_total",
                                "Output messages delivered, by topic",
                                {{"topic", std::string(topic)}});
}

/// Consumer lag per assigned partition, refreshed by the consumer thread and read at scrape
/// time. Shared with the registry's callback, which may outlive the runtime.
struct lag_table {
    std::mutex mutex;
    std::vector<metrics::sample> samples;
};

/// One offset commit in flight: the slots it covers, matched in the result by topic and
/// partition. Slots are freed only while no commit is in flight, so these stay valid.
struct commit_request {
    class pipeline_runtime::impl* owner = nullptr;
    std::vector<partition_slot*> slots;
};

}  // namespace detail

using detail::partition_slot;
using detail::work_item;
using steady = std::chrono::steady_clock;

namespace {

constexpr int k_poll_batch = 256;
constexpr auto k_poll_idle = std::chrono::milliseconds(100);
constexpr auto k_poll_backpressure = std::chrono::milliseconds(10);
constexpr auto k_tick_interval = std::chrono::milliseconds(100);

struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* list) const noexcept {
        rd_kafka_topic_partition_list_destroy(list);
    }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

std::shared_ptr<spdlog::logger> logger() {
    static const auto l = log::get("pipeline");
    return l;
}

}  // namespace

/// The consumer side (thread pipe-consumer) and the owner of everything else.
///
/// Lifecycle: built by start(); run() on its thread until stop(); the destructor runs after
/// the consumer and worker threads were joined. Everything below `// consumer thread` is
/// touched only by that thread (the rebalance and commit callbacks run on it too, inside the
/// librdkafka calls it makes).
class pipeline_runtime::impl {
  public:
    explicit impl(pipeline_runtime_options options) : _options(std::move(options)) {}

    ~impl() {
        for (auto& outbox : _outbox) {
            for (auto& item : outbox) {
                if (item.what == work_item::kind::message) {
                    rd_kafka_message_destroy(item.message);
                }
            }
        }
        if (_commit_queue) {
            rd_kafka_queue_destroy(_commit_queue);
        }
        _consumer.reset();
        _workers.clear();
    }

    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    status open() {
        if (_options.bootstrap.empty()) {
            return make_error("pipeline: no Kafka bootstrap servers");
        }
        if (_options.topics.empty()) {
            return make_error("pipeline: no entry topics to consume");
        }
        if (!_options.factory) {
            return make_error("pipeline: no processor factory");
        }
        if (_options.group.empty()) {
            return make_error("pipeline: empty consumer group id");
        }
        if (_options.workers <= 0) {
            _options.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        }
        if (_options.ring_capacity < 2 || _options.max_inflight_inputs < 1 ||
            _options.producer_high_water < 2) {
            return make_error(
                "pipeline: ring_capacity and producer_high_water must be at least 2, "
                "max_inflight_inputs at least 1");
        }
        if (!_options.metrics) {
            _own_registry = std::make_unique<metrics::registry>();
            _options.metrics = _own_registry.get();
        }
        _probe = std::make_unique<detail::runtime_probe>(*_options.metrics, _options.workers,
                                                         _options.metric_prefix);
        _lag = std::make_shared<detail::lag_table>();
        _options.metrics->add_dynamic_family(
            _options.metric_prefix + "_consumer_lag_messages",
            "Messages behind the high watermark from the committed offset, per assigned "
            "partition",
            metrics::metric_type::gauge, [lag = _lag] {
                std::lock_guard lock(lag->mutex);
                return lag->samples;
            });

        for (int w = 0; w < _options.workers; ++w) {
            auto processor = _options.factory(w);
            if (!processor) {
                return make_error("pipeline: the processor factory returned nothing for worker {}",
                                  w);
            }
            detail::worker_config config;
            config.index = w;
            config.ring_capacity = _options.ring_capacity;
            config.max_inflight_inputs = _options.max_inflight_inputs;
            config.producer_high_water = _options.producer_high_water;
            config.retry_backoff = _options.retry_backoff;
            config.tick_interval = k_tick_interval;
            config.thread_prefix = _options.thread_prefix;
            auto producer = kafka::producer_options(_options.kafka, _options.bootstrap,
                                                    fmt::format("{}-{}", _options.client_role, w));
            auto worker = detail::pipeline_worker::create(config, std::move(producer),
                                                          std::move(processor), *_probe);
            if (!worker) {
                return worker.error();
            }
            _workers.push_back(std::move(*worker));
        }
        _outbox.resize(_workers.size());
        _paused.resize(_workers.size());
        _notify.assign(_workers.size(), false);

        client_properties overrides;
        overrides["enable.auto.commit"] = "false";
        overrides["enable.auto.offset.store"] = "false";
        overrides["auto.offset.reset"] = "earliest";
        overrides["enable.partition.eof"] = "false";
        // The rebalance callback finishes and commits a partition before giving it up, which
        // is the eager protocol's contract (cooperative assignors need incremental calls).
        overrides["partition.assignment.strategy"] = "range,roundrobin";
        overrides["queued.max.messages.kbytes"] = std::to_string(_options.fetch_queue_kbytes);
        auto consumer_options = kafka::consumer_options(
            _options.kafka, _options.bootstrap, _options.client_role, _options.group, overrides);
        consumer_options.rebalance = &impl::on_rebalance;
        consumer_options.opaque = this;
        auto consumer = kafka::make_client(consumer_options);
        if (!consumer) {
            return consumer.error();
        }
        _consumer = std::move(*consumer);
        rd_kafka_t* rk = _consumer.get();
        // Rebalances, errors and logs are served by rd_kafka_consumer_poll().
        rd_kafka_poll_set_consumer(rk);
        _commit_queue = rd_kafka_queue_new(rk);

        partition_list_ptr subscription(
            rd_kafka_topic_partition_list_new(static_cast<int>(_options.topics.size())));
        for (const auto& topic : _options.topics) {
            rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(),
                                              RD_KAFKA_PARTITION_UA);
            _tables.push_back(topic_table{topic, {}});
        }
        if (auto err = rd_kafka_subscribe(rk, subscription.get())) {
            return make_error("pipeline: cannot subscribe to {}: {}",
                              fmt::join(_options.topics, ","), rd_kafka_err2str(err));
        }
        _subscribed = _options.topics;
        for (auto& worker : _workers) {
            worker->start();
        }
        _thread = std::thread([this] { run(); });
        return {};
    }

    void stop() {
        _stop.store(true, std::memory_order_release);
        if (_consumer) {
            rd_kafka_yield(_consumer.get());
        }
        if (_thread.joinable()) {
            _thread.join();
        }
        for (auto& worker : _workers) {
            // Only when start failed half-way: the consumer thread drains them otherwise.
            if (!worker->done()) {
                worker->drain(steady::now());
            }
            worker->join();
        }
    }

    const pipeline_runtime_options& options() const { return _options; }

    void request_subscription(std::vector<std::string> topics) {
        std::lock_guard lock(_subscription_mutex);
        _pending_topics = std::move(topics);
        _subscription_changed.store(true, std::memory_order_release);
    }

  private:
    struct topic_table {
        std::string name;
        std::vector<partition_slot*> by_partition;  // active slots
    };

    // ---- consumer thread ----------------------------------------------------------------

    void run() {
        set_thread_name(_options.thread_prefix + "-consumer");
        rd_kafka_t* rk = _consumer.get();
        auto next_commit = steady::now() + _options.commit_interval;
        while (!_stop.load(std::memory_order_acquire)) {
            if (_subscription_changed.exchange(false, std::memory_order_acq_rel)) {
                apply_subscription();
            }
            flush_outboxes();
            resume_drained();
            const bool backed_up = _paused_count > 0 || _outbox_count > 0;
            const auto timeout = backed_up ? k_poll_backpressure : k_poll_idle;
            // One wait, then whatever is ready: a batch per wake-up, one notify per worker.
            rd_kafka_message_t* message =
                rd_kafka_consumer_poll(rk, static_cast<int>(timeout.count()));
            for (int n = 1; message; ++n) {
                dispatch(message);
                message = n < k_poll_batch && !stopping() ? rd_kafka_consumer_poll(rk, 0) : nullptr;
            }
            notify_workers();
            rd_kafka_queue_poll_callback(_commit_queue, 0);
            const auto now = steady::now();
            if (now >= next_commit) {
                if (_commits_in_flight == 0) {
                    commit(active_slots(), false);
                }
                collect_retired();
                update_lag();
                next_commit = now + _options.commit_interval;
            }
            update_gauges();
        }
        drain_and_close();
    }

    bool stopping() const { return _stop.load(std::memory_order_relaxed); }

    /// The new topic list: librdkafka rebalances, and the rebalance callback revokes (finishes
    /// and commits) the partitions of the topics left.
    void apply_subscription() {
        std::vector<std::string> topics;
        {
            std::lock_guard lock(_subscription_mutex);
            topics = _pending_topics;
        }
        if (topics == _subscribed) {
            return;
        }
        partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
        for (const auto& topic : topics) {
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
        }
        if (auto err = topics.empty() ? rd_kafka_unsubscribe(_consumer.get())
                                      : rd_kafka_subscribe(_consumer.get(), list.get())) {
            logger()->error("{}: cannot subscribe to {}: {}", _options.client_role,
                            fmt::join(topics, ","), rd_kafka_err2str(err));
            return;
        }
        logger()->info("{}: consuming [{}] (was [{}])", _options.client_role,
                       fmt::join(topics, ", "), fmt::join(_subscribed, ", "));
        _subscribed = std::move(topics);
    }

    void dispatch(rd_kafka_message_t* message) {
        if (message->err) {
            if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                logger()->warn("pipeline consumer: {}", rd_kafka_message_errstr(message));
            }
            rd_kafka_message_destroy(message);
            return;
        }
        partition_slot* slot = find_slot(rd_kafka_topic_name(message->rkt), message->partition);
        // Stale: a partition revoked meanwhile, or a message at or before one already handed
        // over (a re-fetch after pause/resume).
        if (!slot || message->offset <= slot->last_dispatched) {
            rd_kafka_message_destroy(message);
            return;
        }
        if (slot->base < 0) {
            slot->base = message->offset;
            slot->acked = message->offset;  // the position we resumed from was committed
            check_delivered_range(*slot);
        }
        slot->last_dispatched = message->offset;
        if (message->offset < slot->delivered_to) {
            rd_kafka_message_destroy(message);  // delivered before the rebalance, see above
            return;
        }
        _probe->consumed_messages.inc();
        _probe->consumed_bytes.inc(message->len);
        enqueue(slot->worker, work_item{work_item::kind::message, slot, message});
    }

    /// The first message of an assignment tells where the group's committed position is. If it
    /// lies inside the range this runtime delivered in its previous assignment of the partition
    /// (whose commit was refused), that range's rest is not processed again; anywhere else,
    /// someone committed past it, or the position moved back (then everything is processed
    /// again: only offsets delivered here are ever skipped).
    void check_delivered_range(partition_slot& slot) {
        if (slot.delivered_to < 0) {
            return;
        }
        if (slot.base < slot.delivered_from || slot.base >= slot.delivered_to) {
            slot.delivered_from = slot.delivered_to = -1;
            return;
        }
        logger()->info(
            "pipeline: {}[{}]: offsets {}..{} were delivered here before the rebalance, but the "
            "coordinator refused their commit; skipping them and committing {}",
            slot.topic, slot.partition, slot.base, slot.delivered_to - 1, slot.delivered_to);
    }

    /// Keeps each worker's items in order: once one did not fit, later ones wait behind it in
    /// the outbox, and their partitions are paused so that librdkafka stops fetching them.
    void enqueue(int worker, const work_item& item) {
        auto& outbox = _outbox[static_cast<size_t>(worker)];
        if (outbox.empty() && push(worker, item)) {
            return;
        }
        outbox.push_back(item);
        ++_outbox_count;
        if (item.what == work_item::kind::message && !item.slot->paused) {
            pause(*item.slot);
        }
    }

    bool push(int worker, const work_item& item) {
        if (!_workers[static_cast<size_t>(worker)]->try_push(item)) {
            return false;
        }
        if (item.what == work_item::kind::message) {
            ++item.slot->dispatched;
        }
        _notify[static_cast<size_t>(worker)] = true;
        return true;
    }

    void flush_outboxes() {
        for (size_t w = 0; w < _outbox.size(); ++w) {
            auto& outbox = _outbox[w];
            while (!outbox.empty() && push(static_cast<int>(w), outbox.front())) {
                outbox.pop_front();
                --_outbox_count;
            }
        }
        notify_workers();
    }

    void notify_workers() {
        for (size_t w = 0; w < _notify.size(); ++w) {
            if (_notify[w]) {
                _notify[w] = false;
                _workers[w]->notify();
            }
        }
    }

    void pause(partition_slot& slot) {
        partition_list_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), slot.topic.c_str(), slot.partition);
        if (auto err = rd_kafka_pause_partitions(_consumer.get(), list.get())) {
            logger()->warn("pipeline: cannot pause {}[{}]: {}", slot.topic, slot.partition,
                           rd_kafka_err2str(err));
        }
        slot.paused = true;
        _paused[static_cast<size_t>(slot.worker)].push_back(&slot);
        ++_paused_count;
        _probe->paused_partitions.set(static_cast<double>(_paused_count));
    }

    /// Resumes a worker's partitions once its outbox is empty and its ring below half: the gap
    /// to a full ring absorbs what librdkafka has fetched meanwhile.
    void resume_drained() {
        for (size_t w = 0; w < _paused.size(); ++w) {
            auto& paused = _paused[w];
            if (paused.empty() || !_outbox[w].empty() ||
                _workers[w]->ring_depth() > _workers[w]->ring_capacity() / 2) {
                continue;
            }
            partition_list_ptr list(
                rd_kafka_topic_partition_list_new(static_cast<int>(paused.size())));
            for (auto* slot : paused) {
                rd_kafka_topic_partition_list_add(list.get(), slot->topic.c_str(), slot->partition);
                slot->paused = false;
            }
            if (auto err = rd_kafka_resume_partitions(_consumer.get(), list.get())) {
                logger()->warn("pipeline: cannot resume partitions: {}", rd_kafka_err2str(err));
            }
            _paused_count -= paused.size();
            paused.clear();
        }
        _probe->paused_partitions.set(static_cast<double>(_paused_count));
    }

    partition_slot* find_slot(const char* topic, int32_t partition) {
        for (auto& table : _tables) {
            if (table.name == topic) {
                const auto index = static_cast<size_t>(partition);
                return index < table.by_partition.size() ? table.by_partition[index] : nullptr;
            }
        }
        return nullptr;
    }

    std::vector<partition_slot*> active_slots() const {
        std::vector<partition_slot*> slots;
        for (const auto& table : _tables) {
            for (auto* slot : table.by_partition) {
                if (slot) {
                    slots.push_back(slot);
                }
            }
        }
        return slots;
    }

    // ---- commits ------------------------------------------------------------------------

    /// Commits the low-water mark of every slot that moved since its last acknowledged
    /// commit. With `wait`, serves the result until commit_timeout.
    void commit(const std::vector<partition_slot*>& slots, bool wait) {
        auto request = std::make_unique<detail::commit_request>();
        request->owner = this;
        partition_list_ptr offsets(
            rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(1, slots.size()))));
        for (auto* slot : slots) {
            const int64_t committable = offset_to_commit(*slot);
            if (committable > slot->acked) {
                rd_kafka_topic_partition_list_add(offsets.get(), slot->topic.c_str(),
                                                  slot->partition)
                    ->offset = committable;
                request->slots.push_back(slot);
            }
        }
        if (request->slots.empty()) {
            return;
        }
        if (auto err = rd_kafka_commit_queue(_consumer.get(), offsets.get(), _commit_queue,
                                             &impl::on_commit, request.get())) {
            _probe->commit_errors.inc(request->slots.size());
            logger()->warn("pipeline: cannot commit offsets: {}", rd_kafka_err2str(err));
            return;
        }
        _commit_requests.push_back(std::move(request));
        ++_commits_in_flight;
        if (wait) {
            const auto deadline = steady::now() + _options.commit_timeout;
            while (_commits_in_flight > 0 && steady::now() < deadline) {
                rd_kafka_queue_poll_callback(_commit_queue, 20);
            }
            if (_commits_in_flight > 0) {
                logger()->warn("pipeline: offset commit not acknowledged within {} ms",
                               _options.commit_timeout.count());
            }
        }
    }

    /// The worker's low-water mark, or the end of the range delivered in the previous
    /// assignment while the worker has not gone past it (once the first message confirmed it).
    static int64_t offset_to_commit(const partition_slot& slot) {
        const int64_t committable = slot.committable.load(std::memory_order_acquire);
        return slot.base >= 0 ? std::max(committable, slot.delivered_to) : committable;
    }

    static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* offsets, void* opaque) {
        auto* request = static_cast<detail::commit_request*>(opaque);
        impl& self = *request->owner;
        self.committed(err, offsets, *request);
        std::erase_if(self._commit_requests,
                      [request](const auto& r) { return r.get() == request; });
    }

    void committed(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                   const detail::commit_request& request) {
        --_commits_in_flight;
        if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
            return;
        }
        int failed = 0;
        rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int i = 0; offsets && i < offsets->cnt; ++i) {
            const auto& elem = offsets->elems[i];
            auto it = std::find_if(request.slots.begin(), request.slots.end(), [&](auto* slot) {
                return slot->partition == elem.partition && slot->topic == elem.topic;
            });
            if (it == request.slots.end()) {
                continue;
            }
            partition_slot& slot = **it;
            slot.commit_error = elem.err ? elem.err : err;
            if (const rd_kafka_resp_err_t e = slot.commit_error) {
                // The next interval commits it again: `acked` did not move.
                first_error = failed++ == 0 ? e : first_error;
                continue;
            }
            if (elem.offset > slot.acked) {
                _probe->committed_offsets.inc(static_cast<uint64_t>(elem.offset - slot.acked));
                slot.acked = elem.offset;
            }
        }
        if (failed > 0) {
            _probe->commit_errors.inc(static_cast<uint64_t>(failed));
            logger()->warn("pipeline: offset commit failed for {} partition(s): {}", failed,
                           rd_kafka_err2str(first_error));
        }
    }

    /// Frees revoked slots their worker released. Only while no commit is in flight: commit
    /// requests point at slots.
    void collect_retired() {
        if (_commits_in_flight > 0) {
            return;
        }
        std::erase_if(_slots, [](const std::unique_ptr<partition_slot>& slot) {
            return slot->revoked && slot->released.load(std::memory_order_acquire);
        });
    }

    // ---- rebalance ----------------------------------------------------------------------

    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* partitions, void* opaque) {
        auto* self = static_cast<impl*>(opaque);
        self->_probe->rebalances.inc();
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            self->on_assign(partitions);
            rd_kafka_assign(rk, partitions);
        } else {
            if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
                self->on_revoke(partitions);
            } else {
                logger()->error("pipeline: rebalance failed: {}", rd_kafka_err2str(err));
                self->on_revoke(partitions);
            }
            rd_kafka_assign(rk, nullptr);
        }
        self->update_assigned();
    }

    void on_assign(rd_kafka_topic_partition_list_t* partitions) {
        for (int i = 0; i < partitions->cnt; ++i) {
            const auto& tp = partitions->elems[i];
            topic_table* table = nullptr;
            for (auto& t : _tables) {
                if (t.name == tp.topic) {
                    table = &t;
                }
            }
            if (!table) {
                table = &_tables.emplace_back(topic_table{tp.topic, {}});
            }
            const auto index = static_cast<size_t>(tp.partition);
            if (table->by_partition.size() <= index) {
                table->by_partition.resize(index + 1, nullptr);
            }
            if (table->by_partition[index]) {
                retire({table->by_partition[index]});  // assigned twice: start afresh
            }
            const int worker = tp.partition % static_cast<int>(_workers.size());
            auto& slot = _slots.emplace_back(
                std::make_unique<partition_slot>(tp.topic, tp.partition, worker));
            for (const auto& refused : _refused) {
                if (refused.partition == tp.partition && refused.topic == tp.topic) {
                    slot->delivered_from = refused.from;
                    slot->delivered_to = refused.to;
                }
            }
            table->by_partition[index] = slot.get();
        }
        // Only the assignment right after the revoke: the range must still be this runtime's
        // latest knowledge of the partition.
        _refused.clear();
        logger()->info("pipeline: assigned {} partition(s) of group '{}'", partitions->cnt,
                       _options.group);
    }

    /// Eager revoke: stop feeding the partitions, let their in-flight inputs finish (bounded),
    /// commit what completed, then hand the slots back from the workers. Inputs still not
    /// delivered are abandoned by their worker; the next owner processes them again.
    void on_revoke(rd_kafka_topic_partition_list_t* partitions) {
        std::vector<partition_slot*> revoked;
        for (int i = 0; i < partitions->cnt; ++i) {
            const auto& tp = partitions->elems[i];
            for (auto& table : _tables) {
                const auto index = static_cast<size_t>(tp.partition);
                if (table.name == tp.topic && index < table.by_partition.size() &&
                    table.by_partition[index]) {
                    revoked.push_back(table.by_partition[index]);
                    table.by_partition[index] = nullptr;
                }
            }
        }
        if (revoked.empty()) {
            return;
        }
        const bool lost = rd_kafka_assignment_lost(_consumer.get()) != 0;
        for (auto* slot : revoked) {
            slot->revoked = true;
            forget_paused(*slot);
            drop_outboxed(*slot);
        }
        if (!_workers_stopped && !lost) {
            const auto deadline = steady::now() + _options.revoke_timeout;
            while (inflight(revoked) > 0 && steady::now() < deadline) {
                rd_kafka_queue_poll_callback(_commit_queue, 5);
            }
            if (const int64_t left = inflight(revoked); left > 0) {
                logger()->warn(
                    "pipeline: {} input(s) of revoked partitions not delivered within {} ms; "
                    "they will be processed again by the partitions' next owner",
                    left, _options.revoke_timeout.count());
            }
        }
        if (!lost) {
            commit(revoked, true);
            remember_refused(revoked);
        }
        for (auto* slot : revoked) {
            slot->given_up.store(true, std::memory_order_relaxed);
        }
        retire(revoked);
        logger()->info("pipeline: revoked {} partition(s) of group '{}'{}", partitions->cnt,
                       _options.group, lost ? " (lost)" : "");
    }

    /// Keeps, for the next assignment, what revoked partitions delivered past the offset the
    /// coordinator last acknowledged when it refused the revoke's commit for a group reason
    /// rather than for the offset or the topic. librdkafka's mock broker answers
    /// REBALANCE_IN_PROGRESS to every commit from the moment another member joins until the next
    /// generation is synced (Kafka accepts the current generation's commits while it prepares a
    /// rebalance), so there everything finished meanwhile would otherwise be processed again
    /// by whichever member gets the partition, this one included. A partition assigned again
    /// before its first message confirmed the range keeps the range it was given.
    void remember_refused(const std::vector<partition_slot*>& slots) {
        for (auto* slot : slots) {
            if (slot->base < 0 && slot->delivered_to >= 0) {
                _refused.push_back(
                    {slot->topic, slot->partition, slot->delivered_from, slot->delivered_to});
                continue;
            }
            const int64_t next = offset_to_commit(*slot);
            if (slot->base >= 0 && next > slot->acked && is_group_refusal(slot->commit_error)) {
                // From where this assignment started: the group's position then.
                _refused.push_back({slot->topic, slot->partition, slot->base, next});
            }
        }
    }

    static bool is_group_refusal(rd_kafka_resp_err_t err) {
        return err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
               err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
               err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
    }

    int64_t inflight(const std::vector<partition_slot*>& slots) const {
        int64_t total = 0;
        for (auto* slot : slots) {
            total += slot->dispatched - slot->finished.load(std::memory_order_acquire);
        }
        return total;
    }

    void retire(const std::vector<partition_slot*>& slots) {
        for (auto* slot : slots) {
            slot->revoked = true;
            if (_workers_stopped) {
                continue;  // freed with the runtime
            }
            enqueue(slot->worker, work_item{work_item::kind::release, slot, nullptr});
        }
        notify_workers();
    }

    /// A revoked partition is resumed before it is unassigned: librdkafka keeps the
    /// application's pause across assignments, and a later assignment must start fetching.
    void forget_paused(partition_slot& slot) {
        if (!slot.paused) {
            return;
        }
        partition_list_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), slot.topic.c_str(), slot.partition);
        rd_kafka_resume_partitions(_consumer.get(), list.get());
        auto& paused = _paused[static_cast<size_t>(slot.worker)];
        paused.erase(std::find(paused.begin(), paused.end(), &slot));
        slot.paused = false;
        --_paused_count;
        _probe->paused_partitions.set(static_cast<double>(_paused_count));
    }

    void drop_outboxed(partition_slot& slot) {
        auto& outbox = _outbox[static_cast<size_t>(slot.worker)];
        const size_t before = outbox.size();
        std::erase_if(outbox, [&slot](const work_item& item) {
            if (item.slot != &slot || item.what != work_item::kind::message) {
                return false;
            }
            rd_kafka_message_destroy(item.message);  // never handed over, never committed
            return true;
        });
        _outbox_count -= before - outbox.size();
    }

    void update_assigned() {
        _probe->assigned_partitions.set(static_cast<double>(active_slots().size()));
    }

    // ---- metrics ------------------------------------------------------------------------

    void update_gauges() {
        int64_t inflight_inputs = 0;
        for (size_t w = 0; w < _workers.size(); ++w) {
            inflight_inputs += _workers[w]->inflight_inputs();
            _probe->ring_depth[w]->set(static_cast<double>(_workers[w]->ring_depth()));
        }
        _probe->inflight_inputs.set(static_cast<double>(inflight_inputs));
    }

    void update_lag() {
        std::vector<metrics::sample> samples;
        for (auto* slot : active_slots()) {
            int64_t low = 0;
            int64_t high = -1;
            // Cached from fetch responses: no request, no blocking.
            if (rd_kafka_get_watermark_offsets(_consumer.get(), slot->topic.c_str(),
                                               slot->partition, &low, &high) ||
                high < 0 || slot->acked < 0) {
                continue;
            }
            samples.push_back(metrics::sample{
                {{"topic", slot->topic}, {"partition", std::to_string(slot->partition)}},
                static_cast<double>(std::max<int64_t>(0, high - slot->acked))});
        }
        std::lock_guard lock(_lag->mutex);
        _lag->samples = std::move(samples);
    }

    // ---- shutdown -----------------------------------------------------------------------

    /// stop(): no more input; workers finish and deliver what they hold until drain_deadline
    /// (progress is committed meanwhile), then the final commit and leaving the group.
    void drain_and_close() {
        for (auto& outbox : _outbox) {
            for (auto& item : outbox) {
                if (item.what == work_item::kind::message) {
                    rd_kafka_message_destroy(item.message);
                }
            }
            outbox.clear();
        }
        _outbox_count = 0;
        const auto deadline = steady::now() + _options.drain_deadline;
        for (auto& worker : _workers) {
            worker->drain(deadline);
        }
        auto next_commit = steady::now() + _options.commit_interval;
        while (!std::all_of(_workers.begin(), _workers.end(),
                            [](const auto& w) { return w->done(); })) {
            rd_kafka_queue_poll_callback(_commit_queue, 10);
            if (steady::now() >= next_commit) {
                if (_commits_in_flight == 0) {
                    commit(active_slots(), false);
                }
                next_commit = steady::now() + _options.commit_interval;
            }
            update_gauges();
        }
        _workers_stopped = true;
        update_gauges();
        wait_for_commits(steady::now() + _options.commit_timeout);
        commit(active_slots(), true);
        // Leaving the group revokes the assignment through on_revoke (nothing left to wait
        // for, the commit above covered it).
        if (auto err = rd_kafka_consumer_close(_consumer.get())) {
            logger()->warn("pipeline: closing the consumer: {}", rd_kafka_err2str(err));
        }
        rd_kafka_queue_poll_callback(_commit_queue, 0);
    }

    void wait_for_commits(steady::time_point deadline) {
        while (_commits_in_flight > 0 && steady::now() < deadline) {
            rd_kafka_queue_poll_callback(_commit_queue, 20);
        }
    }

    pipeline_runtime_options _options;
    std::unique_ptr<metrics::registry> _own_registry;
    std::unique_ptr<detail::runtime_probe> _probe;
    std::shared_ptr<detail::lag_table> _lag;
    std::vector<std::unique_ptr<detail::pipeline_worker>> _workers;
    kafka::client_ptr _consumer;
    rd_kafka_queue_t* _commit_queue = nullptr;
    std::thread _thread;
    std::atomic<bool> _stop{false};

    /// Offsets [from, to) of a revoked partition delivered here whose commit was refused.
    struct refused_range {
        std::string topic;
        int32_t partition = 0;
        int64_t from = -1;
        int64_t to = -1;
    };

    // consumer thread
    std::vector<topic_table> _tables;
    std::vector<refused_range> _refused;   // from the last revoke, for the next assignment
    std::vector<std::string> _subscribed;  // consumer thread (and open())

    // Any thread → consumer thread.
    std::mutex _subscription_mutex;
    std::vector<std::string> _pending_topics;
    std::atomic<bool> _subscription_changed{false};
    std::vector<std::unique_ptr<partition_slot>> _slots;  // active and revoked-not-released
    std::vector<std::deque<work_item>> _outbox;           // per worker, see enqueue()
    std::vector<std::vector<partition_slot*>> _paused;    // per worker
    std::vector<bool> _notify;                            // per worker: pushed since notify
    size_t _outbox_count = 0;
    size_t _paused_count = 0;
    // Requests whose result was not served yet; those still here at destruction were never
    // answered (the queue is destroyed first, so no callback can come late).
    std::vector<std::unique_ptr<detail::commit_request>> _commit_requests;
    int _commits_in_flight = 0;
    bool _workers_stopped = false;
};

result<std::unique_ptr<pipeline_runtime>> pipeline_runtime::start(
    pipeline_runtime_options options) {
    auto state = std::make_unique<impl>(std::move(options));
    if (auto st = state->open(); !st) {
        state->stop();
        return st.error();
    }
    return std::unique_ptr<pipeline_runtime>(new pipeline_runtime(std::move(state)));
}

pipeline_runtime::pipeline_runtime(std::unique_ptr<impl> state) : _impl(std::move(state)) {}

pipeline_runtime::~pipeline_runtime() {
    stop();
}

void pipeline_runtime::stop() {
    _impl->stop();
}

const pipeline_runtime_options& pipeline_runtime::options() const {
    return _impl->options();
}

void pipeline_runtime::subscribe(std::vector<std::string> topics) {
    _impl->request_subscription(std::move(topics));
}

}  // namespace obsrv::pipeline
