#pragma once

// The messages the pipeline writes, as Obsrv's stages shape them (contracts §2):
//   stage topics (raw, unique, denorm, transform): {"dataset":d,"event":{...},"obsrv_meta":{...}}
//   failed (markFailed): the message minus obsrv_meta becomes a JSON *string* under "event",
//     its other top-level members kept, then obsrv_meta with error, flag and timespan;
//   the router's dataset topic: the event's own members + "obsrv_meta" + "indexTS".
// Event bytes are copied as received (no re-serialisation), so numbers keep their exact text.

#include <span>
#include <string>
#include <string_view>

#include "pipeline/index_timestamp.h"
#include "pipeline/obsrv_meta.h"

namespace obsrv::pipeline {

/// {"dataset":<dataset_id>,"event":<event_json>,"obsrv_meta":<meta>}
void write_stage_message(std::string& out, std::string_view dataset_id, std::string_view event_json,
                         const obsrv_meta& meta);

/// The same with obsrv_meta already written as JSON (meta_text_cache).
void write_stage_message(std::string& out, std::string_view dataset_id, std::string_view event_json,
                         std::string_view meta_json);

/// markFailed of an extracted event ({dataset, event} + obsrv_meta):
/// {"dataset":d,"event":"{\"event\":{...},\"dataset\":\"d\"}","obsrv_meta":<meta>}
void write_failed_event(std::string& out, std::string_view dataset_id, std::string_view event_json,
                        const obsrv_meta& meta);

/// markFailed of a whole entry-topic message. `members` are its top-level members other than
/// obsrv_meta, each raw `"key":value`; `event_member` the raw member named "event" if any (it
/// is replaced by the string). {<members>,"event":"{<members>[,<event_member>]}","obsrv_meta":..}
void write_failed_message(std::string& out, std::span<const std::string_view> members,
                          std::string_view event_member, const obsrv_meta& meta);

/// The event's members + "obsrv_meta" + "indexTS". `event_json` is an object; members named
/// obsrv_meta or indexTS in it must have been removed by the caller (Obsrv overwrites them).
void write_routed_event(std::string& out, std::string_view event_json, const obsrv_meta& meta,
                        const index_ts& index_ts);
/// The same with obsrv_meta already written as JSON (meta_text_cache).
void write_routed_event(std::string& out, std::string_view event_json, std::string_view meta_json,
                        const index_ts& index_ts);

}  // namespace obsrv::pipeline
