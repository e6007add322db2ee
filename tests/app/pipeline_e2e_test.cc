// The pipeline end to end as an operator runs it: `obsrvd --roles all` (gateway, pipeline and
// the embedded broker in one process), events posted over HTTP to the Obsrv v2 route, and every
// output topic read back with a Kafka consumer (messages the Dataset API would refuse are
// produced straight to `ingest`, as a connector could). The envelopes are compared whole, with
// only the run-dependent numbers (times, durations) masked, so a renamed or reordered field
// fails. Cases: every topic of a good batch and single event, every failure code of the core
// stages, and denorm + transformer with master data posted through the gateway.

#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/http_client.h"
#include "e2e_support.h"
#include "kafka_helpers.h"
#include "obsrvd_process.h"
#include "test_env.h"

namespace obsrv::testing {
namespace {

using namespace std::chrono_literals;

int64_t number_at(const std::string& json, std::string_view pointer) {
    simdjson::dom::parser parser;
    int64_t value = -1;
    auto doc = parser.parse(json);
    if (doc.error() || doc.value_unsafe().at_pointer(pointer).get(value)) {
        return -1;
    }
    return value;
}

std::string text_at(const std::string& json, std::string_view pointer) {
    simdjson::dom::parser parser;
    std::string_view value;
    auto doc = parser.parse(json);
    if (doc.error() || doc.value_unsafe().at_pointer(pointer).get(value)) {
        return "<missing " + std::string(pointer) + ">";
    }
    return std::string(value);
}

// obsrv_meta as each stage leaves it (contracts §2); <N> = a time or duration.
constexpr std::string_view k_source = R"("source":{"connector":"api","connectorInstance":"api"})";

std::string meta(std::string_view flags, std::string_view timespans,
                 std::string_view error = "{}") {
    return std::string(R"("obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,)"
                       R"("prevProcessingTime":<N>,"flags":{)") +
           std::string(flags) + R"(},"timespans":{)" + std::string(timespans) + R"(},"error":)" +
           std::string(error) + "," + std::string(k_source) + "}";
}

constexpr std::string_view k_batch_flags_unique =
    R"("extractor":"success","validator":"success","dedup":"success")";
constexpr std::string_view k_batch_spans_unique = R"("extractor":<N>,"validator":<N>,"dedup":<N>)";

class pipeline_e2e : public ::testing::Test {
  protected:
    void SetUp() override {
        _datasets = make_temp_dir("datasets");
        write_dataset(_datasets, "e2e-batch", dataset_json("e2e-batch", true, "mid"));
        write_dataset(_datasets, "e2e-single",
                      dataset_json("e2e-single", false, "", "obsrv_meta.syncts"));
        obsrvd_options options;
        options.roles = "all";
        options.datasets_dir = _datasets;
        options.sets = {"pipeline.workers=2", "gateway.workers=1",
                        "pipeline.commit_interval_ms=100"};
        _obsrvd = std::make_unique<obsrvd_process>(options);
        ASSERT_TRUE(_obsrvd->wait_ready()) << _obsrvd->process().stderr_text();
        _bootstrap = _obsrvd->bootstrap();
    }

    void TearDown() override {
        if (_obsrvd) {
            auto status = _obsrvd->stop();
            EXPECT_EQ(status, 0) << _obsrvd->process().stderr_text();
        }
    }

    void post(const std::string& dataset, const std::string& msgid, std::string_view data) {
        auto r = http::post("127.0.0.1", _obsrvd->gateway_port(), "/v2/data/in/" + dataset,
                            ingest_body(msgid, data), "application/json", scaled(10s));
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ(r->status, 200) << r->body;
        ++_posted;
    }

    /// Every posted message was processed and its outputs delivered (offsets cover them).
    void wait_processed() {
        ASSERT_TRUE(wait_until(
            [&] { return _obsrvd->metric("obsrv_pipeline_committed_offsets_total") >= _posted; },
            scaled(30s)))
            << _obsrvd->process().stderr_text();
    }

    std::string _datasets;
    std::unique_ptr<obsrvd_process> _obsrvd;
    std::string _bootstrap;
    int _posted = 0;
};

TEST_F(pipeline_e2e, posted_events_reach_every_topic_in_obsrv_envelopes) {
    // A batch (data array): two good events, one the schema refuses, one duplicate in the batch.
    post("e2e-batch", "m-1",
         R"([{"mid":"e1","ets":1711966306164},{"mid":"e2","ets":1711966306},)"
         R"({"mid":"bad","ets":"soon"},{"mid":"e1","ets":1711966306164}])");
    // A single event (data object) to a dataset without dedup, indexTS from obsrv_meta.syncts.
    post("e2e-single", "m-2", R"({"mid":"s1","ets":1711966306164})");
    wait_processed();
    // Later duplicates: an event seen before (ERR_PP_1010) and a batch id seen before (1009).
    post("e2e-batch", "m-3", R"([{"mid":"e2","ets":1711966306164}])");
    post("e2e-batch", "m-1", R"([{"mid":"e9","ets":1711966306164}])");
    wait_processed();

    // ---- ingest: what the gateway wrote (one message per request) -------------------------
    auto ingest = read_all(_bootstrap, "ingest");
    ASSERT_EQ(ingest.size(), 4u);
    auto batch_in = containing(ingest, R"("msgid":"m-3")");
    ASSERT_EQ(batch_in.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"obsrv_meta":{"syncts":<N>,"flags":{},"timespans":{},"error":{},)" +
            std::string(k_source) +
            R"(},"dataset":"e2e-batch","msgid":"m-3","events":[{"mid":"e2","ets":1711966306164}],"id":"m-3"})",
        batch_in[0]))
        << batch_in[0];
    auto single_in = containing(ingest, R"("msgid":"m-2")");
    ASSERT_EQ(single_in.size(), 1u);
    EXPECT_TRUE(matches(R"({"event":{"mid":"s1","ets":1711966306164},"obsrv_meta":{"syncts":<N>,)"
                        R"("flags":{},"timespans":{},"error":{},)" +
                            std::string(k_source) + R"(},"dataset":"e2e-single","msgid":"m-2"})",
                        single_in[0]))
        << single_in[0];
    const int64_t single_syncts = number_at(single_in[0], "/obsrv_meta/syncts");
    EXPECT_GT(single_syncts, 1700000000000);

    // ---- raw: every extracted event, extractor flag only ----------------------------------
    auto raw = read_all(_bootstrap, "raw");
    EXPECT_EQ(raw.size(), 6u);  // 4 of m-1, s1, e2 of m-3; the repeated batch m-1 stops before
    auto raw_e2 = containing(raw, R"("mid":"e2","ets":1711966306})");
    ASSERT_EQ(raw_e2.size(), 1u);
    EXPECT_TRUE(matches(R"({"dataset":"e2e-batch","event":{"mid":"e2","ets":1711966306},)" +
                            meta(R"("extractor":"success")", R"("extractor":<N>)") + "}",
                        raw_e2[0]))
        << raw_e2[0];
    auto raw_s1 = containing(raw, R"("mid":"s1")");
    ASSERT_EQ(raw_s1.size(), 1u);
    // A single event is not extracted from a batch: Obsrv marks the extractor skipped.
    EXPECT_TRUE(matches(R"({"dataset":"e2e-single","event":{"mid":"s1","ets":1711966306164},)" +
                            meta(R"("extractor":"skipped")", R"("extractor":<N>)") + "}",
                        raw_s1[0]))
        << raw_s1[0];
    EXPECT_EQ(number_at(raw_s1[0], "/obsrv_meta/syncts"), single_syncts);

    // ---- unique, denorm, transform: the flags grow stage by stage ------------------------
    auto unique = read_all(_bootstrap, "unique");
    EXPECT_EQ(unique.size(), 3u);  // e1, e2, s1
    auto unique_e1 = containing(unique, R"("mid":"e1")");
    ASSERT_EQ(unique_e1.size(), 1u);
    EXPECT_TRUE(matches(R"({"dataset":"e2e-batch","event":{"mid":"e1","ets":1711966306164},)" +
                            meta(k_batch_flags_unique, k_batch_spans_unique) + "}",
                        unique_e1[0]))
        << unique_e1[0];
    auto unique_s1 = containing(unique, R"("mid":"s1")");
    ASSERT_EQ(unique_s1.size(), 1u);
    // No dedup configured: no dedup flag (Obsrv passes the event unchanged).
    EXPECT_TRUE(matches(R"({"dataset":"e2e-single","event":{"mid":"s1","ets":1711966306164},)" +
                            meta(R"("extractor":"skipped","validator":"success")",
                                 R"("extractor":<N>,"validator":<N>)") +
                            "}",
                        unique_s1[0]))
        << unique_s1[0];

    auto denorm = read_all(_bootstrap, "denorm");
    EXPECT_EQ(denorm.size(), 3u);
    auto denorm_e1 = containing(denorm, R"("mid":"e1")");
    ASSERT_EQ(denorm_e1.size(), 1u);
    EXPECT_TRUE(matches(R"({"dataset":"e2e-batch","event":{"mid":"e1","ets":1711966306164},)" +
                            meta(std::string(k_batch_flags_unique) + R"(,"denorm":"skipped")",
                                 std::string(k_batch_spans_unique) + R"(,"denorm":<N>)") +
                            "}",
                        denorm_e1[0]))
        << denorm_e1[0];

    auto transform = read_all(_bootstrap, "transform");
    EXPECT_EQ(transform.size(), 3u);
    auto transform_e1 = containing(transform, R"("mid":"e1")");
    ASSERT_EQ(transform_e1.size(), 1u);
    const std::string all_flags =
        std::string(k_batch_flags_unique) + R"(,"denorm":"skipped","transformer":"skipped")";
    const std::string all_spans =
        std::string(k_batch_spans_unique) + R"(,"denorm":<N>,"transformer":<N>)";
    EXPECT_TRUE(matches(R"({"dataset":"e2e-batch","event":{"mid":"e1","ets":1711966306164},)" +
                            meta(all_flags, all_spans) + "}",
                        transform_e1[0]))
        << transform_e1[0];

    // ---- the dataset topics: the event's members + obsrv_meta + indexTS ------------------
    auto routed = read_all(_bootstrap, "e2e-batch");
    ASSERT_EQ(routed.size(), 2u);
    auto routed_e1 = containing(routed, R"("mid":"e1")");
    auto routed_e2 = containing(routed, R"("mid":"e2")");
    ASSERT_EQ(routed_e1.size(), 1u);
    ASSERT_EQ(routed_e2.size(), 1u);
    EXPECT_TRUE(matches(R"({"mid":"e1","ets":1711966306164,)" + meta(all_flags, all_spans) +
                            R"(,"indexTS":1711966306164})",
                        routed_e1[0]))
        << routed_e1[0];
    // A 10-digit epoch is seconds: indexTS in milliseconds.
    EXPECT_TRUE(matches(R"({"mid":"e2","ets":1711966306,)" + meta(all_flags, all_spans) +
                            R"(,"indexTS":1711966306000})",
                        routed_e2[0]))
        << routed_e2[0];
    auto routed_single = read_all(_bootstrap, "e2e-single");
    ASSERT_EQ(routed_single.size(), 1u);
    EXPECT_TRUE(matches(R"({"mid":"s1","ets":1711966306164,)" +
                            meta(R"("extractor":"skipped","validator":"success",)"
                                 R"("denorm":"skipped","transformer":"skipped")",
                                 R"("extractor":<N>,"validator":<N>,"denorm":<N>,)"
                                 R"("transformer":<N>)") +
                            R"(,"indexTS":<N>})",
                        routed_single[0]))
        << routed_single[0];
    EXPECT_EQ(number_at(routed_single[0], "/indexTS"), single_syncts);

    // ---- failed: markFailed envelopes ---------------------------------------------------
    auto failed = read_all(_bootstrap, "failed");
    ASSERT_EQ(failed.size(), 4u);
    auto invalid = containing(failed, "ERR_PP_1013");
    ASSERT_EQ(invalid.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"dataset":"e2e-batch","event":"{\"event\":{\"mid\":\"bad\",\"ets\":\"soon\"},\"dataset\":\"e2e-batch\"}",)" +
            meta(
                R"("extractor":"success","validator":"failed")",
                R"("extractor":<N>,"validator":<N>)",
                R"({"src":"validator","error_code":"ERR_PP_1013","error_msg":"Event failed the schema validation: [<S>]"})") +
            "}",
        // The ValidationMessage list holds quotes: masked before matching, checked below.
        std::string(invalid[0])
            .replace(invalid[0].find("validation: [") + 13,
                     invalid[0].find("]\"}") - invalid[0].find("validation: [") - 13, "")))
        << invalid[0];
    const std::string validation = text_at(invalid[0], "/obsrv_meta/error/error_msg");
    EXPECT_THAT(validation, ::testing::HasSubstr(R"("type":"type")"));
    EXPECT_THAT(validation, ::testing::HasSubstr(R"("instanceLocation":"$.ets")"));

    auto duplicates = containing(failed, "ERR_PP_1010");
    ASSERT_EQ(duplicates.size(), 2u);  // e1 twice in m-1, e2 again in m-3
    const std::string dup_meta = meta(
        R"("extractor":"success","validator":"success","dedup":"failed")", k_batch_spans_unique,
        R"({"src":"dedup","error_code":"ERR_PP_1010","error_msg":"Duplicate event found"})");
    auto dup_e1 = containing(duplicates, R"(\"mid\":\"e1\")");
    ASSERT_EQ(dup_e1.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"dataset":"e2e-batch","event":"{\"event\":{\"mid\":\"e1\",\"ets\":1711966306164},\"dataset\":\"e2e-batch\"}",)" +
            dup_meta + "}",
        dup_e1[0]))
        << dup_e1[0];
    EXPECT_EQ(containing(duplicates, R"(\"mid\":\"e2\")").size(), 1u);

    auto batch_dup = containing(failed, "ERR_EXT_1009");
    ASSERT_EQ(batch_dup.size(), 1u);
    EXPECT_EQ(text_at(batch_dup[0], "/msgid"), "m-1");
    EXPECT_EQ(text_at(batch_dup[0], "/obsrv_meta/error/error_msg"), "Duplicate batch event found");
    EXPECT_THAT(text_at(batch_dup[0], "/event"),
                ::testing::HasSubstr(R"("events":[{"mid":"e9","ets":1711966306164}])"));

    // ---- system.events ------------------------------------------------------------------
    auto events = read_all(_bootstrap, "system.events");
    auto extractor_events = containing(events, R"("id":"ExtractorJob")");
    ASSERT_EQ(extractor_events.size(), 2u) << "one per extracted batch (m-1, m-3)";
    auto m1_extracted = containing(extractor_events, R"("extractor_events":4)");
    ASSERT_EQ(m1_extracted.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"e2e-batch","dataset_type":"event"},)"
        R"("data":{"pipeline_stats":{"extractor_events":4,"extractor_status":"success"}},"ets":<N>})",
        m1_extracted[0]))
        << m1_extracted[0];

    auto completions = containing(events, R"("id":"DruidRouterJob")");
    ASSERT_EQ(completions.size(), 3u) << "one per routed event (e1, e2, s1)";
    auto s1_done = containing(completions, R"("dataset":"e2e-single")");
    ASSERT_EQ(s1_done.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"DruidRouterJob","type":"flink","pid":"router"},"dataset":"e2e-single","dataset_type":"event",)" +
            std::string(k_source) +
            R"(},"data":{"pipeline_stats":{"extractor_status":"skipped","extractor_time":<N>,)"
            R"("validator_status":"success","validator_time":<N>,"denorm_status":"skipped",)"
            R"("denorm_time":<N>,"transform_status":"skipped","transform_time":<N>,)"
            R"("total_processing_time":<N>,"latency_time":<N>,"processing_time":<N>}},"ets":<N>})",
        s1_done[0]))
        << s1_done[0];

    auto validation_events = containing(events, R"("error_code":"ERR_PP_1013")");
    ASSERT_EQ(validation_events.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"PipelinePreprocessorJob","type":"flink","pid":"validator"},"dataset":"e2e-batch","dataset_type":"event"},)"
        R"("data":{"error":{"pdata_id":"validator","pdata_status":"failed","error_type":"DataTypeMismatch","error_code":"ERR_PP_1013","error_message":"Event failed the schema validation","error_level":"warn","error_count":1}},"ets":<N>})",
        validation_events[0]))
        << validation_events[0];
    // Duplicates write no system event (Obsrv's dedup only counts them); the repeated batch
    // neither.
    EXPECT_EQ(events.size(),
              extractor_events.size() + completions.size() + validation_events.size());
}

// Every failure code of the pipeline core, each from a message an operator can send: through
// the gateway where the Dataset API lets it pass, straight to `ingest` (as a connector or a
// foreign producer would) where it does not.
TEST_F(pipeline_e2e, every_core_failure_code_reaches_its_topic) {
    // Two more datasets: dedup on a key the events do not carry (ERR_DEDUP_1007: a warning,
    // the event goes on), and a timestamp key they do not carry (ERR_ROUTER_1019).
    write_dataset(_datasets, "e2e-nouid", dataset_json("e2e-nouid", false, "uid"));
    write_dataset(_datasets, "e2e-nots", dataset_json("e2e-nots", false, "", "when"));
    ASSERT_TRUE(
        wait_until([&] { return _obsrvd->metric("obsrv_datasets_loaded") >= 4; }, scaled(10s)))
        << _obsrvd->process().stderr_text();

    // An array to a single-event dataset: the gateway writes it as a batch, which the
    // extractor refuses (ERR_EXT_1006), as Obsrv does.
    post("e2e-single", "m-a", R"([{"mid":"a1","ets":1711966306164}])");
    post("e2e-nouid", "m-u", R"({"mid":"u1","ets":1711966306164})");
    post("e2e-nots", "m-t", R"({"mid":"t1","ets":1711966306164})");

    const std::string meta_in =
        R"("obsrv_meta":{"syncts":1711966306000,"flags":{},"timespans":{},"error":{},)" +
        std::string(k_source) + "}";
    const std::vector<std::string> foreign = {
        "{not json",
        "{" + meta_in + R"(,"event":{"mid":"x"}})",
        "{" + meta_in + R"(,"dataset":"nope","event":{"mid":"x"}})",
        "{" + meta_in + R"(,"dataset":"e2e-batch","msgid":"b1","id":"b1"})",
        "{" + meta_in + R"(,"dataset":"e2e-batch","msgid":"b2","events":{"mid":"x"},"id":"b2"})",
    };
    ASSERT_EQ(produce_values(_bootstrap, "ingest", -1, foreign), static_cast<int>(foreign.size()));
    _posted += static_cast<int>(foreign.size());
    wait_processed();

    auto failed = read_all(_bootstrap, "failed");
    auto events = read_all(_bootstrap, "system.events");
    // failed: markFailed envelopes (contracts §2): the other top-level members kept, `event`
    // the message without obsrv_meta as a JSON string.
    const std::vector<std::pair<std::string_view, std::string_view>> failed_envelopes = {
        {"ERR_EXT_1018",
         R"({"invalid_json":"{not json","event":"{\"invalid_json\":\"{not json\"}","obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1018","error_msg":"Invalid JSON event, error while deserializing the event"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_EXT_1004",
         R"({"event":"{\"event\":{\"mid\":\"x\"}}","obsrv_meta":{"syncts":1711966306000,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1004","error_msg":"Dataset Id is missing from the data"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_EXT_1005",
         R"({"dataset":"nope","event":"{\"dataset\":\"nope\",\"event\":{\"mid\":\"x\"}}","obsrv_meta":{"syncts":1711966306000,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1005","error_msg":"Dataset configuration is missing"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_EXT_1001",
         R"({"dataset":"e2e-batch","msgid":"b1","id":"b1","event":"{\"dataset\":\"e2e-batch\",\"msgid\":\"b1\",\"id\":\"b1\"}","obsrv_meta":{"syncts":1711966306000,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1001","error_msg":"Unable to extract the data from the extraction key"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_EXT_1002",
         R"({"dataset":"e2e-batch","msgid":"b2","events":{"mid":"x"},"id":"b2","event":"{\"dataset\":\"e2e-batch\",\"msgid\":\"b2\",\"events\":{\"mid\":\"x\"},\"id\":\"b2\"}","obsrv_meta":{"syncts":1711966306000,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1002","error_msg":"The extracted data is not a list"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_EXT_1006",
         R"({"dataset":"e2e-single","msgid":"m-a","events":[{"mid":"a1","ets":1711966306164}],"id":"m-a","event":"{\"dataset\":\"e2e-single\",\"msgid\":\"m-a\",\"events\":[{\"mid\":\"a1\",\"ets\":1711966306164}],\"id\":\"m-a\"}","obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"failed"},"timespans":{"extractor":<N>},"error":{"src":"extractor","error_code":"ERR_EXT_1006","error_msg":"Event missing in the batch event"},"source":{"connector":"api","connectorInstance":"api"}}})"},
        {"ERR_ROUTER_1019",
         R"({"dataset":"e2e-nots","event":"{\"event\":{\"mid\":\"t1\",\"ets\":1711966306164},\"dataset\":\"e2e-nots\"}","obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"skipped","validator":"success","denorm":"skipped","transformer":"skipped","router":"failed"},"timespans":{"extractor":<N>,"validator":<N>,"denorm":<N>,"transformer":<N>,"router":<N>},"error":{"src":"router","error_code":"ERR_ROUTER_1019","error_msg":"Unable to index data as the timestamp key is missing or blank or not a datetime value"},"source":{"connector":"api","connectorInstance":"api"}}})"},
    };
    // system.events: one METRIC event per failure (contracts §5).
    const std::vector<std::pair<std::string_view, std::string_view>>
        failure_events =
            {
                {"ERR_EXT_1018",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"ALL"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"InvalidJsonData","error_code":"ERR_EXT_1018","error_message":"Invalid JSON event, error while deserializing the event","error_level":"critical"}},"ets":<N>})"},
                {"ERR_EXT_1004",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"ALL"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"MissingDatasetId","error_code":"ERR_EXT_1004","error_message":"Dataset Id is missing from the data","error_level":"critical"}},"ets":<N>})"},
                {"ERR_EXT_1005",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"nope"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"MissingDatasetId","error_code":"ERR_EXT_1005","error_message":"Dataset configuration is missing","error_level":"critical"}},"ets":<N>})"},
                {"ERR_EXT_1001",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"e2e-batch","dataset_type":"event"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"ExtractionDataFormatInvalid","error_code":"ERR_EXT_1001","error_message":"Unable to extract the data from the extraction key","error_level":"critical"}},"ets":<N>})"},
                {"ERR_EXT_1002",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"e2e-batch","dataset_type":"event"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"ExtractionDataFormatInvalid","error_code":"ERR_EXT_1002","error_message":"The extracted data is not a list","error_level":"critical"}},"ets":<N>})"},
                {"ERR_EXT_1006",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"ExtractorJob","type":"flink","pid":"extractor"},"dataset":"e2e-single","dataset_type":"event"},"data":{"error":{"pdata_id":"extractor","pdata_status":"failed","error_type":"MissingEventData","error_code":"ERR_EXT_1006","error_message":"Event missing in the batch event","error_level":"critical"}},"ets":<N>})"},
                {"ERR_ROUTER_1019",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"DruidRouterJob","type":"flink","pid":"router"},"dataset":"e2e-nots","dataset_type":"event","source":{"connector":"api","connectorInstance":"api"}},"data":{"error":{"pdata_id":"router","pdata_status":"failed","error_type":"MissingTimestampKey","error_code":"ERR_ROUTER_1019","error_message":"Unable to index data as the timestamp key is missing or blank or not a datetime value","error_level":"critical","error_count":1},"pipeline_stats":{"extractor_status":"skipped","extractor_time":<N>,"validator_status":"success","validator_time":<N>,"denorm_status":"skipped","denorm_time":<N>,"transform_status":"skipped","transform_time":<N>}},"ets":<N>})"},
                {"ERR_DEDUP_1007",
                 R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"PipelinePreprocessorJob","type":"flink","pid":"dedup"},"dataset":"e2e-nouid","dataset_type":"event"},"data":{"error":{"pdata_id":"dedup","pdata_status":"skipped","error_type":"DedupFailed","error_code":"ERR_DEDUP_1007","error_message":"No dedup key found or missing data","error_level":"warn"}},"ets":<N>})"},
            };
    for (const auto& [code, pattern] : failed_envelopes) {
        auto found = containing(failed, "\"error_code\":\"" + std::string(code) + "\"");
        ASSERT_EQ(found.size(), 1u) << code;
        EXPECT_TRUE(matches(pattern, found[0])) << found[0];
    }
    EXPECT_EQ(failed.size(), failed_envelopes.size());
    for (const auto& [code, pattern] : failure_events) {
        auto found = containing(events, "\"error_code\":\"" + std::string(code) + "\"");
        ASSERT_EQ(found.size(), 1u) << code;
        EXPECT_TRUE(matches(pattern, found[0])) << found[0];
    }

    // ERR_DEDUP_1007 is a warning: the event goes on, unique and routed.
    auto routed = read_all(_bootstrap, "e2e-nouid");
    ASSERT_EQ(routed.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"mid":"u1","ets":1711966306164,"obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"skipped","validator":"success","dedup":"success","denorm":"skipped","transformer":"skipped"},"timespans":{"extractor":<N>,"validator":<N>,"dedup":<N>,"denorm":<N>,"transformer":<N>},"error":{},"source":{"connector":"api","connectorInstance":"api"}},"indexTS":1711966306164})",
        routed[0]))
        << routed[0];
    EXPECT_TRUE(read_all(_bootstrap, "e2e-nots").empty());
}

// Denorm and the transformer end to end: master records posted through the gateway reach the
// master dataset's topic, the cache indexer loads (and merges) them, and events posted after
// carry them, masked and encrypted, to their dataset topic.
constexpr std::string_view k_users_dataset = R"({"id":"e2e-users","dataset_id":"e2e-users",
  "type":"master","status":"Live","api_version":"v2","entry_topic":"ingest","data_version":1,
  "validation_config":{"validate":true,"mode":"Strict"},
  "extraction_config":{"is_batch_event":false,"extraction_key":"events"},
  "dedup_config":{"drop_duplicates":false,"dedup_key":"uid"},
  "data_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
    "properties":{"uid":{"type":"string"},"name":{"type":"string"},"tier":{"type":"string"}},
    "required":["uid"],"additionalProperties":false},
  "router_config":{"topic":"e2e-users"},
  "dataset_config":{"keys_config":{"data_key":"uid","timestamp_key":"obsrv_meta.syncts"},
    "cache_config":{"redis_db_host":"localhost","redis_db_port":6379,"redis_db":7}}})";

constexpr std::string_view k_rich_dataset = R"({"id":"e2e-rich","dataset_id":"e2e-rich",
  "type":"event","status":"Live","api_version":"v2","entry_topic":"ingest","data_version":1,
  "validation_config":{"validate":true,"mode":"Strict"},
  "extraction_config":{"is_batch_event":false,"extraction_key":"events"},
  "dedup_config":{"drop_duplicates":false,"dedup_key":"mid"},
  "data_schema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
    "properties":{"mid":{"type":"string"},"ets":{"type":"integer"},"uid":{"type":"string"},
      "email":{},"phone":{"type":"string"}},
    "required":["mid","ets"],"additionalProperties":false},
  "denorm_config":{"redis_db_host":"localhost","redis_db_port":6379,"denorm_fields":[
    {"denorm_key":"uid","denorm_out_field":"profile","dataset_id":"e2e-users","redis_db":7}]},
  "transformations_config":[
    {"field_key":"email","mode":"Strict","transformation_function":
      {"type":"mask","expr":"email","datatype":"string","category":"pii"}},
    {"field_key":"phone","mode":"Lenient","transformation_function":
      {"type":"encrypt","expr":"phone","datatype":"string","category":"pii"}}],
  "router_config":{"topic":"e2e-rich"},
  "dataset_config":{"keys_config":{"timestamp_key":"ets"}}})";

class pipeline_e2e_enriched : public pipeline_e2e {
  protected:
    void SetUp() override {
        _datasets = make_temp_dir("datasets");
        write_dataset(_datasets, "e2e-users", k_users_dataset);
        write_dataset(_datasets, "e2e-rich", k_rich_dataset);
        obsrvd_options options;
        options.roles = "all";
        options.datasets_dir = _datasets;
        // AES-128 (16 bytes): the key of the transformer tests' vectors, which openssl derived.
        options.sets = {"pipeline.workers=1", "gateway.workers=1",
                        "pipeline.commit_interval_ms=100",
                        "datasets.encryption_secret_key=obsrv-test-key16"};
        _obsrvd = std::make_unique<obsrvd_process>(options);
        ASSERT_TRUE(_obsrvd->wait_ready()) << _obsrvd->process().stderr_text();
        _bootstrap = _obsrvd->bootstrap();
    }

    double master_records(const std::string& result) const {
        return _obsrvd->metric(R"(obsrv_master_data_records_total{dataset="e2e-users",result=")" +
                               result + R"("})");
    }
};

TEST_F(pipeline_e2e_enriched, master_records_posted_denormalize_masked_and_encrypted_events) {
    // Entry messages have no key: one at a time, so that the update lands after the insert.
    post("e2e-users", "u-1", R"({"uid":"u1","name":"Ann","tier":"gold"})");
    post("e2e-users", "u-2", R"({"uid":"u2","name":"Bo"})");
    ASSERT_TRUE(wait_until([&] { return master_records("inserted") == 2; }, scaled(30s)))
        << _obsrvd->process().stderr_text();
    post("e2e-users", "u-3", R"({"uid":"u1","tier":"platinum"})");  // merged into u1's record
    ASSERT_TRUE(wait_until([&] { return master_records("updated") == 1; }, scaled(30s)))
        << _obsrvd->process().stderr_text();

    // r1: found, masked, encrypted. r2: no record for u9 (1016). r3: no key (1014). r4: found,
    // no phone: the Lenient encrypt fails (1024), the event goes on, transformer partial.
    // r5: an object to mask: the Strict mask fails (1024), the event goes to transform.failed
    // (1023).
    post(
        "e2e-rich", "r-1",
        R"({"mid":"r1","ets":1711966306164,"uid":"u1","email":"dealer1@gmail.com","phone":"9849012345"})");
    post("e2e-rich", "r-2",
         R"({"mid":"r2","ets":1711966306164,"uid":"u9","email":"a@b.co","phone":"a"})");
    post("e2e-rich", "r-3", R"({"mid":"r3","ets":1711966306164,"email":"abcd","phone":"a"})");
    post("e2e-rich", "r-4", R"({"mid":"r4","ets":1711966306164,"uid":"u2","email":"abcd"})");
    post("e2e-rich", "r-5",
         R"({"mid":"r5","ets":1711966306164,"uid":"u2","email":{"x":1},"phone":"a"})");
    wait_processed();

    auto routed = read_all(_bootstrap, "e2e-rich");
    ASSERT_EQ(routed.size(), 4u);
    const auto routed_meta = [](std::string_view denorm, std::string_view transformer) {
        return std::string(R"("obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,)"
                           R"("prevProcessingTime":<N>,"flags":{"extractor":"skipped",)"
                           R"("validator":"success","denorm":")") +
               std::string(denorm) + R"(","transformer":")" + std::string(transformer) +
               R"("},"timespans":{"extractor":<N>,"validator":<N>,"denorm":<N>,)"
               R"("transformer":<N>},"error":{},)" +
               std::string(k_source) + R"(},"indexTS":1711966306164})";
    };
    // The vectors of the transformer tests: the mask by hand from Obsrv's algorithm, the
    // ciphertexts from `openssl enc -aes-128-ecb` with the same key.
    const std::vector<std::pair<std::string, std::string>> expected = {
        {R"("mid":"r1")",
         R"({"mid":"r1","ets":1711966306164,"uid":"u1","email":"de****1@gmail.com",)"
         R"("phone":"DKFU/rqikADAXHrgl0WvEg==",)"
         R"("profile":{"uid":"u1","name":"Ann","tier":"platinum","indexTS":<N>},)" +
             routed_meta("success", "success")},
        {R"("mid":"r2")", R"({"mid":"r2","ets":1711966306164,"uid":"u9","email":"aa@b.co",)"
                          R"("phone":"vEd3VVLtw9Wqf3opXxK0Tw==",)" +
                              routed_meta("failed", "success")},
        {R"("mid":"r3")",
         R"({"mid":"r3","ets":1711966306164,"email":"a**d","phone":"vEd3VVLtw9Wqf3opXxK0Tw==",)" +
             routed_meta("failed", "success")},
        {R"("mid":"r4")", R"({"mid":"r4","ets":1711966306164,"uid":"u2","email":"a**d",)"
                          R"("profile":{"uid":"u2","name":"Bo","indexTS":<N>},)" +
                              routed_meta("success", "partial")},
    };
    for (const auto& [needle, pattern] : expected) {
        auto found = containing(routed, needle);
        ASSERT_EQ(found.size(), 1u) << needle;
        EXPECT_TRUE(matches(pattern, found[0])) << found[0];
    }

    // markFailed of the transformed event: the Strict field that failed is not in it.
    auto transform_failed = read_all(_bootstrap, "transform.failed");
    ASSERT_EQ(transform_failed.size(), 1u);
    EXPECT_TRUE(matches(
        R"({"dataset":"e2e-rich","event":"{\"event\":{\"mid\":\"r5\",\"ets\":1711966306164,\"uid\":\"u2\",\"phone\":\"vEd3VVLtw9Wqf3opXxK0Tw==\",\"profile\":{\"uid\":\"u2\",\"name\":\"Bo\",\"indexTS\":<N>}},\"dataset\":\"e2e-rich\"}",)"
        R"("obsrv_meta":{"syncts":<N>,"processingStartTime":<N>,"prevProcessingTime":<N>,"flags":{"extractor":"skipped","validator":"success","denorm":"success","transformer":"failed"},"timespans":{"extractor":<N>,"validator":<N>,"denorm":<N>,"transformer":<N>},"error":{"src":"transformer","error_code":"ERR_TRANSFORM_1023","error_msg":"Atleast one mandatory transformation has failed"},)" +
            std::string(k_source) + "}}",
        transform_failed[0]))
        << transform_failed[0];
    EXPECT_TRUE(read_all(_bootstrap, "failed").empty());

    // One system event per failure: 1016 (r2), 1014 (r3), 1024 (r4's phone, r5's email).
    auto events = read_all(_bootstrap, "system.events");
    const auto failure_event = [](std::string_view job, std::string_view pid, std::string_view type,
                                  std::string_view code, std::string_view message) {
        return R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":")" +
               std::string(job) + R"(","type":"flink","pid":")" + std::string(pid) +
               R"("},"dataset":"e2e-rich","dataset_type":"event"},"data":{"error":{"pdata_id":")" +
               std::string(pid) + R"(","pdata_status":"failed","error_type":")" +
               std::string(type) + R"(","error_code":")" + std::string(code) +
               R"(","error_message":")" + std::string(message) +
               R"(","error_level":"critical","error_count":1}},"ets":<N>})";
    };
    const std::vector<std::tuple<std::string, size_t, std::string>> expected_events = {
        {"ERR_DENORM_1016", 1,
         failure_event("DenormalizerJob", "denorm", "DenormDataNotFound", "ERR_DENORM_1016",
                       "Denorm data not found for the given key")},
        {"ERR_DENORM_1014", 1,
         failure_event("DenormalizerJob", "denorm", "DenormKeyMissing", "ERR_DENORM_1014",
                       "No denorm key or transformation expr found or missing data for the "
                       "specified key")},
        {"ERR_TRANSFORM_1024", 2,
         failure_event("TransformerJob", "transformer", "TransformFieldMissing",
                       "ERR_TRANSFORM_1024", "Transformation field is either missing or blank")},
    };
    for (const auto& [code, count, pattern] : expected_events) {
        auto found = containing(events, "\"error_code\":\"" + code + "\"");
        ASSERT_EQ(found.size(), count) << code;
        for (const auto& e : found) {
            EXPECT_TRUE(matches(pattern, e)) << e;
        }
    }
    // The completion event of each routed event says what denorm and the transformer did.
    auto r1_done = containing(containing(events, R"("id":"DruidRouterJob")"), "e2e-rich");
    EXPECT_EQ(r1_done.size(), 4u);
    EXPECT_EQ(containing(r1_done, R"("denorm_status":"success","denorm_time":)").size(), 2u);
    EXPECT_EQ(containing(r1_done, R"("transform_status":"partial","transform_time":)").size(), 1u);
}

}  // namespace
}  // namespace obsrv::testing
