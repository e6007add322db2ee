#include "pipeline/denormalizer.h"

#include <array>
#include <utility>

#include "common/json_text.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "pipeline/event_validator.h"
#include "pipeline/extractor.h"

namespace obsrv::pipeline {
namespace {

constexpr std::string_view k_job = "DenormalizerJob";

// The error codes in the order their system events are written.
constexpr std::array<std::pair<const obsrv_error*, std::string_view>, 3> k_errors = {{
    {&errors::denorm_key_missing, "DenormKeyMissing"},
    {&errors::denorm_key_not_text, "DenormKeyInvalid"},
    {&errors::denorm_data_not_found, "DenormDataNotFound"},
}};

bool is_blank(std::string_view s) {
    for (char c : s) {
        if (!json_text::is_ws(c) && c != '\f' && c != '\v') {
            return false;
        }
    }
    return true;
}

// `json` (an object) with `members` (",\"k\":v" each) appended before its closing brace.
std::string append_members(std::string_view json, std::string_view members) {
    json = json_text::trim(json);
    std::string out;
    out.reserve(json.size() + members.size());
    const std::string_view body = json.substr(0, json.size() - 1);  // without the '}'
    out.append(body);
    const std::string_view inside = json_text::trim(body.substr(1));
    // An empty object takes the first member without a comma.
    out.append(inside.empty() ? members.substr(1) : members);
    out.push_back('}');
    return out;
}

}  // namespace

bool denormalizer::process(std::vector<event_record>& events, stage_context& ctx) {
    _fields.clear();
    _keys.clear();
    // First pass: the keys (nothing changes until the store answered, so a retry is clean).
    for (size_t i = 0; i < events.size(); ++i) {
        const event_record& r = events[i];
        if (r.result != stage_result::pass) {
            continue;
        }
        for (const compiled_denorm_field& f : r.dataset->denorm_fields) {
            field_lookup lookup{i, &f, nullptr, 0};
            simdjson::dom::element value;
            std::string key;
            if (r.event.at_pointer(f.key_pointer).get(value) != simdjson::SUCCESS) {
                lookup.error = &errors::denorm_key_missing;
            } else if (value.is_string()) {
                key.assign(value.get_string().value_unsafe());
                if (is_blank(key)) {
                    lookup.error = &errors::denorm_key_missing;
                }
            } else if (!value.is_number() || !key_text(value, key)) {
                lookup.error = &errors::denorm_key_not_text;
            }
            if (lookup.error == nullptr) {
                lookup.get = _keys.size();
                _keys.push_back(std::move(key));
            }
            _fields.push_back(lookup);
        }
    }
    // The views into _keys are taken once it stopped growing.
    _gets.clear();
    for (const field_lookup& f : _fields) {
        if (f.error == nullptr) {
            _gets.push_back(master_get{&f.field->where, _keys[f.get]});
        }
    }
    _values.assign(_gets.size(), nullptr);
    if (!_gets.empty() && !_store.get(_gets, _values)) {
        return false;
    }

    _rewritten.clear();
    size_t next = 0;
    for (size_t i = 0; i < events.size(); ++i) {
        event_record& r = events[i];
        if (r.result != stage_result::pass) {
            continue;
        }
        if (r.dataset->denorm_fields.empty()) {
            r.meta.mark(producer::denorm, stage_status::skipped, ctx.now_ms);
            ctx.count(r, producer::denorm, count_status::skipped);
            continue;
        }
        const size_t n = r.dataset->denorm_fields.size();
        const std::span<const field_lookup> fields(_fields.data() + next, n);
        next += n;
        if (apply(r, fields, ctx)) {
            _rewritten.push_back(i);
        }
    }
    parse_rewritten(events);
    return true;
}

bool denormalizer::apply(event_record& r, std::span<const field_lookup> fields,
                         stage_context& ctx) {
    std::array<int64_t, k_errors.size()> error_counts{};
    std::vector<std::pair<std::string, std::string>> replaced;
    _members.clear();
    size_t found = 0;
    for (const field_lookup& f : fields) {
        const obsrv_error* error = f.error;
        if (error == nullptr && _values[f.get] == nullptr) {
            error = &errors::denorm_data_not_found;
        }
        if (error != nullptr) {
            for (size_t e = 0; e < k_errors.size(); ++e) {
                error_counts[e] += k_errors[e].first == error ? 1 : 0;
            }
            continue;
        }
        ++found;
        const std::string& out_field = f.field->config->denorm_out_field;
        simdjson::dom::element existing;
        if (r.event.at_key(out_field).get(existing) == simdjson::SUCCESS) {
            replaced.emplace_back("", out_field);  // Obsrv's map.put replaces it
        }
        _members.push_back(',');
        append_json_string(_members, out_field);
        _members.push_back(':');
        _members.append(json_text::trim(*_values[f.get]));
    }
    if (found > 0) {
        std::string base = replaced.empty() ? std::string() : remove_members(r.json, replaced);
        r.rewritten = append_members(replaced.empty() ? r.json : std::string_view(base), _members);
        r.json = r.rewritten;
    }

    const stage_status status = found == fields.size() ? stage_status::success
                                : found > 0            ? stage_status::partial
                                                       : stage_status::failed;
    r.meta.mark(producer::denorm, status, ctx.now_ms);
    ctx.count(r, producer::denorm,
              status == stage_status::success   ? count_status::success
              : status == stage_status::partial ? count_status::partial
                                                : count_status::failed);
    if (status == stage_status::success) {
        return true;
    }
    const auto& config = *r.dataset->config;
    for (size_t e = 0; e < k_errors.size(); ++e) {
        if (error_counts[e] == 0) {
            continue;
        }
        const system_event_error err{
            producer::denorm,        stage_status::failed,       k_errors[e].second,
            k_errors[e].first->code, k_errors[e].first->message, "critical",
            error_counts[e]};
        ctx.emit_system_event(make_system_event(
            {k_job, producer::denorm, config.dataset_id, dataset::to_string(config.type), {}}, &err,
            nullptr, ctx.now_ms));
    }
    return found > 0;
}

void denormalizer::parse_rewritten(std::vector<event_record>& events) {
    if (_rewritten.empty()) {
        return;
    }
    // All rewritten events as one array: one parse for the message.
    _batch.clear();
    _batch.push_back('[');
    for (size_t k = 0; k < _rewritten.size(); ++k) {
        if (k > 0) {
            _batch.push_back(',');
        }
        _batch.append(events[_rewritten[k]].json);
    }
    _batch.push_back(']');
    simdjson::dom::array items;
    if (_parser.parse(_batch).get(items) != simdjson::SUCCESS) {
        // Cannot happen with records the stores validated; the events keep their old parse.
        static const auto logger = log::get("pipeline");
        logger->error("denorm: a rewritten event does not parse; later stages read it as before");
        return;
    }
    size_t k = 0;
    for (simdjson::dom::element item : items) {
        events[_rewritten[k++]].event = item;
    }
}

}  // namespace obsrv::pipeline
