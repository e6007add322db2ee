#include "ingress/ingest_message.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/json_text.h"

namespace obsrv::ingress {

namespace {

thread_local build_counters t_counters;

constexpr std::string_view k_meta_tail =
    R"(,"flags":{},"timespans":{},"error":{},"source":{"connector":"api","connectorInstance":"api"}})";
constexpr std::size_t k_int_max_chars = 20;

char* put(char* out, std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

char* put_int(char* out, std::int64_t v) {
    char buf[k_int_max_chars];
    char* end = buf + sizeof(buf);
    char* p = end;
    std::uint64_t u = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
    do {
        *--p = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *out++ = '-';
    }
    return put(out, std::string_view(p, static_cast<std::size_t>(end - p)));
}

// The simdjson kernel used for minifying, chosen once by timing the kernels this CPU runs:
// simdjson's default choice is not always the fastest minifier (on the 2-core Xeon VMs the
// icelake/AVX-512 kernel runs at ~0.8 GB/s, the haswell one at ~3 GB/s).
const simdjson::implementation* pick_minifier() {
    std::string sample = "[";
    for (int i = 0; i < 64; ++i) {
        sample += R"({"eid":"INTERACT","ets":1700000000000,"ctx":{"a":"b c","n":[1,2.5,true]}},)";
    }
    sample += "{}]";
    std::vector<char> dst(sample.size() + simdjson::SIMDJSON_PADDING);
    const simdjson::implementation* best = simdjson::get_active_implementation();
    double best_ns = 1e300;
    for (const auto* impl : simdjson::get_available_implementations()) {
        if (!impl->supported_by_runtime_system() || impl->name() == "fallback") {
            continue;
        }
        double fastest = 1e300;
        for (int round = 0; round < 5; ++round) {
            const auto t0 = std::chrono::steady_clock::now();
            std::size_t n = 0;
            for (int k = 0; k < 8; ++k) {
                if (impl->minify(reinterpret_cast<const std::uint8_t*>(sample.data()),
                                 sample.size(), reinterpret_cast<std::uint8_t*>(dst.data()),
                                 n) != simdjson::SUCCESS) {
                    fastest = 1e300;
                    break;
                }
            }
            const auto t1 = std::chrono::steady_clock::now();
            fastest = std::min(fastest, std::chrono::duration<double, std::nano>(t1 - t0).count());
        }
        if (fastest < best_ns) {
            best_ns = fastest;
            best = impl;
        }
    }
    return best;
}

const simdjson::implementation& minifier() {
    static const simdjson::implementation* impl = pick_minifier();
    return *impl;
}

// Copies a JSON value with the whitespace between tokens removed. simdjson's minify may store up
// to 64 bytes past the minified end (vector stores): the size bounds include k_body_padding.
char* put_minified(char* out, std::string_view json) {
    std::size_t n = 0;
    if (minifier().minify(reinterpret_cast<const std::uint8_t*>(json.data()), json.size(),
                          reinterpret_cast<std::uint8_t*>(out), n) != simdjson::SUCCESS) {
        ++t_counters.minify_fallbacks;
        return put(out, json);
    }
    return out + n;
}

char* put_v2_meta(char* out, std::int64_t syncts) {
    out = put(out, R"({"syncts":)");
    out = put_int(out, syncts);
    return put(out, k_meta_tail);
}

char* put_v1_meta(char* out, std::int64_t syncts) {
    out = put(out, R"({"syncts":)");
    out = put_int(out, syncts);
    out = put(out, R"(,"processingStartTime":)");
    out = put_int(out, syncts);
    return put(out, k_meta_tail);
}

constexpr std::size_t k_meta_bound = 2 * k_int_max_chars + 160;

bool is_array_index(std::string_view key, std::uint32_t& index) {
    if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) {
        return false;
    }
    std::uint64_t v = 0;
    for (char c : key) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v >= 4294967295ULL) {
        return false;
    }
    index = static_cast<std::uint32_t>(v);
    return true;
}

// A JS object's own string keys in property order: array indices ascending, then the rest in
// insertion order.
template <typename Entry>
void js_property_order(std::vector<Entry>& entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.is_index != b.is_index) {
            return a.is_index;
        }
        return a.is_index && a.index < b.index;
    });
}

// ---- v2 ------------------------------------------------------------------------------------

enum class v2_value : std::uint8_t { meta, dataset, msgid, data };

struct v2_entry {
    std::string_view key;
    v2_value value;
    bool is_index = false;
    std::uint32_t index = 0;
};

// `obj[key] = value` on an ordinary JS object.
void js_assign(std::vector<v2_entry>& entries, std::string_view key, v2_value value) {
    if (key == "__proto__") {
        return;  // the setter changes the prototype; no own property appears
    }
    for (auto& e : entries) {
        if (e.key == key) {
            e.value = value;
            return;
        }
    }
    v2_entry e{key, value};
    e.is_index = is_array_index(key, e.index);
    entries.push_back(e);
}

}  // namespace

std::size_t message_size_upper_bound(const ingest_request& req, const message_params& params) {
    return req.data.size() + k_body_padding + k_meta_bound +
           detail::json_string_bound(params.dataset_id.size()) +
           2 * detail::json_string_bound(req.msgid.size()) +
           detail::json_string_bound(params.extraction_key.size()) +
           detail::json_string_bound(params.dedup_key.size()) + 64;
}

namespace {

// The v2 message; with `data_at` set, leaves out the data and stores the offset where it goes
// (or leaves *data_at untouched when the message does not carry the data).
std::size_t write_v2(const ingest_request& req, const message_params& params, char* out,
                     std::size_t* data_at) {
    char* const start = out;
    const auto put_data = [&](char* at) {
        if (data_at != nullptr) {
            *data_at = static_cast<std::size_t>(at - start);
            return at;
        }
        return params.minify ? put_minified(at, req.data) : put(at, req.data);
    };
    if (req.kind == data_kind::object) {
        out = put(out, R"({"event":)");
        out = put_data(out);
        out = put(out, R"(,"obsrv_meta":)");
        out = put_v2_meta(out, params.syncts_ms);
        out = put(out, R"(,"dataset":)");
        out = detail::write_json_string(out, params.dataset_id);
        out = put(out, R"(,"msgid":)");
        out = detail::write_json_string(out, req.msgid);
        *out++ = '}';
        return static_cast<std::size_t>(out - start);
    }
    thread_local std::vector<v2_entry> entries;
    entries.clear();
    entries.push_back({"obsrv_meta", v2_value::meta});
    entries.push_back({"dataset", v2_value::dataset});
    entries.push_back({"msgid", v2_value::msgid});
    js_assign(entries, params.extraction_key, v2_value::data);
    js_assign(entries, params.dedup_key, v2_value::msgid);
    js_property_order(entries);

    *out++ = '{';
    bool first = true;
    for (const auto& e : entries) {
        if (!first) {
            *out++ = ',';
        }
        first = false;
        out = detail::write_json_string(out, e.key);
        *out++ = ':';
        switch (e.value) {
            case v2_value::meta:
                out = put_v2_meta(out, params.syncts_ms);
                break;
            case v2_value::dataset:
                out = detail::write_json_string(out, params.dataset_id);
                break;
            case v2_value::msgid:
                out = detail::write_json_string(out, req.msgid);
                break;
            case v2_value::data:
                out = put_data(out);
                break;
        }
    }
    *out++ = '}';
    return static_cast<std::size_t>(out - start);
}

}  // namespace

std::size_t build_message(const ingest_request& req, const message_params& params, char* out) {
    return write_v2(req, params, out, nullptr);
}

std::size_t message_frame_size_upper_bound(const ingest_request& req,
                                           const message_params& params) {
    return message_size_upper_bound(req, params) - req.data.size();
}

bool build_message_frame(const ingest_request& req, const message_params& params, char* out,
                         message_frame& frame) {
    if (params.minify) {
        return false;
    }
    std::size_t data_at = std::string_view::npos;
    std::size_t length = write_v2(req, params, out, &data_at);
    if (data_at == std::string_view::npos) {
        return false;
    }
    frame.prefix = std::string_view(out, data_at);
    frame.suffix = std::string_view(out + data_at, length - data_at);
    return true;
}

// ---- legacy v1 -----------------------------------------------------------------------------

namespace {

enum class v1_value : std::uint8_t { source, dataset, header, undefined, mid, syncts, meta };

struct v1_entry {
    std::string key;  // unescaped
    v1_value value = v1_value::source;
    std::string_view source;  // the member's value as sent (v1_value::source)
    std::string_view header;  // v1_value::header
    bool is_index = false;
    std::uint32_t index = 0;
};

void v1_assign(std::vector<v1_entry>& entries, std::string_view key, v1_value value,
               std::string_view header = {}) {
    for (auto& e : entries) {
        if (e.key == key) {
            e.value = value;
            e.header = header;
            return;
        }
    }
    v1_entry e;
    e.key = std::string(key);
    e.value = value;
    e.header = header;
    e.is_index = is_array_index(key, e.index);
    entries.push_back(std::move(e));
}

void v1_assign_header(std::vector<v1_entry>& entries, std::string_view key,
                      const std::optional<std::string_view>& header) {
    if (header) {
        v1_assign(entries, key, v1_value::header, *header);
    } else {
        v1_assign(entries, key, v1_value::undefined);
    }
}

std::size_t header_bound(std::string_view key, const std::optional<std::string_view>& header) {
    return header ? key.size() + 4 + detail::json_string_bound(header->size()) : 0;
}

char* put_header_member(char* out, std::string_view key,
                        const std::optional<std::string_view>& header) {
    if (!header) {
        return out;
    }
    *out++ = ',';
    out = detail::write_json_string(out, key);
    *out++ = ':';
    return detail::write_json_latin1_string(out, *header);
}

std::size_t build_legacy_rebuilt(const legacy_request& req, const legacy_message_params& params,
                                 char* out) {
    ++t_counters.legacy_rebuilds;
    thread_local std::vector<v1_entry> entries;
    entries.clear();
    // {...data}: JSON.parse already kept the first position and the last value of duplicates.
    json_text::member_cursor cursor(req.data.data(), req.data.data() + req.data.size());
    json_text::member_span m;
    std::string unescaped;
    while (cursor.next(m)) {
        std::string_view plain = m.raw_key;
        if (plain.find('\\') != std::string_view::npos &&
            json_text::unescape_json_string(m.raw_key, unescaped)) {
            plain = unescaped;
        }
        auto it = std::find_if(entries.begin(), entries.end(),
                               [&](const v1_entry& e) { return e.key == plain; });
        if (it != entries.end()) {
            it->source = m.value;
            continue;
        }
        v1_entry e;
        e.key = std::string(plain);
        e.source = m.value;
        e.is_index = is_array_index(plain, e.index);
        entries.push_back(std::move(e));
    }
    v1_assign(entries, "dataset", v1_value::dataset);
    v1_assign_header(entries, "did", params.device_id);
    v1_assign_header(entries, "channel", params.channel_id);
    v1_assign_header(entries, "pid", params.app_id);
    if (!req.has_truthy_mid) {
        v1_assign(entries, "mid", v1_value::mid);
    }
    v1_assign(entries, "syncts", v1_value::syncts);
    v1_assign(entries, "obsrv_meta", v1_value::meta);
    js_property_order(entries);

    char* const start = out;
    *out++ = '{';
    bool first = true;
    for (const auto& e : entries) {
        if (e.value == v1_value::undefined) {
            continue;  // JSON.stringify drops undefined
        }
        if (!first) {
            *out++ = ',';
        }
        first = false;
        out = detail::write_json_string(out, e.key);  // re-escaped like JSON.stringify
        *out++ = ':';
        switch (e.value) {
            case v1_value::source:
                out = put_minified(out, e.source);
                break;
            case v1_value::dataset:
                out = detail::write_json_string(out, params.dataset_id);
                break;
            case v1_value::header:
                out = detail::write_json_latin1_string(out, e.header);
                break;
            case v1_value::mid:
                out = detail::write_json_string(out, params.generated_mid);
                break;
            case v1_value::syncts:
                out = put_int(out, params.syncts_ms);
                break;
            case v1_value::meta:
                out = put_v1_meta(out, params.syncts_ms);
                break;
            case v1_value::undefined:
                break;
        }
    }
    *out++ = '}';
    return static_cast<std::size_t>(out - start);
}

}  // namespace

std::size_t legacy_message_size_upper_bound(const legacy_request& req,
                                            const legacy_message_params& params) {
    return req.data.size() + k_body_padding + k_meta_bound + 2 * k_int_max_chars + 64 +
           detail::json_string_bound(params.dataset_id.size()) +
           detail::json_string_bound(params.generated_mid.size()) +
           header_bound("did", params.device_id) + header_bound("channel", params.channel_id) +
           header_bound("pid", params.app_id);
}

std::size_t build_legacy_message(const legacy_request& req, const legacy_message_params& params,
                                 char* out) {
    if (req.needs_rebuild) {
        return build_legacy_rebuilt(req, params, out);
    }
    // Splice: data's members as sent (minified), then the keys the message adds, in JS order.
    char* const start = out;
    out = put_minified(out, req.data);
    --out;  // drop data's closing '}'
    if (out - start > 1) {
        *out++ = ',';
    }
    out = put(out, R"("dataset":)");
    out = detail::write_json_string(out, params.dataset_id);
    out = put_header_member(out, "did", params.device_id);
    out = put_header_member(out, "channel", params.channel_id);
    out = put_header_member(out, "pid", params.app_id);
    if (!req.has_truthy_mid) {
        out = put(out, R"(,"mid":)");
        out = detail::write_json_string(out, params.generated_mid);
    }
    out = put(out, R"(,"syncts":)");
    out = put_int(out, params.syncts_ms);
    out = put(out, R"(,"obsrv_meta":)");
    out = put_v1_meta(out, params.syncts_ms);
    *out++ = '}';
    return static_cast<std::size_t>(out - start);
}

std::string_view minifier_name() {
    static const std::string name = minifier().name();
    return name;
}

const build_counters& thread_build_counters() noexcept {
    return t_counters;
}

}  // namespace obsrv::ingress
