// Throughput of obsrv::schema validation (src/schema/validator.h) on a
// ~400 B telemetry event against a realistic dataset schema: 15 properties,
// a nested object, required, enum, a string pattern and integer minimums.
//
//   parse_only               simdjson DOM parse of the event: the reference cost
//   validate_valid           validate() of the parsed event, no error collection
//   validate_valid_errors    the same with an errors vector (as the stage calls it)
//   validate_invalid         an event with 4 errors, collecting them
//   validate_invalid_fast    the invalid event, verdict only (stops at the first error)
//   parse_and_validate       both together, per event
// Items are events; bytes are the event's JSON size.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "schema/validator.h"

namespace {

constexpr std::string_view k_schema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "mid": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
    "eid": {"type": "string", "enum": ["IMPRESSION", "INTERACT", "START", "END", "LOG"]},
    "ets": {"type": "integer", "minimum": 0},
    "ver": {"type": "string"},
    "actor": {"type": "string", "maxLength": 64},
    "vehicleCode": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{2}-[A-Z]{1,2}-[0-9]{4}$"},
    "speed": {"type": "number", "minimum": 0, "maximum": 300},
    "fuel": {"type": "number", "minimum": 0},
    "odometer": {"type": "integer", "minimum": 0},
    "ignition": {"type": "boolean"},
    "driver": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 16},
    "status": {"type": "string", "enum": ["moving", "idle", "parked"]},
    "seq": {"type": "integer", "minimum": 1},
    "location": {
      "type": "object",
      "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy": {"type": "integer", "minimum": 0}
      },
      "required": ["lat", "lon"],
      "additionalProperties": false
    }
  },
  "required": ["mid", "eid", "ets", "vehicleCode", "speed", "location"],
  "additionalProperties": false
})";

constexpr std::string_view k_valid =
    R"({"mid":"3f2b8c1e-4f1c-4b7e-9c2d-0000000a1b2c","eid":"LOG","ets":1717171717171,"ver":"3.0","actor":"device-7781","vehicleCode":"KA-01-AB-1234","speed":63.5,"fuel":41.25,"odometer":128734,"ignition":true,"driver":"d-0042","tags":["fleet","south","night-shift"],"status":"moving","seq":99812,"location":{"lat":12.9716,"lon":77.5946,"accuracy":8}})";

// Four errors: enum, pattern, minimum, nested additionalProperties.
constexpr std::string_view k_invalid =
    R"({"mid":"3f2b8c1e-4f1c-4b7e-9c2d-0000000a1b2c","eid":"CLICK","ets":1717171717171,"ver":"3.0","actor":"device-7781","vehicleCode":"ka-01-ab-1234","speed":-3.5,"fuel":41.25,"odometer":128734,"ignition":true,"driver":null,"tags":["fleet","south","night-shift"],"status":"moving","seq":99812,"location":{"lat":12.9716,"lon":77.5946,"alt":920}})";

std::shared_ptr<const obsrv::schema::compiled_schema> schema() {
    static const auto s = [] {
        auto r = obsrv::schema::compiled_schema::compile(k_schema);
        if (!r) {
            std::fprintf(stderr, "%s\n", r.error().message.c_str());
            std::abort();
        }
        return *r;
    }();
    return s;
}

// Checks each fixture's verdict before timing, so a broken validator cannot
// post a fast number.
void verify(const simdjson::padded_string& json, bool expect_valid, std::size_t expect_errors) {
    simdjson::dom::parser parser;
    std::vector<obsrv::schema::validation_error> errors;
    const bool valid = schema()->validate(parser.parse(json).value(), &errors);
    if (valid != expect_valid || errors.size() != expect_errors) {
        std::fprintf(stderr, "fixture check failed: valid=%d errors=%zu\n", valid, errors.size());
        std::abort();
    }
}

void set_counters(benchmark::State& state, std::size_t bytes) {
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

void parse_only(benchmark::State& state) {
    const simdjson::padded_string json(k_valid);
    simdjson::dom::parser parser;
    for (auto _ : state) {
        simdjson::dom::element doc = parser.parse(json).value();
        benchmark::DoNotOptimize(doc);
    }
    set_counters(state, json.size());
}

void validate_case(benchmark::State& state, std::string_view text, bool valid, std::size_t errs,
                   bool collect) {
    const simdjson::padded_string json(text);
    verify(json, valid, errs);
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(json).value();
    const auto s = schema();
    std::vector<obsrv::schema::validation_error> errors;
    errors.reserve(16);
    for (auto _ : state) {
        errors.clear();
        bool ok = s->validate(doc, collect ? &errors : nullptr);
        benchmark::DoNotOptimize(ok);
    }
    set_counters(state, json.size());
}

void validate_valid(benchmark::State& state) {
    validate_case(state, k_valid, true, 0, false);
}
void validate_valid_errors(benchmark::State& state) {
    validate_case(state, k_valid, true, 0, true);
}
void validate_invalid(benchmark::State& state) {
    validate_case(state, k_invalid, false, 4, true);
}
void validate_invalid_fast(benchmark::State& state) {
    validate_case(state, k_invalid, false, 4, false);
}

void parse_and_validate(benchmark::State& state) {
    const simdjson::padded_string json(k_valid);
    verify(json, true, 0);
    simdjson::dom::parser parser;
    const auto s = schema();
    std::vector<obsrv::schema::validation_error> errors;
    for (auto _ : state) {
        errors.clear();
        bool ok = s->validate(parser.parse(json).value(), &errors);
        benchmark::DoNotOptimize(ok);
    }
    set_counters(state, json.size());
}

}  // namespace

BENCHMARK(parse_only);
BENCHMARK(validate_valid);
BENCHMARK(validate_valid_errors);
BENCHMARK(validate_invalid);
BENCHMARK(validate_invalid_fast);
BENCHMARK(parse_and_validate);
