#include "ingress/ingest_message.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "ingress/api_response.h"

namespace obsrv::ingress {
namespace {

constexpr std::int64_t k_syncts = 1711966306164;
constexpr std::string_view k_meta =
    R"({"syncts":1711966306164,"flags":{},"timespans":{},"error":{},)"
    R"("source":{"connector":"api","connectorInstance":"api"}})";
constexpr std::string_view k_v1_meta =
    R"({"syncts":1711966306164,"processingStartTime":1711966306164,"flags":{},"timespans":{},)"
    R"("error":{},"source":{"connector":"api","connectorInstance":"api"}})";
constexpr std::string_view k_mid = "8e1e6f2a-f1c0-11ee-8b5e-0242ac120002";

std::string v2_body(std::string_view msgid_json, std::string_view data) {
    return R"({"id":"api.data.in","ver":"v2","ts":"1","params":{"msgid":)" +
           std::string(msgid_json) + R"(},"data":)" + std::string(data) + "}";
}

// Validates and builds into a buffer of exactly message_size_upper_bound bytes (ASan catches
// any write past it).
class Builder {
  public:
    std::string v2(const std::string& body, message_params params) {
        _storage = body + std::string(k_body_padding, '\0');
        ingest_request req;
        const auto status =
            _validator.validate(std::string_view(_storage.data(), body.size()), req);
        EXPECT_EQ(status, validation_status::ok) << req.error;
        if (status != validation_status::ok) {
            return {};
        }
        const std::size_t bound = message_size_upper_bound(req, params);
        auto buf = std::make_unique<char[]>(bound);
        const std::size_t n = build_message(req, params, buf.get());
        EXPECT_LE(n, bound);
        expect_frame_matches(req, params);
        return std::string(buf.get(), n);
    }

    // The frame the gateway writes around a body kept in its receive buffer gives the message
    // build_message writes without minify: prefix + data + suffix, whenever the message carries
    // the data (there is no frame for minify, which changes the data).
    static void expect_frame_matches(const ingest_request& req, message_params params) {
        auto frame_buf = std::make_unique<char[]>(message_frame_size_upper_bound(req, params));
        message_frame frame;
        if (params.minify) {
            EXPECT_FALSE(build_message_frame(req, params, frame_buf.get(), frame));
            params.minify = false;
            frame_buf = std::make_unique<char[]>(message_frame_size_upper_bound(req, params));
        }
        auto buf = std::make_unique<char[]>(message_size_upper_bound(req, params));
        const std::string built(buf.get(), build_message(req, params, buf.get()));
        if (!build_message_frame(req, params, frame_buf.get(), frame)) {
            EXPECT_EQ(built.find(req.data), std::string::npos) << "a frame was expected: " << built;
            return;
        }
        EXPECT_EQ(std::string(frame.prefix) + std::string(req.data) + std::string(frame.suffix),
                  built);
    }

    std::string v1(const std::string& body, legacy_message_params params) {
        _storage = body + std::string(k_body_padding, '\0');
        legacy_request req;
        const auto status =
            _validator.validate_legacy(std::string_view(_storage.data(), body.size()), req);
        EXPECT_EQ(status, validation_status::ok) << req.error;
        if (status != validation_status::ok) {
            return {};
        }
        const std::size_t bound = legacy_message_size_upper_bound(req, params);
        auto buf = std::make_unique<char[]>(bound);
        const std::size_t n = build_legacy_message(req, params, buf.get());
        EXPECT_LE(n, bound);
        return std::string(buf.get(), n);
    }

  private:
    request_validator _validator{1 << 20};
    std::string _storage;
};

message_params v2_params(std::string_view ek = "events", std::string_view dk = "id") {
    return message_params{"d1", ek, dk, k_syncts};
}

legacy_message_params v1_params() {
    return legacy_message_params{"d1", k_mid, k_syncts};
}

TEST(IngestMessageTest, ObjectData) {
    Builder b;
    EXPECT_EQ(b.v2(v2_body(R"("m1")", R"({"id":"1","x":1})"), v2_params()),
              R"({"event":{"id":"1","x":1},"obsrv_meta":)" + std::string(k_meta) +
                  R"(,"dataset":"d1","msgid":"m1"})");
}

TEST(IngestMessageTest, ArrayDataDefaults) {
    Builder b;
    EXPECT_EQ(b.v2(v2_body(R"("m1")", R"([{"id":"1","x":1},{"id":"2","x":2}])"), v2_params()),
              R"({"obsrv_meta":)" + std::string(k_meta) +
                  R"(,"dataset":"d1","msgid":"m1","events":[{"id":"1","x":1},{"id":"2","x":2}],)"
                  R"("id":"m1"})");
    EXPECT_EQ(b.v2(v2_body(R"("m1")", "[]"), v2_params()),
              R"({"obsrv_meta":)" + std::string(k_meta) +
                  R"(,"dataset":"d1","msgid":"m1","events":[],"id":"m1"})");
}

TEST(IngestMessageTest, CustomAndCollidingKeys) {
    Builder b;
    const std::string body = v2_body(R"("m1")", R"([{"a":1}])");
    const std::string meta = R"({"obsrv_meta":)" + std::string(k_meta);
    EXPECT_EQ(b.v2(body, v2_params("records", "batch_id")),
              meta + R"(,"dataset":"d1","msgid":"m1","records":[{"a":1}],"batch_id":"m1"})");
    // Assigning an existing property keeps its position.
    EXPECT_EQ(b.v2(body, v2_params("dataset", "id")),
              meta + R"(,"dataset":[{"a":1}],"msgid":"m1","id":"m1"})");
    EXPECT_EQ(b.v2(body, v2_params("events", "msgid")),
              meta + R"(,"dataset":"d1","msgid":"m1","events":[{"a":1}]})");
    EXPECT_EQ(b.v2(body, v2_params("events", "dataset")),
              meta + R"(,"dataset":"m1","msgid":"m1","events":[{"a":1}]})");
    EXPECT_EQ(b.v2(body, v2_params("obsrv_meta", "id")),
              R"({"obsrv_meta":[{"a":1}],"dataset":"d1","msgid":"m1","id":"m1"})");
    // extraction_key == dedup_key: the later assignment (msgid) wins.
    EXPECT_EQ(b.v2(body, v2_params("k", "k")), meta + R"(,"dataset":"d1","msgid":"m1","k":"m1"})");
    // Integer-like keys come first, ascending; "__proto__" never becomes a property.
    EXPECT_EQ(b.v2(body, v2_params("5", "3")), R"({"3":"m1","5":[{"a":1}],"obsrv_meta":)" +
                                                   std::string(k_meta) +
                                                   R"(,"dataset":"d1","msgid":"m1"})");
    EXPECT_EQ(b.v2(body, v2_params("05", "__proto__")),
              meta + R"(,"dataset":"d1","msgid":"m1","05":[{"a":1}]})");
    // Keys needing escapes.
    EXPECT_EQ(b.v2(body, v2_params("e\"v", "i\\d")),
              meta + R"(,"dataset":"d1","msgid":"m1","e\"v":[{"a":1}],"i\\d":"m1"})");
}

TEST(IngestMessageTest, StringsAreEscapedLikeJsonStringify) {
    Builder b;
    // msgid sent with escapes is written the way JSON.stringify writes the parsed value.
    const std::string out =
        b.v2(v2_body(R"("q\"b\\s\/\u0001\u001f\b\f\n\r\t\u00e9\u2028\ud83d\ude00")", "{}"),
             message_params{"d\"\\\x01\xc3\xa9", "events", "id", k_syncts});
    EXPECT_EQ(out, R"({"event":{},"obsrv_meta":)" + std::string(k_meta) +
                       R"(,"dataset":"d\"\\\u0001)"
                       "\xc3\xa9"
                       R"(","msgid":"q\"b\\s/\u0001\u001f\b\f\n\r\t)"
                       "\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80"
                       R"("})");
}

TEST(IngestMessageTest, WhitespaceIsMinified) {
    Builder b;
    const std::string body =
        "{\n \"id\": \"api.data.in\", \"ver\": \"v2\", \"ts\": \"1\",\n \"params\": {\"msgid\": "
        "\"m\"},\n \"data\": [\n  { \"a\" : \" keep  this \" , \"b\" : [ 1 , 2 ] },\n  {}\n ]\n}\n";
    EXPECT_EQ(b.v2(body, v2_params()), R"({"obsrv_meta":)" + std::string(k_meta) +
                                           R"(,"dataset":"d1","msgid":"m","events":)"
                                           R"([{"a":" keep  this ","b":[1,2]},{}],"id":"m"})");
}

TEST(IngestMessageTest, DataNotLastAndDuplicateData) {
    Builder b;
    EXPECT_EQ(b.v2(R"({"data":{"old":1},"id":"api.data.in","data":{"new":2},"ver":"v2","ts":"1",)"
                   R"("params":{"msgid":"m"},"zz":[1]})",
                   v2_params()),
              R"({"event":{"new":2},"obsrv_meta":)" + std::string(k_meta) +
                  R"(,"dataset":"d1","msgid":"m"})");
}

TEST(IngestMessageTest, NumbersAndEscapesInsideEventsAreKeptAsSent) {
    Builder b;
    // Documented difference: JSON.stringify would print 100, 1, 1.2345678901234568e+29, "é", "/".
    EXPECT_EQ(
        b.v2(v2_body(R"("m")",
                     R"({"a":1e2,"b":1.0,"c":123456789012345678901234567890,"d":"\u00e9\/"})"),
             v2_params()),
        R"({"event":{"a":1e2,"b":1.0,"c":123456789012345678901234567890,"d":"\u00e9\/"},)"
        R"("obsrv_meta":)" +
            std::string(k_meta) + R"(,"dataset":"d1","msgid":"m"})");
}

TEST(IngestMessageTest, LargeBodyParsesBack) {
    std::string events = "[";
    for (int i = 0; i < 100; ++i) {
        events += (i ? "," : "");
        events += R"({"eid":"INTERACT","ets":)" + std::to_string(1700000000000 + i) +
                  R"(,"mid":"ev-)" + std::to_string(i) + R"(","edata":{"x":)" + std::to_string(i) +
                  R"(,"s":"\"quoted\" \\ text"}})";
    }
    events += "]";
    Builder b;
    const std::string msg = b.v2(v2_body(R"("big")", events), v2_params());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(msg).get(root), simdjson::SUCCESS);
    EXPECT_EQ(std::string_view(root["dataset"].get_string().value()), "d1");
    EXPECT_EQ(std::string_view(root["id"].get_string().value()), "big");
    EXPECT_EQ(root["obsrv_meta"]["syncts"].get_int64().value(), k_syncts);
    simdjson::dom::array arr = root["events"].get_array().value();
    EXPECT_EQ(arr.size(), 100u);
    EXPECT_EQ(arr.at(99)["edata"]["x"].get_int64().value(), 99);
    EXPECT_EQ(std::string_view(arr.at(3)["edata"]["s"].get_string().value()), "\"quoted\" \\ text");
}

// ---- legacy v1 ------------------------------------------------------------------------------

TEST(LegacyMessageTest, Splice) {
    Builder b;
    EXPECT_EQ(b.v1(R"({"data":{"event":{"a":1}}})", v1_params()),
              R"({"event":{"a":1},"dataset":"d1","mid":")" + std::string(k_mid) +
                  R"(","syncts":1711966306164,"obsrv_meta":)" + std::string(k_v1_meta) + "}");
    EXPECT_EQ(b.v1(R"({"data":{ }})", v1_params()),
              R"({"dataset":"d1","mid":")" + std::string(k_mid) +
                  R"(","syncts":1711966306164,"obsrv_meta":)" + std::string(k_v1_meta) + "}");
    // A truthy mid is kept where it is; headers add did/channel/pid after dataset.
    auto params = v1_params();
    params.device_id = "dev";
    params.app_id = "app\"1";
    EXPECT_EQ(b.v1(R"({"data":{"mid":"own","events":[ {"x" : 1} ],"id":"b1"}})", params),
              R"({"mid":"own","events":[{"x":1}],"id":"b1","dataset":"d1","did":"dev",)"
              R"("pid":"app\"1","syncts":1711966306164,"obsrv_meta":)" +
                  std::string(k_v1_meta) + "}");
    // Header values are Latin-1 (as Node reads them): the message stays UTF-8 whatever they hold.
    params.device_id = "d\xff";
    params.app_id = "\xc3\xa9";
    EXPECT_EQ(
        b.v1(R"({"data":{"mid":"own"}})", params),
        "{\"mid\":\"own\",\"dataset\":\"d1\",\"did\":\"d\xc3\xbf\",\"pid\":\"\xc3\x83\xc2\xa9\","
        "\"syncts\":1711966306164,\"obsrv_meta\":" +
            std::string(k_v1_meta) + "}");
}

TEST(LegacyMessageTest, CollisionsKeepPositionAndTakeNewValue) {
    Builder b;
    const std::string tail = R"("obsrv_meta":)" + std::string(k_v1_meta);
    EXPECT_EQ(
        b.v1(R"({"data":{"syncts":1,"event":{},"dataset":"x","obsrv_meta":{"a":1}}})", v1_params()),
        R"({"syncts":1711966306164,"event":{},"dataset":"d1",)" + tail + R"(,"mid":")" +
            std::string(k_mid) + R"("})");
    // A falsy mid is replaced in place; without headers did/channel/pid are dropped.
    EXPECT_EQ(b.v1(R"({"data":{"did":"x","mid":"","event":{},"pid":1}})", v1_params()),
              R"({"mid":")" + std::string(k_mid) +
                  R"(","event":{},"dataset":"d1","syncts":1711966306164,)" + tail + "}");
    auto params = v1_params();
    params.channel_id = "ch";
    EXPECT_EQ(b.v1(R"({"data":{"channel":"x","mid":0,"event":{}}})", params),
              R"({"channel":"ch","mid":")" + std::string(k_mid) +
                  R"(","event":{},"dataset":"d1","syncts":1711966306164,)" + tail + "}");
    params.channel_id = "\xe9";  // Latin-1, as Node reads header values
    EXPECT_EQ(b.v1(R"({"data":{"channel":"x","mid":0,"event":{}}})", params),
              "{\"channel\":\"\xc3\xa9\",\"mid\":\"" + std::string(k_mid) +
                  R"(","event":{},"dataset":"d1","syncts":1711966306164,)" + tail + "}");
    // Duplicates: first position, last value; integer-like keys first; escaped keys re-escaped.
    EXPECT_EQ(b.v1(R"({"data":{"b":1,"a":2,"b":{"x" : 3},"10":"t","2":"s","\u0065vent":{}}})",
                   v1_params()),
              R"({"2":"s","10":"t","b":{"x":3},"a":2,"event":{},"dataset":"d1","mid":")" +
                  std::string(k_mid) + R"(","syncts":1711966306164,)" + tail + "}");
    EXPECT_GE(thread_build_counters().legacy_rebuilds, 4u);
}

// ---- reference check against Node.js ---------------------------------------------------------

bool node_available() {
    return std::system("node --version > /dev/null 2>&1") == 0;
}

std::string run_command(const std::string& cmd) {
    std::string out;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        return out;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
        out.append(buf, n);
    }
    pclose(pipe);
    return out;
}

// The same object construction as DataIngestionController.addMetadataToEvents (v2) and
// IngestorService.create + TelemetryService.dispatch (v1), with the time and ids fixed.
constexpr std::string_view k_reference_js = R"JS(
const fs = require('fs');
const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const c of cases) {
  const body = JSON.parse(c.body);
  if (c.kind === 'v2') {
    const validData = body.data;
    const mid = body.params.msgid;
    const obsrvMeta = { syncts: c.syncts, flags: {}, timespans: {}, error: {},
                        source: { connector: 'api', connectorInstance: 'api' } };
    if (Array.isArray(validData)) {
      const payload = { obsrv_meta: obsrvMeta, dataset: c.dataset, msgid: mid };
      payload[c.ek] = validData;
      payload[c.dk] = mid;
      out.push(JSON.stringify(payload));
    } else {
      out.push(JSON.stringify({ event: validData, obsrv_meta: obsrvMeta, dataset: c.dataset,
                                msgid: mid }));
    }
  } else {
    const message = { ...body.data, dataset: c.dataset };
    // Node hands header values over as Latin-1 strings (one character per byte).
    const header = v => v === null ? undefined : Buffer.from(v).toString('latin1');
    message.did = header(c.did);
    message.channel = header(c.channel);
    message.pid = header(c.pid);
    if (!message.mid) message.mid = c.mid;
    message.syncts = c.syncts;
    message.obsrv_meta = { syncts: c.syncts, processingStartTime: c.syncts, flags: {},
                           timespans: {}, error: {},
                           source: { connector: 'api', connectorInstance: 'api' } };
    out.push(JSON.stringify(message));
  }
}
process.stdout.write(JSON.stringify(out));
)JS";

struct reference_case {
    bool v1;
    std::string body;
    std::string ek = "events";
    std::string dk = "id";
    std::optional<std::string> did{}, channel{}, pid{};
};

TEST(NodeReferenceTest, BytesEqualJavaScript) {
    if (!node_available()) {
        GTEST_SKIP() << "node is not installed: the JavaScript reference check is skipped";
    }
    const std::vector<reference_case> cases = {
        {false, v2_body(R"("m1")", R"({"id":"1","x":1,"n":{"a":[true,false,null]}})")},
        {false, v2_body(R"("m1")", R"([{"id":"1","x":1},{"id":"2","x":-2.5}])")},
        {false, v2_body(R"("m1")", "[]")},
        {false, v2_body(R"("m1")", R"([{"a":1}])"), "dataset", "msgid"},
        {false, v2_body(R"("m1")", R"([{"a":1}])"), "obsrv_meta", "obsrv_meta"},
        {false, v2_body(R"("m1")", R"([{"a":1}])"), "k", "k"},
        {false, v2_body(R"("m1")", R"([{"a":1}])"), "7", "0"},
        {false, v2_body(R"("m1")", R"([{"a":1}])"), "4294967295", "__proto__"},
        {false, v2_body(R"("q\"\\\u0001\u00e9\ud83d\ude00 \u2028")", "{\"s\":\"\xc3\xa9\"}"),
         "e\"\\", "\x01"},
        {false,
         "{ \"id\" : \"api.data.in\" , \"ver\":\"v2\",\"ts\":\"1\",\"params\":{ \"msgid\":\"m\" } "
         ",\n\"data\" : [ {\"a\" : [ 1 , { } ] } ]\n}"},
        {false, R"({"data":[{"x":1}],"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":"m"},)"
                R"("data":{"y":2},"extra":[1,2,3]})"},
        {true, R"({"data":{"event":{"a":1}}})"},
        {true, R"({"data":{"events":[{"a":1}],"id":"b1","mid":"own"}})", "", "", "dev", "ch",
         "app"},
        {true, R"({"data":{"dataset":"x","mid":"","syncts":0,"obsrv_meta":{},"event":{}}})"},
        {true, R"({"data":{"did":"d","channel":"c","pid":"p","event":{},"mid":0}})", "", "", "D",
         std::nullopt, "P"},
        {true, R"({"data":{"b":1,"a":2,"b":3,"10":"t","2":"s","\u0065vent":{},"mid":null}})"},
        // Header bytes that are not ASCII, not UTF-8, quotes and backslashes; an empty value.
        {true, R"({"data":{"event":{}}})", "", "", "d\xff\"q\\z", "", "\xc3\xa9t\xc3\xa9"},
        {true, R"({"data":{"did":"x","b":1,"b":2}})", "", "", "\x80\xa0\x7f\x01", std::nullopt,
         std::nullopt},
        {true, R"({"data":{ }})"},
    };

    std::string json = "[";
    std::vector<std::string> ours;
    Builder b;
    for (const auto& c : cases) {
        json += json.size() > 1 ? "," : "";
        json += R"({"kind":)";
        json += c.v1 ? R"("v1")" : R"("v2")";
        json += R"(,"body":)";
        detail::append_json_string(json, c.body);
        json += R"(,"dataset":"d1","syncts":)" + std::to_string(k_syncts);
        json += R"(,"mid":")" + std::string(k_mid) + "\"";
        json += R"(,"ek":)";
        detail::append_json_string(json, c.ek);
        json += R"(,"dk":)";
        detail::append_json_string(json, c.dk);
        for (const auto& [key, value] :
             {std::pair{"did", c.did}, std::pair{"channel", c.channel}, std::pair{"pid", c.pid}}) {
            json += ",\"" + std::string(key) + "\":";
            if (value) {  // the header's bytes
                json += "[";
                for (std::size_t k = 0; k < value->size(); ++k) {
                    json += k == 0 ? "" : ",";
                    json += std::to_string(static_cast<unsigned char>((*value)[k]));
                }
                json += "]";
            } else {
                json += "null";
            }
        }
        json += "}";
        if (c.v1) {
            auto params = v1_params();
            if (c.did)
                params.device_id = *c.did;
            if (c.channel)
                params.channel_id = *c.channel;
            if (c.pid)
                params.app_id = *c.pid;
            ours.push_back(b.v1(c.body, params));
        } else {
            ours.push_back(b.v2(c.body, message_params{"d1", c.ek, c.dk, k_syncts}));
        }
    }
    json += "]";

    const std::string dir = ::testing::TempDir();
    const std::string script = dir + "obsrv_ingest_reference.js";
    const std::string input = dir + "obsrv_ingest_reference.json";
    std::ofstream(script) << k_reference_js;
    std::ofstream(input) << json;
    const std::string output = run_command("node " + script + " " + input);

    simdjson::dom::parser parser;
    simdjson::dom::array expected;
    ASSERT_EQ(parser.parse(output).get(expected), simdjson::SUCCESS) << output;
    ASSERT_EQ(expected.size(), ours.size());
    std::size_t i = 0;
    for (const auto e : expected) {
        EXPECT_EQ(ours[i], std::string_view(e.get_string().value())) << "case " << i;
        ++i;
    }
}

}  // namespace
}  // namespace obsrv::ingress
