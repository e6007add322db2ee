#include "ingress/json_kernel.h"

#include <chrono>

#include <fmt/format.h>
#include <simdjson.h>

#include "ingress/json_check.h"

namespace obsrv::ingress {
namespace {

/// A request-shaped document: an envelope around telemetry-like events.
std::string sample_document() {
    std::string s = R"({"id":"api.data.in","ver":"v2","ts":"2024-01-01","params":{"msgid":"m"},)"
                    R"("data":[)";
    for (int i = 0; i < 40; ++i) {
        s += fmt::format(
            R"({}{{"eid":"INTERACT","ets":{},"ver":"3.0","mid":"m-{}","actor":{{"id":"user-{}",)"
            R"("type":"User"}},"context":{{"channel":"in.bench","pdata":{{"id":"bench.app",)"
            R"("ver":"5.1.2"}},"sid":"a1b2c3d4-e5f6","did":"0123456789abcdef"}},)"
            R"("edata":{{"type":"TOUCH","duration":{}.5,"pos":{{"x":{},"y":7}}}}}})",
            i ? "," : "", 1700000000000 + i, i, i * 7, i, i * 3);
    }
    return s + "]}";
}

}  // namespace

std::string select_fastest_json_kernel() {
    simdjson::padded_string doc(sample_document());
    const simdjson::implementation* best = simdjson::get_active_implementation();
    double best_ns = 1e300;
    for (const auto* impl : simdjson::get_available_implementations()) {
        if (!impl->supported_by_runtime_system() || impl->name() == "fallback") {
            continue;
        }
        simdjson::get_active_implementation() = impl;
        simdjson::dom::parser parser;  // allocates with `impl`
        if (parser.allocate(doc.size()) != simdjson::SUCCESS) {
            continue;
        }
        json_checker checker(parser);
        double fastest = 1e300;
        bool ok = true;
        for (int round = 0; round < 7 && ok; ++round) {
            auto t0 = std::chrono::steady_clock::now();
            for (int k = 0; k < 20; ++k) {
                ok = ok && checker.check(doc);
            }
            fastest = std::min(fastest, std::chrono::duration<double, std::nano>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count());
        }
        if (ok && fastest < best_ns) {
            best_ns = fastest;
            best = impl;
        }
    }
    simdjson::get_active_implementation() = best;
    return best->name();
}

}  // namespace obsrv::ingress
