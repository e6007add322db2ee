#include "pipeline/envelope.h"

#include <charconv>

#include "common/json_text.h"
#include "common/json_writer.h"

namespace obsrv::pipeline {

namespace {}  // namespace

void write_stage_message(std::string& out, std::string_view dataset_id, std::string_view event_json,
                         const obsrv_meta& meta) {
    std::string meta_json;
    meta.write(meta_json);
    write_stage_message(out, dataset_id, event_json, meta_json);
}

void write_stage_message(std::string& out, std::string_view dataset_id, std::string_view event_json,
                         std::string_view meta_json) {
    out.append("{\"dataset\":");
    append_json_string(out, dataset_id);
    out.append(",\"event\":");
    out.append(event_json);
    out.append(",\"obsrv_meta\":");
    out.append(meta_json);
    out.push_back('}');
}

void write_failed_event(std::string& out, std::string_view dataset_id, std::string_view event_json,
                        const obsrv_meta& meta) {
    std::string inner;
    inner.reserve(event_json.size() + dataset_id.size() + 24);
    inner.append("{\"event\":");
    inner.append(event_json);
    inner.append(",\"dataset\":");
    append_json_string(inner, dataset_id);
    inner.push_back('}');
    out.append("{\"dataset\":");
    append_json_string(out, dataset_id);
    out.append(",\"event\":");
    append_json_string(out, inner);
    out.append(",\"obsrv_meta\":");
    meta.write(out);
    out.push_back('}');
}

void write_failed_message(std::string& out, std::span<const std::string_view> members,
                          std::string_view event_member, const obsrv_meta& meta) {
    std::string inner = "{";
    for (size_t i = 0; i < members.size(); ++i) {
        if (i != 0) {
            inner.push_back(',');
        }
        inner.append(members[i]);
    }
    if (!event_member.empty()) {
        if (!members.empty()) {
            inner.push_back(',');
        }
        inner.append(event_member);
    }
    inner.push_back('}');
    out.push_back('{');
    for (std::string_view m : members) {
        out.append(m);
        out.push_back(',');
    }
    out.append("\"event\":");
    append_json_string(out, inner);
    out.append(",\"obsrv_meta\":");
    meta.write(out);
    out.push_back('}');
}

void write_routed_event(std::string& out, std::string_view event_json, const obsrv_meta& meta,
                        const index_ts& index_ts) {
    std::string meta_json;
    meta.write(meta_json);
    write_routed_event(out, event_json, meta_json, index_ts);
}

void write_routed_event(std::string& out, std::string_view event_json, std::string_view meta_json,
                        const index_ts& index_ts) {
    std::string_view body = json_text::trim(event_json);
    // body is "{...}": copy up to the closing brace, then add our members.
    body.remove_suffix(1);
    body = json_text::trim(body);
    out.append(body);
    if (body.size() > 1) {
        out.push_back(',');
    }
    out.append("\"obsrv_meta\":");
    out.append(meta_json);
    out.append(",\"indexTS\":");
    switch (index_ts.kind) {
        case index_ts::type::null:
            out.append("null");
            break;
        case index_ts::type::millis: {
            char buf[24];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, index_ts.millis);
            (void)ec;
            out.append(buf, end);
            break;
        }
        case index_ts::type::text:
            append_json_string(out, index_ts.text);
            break;
    }
    out.push_back('}');
}

}  // namespace obsrv::pipeline
