// The gateway role on the embedded broker: Obsrv's routes, bodies and Kafka
// messages, refusals, backpressure, Kafka outages and dataset reloads.

#include "ingress/gateway.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/config.h"
#include "common/deflate_compress.h"
#include "kafka/embedded_cluster.h"
#include "kafka_helpers.h"
#include "raw_http_client.h"
#include "test_env.h"

namespace obsrv::ingress {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using testing::raw_http_client;

std::string http_post(std::string_view path, std::string_view body, std::string_view extra = {}) {
    return fmt::format(
        "POST {} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: "
        "{}\r\n{}\r\n{}",
        path, body.size(), extra, body);
}

std::string v2_body(std::string_view msgid, std::string_view data) {
    return fmt::format(R"({{"id":"api.data.in","ver":"v2","ts":"2024-01-01","params":)"
                       R"({{"msgid":"{}"}},"data":{}}})",
                       msgid, data);
}

std::string gzip(std::string_view text) {
    return deflate_compress(text, deflate_wrapper::gzip);
}

/// A field of a JSON response body, as text.
std::string field(const std::string& json, std::initializer_list<const char*> path) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    if (parser.parse(json).get(e)) {
        return "<not json>";
    }
    for (const char* key : path) {
        if (e[key].get(e)) {
            return "<missing>";
        }
    }
    std::string_view s;
    if (e.get(s) == simdjson::SUCCESS) {
        return std::string(s);
    }
    return simdjson::to_string(e);
}

class gateway_test : public ::testing::Test {
  protected:
    void SetUp() override {
        auto cluster = kafka::embedded_cluster::start(1);
        ASSERT_TRUE(cluster) << cluster.error().message;
        _cluster = std::move(*cluster);
        ASSERT_EQ(_cluster->create_topic("ingest", 4, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
        _dir = testing::make_temp_dir("datasets");
        for (const auto& entry :
             std::filesystem::directory_iterator(testing::source_dir() + "/config/datasets")) {
            std::filesystem::copy(entry.path(), _dir);
        }
        std::ofstream(_dir + "/retired.json") << R"({"dataset_id":"retired","type":"event",)"
                                                 R"("status":"Retired","api_version":"v2"})";
        _datasets = std::make_unique<dataset::registry>(_dir, _registry);
        auto st = _datasets->load();
        ASSERT_TRUE(st) << st.error().message;
    }

    void start(std::vector<std::string> overrides = {}) {
        auto loaded = config::load(std::nullopt, overrides);
        ASSERT_TRUE(loaded) << loaded.error().message;
        _settings = std::move(*loaded);
        _settings.gateway.bind = "127.0.0.1";
        _settings.gateway.port = 0;
        if (_settings.gateway.workers == 0) {
            _settings.gateway.workers = 2;
        }
        _gateway = std::make_unique<gateway>(
            _settings, _cluster->bootstrap(), *_datasets, _registry,
            [this] { return _reachable.load(); },
            [] {
                return std::pair<int, std::string>{200, R"({"status":"ready"})"};
            });
        auto st = _gateway->start();
        ASSERT_TRUE(st) << st.error().message;
    }

    void TearDown() override {
        if (_gateway) {
            _gateway->stop(std::chrono::steady_clock::now() + 5s);
        }
    }

    std::optional<testing::parsed_response> request(const std::string& bytes) {
        raw_http_client c(_gateway->port());
        if (!c.send(bytes)) {
            return std::nullopt;
        }
        return c.read_response(testing::scaled(20s));
    }

    std::vector<std::string> ingest_messages(size_t count, std::chrono::milliseconds wait = 10s) {
        return testing::read_topic(_cluster->bootstrap(), "ingest", count, testing::scaled(wait));
    }

    metrics::registry _registry;
    std::unique_ptr<kafka::embedded_cluster> _cluster;
    std::string _dir;
    std::unique_ptr<dataset::registry> _datasets;
    settings _settings;
    std::atomic<bool> _reachable{true};
    std::unique_ptr<gateway> _gateway;
};

TEST_F(gateway_test, array_data_becomes_one_obsrv_message_with_the_events_under_the_key) {
    start();
    int64_t before = id_source::now_ms();
    auto r = request(http_post("/v2/data/in/telemetry",
                               v2_body("msg-1", R"([{"mid":"e1","x":1}, {"mid":"e2"}])")));
    int64_t after = id_source::now_ms();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->header("Content-Type"), "application/json");
    EXPECT_EQ(field(r->body, {"id"}), "api.data.in");
    EXPECT_EQ(field(r->body, {"ver"}), "v2");
    EXPECT_EQ(field(r->body, {"params", "status"}), "SUCCESS");
    EXPECT_EQ(field(r->body, {"params", "msgid"}), "msg-1");
    EXPECT_EQ(field(r->body, {"params", "resmsgid"}).size(), 36u);
    EXPECT_EQ(field(r->body, {"responseCode"}), "OK");
    EXPECT_EQ(field(r->body, {"result", "message"}), "Data ingested successfully");

    auto messages = ingest_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages[0];
    ASSERT_THAT(m, StartsWith(R"({"obsrv_meta":{"syncts":)"));
    auto syncts = std::stoll(field(m, {"obsrv_meta", "syncts"}));
    EXPECT_GE(syncts, before);
    EXPECT_LE(syncts, after);
    EXPECT_EQ(m.substr(m.find(",\"flags\"")),
              R"(,"flags":{},"timespans":{},"error":{},"source":{"connector":"api",)"
              R"("connectorInstance":"api"}},"dataset":"telemetry","msgid":"msg-1",)"
              R"("events":[{"mid":"e1","x":1}, {"mid":"e2"}],"id":"msg-1"})")
        << "the events are copied verbatim by default (gateway.minify off)";
}

TEST_F(gateway_test, minify_removes_the_whitespace_between_tokens_as_json_stringify_does) {
    start({"gateway.minify=true"});
    auto r = request(
        http_post("/v2/data/in/telemetry",
                  v2_body("msg-1", "[ {\"mid\" : \"e 1\",\n \"x\":1}, {\"mid\":\"e2\"} ]")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    auto messages = ingest_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages[0];
    EXPECT_EQ(m.substr(m.find(",\"events\"")),
              R"(,"events":[{"mid":"e 1","x":1},{"mid":"e2"}],"id":"msg-1"})");
}

TEST_F(gateway_test, object_data_becomes_the_event_and_alias_finds_the_dataset) {
    start();
    auto r = request(http_post("/v2/data/in/vehicle-telemetry",
                               v2_body("m2", R"({"id":"v1","vehicleCode":"V1","ts":5})")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    auto r2 = request(http_post("/v2/data/in/sunbird-telemetry", v2_body("m3", "[]")));
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->status, 200) << r2->body;

    auto messages = ingest_messages(2);
    ASSERT_EQ(messages.size(), 2u);
    std::sort(messages.begin(), messages.end());  // partitions interleave
    const auto& event = messages[0].starts_with(R"({"event")") ? messages[0] : messages[1];
    const auto& batch = messages[0].starts_with(R"({"event")") ? messages[1] : messages[0];
    EXPECT_THAT(event,
                StartsWith(R"({"event":{"id":"v1","vehicleCode":"V1","ts":5},"obsrv_meta":)"));
    EXPECT_THAT(event, HasSubstr(R"(},"dataset":"vehicle-telemetry","msgid":"m2"})"));
    EXPECT_THAT(batch, HasSubstr(R"("dataset":"telemetry","msgid":"m3","events":[],"id":"m3"})"))
        << "the alias resolves to the dataset id";
}

struct refusal_case {
    const char* name;
    std::string request;
    int status;
    const char* code;
    const char* message;
};

class gateway_refusals : public gateway_test, public ::testing::WithParamInterface<refusal_case> {};

TEST_P(gateway_refusals, answer_with_obsrv_error_and_write_nothing) {
    start({"gateway.max_body_bytes=4096", "gateway.max_head_bytes=2048"});
    const auto& c = GetParam();
    auto r = request(c.request);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name << ": " << r->body;
    EXPECT_EQ(field(r->body, {"params", "status"}), "FAILED") << c.name;
    EXPECT_EQ(field(r->body, {"error", "code"}), c.code) << c.name;
    EXPECT_THAT(field(r->body, {"error", "message"}), HasSubstr(c.message)) << c.name;
    // Anything accepted would be in Kafka by the time the response was sent.
    EXPECT_EQ(testing::topic_message_count(_cluster->bootstrap(), "ingest"), 0) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    cases, gateway_refusals,
    ::testing::Values(
        refusal_case{"invalid_json", http_post("/v2/data/in/telemetry", R"({"id":"api.data.in",)"),
                     400, "DATA_INGESTION_INVALID_INPUT", ""},
        refusal_case{"invalid_utf8",
                     http_post("/v2/data/in/telemetry", v2_body("m", "[{\"a\":\"\xC3\x28\"}]")),
                     400, "DATA_INGESTION_INVALID_INPUT", "UTF-8"},
        refusal_case{"missing_msgid",
                     http_post("/v2/data/in/telemetry",
                               R"({"id":"api.data.in","ver":"v2","ts":"1","params":{},"data":[]})"),
                     400, "DATA_INGESTION_INVALID_INPUT", "must have required property 'msgid'"},
        refusal_case{"data_not_object", http_post("/v2/data/in/telemetry", v2_body("m", "[1,2]")),
                     400, "DATA_INGESTION_INVALID_INPUT", "data"},
        refusal_case{"unknown_dataset", http_post("/v2/data/in/nosuch", v2_body("m", "[]")), 404,
                     "DATASET_NOT_FOUND", "Dataset with id/alias name 'nosuch' not found"},
        refusal_case{"dataset_not_live", http_post("/v2/data/in/retired", v2_body("m", "[]")), 404,
                     "DATASET_NOT_FOUND", "Retired"},
        refusal_case{"dataset_id_malformed_escape",
                     http_post("/v2/data/in/tele%zzmetry", v2_body("m", "[]")), 400,
                     "DATA_INGESTION_INVALID_INPUT", "Failed to decode param"},
        refusal_case{"dataset_id_escapes_not_utf8",
                     http_post("/v2/data/in/tele%FFmetry", v2_body("m", "[]")), 400,
                     "DATA_INGESTION_INVALID_INPUT", "Failed to decode param"},
        refusal_case{"body_too_large", http_post("/v2/data/in/telemetry", std::string(5000, ' ')),
                     413, "DATA_INGESTION_PAYLOAD_TOO_LARGE", ""},
        refusal_case{"headers_too_large",
                     http_post("/v2/data/in/telemetry", v2_body("m", "[]"),
                               "X-Padding: " + std::string(3000, 'p') + "\r\n"),
                     431, "REQUEST_HEADERS_TOO_LARGE", ""},
        refusal_case{"malformed_http", "POST /v2/data/in/telemetry HTTP/1.1\r\nBad Header\r\n\r\n",
                     400, "HTTP_PROTOCOL_ERROR", ""},
        refusal_case{"smuggling",
                     "POST /v2/data/in/telemetry HTTP/1.1\r\nContent-Length: 2\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                     400, "HTTP_PROTOCOL_ERROR", ""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(gateway_test, unknown_route_gets_obsrvs_route_not_found) {
    start();
    auto r = request("GET /v2/data/in/telemetry HTTP/1.1\r\nHost: gw\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(field(r->body, {"id"}), "api");
}

TEST_F(gateway_test, pipelined_requests_are_answered_in_order_and_all_written) {
    start();
    std::string batch;
    for (int i = 0; i < 20; ++i) {
        batch += http_post("/v2/data/in/telemetry",
                           v2_body(fmt::format("p{}", i), fmt::format(R"([{{"mid":"{}"}}])", i)));
    }
    raw_http_client c(_gateway->port());
    ASSERT_TRUE(c.send(batch));
    for (int i = 0; i < 20; ++i) {
        auto r = c.read_response(testing::scaled(20s));
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(field(r->body, {"params", "msgid"}), fmt::format("p{}", i));
    }
    EXPECT_EQ(ingest_messages(20).size(), 20u);
}

// Pipelined requests mixing gzip, deflate and plain bodies: one decode buffer per worker serves
// them in turn, and each message keeps its own events.
TEST_F(gateway_test, pipelined_compressed_requests_each_write_their_own_events) {
    start({"gateway.workers=1"});
    std::string batch;
    for (int i = 0; i < 30; ++i) {
        const std::string body =
            v2_body(fmt::format("z{}", i), fmt::format(R"([{{"mid":"m{}","pad":"{}"}}])", i,
                                                       std::string(100 + i * 97, 'a' + i % 26)));
        if (i % 3 == 0) {
            batch += http_post("/v2/data/in/telemetry", gzip(body), "Content-Encoding: gzip\r\n");
        } else if (i % 3 == 1) {
            batch +=
                http_post("/v2/data/in/telemetry", deflate_compress(body, deflate_wrapper::zlib),
                          "Content-Encoding: deflate\r\n");
        } else {
            batch += http_post("/v2/data/in/telemetry", body);
        }
    }
    raw_http_client c(_gateway->port());
    ASSERT_TRUE(c.send(batch));
    for (int i = 0; i < 30; ++i) {
        auto r = c.read_response(testing::scaled(20s));
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(field(r->body, {"params", "msgid"}), fmt::format("z{}", i));
    }
    const auto messages = ingest_messages(30);
    ASSERT_EQ(messages.size(), 30u);
    std::set<std::string> seen;
    for (const auto& m : messages) {
        const std::string msgid = field(m, {"msgid"});
        const int i = std::stoi(msgid.substr(1));
        EXPECT_THAT(m, HasSubstr(fmt::format(R"("events":[{{"mid":"m{}","pad":"{}"}}])", i,
                                             std::string(100 + i * 97, 'a' + i % 26))));
        seen.insert(msgid);
    }
    EXPECT_EQ(seen.size(), 30u);
}

// Bodies that fill most of a receive buffer become the Kafka message in that buffer (the
// message is written around the data instead of copying it). The message must be the one the
// copying path writes, including when the msgid sits after the data (the frame's suffix
// overwrites it) and when pipelined requests share the buffer.
TEST_F(gateway_test, large_bodies_are_framed_in_their_receive_buffer_with_the_same_message) {
    start({"gateway.workers=1"});
    std::string events = "[";
    for (int i = 0; i < 100; ++i) {
        events += fmt::format(R"({}{{"mid":"e{}","pad":"{}"}})", i ? "," : "", i,
                              std::string(360, static_cast<char>('a' + i % 26)));
    }
    events += "]";
    const std::string object = R"({"id":"b","events":)" + events + "}";
    const auto msgid_after_data = [](std::string_view msgid, std::string_view data) {
        return fmt::format(R"({{"id":"api.data.in","ver":"v2","ts":"2024-01-01","data":{},)"
                           R"("params":{{"msgid":"{}"}}}})",
                           data, msgid);
    };
    const std::string small = R"([{"mid":"s"}])";
    const std::string path = "/v2/data/in/telemetry";

    const std::vector<std::string> sends = {
        http_post(path, v2_body("big-array", events)),
        http_post(path, msgid_after_data("big-after", events)),
        http_post(path, v2_body("big-object", object)),
        // pipelined: the large one ends the buffer, then one that does not
        http_post(path, v2_body("pipe-small", small)) +
            http_post(path, v2_body("pipe-big", events)),
        http_post(path, v2_body("first-big", events)) +
            http_post(path, v2_body("then-small", small)),
    };
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"big-array", events}, {"big-after", events}, {"big-object", object}, {"pipe-small", small},
        {"pipe-big", events},  {"first-big", events}, {"then-small", small},
    };
    raw_http_client c(_gateway->port());
    size_t answered = 0;
    for (const auto& bytes : sends) {
        ASSERT_TRUE(c.send(bytes));
        const size_t in_this_send = bytes.find("POST ", 1) == std::string::npos ? 1 : 2;
        for (size_t i = 0; i < in_this_send; ++i, ++answered) {
            auto r = c.read_response(testing::scaled(20s));
            ASSERT_TRUE(r) << expected[answered].first;
            EXPECT_EQ(r->status, 200) << r->body;
            EXPECT_EQ(field(r->body, {"params", "msgid"}), expected[answered].first);
        }
    }
    auto messages = ingest_messages(expected.size());
    ASSERT_EQ(messages.size(), expected.size());
    for (const auto& [msgid, data] : expected) {
        const std::string tail =
            data == object
                ? fmt::format(R"(,"dataset":"telemetry","msgid":"{}"}})", msgid)
                : fmt::format(R"(,"dataset":"telemetry","msgid":"{0}","events":{1},"id":"{0}"}})",
                              msgid, data);
        const auto m = std::find_if(messages.begin(), messages.end(), [&](const std::string& x) {
            return x.find(fmt::format(R"("msgid":"{}")", msgid)) != std::string::npos;
        });
        ASSERT_NE(m, messages.end()) << msgid;
        if (data == object) {
            EXPECT_THAT(*m, StartsWith(R"({"event":)" + object + R"(,"obsrv_meta":{"syncts":)"));
        } else {
            EXPECT_THAT(*m, StartsWith(R"({"obsrv_meta":{"syncts":)")) << msgid;
        }
        EXPECT_EQ(m->substr(m->size() - std::min(m->size(), tail.size())), tail) << msgid;
        EXPECT_EQ(m->find(R"("ver":"v2")"), std::string::npos) << "request bytes leaked: " << msgid;
    }
    // Each large request that ended what one receive brought was kept (at most four here); a
    // split receive would have been assembled and copied instead, so only the path is required.
    const std::string metrics = _registry.render();
    const std::string_view needle = "\nobsrv_gateway_kept_buffers_total ";
    const auto at = metrics.find(needle);
    ASSERT_NE(at, std::string::npos);
    const int kept = std::stoi(metrics.substr(at + needle.size()));
    EXPECT_GE(kept, 1) << metrics;
    EXPECT_LE(kept, 4);
}

// ~38 KB of array data: it fills more than half a receive buffer, so its message is framed in
// place, and the frame's ~200-byte prefix overwrites the request's head, msgid included.
std::string large_body(std::string_view msgid) {
    std::string events = "[";
    for (int i = 0; i < 100; ++i) {
        events +=
            fmt::format(R"({}{{"mid":"e{}","pad":"{}"}})", i ? "," : "", i, std::string(360, 'p'));
    }
    events += "]";
    return v2_body(msgid, events);
}

/// The value of an unlabelled metric, or -1.
double metric(const metrics::registry& registry, std::string_view name) {
    const std::string metrics = registry.render();
    const std::string needle = fmt::format("\n{} ", name);
    const auto at = metrics.find(needle);
    return at == std::string::npos ? -1 : std::stod(metrics.substr(at + needle.size()));
}

// Framed messages that Kafka never takes: with the broker down the first one waits in the
// producer's queue until it expires (503 after message.timeout.ms), the second finds the queue
// full and is refused at once (503). Neither is ever 200, both echo the msgid the frame
// overwrote (from its copy), and each kept buffer is freed exactly once: by the delivery
// report, or right after the refusal (ASan checks the second half).
TEST_F(gateway_test, framed_messages_kafka_refuses_or_loses_answer_503_with_their_msgid) {
    start({"gateway.workers=1", "gateway.reject_when_brokers_down=false",
           "kafka.producer.queue.buffering.max.kbytes=50",
           "kafka.producer.message.timeout.ms=2000"});
    raw_http_client waits(_gateway->port());
    raw_http_client refused(_gateway->port());
    // A first large request on each connection, delivered: on a fresh connection the client's
    // kernel may push a 38 KB write in two segments (half the peer's first window), and a body
    // that two receives bring is copied, not framed. Once the window has grown it comes whole.
    for (auto* c : {&waits, &refused}) {
        ASSERT_TRUE(c->send(http_post("/v2/data/in/telemetry", large_body("warm"))));
        auto r = c->read_response(testing::scaled(20s));
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
    }
    const double kept_before = metric(_registry, "obsrv_gateway_kept_buffers_total");
    ASSERT_TRUE(_cluster->set_broker_down(1, true));
    ASSERT_TRUE(waits.send(http_post("/v2/data/in/telemetry", large_body("lost"))));
    ASSERT_TRUE(testing::wait_until(
        [&] { return metric(_registry, "obsrv_gateway_inflight_requests") == 1; },
        testing::scaled(10s)));
    ASSERT_TRUE(refused.send(http_post("/v2/data/in/telemetry", large_body("refused"))));
    auto r = refused.read_response(testing::scaled(20s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(field(r->body, {"params", "msgid"}), "refused");
    EXPECT_THAT(r->body, HasSubstr("queue is full"));
    r = waits.read_response(testing::scaled(20s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(field(r->body, {"params", "msgid"}), "lost");
    EXPECT_EQ(metric(_registry, "obsrv_gateway_kept_buffers_total") - kept_before, 2);
    ASSERT_TRUE(_cluster->set_broker_down(1, false));
}

TEST_F(gateway_test, completion_batching_lets_a_quiet_worker_wake_on_the_first_completion) {
    // Batching adapts to the last round: once a burst is over, requests that come
    // one at a time are served at once, not after gateway.completion_wait_us.
    start({"gateway.workers=1", "gateway.completion_wait_us=100000"});
    std::string burst;
    for (int i = 0; i < 16; ++i) {
        burst += "GET /health HTTP/1.1\r\nHost: gw\r\n\r\n";
    }
    raw_http_client c(_gateway->port());
    ASSERT_TRUE(c.send(burst));
    for (int i = 0; i < 16; ++i) {
        ASSERT_TRUE(c.read_response(testing::scaled(20s))) << i;
    }
    for (int i = 0; i < 10; ++i) {
        auto begin = std::chrono::steady_clock::now();
        ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: gw\r\n\r\n"));
        auto r = c.read_response(testing::scaled(20s));
        auto took = std::chrono::steady_clock::now() - begin;
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
        EXPECT_LT(took, 80ms) << "request " << i << " waited for a batch that never came";
    }
}

TEST_F(gateway_test, chunked_body_is_ingested) {
    start();
    std::string body = v2_body("chunked", R"([{"mid":"c1"}])");
    std::string request_bytes =
        "POST /v2/data/in/telemetry HTTP/1.1\r\nHost: gw\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    size_t half = body.size() / 2;
    request_bytes += fmt::format("{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n", half,
                                 body.substr(0, half), body.size() - half, body.substr(half));
    auto r = request(request_bytes);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    auto messages = ingest_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_THAT(messages[0], HasSubstr(R"("msgid":"chunked","events":[{"mid":"c1"}])"));
}

// Compressed bodies, as obsrv-api's body-parser takes them: the message is the one the plain
// body gives; unknown codings, corrupt data and bodies that inflate past the limit are refused
// and write nothing.
TEST_F(gateway_test, gzip_and_deflate_bodies_are_decoded_on_both_routes) {
    start({"gateway.max_body_bytes=100000"});
    const std::string plain = v2_body("gz-0", R"([{"mid":"z1"},{"mid":"z2"}])");
    auto reference = request(http_post("/v2/data/in/telemetry", plain));
    ASSERT_TRUE(reference);
    ASSERT_EQ(reference->status, 200) << reference->body;
    auto gz =
        request(http_post("/v2/data/in/telemetry", gzip(plain), "Content-Encoding: GZIP\r\n"));
    ASSERT_TRUE(gz);
    EXPECT_EQ(gz->status, 200) << gz->body;
    EXPECT_EQ(field(gz->body, {"params", "msgid"}), "gz-0");
    // Chunked framing around a deflate body.
    const std::string zz = deflate_compress(plain, deflate_wrapper::zlib);
    auto chunked = request(fmt::format(
        "POST /v2/data/in/telemetry HTTP/1.1\r\nHost: gw\r\nContent-Encoding: deflate\r\n"
        "Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        10, zz.substr(0, 10), zz.size() - 10, zz.substr(10)));
    ASSERT_TRUE(chunked);
    EXPECT_EQ(chunked->status, 200) << chunked->body;
    auto v1 = request(http_post("/data/v1/in/telemetry",
                                gzip(R"({"data":{"id":"b1","events":[{"mid":"l1"}]}})"),
                                "Content-Encoding: gzip\r\n"));
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->status, 200) << v1->body;
    auto messages = ingest_messages(4);
    ASSERT_EQ(messages.size(), 4u);
    auto without_syncts = [](std::string m) {
        const size_t at = m.find(R"("syncts":)");
        return at == std::string::npos ? m : m.erase(at, m.find(',', at) - at);
    };
    // Partitions give no order: the three v2 messages are one message, the v1 one is v1's.
    std::sort(messages.begin(), messages.end());
    EXPECT_THAT(messages[0], StartsWith(R"({"id":"b1","events":[{"mid":"l1"}],"dataset":)"));
    EXPECT_THAT(messages[1], HasSubstr(R"("msgid":"gz-0","events":[{"mid":"z1"},{"mid":"z2"}])"));
    EXPECT_EQ(without_syncts(messages[2]), without_syncts(messages[1]));
    EXPECT_EQ(without_syncts(messages[3]), without_syncts(messages[1]));

    auto br = request(http_post("/v2/data/in/telemetry", plain, "Content-Encoding: br\r\n"));
    ASSERT_TRUE(br);
    EXPECT_EQ(br->status, 415);
    EXPECT_EQ(field(br->body, {"error", "code"}), "DATA_INGESTION_UNSUPPORTED_ENCODING");
    EXPECT_EQ(field(br->body, {"error", "message"}), R"(unsupported content encoding "br")");
    auto corrupt =
        request(http_post("/v2/data/in/telemetry", deflate_compress(plain, deflate_wrapper::raw),
                          "Content-Encoding: deflate\r\n"));
    ASSERT_TRUE(corrupt);
    EXPECT_EQ(corrupt->status, 400);
    EXPECT_EQ(field(corrupt->body, {"error", "message"}),
              "Invalid deflate body: incorrect header check");
    // ~1 KB of gzip that would inflate to 1 MB, ten times the limit.
    const std::string bomb =
        gzip(v2_body("bomb", "[{\"p\":\"" + std::string(1000000, 'a') + "\"}]"));
    ASSERT_LT(bomb.size(), 100000u);
    auto too_large =
        request(http_post("/v2/data/in/telemetry", bomb, "Content-Encoding: gzip\r\n"));
    ASSERT_TRUE(too_large);
    EXPECT_EQ(too_large->status, 413);
    EXPECT_EQ(field(too_large->body, {"error", "code"}), "DATA_INGESTION_PAYLOAD_TOO_LARGE");
    auto v1_refused =
        request(http_post("/data/v1/in/telemetry", "x", "Content-Encoding: x-gzip\r\n"));
    ASSERT_TRUE(v1_refused);
    EXPECT_EQ(v1_refused->status, 415);
    EXPECT_EQ(field(v1_refused->body, {"params", "errmsg"}),
              R"(unsupported content encoding "x-gzip")");
    EXPECT_EQ(ingest_messages(5, 2s).size(), 4u);  // the refusals wrote nothing
    const std::string rendered = _registry.render();
    EXPECT_THAT(rendered, HasSubstr(R"(obsrv_gateway_decoded_requests_total{encoding="gzip"} 2)"));
    EXPECT_THAT(rendered,
                HasSubstr(R"(obsrv_gateway_decoded_requests_total{encoding="deflate"} 1)"));
}

TEST_F(gateway_test, slow_client_gets_408) {
    start({"gateway.request_timeout_ms=400"});
    raw_http_client c(_gateway->port());
    ASSERT_TRUE(c.send("POST /v2/data/in/telemetry HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"));
    auto r = c.read_response(testing::scaled(10s));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_EQ(field(r->body, {"error", "code"}), "REQUEST_TIMEOUT");
    EXPECT_TRUE(c.closed_by_peer(5s));
}

TEST_F(gateway_test, brokers_known_down_answer_503_at_once) {
    start();
    _reachable = false;
    auto r = request(http_post("/v2/data/in/telemetry", v2_body("m", "[]")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->header("Retry-After"), "1");
    EXPECT_EQ(field(r->body, {"error", "code"}), "DATA_INGESTION_UNAVAILABLE");
    _reachable = true;
    auto ok = request(http_post("/v2/data/in/telemetry", v2_body("m", "[]")));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

TEST_F(gateway_test, kafka_outage_never_answers_200_and_recovers) {
    // The monitor has not noticed yet: the request waits for its delivery
    // report, which expires.
    start({"gateway.reject_when_brokers_down=false", "kafka.producer.message.timeout.ms=1500"});
    ASSERT_TRUE(_cluster->set_broker_down(1, true));
    auto started = std::chrono::steady_clock::now();
    auto r = request(http_post("/v2/data/in/telemetry", v2_body("lost", R"([{"mid":"x"}])")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(r->header("Retry-After"), "1");
    EXPECT_THAT(field(r->body, {"error", "message"}), HasSubstr("Kafka did not acknowledge"));
    EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
    ASSERT_TRUE(_cluster->set_broker_down(1, false));
    bool recovered = testing::wait_until(
        [&] {
            auto again =
                request(http_post("/v2/data/in/telemetry", v2_body("back", R"([{"mid":"y"}])")));
            return again && again->status == 200;
        },
        testing::scaled(30s));
    EXPECT_TRUE(recovered);
    EXPECT_THAT(_registry.render(),
                HasSubstr(R"(obsrv_gateway_kafka_delivery_errors_total{error="_MSG_TIMED_OUT"})"));
}

TEST_F(gateway_test, inflight_limit_turns_into_503_not_memory) {
    start({"gateway.reject_when_brokers_down=false", "gateway.max_inflight_bytes=1048576",
           "gateway.workers=1", "kafka.producer.message.timeout.ms=4000"});
    ASSERT_TRUE(_cluster->set_broker_down(1, true));
    std::string events = "[";
    for (int i = 0; i < 900; ++i) {
        events +=
            fmt::format(R"({}{{"mid":"{}","pad":"{}"}})", i ? "," : "", i, std::string(400, 'x'));
    }
    events += "]";
    auto body = v2_body("big", events);  // ~400 KB
    raw_http_client c(_gateway->port());
    std::string pipelined;
    for (int i = 0; i < 4; ++i) {
        pipelined += http_post("/v2/data/in/telemetry", body);
    }
    ASSERT_TRUE(c.send(pipelined));
    std::vector<int> statuses;
    for (int i = 0; i < 4; ++i) {
        auto r = c.read_response(testing::scaled(30s));
        ASSERT_TRUE(r) << i;
        statuses.push_back(r->status);
        if (r->status == 503) {
            EXPECT_EQ(r->header("Retry-After"), "1");
        }
    }
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 0);
    EXPECT_GE(std::count(statuses.begin(), statuses.end(), 503), 4);
    EXPECT_THAT(_registry.render(),
                HasSubstr(R"(obsrv_gateway_backpressure_rejections_total{reason="too"})"));
    ASSERT_TRUE(_cluster->set_broker_down(1, false));
}

TEST_F(gateway_test, dataset_reload_adds_and_keeps_the_previous_version_of_a_broken_file) {
    start();
    auto before = request(http_post("/v2/data/in/fresh", v2_body("m", "[]")));
    ASSERT_TRUE(before);
    EXPECT_EQ(before->status, 404);
    std::ofstream(_dir + "/fresh.json")
        << R"({"dataset_id":"fresh","type":"event","status":"Live","api_version":"v2"})";
    _datasets->reload();
    auto added = request(http_post("/v2/data/in/fresh", v2_body("m", "[]")));
    ASSERT_TRUE(added);
    EXPECT_EQ(added->status, 200) << added->body;
    std::ofstream(_dir + "/fresh.json") << R"({"dataset_id":"fresh", broken)";
    _datasets->reload();
    auto kept = request(http_post("/v2/data/in/fresh", v2_body("m", "[]")));
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->status, 200) << "the previous version stays";
}

TEST_F(gateway_test, ack_enqueued_answers_before_delivery_and_still_writes) {
    start({"gateway.ack=enqueued"});
    auto r = request(http_post("/v2/data/in/telemetry", v2_body("fast", R"([{"mid":"f"}])")));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto messages = ingest_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_THAT(messages[0], HasSubstr(R"("msgid":"fast")"));
}

TEST_F(gateway_test, legacy_v1_route_writes_the_v1_message) {
    start();
    auto r = request(
        http_post("/data/v1/in/telemetry", R"({"data":{"id":"b1","events":[{"mid":"l1"}]}})"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(field(r->body, {"id"}), "dataset.data.in");
    auto messages = ingest_messages(1);
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages[0];
    EXPECT_THAT(m, StartsWith(R"({"id":"b1","events":[{"mid":"l1"}],"dataset":"telemetry",)"));
    EXPECT_THAT(m, HasSubstr(R"("mid":")"));
    EXPECT_THAT(m, HasSubstr(R"("syncts":)"));
    EXPECT_THAT(m, HasSubstr(R"("processingStartTime":)"));
}

TEST_F(gateway_test, escaped_dataset_ids_are_decoded_before_the_lookup_on_both_routes) {
    start();
    auto v2 = request(http_post("/v2/data/in/tele%6Detry", v2_body("esc", "[]")));
    ASSERT_TRUE(v2);
    EXPECT_EQ(v2->status, 200) << v2->body;
    auto v1 = request(
        http_post("/data/v1/in/%74elemetry", R"({"data":{"id":"b2","events":[{"mid":"l2"}]}})"));
    ASSERT_TRUE(v1);
    EXPECT_EQ(v1->status, 200) << v1->body;
    EXPECT_EQ(ingest_messages(2).size(), 2u);
    // Bytes that are not UTF-8 would reach the error body; Express answers 400 for them.
    auto bad =
        request(http_post("/data/v1/in/%C0%80", R"({"data":{"id":"b3","events":[{"mid":"l3"}]}})"));
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << bad->body;
    EXPECT_THAT(field(bad->body, {"params", "errmsg"}), HasSubstr("Failed to decode param"));
}

// Whatever a client sends, every answer is an Obsrv body that is JSON text (UTF-8 included) and
// every message written to Kafka is too: generated requests mixing hostile bytes into the dataset
// id (escapes that are not UTF-8, raw bytes, quotes, NUL), the identity headers v1 copies into its
// message (bytes that are not UTF-8, quotes, backslashes), Content-Encoding and the data.
TEST_F(gateway_test, every_answer_and_every_message_is_json_text_whatever_the_request) {
    start();
    const auto is_json_text = [](std::string_view text) {
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        return parser.parse(simdjson::padded_string(text)).get(root) == simdjson::SUCCESS;
    };
    const std::vector<std::string> ids = {"telemetry",   "sunbird-telemetry",
                                          "tele%6Detry", "%FF",
                                          "%C3%A9",      "%E2%82",
                                          "%ED%A0%80",   "%zz",
                                          "\xff",        "é",
                                          "a%22b",       "%0A",
                                          "%5C",         "%00",
                                          "nosuch",      "retired"};
    const std::vector<std::string> header_values = {
        "dev", "d\xff", "\xc3\xa9t\xc3\xa9", "q\"\\", "\x7f\x80", "\xc0\x80", ""};
    const std::vector<std::string> data = {
        R"([{"mid":"e1","x":1}])", R"({"mid":"e2"})",       "[]", "[{\"s\":\"\xc3\xa9\"}]",
        "[{\"s\":\"\xff\"}]",      "[{\"s\":\"\\ud800\"}]", "[1", R"({"a":"\u00e9\"\\"})"};
    std::mt19937 rng(20261208);
    const auto pick = [&rng](const std::vector<std::string>& options) -> const std::string& {
        return options[rng() % options.size()];
    };
    size_t accepted = 0;
    for (int i = 0; i < 300; ++i) {
        const bool v1 = rng() % 3 == 0;
        const std::string path = (v1 ? "/data/v1/in/" : "/v2/data/in/") + pick(ids);
        std::string body =
            v1 ? fmt::format(R"({{"data":{{"id":"b{}","events":{}}}}})", i, pick(data))
               : v2_body(fmt::format("m{}", i), pick(data));
        std::string headers;
        for (const char* name : {"X-Device-Id", "X-Channel-Id", "X-App-Id"}) {
            if (rng() % 2 == 0) {
                headers += fmt::format("{}: {}\r\n", name, pick(header_values));
            }
        }
        // Content-Encoding: gzip (the body compressed), or a hostile value (415 quotes it).
        if (const unsigned coding = rng() % 6; coding == 0) {
            body = gzip(body);
            headers += "Content-Encoding: gzip\r\n";
        } else if (coding == 1) {
            headers += fmt::format("Content-Encoding: {}\r\n", pick(header_values));
        }
        auto r = request(http_post(path, body, headers));
        ASSERT_TRUE(r) << "request " << i << " to " << path;
        EXPECT_TRUE(is_json_text(r->body)) << "request " << i << " to " << path << ": " << r->body;
        accepted += r->status == 200 ? 1 : 0;
    }
    // Every route and most refusals were reached (not one early error for everything).
    EXPECT_GT(accepted, 10u);
    EXPECT_LT(accepted, 270u);
    const auto messages = ingest_messages(accepted);
    EXPECT_EQ(messages.size(), accepted);
    for (const auto& m : messages) {
        EXPECT_TRUE(is_json_text(m)) << m;
    }
}

TEST_F(gateway_test, health_ready_and_metrics_on_the_gateway_port) {
    start();
    ASSERT_TRUE(request(http_post("/v2/data/in/telemetry", v2_body("m", R"([{"a":1},{"b":2}])"))));
    auto health = request("GET /health HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto ready = request("GET /ready HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200);
    auto metrics = request("GET /metrics HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_THAT(metrics->body,
                HasSubstr(R"(obsrv_gateway_requests_total{code="200",route="/v2/data/in"} 1)"));
    EXPECT_THAT(metrics->body, HasSubstr(R"(obsrv_gateway_events_total{dataset="telemetry"} 2)"));
    EXPECT_THAT(metrics->body, HasSubstr("obsrv_gateway_request_duration_seconds_bucket"));
    EXPECT_THAT(metrics->body, HasSubstr("obsrv_gateway_kafka_queue_messages"));
}

}  // namespace
}  // namespace obsrv::ingress
