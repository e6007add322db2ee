#pragma once

// `obsrv_meta`, the processing metadata every Obsrv message carries between stages
// (contracts §2): when the data was synced, when processing started, what each stage did
// (`flags`), how long it took (`timespans`), the error that failed it, and its source.
//
// The stages mark it exactly as Obsrv's BaseProcessFunction does: markStatus adds the flag and
// the timespan `now - (prevProcessingTime ?: processingStartTime)` and moves prevProcessingTime
// to now; markFailed also sets `error`; markComplete (router) adds the totals.
//
// Values are kept allocation-free for the stage producers Obsrv knows (fixed slots in insertion
// order); anything else an upstream writer put in obsrv_meta is carried through as raw JSON.
// String views point into the input message: an obsrv_meta lives no longer than the
// processing of its message.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::pipeline {

/// Obsrv's Producer enumeration (the keys of `flags` and `timespans`).
enum class producer : uint8_t {
    extractor,
    dedup,
    validator,
    denorm,
    transformer,
    router,
    masterdataprocessor
};
inline constexpr size_t producer_count = 7;
std::string_view to_string(producer p);

/// Obsrv's StatusCode enumeration (the values of `flags`).
enum class stage_status : uint8_t { success, failed, skipped, partial };
std::string_view to_string(stage_status s);

/// `obsrv_meta.error` when a stage failed the event.
struct meta_error {
    producer src = producer::extractor;
    std::string_view code;  // "ERR_PP_1013"
    std::string message;    // Obsrv's message, with details for ERR_PP_1013
    bool operator==(const meta_error&) const = default;
};

struct obsrv_meta {
    std::optional<int64_t> syncts;
    std::optional<int64_t> processing_start_time;
    std::optional<int64_t> prev_processing_time;

    /// Flags and timespans of the known producers, in the order they were first set.
    std::array<std::optional<stage_status>, producer_count> flags{};
    std::array<std::optional<int64_t>, producer_count> timespans{};
    std::array<producer, producer_count> flag_order{};
    std::array<producer, producer_count> timespan_order{};
    uint8_t flag_count = 0;
    uint8_t timespan_count = 0;
    /// Entries of `flags` / `timespans` under names Obsrv does not know: raw `"k":v` members.
    std::vector<std::string_view> other_flags;
    std::vector<std::string_view> other_timespans;

    /// The error set by a stage here, or the raw `error` value received (`{}` when none).
    std::optional<meta_error> error;
    std::string_view received_error = "{}";
    /// Raw `source` value; Obsrv's default when absent.
    std::string_view source = R"({"connector":"api","connectorInstance":"api"})";

    /// markComplete's totals (router).
    std::optional<int64_t> total_processing_time;
    std::optional<int64_t> latency_time;
    std::optional<int64_t> processing_time;
    std::optional<int64_t> data_version;

    /// Members of obsrv_meta not listed above, raw `"k":v`, in the order received.
    std::vector<std::string_view> other_members;

    std::optional<stage_status> flag(producer p) const { return flags[static_cast<size_t>(p)]; }
    std::optional<int64_t> timespan(producer p) const { return timespans[static_cast<size_t>(p)]; }

    void set_flag(producer p, stage_status s);
    void set_timespan(producer p, int64_t ms);

    /// markSuccess / markSkipped / markPartial.
    void mark(producer p, stage_status s, int64_t now_ms);
    /// markFailed's changes to obsrv_meta (the caller rebuilds the message around it).
    void mark_failed(producer p, std::string_view code, std::string message, int64_t now_ms);
    /// markComplete: total_processing_time, latency_time, processing_time, data_version.
    void mark_complete(int64_t data_version_value, int64_t now_ms);

    /// Appends the JSON object.
    void write(std::string& out) const;

    bool operator==(const obsrv_meta&) const = default;
};

/// The JSON of successive metas, written again only when a meta differs from the previous
/// one: the events of one batch carry equal metas at every stage (same input meta, same
/// clock reading), so a batch of 100 is mostly written once per stage.
///
/// The previous meta's string views point into the message being processed: reset() must be
/// called before the next message (pipeline_processor does, through stage_context).
class meta_text_cache {
  public:
    std::string_view text(const obsrv_meta& meta) {
        if (!_valid || !(meta == _last)) {
            _text.clear();
            meta.write(_text);
            _last = meta;
            _valid = true;
        }
        return _text;
    }
    void reset() { _valid = false; }

  private:
    obsrv_meta _last;
    std::string _text;
    bool _valid = false;
};

/// Reads an obsrv_meta object from its raw JSON (already validated text). Unknown members and
/// values of unexpected types are kept raw. Returns false when `text` is not an object.
bool read_obsrv_meta(std::string_view text, obsrv_meta& out);

/// Obsrv's deserializer default for messages without obsrv_meta: syncts = the Kafka record's
/// timestamp, processingStartTime = now, empty flags/timespans/error, source api.
obsrv_meta default_obsrv_meta(int64_t record_timestamp_ms, int64_t now_ms);

}  // namespace obsrv::pipeline
