#pragma once

// Response bodies of the Obsrv Dataset API ingest routes, byte-compatible with
// Sanketika-Obsrv/obsrv-api-service:
//   v2 (POST /v2/data/in/:dataset_id): helpers/ResponseHandler.ts refactorResponse +
//      obsrvErrorResponse (middlewares/errors.ts), resmsgid from setDataToRequestObject (uuidv4),
//      ts = moment().format() in a UTC process.
//   v1 (POST /data/v1/in/:datasetId, legacy): the 2024 ResponseHandler (ver "v1", numeric ts,
//      params {status, errmsg}).
//
// v2 success  {"id":"api.data.in","ver":"v2","ts":"2025-06-03T10:00:00+00:00",
//              "params":{"status":"SUCCESS","msgid":"m","resmsgid":"<uuid>"},
//              "responseCode":"OK","result":{"message":"Data ingested successfully"}}
// v2 error    {"id":…,"ver":"v2","ts":…,"params":{"status":"FAILED","msgid":…,"resmsgid":…},
//              "responseCode":"BAD_REQUEST","result":{},"error":{"code":…,"message":…}}
// params.msgid follows `...(!_.isEmpty(msgid) && {msgid})`: omitted when the request had no
// params.msgid, or it was "", a number, a boolean or null; a non-empty object/array is echoed as
// JSON (see response_msgid).
//
// Error table (HTTP status, responseCode, error.code, message). Rows marked "gateway" are ours:
// Obsrv has no such answer (Express either has no limit or answers them with a bare 500); they
// keep Obsrv's envelope, responseCode = the http-status name, error.code in Obsrv's style.
//   400 BAD_REQUEST            DATA_INGESTION_INVALID_INPUT  "<schemaPath> <ajv message>" / JSON
//   error 404 NOT_FOUND              DATASET_NOT_FOUND   "Dataset with id/alias name '<key>' not
//   found" 404 NOT_FOUND              DATASET_NOT_FOUND   "Dataset with id/alias name '<key>' is
//   not Live
//                                                   (status: <status>)"          (deviation, §E)
//   404 NOT_FOUND              TOPIC_NOT_FOUND     "Entry topic not found"
//   404 NOT_FOUND              ROUTE_NOT_FOUND     "Route not found"  (Obsrv exact: id "api",
//                                                   result "" — see render_route_not_found)
//   500 INTERNAL_SERVER_ERROR  INTERNAL_SERVER_ERROR  <cause, e.g. the Kafka error text>
//   405 METHOD_NOT_ALLOWED     METHOD_NOT_ALLOWED  "Method <m> not allowed"          gateway
//   408 REQUEST_TIMEOUT        REQUEST_TIMEOUT     "Request not received in time"    gateway
//   413 REQUEST_ENTITY_TOO_LARGE DATA_INGESTION_PAYLOAD_TOO_LARGE
//                                                  "Request body exceeds the limit of N bytes"
//                                                  gateway
//   415 UNSUPPORTED_MEDIA_TYPE DATA_INGESTION_UNSUPPORTED_ENCODING
//                                                  body-parser's 'unsupported content encoding
//                                                  "<value>"'                       gateway
//   431 REQUEST_HEADER_FIELDS_TOO_LARGE REQUEST_HEADERS_TOO_LARGE
//                                                  "Request headers exceed the limit of N bytes"
//                                                  gateway
//   503 SERVICE_UNAVAILABLE    DATA_INGESTION_UNAVAILABLE  <reason>  (HTTP layer adds Retry-After)
//                                                                                    gateway
//
// All renderers append to `out` (which they clear first) and return the HTTP status. The
// time stamp and the resmsgid are parameters so tests are deterministic; id_source makes them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obsrv::ingress {

/// What params.msgid of a response shows.
struct response_msgid {
    enum class kind : std::uint8_t {
        omit,    // key left out
        string,  // `text` is the unescaped string; it is JSON-escaped when written
        json,    // `text` is a serialised JSON value (an object/array msgid echoed back)
    };
    kind type = kind::omit;
    std::string_view text;

    static constexpr response_msgid none() { return {}; }
    /// An empty string is omitted, like _.isEmpty("") in Obsrv.
    static constexpr response_msgid of_string(std::string_view s) {
        return s.empty() ? response_msgid{} : response_msgid{kind::string, s};
    }
    static constexpr response_msgid of_json(std::string_view json) {
        return response_msgid{kind::json, json};
    }
};

/// The per-response values that are not fixed by the kind of answer.
struct response_meta {
    std::string_view ts;        // id_source::iso_timestamp(): "2025-06-03T10:00:00+00:00"
    std::string_view resmsgid;  // id_source::next_uuid_v4()
    response_msgid msgid;       // the request's params.msgid (ingest_request::echo)
    std::string_view api_id = "api.data.in";
};

/// One row of the error table above.
struct error_spec {
    int http_status;
    std::string_view response_code;
    std::string_view code;
};

inline constexpr error_spec k_invalid_input{400, "BAD_REQUEST", "DATA_INGESTION_INVALID_INPUT"};
inline constexpr error_spec k_dataset_not_found{404, "NOT_FOUND", "DATASET_NOT_FOUND"};
inline constexpr error_spec k_topic_not_found{404, "NOT_FOUND", "TOPIC_NOT_FOUND"};
inline constexpr error_spec k_route_not_found{404, "NOT_FOUND", "ROUTE_NOT_FOUND"};
inline constexpr error_spec k_internal_error{500, "INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR"};
inline constexpr error_spec k_method_not_allowed{405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED"};
inline constexpr error_spec k_request_timeout{408, "REQUEST_TIMEOUT", "REQUEST_TIMEOUT"};
inline constexpr error_spec k_payload_too_large{413, "REQUEST_ENTITY_TOO_LARGE",
                                                "DATA_INGESTION_PAYLOAD_TOO_LARGE"};
inline constexpr error_spec k_unsupported_encoding{415, "UNSUPPORTED_MEDIA_TYPE",
                                                   "DATA_INGESTION_UNSUPPORTED_ENCODING"};
inline constexpr error_spec k_headers_too_large{431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                                                "REQUEST_HEADERS_TOO_LARGE"};
inline constexpr error_spec k_unavailable{503, "SERVICE_UNAVAILABLE", "DATA_INGESTION_UNAVAILABLE"};

// ---- v2 ------------------------------------------------------------------------------------

/// 200 "Data ingested successfully".
int render_success(std::string& out, const response_meta& meta);

/// Any error of the table with result {}.
int render_error(std::string& out, const response_meta& meta, const error_spec& spec,
                 std::string_view message);

int render_invalid_input(std::string& out, const response_meta& meta, std::string_view message);
int render_dataset_not_found(std::string& out, const response_meta& meta,
                             std::string_view dataset_key);
/// The gateway refuses datasets whose status is not Live (Obsrv v2 ingests into any status and
/// lets the pipeline drop the events silently); documented deviation.
int render_dataset_not_live(std::string& out, const response_meta& meta,
                            std::string_view dataset_key, std::string_view status);
int render_topic_not_found(std::string& out, const response_meta& meta);
int render_internal_error(std::string& out, const response_meta& meta, std::string_view message);
int render_payload_too_large(std::string& out, const response_meta& meta, std::size_t limit);
int render_headers_too_large(std::string& out, const response_meta& meta, std::size_t limit);
int render_unavailable(std::string& out, const response_meta& meta, std::string_view reason);
int render_request_timeout(std::string& out, const response_meta& meta);
int render_method_not_allowed(std::string& out, const response_meta& meta, std::string_view method);
/// Obsrv's routeNotFound exactly: no route set req.id (id "api") and no resmsgid (pass ""),
/// and it passes data "" so "result" is the empty string. meta.api_id is ignored.
int render_route_not_found(std::string& out, const response_meta& meta);

// ---- legacy v1 -----------------------------------------------------------------------------
// {"id":"dataset.data.in","ver":"v1","ts":<Date.now()>,"params":{"status":"SUCCESS","errmsg":""},
//  "responseCode":"OK","result":{"message":"The data has been successfully ingested"}}
// errors: params {"status":"FAILED","errmsg":<message>}, responseCode <errCode>, result {}.

inline constexpr std::string_view k_v1_api_id = "dataset.data.in";

int render_v1_success(std::string& out, std::int64_t ts_ms);
int render_v1_error(std::string& out, std::int64_t ts_ms, int http_status,
                    std::string_view response_code, std::string_view errmsg);
/// ajv failure of DataIngestionReq.json, e.g. "data must be object" (400 BAD_REQUEST).
int render_v1_invalid_body(std::string& out, std::int64_t ts_ms, std::string_view message);
/// Constants.DATASET_ID_NOT_FOUND: unknown or not Live (v1 only ingests Live datasets).
int render_v1_dataset_not_found(std::string& out, std::int64_t ts_ms);
/// Constants.INVALID_DATASET_CONFIG: data holds neither `event` nor the batch keys.
int render_v1_invalid_dataset_config(std::string& out, std::int64_t ts_ms);
/// Constants.EMPTY_DATASET_ID: the path parameter is blank after trim().
int render_v1_empty_dataset_id(std::string& out, std::int64_t ts_ms);
int render_v1_internal_error(std::string& out, std::int64_t ts_ms, std::string_view message);

// ---- JSON strings --------------------------------------------------------------------------

namespace detail {
/// Upper bound of the escaped, quoted size of a string of `n` bytes (\u00XX is 6 bytes).
constexpr std::size_t json_string_bound(std::size_t n) noexcept {
    return 6 * n + 2;
}
/// Writes `text` quoted and escaped exactly like JSON.stringify (", \\, \b \f \n \r \t, other
/// controls as \u00xx; UTF-8 passes through). Returns the end of what was written.
char* write_json_string(char* out, std::string_view text) noexcept;
/// The same for text whose bytes are Latin-1 characters, as Node decodes HTTP header values:
/// bytes from 0x80 up become two bytes of UTF-8 ("\xE9" is written as "é"), so the output is
/// UTF-8 whatever the header held. Same bound (json_string_bound).
char* write_json_latin1_string(char* out, std::string_view latin1) noexcept;
void append_json_string(std::string& out, std::string_view text);
}  // namespace detail

// ---- ids and time stamps -------------------------------------------------------------------

inline constexpr std::size_t k_uuid_length = 36;
inline constexpr std::size_t k_iso_timestamp_length = 25;

/// "YYYY-MM-DDTHH:MM:SS+00:00": moment().format() of a process running in UTC (Obsrv's pods).
void format_iso_timestamp(std::int64_t unix_ms, char* out) noexcept;

/// Per-thread source of resmsgids, v1 `mid`s and response time stamps. Not thread-safe: one per
/// worker. UUIDs come from xoshiro256** seeded from std::random_device: unique with
/// overwhelming probability, NOT cryptographically unpredictable (Obsrv's uuid.v4 uses a CSPRNG;
/// nothing relies on resmsgid being secret).
class id_source {
  public:
    id_source();
    explicit id_source(std::uint64_t seed);

    /// Random (version 4, RFC 4122 variant) UUID, lower-case hex, 36 chars, no terminator.
    void uuid_v4(char* out) noexcept;
    /// uuid_v4 into an internal buffer, valid until the next call.
    std::string_view next_uuid_v4() noexcept;
    /// Time-based (version 1) UUID like the npm uuid@3 v1() that v1 Obsrv used for `mid`: random
    /// multicast node id and clock sequence chosen once, 100-ns ticks counted within a ms.
    void uuid_v1(char* out, std::int64_t unix_ms) noexcept;
    /// Time stamp of `unix_ms`, rendered once per second; valid until the next call.
    std::string_view iso_timestamp(std::int64_t unix_ms) noexcept;

    /// Wall clock in ms since the epoch (Date.now()).
    static std::int64_t now_ms() noexcept;

  private:
    std::uint64_t next() noexcept;

    std::array<std::uint64_t, 4> _s{};
    std::array<char, k_uuid_length> _uuid{};
    std::array<char, k_iso_timestamp_length> _ts{};
    std::int64_t _ts_second = INT64_MIN;
    std::array<std::uint8_t, 6> _node{};
    std::uint16_t _clock_seq = 0;
    std::int64_t _v1_last_ms = INT64_MIN;
    std::uint32_t _v1_ticks = 0;
};

}  // namespace obsrv::ingress
