// The transformer inside the stage chain: the exact messages on `transform`,
// `transform.failed`, the dataset topic and `system.events` for success, partial (Lenient) and
// failed (Strict) events, and datasets refused at load.

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataset/parse.h"
#include "dataset/snapshot.h"
#include "pipeline/pipeline_processor.h"
#include "pipeline/shared_dedup_window.h"

namespace obsrv::pipeline {
namespace {

constexpr std::string_view k_dealer_dataset = R"({
  "id": "tx", "dataset_id": "tx", "type": "event", "status": "Live",
  "dataset_config": {"keys_config": {"timestamp_key": "ts"}},
  "transformations_config": [
    {"field_key": "dealer.email", "mode": "Strict",
     "transformation_function": {"type": "mask", "expr": "dealer.email", "datatype": "string",
                                 "category": "pii"}},
    {"field_key": "dealer.maskedPhone", "mode": "Lenient",
     "transformation_function": {"type": "mask", "expr": "dealer.phone"}},
    {"field_key": "secure.email",
     "transformation_function": {"type": "encrypt", "expr": "dealer.email"}}
  ]
})";

// The router's timestamp key is itself masked: the router must read the masked value.
constexpr std::string_view k_masked_timestamp_dataset = R"({
  "id": "tw", "dataset_id": "tw", "type": "event", "status": "Live",
  "dataset_config": {"keys_config": {"timestamp_key": "when"}},
  "transformations_config": [
    {"field_key": "when", "transformation_function": {"type": "mask", "expr": "when"}}
  ]
})";

constexpr std::string_view k_jsonata_dataset = R"json({
  "id": "tj", "dataset_id": "tj", "type": "event", "status": "Live",
  "transformations_config": [
    {"field_key": "tf.valueAsInt", "transformation_function": {"type": "jsonata", "expr": "$number(id)"}}
  ]
})json";

constexpr std::string_view k_meta =
    R"("obsrv_meta":{"syncts":1711966306164,"flags":{},"timespans":{},"error":{},"source":{"connector":"api","connectorInstance":"api"}})";

// Clock readings vary: processingStartTime, prevProcessingTime, timespans and ets become 0.
std::string without_times(const std::string& json) {
    static const std::regex times(
        R"re("(processingStartTime|prevProcessingTime|ets|extractor|validator|dedup|denorm|transformer|router|total_processing_time|latency_time|processing_time)":-?\d+)re");
    return std::regex_replace(json, times, "\"$1\":0");
}

class TransformerProcessorTest : public ::testing::Test {
  protected:
    void SetUp() override { build({k_dealer_dataset, k_masked_timestamp_dataset}); }

    void build(std::vector<std::string_view> datasets) {
        std::vector<std::shared_ptr<const dataset::dataset>> all;
        for (auto text : datasets) {
            auto parsed = dataset::parse_dataset(text, "test");
            ASSERT_TRUE(parsed) << parsed.error().message;
            all.push_back(std::make_shared<const dataset::dataset>(std::move(parsed).value()));
        }
        auto snapshot = dataset::snapshot::build(std::move(all), 1);
        dataset::system_settings settings;
        settings.encryption_secret_key = "obsrv-test-key16";
        _problems.clear();
        _catalogs = std::make_unique<catalog_source>(
            dataset_catalog::build(*snapshot, settings, &_problems));
        _processor = std::make_unique<pipeline_processor>(_options, *_catalogs, _dedup, _metrics);
    }

    std::map<std::string, std::vector<std::string>> run(std::string_view dataset,
                                                        std::string_view event) {
        const std::string message = "{" + std::string(k_meta) + R"(,"dataset":")" +
                                    std::string(dataset) + R"(","event":)" + std::string(event) +
                                    "}";
        std::vector<output_message> out;
        const processing_token t =
            _processor->process(input_message{message, 0, _offset++, 1700000000000, "ingest"}, out);
        if (t != 0) {
            _processor->complete(t);
        }
        std::map<std::string, std::vector<std::string>> by_topic;
        for (auto& m : out) {
            by_topic[m.topic].push_back(without_times(m.payload));
        }
        return by_topic;
    }

    pipeline_options _options;
    pipeline_metrics _metrics{nullptr};
    shared_dedup_window _dedup{shared_dedup_window_options{}};
    std::vector<std::string> _problems;
    std::unique_ptr<catalog_source> _catalogs;
    std::unique_ptr<pipeline_processor> _processor;
    int64_t _offset = 0;
};

constexpr std::string_view k_meta_start =
    R"("obsrv_meta":{"syncts":1711966306164,"processingStartTime":0,"prevProcessingTime":0,)";
constexpr std::string_view k_source = R"("source":{"connector":"api","connectorInstance":"api"})";

TEST_F(TransformerProcessorTest, AllTransformationsSucceed) {
    ASSERT_TRUE(_problems.empty()) << _problems.front();
    auto out = run("tx", R"({"id":"1","dealer":{"email":"dealer1@gmail.com","phone":"9849012345"},)"
                         R"("amount":12345678901234567890.10,"ts":1711966306164})");
    // Encrypt (Obsrv's first group) adds `secure` last; the masks merge into `dealer`.
    // Expected cipher text: printf %s dealer1@gmail.com | openssl enc -aes-128-ecb
    //   -K 6f627372762d746573742d6b65793136 | base64 -w0
    const std::string event =
        R"({"id":"1","dealer":{"email":"de****1@gmail.com","phone":"9849012345",)"
        R"("maskedPhone":"98******45"},"amount":12345678901234567890.10,"ts":1711966306164,)"
        R"("secure":{"email":"A+5iaq89XZJgAJkkoUTgoCAJ2+yBqrbLhyOnHWDnpXY="}})";
    ASSERT_EQ(out["transform"].size(), 1u);
    EXPECT_EQ(out["transform"][0],
              R"({"dataset":"tx","event":)" + event + "," + std::string(k_meta_start) +
                  R"("flags":{"extractor":"skipped","validator":"skipped","denorm":"skipped",)"
                  R"("transformer":"success"},"timespans":{"extractor":0,"validator":0,)"
                  R"("denorm":0,"transformer":0},"error":{},)" +
                  std::string(k_source) + "}}");
    // The router writes the transformed event.
    ASSERT_EQ(out["tx"].size(), 1u);
    EXPECT_EQ(out["tx"][0].rfind(event.substr(0, event.size() - 1) + R"(,"obsrv_meta":)", 0), 0u)
        << out["tx"][0];
    EXPECT_TRUE(out["transform.failed"].empty());
    EXPECT_TRUE(out["failed"].empty());
    // Only the router's completion event: success writes no transformer system event.
    ASSERT_EQ(out["system.events"].size(), 1u);
    EXPECT_NE(out["system.events"][0].find(R"("transform_status":"success")"), std::string::npos);
}

TEST_F(TransformerProcessorTest, LenientFailureIsPartialWithOneSystemEventPerErrorCode) {
    auto out = run("tx", R"({"id":"2","dealer":{"email":"ab@x.io"},"ts":1711966306164})");
    ASSERT_EQ(out["transform"].size(), 1u);
    // printf %s ab@x.io | openssl enc -aes-128-ecb -K 6f627372762d746573742d6b65793136 | base64
    // The phone is missing: dealer.maskedPhone is left out; the event continues as partial.
    EXPECT_EQ(out["transform"][0],
              R"({"dataset":"tx","event":{"id":"2","dealer":{"email":"abb@x.io"},)"
              R"("ts":1711966306164,"secure":{"email":"j91Xu1hELZSnZF6OIUFRrA=="}},)" +
                  std::string(k_meta_start) +
                  R"("flags":{"extractor":"skipped","validator":"skipped","denorm":"skipped",)"
                  R"("transformer":"partial"},"timespans":{"extractor":0,"validator":0,)"
                  R"("denorm":0,"transformer":0},"error":{},)" +
                  std::string(k_source) + "}}");
    EXPECT_EQ(out["tx"].size(), 1u);
    ASSERT_EQ(out["system.events"].size(), 2u);  // the transformer's + the router's
    EXPECT_EQ(out["system.events"][0],
              R"({"etype":"METRIC","ctx":{"module":"processing","pdata":{"id":"TransformerJob",)"
              R"("type":"flink","pid":"transformer"},"dataset":"tx","dataset_type":"event"},)"
              R"("data":{"error":{"pdata_id":"transformer","pdata_status":"failed",)"
              R"("error_type":"TransformFieldMissing","error_code":"ERR_TRANSFORM_1024",)"
              R"("error_message":"Transformation field is either missing or blank",)"
              R"("error_level":"critical","error_count":1}},"ets":0})");
}

TEST_F(TransformerProcessorTest, StrictFailureGoesToTransformFailed) {
    // No e-mail: the Strict mask and the Strict encrypt fail; the Lenient mask succeeds.
    auto out = run("tx", R"({"id":"3","dealer":{"phone":"9849012345"},"ts":1711966306164})");
    EXPECT_TRUE(out["transform"].empty());
    EXPECT_TRUE(out["tx"].empty());
    EXPECT_TRUE(out["failed"].empty());
    ASSERT_EQ(out["transform.failed"].size(), 1u);
    // markFailed: the transformed event (failed fields left out, their parents created) as a
    // JSON string with the dataset, and the error in obsrv_meta.
    EXPECT_EQ(
        out["transform.failed"][0],
        R"({"dataset":"tx","event":"{\"event\":{\"id\":\"3\",\"dealer\":{\"phone\":\"9849012345\",)"
        R"(\"maskedPhone\":\"98******45\"},\"ts\":1711966306164,\"secure\":{}},\"dataset\":\"tx\"}",)" +
            std::string(k_meta_start) +
            R"("flags":{"extractor":"skipped","validator":"skipped","denorm":"skipped",)"
            R"("transformer":"failed"},"timespans":{"extractor":0,"validator":0,"denorm":0,)"
            R"("transformer":0},"error":{"src":"transformer","error_code":"ERR_TRANSFORM_1023",)"
            R"("error_msg":"Atleast one mandatory transformation has failed"},)" +
            std::string(k_source) + "}}");
    ASSERT_EQ(out["system.events"].size(), 1u);
    EXPECT_NE(out["system.events"][0].find(R"("error_code":"ERR_TRANSFORM_1024")"),
              std::string::npos);
    EXPECT_NE(out["system.events"][0].find(R"("error_count":2)"), std::string::npos);
}

TEST_F(TransformerProcessorTest, NonTextInputFailsAndTheFailedTopicIsConfigurable) {
    _options.transform_failed_topic = "tx.failed";
    // An object is not text: ERR_TRANSFORM_1024 for the mask and the encrypt of dealer.email,
    // and dealer.email (the mask's field_key) disappears from the event.
    auto out = run("tx", R"({"id":"4","dealer":{"email":{"a":1},"phone":"1"},"ts":1711966306164})");
    EXPECT_TRUE(out["transform.failed"].empty());
    ASSERT_EQ(out["tx.failed"].size(), 1u);
    EXPECT_NE(
        out["tx.failed"][0].find(
            R"(\"dealer\":{\"phone\":\"1\",\"maskedPhone\":\"1\"},\"ts\":1711966306164,\"secure\":{}})"),
        std::string::npos)
        << out["tx.failed"][0];
}

TEST_F(TransformerProcessorTest, TheRouterReadsTheTransformedTimestamp) {
    auto out = run("tw", R"({"when":"2024-03-01","n":1})");
    ASSERT_EQ(out["tw"].size(), 1u) << (out["failed"].empty() ? "" : out["failed"][0]);
    // A string timestamp without timestamp_format is indexed as it is: here, masked
    // (10 units: open 4 → 2 + 2).
    EXPECT_NE(out["tw"][0].find(R"("indexTS":"20******01")"), std::string::npos) << out["tw"][0];
    EXPECT_EQ(out["tw"][0].rfind(R"({"when":"20******01","n":1,"obsrv_meta":)", 0), 0u);
}

TEST_F(TransformerProcessorTest, DatasetsWithJsonataAreRefusedAtLoad) {
    build({k_dealer_dataset, k_jsonata_dataset});
    ASSERT_EQ(_problems.size(), 1u);
    EXPECT_EQ(_problems[0],
              "dataset 'tj' (test): transformations_config[0] (field_key 'tf.valueAsInt'): "
              "transformation_function.type 'jsonata' is not supported (JSONata expressions "
              "are not implemented)");
    // Its events fail as for an unknown dataset, rather than pass untransformed.
    auto out = run("tj", R"({"id":"5"})");
    ASSERT_EQ(out["failed"].size(), 1u);
    EXPECT_NE(out["failed"][0].find(R"("error_code":"ERR_EXT_1005")"), std::string::npos);
    EXPECT_TRUE(out["transform"].empty());
}

TEST_F(TransformerProcessorTest, CountsPerDatasetAndStatus) {
    metrics::registry registry;
    pipeline_metrics counted(&registry);
    pipeline_processor processor(_options, *_catalogs, _dedup, counted);
    std::vector<output_message> out;
    const std::vector<std::string> events = {
        R"({"dealer":{"email":"a@b.c","phone":"1"},"ts":1711966306164})",  // success
        R"({"dealer":{"email":"a@b.c"},"ts":1711966306164})",              // partial
        R"({"dealer":{},"ts":1711966306164})",                             // failed
    };
    for (const auto& e : events) {
        const std::string message =
            "{" + std::string(k_meta) + R"(,"dataset":"tx","event":)" + e + "}";
        (void)processor.process(input_message{message, 0, _offset++, 1700000000000, "ingest"}, out);
    }
    const std::string text = registry.render();
    for (std::string_view status : {"success", "partial", "failed"}) {
        const std::string line =
            R"(obsrv_pipeline_events_total{dataset="tx",stage="transformer",status=")" +
            std::string(status) + "\"} 1";
        EXPECT_NE(text.find(line), std::string::npos) << line;
    }
}

}  // namespace
}  // namespace obsrv::pipeline
