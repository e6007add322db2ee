#include "pipeline/undeliverable.h"

#include <fmt/format.h>

#include "common/json_text.h"
#include "pipeline/envelope.h"

namespace obsrv::pipeline {
namespace {

/// Splits a routed message into the event (its members minus the obsrv_meta and indexTS the
/// router added) and the raw obsrv_meta. False when the text is not an object.
bool split_routed_message(std::string_view message, std::string& event_json,
                          std::string_view& meta_json) {
    const char* end = message.data() + message.size();
    const char* p = json_text::skip_ws(message.data(), end);
    if (p == nullptr || p == end || *p != '{') {
        return false;
    }
    json_text::member_cursor cursor(p, end);
    json_text::member_span m;
    event_json = "{";
    bool first = true;
    while (cursor.next(m)) {
        if (json_text::raw_key_equals(m.raw_key, "obsrv_meta")) {
            meta_json = m.value;
            continue;
        }
        if (json_text::raw_key_equals(m.raw_key, "indexTS")) {
            continue;
        }
        if (!first) {
            event_json.push_back(',');
        }
        event_json.append(json_text::member_text(m));
        first = false;
    }
    event_json.push_back('}');
    return !cursor.failed();
}

/// librdkafka counts a message's record-batch framing (about 100 bytes for one small record)
/// against message.max.bytes: a replacement keeps this much below the limit.
constexpr size_t k_framing_headroom = 512;

/// The largest length <= n that does not cut a UTF-8 sequence of `s`.
size_t utf8_floor(std::string_view s, size_t n) {
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
        --n;
    }
    return n;
}

}  // namespace

void fail_undeliverable_routed_event(const undeliverable_output& failed,
                                     const dataset_catalog& catalog, stage_context& ctx) {
    std::string event_json;
    std::string_view meta_json;
    obsrv_meta meta;
    if (!split_routed_message(failed.payload, event_json, meta_json) || meta_json.empty() ||
        !read_obsrv_meta(meta_json, meta)) {
        // Not a routed message after all: keep its bytes as the event.
        event_json.assign(failed.payload);
        meta = default_obsrv_meta(ctx.now_ms, ctx.now_ms);
    }
    const compiled_dataset* ds = catalog.find_by_router_topic(failed.topic);
    const std::string_view dataset_id = ds != nullptr ? ds->config->dataset_id : failed.topic;
    const std::string_view dataset_type =
        ds != nullptr ? dataset::to_string(ds->config->type) : std::string_view();

    const obsrv_error& error =
        failed.too_large ? errors::event_size_exceeded : errors::undeliverable_event;
    const std::string detail =
        fmt::format("{}: the message for topic '{}' ({} bytes) was refused: {}", error.message,
                    failed.topic, failed.payload.size(), failed.reason);
    meta.mark_failed(producer::router, error.code, detail, ctx.now_ms);
    std::string payload;
    payload.reserve(event_json.size() * 2 + 1024);
    write_failed_event(payload, dataset_id, event_json, meta);
    // Escaping only grows the text, so cutting `over` bytes of the event shrinks the message by
    // at least as much: each round fits or cuts more, down to an empty event.
    const size_t limit = failed.max_message_bytes > 2 * k_framing_headroom
                             ? failed.max_message_bytes - k_framing_headroom
                             : failed.max_message_bytes;
    size_t keep = event_json.size();
    while (limit > 0 && payload.size() > limit && keep > 0) {
        const size_t over = payload.size() - limit;
        keep = keep > over ? utf8_floor(event_json, keep - over) : 0;
        meta.error->message = fmt::format("{} (event truncated to its first {} of {} bytes)",
                                          detail, keep, event_json.size());
        payload.clear();
        write_failed_event(payload, dataset_id, std::string_view(event_json).substr(0, keep), meta);
    }
    ctx.emit(ctx.options.failed_topic, std::move(payload));
    ctx.count(dataset_id, producer::router, count_status::failed);

    const system_event_error e{producer::router,
                               stage_status::failed,
                               failed.too_large ? "EventSizeExceeded" : "OutputUndeliverable",
                               error.code,
                               error.message,
                               "critical",
                               int64_t{1}};
    const pipeline_stats stats = stats_from_meta(meta);
    ctx.emit_system_event(
        make_system_event({jobs::router, producer::router, dataset_id, dataset_type, meta.source},
                          &e, &stats, ctx.now_ms));
}

}  // namespace obsrv::pipeline
