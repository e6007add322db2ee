// The stage chain over single messages, without Kafka: the exact messages written to each
// topic (Obsrv's envelopes), every error code the core stages emit, and the system events.

#include "pipeline/pipeline_processor.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/shared_dedup_window.h"

namespace obsrv::pipeline {
namespace {

constexpr std::string_view k_batch_dataset = R"({
  "id": "d1", "dataset_id": "d1", "type": "event", "status": "Live",
  "validation_config": {"validate": true, "mode": "Strict"},
  "extraction_config": {"is_batch_event": true, "extraction_key": "events",
    "dedup_config": {"drop_duplicates": true, "dedup_key": "id", "dedup_period": 3600}},
  "dedup_config": {"drop_duplicates": true, "dedup_key": "mid", "dedup_period": 3600},
  "data_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
    "properties": {"mid": {"type": "string"}, "ets": {"type": "integer"},
                   "tags": {"type": "array"}},
    "required": ["mid", "ets"], "additionalProperties": false},
  "dataset_config": {"keys_config": {"timestamp_key": "ets"}}
})";

constexpr std::string_view k_single_dataset = R"({
  "id": "d2", "dataset_id": "d2", "type": "event", "status": "Live",
  "validation_config": {"validate": true, "mode": "DiscardNewFields"},
  "data_schema": {"type": "object", "properties": {"a": {"type": "integer"}},
                  "additionalProperties": false}
})";

constexpr std::string_view k_draft_dataset = R"({
  "id": "d3", "dataset_id": "d3", "type": "event", "status": "Draft"
})";

constexpr std::string_view k_master_dataset = R"({
  "id": "m1", "dataset_id": "m1", "type": "master", "status": "Live",
  "dedup_config": {"drop_duplicates": true, "dedup_key": "code", "dedup_period": 3600},
  "dataset_config": {"keys_config": {"data_key": "code", "timestamp_key": "when"}}
})";

constexpr std::string_view k_nested_batch_dataset = R"({
  "id": "d4", "dataset_id": "d4", "type": "event", "status": "Live",
  "extraction_config": {"is_batch_event": true, "extraction_key": "payload.items"},
  "dataset_config": {"keys_config": {"timestamp_key": "ts"}}
})";

class PipelineProcessorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::vector<std::shared_ptr<const dataset::dataset>> all;
        for (auto text : {k_batch_dataset, k_single_dataset, k_draft_dataset, k_master_dataset,
                          k_nested_batch_dataset}) {
            auto parsed = dataset::parse_dataset(text, "test");
            ASSERT_TRUE(parsed) << parsed.error().message;
            all.push_back(std::make_shared<const dataset::dataset>(std::move(parsed).value()));
        }
        auto snapshot = dataset::snapshot::build(std::move(all), 1);
        std::vector<std::string> problems;
        _catalogs =
            std::make_unique<catalog_source>(dataset_catalog::build(*snapshot, {}, &problems));
        ASSERT_TRUE(problems.empty()) << problems.front();
        _processor = std::make_unique<pipeline_processor>(_options, *_catalogs, _dedup, _metrics);
    }

    // Runs one message; returns the outputs grouped by topic.
    std::map<std::string, std::vector<std::string>> run(std::string_view message,
                                                        processing_token* token = nullptr) {
        std::vector<output_message> out;
        const processing_token t =
            _processor->process(input_message{message, 0, _offset++, 1700000000000, "ingest"}, out);
        if (token != nullptr) {
            *token = t;
        } else if (t != 0) {
            _processor->complete(t);
        }
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& m : out) {
            by_topic[m.topic].push_back(std::move(m.payload));
        }
        return by_topic;
    }

    static simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
        auto r = parser.parse(json);
        EXPECT_EQ(r.error(), simdjson::SUCCESS) << json;
        return r.value_unsafe();
    }

    static std::string text(simdjson::dom::element e, std::string_view pointer) {
        std::string_view s;
        if (e.at_pointer(pointer).get(s) != simdjson::SUCCESS) {
            return "<missing " + std::string(pointer) + ">";
        }
        return std::string(s);
    }

    pipeline_options _options;
    pipeline_metrics _metrics{nullptr};
    shared_dedup_window _dedup{shared_dedup_window_options{}};
    std::unique_ptr<catalog_source> _catalogs;
    std::unique_ptr<pipeline_processor> _processor;
    int64_t _offset = 0;
};

constexpr std::string_view k_meta =
    R"("obsrv_meta":{"syncts":1711966306164,"flags":{},"timespans":{},"error":{},"source":{"connector":"api","connectorInstance":"api"}})";

std::string batch(std::string_view msgid, std::string_view events) {
    return "{" + std::string(k_meta) + R"(,"dataset":"d1","msgid":")" + std::string(msgid) +
           R"(","events":)" + std::string(events) + R"(,"id":")" + std::string(msgid) + "\"}";
}

TEST_F(PipelineProcessorTest, BatchGoesThroughEveryTopicWithObsrvEnvelopes) {
    auto out =
        run(batch("m-1", R"([{"mid":"e1","ets":1711966306164},{"mid":"e2","ets":1711966306}])"));
    ASSERT_EQ(out["raw"].size(), 2u);
    ASSERT_EQ(out["unique"].size(), 2u);
    ASSERT_EQ(out["denorm"].size(), 2u);
    ASSERT_EQ(out["transform"].size(), 2u);
    ASSERT_EQ(out["d1"].size(), 2u);
    EXPECT_TRUE(out["failed"].empty());

    simdjson::dom::parser parser;
    // raw: {"dataset","event" (bytes as sent),"obsrv_meta"} with the extractor's flag.
    const std::string& raw = out["raw"][0];
    EXPECT_EQ(
        raw.rfind(
            R"({"dataset":"d1","event":{"mid":"e1","ets":1711966306164},"obsrv_meta":{"syncts":1711966306164,"processingStartTime":)",
            0),
        0u)
        << raw;
    auto r = parse(parser, raw);
    EXPECT_EQ(text(r, "/obsrv_meta/flags/extractor"), "success");
    EXPECT_EQ(text(r, "/obsrv_meta/source/connector"), "api");
    int64_t span = -1;
    EXPECT_EQ(r.at_pointer("/obsrv_meta/timespans/extractor").get(span), simdjson::SUCCESS);

    auto u = parse(parser, out["unique"][1]);
    EXPECT_EQ(text(u, "/obsrv_meta/flags/validator"), "success");
    EXPECT_EQ(text(u, "/obsrv_meta/flags/dedup"), "success");
    simdjson::dom::object unique_flags;
    ASSERT_EQ(u.at_pointer("/obsrv_meta/flags").get(unique_flags), simdjson::SUCCESS);
    EXPECT_EQ(unique_flags.size(), 3u);

    auto t = parse(parser, out["transform"][0]);
    EXPECT_EQ(text(t, "/obsrv_meta/flags/denorm"), "skipped");
    EXPECT_EQ(text(t, "/obsrv_meta/flags/transformer"), "skipped");

    // Router: the event's members + obsrv_meta + indexTS; 10-digit epoch → ms.
    simdjson::dom::parser parser2;
    auto d0 = parse(parser, out["d1"][0]);
    auto d1 = parse(parser2, out["d1"][1]);
    EXPECT_EQ(text(d0, "/mid"), "e1");
    int64_t index_ts = 0;
    ASSERT_EQ(d0.at_key("indexTS").get(index_ts), simdjson::SUCCESS);
    EXPECT_EQ(index_ts, 1711966306164);
    ASSERT_EQ(d1.at_key("indexTS").get(index_ts), simdjson::SUCCESS);
    EXPECT_EQ(index_ts, 1711966306000);
    EXPECT_EQ(text(d0, "/obsrv_meta/flags/transformer"), "skipped");
    EXPECT_EQ(d0.at_key("dataset").error(), simdjson::NO_SUCH_FIELD);

    // system.events: one extractor event per batch + one completion event per routed event.
    ASSERT_EQ(out["system.events"].size(), 3u);
    auto ext = parse(parser, out["system.events"][0]);
    EXPECT_EQ(text(ext, "/etype"), "METRIC");
    EXPECT_EQ(text(ext, "/ctx/pdata/id"), "ExtractorJob");
    EXPECT_EQ(text(ext, "/ctx/pdata/pid"), "extractor");
    int64_t n = 0;
    ASSERT_EQ(ext.at_pointer("/data/pipeline_stats/extractor_events").get(n), simdjson::SUCCESS);
    EXPECT_EQ(n, 2);
    auto done = parse(parser, out["system.events"][1]);
    EXPECT_EQ(text(done, "/ctx/pdata/id"), "DruidRouterJob");
    EXPECT_EQ(text(done, "/ctx/dataset"), "d1");
    EXPECT_EQ(text(done, "/ctx/dataset_type"), "event");
    EXPECT_EQ(text(done, "/data/pipeline_stats/dedup_status"), "success");
    int64_t total = 0;
    ASSERT_EQ(done.at_pointer("/data/pipeline_stats/total_processing_time").get(total),
              simdjson::SUCCESS);
    EXPECT_GT(total, 0);
}

TEST_F(PipelineProcessorTest, DuplicateEventsFailWithErrPp1010InTheSameBatchAndLater) {
    auto out =
        run(batch("m-1", R"([{"mid":"e1","ets":1711966306164},{"mid":"e1","ets":1711966306164}])"));
    EXPECT_EQ(out["unique"].size(), 1u);
    ASSERT_EQ(out["failed"].size(), 1u);
    simdjson::dom::parser parser;
    auto f = parse(parser, out["failed"][0]);
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_PP_1010");
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_msg"), "Duplicate event found");
    EXPECT_EQ(text(f, "/obsrv_meta/error/src"), "dedup");
    EXPECT_EQ(text(f, "/obsrv_meta/flags/dedup"), "failed");
    // The failed event is the {event, dataset} map as a JSON string.
    EXPECT_EQ(text(f, "/event"), R"({"event":{"mid":"e1","ets":1711966306164},"dataset":"d1"})");
    EXPECT_EQ(text(f, "/dataset"), "d1");

    auto later = run(batch("m-2", R"([{"mid":"e1","ets":1711966306164}])"));
    EXPECT_TRUE(later["unique"].empty());
    EXPECT_EQ(later["failed"].size(), 1u);
}

TEST_F(PipelineProcessorTest, DuplicateBatchFailsWithErrExt1009AndNoSystemEvent) {
    run(batch("m-1", R"([{"mid":"a","ets":1711966306164}])"));
    auto out = run(batch("m-1", R"([{"mid":"b","ets":1711966306164}])"));
    ASSERT_EQ(out["failed"].size(), 1u);
    EXPECT_TRUE(out["raw"].empty());
    EXPECT_TRUE(out["system.events"].empty());
    simdjson::dom::parser parser;
    auto f = parse(parser, out["failed"][0]);
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_EXT_1009");
    EXPECT_EQ(text(f, "/msgid"), "m-1");  // the batch's other members are kept
    std::string inner = text(f, "/event");
    EXPECT_NE(inner.find(R"("events":[{"mid":"b")"), std::string::npos) << inner;
}

TEST_F(PipelineProcessorTest, AbandonedMessageReleasesItsKeysSoTheRetryIsNotADuplicate) {
    processing_token token = 0;
    auto first = run(batch("m-9", R"([{"mid":"r1","ets":1711966306164}])"), &token);
    ASSERT_NE(token, 0u);
    EXPECT_EQ(first["unique"].size(), 1u);
    _processor->abandon(token);
    auto retry = run(batch("m-9", R"([{"mid":"r1","ets":1711966306164}])"));
    EXPECT_EQ(retry["unique"].size(), 1u);
    EXPECT_TRUE(retry["failed"].empty());
}

TEST_F(PipelineProcessorTest, SchemaFailureGivesErrPp1013WithLocationAndClassEvents) {
    auto out = run(batch("m-3", R"([{"mid":"e1","ets":"soon","extra":1}])"));
    ASSERT_EQ(out["failed"].size(), 1u);
    EXPECT_TRUE(out["unique"].empty());
    simdjson::dom::parser parser;
    auto f = parse(parser, out["failed"][0]);
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_PP_1013");
    EXPECT_EQ(text(f, "/obsrv_meta/flags/validator"), "failed");
    const std::string msg = text(f, "/obsrv_meta/error/error_msg");
    EXPECT_EQ(msg.rfind("Event failed the schema validation: [", 0), 0u) << msg;
    EXPECT_NE(msg.find("\"type\":\"type\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("additionalProperties"), std::string::npos) << msg;
    // One warn-level system event per error class (type, additional fields).
    ASSERT_EQ(out["system.events"].size(), 3u);  // extractor + 2 classes
    auto type_event = parse(parser, out["system.events"][1]);
    EXPECT_EQ(text(type_event, "/data/error/error_type"), "DataTypeMismatch");
    EXPECT_EQ(text(type_event, "/data/error/error_level"), "warn");
    EXPECT_EQ(text(parse(parser, out["system.events"][2]), "/data/error/error_type"),
              "AdditionalFieldsFound");
}

TEST_F(PipelineProcessorTest, DiscardNewFieldsRemovesUnknownFields) {
    const std::string message =
        "{" + std::string(k_meta) + R"(,"dataset":"d2","event":{"a":1,"b":{"x":2},"c":"y"}})";
    auto out = run(message);
    ASSERT_EQ(out["unique"].size(), 1u);
    simdjson::dom::parser parser;
    auto u = parse(parser, out["unique"][0]);
    EXPECT_EQ(text(u, "/obsrv_meta/flags/extractor"), "skipped");
    EXPECT_EQ(text(u, "/obsrv_meta/flags/validator"), "success");
    EXPECT_EQ(std::string(simdjson::minify(u["event"])), R"({"a":1})");
    // d2 has no dedup: the flag is absent (Obsrv passes the event unchanged).
    EXPECT_EQ(u.at_pointer("/obsrv_meta/flags/dedup").error(), simdjson::NO_SUCH_FIELD);
    // Timestamp key defaults to obsrv_meta.syncts.
    ASSERT_EQ(out["d2"].size(), 1u);
    int64_t index_ts = 0;
    ASSERT_EQ(parse(parser, out["d2"][0]).at_key("indexTS").get(index_ts), simdjson::SUCCESS);
    EXPECT_EQ(index_ts, 1711966306164);
}

TEST_F(PipelineProcessorTest, NotLiveDatasetEventsAreDroppedSilently) {
    const std::string message = "{" + std::string(k_meta) + R"(,"dataset":"d3","event":{"a":1}})";
    auto out = run(message);
    EXPECT_EQ(out["raw"].size(), 1u);  // the extractor does not look at the status
    EXPECT_TRUE(out["unique"].empty());
    EXPECT_TRUE(out["failed"].empty());
    EXPECT_TRUE(out["d3"].empty());
}

TEST_F(PipelineProcessorTest, ExtractorErrorCodes) {
    simdjson::dom::parser parser;
    struct expectation {
        std::string message;
        std::string code;
        std::string system_event_dataset;
    };
    const std::vector<expectation> cases = {
        {"{not json", "ERR_EXT_1018", "ALL"},
        {"{" + std::string(k_meta) + R"(,"event":{"a":1}})", "ERR_EXT_1004", "ALL"},
        {"{" + std::string(k_meta) + R"(,"dataset":"nope","event":{"a":1}})", "ERR_EXT_1005",
         "nope"},
        {"{" + std::string(k_meta) + R"(,"dataset":"d1","msgid":"x","id":"x1"})", "ERR_EXT_1001",
         "d1"},
        {"{" + std::string(k_meta) + R"(,"dataset":"d1","events":{"a":1},"id":"x2"})",
         "ERR_EXT_1002", "d1"},
        {"{" + std::string(k_meta) + R"(,"dataset":"d2","events":[{"a":1}]})", "ERR_EXT_1006",
         "d2"},
    };
    for (const auto& c : cases) {
        auto out = run(c.message);
        ASSERT_EQ(out["failed"].size(), 1u) << c.message;
        auto f = parse(parser, out["failed"][0]);
        EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), c.code) << c.message;
        EXPECT_EQ(text(f, "/obsrv_meta/error/src"), "extractor");
        EXPECT_EQ(text(f, "/obsrv_meta/flags/extractor"), "failed");
        ASSERT_EQ(out["system.events"].size(), 1u) << c.message;
        auto e = parse(parser, out["system.events"][0]);
        EXPECT_EQ(text(e, "/ctx/dataset"), c.system_event_dataset);
        EXPECT_EQ(text(e, "/data/error/error_code"), c.code);
        EXPECT_EQ(text(e, "/data/error/error_level"), "critical");
    }
    // Invalid JSON keeps the raw bytes under invalid_json and as the event string.
    auto out = run("{not json");
    auto f = parse(parser, out["failed"][0]);
    EXPECT_EQ(text(f, "/invalid_json"), "{not json");
    EXPECT_EQ(text(f, "/event"), R"({"invalid_json":"{not json"})");
    int64_t syncts = 0;
    ASSERT_EQ(f.at_pointer("/obsrv_meta/syncts").get(syncts), simdjson::SUCCESS);
    EXPECT_EQ(syncts, 1700000000000);  // the Kafka record timestamp
    // Bytes that are not UTF-8 are replaced as Java's String decoder does (one U+FFFD per
    // broken sequence), so the failed message is still JSON text.
    out = run("{\"a\":\"\xff\xe2\x82\"}\xc3");
    ASSERT_EQ(out["failed"].size(), 1u);
    ASSERT_EQ(parser.parse(out["failed"][0]).get(f), simdjson::SUCCESS) << out["failed"][0];
    EXPECT_EQ(text(f, "/invalid_json"), "{\"a\":\"\xef\xbf\xbd\xef\xbf\xbd\"}\xef\xbf\xbd");
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_EXT_1018");
}

TEST_F(PipelineProcessorTest, OversizedEventFailsWithErrExt1003) {
    _options.max_event_size = 40;
    auto out = run(batch(
        "m-5",
        R"([{"mid":"small","ets":1711966306164},{"mid":"this one is far too long","ets":1711966306164}])"));
    EXPECT_EQ(out["unique"].size(), 1u);
    ASSERT_EQ(out["failed"].size(), 1u);
    simdjson::dom::parser parser;
    EXPECT_EQ(text(parse(parser, out["failed"][0]), "/obsrv_meta/error/error_code"),
              "ERR_EXT_1003");
}

TEST_F(PipelineProcessorTest, DedupKeyMissingOrNotScalarPassesWithWarning) {
    simdjson::dom::parser parser;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"name":"x"})", "ERR_DEDUP_1007"}, {R"({"code":{"a":1}})", "ERR_DEDUP_1008"}};
    for (const auto& [event, code] : cases) {
        auto out = run("{" + std::string(k_meta) + R"(,"dataset":"m1","event":)" + event + "}");
        ASSERT_EQ(out["unique"].size(), 1u) << event;
        EXPECT_EQ(text(parse(parser, out["unique"][0]), "/obsrv_meta/flags/dedup"), "success");
        ASSERT_FALSE(out["system.events"].empty());
        auto e = parse(parser, out["system.events"][0]);
        EXPECT_EQ(text(e, "/data/error/error_code"), code);
        EXPECT_EQ(text(e, "/data/error/error_type"), "DedupFailed");
        EXPECT_EQ(text(e, "/data/error/pdata_status"), "skipped");
        EXPECT_EQ(text(e, "/data/error/error_level"), "warn");
    }
}

TEST_F(PipelineProcessorTest, RouterFailsWithoutTimestampExceptForMasterDatasets) {
    // d1 requires ets by schema, so drop the schema check: use master m1 (no validation) and a
    // message without its timestamp key.
    const std::string master =
        "{" + std::string(k_meta) + R"(,"dataset":"m1","event":{"code":"c1"}})";
    auto out = run(master);
    ASSERT_EQ(out["m1"].size(), 1u);
    simdjson::dom::parser parser;
    auto routed = parse(parser, out["m1"][0]);
    EXPECT_TRUE(routed["indexTS"].is_null());
    EXPECT_TRUE(out["failed"].empty());
}

TEST_F(PipelineProcessorTest, RouterInvalidTimestampGivesErrRouter1019) {
    // A 12-digit epoch is not one of the lengths Obsrv accepts.
    auto out = run(batch("m-7", R"([{"mid":"t1","ets":171196630616}])"));
    EXPECT_TRUE(out["d1"].empty());
    ASSERT_EQ(out["failed"].size(), 1u);
    simdjson::dom::parser parser;
    auto f = parse(parser, out["failed"][0]);
    EXPECT_EQ(text(f, "/obsrv_meta/error/error_code"), "ERR_ROUTER_1019");
    EXPECT_EQ(text(f, "/obsrv_meta/error/src"), "router");
    // markFailure also writes a critical system event with the pipeline stats.
    auto e = parse(parser, out["system.events"].back());
    EXPECT_EQ(text(e, "/data/error/error_type"), "MissingTimestampKey");
    EXPECT_EQ(text(e, "/data/pipeline_stats/validator_status"), "success");
}

TEST_F(PipelineProcessorTest, IntermediateTopicsCanBeSwitchedOff) {
    _options.write_raw = false;
    _options.write_denorm = false;
    auto out = run(batch("m-8", R"([{"mid":"o1","ets":1711966306164}])"));
    EXPECT_TRUE(out["raw"].empty());
    EXPECT_TRUE(out["denorm"].empty());
    EXPECT_EQ(out["unique"].size(), 1u);
    EXPECT_EQ(out["d1"].size(), 1u);
}

TEST_F(PipelineProcessorTest, BigNumbersKeepTheirBytes) {
    const std::string message = "{" + std::string(k_meta) +
                                R"(,"dataset":"d2","event":{"a":123456789012345678901234567890}})";
    auto out = run(message);
    // The schema says integer; the value is one (a big one): it passes and keeps its digits.
    ASSERT_EQ(out["unique"].size(), 1u) << (out["failed"].empty() ? "" : out["failed"][0]);
    EXPECT_NE(out["unique"][0].find("123456789012345678901234567890"), std::string::npos);
}

TEST_F(PipelineProcessorTest, BatchEventsKeepTheirBytesWhateverTheSpacingOrTheKeysAround) {
    // The batch array after other members, spaced out, and an earlier member holding a decoy
    // "events" key: the events are the ones of the top-level member, copied as sent.
    const std::string message = "{" + std::string(k_meta) +
                                R"(,"dataset":"d1","x":{"events":[1]},"events" : [ )"
                                R"({"mid":"s1", "ets":1711966306164} ,)"
                                "\n  "
                                R"({"ets":1711966306165,"mid":"s2"} ],"id":"m-9"})";
    auto out = run(message);
    ASSERT_EQ(out["raw"].size(), 2u) << (out["failed"].empty() ? "" : out["failed"][0]);
    EXPECT_NE(out["raw"][0].find(R"("event":{"mid":"s1", "ets":1711966306164},)"),
              std::string::npos)
        << out["raw"][0];
    EXPECT_NE(out["raw"][1].find(R"("event":{"ets":1711966306165,"mid":"s2"},)"), std::string::npos)
        << out["raw"][1];
}

TEST_F(PipelineProcessorTest, BatchUnderANestedExtractionKeyIsSplitToo) {
    const std::string message =
        "{" + std::string(k_meta) +
        R"(,"dataset":"d4","payload":{"n":2,"items":[{"ts":1711966306164,"a" : 1},{"ts":1711966306165}]}})";
    auto out = run(message);
    ASSERT_EQ(out["d4"].size(), 2u) << (out["failed"].empty() ? "" : out["failed"][0]);
    EXPECT_EQ(out["d4"][0].rfind(R"({"ts":1711966306164,"a" : 1,"obsrv_meta":{)", 0), 0u)
        << out["d4"][0];
    EXPECT_EQ(out["d4"][1].rfind(R"({"ts":1711966306165,"obsrv_meta":{)", 0), 0u) << out["d4"][1];
}

}  // namespace
}  // namespace obsrv::pipeline
