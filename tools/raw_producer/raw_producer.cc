// obsrv-raw-producer: the Kafka limit for gateway benchmarks. It replays
// Kafka messages (one per line of a file, e.g. what the gateway wrote to the
// ingest topic) with the producer settings of obsrvd's configuration, from
// the same number of producer instances the gateway uses, and reports
// messages/s, events/s, MB/s and CPU. Payloads point into a memory-mapped
// file: nothing is copied per message, so this is librdkafka's own rate.
//
//   obsrv-raw-producer --brokers HOST:PORT --topic ingest --messages FILE
//                      [--duration 10s] [--producers N] [--events-per-message 100]
//                      [--config obsrvd.yaml] [--set kafka.producer.X=Y] [--json FILE]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <string_view>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include "common/config.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "kafka/client.h"

namespace {

struct counters {
    std::atomic<uint64_t> delivered{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<uint64_t> bytes{0};
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* c = static_cast<counters*>(opaque);
    if (m->err) {
        c->failed.fetch_add(1, std::memory_order_relaxed);
    } else {
        c->delivered.fetch_add(1, std::memory_order_relaxed);
        c->bytes.fetch_add(m->len, std::memory_order_relaxed);
    }
}

double cpu_seconds() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"obsrv-raw-producer: replay Kafka messages at librdkafka's rate"};
    std::string brokers;
    std::string topic = "ingest";
    std::string messages_file;
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;
    double duration_s = 10;
    unsigned producers = 1;
    unsigned events_per_message = 100;
    std::string json_out;
    cli.add_option("-b,--brokers", brokers, "Bootstrap brokers")->required();
    cli.add_option("-t,--topic", topic, "Topic to produce to")->capture_default_str();
    cli.add_option("-m,--messages", messages_file, "File with one message per line")
        ->required()
        ->check(CLI::ExistingFile);
    cli.add_option("-c,--config", config_file, "obsrvd configuration (producer settings)");
    cli.add_option("-s,--set", overrides, "Override a configuration key");
    cli.add_option("-d,--duration", duration_s, "Seconds of producing")->capture_default_str();
    cli.add_option("-p,--producers", producers, "Producer instances (gateway.workers)")
        ->check(CLI::Range(1u, 64u))
        ->capture_default_str();
    cli.add_option("-e,--events-per-message", events_per_message,
                   "Events each message carries, for events/s")
        ->capture_default_str();
    cli.add_option("--json", json_out, "Write the figures as JSON to FILE ('-' for stdout)");
    CLI11_PARSE(cli, argc, argv);

    if (auto st = obsrv::log::setup({"warn", "plain"}); !st) {
        return 2;
    }
    auto config = obsrv::config::load(config_file, overrides);
    if (!config) {
        std::fprintf(stderr, "obsrv-raw-producer: %s\n", config.error().message.c_str());
        return 2;
    }

    int fd = ::open(messages_file.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
        std::fprintf(stderr, "obsrv-raw-producer: cannot read %s\n", messages_file.c_str());
        return 2;
    }
    auto* data = static_cast<const char*>(::mmap(nullptr, static_cast<size_t>(st.st_size),
                                                 PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0));
    std::vector<std::string_view> messages;
    std::string_view all(data, static_cast<size_t>(st.st_size));
    while (!all.empty()) {
        auto nl = all.find('\n');
        auto line = all.substr(0, nl);
        if (!line.empty()) {
            messages.push_back(line);
        }
        all = nl == std::string_view::npos ? std::string_view() : all.substr(nl + 1);
    }
    if (messages.empty()) {
        std::fprintf(stderr, "obsrv-raw-producer: no messages in %s\n", messages_file.c_str());
        return 2;
    }

    counters totals;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    double cpu0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    std::atomic<uint64_t> sent{0};
    for (unsigned i = 0; i < producers; ++i) {
        threads.emplace_back([&, i] {
            auto options = obsrv::kafka::producer_options(config->kafka, brokers,
                                                          "raw-producer-" + std::to_string(i));
            options.delivery_report = on_delivery;
            options.opaque = &totals;
            auto client = obsrv::kafka::make_client(options);
            if (!client) {
                std::fprintf(stderr, "obsrv-raw-producer: %s\n", client.error().message.c_str());
                std::exit(1);
            }
            rd_kafka_t* rk = client->get();
            rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
            size_t next = i;
            uint64_t n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                auto m = messages[next % messages.size()];
                next += producers;
                // No copy: payloads stay in the mapped file until delivered.
                while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, const_cast<char*>(m.data()),
                                        m.size(), nullptr, 0, nullptr) != 0) {
                    if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        std::fprintf(stderr, "produce: %s\n",
                                     rd_kafka_err2str(rd_kafka_last_error()));
                        std::exit(1);
                    }
                    rd_kafka_poll(rk, 5);
                }
                if ((++n & 63) == 0) {
                    rd_kafka_poll(rk, 0);
                }
            }
            sent.fetch_add(n);
            rd_kafka_flush(rk, 60000);
            rd_kafka_topic_destroy(rkt);
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(duration_s));
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = cpu_seconds() - cpu0;
    double msgs_per_s = static_cast<double>(totals.delivered.load()) / elapsed;
    double events_per_s = msgs_per_s * events_per_message;
    double mb_per_s = static_cast<double>(totals.bytes.load()) / elapsed / 1e6;

    std::printf("raw producer: %u producer(s), %zu distinct messages, %.1f s (incl. flush)\n",
                producers, messages.size(), elapsed);
    std::printf("  delivered %llu, failed %llu\n",
                static_cast<unsigned long long>(totals.delivered.load()),
                static_cast<unsigned long long>(totals.failed.load()));
    std::printf("  messages/s %.0f  events/s %.0f  MB/s %.1f  cpu %.2f s\n", msgs_per_s,
                events_per_s, mb_per_s, cpu);
    if (!json_out.empty()) {
        obsrv::json_writer w;
        w.begin_object()
            .key("producers")
            .value(static_cast<int64_t>(producers))
            .key("distinct_messages")
            .value(static_cast<uint64_t>(messages.size()))
            .key("seconds")
            .value(elapsed)
            .key("delivered")
            .value(totals.delivered.load())
            .key("failed")
            .value(totals.failed.load())
            .key("messages_per_second")
            .value(msgs_per_s)
            .key("events_per_second")
            .value(events_per_s)
            .key("megabytes_per_second")
            .value(mb_per_s)
            .key("cpu_seconds")
            .value(cpu)
            .end_object();
        if (json_out == "-") {
            std::cout << w.str() << '\n';
        } else {
            std::ofstream(json_out) << w.str() << '\n';
        }
    }
    ::munmap(const_cast<char*>(data), static_cast<size_t>(st.st_size));
    ::close(fd);
    return totals.failed.load() ? 1 : 0;
}
