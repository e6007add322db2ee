#pragma once

// The Kafka message value the Obsrv Dataset API writes for one ingest request (contract §1).
//
// v2 (controllers/DataIngestion/DataIngestionController.ts addMetadataToEvents), one message per
// request, no key:
//   data object → {"event":<data>,"obsrv_meta":M,"dataset":<dataset_id>,"msgid":<msgid>}
//   data array  → JS: p = {"obsrv_meta":M,"dataset":…,"msgid":…}; p[extraction_key] = data;
//                 p[dedup_key] = msgid  ⇒ {"obsrv_meta":M,"dataset":…,"msgid":…,"events":[…],
//                 "id":<msgid>} with the defaults "events"/"id".
//   M = {"syncts":<ms>,"flags":{},"timespans":{},"error":{},
//        "source":{"connector":"api","connectorInstance":"api"}}
// Property assignment semantics are reproduced: assigning an existing key ("dataset", "msgid",
// "obsrv_meta", or extraction_key == dedup_key) replaces the value in place; keys that are
// array indices ("0", "42") are ordered first, ascending, as JS orders them; "__proto__" sets
// the prototype instead of a property, so it never appears.
//
// Legacy v1 (IngestorService.create + lib/services/TelemetryService.js dispatch):
//   message = {...data, dataset}; message.did/.channel/.pid = the x-device-id/x-channel-id/
//   x-app-id headers (undefined, i.e. dropped, when absent); if (!message.mid) message.mid =
//   uuidv1(); message.syncts = now; message.obsrv_meta = {syncts, processingStartTime, flags,
//   timespans, error, source}. Keys data already has keep their position and take the new value.
//   (source is {"connector":"api","connectorInstance":"api"} per the contract; Obsrv v1 sent
//   {meta:{…},trace_id}.)
//
// `data` is copied once, minified with simdjson::minify. Differences from JSON.stringify of the
// parsed body, all inside the events (the top level of the message is exact):
// - numbers keep their spelling (1.0, 1e2, -0, 30-digit integers; JS would print 1, 100, 0,
//   1.2345678901234568e+29, and null for 1e400);
// - string escapes are kept as sent ("\u00e9", "\/"; JS prints "é", "/");
// - duplicate keys inside an event are all kept (JS keeps the last; Jackson downstream also
//   takes the last); integer-like keys keep their position (JS moves them first).
// v1 splices data's top level as sent (same differences, plus key escapes as sent) unless it
// must rebuild it with JS semantics: duplicate or integer-like keys, or keys the message
// overwrites; rebuilt keys are re-escaped like JSON.stringify.
//
// Usage: n = message_size_upper_bound(...); buf = malloc(n); len = build_message(..., buf);
// hand buf/len to librdkafka. Or, to write the message around a body where it lies (the gateway's
// receive buffer), build_message_frame gives the bytes before and after the data.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ingress/ingest_request.h"

namespace obsrv::ingress {

struct message_params {
    std::string_view dataset_id{};               // datasets.dataset_id (not the alias)
    std::string_view extraction_key = "events";  // extraction_config.extraction_key
    std::string_view dedup_key = "id";           // extraction_config.dedup_config.dedup_key
    std::int64_t syncts_ms = 0;                  // Date.now()
    /// Strip whitespace from `data` while copying (compact like JSON.stringify); false copies
    /// the bytes as sent, which is cheaper for the compact bodies machine clients send.
    bool minify = true;
};

/// Bytes build_message may touch (includes slack for minify's vector stores).
std::size_t message_size_upper_bound(const ingest_request& req, const message_params& params);
/// Writes the v2 message into `out` (capacity >= message_size_upper_bound) and returns its
/// exact length.
std::size_t build_message(const ingest_request& req, const message_params& params, char* out);

/// The message around the data: build_message's output is prefix + data + suffix. Lets the
/// gateway write the message around a body it received, in the receive buffer, instead of
/// copying the data.
struct message_frame {
    std::string_view prefix;
    std::string_view suffix;
};

/// Bytes build_message_frame may write.
std::size_t message_frame_size_upper_bound(const ingest_request& req, const message_params& params);
/// Writes prefix and suffix into `out` (capacity >= message_frame_size_upper_bound) and points
/// `frame` at them. False when the message does not carry the data verbatim (params.minify, or
/// an extraction key that drops it: "__proto__", or the dedup key).
bool build_message_frame(const ingest_request& req, const message_params& params, char* out,
                         message_frame& frame);

struct legacy_message_params {
    std::string_view dataset_id{};     // the :datasetId path parameter, trimmed
    std::string_view generated_mid{};  // id_source::uuid_v1(); used when data has no truthy mid
    std::int64_t syncts_ms = 0;        // syncts, obsrv_meta.syncts and processingStartTime
    std::optional<std::string_view> device_id{};   // x-device-id → "did"
    std::optional<std::string_view> channel_id{};  // x-channel-id → "channel"
    std::optional<std::string_view> app_id{};      // x-app-id → "pid"
};

std::size_t legacy_message_size_upper_bound(const legacy_request& req,
                                            const legacy_message_params& params);
std::size_t build_legacy_message(const legacy_request& req, const legacy_message_params& params,
                                 char* out);

/// The simdjson kernel that minifies (timed once at first use: simdjson's runtime choice is not
/// always the fastest minifier).
std::string_view minifier_name();

/// Per-thread counts of the slower paths.
struct build_counters {
    std::uint64_t legacy_rebuilds = 0;   // v1 data top level rebuilt (collisions, duplicates)
    std::uint64_t minify_fallbacks = 0;  // simdjson::minify failed; bytes copied as sent
};
const build_counters& thread_build_counters() noexcept;

}  // namespace obsrv::ingress
