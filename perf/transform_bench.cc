// Throughput of the transformer stage (src/pipeline/transformer.h) on a ~400 B event.
//
//   parse_event          simdjson DOM parse of the event: the reference cost, same run
//   mask_value           obsrv_mask of an e-mail and of a phone number
//   encrypt_value        AES-128/ECB/PKCS5 + Base64 of the e-mail (one OpenSSL context)
//   stage_skipped        the stage on a dataset without transformations (flag only)
//   stage_mask           the stage with one mask (read, mask, merge, re-serialise)
//   stage_encrypt        the stage with one encrypt
//   stage_three          the stage with three: mask e-mail, mask phone to a new field,
//                        encrypt e-mail to a new object (Obsrv's typical PII set)
//   stage_three_reparse  the same plus a mask of the timestamp key, so the rewritten event is
//                        parsed again for the router
// Items are events (values for *_value); bytes are the event's JSON size.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/field_cipher.h"
#include "pipeline/mask.h"
#include "pipeline/transformer.h"

namespace {

using namespace obsrv::pipeline;

constexpr std::string_view k_event =
    R"({"mid":"3f2b8c1e-4f1c-4b7e-9c2d-0000000a1b2c","eid":"LOG","ets":1717171717171,"ver":"3.0","vehicleCode":"KA-01-AB-1234","speed":63.5,"fuel":41.25,"odometer":128734,"ignition":true,"tags":["fleet","south","night-shift"],"status":"moving","seq":99812,"dealer":{"dealerCode":"D123","email":"dealer1@gmail.com","phone":"9849012345"},"location":{"lat":12.9716,"lon":77.5946,"accuracy":8},"when":"2024-03-01T10:00:00Z"})";

constexpr std::string_view k_mask =
    R"({"field_key":"dealer.email","transformation_function":{"type":"mask","expr":"dealer.email"}})";
constexpr std::string_view k_mask_phone =
    R"({"field_key":"dealer.maskedPhone","transformation_function":{"type":"mask","expr":"dealer.phone"},"mode":"Lenient"})";
constexpr std::string_view k_encrypt =
    R"({"field_key":"secure.email","transformation_function":{"type":"encrypt","expr":"dealer.email"}})";
constexpr std::string_view k_mask_when =
    R"({"field_key":"when","transformation_function":{"type":"mask","expr":"when"}})";

void fail(const std::string& what) {
    std::fprintf(stderr, "transform_bench: %s\n", what.c_str());
    std::abort();
}

// One dataset "b" with the given transformations, compiled as the catalog does.
std::shared_ptr<const dataset_catalog> catalog(const std::vector<std::string_view>& steps) {
    std::string text =
        R"({"id":"b","dataset_id":"b","type":"event","status":"Live",)"
        R"("dataset_config":{"keys_config":{"timestamp_key":"when"}},"transformations_config":[)";
    for (size_t i = 0; i < steps.size(); ++i) {
        text += (i == 0 ? "" : ",") + std::string(steps[i]);
    }
    text += "]}";
    auto parsed = obsrv::dataset::parse_dataset(text, "bench");
    if (!parsed) {
        fail(parsed.error().message);
    }
    auto snapshot = obsrv::dataset::snapshot::build(
        {std::make_shared<const obsrv::dataset::dataset>(std::move(parsed).value())}, 1);
    obsrv::dataset::system_settings settings;
    settings.encryption_secret_key = "obsrv-test-key16";
    std::vector<std::string> problems;
    auto c = dataset_catalog::build(*snapshot, settings, &problems);
    if (!problems.empty()) {
        fail(problems.front());
    }
    return c;
}

void parse_event(benchmark::State& state) {
    const simdjson::padded_string json(k_event);
    simdjson::dom::parser parser;
    for (auto _ : state) {
        simdjson::dom::element doc = parser.parse(json).value();
        benchmark::DoNotOptimize(doc);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * k_event.size()));
}

void mask_value(benchmark::State& state) {
    std::string out;
    obsrv_mask("dealer1@gmail.com", out);
    if (out != "de****1@gmail.com") {
        fail("mask: " + out);
    }
    const std::string_view values[] = {"dealer1@gmail.com", "9849012345"};
    size_t i = 0;
    for (auto _ : state) {
        out.clear();
        obsrv_mask(values[i++ & 1], out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void encrypt_value(benchmark::State& state) {
    auto cipher = field_cipher::create("obsrv-test-key16");
    if (!cipher) {
        fail(cipher.error().message);
    }
    std::string out;
    // printf %s dealer1@gmail.com | openssl enc -aes-128-ecb -K <hex of the key> | base64
    if (!cipher->encrypt("dealer1@gmail.com", out) ||
        out != "A+5iaq89XZJgAJkkoUTgoCAJ2+yBqrbLhyOnHWDnpXY=") {
        fail("encrypt: " + out);
    }
    for (auto _ : state) {
        out.clear();
        cipher->encrypt("dealer1@gmail.com", out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The stage over one event per iteration, the record reset each time as the extractor would
// hand it over. `expect` must appear in the rewritten event (checked before timing).
void stage(benchmark::State& state, const std::vector<std::string_view>& steps,
           std::string_view expect) {
    const auto c = catalog(steps);
    const compiled_dataset* ds = c->find("b");
    simdjson::dom::parser parser;
    const simdjson::padded_string json(k_event);
    const simdjson::dom::element parsed = parser.parse(json).value();
    pipeline_options options;
    pipeline_metrics metrics(nullptr);
    stage_context ctx(options, metrics);
    std::vector<output_message> out;
    ctx.out = &out;
    transformer t;
    std::vector<event_record> events(1);
    const auto reset = [&] {
        event_record& r = events[0];
        r.dataset = ds;
        r.event = parsed;
        r.json = k_event;
        r.meta = obsrv_meta{};
        r.result = stage_result::pass;
        out.clear();
    };
    reset();
    t.process(events, ctx);
    if (events[0].result != stage_result::pass ||
        events[0].json.find(expect) == std::string_view::npos) {
        fail("stage output: " + std::string(events[0].json));
    }
    for (auto _ : state) {
        reset();
        t.process(events, ctx);
        benchmark::DoNotOptimize(events[0].json.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * k_event.size()));
}

void stage_skipped(benchmark::State& state) {
    stage(state, {}, R"("email":"dealer1@gmail.com")");
}
void stage_mask(benchmark::State& state) {
    stage(state, {k_mask}, R"("email":"de****1@gmail.com")");
}
void stage_encrypt(benchmark::State& state) {
    stage(state, {k_encrypt},
          R"("secure":{"email":"A+5iaq89XZJgAJkkoUTgoCAJ2+yBqrbLhyOnHWDnpXY="})");
}
void stage_three(benchmark::State& state) {
    stage(state, {k_mask, k_mask_phone, k_encrypt}, R"("maskedPhone":"98******45")");
}
void stage_three_reparse(benchmark::State& state) {
    stage(state, {k_mask, k_mask_phone, k_encrypt, k_mask_when},
          R"("when":"202*************:00Z")");
}

}  // namespace

BENCHMARK(parse_event);
BENCHMARK(mask_value);
BENCHMARK(encrypt_value);
BENCHMARK(stage_skipped);
BENCHMARK(stage_mask);
BENCHMARK(stage_encrypt);
BENCHMARK(stage_three);
BENCHMARK(stage_three_reparse);
