#pragma once

// Request-body validation of the Obsrv Dataset API ingest routes.
//
// v2 (POST /v2/data/in/:dataset_id) reproduces ajv 8 (`new Ajv()`, first error only) on
// controllers/DataIngestion/validationSchema.json, with Obsrv's message format
// `schemaPath.replace("/", "") + " " + message` (services/ValidationService.ts):
//   root not an object            "#type must be object"
//   required, in this order       "#required must have required property 'id'" (ver, ts, params,
//                                 data)
//   then per property, in schema order:
//   id not a string / not enum    "#properties/id/type must be string" /
//                                 "#properties/id/enum must be equal to one of the allowed values"
//   ver, ts not strings           "#properties/ver/type must be string" (ts likewise)
//   params not an object          "#properties/params/type must be object"
//   params without msgid          "#properties/params/required must have required property 'msgid'"
//   params with any other key     "#properties/params/additionalProperties must NOT have
//                                 additional properties"
//   msgid not a string            "#properties/params/properties/msgid/type must be string"
//   data neither object nor array of objects
//                                 "#properties/data/oneOf/0/type must be object" (empty array OK)
//   a top-level key named "additionalProperties" (the schema misplaces that keyword inside
//   "properties", which makes it a property whose schema is `false`)
//                                 "#properties/additionalProperties/false schema boolean schema is
//                                 false"
//   Other top-level keys are allowed.
// JSON.parse semantics: with duplicate keys the last one wins; keys are compared after
// unescaping ("d\u0061ta" is "data"). A zero-length body is `{}` (body-parser).
//
// Deviations from Obsrv (documented, deliberate):
// - malformed JSON and invalid UTF-8 are rejected as 400 DATA_INGESTION_INVALID_INPUT with
//   simdjson's error text (Obsrv: body-parser decodes invalid UTF-8 to U+FFFD, and malformed
//   JSON reaches its generic error handler as 500 INTERNAL_SERVER_ERROR, id "api");
// - a top-level scalar (`5`, `"x"`) gets "#type must be object" (body-parser's strict mode
//   rejects it as malformed JSON);
// - nesting deeper than 1024 and \u escapes of lone surrogates are rejected (JSON.parse accepts
//   both). Numbers outside double/int64 range (1e400, 30-digit integers) are accepted like
//   JSON.parse does, through a slower path (validator_stats::big_number_fallbacks).
//
// Legacy v1 (POST /data/v1/in/:datasetId) reproduces ajv on resources/schemas/
// DataIngestionReq.json ({"type":"object","properties":{"data":{"type":"object"}},
// "required":["data"]}) with RequestsValidator's format `instancePath.replace("/", "") + " " +
// message`: " must be object", " must have required property 'data'", "data must be object"
// (400 BAD_REQUEST); then, once the dataset is known, IngestorService.validateData
// (legacy_data_accepted).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "ingress/api_response.h"
#include "ingress/json_check.h"

namespace obsrv::ingress {

/// Readable bytes the caller guarantees after the end of every body handed to the validator
/// (their values do not matter). The HTTP layer's receive buffers reserve them.
inline constexpr std::size_t k_body_padding = simdjson::SIMDJSON_PADDING;

enum class data_kind : std::uint8_t { object, array };

enum class validation_status : std::uint8_t {
    ok,
    invalid_json,   // syntax, UTF-8, depth: 400 DATA_INGESTION_INVALID_INPUT
    invalid_input,  // schema (ajv): 400 DATA_INGESTION_INVALID_INPUT
};

/// A validated v2 request. Views point into the body, into the validator's parser (valid until
/// the validator's next call) or into the validator's own buffers.
struct ingest_request {
    std::string_view msgid;  // params.msgid, unescaped
    data_kind kind = data_kind::object;
    /// The `data` value as sent (may contain whitespace; the builder minifies it).
    std::string_view data;
    std::size_t event_count = 0;  // array length, 1 for an object
    /// params.msgid as responses echo it; set whenever the body parsed, even if invalid.
    response_msgid echo;
    std::string_view error;  // message when the status is not ok (static storage)
};

/// A v1 body that passed DataIngestionReq.json.
struct legacy_request {
    std::string_view data;              // the `data` object as sent
    simdjson::dom::element data_value;  // the parsed object; valid until the validator's next call
    /// True when data's top level has duplicate or integer-like keys, or keys the message
    /// overwrites (dataset, syncts, obsrv_meta, did, channel, pid, a falsy mid): the builder
    /// then rebuilds the top level instead of splicing.
    bool needs_rebuild = false;
    bool has_truthy_mid = false;  // JS `if (!message.mid)` is false: mid is kept
    std::string_view error;
};

struct validator_stats {
    std::uint64_t requests = 0;
    /// v2 bodies the DOM parsed: the checker refused them (invalid JSON) or their envelope was
    /// not the plain valid case (schema errors, escaped keys, duplicates).
    std::uint64_t dom_validations = 0;
    std::uint64_t escaped_keys = 0;          // top-level keys spelled with escapes
    std::uint64_t data_scans = 0;            // data not the last member: its extent was scanned
    std::uint64_t dom_fallbacks = 0;         // data re-serialised from the DOM (scanner failed)
    std::uint64_t big_number_fallbacks = 0;  // numbers simdjson cannot represent
};

/// One per worker thread: owns a simdjson DOM parser allocated once for the largest body.
///
/// v2 bodies are first checked without a DOM (json_checker: full validation plus the top-level
/// outline); a valid body whose envelope is the plain valid case (keys without escapes, none
/// repeated, params holding only a string msgid without escapes, data an object or an array of
/// objects) is answered from the outline. Everything else, errors included, takes the DOM path,
/// which alone produces error messages; both paths give the same result for every body
/// (tests/ingress/ingest_request_test compares them).
class request_validator {
  public:
    /// `max_body_size`: the gateway's body limit; larger bodies are refused (CAPACITY).
    /// `dom_only`: skip the checker (the reference path, for tests and benchmarks).
    explicit request_validator(std::size_t max_body_size, bool dom_only = false);
    request_validator(const request_validator&) = delete;
    request_validator& operator=(const request_validator&) = delete;

    /// False if the parser could not allocate its buffers (then every body is refused).
    bool ready() const noexcept { return _ready; }

    /// Validates a v2 body. Precondition: k_body_padding readable bytes after body.end().
    validation_status validate(std::string_view body, ingest_request& out);

    /// Validates a legacy v1 body (schema only). Same precondition.
    validation_status validate_legacy(std::string_view body, legacy_request& out);

    const validator_stats& stats() const noexcept { return _stats; }

  private:
    /// The v2 result from the checker's outline (success and the schema errors); nullopt when
    /// the DOM path must decide (escapes, repeated keys, an object or array msgid to echo).
    std::optional<validation_status> validate_outline(ingest_request& out) const;
    validation_status validate_dom(std::string_view text, ingest_request& out);
    simdjson::error_code parse(std::string_view body, simdjson::dom::element& root);
    /// The bytes of the top-level member `data` (member `index` of `count`), found in
    /// `text` without copying; re-serialised from the DOM only if the scanner fails.
    std::string_view data_bytes(std::string_view text, std::size_t index, std::size_t count,
                                simdjson::dom::element data);

    simdjson::dom::parser _parser;
    json_checker _checker{_parser};
    std::size_t _max_body;
    bool _dom_only;
    bool _ready = false;
    std::unique_ptr<char[]> _patch;  // body copy for the big-number path
    std::string _fallback;           // data re-serialised from the DOM
    std::string _echo;               // object/array msgid serialised for responses
    validator_stats _stats;
};

/// IngestorService.validateData of v1, after the dataset was found: with
/// extraction_config.is_batch_event, data must hold both `extraction_key` and `batch_id`
/// (lodash _.has paths: "a.b" and "a[0]" walk into nested values) or else `event`; otherwise
/// `event`. nullopt stands for an unset config value, which lodash looks up as "undefined".
bool legacy_data_accepted(const legacy_request& req, bool is_batch_event,
                          std::optional<std::string_view> extraction_key,
                          std::optional<std::string_view> batch_id);

}  // namespace obsrv::ingress
