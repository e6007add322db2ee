// obsrv-raw-pipe: the Kafka limit the pipeline role is measured against
// (tools/bench/pipeline-bench.sh). It does the pipeline's Kafka work without its processing:
// reads the entry topic as a consumer group, produces for every message as many messages of
// the same sizes to the same topics as the pipeline writes for it, with obsrvd's producer
// settings and the pipeline's producer class, and commits each partition's offset once every
// output of the messages before it was delivered.
//
// Two phases:
//   prepare  (not timed) reads the whole topic once and runs the pipeline's stage chain over
//            it (datasets from datasets.dir, options from pipeline.*) to learn, per message,
//            the topic and size of each output. Payloads are later cut from these real
//            outputs, so they compress like the pipeline's. Before that, the master datasets'
//            topics are read through the cache indexer into an in-memory master-data store, as
//            the pipeline role loads them before it consumes, so that the denorm stage finds
//            the same records (the indexer's own outputs are not reproduced: the pipeline
//            writes them before its first entry message).
//   run      (timed) joins a fresh group, consumes every message, produces its outputs,
//            commits every --commit-interval-ms; ends when all outputs are delivered and the
//            offsets committed at the end of the topic. One thread, plus librdkafka's.
//
//   obsrv-raw-pipe --brokers HOST:PORT [--config obsrvd.yaml] [--set key=value]...
//                  [--topic ingest] [--events-per-message 100] [--commit-interval-ms 1000]
//                  [--json FILE]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include "common/config.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"
#include "dataset/registry.h"
#include "kafka/client.h"
#include "kafka/worker_producer.h"
#include "pipeline/dataset_catalog.h"
#include "pipeline/master_data_indexer.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/shared_dedup_window.h"

namespace {

using steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "obsrv-raw-pipe: %s\n", message.c_str());
    std::exit(1);
}

double cpu_seconds() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

double seconds(steady::time_point a, steady::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const {
        rd_kafka_topic_partition_list_destroy(l);
    }
};
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;

/// One output of one input message: which topic, how many bytes.
struct output_shape {
    uint16_t topic = 0;
    uint32_t size = 0;
};

/// What the prepare phase learnt: per input (partition, offset) its outputs, and per output
/// topic a pool of real output bytes to cut payloads from.
struct workload {
    std::vector<std::string> topics;
    std::vector<std::string> pools;  // per topic
    std::vector<uint64_t> outputs_per_topic;
    std::vector<int64_t> high_watermarks;  // per partition
    std::map<std::pair<int32_t, int64_t>, std::vector<output_shape>> inputs;
    uint64_t outputs = 0;
    uint64_t output_bytes = 0;
    uint64_t input_bytes = 0;
};

constexpr size_t k_pool_bytes = 4 << 20;

uint16_t topic_index(workload& w, std::string_view topic) {
    for (size_t i = 0; i < w.topics.size(); ++i) {
        if (w.topics[i] == topic) {
            return static_cast<uint16_t>(i);
        }
    }
    w.topics.emplace_back(topic);
    w.pools.emplace_back();
    w.outputs_per_topic.push_back(0);
    return static_cast<uint16_t>(w.topics.size() - 1);
}

int partition_count(rd_kafka_t* rk, const std::string& topic) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err || md->topic_cnt != 1 || md->topics[0].err) {
        if (md) {
            rd_kafka_metadata_destroy(md);
        }
        die("cannot read the metadata of '" + topic + "'");
    }
    const int n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

// Reads every partition of `topic` from its low to its high watermark (as they were when the
// read began), handing each message to `on_message`; returns the high watermarks.
template <typename OnMessage>
std::vector<int64_t> read_to_end(const obsrv::settings& config, const std::string& brokers,
                                 const std::string& topic, OnMessage&& on_message) {
    obsrv::client_properties overrides{{"enable.auto.commit", "false"},
                                       {"enable.partition.eof", "true"}};
    auto consumer = obsrv::kafka::make_client(obsrv::kafka::consumer_options(
        config.kafka, brokers, "raw-pipe", "raw-pipe-prepare", overrides));
    if (!consumer) {
        die(consumer.error().message);
    }
    rd_kafka_t* rk = consumer->get();
    const int partitions = partition_count(rk, topic);
    std::vector<int64_t> high_watermarks;
    partition_list_ptr assignment(rd_kafka_topic_partition_list_new(partitions));
    int pending = 0;
    for (int p = 0; p < partitions; ++p) {
        int64_t low = 0;
        int64_t high = 0;
        if (auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10000)) {
            die("watermarks of " + topic + ": " + rd_kafka_err2str(err));
        }
        high_watermarks.push_back(high);
        if (high > low) {
            rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = low;
            ++pending;
        }
    }
    if (pending == 0) {
        return high_watermarks;
    }
    if (auto err = rd_kafka_assign(rk, assignment.get())) {
        die(std::string("assign: ") + rd_kafka_err2str(err));
    }
    std::vector<bool> done(static_cast<size_t>(partitions), false);
    const auto deadline = steady::now() + std::chrono::seconds(120);
    while (pending > 0) {
        if (steady::now() > deadline) {
            die("prepare: " + topic + " was not read to its end within 120 s");
        }
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            continue;
        }
        const auto p = static_cast<size_t>(m->partition);
        const bool at_end = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                            (!m->err && m->offset + 1 >= high_watermarks[p]);
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            die(std::string("prepare: ") + rd_kafka_message_errstr(m));
        }
        if (!m->err && m->offset < high_watermarks[p]) {
            on_message(*m);
        }
        if (at_end && !done[p]) {
            done[p] = true;
            --pending;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    return high_watermarks;
}

// The master datasets' topics through the cache indexer into `store`; returns the records
// indexed. A record the indexer refuses stops the tool: the pipeline would refuse it too, but
// a benchmark's master data should be clean.
uint64_t load_master_data(const obsrv::settings& config, const std::string& brokers,
                          const obsrv::pipeline::catalog_source& catalogs,
                          obsrv::pipeline::master_data_store& store) {
    obsrv::pipeline::master_data_indexer_options options;
    options.failed_topic = config.pipeline.master_data.failed_topic;
    options.stats_topic = config.pipeline.master_data.stats_topic;
    options.system_events_topic = config.pipeline.system_events_topic;
    obsrv::pipeline::pipeline_metrics metrics(nullptr);
    obsrv::pipeline::master_data_indexer indexer(options, catalogs, store, metrics);
    std::vector<obsrv::pipeline::output_message> out;
    uint64_t records = 0;
    for (const auto& topic : catalogs.current()->master_topics()) {
        read_to_end(config, brokers, topic, [&](const rd_kafka_message_t& m) {
            out.clear();
            const obsrv::pipeline::input_message in{
                std::string_view(static_cast<const char*>(m.payload), m.len), m.partition, m.offset,
                rd_kafka_message_timestamp(&m, nullptr), topic};
            indexer.process(in, out);
            for (const auto& o : out) {
                if (o.topic == options.failed_topic) {
                    die("master record " + topic + "/" + std::to_string(m.partition) + "/" +
                        std::to_string(m.offset) + " refused: " + o.payload.substr(0, 300));
                }
            }
            ++records;
        });
    }
    return records;
}

// Loads the master data, then reads the topic to its end and runs every message through the
// stage chain.
workload prepare(const obsrv::settings& config, const std::string& brokers,
                 const std::string& topic, uint64_t& master_records) {
    obsrv::metrics::registry metrics;
    // As obsrvd in directory mode: the configuration stands for Obsrv's system_settings table.
    obsrv::dataset::system_settings system;
    system.encryption_secret_key = config.datasets.encryption_secret_key;
    obsrv::dataset::registry datasets(
        std::make_unique<obsrv::dataset::directory_source>(config.datasets.dir, std::move(system)),
        metrics);
    if (auto st = datasets.load(); !st) {
        die(st.error().message);
    }
    obsrv::pipeline::catalog_source catalogs(datasets);
    obsrv::pipeline::memory_master_store master_data;
    master_records = load_master_data(config, brokers, catalogs, master_data);
    const auto options = obsrv::pipeline::stage_options(config.pipeline);
    obsrv::pipeline::shared_dedup_window_options window;
    window.window.max_entries = static_cast<size_t>(config.pipeline.dedup.max_entries);
    obsrv::pipeline::shared_dedup_window store(window);
    obsrv::pipeline::pipeline_metrics pipeline_metrics(nullptr);
    obsrv::pipeline::pipeline_processor processor(options, catalogs, store, pipeline_metrics,
                                                  nullptr, &master_data);

    workload w;
    std::vector<obsrv::pipeline::output_message> out;
    w.high_watermarks = read_to_end(config, brokers, topic, [&](const rd_kafka_message_t& m) {
        out.clear();
        const obsrv::pipeline::input_message in{
            std::string_view(static_cast<const char*>(m.payload), m.len), m.partition, m.offset,
            rd_kafka_message_timestamp(&m, nullptr)};
        const auto token = processor.process(in, out);
        processor.complete(token);
        auto& shapes = w.inputs[{m.partition, m.offset}];
        for (const auto& o : out) {
            const uint16_t t = topic_index(w, o.topic);
            shapes.push_back({t, static_cast<uint32_t>(o.payload.size())});
            std::string& pool = w.pools[t];
            if (pool.size() < k_pool_bytes || o.payload.size() > pool.size()) {
                pool += o.payload;
            }
            ++w.outputs_per_topic[t];
            w.output_bytes += o.payload.size();
        }
        w.outputs += out.size();
        w.input_bytes += m.len;
    });
    if (w.inputs.empty()) {
        die("topic '" + topic + "' is empty");
    }
    return w;
}

// ---- the timed run ----------------------------------------------------------------------

struct input_state {
    int32_t partition = 0;
    int64_t offset = 0;
    uint32_t outstanding = 0;
};

class raw_pipe {
  public:
    raw_pipe(const workload& w, const obsrv::settings& config, std::string brokers,
             std::string topic, std::chrono::milliseconds commit_interval)
        : _w(w),
          _config(config),
          _brokers(std::move(brokers)),
          _topic(std::move(topic)),
          _commit_interval(commit_interval),
          _pool_offsets(w.pools.size(), 0),
          _pending(w.high_watermarks.size()),
          _consumed_upto(w.high_watermarks.size(), -1),
          _acked(w.high_watermarks.size(), -1) {}

    void run() {
        auto producer = obsrv::kafka::worker_producer::create(
            obsrv::kafka::producer_options(_config.kafka, _brokers, "raw-pipe"),
            &raw_pipe::on_delivery, this);
        if (!producer) {
            die(producer.error().message);
        }
        _producer = std::move(*producer);
        for (const auto& name : _w.topics) {
            _handles.push_back(rd_kafka_topic_new(_producer->handle(), name.c_str(), nullptr));
        }

        // The pipeline runtime's consumer overrides, on a group of our own.
        obsrv::client_properties overrides{{"enable.auto.commit", "false"},
                                           {"enable.auto.offset.store", "false"},
                                           {"auto.offset.reset", "earliest"},
                                           {"enable.partition.eof", "false"},
                                           {"partition.assignment.strategy", "range,roundrobin"},
                                           {"queued.max.messages.kbytes", "16384"}};
        const std::string group = "raw-pipe-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(steady::now().time_since_epoch().count());
        auto consumer = obsrv::kafka::make_client(
            obsrv::kafka::consumer_options(_config.kafka, _brokers, "raw-pipe", group, overrides));
        if (!consumer) {
            die(consumer.error().message);
        }
        _consumer = std::move(*consumer);
        rd_kafka_t* rk = _consumer.get();
        rd_kafka_poll_set_consumer(rk);
        _commit_queue = rd_kafka_queue_new(rk);
        rd_kafka_queue_t* consumer_queue = rd_kafka_queue_get_consumer(rk);
        const int consumer_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        static const uint64_t k_one = 1;
        rd_kafka_queue_io_event_enable(consumer_queue, consumer_fd, &k_one, sizeof k_one);

        partition_list_ptr subscription(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(subscription.get(), _topic.c_str(),
                                          RD_KAFKA_PARTITION_UA);
        _started = steady::now();
        if (auto err = rd_kafka_subscribe(rk, subscription.get())) {
            die(std::string("subscribe: ") + rd_kafka_err2str(err));
        }
        auto next_commit = steady::now() + _commit_interval;
        const auto deadline = steady::now() + std::chrono::seconds(600);
        while (!finished()) {
            if (steady::now() > deadline) {
                die("run: not finished within 600 s");
            }
            bool busy = false;
            for (int n = 0; n < 256; ++n) {
                rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 0);
                if (!m) {
                    break;
                }
                handle(m);
                busy = true;
            }
            _producer->poll();
            rd_kafka_queue_poll_callback(_commit_queue, 0);
            const auto now = steady::now();
            if (now >= next_commit) {
                if (_commits_in_flight == 0) {
                    commit();
                }
                next_commit = now + _commit_interval;
            }
            if (!busy) {
                const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                    next_commit - steady::now());
                pollfd fds[2] = {{_producer->wakeup_fd(), POLLIN, 0}, {consumer_fd, POLLIN, 0}};
                if (::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, wait.count()) + 1)) > 0 &&
                    (fds[1].revents & POLLIN)) {
                    uint64_t count;
                    [[maybe_unused]] auto r = ::read(consumer_fd, &count, sizeof count);
                }
            }
        }
        _finished = steady::now();
        rd_kafka_queue_io_event_enable(consumer_queue, -1, nullptr, 0);
        rd_kafka_queue_destroy(consumer_queue);
        ::close(consumer_fd);
        rd_kafka_consumer_close(rk);
        rd_kafka_queue_destroy(_commit_queue);
        for (auto* h : _handles) {
            rd_kafka_topic_destroy(h);
        }
        _consumer.reset();
        _producer.reset();
    }

    double from_first_message() const { return seconds(_first_message, _finished); }
    double from_subscribe() const { return seconds(_started, _finished); }
    double to_last_delivery() const { return seconds(_first_message, _last_delivery); }
    uint64_t consumed() const { return _consumed; }
    uint64_t delivered() const { return _delivered; }
    uint64_t delivery_errors() const { return _delivery_errors; }

  private:
    bool finished() const {
        if (_consumed < _w.inputs.size() || _delivered < _w.outputs) {
            return false;
        }
        for (size_t p = 0; p < _acked.size(); ++p) {
            if (_w.high_watermarks[p] > 0 && _acked[p] < _w.high_watermarks[p]) {
                return false;
            }
        }
        return true;
    }

    void handle(rd_kafka_message_t* m) {
        if (m->err) {
            std::fprintf(stderr, "obsrv-raw-pipe: consumer: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return;
        }
        const auto it = _w.inputs.find({m->partition, m->offset});
        if (it == _w.inputs.end()) {
            die("run: message " + std::to_string(m->partition) + "/" + std::to_string(m->offset) +
                " was not in the topic during the prepare phase");
        }
        const int32_t partition = m->partition;
        const int64_t offset = m->offset;
        rd_kafka_message_destroy(m);
        if (_consumed++ == 0) {
            _first_message = steady::now();
        }
        auto p = static_cast<size_t>(partition);
        _consumed_upto[p] = offset;
        const auto& shapes = it->second;
        if (shapes.empty()) {
            return;
        }
        _states.push_back(input_state{partition, offset, static_cast<uint32_t>(shapes.size())});
        input_state* state = &_states.back();
        _pending[p].emplace(offset, state);
        for (const output_shape& s : shapes) {
            produce(s, state);
        }
    }

    void produce(const output_shape& s, input_state* state) {
        const std::string& pool = _w.pools[s.topic];
        size_t& at = _pool_offsets[s.topic];
        if (at + s.size > pool.size()) {
            at = 0;
        }
        // No copy: librdkafka points into the pool until the delivery report.
        char* payload = const_cast<char*>(pool.data() + at);
        at += s.size;
        while (rd_kafka_produce(_handles[s.topic], RD_KAFKA_PARTITION_UA, 0, payload, s.size,
                                nullptr, 0, state) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                die(std::string("produce: ") + rd_kafka_err2str(rd_kafka_last_error()));
            }
            _producer->poll();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    static void on_delivery(void* context, const rd_kafka_message_t& m) {
        auto& self = *static_cast<raw_pipe*>(context);
        if (m.err) {
            ++self._delivery_errors;
            die(std::string("delivery failed: ") + rd_kafka_err2str(m.err));
        }
        auto* state = static_cast<input_state*>(m._private);
        ++self._delivered;
        self._last_delivery = steady::now();
        if (--state->outstanding == 0) {
            self._pending[static_cast<size_t>(state->partition)].erase(state->offset);
        }
    }

    // Each partition's low-water mark: the first input with outputs in flight, else the end.
    void commit() {
        partition_list_ptr offsets(
            rd_kafka_topic_partition_list_new(static_cast<int>(_pending.size())));
        for (size_t p = 0; p < _pending.size(); ++p) {
            if (_consumed_upto[p] < 0) {
                continue;
            }
            const int64_t committable =
                _pending[p].empty() ? _consumed_upto[p] + 1 : _pending[p].begin()->first;
            if (committable > _acked[p]) {
                rd_kafka_topic_partition_list_add(offsets.get(), _topic.c_str(),
                                                  static_cast<int32_t>(p))
                    ->offset = committable;
            }
        }
        if (offsets->cnt == 0) {
            return;
        }
        if (auto err = rd_kafka_commit_queue(_consumer.get(), offsets.get(), _commit_queue,
                                             &raw_pipe::on_commit, this)) {
            std::fprintf(stderr, "obsrv-raw-pipe: commit: %s\n", rd_kafka_err2str(err));
            return;
        }
        ++_commits_in_flight;
    }

    static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* offsets, void* opaque) {
        auto& self = *static_cast<raw_pipe*>(opaque);
        --self._commits_in_flight;
        for (int i = 0; offsets && i < offsets->cnt; ++i) {
            const auto& e = offsets->elems[i];
            if (!err && !e.err) {
                auto& acked = self._acked[static_cast<size_t>(e.partition)];
                acked = std::max(acked, e.offset);
            }
        }
    }

    const workload& _w;
    const obsrv::settings& _config;
    const std::string _brokers;
    const std::string _topic;
    const std::chrono::milliseconds _commit_interval;
    std::vector<size_t> _pool_offsets;
    std::vector<std::map<int64_t, input_state*>> _pending;  // per partition, by offset
    std::vector<int64_t> _consumed_upto;
    std::vector<int64_t> _acked;
    std::deque<input_state> _states;  // stable addresses
    std::unique_ptr<obsrv::kafka::worker_producer> _producer;
    std::vector<rd_kafka_topic_t*> _handles;
    obsrv::kafka::client_ptr _consumer;
    rd_kafka_queue_t* _commit_queue = nullptr;
    int _commits_in_flight = 0;
    uint64_t _consumed = 0;
    uint64_t _delivered = 0;
    uint64_t _delivery_errors = 0;
    steady::time_point _started;
    steady::time_point _first_message;
    steady::time_point _last_delivery;
    steady::time_point _finished;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"obsrv-raw-pipe: the pipeline's Kafka work (consume, produce, commit) alone"};
    std::string brokers;
    std::string topic = "ingest";
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;
    unsigned events_per_message = 100;
    int64_t commit_interval_ms = 1000;
    std::string json_out;
    cli.add_option("-b,--brokers", brokers, "Bootstrap brokers")->required();
    cli.add_option("-t,--topic", topic, "Entry topic to consume")->capture_default_str();
    cli.add_option("-c,--config", config_file,
                   "obsrvd configuration (producer, consumer, pipeline and datasets settings)");
    cli.add_option("-s,--set", overrides, "Override a configuration key");
    cli.add_option("-e,--events-per-message", events_per_message,
                   "Events each input message carries, for events/s")
        ->capture_default_str();
    cli.add_option("--commit-interval-ms", commit_interval_ms,
                   "Offset commit interval (the pipeline's pipeline.commit_interval_ms)")
        ->capture_default_str();
    cli.add_option("--json", json_out, "Write the figures as JSON to FILE");
    CLI11_PARSE(cli, argc, argv);

    if (auto st = obsrv::log::setup({"warn", "plain"}); !st) {
        return 2;
    }
    auto config = obsrv::config::load(config_file, overrides);
    if (!config) {
        std::fprintf(stderr, "obsrv-raw-pipe: %s\n", config.error().message.c_str());
        return 2;
    }

    const auto t0 = steady::now();
    uint64_t master_records = 0;
    const workload w = prepare(*config, brokers, topic, master_records);
    std::printf(
        "prepare: %llu master records loaded; %zu messages, %llu outputs (%.1f MB) computed in "
        "%.1f s\n",
        static_cast<unsigned long long>(master_records), w.inputs.size(),
        static_cast<unsigned long long>(w.outputs), static_cast<double>(w.output_bytes) / 1e6,
        seconds(t0, steady::now()));

    raw_pipe pipe(w, *config, brokers, topic, std::chrono::milliseconds(commit_interval_ms));
    const double cpu0 = cpu_seconds();
    pipe.run();
    const double cpu = cpu_seconds() - cpu0;
    const double s = pipe.from_first_message();
    const double events = static_cast<double>(w.inputs.size()) * events_per_message;
    std::printf(
        "run: %llu consumed, %llu delivered in %.3f s from the first message (%.3f s from "
        "subscribe, last delivery at %.3f s), cpu %.2f s\n",
        static_cast<unsigned long long>(pipe.consumed()),
        static_cast<unsigned long long>(pipe.delivered()), s, pipe.from_subscribe(),
        pipe.to_last_delivery(), cpu);
    std::printf("  events/s %.0f  outputs/s %.0f  input MB/s %.1f  output MB/s %.1f\n", events / s,
                static_cast<double>(pipe.delivered()) / s,
                static_cast<double>(w.input_bytes) / s / 1e6,
                static_cast<double>(w.output_bytes) / s / 1e6);
    if (!json_out.empty()) {
        obsrv::json_writer j;
        j.begin_object()
            .key("messages")
            .value(static_cast<uint64_t>(w.inputs.size()))
            .key("events")
            .value(static_cast<uint64_t>(events))
            .key("outputs")
            .value(pipe.delivered())
            .key("input_bytes")
            .value(w.input_bytes)
            .key("output_bytes")
            .value(w.output_bytes)
            .key("master_records")
            .value(master_records)
            .key("seconds")
            .value(s)
            .key("seconds_from_subscribe")
            .value(pipe.from_subscribe())
            .key("seconds_to_last_delivery")
            .value(pipe.to_last_delivery())
            .key("cpu_seconds")
            .value(cpu)
            .key("events_per_second")
            .value(events / s)
            .key("outputs_per_second")
            .value(static_cast<double>(pipe.delivered()) / s)
            .key("outputs_by_topic")
            .begin_object();
        for (size_t i = 0; i < w.topics.size(); ++i) {
            j.key(w.topics[i]).value(w.outputs_per_topic[i]);
        }
        j.end_object().end_object();
        std::FILE* f = std::fopen(json_out.c_str(), "w");
        if (!f) {
            die("cannot write " + json_out);
        }
        std::fputs(j.str().c_str(), f);
        std::fputc('\n', f);
        std::fclose(f);
    }
    return pipe.delivery_errors() == 0 ? 0 : 1;
}
