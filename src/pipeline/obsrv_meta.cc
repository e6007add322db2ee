#include "pipeline/obsrv_meta.h"

#include <charconv>
#include <cmath>

#include "common/json_text.h"
#include "common/json_writer.h"

namespace obsrv::pipeline {

namespace {

constexpr std::array<std::string_view, producer_count> k_producer_names = {
    "extractor", "dedup", "validator", "denorm", "transformer", "router", "masterdataprocessor"};
constexpr std::array<std::string_view, 4> k_status_names = {"success", "failed", "skipped",
                                                            "partial"};

std::optional<producer> parse_producer(std::string_view raw_key) {
    for (size_t i = 0; i < producer_count; ++i) {
        if (json_text::raw_key_equals(raw_key, k_producer_names[i])) {
            return static_cast<producer>(i);
        }
    }
    return std::nullopt;
}

std::optional<stage_status> parse_status(std::string_view raw_value) {
    if (raw_value.size() < 2 || raw_value.front() != '"') {
        return std::nullopt;
    }
    const std::string_view inner = raw_value.substr(1, raw_value.size() - 2);
    for (size_t i = 0; i < k_status_names.size(); ++i) {
        if (inner == k_status_names[i]) {
            return static_cast<stage_status>(i);
        }
    }
    return std::nullopt;
}

// A JSON number as Jackson's asInstanceOf[Long] would see it: integers exactly, others
// truncated; not a number → nullopt.
std::optional<int64_t> parse_int64(std::string_view raw) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec == std::errc() && end == raw.data() + raw.size()) {
        return v;
    }
    double d = 0;
    auto [end2, ec2] = std::from_chars(raw.data(), raw.data() + raw.size(), d);
    if (ec2 == std::errc() && end2 == raw.data() + raw.size() && std::isfinite(d) &&
        std::fabs(d) < 9.2e18) {
        return static_cast<int64_t>(d);
    }
    return std::nullopt;
}

void append_int(std::string& out, int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
}

void append_key(std::string& out, std::string_view key) {
    out.push_back('"');
    out.append(key);
    out.append("\":");
}

}  // namespace

std::string_view to_string(producer p) {
    return k_producer_names[static_cast<size_t>(p)];
}

std::string_view to_string(stage_status s) {
    return k_status_names[static_cast<size_t>(s)];
}

void obsrv_meta::set_flag(producer p, stage_status s) {
    auto& slot = flags[static_cast<size_t>(p)];
    if (!slot) {
        flag_order[flag_count++] = p;
    }
    slot = s;
}

void obsrv_meta::set_timespan(producer p, int64_t ms) {
    auto& slot = timespans[static_cast<size_t>(p)];
    if (!slot) {
        timespan_order[timespan_count++] = p;
    }
    slot = ms;
}

void obsrv_meta::mark(producer p, stage_status s, int64_t now_ms) {
    set_flag(p, s);
    // Obsrv: now - (prevProcessingTime ?: processingStartTime). The extractor sets
    // processingStartTime first, so one of them is always there on Obsrv's path; a message that
    // has neither counts from now.
    const int64_t prev = prev_processing_time.value_or(processing_start_time.value_or(now_ms));
    set_timespan(p, now_ms - prev);
    prev_processing_time = now_ms;
}

void obsrv_meta::mark_failed(producer p, std::string_view code, std::string message,
                             int64_t now_ms) {
    error = meta_error{p, code, std::move(message)};
    mark(p, stage_status::failed, now_ms);
}

void obsrv_meta::mark_complete(int64_t data_version_value, int64_t now_ms) {
    const int64_t sync = syncts.value_or(0);
    const int64_t start = processing_start_time.value_or(now_ms);
    total_processing_time = now_ms - sync;
    latency_time = start - sync;
    processing_time = now_ms - start;
    data_version = data_version_value;
}

void obsrv_meta::write(std::string& out) const {
    out.push_back('{');
    bool first = true;
    auto comma = [&] {
        if (!first) {
            out.push_back(',');
        }
        first = false;
    };
    auto number = [&](std::string_view key, const std::optional<int64_t>& v) {
        if (v) {
            comma();
            append_key(out, key);
            append_int(out, *v);
        }
    };
    number("syncts", syncts);
    number("processingStartTime", processing_start_time);
    number("prevProcessingTime", prev_processing_time);

    comma();
    out.append("\"flags\":{");
    bool inner_first = true;
    for (uint8_t i = 0; i < flag_count; ++i) {
        const producer p = flag_order[i];
        out.append(inner_first ? "\"" : ",\"");
        inner_first = false;
        out.append(to_string(p));
        out.append("\":\"");
        out.append(to_string(*flags[static_cast<size_t>(p)]));
        out.push_back('"');
    }
    for (std::string_view raw : other_flags) {
        if (!inner_first) {
            out.push_back(',');
        }
        inner_first = false;
        out.append(raw);
    }
    out.append("},\"timespans\":{");
    inner_first = true;
    for (uint8_t i = 0; i < timespan_count; ++i) {
        const producer p = timespan_order[i];
        out.append(inner_first ? "\"" : ",\"");
        inner_first = false;
        out.append(to_string(p));
        out.append("\":");
        append_int(out, *timespans[static_cast<size_t>(p)]);
    }
    for (std::string_view raw : other_timespans) {
        if (!inner_first) {
            out.push_back(',');
        }
        inner_first = false;
        out.append(raw);
    }
    out.append("},\"error\":");
    if (error) {
        out.append("{\"src\":\"");
        out.append(to_string(error->src));
        out.append("\",\"error_code\":");
        append_json_string(out, error->code);
        out.append(",\"error_msg\":");
        append_json_string(out, error->message);
        out.push_back('}');
    } else {
        out.append(received_error);
    }
    out.append(",\"source\":");
    out.append(source);
    number("total_processing_time", total_processing_time);
    number("latency_time", latency_time);
    number("processing_time", processing_time);
    number("data_version", data_version);
    for (std::string_view raw : other_members) {
        out.push_back(',');
        out.append(raw);
    }
    out.push_back('}');
}

bool read_obsrv_meta(std::string_view text, obsrv_meta& out) {
    const char* end = text.data() + text.size();
    const char* p = json_text::skip_ws(text.data(), end);
    if (p == nullptr || p == end || *p != '{') {
        return false;
    }
    json_text::member_cursor cursor(p, end);
    json_text::member_span m;
    while (cursor.next(m)) {
        const std::string_view k = m.raw_key;
        const std::string_view v = m.value;
        std::optional<int64_t> number;
        if (k == "syncts" && (number = parse_int64(v))) {
            out.syncts = number;
        } else if (k == "processingStartTime" && (number = parse_int64(v))) {
            out.processing_start_time = number;
        } else if (k == "prevProcessingTime" && (number = parse_int64(v))) {
            out.prev_processing_time = number;
        } else if (k == "flags" && !v.empty() && v.front() == '{') {
            json_text::member_cursor flags(v.data(), v.data() + v.size());
            json_text::member_span f;
            while (flags.next(f)) {
                const auto prod = parse_producer(f.raw_key);
                const auto status = parse_status(f.value);
                if (prod && status) {
                    out.set_flag(*prod, *status);
                } else {
                    out.other_flags.push_back(json_text::member_text(f));
                }
            }
        } else if (k == "timespans" && !v.empty() && v.front() == '{') {
            json_text::member_cursor spans(v.data(), v.data() + v.size());
            json_text::member_span t;
            while (spans.next(t)) {
                const auto prod = parse_producer(t.raw_key);
                const auto ms = parse_int64(t.value);
                if (prod && ms) {
                    out.set_timespan(*prod, *ms);
                } else {
                    out.other_timespans.push_back(json_text::member_text(t));
                }
            }
        } else if (k == "error") {
            out.received_error = v;
        } else if (k == "source") {
            out.source = v;
        } else if (k == "total_processing_time" && (number = parse_int64(v))) {
            out.total_processing_time = number;
        } else if (k == "latency_time" && (number = parse_int64(v))) {
            out.latency_time = number;
        } else if (k == "processing_time" && (number = parse_int64(v))) {
            out.processing_time = number;
        } else if (k == "data_version" && (number = parse_int64(v))) {
            out.data_version = number;
        } else {
            out.other_members.push_back(json_text::member_text(m));
        }
    }
    return !cursor.failed();
}

obsrv_meta default_obsrv_meta(int64_t record_timestamp_ms, int64_t now_ms) {
    obsrv_meta meta;
    meta.syncts = record_timestamp_ms;
    meta.processing_start_time = now_ms;
    return meta;
}

}  // namespace obsrv::pipeline
