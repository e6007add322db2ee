#include "pipeline/event_validator.h"

#include <algorithm>

#include "common/json_text.h"

namespace obsrv::pipeline {

namespace {

// Writes `value` to `out` without the members listed for `location`, recursing into objects
// and arrays on the paths that still have drops below them.
void copy_without(std::string_view value, const std::string& location,
                  const std::vector<std::pair<std::string, std::string>>& drops, std::string& out) {
    const bool below = std::any_of(drops.begin(), drops.end(), [&](const auto& d) {
        return d.first.size() >= location.size() &&
               d.first.compare(0, location.size(), location) == 0;
    });
    if (!below || value.empty() || (value.front() != '{' && value.front() != '[')) {
        out.append(value);
        return;
    }
    const char* end = value.data() + value.size();
    if (value.front() == '[') {
        out.push_back('[');
        const char* p = json_text::skip_ws(value.data() + 1, end);
        size_t index = 0;
        bool first = true;
        while (p != nullptr && p < end && *p != ']') {
            const char* v = json_text::skip_value(p, end);
            if (v == nullptr) {
                break;
            }
            if (!first) {
                out.push_back(',');
            }
            first = false;
            copy_without({p, static_cast<size_t>(v - p)}, location + "/" + std::to_string(index),
                         drops, out);
            ++index;
            p = json_text::skip_ws(v, end);
            if (p != nullptr && p < end && *p == ',') {
                p = json_text::skip_ws(p + 1, end);
            }
        }
        out.push_back(']');
        return;
    }
    out.push_back('{');
    json_text::member_cursor cursor(value.data(), end);
    json_text::member_span m;
    bool first = true;
    std::string key;
    while (cursor.next(m)) {
        key.clear();
        json_text::unescape_json_string(m.raw_key, key);
        const bool dropped = std::any_of(drops.begin(), drops.end(), [&](const auto& d) {
            return d.first == location && d.second == key;
        });
        if (dropped) {
            continue;
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        out.push_back('"');
        out.append(m.raw_key);
        out.append("\":");
        std::string child = location;
        child.push_back('/');
        for (char c : key) {
            if (c == '~') {
                child.append("~0");
            } else if (c == '/') {
                child.append("~1");
            } else {
                child.push_back(c);
            }
        }
        copy_without(m.value, child, drops, out);
    }
    out.push_back('}');
}

std::string_view functional_error(std::string_view key) {
    if (key == "required") {
        return "RequiredFieldsMissing";
    }
    if (key == "type") {
        return "DataTypeMismatch";
    }
    if (key == "additionalProperties") {
        return "AdditionalFieldsFound";
    }
    return "UnknownValidationError";
}

}  // namespace

std::string remove_members(std::string_view event_json,
                           const std::vector<std::pair<std::string, std::string>>& drops) {
    std::string out;
    out.reserve(event_json.size());
    const char* end = event_json.data() + event_json.size();
    const char* p = json_text::skip_ws(event_json.data(), end);
    copy_without({p, static_cast<size_t>(end - p)}, "", drops, out);
    return out;
}

stage_result event_validator::process(event_record& r, stage_context& ctx) {
    const auto& config = *r.dataset->config;
    if (!config.is_live()) {
        ctx.count(r, producer::validator, count_status::ignored);
        r.result = stage_result::dropped;
        return r.result;
    }
    if (r.dataset->schema == nullptr) {
        r.meta.mark(producer::validator, stage_status::skipped, ctx.now_ms);
        ctx.count(r, producer::validator, count_status::skipped);
        return stage_result::pass;
    }
    _errors.clear();
    if (r.dataset->schema->validate(r.event, &_errors)) {
        r.meta.mark(producer::validator, stage_status::success, ctx.now_ms);
        ctx.count(r, producer::validator, count_status::success);
        return stage_result::pass;
    }
    const auto mode = config.validation_config.mode;
    const bool only_new_fields = std::all_of(_errors.begin(), _errors.end(), [](const auto& e) {
        return e.message_key == "additionalProperties";
    });
    if (only_new_fields && mode != dataset::validation_mode::strict) {
        if (mode == dataset::validation_mode::discard_new_fields) {
            std::vector<std::pair<std::string, std::string>> drops;
            for (const auto& e : _errors) {
                drops.emplace_back(e.instance_location, e.property);
            }
            r.rewritten = remove_members(r.json, drops);
            r.json = r.rewritten;
        }
        r.meta.mark(producer::validator, stage_status::success, ctx.now_ms);
        ctx.count(r, producer::validator, count_status::success);
        return stage_result::pass;
    }
    std::string message(errors::schema_validation_failed.message);
    message.append(": ");
    message.append(schema::to_validation_messages_json(_errors));
    ctx.fail_event(r, producer::validator, errors::schema_validation_failed, jobs::preprocessor, {},
                   false, std::move(message));
    // One warn-level system event per error class, as Obsrv's generateSystemEvents.
    constexpr std::array<std::string_view, 4> k_classes = {
        "RequiredFieldsMissing", "DataTypeMismatch", "AdditionalFieldsFound",
        "UnknownValidationError"};
    const auto& ds = config;
    for (std::string_view cls : k_classes) {
        const auto n = std::count_if(_errors.begin(), _errors.end(), [&](const auto& e) {
            return functional_error(e.message_key) == cls;
        });
        if (n == 0) {
            continue;
        }
        const system_event_error e{producer::validator,
                                   stage_status::failed,
                                   cls,
                                   errors::schema_validation_failed.code,
                                   errors::schema_validation_failed.message,
                                   "warn",
                                   static_cast<int64_t>(n)};
        ctx.emit_system_event(make_system_event({jobs::preprocessor,
                                                 producer::validator,
                                                 ds.dataset_id,
                                                 dataset::to_string(ds.type),
                                                 {}},
                                                &e, nullptr, ctx.now_ms));
    }
    return stage_result::failed;
}

}  // namespace obsrv::pipeline
