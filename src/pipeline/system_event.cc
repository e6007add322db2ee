#include "pipeline/system_event.h"

#include <charconv>

#include "common/json_writer.h"

namespace obsrv::pipeline {

namespace {

class object_writer {
  public:
    explicit object_writer(std::string& out) : _out(out) { _out.push_back('{'); }
    void key(std::string_view k) {
        if (!_first) {
            _out.push_back(',');
        }
        _first = false;
        _out.push_back('"');
        _out.append(k);
        _out.append("\":");
    }
    void string(std::string_view k, std::string_view v) {
        key(k);
        append_json_string(_out, v);
    }
    void number(std::string_view k, int64_t v) {
        key(k);
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        (void)ec;
        _out.append(buf, end);
    }
    void number(std::string_view k, const std::optional<int64_t>& v) {
        if (v) {
            number(k, *v);
        }
    }
    void status(std::string_view k, const std::optional<stage_status>& v) {
        if (v) {
            string(k, to_string(*v));
        }
    }
    void close() { _out.push_back('}'); }

  private:
    std::string& _out;
    bool _first = true;
};

}  // namespace

pipeline_stats stats_from_meta(const obsrv_meta& meta) {
    pipeline_stats s;
    s.extractor_status = meta.flag(producer::extractor);
    s.extractor_time = meta.timespan(producer::extractor);
    s.validator_status = meta.flag(producer::validator);
    s.validator_time = meta.timespan(producer::validator);
    s.dedup_status = meta.flag(producer::dedup);
    s.dedup_time = meta.timespan(producer::dedup);
    s.denorm_status = meta.flag(producer::denorm);
    s.denorm_time = meta.timespan(producer::denorm);
    s.transform_status = meta.flag(producer::transformer);
    s.transform_time = meta.timespan(producer::transformer);
    s.total_processing_time = meta.total_processing_time;
    s.latency_time = meta.latency_time;
    s.processing_time = meta.processing_time;
    return s;
}

std::string make_system_event(const system_event_context& ctx, const system_event_error* error,
                              const pipeline_stats* stats, int64_t ets, std::string_view extra) {
    std::string out;
    out.reserve(512);
    object_writer event(out);
    event.string("etype", "METRIC");
    event.key("ctx");
    {
        object_writer c(out);
        c.string("module", "processing");
        c.key("pdata");
        {
            object_writer pdata(out);
            pdata.string("id", ctx.job);
            pdata.string("type", "flink");
            pdata.string("pid", to_string(ctx.pid));
            pdata.close();
        }
        if (!ctx.dataset.empty()) {
            c.string("dataset", ctx.dataset);
        }
        if (!ctx.dataset_type.empty()) {
            c.string("dataset_type", ctx.dataset_type);
        }
        if (!ctx.source.empty()) {
            c.key("source");
            out.append(ctx.source);
        }
        c.close();
    }
    event.key("data");
    {
        object_writer data(out);
        if (error != nullptr) {
            data.key("error");
            object_writer e(out);
            e.string("pdata_id", to_string(error->pdata_id));
            e.string("pdata_status", to_string(error->pdata_status));
            e.string("error_type", error->error_type);
            e.string("error_code", error->error_code);
            e.string("error_message", error->error_message);
            e.string("error_level", error->error_level);
            e.number("error_count", error->error_count);
            e.close();
        }
        if (stats != nullptr) {
            data.key("pipeline_stats");
            object_writer s(out);
            s.number("extractor_events", stats->extractor_events);
            s.status("extractor_status", stats->extractor_status);
            s.number("extractor_time", stats->extractor_time);
            s.status("validator_status", stats->validator_status);
            s.number("validator_time", stats->validator_time);
            s.status("dedup_status", stats->dedup_status);
            s.number("dedup_time", stats->dedup_time);
            s.status("denorm_status", stats->denorm_status);
            s.number("denorm_time", stats->denorm_time);
            s.status("transform_status", stats->transform_status);
            s.number("transform_time", stats->transform_time);
            s.number("total_processing_time", stats->total_processing_time);
            s.number("latency_time", stats->latency_time);
            s.number("processing_time", stats->processing_time);
            s.close();
        }
        if (!extra.empty()) {
            data.key("extra");
            out.append(extra);
        }
        data.close();
    }
    event.number("ets", ets);
    event.close();
    return out;
}

}  // namespace obsrv::pipeline
