#include "pipeline/extractor.h"

#include <charconv>

#include "common/json_text.h"
#include "common/json_writer.h"
#include "common/utf8.h"
#include "pipeline/envelope.h"

namespace obsrv::pipeline {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Unescapes one JSON-pointer token ("~1" → "/", "~0" → "~").
std::string pointer_token(std::string_view token) {
    std::string out;
    for (size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size()) {
            out.push_back(token[i + 1] == '1' ? '/' : '~');
            ++i;
        } else {
            out.push_back(token[i]);
        }
    }
    return out;
}

struct top_level {
    std::string_view dataset_raw;  // raw value of "dataset"
    std::string_view event_raw;    // raw value of "event"
    std::string_view event_member;
    std::string_view meta_raw;
    std::vector<std::string_view> members_without_meta_and_event;
    /// The member named by a one-token extraction pointer (the first of that name, as
    /// raw_at_pointer finds it): whether it is an array, and its elements as sent.
    bool batch_found = false;
    bool batch_is_array = false;
    std::vector<std::string_view>* batch_elements = nullptr;

    void clear(std::vector<std::string_view>* elements) {
        *this = top_level{};
        batch_elements = elements;
        batch_elements->clear();
    }
};

// One pass over the message's top level; the batch array, when its key is `batch_key`, is
// split into its elements while it is skipped (it is most of the message).
bool scan_top_level(std::string_view text, std::string_view batch_key, top_level& out) {
    const char* end = text.data() + text.size();
    json_text::member_cursor cursor(json_text::skip_ws(text.data(), end), end);
    json_text::member_span m;
    while (cursor.next_key(m.raw_key)) {
        bool ok = false;
        if (!out.batch_found && !batch_key.empty() &&
            json_text::raw_key_equals(m.raw_key, batch_key)) {
            out.batch_found = true;
            ok = cursor.value_with_elements(m.value, *out.batch_elements, out.batch_is_array);
        } else {
            ok = cursor.value(m.value);
        }
        if (!ok) {
            break;
        }
        if (json_text::raw_key_equals(m.raw_key, "obsrv_meta")) {
            out.meta_raw = m.value;
            continue;
        }
        if (json_text::raw_key_equals(m.raw_key, "event")) {
            out.event_raw = m.value;
            out.event_member = json_text::member_text(m);
            continue;
        }
        if (json_text::raw_key_equals(m.raw_key, "dataset")) {
            out.dataset_raw = m.value;
        }
        out.members_without_meta_and_event.push_back(json_text::member_text(m));
    }
    return !cursor.failed();
}

}  // namespace

std::vector<dedup_probe> reserved_keys::probes() const {
    std::vector<dedup_probe> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
        out.push_back(dedup_probe{dataset_ids[i], keys[i], periods_ms[i], {}});
    }
    return out;
}

bool key_text(element value, std::string& out) {
    char buf[32];
    switch (value.type()) {
        case element_type::STRING:
            out.assign(value.get_string().value_unsafe());
            return true;
        case element_type::INT64: {
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value.get_int64().value_unsafe());
            (void)ec;
            out.assign(buf, end);
            return true;
        }
        case element_type::UINT64: {
            auto [end, ec] =
                std::to_chars(buf, buf + sizeof buf, value.get_uint64().value_unsafe());
            (void)ec;
            out.assign(buf, end);
            return true;
        }
        case element_type::DOUBLE: {
            auto [end, ec] =
                std::to_chars(buf, buf + sizeof buf, value.get_double().value_unsafe());
            (void)ec;
            out.assign(buf, end);
            return true;
        }
        default:
            return false;
    }
}

bool raw_at_pointer(std::string_view text, std::string_view pointer, std::string_view& out) {
    std::string_view current = json_text::trim(text);
    while (!pointer.empty()) {
        pointer.remove_prefix(1);  // '/'
        const size_t slash = pointer.find('/');
        const std::string token = pointer_token(pointer.substr(0, slash));
        pointer = slash == std::string_view::npos ? std::string_view() : pointer.substr(slash);
        if (current.empty() || current.front() != '{') {
            return false;
        }
        json_text::member_cursor cursor(current.data(), current.data() + current.size());
        json_text::member_span m;
        bool found = false;
        while (cursor.next(m)) {
            if (json_text::raw_key_equals(m.raw_key, token)) {
                current = m.value;
                found = true;
                break;
            }
        }
        if (!found) {
            return false;
        }
    }
    out = current;
    return true;
}

bool split_array(std::string_view array, std::vector<std::string_view>& out) {
    return json_text::scan_array(array.data(), array.data() + array.size(), out) != nullptr;
}

bool extractor::parse(std::string_view text) {
    auto r = _parser.parse(text.data(), text.size(), true);
    if (r.error() == simdjson::NUMBER_ERROR) {
        // Numbers Jackson accepts but simdjson refuses: check a patched copy instead; the
        // event bytes written on are still the original ones.
        _padded.assign(text);
        json_text::patch_big_numbers(_padded.data(), _padded.data() + _padded.size());
        r = _parser.parse(_padded.data(), _padded.size(), true);
    }
    if (r.error() != simdjson::SUCCESS || !r.value_unsafe().is_object()) {
        return false;
    }
    _root = r.value_unsafe();
    return true;
}

void extractor::process(const input_message& in, const dataset_catalog& catalog, stage_context& ctx,
                        std::vector<event_record>& events, reserved_keys& reserved) {
    const std::string_view text = in.value;
    constexpr std::string_view k_all = "ALL";

    auto batch_failed = [&](obsrv_meta& meta, const top_level& top, const obsrv_error& error,
                            std::string_view dataset_id, std::string_view dataset_type,
                            std::string_view functional_error, bool system_event) {
        meta.mark_failed(producer::extractor, error.code, std::string(error.message), ctx.now_ms);
        std::string payload;
        payload.reserve(text.size() * 2 + 512);
        write_failed_message(payload, top.members_without_meta_and_event, top.event_member, meta);
        ctx.emit(ctx.options.failed_topic, std::move(payload));
        ctx.count(dataset_id, producer::extractor, count_status::failed);
        if (system_event) {
            const system_event_error e{producer::extractor, stage_status::failed, functional_error,
                                       error.code,          error.message,        "critical",
                                       std::nullopt};
            ctx.emit_system_event(make_system_event(
                {jobs::extractor, producer::extractor, dataset_id, dataset_type, {}}, &e, nullptr,
                ctx.now_ms));
        }
    };

    // The dataset says which member holds the batch, so that the one scan of the top level
    // also splits it (it is most of the message).
    const bool parsed = parse(text);
    std::string_view batch_key;
    if (parsed) {
        element hint_value;
        std::string_view hint_id;
        if (_root.at_key("dataset").get(hint_value) == simdjson::SUCCESS &&
            hint_value.get_string().get(hint_id) == simdjson::SUCCESS) {
            if (const compiled_dataset* hint = catalog.find(hint_id)) {
                batch_key = hint->extraction_member;
            }
        }
    }

    // ERR_EXT_1018: Obsrv's deserializer turns unparsable bytes into {"invalid_json": raw}.
    top_level top;
    top.clear(&_batch_elements);
    if (!parsed || !scan_top_level(text, batch_key, top)) {
        std::string member = "\"invalid_json\":";
        append_json_string(member, replace_invalid_utf8(text));  // as Java decodes it
        top_level invalid;
        invalid.members_without_meta_and_event.push_back(member);
        obsrv_meta meta = default_obsrv_meta(in.timestamp_ms, ctx.now_ms);
        batch_failed(meta, invalid, errors::invalid_json, k_all, {}, "InvalidJsonData", true);
        return;
    }

    obsrv_meta meta;
    if (top.meta_raw.empty() || !read_obsrv_meta(top.meta_raw, meta)) {
        meta = default_obsrv_meta(in.timestamp_ms, ctx.now_ms);
    }
    if (!meta.processing_start_time) {
        meta.processing_start_time = ctx.now_ms;
    }

    std::string_view dataset_id;
    element dataset_value;
    if (_root.at_key("dataset").get(dataset_value) != simdjson::SUCCESS ||
        dataset_value.get_string().get(dataset_id) != simdjson::SUCCESS) {
        batch_failed(meta, top, errors::missing_dataset_id, k_all, {}, "MissingDatasetId", true);
        return;
    }
    const compiled_dataset* ds = catalog.find(dataset_id);
    if (ds == nullptr) {
        batch_failed(meta, top, errors::missing_dataset_configuration, dataset_id, {},
                     "MissingDatasetId", true);
        return;
    }
    const dataset::dataset& config = *ds->config;
    const std::string_view type_name = dataset::to_string(config.type);

    element event_value;
    const bool has_event_object =
        _root.at_key("event").get(event_value) == simdjson::SUCCESS && event_value.is_object();

    if (!has_event_object && config.extraction_config.is_batch_event) {
        const auto& batch_dedup = config.extraction_config.dedup_config;
        if (batch_dedup.drop_duplicates && _batch_dedup != nullptr) {
            element key_value;
            std::string key;
            if (_root.at_pointer(ds->batch_dedup_pointer).get(key_value) == simdjson::SUCCESS &&
                key_text(key_value, key)) {
                const std::string origin = _batch_dedup->keeps_reservations()
                                               ? ctx.input_position + "/batch"
                                               : std::string();
                const dedup_probe probe{config.dataset_id, key, batch_dedup.dedup_period * 1000,
                                        origin};
                dedup_verdict verdict = dedup_verdict::unique;
                if (_batch_dedup->reserve({&probe, 1}, {&verdict, 1}, ctx.now_ms)) {
                    if (verdict == dedup_verdict::duplicate) {
                        // ERR_EXT_1009 → extractor duplicate topic (failed); no system event.
                        batch_failed(meta, top, errors::duplicate_batch_event, config.dataset_id,
                                     type_name, "DedupFailed", false);
                        return;
                    }
                    reserved.add(config.dataset_id, key, probe.period_ms);
                }
            } else {
                // Key missing or not scalar: treated as unique, with a warning system event.
                const bool missing =
                    _root.at_pointer(ds->batch_dedup_pointer).error() != simdjson::SUCCESS;
                const obsrv_error& err =
                    missing ? errors::no_dedup_key : errors::dedup_key_not_text;
                const system_event_error e{producer::dedup, stage_status::skipped, "DedupFailed",
                                           err.code,        err.message,           "warn",
                                           std::nullopt};
                ctx.emit_system_event(make_system_event(
                    {jobs::extractor, producer::extractor, config.dataset_id, type_name, {}}, &e,
                    nullptr, ctx.now_ms));
            }
        }

        element array;
        std::string_view array_raw;
        const auto found = _root.at_pointer(ds->extraction_pointer).get(array);
        if (found != simdjson::SUCCESS) {
            batch_failed(meta, top, errors::no_extraction_data, config.dataset_id, type_name,
                         "ExtractionDataFormatInvalid", true);
            return;
        }
        // A top-level member: split by the scan (the first member of that name, the one
        // at_pointer found). Deeper paths: found and split here.
        const bool split = ds->extraction_member.empty()
                               ? array.is_array() &&
                                     raw_at_pointer(text, ds->extraction_pointer, array_raw) &&
                                     split_array(array_raw, _batch_elements)
                               : array.is_array() && top.batch_found && top.batch_is_array;
        const std::vector<std::string_view>& raws = _batch_elements;
        if (!split) {
            batch_failed(meta, top, errors::extracted_data_not_a_list, config.dataset_id, type_name,
                         "ExtractionDataFormatInvalid", true);
            return;
        }
        size_t i = 0;
        size_t total = 0;
        simdjson::dom::array items;
        if (array.get_array().get(items) != simdjson::SUCCESS) {
            return;  // checked is_array() above
        }
        for (element item : items) {
            const std::string_view raw = i < raws.size() ? raws[i] : std::string_view();
            ++i;
            ++total;
            event_record r;
            r.dataset = ds;
            r.event = item;
            r.json = raw;
            r.meta = meta;
            if (!item.is_object()) {
                // Obsrv's job fails on a non-object element (a Jackson exception); here the
                // element alone goes to failed as "event missing".
                ctx.fail_event(r, producer::extractor, errors::event_missing, jobs::extractor,
                               "MissingEventData");
                continue;
            }
            if (static_cast<int64_t>(raw.size()) > ctx.options.max_event_size) {
                ctx.fail_event(r, producer::extractor, errors::event_size_exceeded, jobs::extractor,
                               "EventSizeExceeded");
                continue;
            }
            r.meta.mark(producer::extractor, stage_status::success, ctx.now_ms);
            ctx.count(config.dataset_id, producer::extractor, count_status::success);
            events.push_back(std::move(r));
        }
        pipeline_stats stats;
        stats.extractor_events = static_cast<int64_t>(total);
        stats.extractor_status = stage_status::success;
        ctx.emit_system_event(make_system_event(
            {jobs::extractor, producer::extractor, config.dataset_id, type_name, {}}, nullptr,
            &stats, ctx.now_ms));
        return;
    }

    if (!has_event_object) {
        batch_failed(meta, top, errors::event_missing, config.dataset_id, type_name,
                     "MissingEventData", true);
        return;
    }
    event_record r;
    r.dataset = ds;
    r.event = event_value;
    r.json = top.event_raw;
    r.meta = meta;
    if (static_cast<int64_t>(r.json.size()) > ctx.options.max_event_size) {
        ctx.fail_event(r, producer::extractor, errors::event_size_exceeded, jobs::extractor,
                       "EventSizeExceeded");
        return;
    }
    r.meta.mark(producer::extractor, stage_status::skipped, ctx.now_ms);
    ctx.count(config.dataset_id, producer::extractor, count_status::skipped);
    events.push_back(std::move(r));
}

}  // namespace obsrv::pipeline
