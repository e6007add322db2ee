#include "ingress/api_response.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace obsrv::ingress {
namespace {

constexpr std::string_view k_ts = "2025-06-03T10:00:00+00:00";
constexpr std::string_view k_resmsgid = "2c6a1f0e-8b1d-4f3a-9c2e-5d7b8a9c0e1f";

response_meta meta(response_msgid msgid = response_msgid::of_string("m-1")) {
    return response_meta{k_ts, k_resmsgid, msgid};
}

std::string error_body(std::string_view msgid_part, std::string_view response_code,
                       std::string_view code, std::string_view message) {
    return R"({"id":"api.data.in","ver":"v2","ts":"2025-06-03T10:00:00+00:00",)"
           R"("params":{"status":"FAILED")" +
           std::string(msgid_part) +
           R"(,"resmsgid":"2c6a1f0e-8b1d-4f3a-9c2e-5d7b8a9c0e1f"},"responseCode":")" +
           std::string(response_code) + R"(","result":{},"error":{"code":")" + std::string(code) +
           R"(","message":)" + std::string(message) + "}}";
}

TEST(ApiResponseTest, Success) {
    std::string out = "stale";
    EXPECT_EQ(render_success(out, meta()), 200);
    EXPECT_EQ(out, R"({"id":"api.data.in","ver":"v2","ts":"2025-06-03T10:00:00+00:00",)"
                   R"("params":{"status":"SUCCESS","msgid":"m-1",)"
                   R"("resmsgid":"2c6a1f0e-8b1d-4f3a-9c2e-5d7b8a9c0e1f"},"responseCode":"OK",)"
                   R"("result":{"message":"Data ingested successfully"}})");
}

TEST(ApiResponseTest, MsgidEchoRules) {
    std::string out;
    render_success(out, meta(response_msgid::none()));
    EXPECT_NE(out.find(R"("params":{"status":"SUCCESS","resmsgid":)"), std::string::npos) << out;
    render_success(out, meta(response_msgid::of_string("")));
    EXPECT_EQ(out.find("msgid\":\"\""), std::string::npos) << out;
    render_success(out, meta(response_msgid::of_string("a\"b\\c\n\x01")));
    EXPECT_NE(out.find(R"("msgid":"a\"b\\c\n\u0001",)"), std::string::npos) << out;
    render_success(out, meta(response_msgid::of_json(R"({"x":[1]})")));
    EXPECT_NE(out.find(R"("msgid":{"x":[1]},)"), std::string::npos) << out;
}

TEST(ApiResponseTest, Errors) {
    std::string out;
    const std::string m = R"(,"msgid":"m-1")";
    EXPECT_EQ(render_invalid_input(out, meta(), "#required must have required property 'id'"), 400);
    EXPECT_EQ(out, error_body(m, "BAD_REQUEST", "DATA_INGESTION_INVALID_INPUT",
                              R"("#required must have required property 'id'")"));

    EXPECT_EQ(render_dataset_not_found(out, meta(response_msgid::none()), "d\"x"), 404);
    EXPECT_EQ(out, error_body("", "NOT_FOUND", "DATASET_NOT_FOUND",
                              R"("Dataset with id/alias name 'd\"x' not found")"));

    EXPECT_EQ(render_dataset_not_live(out, meta(), "d1", "Draft"), 404);
    EXPECT_EQ(out,
              error_body(m, "NOT_FOUND", "DATASET_NOT_FOUND",
                         R"x("Dataset with id/alias name 'd1' is not Live (status: Draft)")x"));

    EXPECT_EQ(render_topic_not_found(out, meta()), 404);
    EXPECT_EQ(out, error_body(m, "NOT_FOUND", "TOPIC_NOT_FOUND", R"("Entry topic not found")"));

    EXPECT_EQ(render_internal_error(out, meta(), "Broker: Leader not available"), 500);
    EXPECT_EQ(out, error_body(m, "INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR",
                              R"("Broker: Leader not available")"));

    EXPECT_EQ(render_payload_too_large(out, meta(response_msgid::none()), 104857600), 413);
    EXPECT_EQ(out, error_body("", "REQUEST_ENTITY_TOO_LARGE", "DATA_INGESTION_PAYLOAD_TOO_LARGE",
                              R"("Request body exceeds the limit of 104857600 bytes")"));

    EXPECT_EQ(render_headers_too_large(out, meta(response_msgid::none()), 16384), 431);
    EXPECT_EQ(out, error_body("", "REQUEST_HEADER_FIELDS_TOO_LARGE", "REQUEST_HEADERS_TOO_LARGE",
                              R"("Request headers exceed the limit of 16384 bytes")"));

    EXPECT_EQ(render_unavailable(out, meta(), "Kafka producer queue is full"), 503);
    EXPECT_EQ(out, error_body(m, "SERVICE_UNAVAILABLE", "DATA_INGESTION_UNAVAILABLE",
                              R"("Kafka producer queue is full")"));

    EXPECT_EQ(render_request_timeout(out, meta(response_msgid::none())), 408);
    EXPECT_EQ(out, error_body("", "REQUEST_TIMEOUT", "REQUEST_TIMEOUT",
                              R"("Request not received in time")"));

    EXPECT_EQ(render_method_not_allowed(out, meta(response_msgid::none()), "GET"), 405);
    EXPECT_EQ(out, error_body("", "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED",
                              R"("Method GET not allowed")"));
}

TEST(ApiResponseTest, RouteNotFoundIsObsrvExact) {
    std::string out;
    response_meta m{k_ts, "", response_msgid::none()};
    EXPECT_EQ(render_route_not_found(out, m), 404);
    EXPECT_EQ(out,
              R"({"id":"api","ver":"v2","ts":"2025-06-03T10:00:00+00:00",)"
              R"("params":{"status":"FAILED","resmsgid":""},"responseCode":"NOT_FOUND",)"
              R"("result":"","error":{"code":"ROUTE_NOT_FOUND","message":"Route not found"}})");
}

TEST(ApiResponseTest, LegacyV1) {
    std::string out;
    EXPECT_EQ(render_v1_success(out, 1717000000123), 200);
    EXPECT_EQ(out, R"({"id":"dataset.data.in","ver":"v1","ts":1717000000123,)"
                   R"("params":{"status":"SUCCESS","errmsg":""},"responseCode":"OK",)"
                   R"("result":{"message":"The data has been successfully ingested"}})");
    const auto v1_error = [](std::string_view code, std::string_view errmsg) {
        return R"({"id":"dataset.data.in","ver":"v1","ts":1717000000123,)"
               R"("params":{"status":"FAILED","errmsg":)" +
               std::string(errmsg) + R"(},"responseCode":")" + std::string(code) +
               R"(","result":{}})";
    };
    EXPECT_EQ(render_v1_invalid_body(out, 1717000000123, " must have required property 'data'"),
              400);
    EXPECT_EQ(out, v1_error("BAD_REQUEST", R"(" must have required property 'data'")"));
    EXPECT_EQ(render_v1_dataset_not_found(out, 1717000000123), 404);
    EXPECT_EQ(out, v1_error("NOT_FOUND", R"("Dataset Id not found, Failed to ingest")"));
    EXPECT_EQ(render_v1_invalid_dataset_config(out, 1717000000123), 400);
    EXPECT_EQ(out, v1_error("BAD_REQUEST", R"("Invalid dataset config provided for ingestion")"));
    EXPECT_EQ(render_v1_empty_dataset_id(out, 1717000000123), 400);
    EXPECT_EQ(out, v1_error("BAD_REQUEST", R"("datasetId parameter in url cannot be empty")"));
    EXPECT_EQ(render_v1_internal_error(out, 1717000000123, "kafka \"down\""), 500);
    EXPECT_EQ(out, v1_error("INTERNAL_SERVER_ERROR", R"("kafka \"down\"")"));
}

// ---- time stamps ----------------------------------------------------------------------------

std::string iso(std::int64_t ms) {
    char buf[k_iso_timestamp_length];
    format_iso_timestamp(ms, buf);
    return std::string(buf, sizeof(buf));
}

TEST(TimestampTest, MomentFormatInUtc) {
    EXPECT_EQ(iso(0), "1970-01-01T00:00:00+00:00");
    EXPECT_EQ(iso(1748944800000), "2025-06-03T10:00:00+00:00");
    EXPECT_EQ(iso(1709251199999), "2024-02-29T23:59:59+00:00");  // leap day, ms truncated
    EXPECT_EQ(iso(951782400000), "2000-02-29T00:00:00+00:00");
    EXPECT_EQ(iso(-1), "1969-12-31T23:59:59+00:00");
    EXPECT_EQ(iso(4102444799000), "2099-12-31T23:59:59+00:00");
}

TEST(TimestampTest, CachedPerSecond) {
    id_source ids(1);
    EXPECT_EQ(ids.iso_timestamp(1748944800000), "2025-06-03T10:00:00+00:00");
    EXPECT_EQ(ids.iso_timestamp(1748944800999), "2025-06-03T10:00:00+00:00");
    EXPECT_EQ(ids.iso_timestamp(1748944801000), "2025-06-03T10:00:01+00:00");
    EXPECT_EQ(ids.iso_timestamp(1748944799999), "2025-06-03T09:59:59+00:00");
    const std::int64_t now = id_source::now_ms();
    EXPECT_GT(now, 1700000000000);
    EXPECT_EQ(ids.iso_timestamp(now).size(), k_iso_timestamp_length);
}

// ---- ids ------------------------------------------------------------------------------------

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

void expect_uuid_shape(std::string_view u, char version) {
    ASSERT_EQ(u.size(), k_uuid_length);
    for (std::size_t i = 0; i < u.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            EXPECT_EQ(u[i], '-') << u;
        } else {
            EXPECT_TRUE(is_lower_hex(u[i])) << u;
        }
    }
    EXPECT_EQ(u[14], version) << u;
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;  // variant
}

std::pair<std::uint64_t, std::uint64_t> uuid_bits(std::string_view u) {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    int n = 0;
    for (char c : u) {
        if (c == '-') {
            continue;
        }
        const std::uint64_t v = c <= '9' ? static_cast<std::uint64_t>(c - '0')
                                         : static_cast<std::uint64_t>(c - 'a' + 10);
        (n < 16 ? hi : lo) = ((n < 16 ? hi : lo) << 4) | v;
        ++n;
    }
    return {hi, lo};
}

TEST(IdSourceTest, UuidV4FormatAndUniqueness) {
    id_source ids;
    expect_uuid_shape(ids.next_uuid_v4(), '4');
    constexpr std::size_t n = 1000000;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
    seen.reserve(n);
    int version_errors = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string_view u = ids.next_uuid_v4();
        version_errors += (u[14] != '4') + (u[19] < '8' || u[19] > 'b');
        seen.push_back(uuid_bits(u));
    }
    EXPECT_EQ(version_errors, 0);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
}

TEST(IdSourceTest, SeedsDiffer) {
    id_source a;
    id_source b;
    EXPECT_NE(a.next_uuid_v4(), b.next_uuid_v4());
    id_source c(42);
    id_source d(42);
    EXPECT_EQ(c.next_uuid_v4(), d.next_uuid_v4());  // deterministic with an explicit seed
}

TEST(IdSourceTest, UuidV1) {
    id_source ids(7);
    char buf[k_uuid_length];
    ids.uuid_v1(buf, 1748944800000);
    const std::string first(buf, sizeof(buf));
    expect_uuid_shape(first, '1');
    // 100-ns ticks since 1582-10-15: (1748944800000 + 12219292800000) * 10000.
    const std::uint64_t t = (1748944800000ULL + 12219292800000ULL) * 10000ULL;
    char expected_time[9];
    std::snprintf(expected_time, sizeof(expected_time), "%08x",
                  static_cast<unsigned>(t & 0xffffffffULL));
    EXPECT_EQ(first.substr(0, 8), expected_time);
    EXPECT_TRUE(first[24] >= '0');  // node id present
    const unsigned node0 = static_cast<unsigned>(std::stoul(first.substr(24, 2), nullptr, 16));
    EXPECT_EQ(node0 & 1u, 1u);  // multicast bit of a random node id

    std::vector<std::string> ids_in_one_ms;
    for (int i = 0; i < 20000; ++i) {
        ids.uuid_v1(buf, 1748944800001);
        ids_in_one_ms.emplace_back(buf, sizeof(buf));
    }
    std::sort(ids_in_one_ms.begin(), ids_in_one_ms.end());
    EXPECT_EQ(std::adjacent_find(ids_in_one_ms.begin(), ids_in_one_ms.end()), ids_in_one_ms.end());
}

}  // namespace
}  // namespace obsrv::ingress
