// The pipeline end to end as an operator runs it: `obsrvd --roles all` (gateway, pipeline and
// the embedded broker in one process), events posted over HTTP to the Obsrv v2 route, and every
// output topic read back with a Kafka consumer. The envelopes are compared whole, with only the
// run-dependent numbers (times, durations) masked, so a renamed or reordered field fails.

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

}  // namespace
}  // namespace obsrv::testing
