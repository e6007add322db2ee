// Throughput of the denorm stage (src/pipeline/denormalizer.h) inside the stage chain, in
// events per second, for 400-byte events in batches of B per message, every event with one
// denorm field whose key (one of 1000 vehicles) has a master record:
//
//   chain_no_denorm/B       the chain over a dataset without denorm fields (denorm=skipped):
//                           the reference the others are read against
//   denorm_memory/B         one denorm field, in-process store (the embedded default)
//   denorm_redis/B          one denorm field, Redis store without its cache: one pipelined
//                           GET per event, one round trip per message, against a local
//                           redis-server started by the bench (loopback, no persistence)
//   denorm_redis_cached/B   the same with the in-process cache (every key cached after the
//                           first pass)
//
// Only the dataset topic, denorm, failed and system events are written (raw, unique and
// transform switched off); system events are interval aggregates. The Redis figures include
// the server's work: on a 2-core machine the bench and redis-server each take one core.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/memory_master_store.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/redis_master_store.h"
#include "pipeline/shared_dedup_window.h"
#include "redis/client.h"
#include "redis_server.h"

namespace {

using namespace obsrv::pipeline;
using obsrv::testing::redis_server;

constexpr int k_vehicles = 1000;

redis_server* server() {
    static std::unique_ptr<redis_server> instance = [] {
        auto s = redis_server::launch();
        if (!s) {
            std::fprintf(stderr, "denorm_bench: %s\n", s.error().message.c_str());
            return std::unique_ptr<redis_server>();
        }
        return std::move(*s);
    }();
    return instance.get();
}

std::string vehicle_code(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "KA-%04d", i % k_vehicles);
    return buf;
}

std::string master_record(int i) {
    return R"({"vehicleCode":")" + vehicle_code(i) +
           R"(","model":"Model S","manufacturer":"Tesla","fuelType":"electric",)"
           R"("owner":{"name":"Fleet 7","city":"Pune"}})";
}

// One 400-byte event.
std::string event(int i) {
    std::string e = R"({"id":"e-)" + std::to_string(i) + R"(","vehicleCode":")" +
                    vehicle_code(i * 7919) +
                    R"(","eventTime":1711966306164,"speedKmh":54.5,"fuelLevel":71,)"
                    R"("location":{"lat":18.5204,"lon":73.8567},"engineOn":true,"note":")";
    e.append(400 - e.size() - 2, 'x');
    e.append("\"}");
    return e;
}

std::string batch_message(std::string_view dataset, int first, int n) {
    std::string m = R"({"dataset":")" + std::string(dataset) + R"(","id":"b-)" +
                    std::to_string(first) + R"(","events":[)";
    for (int i = 0; i < n; ++i) {
        if (i > 0) {
            m.push_back(',');
        }
        m.append(event(first + i));
    }
    m.append("]}");
    return m;
}

std::shared_ptr<const dataset_catalog> catalog() {
    std::vector<std::shared_ptr<const obsrv::dataset::dataset>> all;
    for (const char* text : {
             R"({"id":"plain","dataset_id":"plain","type":"event","status":"Live",
                 "extraction_config":{"is_batch_event":true},
                 "dataset_config":{"keys_config":{"timestamp_key":"eventTime"}}})",
             R"({"id":"vt","dataset_id":"vt","type":"event","status":"Live",
                 "extraction_config":{"is_batch_event":true},
                 "denorm_config":{"redis_db_host":"localhost","redis_db_port":6379,
                   "denorm_fields":[{"denorm_key":"vehicleCode","denorm_out_field":"vehicleData",
                                     "dataset_id":"vehicles","redis_db":3}]},
                 "dataset_config":{"keys_config":{"timestamp_key":"eventTime"}}})"}) {
        auto parsed = obsrv::dataset::parse_dataset(text, "bench");
        if (!parsed) {
            std::fprintf(stderr, "denorm_bench: %s\n", parsed.error().message.c_str());
            std::abort();
        }
        all.push_back(std::make_shared<const obsrv::dataset::dataset>(std::move(parsed).value()));
    }
    return dataset_catalog::build(*obsrv::dataset::snapshot::build(std::move(all), 1), {}, nullptr);
}

void fill(master_data_store& store) {
    const master_location where{"", 6379, 3};
    std::vector<std::string> keys;
    std::vector<std::string> records;
    for (int i = 0; i < k_vehicles; ++i) {
        keys.push_back(vehicle_code(i));
        records.push_back(master_record(i));
    }
    std::vector<master_put> puts;
    for (int i = 0; i < k_vehicles; ++i) {
        puts.push_back({keys[i], records[i]});
    }
    upsert_counts counts;
    if (!store.upsert(where, puts, counts)) {
        std::fprintf(stderr, "denorm_bench: cannot fill the master-data store\n");
        std::abort();
    }
}

void run_chain(benchmark::State& state, std::string_view dataset, master_data_store& store) {
    const int batch = static_cast<int>(state.range(0));
    pipeline_options options;
    options.write_raw = false;
    options.write_unique = false;
    options.write_transform = false;
    options.system_event_per_routed_event = false;
    pipeline_metrics metrics(nullptr);
    shared_dedup_window dedup{shared_dedup_window_options{}};
    catalog_source catalogs(catalog());
    pipeline_processor processor(options, catalogs, dedup, metrics, nullptr, &store);
    // Messages made outside the timed region; keys cycle through every vehicle.
    std::vector<std::string> messages;
    for (int m = 0; m < 64; ++m) {
        messages.push_back(batch_message(dataset, m * batch, batch));
    }
    std::vector<output_message> out;
    uint64_t failed = 0;
    size_t next = 0;
    for (auto _ : state) {
        out.clear();
        const auto& message = messages[next++ % messages.size()];
        processor.process(input_message{message, 0, 0, 1711966306164}, out);
        for (const auto& o : out) {
            failed += o.topic == "failed";
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
    state.counters["failed"] = static_cast<double>(failed);  // expected 0
}

void chain_no_denorm(benchmark::State& state) {
    memory_master_store store;
    run_chain(state, "plain", store);
}
BENCHMARK(chain_no_denorm)->Arg(1)->Arg(100);

void denorm_memory(benchmark::State& state) {
    memory_master_store store;
    fill(store);
    run_chain(state, "vt", store);
}
BENCHMARK(denorm_memory)->Arg(1)->Arg(100);

void redis_chain(benchmark::State& state, bool cached) {
    redis_server* s = server();
    if (s == nullptr) {
        state.SkipWithError("redis-server unavailable");
        return;
    }
    redis_master_store_options o;
    o.host_override = s->host();
    o.port_override = s->port();
    o.cache_max_entries = cached ? 100000 : 0;
    redis_master_store store(o);
    fill(store);
    run_chain(state, "vt", store);
    const auto stats = store.stats();
    state.counters["redis_gets_per_event"] =
        static_cast<double>(stats.redis_gets) /
        static_cast<double>(std::max<int64_t>(1, state.iterations() * state.range(0)));
}

void denorm_redis(benchmark::State& state) {
    redis_chain(state, false);
}
BENCHMARK(denorm_redis)->Arg(1)->Arg(100)->UseRealTime();

void denorm_redis_cached(benchmark::State& state) {
    redis_chain(state, true);
}
BENCHMARK(denorm_redis_cached)->Arg(1)->Arg(100)->UseRealTime();

}  // namespace
