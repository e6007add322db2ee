// Throughput of the pipeline's in-memory stage chain (src/pipeline/pipeline_processor.h) and of
// each stage, on the entry-topic messages the gateway writes for the `telemetry` dataset
// (config/datasets/telemetry.json: batch events, batch dedup on msgid, schema validation,
// dedup on mid, indexTS from ets).
//
// Workload: the events of /work/shared/bench/genbody.py (telemetry-like, ~400 B, unique mid),
// 100 per message, wrapped by the gateway's own builder (ingress::build_message, contracts §1):
//   {"obsrv_meta":{...},"dataset":"telemetry","msgid":"req-N","events":[...],"id":"req-N"}
// Every iteration rewrites an 8-digit counter inside the msgid and every mid, so the batch and
// event dedup keys are fresh and dedup does real work (reserve, commit, a full window evicting).
//
//   chain_batch_100            pipeline_processor::process + complete, default options (raw,
//                              unique, denorm, transform, telemetry and a system event per
//                              event: 601 outputs per message)
//   chain_batch_100_dup10      the same with 10 of every 100 events repeating a mid seen before
//                              (ERR_PP_1010 to failed)
//   chain_batch_100_routed_only  intermediate topics off (pipeline.write_* = false) and
//                              interval system events: telemetry outputs only
//   chain_single_event         one event per message ({"event":{...}} shape)
//   stage_extractor            extractor::process (parse, split, wrap, batch dedup)
//   stage_validator            event_validator::process over the 100 extracted events
//   stage_dedup                deduplicator::process + commit, memory store (fresh keys)
//   stage_router               router::process over the 100 deduplicated events
//   reference_parse            simdjson DOM parse of the same message: the floor any stage
//                              chain pays; chain figures are read as a ratio to it
// Items are events; bytes are input message bytes. Before timing, every case runs once and its
// outputs are counted per topic against what the dataset must produce; a mismatch aborts.
// The stage cases time only the stage (manual time, the thread's CPU time): preparing its input
// is not counted. Rates are per CPU second throughout (Google Benchmark's default).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "ingress/ingest_message.h"
#include "ingress/ingest_request.h"
#include "pipeline/dataset_catalog.h"
#include "pipeline/deduplicator.h"
#include "pipeline/event_validator.h"
#include "pipeline/extractor.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/router.h"
#include "pipeline/shared_dedup_window.h"

#ifndef OBSRV_DATASETS_DIR
#error "OBSRV_DATASETS_DIR must name config/datasets"
#endif

namespace {

using namespace obsrv::pipeline;

constexpr int64_t k_syncts = 1'700'000'000'000;
constexpr std::string_view k_hole = "HHHHHHHH";  // replaced by the iteration counter
constexpr size_t k_window_entries = 1'000'000;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "pipeline_bench: %s\n", what.c_str());
    std::abort();
}

// ---- workload ---------------------------------------------------------------------------

// genbody.py's event, same fields, sizes and value shapes; `mid` as given.
class event_maker {
  public:
    std::string event(std::string_view mid, int64_t ets) {
        static constexpr const char* eids[] = {"INTERACT", "IMPRESSION", "START",
                                               "END",      "LOG",        "SEARCH"};
        static constexpr const char* pages[] = {"home",    "content-detail", "library",
                                                "profile", "search-results", "player"};
        char buf[1024];
        const int n = std::snprintf(
            buf, sizeof buf,
            R"({"eid":"%s","ets":%lld,"ver":"3.0","mid":"%.*s","actor":{"id":"user-%06u","type":"User"},)"
            R"("context":{"channel":"in.bench","pdata":{"id":"bench.app","ver":"5.1.%u"},)"
            R"("sid":"%s-%s-%s","did":"%s"},"object":{"id":"do_%llu","type":"Content"},)"
            R"("edata":{"type":"TOUCH","pageid":"%s","duration":%u.%03u,"pos":{"x":%u,"y":%u}}})",
            eids[pick(6)], static_cast<long long>(ets), static_cast<int>(mid.size()), mid.data(),
            pick(1000000), pick(10), hex(8).c_str(), hex(4).c_str(), hex(12).c_str(),
            hex(16).c_str(), 1'000'000'000'000ULL + pick(9'000'000'000'000ULL), pages[pick(6)],
            pick(600), pick(1000), pick(2000), pick(2000));
        return std::string(buf, static_cast<size_t>(n));
    }
    std::string hex(size_t n) {
        static constexpr char digits[] = "0123456789abcdef";
        std::string s(n, '0');
        for (auto& c : s) {
            c = digits[pick(16)];
        }
        return s;
    }

  private:
    unsigned pick(uint64_t n) {
        return static_cast<unsigned>(std::uniform_int_distribution<uint64_t>(0, n - 1)(_rng));
    }
    std::mt19937_64 _rng{42};
};

// One gateway-shaped entry message whose msgid and mids carry an 8-digit counter, rewritten by
// next() so that every call yields never-seen dedup keys. Events whose index is in `fixed`
// keep their mid: after the first message they are duplicates.
class message_source {
  public:
    message_source(size_t events, bool batch, size_t duplicate_every = 0) : _events(events) {
        event_maker maker;
        std::string data = batch ? "[" : "";
        for (size_t k = 0; k < events; ++k) {
            const bool fixed = duplicate_every != 0 && k % duplicate_every == duplicate_every - 1;
            const std::string mid =
                (fixed ? std::string("req-fixed") : "req-" + std::string(k_hole)) + "-ev-" +
                std::to_string(k) + "-" + maker.hex(8);
            if (k > 0) {
                data.push_back(',');
            }
            data += maker.event(mid, k_syncts + static_cast<int64_t>(k));
            _duplicates += fixed ? 1 : 0;
        }
        if (batch) {
            data.push_back(']');
        }
        const std::string msgid = "req-" + std::string(k_hole);
        obsrv::ingress::ingest_request req;
        req.msgid = msgid;
        req.kind = batch ? obsrv::ingress::data_kind::array : obsrv::ingress::data_kind::object;
        req.data = data;
        req.event_count = events;
        obsrv::ingress::message_params params;
        params.dataset_id = "telemetry";
        params.syncts_ms = k_syncts;
        params.minify = false;
        std::string out(obsrv::ingress::message_size_upper_bound(req, params), '\0');
        out.resize(obsrv::ingress::build_message(req, params, out.data()));
        _text = std::move(out);
        for (size_t at = _text.find(k_hole); at != std::string::npos;
             at = _text.find(k_hole, at + k_hole.size())) {
            _holes.push_back(at);
        }
        if (_holes.empty()) {
            die("no counter in the message");
        }
    }

    /// The message with the next counter value.
    std::string_view next() {
        static constexpr char digits[] = "0123456789abcdef";
        char counter[8];
        uint64_t v = _counter++;
        for (int i = 7; i >= 0; --i) {
            counter[i] = digits[v & 15];
            v >>= 4;
        }
        for (size_t at : _holes) {
            std::memcpy(_text.data() + at, counter, sizeof counter);
        }
        return _text;
    }

    size_t events() const { return _events; }
    size_t duplicates() const { return _duplicates; }
    size_t bytes() const { return _text.size(); }
    const std::string& text() const { return _text; }

  private:
    std::string _text;
    std::vector<size_t> _holes;
    uint64_t _counter = 0;
    size_t _events = 0;
    size_t _duplicates = 0;
};

// ---- the dataset and the chain ----------------------------------------------------------

std::shared_ptr<const dataset_catalog> telemetry_catalog() {
    static const auto catalog = [] {
        const std::string path = std::string(OBSRV_DATASETS_DIR) + "/telemetry.json";
        std::ifstream file(path);
        std::stringstream text;
        text << file.rdbuf();
        auto parsed = obsrv::dataset::parse_dataset(text.str(), path);
        if (!parsed) {
            die(parsed.error().message);
        }
        std::vector<std::shared_ptr<const obsrv::dataset::dataset>> all{
            std::make_shared<const obsrv::dataset::dataset>(std::move(parsed).value())};
        std::vector<std::string> problems;
        auto built = dataset_catalog::build(*obsrv::dataset::snapshot::build(std::move(all), 1), {},
                                            &problems);
        if (!problems.empty() || built->find("telemetry") == nullptr) {
            die(problems.empty() ? "telemetry not in the catalog" : problems.front());
        }
        return built;
    }();
    return catalog;
}

int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A full window, as in steady state: every fresh key evicts the one closest to expiry. The
// chain reads the wall clock, so the prefilled keys must not have expired by then.
void prefill(shared_dedup_window& store) {
    const int64_t now = wall_clock_ms();
    constexpr size_t k_batch = 1000;
    std::vector<std::string> keys(k_batch);
    std::vector<dedup_probe> probes(k_batch);
    std::vector<dedup_verdict> verdicts(k_batch);
    for (size_t base = 0; base < k_window_entries; base += k_batch) {
        for (size_t i = 0; i < k_batch; ++i) {
            keys[i] = "prefill-" + std::to_string(base + i);
            probes[i] = dedup_probe{"telemetry", keys[i], 604'800'000};
        }
        (void)store.reserve(probes, verdicts, now);
        store.commit(probes, now);
    }
}

void expect_counts(const char* what, const std::vector<output_message>& out,
                   const std::map<std::string, size_t>& expected);
std::map<std::string, size_t> expected_outputs(const pipeline_options& o, size_t events,
                                               size_t dups, bool batch);

// Google Benchmark calls a case several times while it sizes the iteration count; the fixture
// (a full 1M-key window takes a second to fill) is built once per case and kept while that
// case runs, so its window stays full and its counters keep counting up.
template <typename T, typename... Args>
T& fixture_for(const char* name, Args&&... args) {
    static std::string current_name;
    static std::shared_ptr<void> current;
    if (current_name != name) {
        current.reset();
        current = std::make_shared<T>(std::forward<Args>(args)...);
        current_name = name;
    }
    return *static_cast<T*>(current.get());
}

struct chain_fixture {
    chain_fixture(pipeline_options opts, size_t events, bool batch, size_t duplicate_every)
        : options(std::move(opts)),
          catalogs(telemetry_catalog()),
          store(shared_dedup_window_options{{.max_entries = k_window_entries}}),
          processor(options, catalogs, store, metrics),
          source(events, batch, duplicate_every) {
        prefill(store);
        // Warm-up: the first message makes the fixed mids known; the second must show them as
        // duplicates and everything else routed.
        run(source.next(), out);
        run(source.next(), out);
        expect_counts("chain", out, expected_outputs(options, events, source.duplicates(), batch));
    }

    // One message through the chain, as the runtime runs it (complete() once delivered).
    void run(std::string_view message, std::vector<output_message>& into) {
        into.clear();
        const processing_token t = processor.process(input_message{message, 0, 0, k_syncts}, into);
        if (t != 0) {
            processor.complete(t);
        }
    }

    pipeline_options options;
    pipeline_metrics metrics{nullptr};
    catalog_source catalogs;
    shared_dedup_window store;
    pipeline_processor processor;
    message_source source;
    std::vector<output_message> out;
};

std::map<std::string, size_t> count_by_topic(const std::vector<output_message>& out) {
    std::map<std::string, size_t> n;
    for (const auto& m : out) {
        ++n[std::string(m.topic)];
    }
    return n;
}

std::string describe(const std::map<std::string, size_t>& counts) {
    std::string s;
    for (const auto& [topic, n] : counts) {
        s += topic + "=" + std::to_string(n) + " ";
    }
    return s;
}

void expect_counts(const char* what, const std::vector<output_message>& out,
                   const std::map<std::string, size_t>& expected) {
    const auto got = count_by_topic(out);
    if (got != expected) {
        die(std::string(what) + ": outputs " + describe(got) + "expected " + describe(expected));
    }
}

// What one message of `events` events, `dups` of them duplicates, must produce.
std::map<std::string, size_t> expected_outputs(const pipeline_options& o, size_t events,
                                               size_t dups, bool batch) {
    const size_t unique = events - dups;
    std::map<std::string, size_t> m;
    if (o.write_raw) {
        m["raw"] = events;
    }
    if (o.write_unique && unique > 0) {
        m["unique"] = unique;
    }
    if (o.write_denorm && unique > 0) {
        m["denorm"] = unique;
    }
    if (o.write_transform && unique > 0) {
        m["transform"] = unique;
    }
    m["telemetry"] = unique;
    // One extractor event per batch, one completion event per routed event (per_event mode).
    const size_t system = (batch ? 1 : 0) + (o.system_event_per_routed_event ? unique : 0);
    if (system > 0) {
        m["system.events"] = system;
    }
    if (dups > 0) {
        m["failed"] = dups;
    }
    return m;
}

void set_counters(benchmark::State& state, const message_source& source) {
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * source.events()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * source.bytes()));
}

void chain_case(benchmark::State& state, const char* name, const pipeline_options& options,
                size_t events, bool batch, size_t duplicate_every) {
    auto& f = fixture_for<chain_fixture>(name, options, events, batch, duplicate_every);
    size_t outputs = 0;
    size_t output_bytes = 0;
    for (auto _ : state) {
        f.run(f.source.next(), f.out);
        outputs += f.out.size();
        benchmark::DoNotOptimize(f.out.data());
    }
    for (const auto& m : f.out) {
        output_bytes += m.payload.size();
    }
    set_counters(state, f.source);
    state.counters["outputs/msg"] = static_cast<double>(outputs) / state.iterations();
    state.counters["out_bytes/msg"] = static_cast<double>(output_bytes);
    state.counters["outputs/s"] =
        benchmark::Counter(static_cast<double>(outputs), benchmark::Counter::kIsRate);
    state.counters["evicted"] = static_cast<double>(f.store.stats().evicted);
}

void chain_batch_100(benchmark::State& state) {
    chain_case(state, "chain_batch_100", {}, 100, true, 0);
}
BENCHMARK(chain_batch_100);

void chain_batch_100_dup10(benchmark::State& state) {
    chain_case(state, "chain_batch_100_dup10", {}, 100, true, 10);
}
BENCHMARK(chain_batch_100_dup10);

void chain_batch_100_routed_only(benchmark::State& state) {
    pipeline_options o;
    o.write_raw = o.write_unique = o.write_denorm = o.write_transform = false;
    o.system_event_per_routed_event = false;
    chain_case(state, "chain_batch_100_routed_only", o, 100, true, 0);
}
BENCHMARK(chain_batch_100_routed_only);

void chain_single_event(benchmark::State& state) {
    chain_case(state, "chain_single_event", {}, 1, false, 0);
}
BENCHMARK(chain_single_event);

// ---- stages -----------------------------------------------------------------------------

// The stages as pipeline_processor drives them, one by one, on one worker's objects.
struct stage_fixture {
    stage_fixture()
        : catalog(telemetry_catalog()),
          store(shared_dedup_window_options{{.max_entries = k_window_entries}}),
          ctx(options, metrics),
          extract(&store),
          dedup(store),
          route(options),
          source(100, true) {
        prefill(store);
        ctx.now_ms = wall_clock_ms();
        ctx.out = &out;
    }

    void extract_next() {
        ctx.meta_text.reset();  // as pipeline_processor does for each message
        out.clear();
        events.clear();
        reserved = reserved_keys{};
        extract.process(input_message{source.next(), 0, 0, k_syncts}, *catalog, ctx, events,
                        reserved);
    }
    void validate_all() {
        for (auto& r : events) {
            validator.process(r, ctx);
        }
    }
    void commit_reserved() {
        const auto probes = reserved.probes();
        store.commit(probes, ctx.now_ms);
    }

    pipeline_options options;
    pipeline_metrics metrics{nullptr};
    std::shared_ptr<const dataset_catalog> catalog;
    shared_dedup_window store;
    stage_context ctx;
    extractor extract;
    event_validator validator;
    deduplicator dedup;
    router route;
    message_source source;
    std::vector<output_message> out;
    std::vector<event_record> events;
    reserved_keys reserved;
};

void check(bool ok, const char* what) {
    if (!ok) {
        die(what);
    }
}

size_t passing(const std::vector<event_record>& events) {
    size_t n = 0;
    for (const auto& r : events) {
        n += r.result == stage_result::pass ? 1 : 0;
    }
    return n;
}

// The thread's CPU time, like the CPU column of the other cases: on a shared machine the wall
// clock also counts the time other processes had the core.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename F>
double seconds_of(F&& f) {
    const double t0 = thread_cpu_seconds();
    f();
    return thread_cpu_seconds() - t0;
}

void stage_extractor(benchmark::State& state) {
    auto& f = fixture_for<stage_fixture>("stage_extractor");
    f.extract_next();
    check(f.events.size() == 100 && passing(f.events) == 100, "extractor: 100 events expected");
    expect_counts("extractor", f.out, {{"system.events", 1}});
    f.commit_reserved();
    for (auto _ : state) {
        // The batch key it reserves is committed, as after delivery; not timed.
        const double s = seconds_of([&] { f.extract_next(); });
        benchmark::DoNotOptimize(f.events.data());
        f.commit_reserved();
        state.SetIterationTime(s);
    }
    set_counters(state, f.source);
}
BENCHMARK(stage_extractor)->UseManualTime();

void stage_validator(benchmark::State& state) {
    auto& f = fixture_for<stage_fixture>("stage_validator");
    f.extract_next();
    f.out.clear();
    f.validate_all();
    check(passing(f.events) == 100 && f.out.empty(), "validator: 100 valid events expected");
    for (auto _ : state) {
        f.validate_all();
        benchmark::DoNotOptimize(f.events.data());
    }
    check(passing(f.events) == 100 && f.out.empty(), "validator: verdicts changed");
    set_counters(state, f.source);
}
BENCHMARK(stage_validator);

void stage_dedup(benchmark::State& state) {
    auto& f = fixture_for<stage_fixture>("stage_dedup");
    f.extract_next();
    f.validate_all();
    f.out.clear();
    check(f.dedup.process(f.events, f.ctx, f.reserved), "dedup: store did not answer");
    check(passing(f.events) == 100 && f.out.empty() && f.reserved.keys.size() == 101,
          "dedup: 100 unique events expected");
    for (auto _ : state) {
        f.commit_reserved();  // the previous message's keys, as after its delivery
        f.extract_next();
        f.validate_all();
        const double s = seconds_of([&] {
            (void)f.dedup.process(f.events, f.ctx, f.reserved);
            f.commit_reserved();
        });
        f.reserved = reserved_keys{};
        benchmark::DoNotOptimize(f.events.data());
        state.SetIterationTime(s);
    }
    check(passing(f.events) == 100, "dedup: fresh keys reported as duplicates");
    set_counters(state, f.source);
    state.counters["evicted"] = static_cast<double>(f.store.stats().evicted);
}
BENCHMARK(stage_dedup)->UseManualTime();

void stage_router(benchmark::State& state) {
    auto& f = fixture_for<stage_fixture>("stage_router");
    f.extract_next();
    f.validate_all();
    check(f.dedup.process(f.events, f.ctx, f.reserved), "router: dedup did not answer");
    f.out.clear();
    const std::vector<event_record> deduplicated = f.events;
    for (auto& r : f.events) {
        f.route.process(r, f.ctx);
    }
    expect_counts("router", f.out, {{"telemetry", 100}, {"system.events", 100}});
    for (auto _ : state) {
        f.out.clear();
        f.events = deduplicated;  // markComplete ran on them: start from the dedup output
        const double s = seconds_of([&] {
            for (auto& r : f.events) {
                f.route.process(r, f.ctx);
            }
        });
        benchmark::DoNotOptimize(f.out.data());
        state.SetIterationTime(s);
    }
    set_counters(state, f.source);
}
BENCHMARK(stage_router)->UseManualTime();

// ---- reference ----------------------------------------------------------------------------

void reference_parse(benchmark::State& state) {
    message_source source(100, true);
    simdjson::dom::parser parser;
    for (auto _ : state) {
        const std::string_view text = source.next();
        auto doc = parser.parse(text.data(), text.size(), true);
        check(doc.error() == simdjson::SUCCESS, "reference: parse failed");
        benchmark::DoNotOptimize(doc.value_unsafe());
    }
    set_counters(state, source);
}
BENCHMARK(reference_parse);

}  // namespace
