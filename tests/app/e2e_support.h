#pragma once

// Helpers shared by the end-to-end pipeline tests: Obsrv dataset files written into a temp
// datasets.dir, ingest requests, envelope matching with the run-dependent numbers masked, and
// reading whole topics.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::testing {

/// Writes `<dir>/<dataset_id>.json` with `json`.
void write_dataset(const std::string& dir, const std::string& dataset_id, std::string_view json);

/// A dataset file: batch (extraction_key "events", batch dedup on "id") or single events,
/// dedup on `dedup_key` (empty: off), Strict schema {mid: string, ets: integer} requiring both,
/// router topic = id, indexTS from `timestamp_key`.
std::string dataset_json(const std::string& id, bool batch, const std::string& dedup_key,
                         const std::string& timestamp_key = "ets");

/// An Obsrv v2 ingest request body; `data` is raw JSON (object or array).
std::string ingest_body(const std::string& msgid, std::string_view data);

/// What the gateway writes to `ingest` for an array `data` (contracts §1), for producing
/// straight to Kafka.
std::string ingest_batch_message(const std::string& dataset, const std::string& msgid,
                                 std::string_view events_array, int64_t syncts);

/// Whether `actual` equals `pattern`, where each "<N>" in the pattern stands for an integer
/// and each "<S>" for the contents of a JSON string (no quote inside).
bool matches(std::string_view pattern, std::string_view actual);

/// Every message of `topic` (all partitions, from the beginning).
std::vector<std::string> read_all(const std::string& bootstrap, const std::string& topic);

/// The messages of `messages` containing `needle`.
std::vector<std::string> containing(const std::vector<std::string>& messages,
                                    std::string_view needle);

}  // namespace obsrv::testing
