#include "ingress/ingest_request.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "common/json_text.h"

namespace obsrv::ingress {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// ajv messages (ValidationService: schemaPath with its first "/" removed, a space, the message).
constexpr std::string_view k_root_type = "#type must be object";
constexpr std::string_view k_required_id = "#required must have required property 'id'";
constexpr std::string_view k_required_ver = "#required must have required property 'ver'";
constexpr std::string_view k_required_ts = "#required must have required property 'ts'";
constexpr std::string_view k_required_params = "#required must have required property 'params'";
constexpr std::string_view k_required_data = "#required must have required property 'data'";
constexpr std::string_view k_id_type = "#properties/id/type must be string";
constexpr std::string_view k_id_enum =
    "#properties/id/enum must be equal to one of the allowed values";
constexpr std::string_view k_ver_type = "#properties/ver/type must be string";
constexpr std::string_view k_ts_type = "#properties/ts/type must be string";
constexpr std::string_view k_params_type = "#properties/params/type must be object";
constexpr std::string_view k_params_required =
    "#properties/params/required must have required property 'msgid'";
constexpr std::string_view k_params_additional =
    "#properties/params/additionalProperties must NOT have additional properties";
constexpr std::string_view k_msgid_type = "#properties/params/properties/msgid/type must be string";
constexpr std::string_view k_data_one_of = "#properties/data/oneOf/0/type must be object";
constexpr std::string_view k_additional_false =
    "#properties/additionalProperties/false schema boolean schema is false";
// v1 (RequestsValidator: instancePath with its first "/" removed, a space, the message).
constexpr std::string_view k_v1_root_type = " must be object";
constexpr std::string_view k_v1_required_data = " must have required property 'data'";
constexpr std::string_view k_v1_data_type = "data must be object";

std::string_view json_error_message(simdjson::error_code code) {
    // Built once; messages must outlive the request (ingest_request::error is a view).
    static const auto table = [] {
        std::array<std::string, simdjson::NUM_ERROR_CODES> t;
        for (int i = 0; i < simdjson::NUM_ERROR_CODES; ++i) {
            t[static_cast<std::size_t>(i)] =
                std::string("Invalid JSON body: ") +
                simdjson::error_message(static_cast<simdjson::error_code>(i));
        }
        return t;
    }();
    const auto i = static_cast<std::size_t>(code);
    return i < table.size() ? std::string_view(table[i]) : std::string_view("Invalid JSON body");
}

// body-parser decodes with iconv-lite, which drops a UTF-8 byte order mark.
std::string_view strip_bom(std::string_view body) {
    if (body.size() >= 3 && static_cast<unsigned char>(body[0]) == 0xEF &&
        static_cast<unsigned char>(body[1]) == 0xBB &&
        static_cast<unsigned char>(body[2]) == 0xBF) {
        body.remove_prefix(3);
    }
    return body;
}

// JS truthiness of a JSON value (`if (!message.mid)`).
bool js_truthy(element e) {
    switch (e.type()) {
        case element_type::NULL_VALUE:
            return false;
        case element_type::BOOL:
            return e.get_bool().value_unsafe();
        case element_type::STRING:
            return !e.get_string().value_unsafe().empty();
        case element_type::INT64:
            return e.get_int64().value_unsafe() != 0;
        case element_type::UINT64:
            return e.get_uint64().value_unsafe() != 0;
        case element_type::DOUBLE:
            return e.get_double().value_unsafe() != 0.0;
        default:  // objects and arrays
            return true;
    }
}

// Canonical array index ("0", "17"; not "01", not >= 2^32-1): JS orders such keys first.
bool is_array_index(std::string_view key) {
    if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) {
        return false;
    }
    std::uint64_t v = 0;
    for (char c : key) {
        if (!json_text::is_digit(c)) {
            return false;
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v < 4294967295ULL;
}

bool has_duplicates(std::vector<std::string_view>& keys) {
    if (keys.size() <= 8) {
        for (std::size_t i = 1; i < keys.size(); ++i) {
            for (std::size_t j = 0; j < i; ++j) {
                if (keys[i] == keys[j]) {
                    return true;
                }
            }
        }
        return false;
    }
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

// Finds the value of the member at `index` of the top-level object in `text`; checks that its
// key is `key` (the DOM told us where it is; the check guards the scanner).
bool locate_member(std::string_view text, std::size_t index, std::size_t count,
                   std::string_view key, std::string_view& value, validator_stats& stats) {
    json_text::member_cursor cursor(text.data(), text.data() + text.size());
    std::string_view raw;
    for (std::size_t i = 0;; ++i) {
        if (!cursor.next_key(raw)) {
            return false;
        }
        if (raw.find('\\') != std::string_view::npos) {
            ++stats.escaped_keys;
        }
        if (i < index) {
            std::string_view skipped;
            if (!cursor.value(skipped)) {
                return false;
            }
            continue;
        }
        if (!json_text::raw_key_equals(raw, key)) {
            return false;
        }
        if (index + 1 == count) {
            return cursor.last_value(value);
        }
        ++stats.data_scans;
        return cursor.value(value);
    }
}

}  // namespace

// ---- scanners ------------------------------------------------------------------------------

// ---- validator -----------------------------------------------------------------------------

request_validator::request_validator(std::size_t max_body_size, bool dom_only)
    : _parser(max_body_size), _max_body(max_body_size), _dom_only(dom_only) {
    _ready = _parser.allocate(max_body_size) == simdjson::SUCCESS;
    _patch.reset(new (std::nothrow) char[max_body_size + k_body_padding]);
    _ready = _ready && _patch != nullptr;
}

simdjson::error_code request_validator::parse(std::string_view text, element& root) {
    if (!_ready) {
        return simdjson::MEMALLOC;
    }
    auto error =
        _parser.parse(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), false)
            .get(root);
    if (error != simdjson::NUMBER_ERROR) {
        return error;
    }
    if (text.size() > _max_body) {
        return simdjson::CAPACITY;
    }
    ++_stats.big_number_fallbacks;
    std::memcpy(_patch.get(), text.data(), text.size());
    std::memset(_patch.get() + text.size(), ' ', k_body_padding);
    json_text::patch_big_numbers(_patch.get(), _patch.get() + text.size());
    return _parser.parse(reinterpret_cast<const std::uint8_t*>(_patch.get()), text.size(), false)
        .get(root);
}

validation_status request_validator::validate(std::string_view body, ingest_request& out) {
    out = ingest_request{};
    ++_stats.requests;
    const std::string_view text = strip_bom(body);
    if (text.empty()) {
        out.error = k_required_id;  // body-parser turns an empty body into {}
        return validation_status::invalid_input;
    }
    if (!_dom_only && _ready && _checker.check(text)) {
        if (const auto status = validate_outline(out)) {
            return *status;
        }
    }
    ++_stats.dom_validations;
    out = ingest_request{};
    return validate_dom(text, out);
}

std::optional<validation_status> request_validator::validate_outline(ingest_request& out) const {
    const json_outline& outline = _checker.outline();
    if (!outline.root_is_object) {
        out.error = k_root_type;  // params.msgid of a non-object is undefined: no echo
        return validation_status::invalid_input;
    }
    if (!outline.complete) {
        return std::nullopt;
    }
    std::string_view id, ver, ts, params, data;
    bool has_additional = false;
    for (const auto& member : outline.members) {
        std::string_view* slot = nullptr;
        if (member.raw_key == "id") {
            slot = &id;
        } else if (member.raw_key == "ver") {
            slot = &ver;
        } else if (member.raw_key == "ts") {
            slot = &ts;
        } else if (member.raw_key == "params") {
            slot = &params;
        } else if (member.raw_key == "data") {
            slot = &data;
        } else if (member.raw_key == "additionalProperties") {
            if (has_additional) {
                return std::nullopt;
            }
            has_additional = true;
        } else if (member.raw_key.find('\\') != std::string_view::npos) {
            return std::nullopt;  // may unescape to one of the above
        }
        if (slot != nullptr) {
            if (!slot->empty()) {
                return std::nullopt;  // repeated: the last one wins, as the DOM path decides
            }
            *slot = member.value;
        }
    }

    // params.msgid, for the echo and the schema (values are never empty: empty = missing).
    std::string_view msgid;
    bool params_extra = false;
    if (!params.empty() && params.front() == '{') {
        json_text::member_cursor cursor(params.data(), params.data() + params.size());
        std::string_view key, value;
        while (cursor.next_key(key)) {
            if (key.find('\\') != std::string_view::npos || !cursor.value(value)) {
                return std::nullopt;
            }
            if (key != "msgid") {
                params_extra = true;
            } else if (!msgid.empty()) {
                return std::nullopt;  // repeated
            } else {
                msgid = value;
            }
        }
        if (cursor.failed()) {
            return std::nullopt;
        }
    }
    if (!msgid.empty()) {
        if (msgid.front() == '"') {
            if (msgid.find('\\') != std::string_view::npos) {
                return std::nullopt;  // the echo is the unescaped string
            }
            out.echo = response_msgid::of_string(msgid.substr(1, msgid.size() - 2));
        } else if ((msgid.front() == '{' || msgid.front() == '[') &&
                   !json_text::trim(msgid.substr(1, msgid.size() - 2)).empty()) {
            return std::nullopt;  // echoed minified: the DOM path writes it
        }                         // numbers, booleans, null, {} and []: _.isEmpty, no echo
    }

    // ajv: "required" before "properties"; properties in schema order (as validate_dom).
    if (id.empty()) {
        out.error = k_required_id;
    } else if (ver.empty()) {
        out.error = k_required_ver;
    } else if (ts.empty()) {
        out.error = k_required_ts;
    } else if (params.empty()) {
        out.error = k_required_params;
    } else if (data.empty()) {
        out.error = k_required_data;
    } else if (id.front() != '"') {
        out.error = k_id_type;
    } else if (id != R"("api.data.in")") {
        if (id.find('\\') != std::string_view::npos) {
            return std::nullopt;  // may unescape to the allowed value
        }
        out.error = k_id_enum;
    } else if (ver.front() != '"') {
        out.error = k_ver_type;
    } else if (ts.front() != '"') {
        out.error = k_ts_type;
    } else if (params.front() != '{') {
        out.error = k_params_type;
    } else if (msgid.empty()) {
        out.error = k_params_required;
    } else if (params_extra) {
        out.error = k_params_additional;
    } else if (msgid.front() != '"') {
        out.error = k_msgid_type;
    } else if (data.front() == '{') {
        out.kind = data_kind::object;
        out.event_count = 1;
    } else if (data.front() == '[') {
        const json_outline::array_shape* shape = outline.array_at(data.data());
        if (shape == nullptr) {
            return std::nullopt;
        }
        if (shape->all_objects) {
            out.kind = data_kind::array;
            out.event_count = shape->elements;
        } else {
            out.error = k_data_one_of;
        }
    } else {
        out.error = k_data_one_of;
    }
    if (out.error.empty() && has_additional) {
        out.error = k_additional_false;
    }
    if (!out.error.empty()) {
        out.kind = data_kind::object;
        out.event_count = 0;
        return validation_status::invalid_input;
    }
    out.msgid = msgid.substr(1, msgid.size() - 2);
    out.data = data;
    return validation_status::ok;
}

validation_status request_validator::validate_dom(std::string_view text, ingest_request& out) {
    element root;
    if (const auto error = parse(text, root); error != simdjson::SUCCESS) {
        out.error = json_error_message(error);
        return validation_status::invalid_json;
    }
    if (root.type() != element_type::OBJECT) {
        out.error = k_root_type;
        return validation_status::invalid_input;
    }
    const object top = root.get_object().value_unsafe();

    // JSON.parse: the last of duplicate keys wins.
    // Initialised from root (not default-constructed) so no path holds a null document.
    element id = root, ver = root, ts = root, params = root, data = root;
    bool has_id = false, has_ver = false, has_ts = false, has_params = false, has_data = false;
    bool has_additional = false;
    std::size_t data_index = 0;
    std::size_t count = 0;
    for (const auto field : top) {
        const std::string_view key = field.key;
        if (key == "id") {
            id = field.value;
            has_id = true;
        } else if (key == "ver") {
            ver = field.value;
            has_ver = true;
        } else if (key == "ts") {
            ts = field.value;
            has_ts = true;
        } else if (key == "params") {
            params = field.value;
            has_params = true;
        } else if (key == "data") {
            data = field.value;
            has_data = true;
            data_index = count;
        } else if (key == "additionalProperties") {
            has_additional = true;
        }
        ++count;
    }

    // params.msgid as responses echo it (_.get(body, ["params","msgid"]) + !_.isEmpty).
    element msgid = root;
    bool has_msgid = false;
    bool params_extra = false;
    if (has_params && params.type() == element_type::OBJECT) {
        const object params_object = params.get_object().value_unsafe();
        for (const auto field : params_object) {
            if (field.key == "msgid") {
                msgid = field.value;
                has_msgid = true;
            } else {
                params_extra = true;
            }
        }
    }
    if (has_msgid) {
        switch (msgid.type()) {
            case element_type::STRING:
                out.echo = response_msgid::of_string(msgid.get_string().value_unsafe());
                break;
            case element_type::OBJECT:
                if (msgid.get_object().value_unsafe().size() != 0) {
                    _echo = simdjson::minify(msgid);
                    out.echo = response_msgid::of_json(_echo);
                }
                break;
            case element_type::ARRAY:
                if (msgid.get_array().value_unsafe().size() != 0) {
                    _echo = simdjson::minify(msgid);
                    out.echo = response_msgid::of_json(_echo);
                }
                break;
            default:  // numbers, booleans, null: _.isEmpty is true
                break;
        }
    }

    // ajv: "required" before "properties"; properties in schema order.
    if (!has_id) {
        out.error = k_required_id;
    } else if (!has_ver) {
        out.error = k_required_ver;
    } else if (!has_ts) {
        out.error = k_required_ts;
    } else if (!has_params) {
        out.error = k_required_params;
    } else if (!has_data) {
        out.error = k_required_data;
    } else if (id.type() != element_type::STRING) {
        out.error = k_id_type;
    } else if (id.get_string().value_unsafe() != "api.data.in") {
        out.error = k_id_enum;
    } else if (ver.type() != element_type::STRING) {
        out.error = k_ver_type;
    } else if (ts.type() != element_type::STRING) {
        out.error = k_ts_type;
    } else if (params.type() != element_type::OBJECT) {
        out.error = k_params_type;
    } else if (!has_msgid) {
        out.error = k_params_required;
    } else if (params_extra) {
        out.error = k_params_additional;
    } else if (msgid.type() != element_type::STRING) {
        out.error = k_msgid_type;
    }
    if (out.error.empty()) {
        if (data.type() == element_type::OBJECT) {
            out.kind = data_kind::object;
            out.event_count = 1;
        } else if (data.type() == element_type::ARRAY) {
            out.kind = data_kind::array;
            const simdjson::dom::array events = data.get_array().value_unsafe();
            for (const element e : events) {
                if (e.type() != element_type::OBJECT) {
                    out.error = k_data_one_of;
                    break;
                }
                ++out.event_count;
            }
        } else {
            out.error = k_data_one_of;
        }
    }
    if (out.error.empty() && has_additional) {
        out.error = k_additional_false;
    }
    if (!out.error.empty()) {
        return validation_status::invalid_input;
    }

    out.msgid = msgid.get_string().value_unsafe();
    out.data = data_bytes(text, data_index, count, data);
    return validation_status::ok;
}

std::string_view request_validator::data_bytes(std::string_view text, std::size_t index,
                                               std::size_t count, element data) {
    std::string_view bytes;
    if (!locate_member(text, index, count, "data", bytes, _stats)) {
        // Cannot happen for JSON simdjson accepted; stay correct if it does.
        ++_stats.dom_fallbacks;
        _fallback = simdjson::minify(data);
        bytes = _fallback;
    }
    return bytes;
}

validation_status request_validator::validate_legacy(std::string_view body, legacy_request& out) {
    out = legacy_request{};
    ++_stats.requests;
    const std::string_view text = strip_bom(body);
    if (text.empty()) {
        out.error = k_v1_required_data;
        return validation_status::invalid_input;
    }
    element root;
    if (const auto error = parse(text, root); error != simdjson::SUCCESS) {
        out.error = json_error_message(error);
        return validation_status::invalid_json;
    }
    if (root.type() != element_type::OBJECT) {
        out.error = k_v1_root_type;
        return validation_status::invalid_input;
    }
    element data = root;  // not default-constructed: no path holds a null document
    bool has_data = false;
    std::size_t data_index = 0;
    std::size_t count = 0;
    const object top = root.get_object().value_unsafe();
    for (const auto field : top) {
        if (field.key == "data") {
            data = field.value;
            has_data = true;
            data_index = count;
        }
        ++count;
    }
    if (!has_data) {
        out.error = k_v1_required_data;
        return validation_status::invalid_input;
    }
    if (data.type() != element_type::OBJECT) {
        out.error = k_v1_data_type;
        return validation_status::invalid_input;
    }
    out.data_value = data;

    // Decide whether the message can be spliced (data's members verbatim + our keys at the
    // end) or its top level must be rebuilt with JS assignment semantics.
    thread_local std::vector<std::string_view> keys;
    keys.clear();
    element mid = data;
    bool has_mid = false;
    const object data_members = data.get_object().value_unsafe();
    for (const auto field : data_members) {
        const std::string_view key = field.key;
        keys.push_back(key);
        if (key == "mid") {
            mid = field.value;
            has_mid = true;
        } else if (key == "dataset" || key == "syncts" || key == "obsrv_meta" || key == "did" ||
                   key == "channel" || key == "pid" || is_array_index(key)) {
            out.needs_rebuild = true;
        }
    }
    out.has_truthy_mid = has_mid && js_truthy(mid);
    if ((has_mid && !out.has_truthy_mid) || has_duplicates(keys)) {
        out.needs_rebuild = true;
    }

    out.data = data_bytes(text, data_index, count, data);
    return validation_status::ok;
}

// ---- v1 validateData -----------------------------------------------------------------------

namespace {

// lodash castPath for a string that is not a plain key (stringToPath).
std::vector<std::string> lodash_path(std::string_view s) {
    std::vector<std::string> path;
    if (!s.empty() && s[0] == '.') {
        path.emplace_back();
    }
    std::size_t i = 0;
    const auto is_sep = [](char c) { return c == '.' || c == '[' || c == ']'; };
    while (i < s.size()) {
        const char c = s[i];
        if (!is_sep(c)) {
            std::size_t j = i;
            while (j < s.size() && !is_sep(s[j])) {
                ++j;
            }
            path.emplace_back(s.substr(i, j - i));
            i = j;
            continue;
        }
        if (c == '[') {
            // [123] / [-1.5] / ["key"] / ['key']
            std::size_t j = i + 1;
            if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
                const char q = s[j];
                std::string key;
                std::size_t k = j + 1;
                bool closed = false;
                while (k < s.size()) {
                    if (s[k] == '\\' && k + 1 < s.size()) {
                        key += s[k + 1];
                        k += 2;
                        continue;
                    }
                    if (s[k] == q && k + 1 < s.size() && s[k + 1] == ']') {
                        closed = true;
                        break;
                    }
                    key += s[k++];
                }
                if (closed) {
                    path.push_back(std::move(key));
                    i = k + 2;
                    continue;
                }
            } else {
                std::size_t k = j;
                if (k < s.size() && s[k] == '-') {
                    ++k;
                }
                const std::size_t digits = k;
                while (k < s.size() && json_text::is_digit(s[k])) {
                    ++k;
                }
                bool ok = k > digits;
                if (ok && k < s.size() && s[k] == '.') {
                    const std::size_t f = ++k;
                    while (k < s.size() && json_text::is_digit(s[k])) {
                        ++k;
                    }
                    ok = k > f;
                }
                if (ok && k < s.size() && s[k] == ']') {
                    path.emplace_back(s.substr(j, k - j));
                    i = k + 1;
                    continue;
                }
            }
        }
        // An empty key where '.' or "[]" is followed by '.', "[]" or the end.
        const std::string_view rest = s.substr(i);
        const std::size_t sep = rest[0] == '.' ? 1 : (rest.substr(0, 2) == "[]" ? 2 : 0);
        if (sep != 0) {
            const std::string_view after = rest.substr(sep);
            if (after.empty() || after[0] == '.' || after.substr(0, 2) == "[]") {
                path.emplace_back();
            }
        }
        ++i;
    }
    return path;
}

std::size_t utf16_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u & 0xC0) != 0x80) {
            n += u >= 0xF0 ? 2 : 1;  // 4-byte sequences are surrogate pairs
        }
    }
    return n;
}

// What a lodash path step found: nothing, a JSON value, or a property without one here (an
// array's or string's "length", a string's character) — paths cannot continue below those.
enum class step { none, value, opaque };

std::size_t parse_index(std::string_view key) {
    std::size_t index = 0;
    for (char c : key) {
        index = index * 10 + static_cast<std::size_t>(c - '0');
    }
    return index;
}

step own_property(element e, std::string_view key, element& child) {
    switch (e.type()) {
        case element_type::OBJECT: {
            const object members = e.get_object().value_unsafe();
            for (const auto field : members) {
                if (field.key == key) {
                    child = field.value;
                    return step::value;
                }
            }
            return step::none;
        }
        case element_type::ARRAY: {
            if (key == "length") {
                return step::opaque;
            }
            if (!is_array_index(key)) {
                return step::none;
            }
            auto item = e.get_array().value_unsafe().at(parse_index(key));
            if (item.error() != simdjson::SUCCESS) {
                return step::none;
            }
            child = item.value_unsafe();
            return step::value;
        }
        case element_type::STRING:
            if (key == "length") {
                return step::opaque;
            }
            if (is_array_index(key) &&
                parse_index(key) < utf16_length(e.get_string().value_unsafe())) {
                return step::opaque;
            }
            return step::none;
        default:
            return step::none;
    }
}

// _.has(data, path)
bool lodash_has(element root, std::string_view path) {
    element child;
    if (own_property(root, path, child) != step::none) {
        return true;  // isKey: the whole string names an own property
    }
    // A string without a deep-path pattern ('.' or "[...]") is only looked up whole.
    const std::size_t open = path.find('[');
    const bool deep =
        path.find('.') != std::string_view::npos ||
        (open != std::string_view::npos && path.find(']', open) != std::string_view::npos);
    if (!deep) {
        return false;
    }
    element cur = root;
    bool opaque = false;
    for (const auto& key : lodash_path(path)) {
        if (opaque) {
            return false;
        }
        const step s = own_property(cur, key, child);
        if (s == step::none) {
            return false;
        }
        opaque = s == step::opaque;
        cur = child;
    }
    return true;
}

}  // namespace

bool legacy_data_accepted(const legacy_request& req, bool is_batch_event,
                          std::optional<std::string_view> extraction_key,
                          std::optional<std::string_view> batch_id) {
    const element data = req.data_value;
    if (is_batch_event && lodash_has(data, extraction_key.value_or("undefined")) &&
        lodash_has(data, batch_id.value_or("undefined"))) {
        return true;
    }
    return lodash_has(data, "event");
}

}  // namespace obsrv::ingress
