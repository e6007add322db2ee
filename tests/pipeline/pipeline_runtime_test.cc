#include "pipeline/pipeline_runtime.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/metrics.h"
#include "kafka/client.h"
#include "kafka/embedded_cluster.h"
#include "kafka/group_offsets.h"
#include "kafka_helpers.h"
#include "test_env.h"

namespace obsrv::pipeline {
namespace {

using namespace std::chrono_literals;
using testing::scaled;
using testing::wait_until;

// ---- a processor whose outputs follow the input's number ----------------------------------

enum class routing {
    copy,      // every input to out-a
    fanout,    // m<i>: i%3 == 0 no output, 1 -> out-a, 2 -> out-a and out-b
    even_odd,  // even -> out-a, odd -> out-b
};

struct processor_stats {
    std::atomic<int> processed{0};
    std::atomic<int> completed{0};
    std::atomic<int> abandoned{0};
    std::atomic<int> ticks{0};
    std::atomic<int> undeliverable{0};
    std::atomic<int> too_large{0};

    void record(int input) {
        std::lock_guard lock(mutex);
        inputs.push_back(input);
    }
    std::vector<int> processed_inputs() {
        std::lock_guard lock(mutex);
        return inputs;
    }

  private:
    std::mutex mutex;
    std::vector<int> inputs;  // the number of every input processed
};

int input_number(std::string_view value) {
    int n = -1;
    if (value.size() > 1 && value[0] == 'm') {
        std::from_chars(value.data() + 1, value.data() + value.size(), n);
    }
    return n;
}

class test_processor final : public message_processor {
  public:
    test_processor(routing r, std::chrono::milliseconds delay, std::shared_ptr<processor_stats> s)
        : _routing(r), _delay(delay), _stats(std::move(s)) {}

    processing_token process(const input_message& in, std::vector<output_message>& out) override {
        if (_delay.count() > 0) {
            std::this_thread::sleep_for(_delay);
        }
        _stats->processed.fetch_add(1);
        const int n = input_number(in.value);
        _stats->record(n);
        const std::string value(in.value);
        switch (_routing) {
            case routing::copy:
                out.push_back({"out-a", value});
                break;
            case routing::fanout:
                if (n % 3 >= 1) {
                    out.push_back({"out-a", value});
                }
                if (n % 3 == 2) {
                    out.push_back({"out-b", value});
                }
                break;
            case routing::even_odd:
                out.push_back({n % 2 == 0 ? "out-a" : "out-b", value});
                break;
        }
        return static_cast<processing_token>(n) + 1;
    }

    void complete(processing_token) override { _stats->completed.fetch_add(1); }
    void abandon(processing_token) override { _stats->abandoned.fetch_add(1); }
    void tick(int64_t, std::vector<output_message>&) override { _stats->ticks.fetch_add(1); }
    /// Replaces a refused output by "refused:<payload>" on topic `refused`.
    void undeliverable(const undeliverable_output& failed,
                       std::vector<output_message>& out) override {
        _stats->undeliverable.fetch_add(1);
        _stats->too_large.fetch_add(failed.too_large ? 1 : 0);
        out.push_back({"refused", "refused:" + std::string(failed.payload)});
    }

  private:
    routing _routing;
    std::chrono::milliseconds _delay;
    std::shared_ptr<processor_stats> _stats;
};

// ---- helpers ------------------------------------------------------------------------------

/// Produces "m<first>" .. "m<first+count-1>" to `topic` (partitions picked by librdkafka).
int produce_inputs(const std::string& bootstrap, const std::string& topic, int first, int count) {
    return testing::produce(bootstrap, topic, -1, count, first);
}

/// The value of one series in the registry's exposition, 0 when absent.
double metric(const metrics::registry& registry, const std::string& series) {
    std::istringstream text(registry.render());
    std::string line;
    while (std::getline(text, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return 0;
}

double committed_metric(const metrics::registry& r) {
    return metric(r, "obsrv_pipeline_committed_offsets_total");
}

/// The group's committed offsets on `topic`, per partition (-1: none).
std::vector<int64_t> committed_offsets(const std::string& bootstrap, const std::string& group,
                                       const std::string& topic, int partitions) {
    std::vector<kafka::topic_info> topics{{topic, partitions, 1, ""}};
    auto progress = kafka::describe_group(bootstrap, group, topics, 10s);
    if (!progress) {
        throw std::runtime_error(progress.error().message);
    }
    std::vector<int64_t> offsets(static_cast<size_t>(partitions), -1);
    for (const auto& p : progress->partitions) {
        offsets[static_cast<size_t>(p.partition)] = p.committed;
    }
    return offsets;
}

int64_t committed_total(const std::string& bootstrap, const std::string& group,
                        const std::string& topic, int partitions) {
    int64_t total = 0;
    for (int64_t offset : committed_offsets(bootstrap, group, topic, partitions)) {
        total += std::max<int64_t>(0, offset);
    }
    return total;
}

std::multiset<std::string> read_all(const std::string& bootstrap, const std::string& topic) {
    const auto count = static_cast<size_t>(testing::topic_message_count(bootstrap, topic));
    auto values = testing::read_topic(bootstrap, topic, count, scaled(15s));
    return {values.begin(), values.end()};
}

struct runtime_fixture {
    std::shared_ptr<processor_stats> stats = std::make_shared<processor_stats>();
    std::unique_ptr<metrics::registry> registry = std::make_unique<metrics::registry>();
    std::unique_ptr<pipeline_runtime> runtime;

    void start(pipeline_runtime_options options, routing r, std::chrono::milliseconds delay = 0ms) {
        options.metrics = registry.get();
        options.factory = [r, delay, s = stats](int) {
            return std::make_unique<test_processor>(r, delay, s);
        };
        auto started = pipeline_runtime::start(std::move(options));
        if (!started) {
            throw std::runtime_error(started.error().message);
        }
        runtime = std::move(*started);
    }

    double value(const std::string& series) const { return metric(*registry, series); }
    double committed() const { return committed_metric(*registry); }
};

pipeline_runtime_options base_options(const std::string& bootstrap, const std::string& group) {
    pipeline_runtime_options options;
    options.bootstrap = bootstrap;
    options.group = group;
    options.workers = 2;
    options.commit_interval = 200ms;
    options.retry_backoff = 200ms;
    options.drain_deadline = scaled(5s);
    options.kafka.client_id = "test";
    options.kafka.producer["linger.ms"] = "5";
    // Quick group membership changes on the embedded broker.
    options.kafka.consumer["session.timeout.ms"] = "6000";
    options.kafka.consumer["heartbeat.interval.ms"] = "300";
    return options;
}

std::unique_ptr<kafka::embedded_cluster> start_cluster(int brokers) {
    auto cluster = kafka::embedded_cluster::start(brokers);
    if (!cluster) {
        throw std::runtime_error(cluster.error().message);
    }
    return std::move(*cluster);
}

// ---- tests --------------------------------------------------------------------------------

TEST(pipeline_runtime, every_input_gives_its_outputs_and_a_restart_continues_from_the_commit) {
    auto cluster = start_cluster(1);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_EQ(cluster->create_topic("ingest", 4, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("out-a", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("out-b", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 0, 300), 300);

    runtime_fixture first;
    first.start(base_options(bootstrap, "g-basic"), routing::fanout);
    // m<i>: i%3 == 0 gives nothing (still committed), 1 gives out-a, 2 gives out-a and out-b.
    ASSERT_TRUE(wait_until([&] { return first.committed() >= 300; }, scaled(30s)))
        << "committed " << first.committed();
    EXPECT_EQ(first.value("obsrv_pipeline_produced_messages_total{topic=\"out-a\"}"), 200);
    EXPECT_EQ(first.value("obsrv_pipeline_produced_messages_total{topic=\"out-b\"}"), 100);
    first.runtime->stop();
    EXPECT_EQ(first.stats->processed.load(), 300);
    EXPECT_EQ(first.stats->completed.load(), 300);
    EXPECT_EQ(first.stats->abandoned.load(), 0);
    EXPECT_GT(first.stats->ticks.load(), 0);
    EXPECT_EQ(first.value("obsrv_pipeline_consumed_messages_total"), 300);
    EXPECT_EQ(first.committed(), 300);
    EXPECT_EQ(first.value("obsrv_pipeline_inflight_inputs"), 0);
    EXPECT_EQ(committed_total(bootstrap, "g-basic", "ingest", 4), 300);

    auto out_a = read_all(bootstrap, "out-a");
    auto out_b = read_all(bootstrap, "out-b");
    ASSERT_EQ(out_a.size(), 200u);
    ASSERT_EQ(out_b.size(), 100u);
    for (int i = 0; i < 300; ++i) {
        const std::string value = "m" + std::to_string(i);
        EXPECT_EQ(out_a.count(value), i % 3 >= 1 ? 1u : 0u) << value;
        EXPECT_EQ(out_b.count(value), i % 3 == 2 ? 1u : 0u) << value;
    }

    // A new runtime in the same group starts where the first one committed: only new input.
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 300, 150), 150);
    runtime_fixture second;
    second.start(base_options(bootstrap, "g-basic"), routing::fanout);
    ASSERT_TRUE(wait_until([&] { return second.committed() >= 150; }, scaled(30s)))
        << "committed " << second.committed();
    second.runtime->stop();
    EXPECT_EQ(second.stats->processed.load(), 150);
    EXPECT_EQ(committed_total(bootstrap, "g-basic", "ingest", 4), 450);
    EXPECT_EQ(testing::topic_message_count(bootstrap, "out-a"), 300);
    EXPECT_EQ(testing::topic_message_count(bootstrap, "out-b"), 150);
}

// Two brokers: the entry topic, out-b and the group coordinator on broker 1, out-a on broker
// 2, so that taking broker 2 down fails deliveries to out-a only.
std::unique_ptr<kafka::embedded_cluster> split_cluster(const std::string& group) {
    auto cluster = start_cluster(2);
    rd_kafka_mock_cluster_t* mock = cluster->mock();
    EXPECT_EQ(cluster->create_topic("ingest", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(cluster->create_topic("out-a", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(cluster->create_topic("out-b", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_mock_partition_set_leader(mock, "ingest", 0, 1);
    rd_kafka_mock_partition_set_leader(mock, "out-b", 0, 1);
    rd_kafka_mock_partition_set_leader(mock, "out-a", 0, 2);
    rd_kafka_mock_coordinator_set(mock, "group", group.c_str(), 1);
    return cluster;
}

pipeline_runtime_options failing_delivery_options(const std::string& bootstrap,
                                                  const std::string& group) {
    auto options = base_options(bootstrap, group);
    options.workers = 1;
    // Deliveries to the dead broker fail fast instead of after librdkafka's 5 minutes.
    options.kafka.producer["message.timeout.ms"] = "600";
    options.kafka.producer["reconnect.backoff.max.ms"] = "200";
    return options;
}

TEST(pipeline_runtime, an_undelivered_output_holds_back_the_commit_until_it_is_delivered) {
    const std::string group = "g-stuck";
    auto cluster = split_cluster(group);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_TRUE(cluster->set_broker_down(2, true));

    runtime_fixture rt;
    rt.start(failing_delivery_options(bootstrap, group), routing::even_odd);
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 0, 20), 20);
    // The odd inputs go through; the even ones (m0 first) are retried again and again.
    ASSERT_TRUE(wait_until(
        [&] {
            return rt.value("obsrv_pipeline_produced_messages_total{topic=\"out-b\"}") >= 10 &&
                   rt.value("obsrv_pipeline_delivery_retries_total") >= 2;
        },
        scaled(30s)));
    EXPECT_GT(rt.value("obsrv_pipeline_delivery_errors_total"), 0);
    EXPECT_EQ(rt.stats->completed.load(), 10);
    EXPECT_EQ(rt.value("obsrv_pipeline_inflight_inputs"), 10);
    std::this_thread::sleep_for(600ms);  // a few commit intervals
    EXPECT_EQ(rt.committed(), 0) << "m0 at offset 0 is not delivered: nothing may be committed";
    EXPECT_LE(committed_offsets(bootstrap, group, "ingest", 1)[0], 0);

    ASSERT_TRUE(cluster->set_broker_down(2, false));
    ASSERT_TRUE(wait_until([&] { return rt.committed() >= 20; }, scaled(30s)))
        << "committed " << rt.committed();
    rt.runtime->stop();
    EXPECT_EQ(rt.stats->completed.load(), 20);
    EXPECT_EQ(rt.stats->abandoned.load(), 0);
    EXPECT_EQ(committed_offsets(bootstrap, group, "ingest", 1)[0], 20);
    auto out_a = read_all(bootstrap, "out-a");
    for (int i = 0; i < 20; i += 2) {
        EXPECT_GE(out_a.count("m" + std::to_string(i)), 1u) << i;
    }
}

TEST(pipeline_runtime, stop_abandons_undelivered_inputs_and_a_restart_redoes_them) {
    const std::string group = "g-abandon";
    auto cluster = split_cluster(group);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_TRUE(cluster->set_broker_down(2, true));
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 0, 20), 20);

    runtime_fixture first;
    auto options = failing_delivery_options(bootstrap, group);
    options.drain_deadline = scaled(1s);
    first.start(options, routing::even_odd);
    ASSERT_TRUE(wait_until(
        [&] {
            return first.value("obsrv_pipeline_produced_messages_total{topic=\"out-b\"}") >= 10;
        },
        scaled(30s)));
    first.runtime->stop();
    EXPECT_EQ(first.stats->completed.load(), 10);
    EXPECT_EQ(first.stats->abandoned.load(), 10);
    EXPECT_EQ(first.value("obsrv_pipeline_abandoned_inputs_total"), 10);
    EXPECT_LE(committed_offsets(bootstrap, group, "ingest", 1)[0], 0);

    ASSERT_TRUE(cluster->set_broker_down(2, false));
    runtime_fixture second;
    second.start(failing_delivery_options(bootstrap, group), routing::even_odd);
    ASSERT_TRUE(wait_until([&] { return second.committed() >= 20; }, scaled(30s)))
        << "committed " << second.committed();
    second.runtime->stop();
    EXPECT_EQ(committed_offsets(bootstrap, group, "ingest", 1)[0], 20);
    // Nothing lost: every even input reached out-a; the odd ones were delivered twice (the
    // restart redid everything after the last commit), which at-least-once allows.
    auto out_a = read_all(bootstrap, "out-a");
    auto out_b = read_all(bootstrap, "out-b");
    for (int i = 0; i < 20; ++i) {
        const auto& out = i % 2 == 0 ? out_a : out_b;
        EXPECT_GE(out.count("m" + std::to_string(i)), 1u) << i;
    }
    EXPECT_LE(out_a.size() + out_b.size(), 40u) << "duplicates bounded by the inputs in flight";
}

TEST(pipeline_runtime, an_output_refused_for_good_is_replaced_and_the_partition_moves_on) {
    auto cluster = start_cluster(1);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_EQ(cluster->create_topic("ingest", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("out-a", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("refused", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 0, 1), 1);
    // The broker refuses the runtime's first Produce request (m0's output): a permanent error
    // in the delivery report.
    constexpr int16_t k_produce_api = 0;  // RD_KAFKAP_Produce (librdkafka-internal header)
    rd_kafka_mock_push_request_errors(cluster->mock(), k_produce_api, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    auto options = base_options(bootstrap, "g-refused");
    options.workers = 1;
    // And the producer itself refuses anything above 2000 bytes at produce time.
    options.kafka.producer["message.max.bytes"] = "2000";
    options.kafka.producer["batch.size"] = "2000";
    runtime_fixture rt;
    rt.start(options, routing::copy);
    ASSERT_TRUE(wait_until([&] { return rt.committed() >= 1; }, scaled(20s)))
        << "a refused output must not hold the partition's commits";
    EXPECT_EQ(rt.stats->undeliverable.load(), 1);
    EXPECT_EQ(rt.stats->too_large.load(), 1);

    // A big input: its output and then its replacement (bigger still) are refused at produce
    // time; the replacement is not offered again, so the input completes.
    ASSERT_EQ(testing::produce_values(bootstrap, "ingest", 0, {"m1-" + std::string(2500, 'x')}), 1);
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 2, 8), 8);
    ASSERT_TRUE(wait_until([&] { return rt.committed() >= 10; }, scaled(20s)))
        << "committed " << rt.committed();
    rt.runtime->stop();
    EXPECT_EQ(rt.stats->undeliverable.load(), 2) << "asked for m0's and m1's outputs only";
    EXPECT_EQ(rt.stats->completed.load(), 10);
    EXPECT_EQ(rt.value("obsrv_pipeline_undeliverable_outputs_total"), 3);
    EXPECT_EQ(rt.value("obsrv_pipeline_delivery_retries_total"), 0) << "permanent: not retried";
    EXPECT_EQ(read_all(bootstrap, "refused"), std::multiset<std::string>{"refused:m0"});
    auto out_a = read_all(bootstrap, "out-a");
    EXPECT_EQ(out_a.size(), 8u);
    for (int i = 2; i < 10; ++i) {
        EXPECT_EQ(out_a.count("m" + std::to_string(i)), 1u) << i;
    }
}

TEST(pipeline_runtime, a_slow_processor_pauses_its_partition_and_memory_stays_bounded) {
    auto cluster = start_cluster(1);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_EQ(cluster->create_topic("ingest", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("out-a", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    constexpr int k_inputs = 400;
    ASSERT_EQ(produce_inputs(bootstrap, "ingest", 0, k_inputs), k_inputs);

    auto options = base_options(bootstrap, "g-slow");
    options.workers = 1;
    options.ring_capacity = 128;
    options.max_inflight_inputs = 256;
    options.fetch_queue_kbytes = 64;
    runtime_fixture rt;
    rt.start(options, routing::copy, 1ms);
    double max_paused = 0;
    double max_depth = 0;
    double max_inflight = 0;
    ASSERT_TRUE(wait_until(
        [&] {
            max_paused = std::max(max_paused, rt.value("obsrv_pipeline_paused_partitions"));
            max_depth =
                std::max(max_depth, rt.value("obsrv_pipeline_worker_ring_depth{worker=\"0\"}"));
            max_inflight = std::max(max_inflight, rt.value("obsrv_pipeline_inflight_inputs"));
            return rt.committed() >= k_inputs;
        },
        scaled(40s)))
        << "committed " << rt.committed();
    rt.runtime->stop();
    EXPECT_GE(max_paused, 1) << "the partition was never paused";
    EXPECT_LE(max_depth, 128);
    EXPECT_LE(max_inflight, 256 + 64) << "in-flight limit plus one popped batch";
    EXPECT_EQ(rt.stats->processed.load(), k_inputs) << "pausing neither lost nor repeated input";
    auto out_a = read_all(bootstrap, "out-a");
    EXPECT_EQ(out_a.size(), static_cast<size_t>(k_inputs));
    EXPECT_EQ(std::set<std::string>(out_a.begin(), out_a.end()).size(),
              static_cast<size_t>(k_inputs));
}

// Batches of inputs spread evenly: m<400b + 100p> .. m<400b + 100p + 99> on partition p.
constexpr int k_split_partitions = 4;
constexpr int k_per_partition = 100;
constexpr int k_batch = k_split_partitions * k_per_partition;

int partition_of(int input) {
    return input % k_batch / k_per_partition;
}

int64_t offset_of(int input) {
    return input / k_batch * k_per_partition + input % k_per_partition;
}

bool produce_batch(const std::string& bootstrap, int batch) {
    for (int p = 0; p < k_split_partitions; ++p) {
        const int first = batch * k_batch + p * k_per_partition;
        if (testing::produce(bootstrap, "ingest", p, k_per_partition, first) != k_per_partition) {
            return false;
        }
    }
    return true;
}

TEST(pipeline_runtime, two_runtimes_in_one_group_split_the_partitions) {
    auto cluster = start_cluster(1);
    const auto& bootstrap = cluster->bootstrap();
    ASSERT_EQ(cluster->create_topic("ingest", k_split_partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(cluster->create_topic("out-a", 4, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_TRUE(produce_batch(bootstrap, 0));

    auto options = base_options(bootstrap, "g-split");
    // Nothing is abandoned at the revoke, however slow the machine: every duplicate below comes
    // from a commit the coordinator did not take.
    options.revoke_timeout = scaled(30s);
    runtime_fixture a;
    runtime_fixture b;
    // 5 ms an input: A is still busy with the second batch when B joins.
    a.start(options, routing::copy, 5ms);
    ASSERT_TRUE(wait_until([&] { return a.committed() >= k_batch; }, scaled(30s)));
    ASSERT_TRUE(produce_batch(bootstrap, 1));
    // At least what the coordinator holds when B joins: never to be processed again.
    const auto committed_before_b = committed_offsets(bootstrap, "g-split", "ingest", 4);
    b.start(options, routing::copy, 5ms);
    // A gives up its partitions after finishing their in-flight inputs; on the embedded broker
    // their commit is refused (REBALANCE_IN_PROGRESS), and rounds may repeat (a member whose
    // SyncGroup comes after the leader's is refused and joins again).
    ASSERT_TRUE(wait_until(
        [&] {
            return b.value("obsrv_pipeline_assigned_partitions") == 2 &&
                   a.value("obsrv_pipeline_assigned_partitions") == 2 &&
                   committed_total(bootstrap, "g-split", "ingest", 4) >= 2 * k_batch;
        },
        scaled(90s)))
        << "A assigned " << a.value("obsrv_pipeline_assigned_partitions") << ", B assigned "
        << b.value("obsrv_pipeline_assigned_partitions") << ", committed "
        << committed_total(bootstrap, "g-split", "ingest", 4);
    // The split is stable: a third batch is shared.
    ASSERT_TRUE(produce_batch(bootstrap, 2));
    ASSERT_TRUE(wait_until(
        [&] { return committed_total(bootstrap, "g-split", "ingest", 4) >= 3 * k_batch; },
        scaled(30s)));
    a.runtime->stop();
    b.runtime->stop();
    EXPECT_EQ(committed_total(bootstrap, "g-split", "ingest", 4), 3 * k_batch);

    constexpr int k_inputs = 3 * k_batch;
    std::vector<int> times(k_inputs, 0);
    std::set<int> partitions_of_b;  // B's share of the stable split
    for (int n : a.stats->processed_inputs()) {
        ++times.at(static_cast<size_t>(n));
    }
    for (int n : b.stats->processed_inputs()) {
        ++times.at(static_cast<size_t>(n));
        if (n >= 2 * k_batch) {
            partitions_of_b.insert(partition_of(n));
        }
    }
    EXPECT_EQ(partitions_of_b.size(), 2u) << "B processes the third batch of its two partitions";

    std::vector<int> lost;
    std::vector<int> thrice;
    std::vector<int> committed_before;  // processed again though committed before B came
    std::vector<int> kept_by_a;         // processed again in a partition A kept
    std::vector<int> stable_split;      // processed again after the split
    int duplicates = 0;
    for (int n = 0; n < k_inputs; ++n) {
        const auto count = times[static_cast<size_t>(n)];
        if (count == 0) {
            lost.push_back(n);
        }
        if (count <= 1) {
            continue;
        }
        duplicates += count - 1;
        if (count > 2) {
            thrice.push_back(n);
        }
        if (offset_of(n) < committed_before_b[static_cast<size_t>(partition_of(n))]) {
            committed_before.push_back(n);
        }
        if (partitions_of_b.count(partition_of(n)) == 0) {
            kept_by_a.push_back(n);
        }
        if (n >= 2 * k_batch) {
            stable_split.push_back(n);
        }
    }
    // The bound: only second-batch inputs in flight or finished but not committed when B came,
    // in the partitions that moved to B, are processed a second time (by B).
    int64_t uncommitted_moved = 0;
    for (int p : partitions_of_b) {
        uncommitted_moved += std::max<int64_t>(
            0,
            2 * k_per_partition - std::max<int64_t>(0, committed_before_b[static_cast<size_t>(p)]));
    }
    RecordProperty("duplicates", duplicates);
    std::printf(
        "[ INFO     ] %d inputs processed by A, %d by B, %d duplicate(s) (bound: %lld "
        "uncommitted in the partitions B took)\n",
        a.stats->processed.load(), b.stats->processed.load(), duplicates,
        static_cast<long long>(uncommitted_moved));
    EXPECT_EQ(lost, std::vector<int>{}) << "inputs never processed";
    EXPECT_EQ(thrice, std::vector<int>{}) << "inputs processed more than twice";
    EXPECT_EQ(committed_before, std::vector<int>{})
        << "inputs processed again although their offsets were committed before B joined";
    EXPECT_EQ(kept_by_a, std::vector<int>{})
        << "inputs processed again in a partition A kept: A resumes after what it delivered";
    EXPECT_EQ(stable_split, std::vector<int>{}) << "duplicates once the group is stable";
    EXPECT_LE(duplicates, uncommitted_moved);

    // Every processed input's output was delivered, once per processing.
    auto out_a = read_all(bootstrap, "out-a");
    EXPECT_EQ(std::set<std::string>(out_a.begin(), out_a.end()).size(),
              static_cast<size_t>(k_inputs));
    EXPECT_EQ(out_a.size(), static_cast<size_t>(k_inputs + duplicates));
}

}  // namespace
}  // namespace obsrv::pipeline
