#include "dataset/parse.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include <simdjson.h>

namespace obsrv::dataset {
namespace {

namespace dom = simdjson::dom;

std::string join_path(std::string_view prefix, std::string_view key) {
    if (prefix.empty()) {
        return std::string(key);
    }
    std::string path;
    path.reserve(prefix.size() + 1 + key.size());
    path.append(prefix).append(".").append(key);
    return path;
}

// "Draft|Publish|..." for enum error messages, from the model's own spelling table.
template <typename E>
std::string choices(int count) {
    std::string out;
    for (int i = 0; i < count; ++i) {
        if (i > 0) {
            out += '|';
        }
        out += to_string(static_cast<E>(i));
    }
    return out;
}

// Reads typed fields out of simdjson objects. The first problem is kept and later reads become
// no-ops, so the parser reads straight through and checks failed() once per section; every read
// leaves the model's default in place when the field is absent or null.
class reader {
  public:
    explicit reader(std::string_view origin) : _origin(origin) {}

    bool failed() const { return _error.has_value(); }
    error take_error() { return std::move(*_error); }

    void fail(std::string_view path, std::string_view what) {
        if (!_error) {
            _error = make_error("{}: field '{}': {}", _origin, path, what);
        }
    }
    void fail_document(std::string_view what) {
        if (!_error) {
            _error = make_error("{}: {}", _origin, what);
        }
    }

    // The value of `key`, or nullopt when absent or null. A key given twice is an error: the
    // parser would keep the first, Jackson the last, and the author meant one of them.
    std::optional<dom::element> get(dom::object obj, std::string_view prefix,
                                    std::string_view key) {
        if (failed()) {
            return std::nullopt;
        }
        std::optional<dom::element> found;
        for (auto field : obj) {
            if (field.key != key) {
                continue;
            }
            if (found) {
                fail(join_path(prefix, key), "given more than once");
                return std::nullopt;
            }
            found = field.value;
        }
        if (!found || found->is_null()) {
            return std::nullopt;
        }
        return found;
    }

    std::optional<dom::object> object(dom::object obj, std::string_view prefix,
                                      std::string_view key) {
        auto value = get(obj, prefix, key);
        if (!value) {
            return std::nullopt;
        }
        dom::object nested;
        if (value->get(nested) != simdjson::SUCCESS) {
            fail(join_path(prefix, key), "expected an object");
            return std::nullopt;
        }
        return nested;
    }

    std::optional<dom::array> array(dom::object obj, std::string_view prefix,
                                    std::string_view key) {
        auto value = get(obj, prefix, key);
        if (!value) {
            return std::nullopt;
        }
        dom::array items;
        if (value->get(items) != simdjson::SUCCESS) {
            fail(join_path(prefix, key), "expected an array");
            return std::nullopt;
        }
        return items;
    }

    // Returns whether the field was present (and well-typed).
    bool string(dom::object obj, std::string_view prefix, std::string_view key, std::string& out) {
        auto value = get(obj, prefix, key);
        if (!value) {
            return false;
        }
        std::string_view text;
        if (value->get(text) != simdjson::SUCCESS) {
            fail(join_path(prefix, key), "expected a string");
            return false;
        }
        out.assign(text);
        return true;
    }

    void boolean(dom::object obj, std::string_view prefix, std::string_view key, bool& out) {
        auto value = get(obj, prefix, key);
        if (!value) {
            return;
        }
        if (value->get(out) != simdjson::SUCCESS) {
            fail(join_path(prefix, key), "expected a boolean");
        }
    }

    void integer(dom::object obj, std::string_view prefix, std::string_view key, int64_t& out,
                 int64_t min = std::numeric_limits<int64_t>::min(),
                 int64_t max = std::numeric_limits<int64_t>::max()) {
        auto value = get(obj, prefix, key);
        if (!value) {
            return;
        }
        auto path = join_path(prefix, key);
        int64_t number = 0;
        switch (value->type()) {
            case dom::element_type::INT64:
                number = value->get_int64().value_unsafe();
                break;
            case dom::element_type::UINT64:  // above INT64_MAX
                fail(path, fmt::format("integer out of range ({}..{})", min, max));
                return;
            case dom::element_type::DOUBLE: {
                // Jackson reads 6379.0 as 6379; a fraction is an error, not a truncation.
                double d = value->get_double().value_unsafe();
                if (std::trunc(d) != d || d < -9.2e18 || d > 9.2e18) {
                    fail(path, "expected an integer");
                    return;
                }
                number = static_cast<int64_t>(d);
                break;
            }
            default:
                fail(path, "expected an integer");
                return;
        }
        if (number < min || number > max) {
            fail(path, fmt::format("integer out of range ({}..{})", min, max));
            return;
        }
        out = number;
    }

    void string_list(dom::object obj, std::string_view prefix, std::string_view key,
                     std::vector<std::string>& out) {
        auto items = array(obj, prefix, key);
        if (!items) {
            return;
        }
        out.clear();
        std::size_t index = 0;
        for (dom::element item : *items) {
            std::string_view text;
            if (item.get(text) != simdjson::SUCCESS) {
                fail(fmt::format("{}[{}]", join_path(prefix, key), index), "expected a string");
                return;
            }
            out.emplace_back(text);
            ++index;
        }
    }

    template <typename E, typename Parse>
    bool enumeration(dom::object obj, std::string_view prefix, std::string_view key, E& out,
                     Parse parse, int count) {
        std::string text;
        if (!string(obj, prefix, key, text)) {
            return false;
        }
        auto parsed = parse(text);
        if (!parsed) {
            fail(join_path(prefix, key),
                 fmt::format("unknown value '{}' (expected {})", text, choices<E>(count)));
            return false;
        }
        out = *parsed;
        return true;
    }

  private:
    std::string_view _origin;
    std::optional<error> _error;
};

void read_dedup(reader& r, dom::object obj, std::string_view path, dedup& out) {
    r.boolean(obj, path, "drop_duplicates", out.drop_duplicates);
    r.string(obj, path, "dedup_key", out.dedup_key);
    r.integer(obj, path, "dedup_period", out.dedup_period, 0);
}

void read_extraction(reader& r, dom::object root, extraction& out) {
    constexpr std::string_view path = "extraction_config";
    auto obj = r.object(root, "", path);
    if (!obj) {
        return;
    }
    r.boolean(*obj, path, "is_batch_event", out.is_batch_event);
    r.string(*obj, path, "extraction_key", out.extraction_key);
    r.string(*obj, path, "batch_id", out.batch_id);
    if (auto nested = r.object(*obj, path, "dedup_config")) {
        read_dedup(r, *nested, "extraction_config.dedup_config", out.dedup_config);
    }
}

void read_validation(reader& r, dom::object root, validation& out) {
    constexpr std::string_view path = "validation_config";
    auto obj = r.object(root, "", path);
    if (!obj) {
        return;
    }
    out.configured = true;
    r.boolean(*obj, path, "validate", out.validate);
    r.enumeration(*obj, path, "mode", out.mode, parse_validation_mode, 3);
}

// A JSON schema is an object (or a boolean schema); rows exported from Postgres may carry it as a
// string holding that JSON. Stored minified for the validator.
void read_schema(reader& r, dom::object root, std::string& out) {
    constexpr std::string_view path = "data_schema";
    auto value = r.get(root, "", path);
    if (!value) {
        return;
    }
    if (value->is_object() || value->is_bool()) {
        out = simdjson::minify(*value);
        return;
    }
    std::string_view text;
    if (value->get(text) != simdjson::SUCCESS) {
        r.fail(path, "expected an object (a JSON schema)");
        return;
    }
    dom::parser parser;
    dom::element schema;
    auto err = parser.parse(text.data(), text.size()).get(schema);
    if (err != simdjson::SUCCESS) {
        r.fail(path, fmt::format("string is not valid JSON ({})", simdjson::error_message(err)));
        return;
    }
    if (!schema.is_object() && !schema.is_bool()) {
        r.fail(path, "expected an object (a JSON schema)");
        return;
    }
    out = simdjson::minify(schema);
}

void read_denorm(reader& r, dom::object root, denorm& out) {
    constexpr std::string_view path = "denorm_config";
    auto obj = r.object(root, "", path);
    if (!obj) {
        return;
    }
    r.string(*obj, path, "redis_db_host", out.redis_db_host);
    r.integer(*obj, path, "redis_db_port", out.redis_db_port, 1, 65535);
    auto fields = r.array(*obj, path, "denorm_fields");
    if (!fields) {
        return;
    }
    std::size_t index = 0;
    for (dom::element item : *fields) {
        auto item_path = fmt::format("denorm_config.denorm_fields[{}]", index++);
        dom::object field_obj;
        if (item.get(field_obj) != simdjson::SUCCESS) {
            r.fail(item_path, "expected an object");
            return;
        }
        denorm_field field;
        r.string(field_obj, item_path, "denorm_key", field.denorm_key);
        r.string(field_obj, item_path, "jsonata_expr", field.jsonata_expr);
        r.string(field_obj, item_path, "denorm_out_field", field.denorm_out_field);
        r.string(field_obj, item_path, "dataset_id", field.dataset_id);
        r.integer(field_obj, item_path, "redis_db", field.redis_db, 0);
        if (r.failed()) {
            return;
        }
        // Without these the denormalizer could only fail every event; say so at load time.
        if (field.denorm_out_field.empty()) {
            r.fail(join_path(item_path, "denorm_out_field"), "required");
            return;
        }
        if (field.denorm_key.empty() && field.jsonata_expr.empty()) {
            r.fail(join_path(item_path, "denorm_key"), "required (or jsonata_expr)");
            return;
        }
        out.denorm_fields.push_back(std::move(field));
    }
}

void read_transformations(reader& r, dom::object root, std::vector<transformation>& out) {
    auto items = r.array(root, "", "transformations_config");
    if (!items) {
        return;
    }
    std::size_t index = 0;
    for (dom::element item : *items) {
        auto item_path = fmt::format("transformations_config[{}]", index++);
        dom::object obj;
        if (item.get(obj) != simdjson::SUCCESS) {
            r.fail(item_path, "expected an object");
            return;
        }
        transformation t;
        r.string(obj, item_path, "field_key", t.field_key);
        r.enumeration(obj, item_path, "mode", t.mode, parse_transform_mode, 2);
        auto fn_path = join_path(item_path, "transformation_function");
        auto fn = r.object(obj, item_path, "transformation_function");
        if (fn) {
            r.string(*fn, fn_path, "type", t.function_type);
            r.string(*fn, fn_path, "expr", t.expr);
            r.string(*fn, fn_path, "datatype", t.datatype);
            r.string(*fn, fn_path, "category", t.category);
            auto cond_path = join_path(fn_path, "condition");
            if (auto cond = r.object(*fn, fn_path, "condition")) {
                r.string(*cond, cond_path, "type", t.condition_type);
                r.string(*cond, cond_path, "expr", t.condition_expr);
            }
        }
        if (r.failed()) {
            return;
        }
        if (t.field_key.empty()) {
            r.fail(join_path(item_path, "field_key"), "required");
            return;
        }
        if (!fn || t.function_type.empty()) {
            r.fail(join_path(fn_path, "type"), "required");
            return;
        }
        out.push_back(std::move(t));
    }
}

// v2: dataset_config{indexing_config, keys_config, dataset_tz, exclude_fields, cache_config}.
void read_settings_v2(reader& r, dom::object obj, settings& out) {
    constexpr std::string_view path = "dataset_config";
    if (auto idx = r.object(obj, path, "indexing_config")) {
        constexpr std::string_view p = "dataset_config.indexing_config";
        r.boolean(*idx, p, "olap_store_enabled", out.indexing_config.olap_store_enabled);
        r.boolean(*idx, p, "lakehouse_enabled", out.indexing_config.lakehouse_enabled);
        r.boolean(*idx, p, "cache_enabled", out.indexing_config.cache_enabled);
    }
    if (auto k = r.object(obj, path, "keys_config")) {
        constexpr std::string_view p = "dataset_config.keys_config";
        r.string(*k, p, "data_key", out.keys_config.data_key);
        r.string(*k, p, "partition_key", out.keys_config.partition_key);
        r.string(*k, p, "timestamp_key", out.keys_config.timestamp_key);
        r.string(*k, p, "timestamp_format", out.keys_config.timestamp_format);
    }
    r.string(obj, path, "dataset_tz", out.dataset_tz);
    r.string_list(obj, path, "exclude_fields", out.exclude_fields);
    if (auto c = r.object(obj, path, "cache_config")) {
        constexpr std::string_view p = "dataset_config.cache_config";
        r.string(*c, p, "redis_db_host", out.cache_config.redis_db_host);
        r.integer(*c, p, "redis_db_port", out.cache_config.redis_db_port, 1, 65535);
        r.integer(*c, p, "redis_db", out.cache_config.redis_db, 0);
    }
}

// v1: the flat dataset_config of obsrv 1.x rows, mapped as Obsrv's DatasetRegistryService and
// the API's v1 migration do. entry_topic is read by the caller (it is the dataset's topic).
void read_settings_v1(reader& r, dom::object obj, settings& out) {
    constexpr std::string_view path = "dataset_config";
    r.string(obj, path, "data_key", out.keys_config.data_key);
    r.string(obj, path, "timestamp_key", out.keys_config.timestamp_key);
    r.string(obj, path, "timestamp_format", out.keys_config.timestamp_format);
    r.string(obj, path, "dataset_tz", out.dataset_tz);
    r.string_list(obj, path, "exclude_fields", out.exclude_fields);
    r.string(obj, path, "redis_db_host", out.cache_config.redis_db_host);
    r.integer(obj, path, "redis_db_port", out.cache_config.redis_db_port, 1, 65535);
    r.integer(obj, path, "redis_db", out.cache_config.redis_db, 0);
    r.boolean(obj, path, "index_data", out.indexing_config.olap_store_enabled);
}

bool has_v2_shape(reader& r, dom::object root) {
    auto obj = r.get(root, "", "dataset_config");
    dom::object config;
    if (!obj || obj->get(config) != simdjson::SUCCESS) {
        return false;
    }
    for (std::string_view key : {"keys_config", "indexing_config", "cache_config"}) {
        dom::element ignored;
        if (config.at_key(key).get(ignored) == simdjson::SUCCESS) {
            return true;
        }
    }
    return false;
}

void check_topic(reader& r, std::string_view path, const std::string& topic,
                 std::string_view note = {}) {
    if (!topic.empty() && !is_valid_topic_name(topic)) {
        r.fail(path, fmt::format("'{}' is not a valid Kafka topic name ([a-zA-Z0-9._-], at most "
                                 "249 characters){}",
                                 topic, note));
    }
}

}  // namespace

bool is_valid_topic_name(std::string_view name) {
    if (name.empty() || name.size() > 249 || name == "." || name == "..") {
        return false;
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

result<dataset> parse_dataset(std::string_view json, std::string_view origin) {
    reader r(origin);
    dom::parser parser;
    simdjson::padded_string padded(json);
    dom::element doc;
    if (auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
        r.fail_document(fmt::format("invalid JSON: {}", simdjson::error_message(err)));
        return r.take_error();
    }
    dom::object root;
    if (doc.get(root) != simdjson::SUCCESS) {
        r.fail_document("expected a JSON object (one dataset per file)");
        return r.take_error();
    }

    dataset ds;
    ds.origin = std::string(origin);

    // Identity: Obsrv rows carry both id (primary key) and dataset_id; either one is enough.
    bool has_id = r.string(root, "", "id", ds.id) && !ds.id.empty();
    bool has_dataset_id = r.string(root, "", "dataset_id", ds.dataset_id) && !ds.dataset_id.empty();
    if (r.failed()) {
        return r.take_error();
    }
    if (!has_dataset_id && !has_id) {
        r.fail("dataset_id", "required");
        return r.take_error();
    }
    if (!has_dataset_id) {
        ds.dataset_id = ds.id;
    } else if (!has_id) {
        ds.id = ds.dataset_id;
    }
    if (!r.string(root, "", "name", ds.name) || ds.name.empty()) {
        ds.name = ds.dataset_id;
    }
    r.string(root, "", "alias", ds.alias);

    if (!r.enumeration(root, "", "type", ds.type, parse_dataset_type, 3) && !r.failed()) {
        r.fail("type", fmt::format("required ({})", choices<dataset_type>(3)));
    }
    if (!r.enumeration(root, "", "status", ds.status, parse_dataset_status, 7) && !r.failed()) {
        r.fail("status", fmt::format("required ({})", choices<dataset_status>(7)));
    }
    if (!r.enumeration(root, "", "api_version", ds.version, parse_api_version, 2) && !r.failed()) {
        // The Postgres column defaults to v1; a file already in the v2 nesting is v2.
        ds.version = has_v2_shape(r, root) ? api_version::v2 : api_version::v1;
    }
    r.integer(root, "", "data_version", ds.data_version, 0);
    r.string_list(root, "", "tags", ds.tags);
    if (r.failed()) {
        return r.take_error();
    }

    read_validation(r, root, ds.validation_config);
    read_extraction(r, root, ds.extraction_config);
    if (auto obj = r.object(root, "", "dedup_config")) {
        read_dedup(r, *obj, "dedup_config", ds.dedup_config);
    }
    read_schema(r, root, ds.data_schema);
    read_denorm(r, root, ds.denorm_config);
    if (auto obj = r.object(root, "", "router_config")) {
        r.string(*obj, "router_config", "topic", ds.router_config.topic);
    }
    read_transformations(r, root, ds.transformations_config);
    if (r.failed()) {
        return r.take_error();
    }

    // Master datasets feed the cache; the v1 migration and the console enable it for them.
    ds.dataset_config.indexing_config.cache_enabled = ds.type == dataset_type::master;
    auto config = r.object(root, "", "dataset_config");
    if (ds.version == api_version::v2) {
        if (config) {
            read_settings_v2(r, *config, ds.dataset_config);
        }
        r.string(root, "", "entry_topic", ds.entry_topic);
        check_topic(r, "entry_topic", ds.entry_topic);
    } else {
        ds.dataset_config.indexing_config.lakehouse_enabled = false;
        if (config) {
            read_settings_v1(r, *config, ds.dataset_config);
            r.string(*config, "dataset_config", "entry_topic", ds.entry_topic);
        }
        check_topic(r, "dataset_config.entry_topic", ds.entry_topic);
    }
    if (ds.router_config.topic.empty()) {
        ds.router_config.topic = ds.dataset_id;
        check_topic(r, "router_config.topic", ds.router_config.topic,
                    " (it defaults to the dataset_id)");
    } else {
        check_topic(r, "router_config.topic", ds.router_config.topic);
    }
    if (r.failed()) {
        return r.take_error();
    }
    return ds;
}

}  // namespace obsrv::dataset
