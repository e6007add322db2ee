// compiled_schema::compile(): walks the schema document once, creating a node
// per subschema and registering every node under each enclosing resource's
// URI plus JSON pointer (and $anchor names), then resolves $ref/$dynamicRef
// against that index, loading external documents through the resolver.

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "schema/compiled.h"
#include "schema/ecma_regex.h"
#include "schema/uri.h"

namespace obsrv::schema {

namespace detail {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::string_view k_draft_2020_12 = "https://json-schema.org/draft/2020-12/schema";

// Keywords that carry no assertion: accepted and ignored. "format" is an
// annotation in 2020-12 unless a format-assertion vocabulary is in effect.
bool is_annotation(std::string_view key) {
    static const std::unordered_set<std::string_view> names = {
        "title",         "description", "examples",  "$comment",         "default",
        "deprecated",    "readOnly",    "writeOnly", "contentMediaType", "contentEncoding",
        "contentSchema", "format",
    };
    return names.contains(key);
}

std::string escape_pointer_segment(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// One enclosing schema resource: its URI and the pointer from its root.
struct scope {
    std::string uri;
    std::string pointer;
};

struct pending_ref {
    std::int32_t node;
    std::string target;   // absolute URI with fragment
    std::string keyword;  // "$ref" or "$dynamicRef"
    std::string doc_location;
};

class compiler {
  public:
    compiler(compiled_data& data, const compile_options& options) : _d(data), _options(options) {}

    obsrv::status compile_document(std::string_view json, const std::string& base_uri) {
        auto doc = std::make_unique<simdjson::dom::document>();
        simdjson::dom::parser parser;
        element root;
        if (const auto err = parser.parse_into_document(*doc, json.data(), json.size()).get(root);
            err != simdjson::SUCCESS) {
            return make_error("data_schema: invalid JSON ({}){}", simdjson::error_message(err),
                              err == simdjson::NUMBER_ERROR
                                  ? "; unsupported: numbers beyond 64-bit integers or double"
                                  : "");
        }
        _d.docs.push_back(std::move(doc));
        _loaded.insert(base_uri);
        std::vector<scope> scopes{{base_uri, ""}};
        auto id = walk(root, base_uri, scopes, "", -1, true);
        if (!id) {
            return std::move(id).error();
        }
        return {};
    }

    obsrv::status resolve_refs() {
        for (std::size_t i = 0; i < _refs.size(); ++i) {
            const pending_ref ref = _refs[i];
            auto target = lookup(ref);
            if (!target) {
                return std::move(target).error();
            }
            node& n = _d.nodes[static_cast<std::size_t>(ref.node)];
            if (ref.keyword == "$ref") {
                n.ref = *target;
                continue;
            }
            n.dynamic_ref = *target;
            // Dynamic only when the fragment is a plain name that the initially
            // resolved resource declares as a $dynamicAnchor (2020-12 §8.2.3.2).
            const split_uri s = split_fragment(ref.target);
            const std::string name = percent_decode(s.fragment);
            if (!name.empty() && name.front() != '/') {
                const auto it =
                    _d.dynamic_anchors.find(_d.nodes[static_cast<std::size_t>(*target)].resource);
                if (it != _d.dynamic_anchors.end()) {
                    for (const auto& [anchor, anchor_node] : it->second) {
                        if (anchor == name && anchor_node == *target) {
                            n.dynamic_ref_is_dynamic = true;
                            n.dynamic_anchor_name = name;
                        }
                    }
                }
            }
        }
        return {};
    }

  private:
    obsrv::result<std::int32_t> lookup(const pending_ref& ref) {
        const split_uri s = split_fragment(ref.target);
        const std::string key = std::string(s.base) + "#" + percent_decode(s.fragment);
        if (auto it = _index.find(key); it != _index.end()) {
            return it->second;
        }
        const std::string doc_uri(s.base);
        if (!_loaded.contains(doc_uri) && !_resources.contains(doc_uri)) {
            std::optional<std::string> text;
            if (_options.resolver) {
                text = _options.resolver(doc_uri);
            }
            if (!text) {
                return make_error(
                    "data_schema: unsupported {} '{}' at {}: external document '{}' is not "
                    "available",
                    ref.keyword, ref.target, ref.doc_location, doc_uri);
            }
            if (auto st = compile_document(*text, doc_uri); !st) {
                return make_error("{} (in '{}', referenced at {})", st.error().message, doc_uri,
                                  ref.doc_location);
            }
            if (auto it = _index.find(key); it != _index.end()) {
                return it->second;
            }
        }
        // Either dangling or pointing into a non-schema location (an unknown
        // keyword, "examples"): both are refused rather than guessed at.
        return make_error(
            "data_schema: unsupported {} '{}' at {}: the target is not a subschema this validator "
            "compiles",
            ref.keyword, ref.target, ref.doc_location);
    }

    static obsrv::result<number> read_number(element e, std::string_view kw,
                                             const std::string& at) {
        number n;
        switch (e.type()) {
            case element_type::INT64:
                n.k = number::kind::i64;
                n.i = e.get_int64().value_unsafe();
                n.d = static_cast<double>(n.i);
                return n;
            case element_type::UINT64:
                n.k = number::kind::u64;
                n.u = e.get_uint64().value_unsafe();
                n.d = static_cast<double>(n.u);
                return n;
            case element_type::DOUBLE:
                n.k = number::kind::f64;
                n.d = e.get_double().value_unsafe();
                return n;
            default:
                return make_error("data_schema: '{}' at {} must be a number", kw, at);
        }
    }

    static obsrv::result<std::uint64_t> read_count(element e, std::string_view kw,
                                                   const std::string& at) {
        switch (e.type()) {
            case element_type::INT64:
                if (e.get_int64().value_unsafe() >= 0) {
                    return static_cast<std::uint64_t>(e.get_int64().value_unsafe());
                }
                break;
            case element_type::UINT64:
                return e.get_uint64().value_unsafe();
            case element_type::DOUBLE: {
                const double d = e.get_double().value_unsafe();
                if (d >= 0 && d == std::floor(d) && d < 1.8e19) {
                    return static_cast<std::uint64_t>(d);
                }
                break;
            }
            default:
                break;
        }
        return make_error("data_schema: '{}' at {} must be a non-negative integer", kw, at);
    }

    static obsrv::result<std::unique_ptr<RE2>> compile_regex(std::string_view source,
                                                             std::string_view kw,
                                                             const std::string& at) {
        auto translated = translate_ecma_regex(source);
        if (!translated) {
            return make_error("data_schema: unsupported regular expression '{}' in '{}' at {}: {}",
                              source, kw, at, translated.error().message);
        }
        RE2::Options opts;
        opts.set_log_errors(false);
        opts.set_encoding(RE2::Options::EncodingUTF8);
        opts.set_max_mem(8 << 20);
        auto re = std::make_unique<RE2>(*translated, opts);
        if (!re->ok()) {
            return make_error("data_schema: unsupported regular expression '{}' in '{}' at {}: {}",
                              source, kw, at, re->error());
        }
        return re;
    }

    // Walks one subschema. `doc_pointer` is the pointer from the document
    // root (for messages); scopes hold the pointer from each enclosing resource.
    obsrv::result<std::int32_t> walk(element e, std::string base, std::vector<scope> scopes,
                                     const std::string& doc_pointer, std::int32_t resource,
                                     bool document_root) {
        const auto id = static_cast<std::int32_t>(_d.nodes.size());
        _d.nodes.emplace_back();
        _d.nodes.back().source = e;
        const std::string at = "#" + doc_pointer;

        if (e.is_bool()) {
            node& n = _d.nodes.back();
            n.is_bool = true;
            n.bool_value = e.get_bool().value_unsafe();
            n.resource = resource < 0 ? id : resource;
            n.location = scopes.back().uri + "#" + scopes.back().pointer;
            register_node(id, scopes);
            return id;
        }
        if (!e.is_object()) {
            return make_error("data_schema: schema at {} must be an object or a boolean", at);
        }
        const simdjson::dom::object obj = e.get_object().value_unsafe();

        element value;
        if (obj["$schema"].get(value) == simdjson::SUCCESS) {
            std::string_view dialect;
            if (value.get_string().get(dialect) != simdjson::SUCCESS) {
                return make_error("data_schema: '$schema' at {} must be a string", at);
            }
            if (dialect.ends_with("#")) {
                dialect.remove_suffix(1);
            }
            if (dialect != k_draft_2020_12) {
                return make_error(
                    "data_schema: unsupported $schema '{}' at {}: only draft 2020-12 ({}) is "
                    "supported",
                    dialect, at, k_draft_2020_12);
            }
        }
        bool new_resource = document_root;
        if (obj["$id"].get(value) == simdjson::SUCCESS) {
            std::string_view id_text;
            if (value.get_string().get(id_text) != simdjson::SUCCESS) {
                return make_error("data_schema: '$id' at {} must be a string", at);
            }
            std::string resolved = resolve_uri(base, id_text);
            const split_uri s = split_fragment(resolved);
            if (!s.fragment.empty()) {
                return make_error(
                    "data_schema: '$id' '{}' at {} must not have a fragment (use $anchor)", id_text,
                    at);
            }
            base = std::string(s.base);
            // A document root keeps its retrieval URI as well: a remote
            // document may be fetched under one URI and declare another.
            if (!document_root || scopes.back().uri != base) {
                scopes.push_back({base, ""});
            }
            new_resource = true;
            _resources.insert(base);
        }
        if (new_resource) {
            resource = id;
        }
        {
            node& n = _d.nodes.back();
            n.resource = resource;
            n.location = scopes.back().uri + "#" + scopes.back().pointer;
        }
        register_node(id, scopes);
        for (const char* anchor_kw : {"$anchor", "$dynamicAnchor"}) {
            if (obj[anchor_kw].get(value) != simdjson::SUCCESS) {
                continue;
            }
            std::string_view name;
            if (value.get_string().get(name) != simdjson::SUCCESS || name.empty() ||
                !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
                return make_error("data_schema: '{}' at {} must be a plain name", anchor_kw, at);
            }
            _index.emplace(scopes.back().uri + "#" + std::string(name), id);
            if (std::string_view(anchor_kw) == "$dynamicAnchor") {
                _d.dynamic_anchors[resource].emplace_back(std::string(name), id);
            }
        }

        // Children: a helper that walks value at <pointer>/<segments...>.
        auto child =
            [&](element v,
                std::initializer_list<std::string_view> segments) -> obsrv::result<std::int32_t> {
            std::string suffix;
            for (const auto seg : segments) {
                suffix += "/";
                suffix += escape_pointer_segment(seg);
            }
            std::vector<scope> child_scopes = scopes;
            for (auto& s : child_scopes) {
                s.pointer += suffix;
            }
            return walk(v, base, std::move(child_scopes), doc_pointer + suffix, resource, false);
        };
        auto schema_array = [&](element v, std::string_view kw,
                                std::vector<std::int32_t>& out) -> obsrv::status {
            simdjson::dom::array arr;
            if (v.get_array().get(arr) != simdjson::SUCCESS || arr.size() == 0) {
                return make_error("data_schema: '{}' at {} must be a non-empty array of schemas",
                                  kw, at);
            }
            std::size_t i = 0;
            for (const element item : arr) {
                const std::string index = std::to_string(i++);
                auto c = child(item, {kw, index});
                if (!c) {
                    return std::move(c).error();
                }
                out.push_back(*c);
            }
            return {};
        };
        auto string_array = [&](element v, std::string_view kw,
                                std::vector<std::string>& out) -> obsrv::status {
            simdjson::dom::array arr;
            if (v.get_array().get(arr) != simdjson::SUCCESS) {
                return make_error("data_schema: '{}' at {} must be an array of strings", kw, at);
            }
            for (const element item : arr) {
                std::string_view s;
                if (item.get_string().get(s) != simdjson::SUCCESS) {
                    return make_error("data_schema: '{}' at {} must be an array of strings", kw,
                                      at);
                }
                out.emplace_back(s);
            }
            return {};
        };
#define OBSRV_TRY(expr)                    \
    do {                                   \
        if (auto st_ = (expr); !st_) {     \
            return std::move(st_).error(); \
        }                                  \
    } while (false)
#define OBSRV_TRY_ASSIGN(lhs, expr)       \
    do {                                  \
        auto r_ = (expr);                 \
        if (!r_) {                        \
            return std::move(r_).error(); \
        }                                 \
        lhs = std::move(*r_);             \
    } while (false)

        std::vector<std::string> required;
        std::vector<std::pair<std::string, std::int32_t>> properties;
        for (const auto [key_view, v] : obj) {
            const std::string_view key = key_view;
            const std::string kw_at = at + "/" + escape_pointer_segment(key);
            auto N = [&]() -> node& { return _d.nodes[static_cast<std::size_t>(id)]; };
            if (key == "$schema" || key == "$id" || key == "$anchor" || key == "$dynamicAnchor" ||
                is_annotation(key)) {
                continue;
            }
            if (key == "$defs" || key == "definitions") {
                // "definitions" is not a 2020-12 keyword, but schemas written for
                // earlier drafts keep their $ref targets there; treated as $defs.
                simdjson::dom::object defs;
                if (v.get_object().get(defs) != simdjson::SUCCESS) {
                    return make_error("data_schema: '{}' at {} must be an object", key, at);
                }
                for (const auto [name, def] : defs) {
                    auto c = child(def, {key, name});
                    if (!c) {
                        return std::move(c).error();
                    }
                }
            } else if (key == "$ref" || key == "$dynamicRef") {
                std::string_view ref;
                if (v.get_string().get(ref) != simdjson::SUCCESS) {
                    return make_error("data_schema: '{}' at {} must be a string", key, at);
                }
                N().has |= key == "$ref" ? kw_ref : kw_dynamic_ref;
                _refs.push_back({id, resolve_uri(base, ref), std::string(key), at});
            } else if (key == "type") {
                auto bit_of = [](std::string_view t) -> std::uint8_t {
                    if (t == "null")
                        return t_null;
                    if (t == "boolean")
                        return t_boolean;
                    if (t == "object")
                        return t_object;
                    if (t == "array")
                        return t_array;
                    if (t == "number")
                        return t_number;
                    if (t == "string")
                        return t_string;
                    if (t == "integer")
                        return t_integer;
                    return 0;
                };
                std::uint8_t bits = 0;
                std::string_view one;
                if (v.get_string().get(one) == simdjson::SUCCESS) {
                    bits = bit_of(one);
                    if (bits == 0) {
                        return make_error("data_schema: unknown type '{}' at {}", one, kw_at);
                    }
                } else if (v.is_array()) {
                    const simdjson::dom::array types = v.get_array().value_unsafe();
                    for (const element t : types) {
                        std::string_view name;
                        if (t.get_string().get(name) != simdjson::SUCCESS || bit_of(name) == 0) {
                            return make_error("data_schema: invalid 'type' at {}", at);
                        }
                        bits |= bit_of(name);
                    }
                    N().type_is_array = true;
                } else {
                    return make_error("data_schema: invalid 'type' at {}", at);
                }
                N().types = bits;
                N().has |= kw_type;
            } else if (key == "enum") {
                simdjson::dom::array arr;
                if (v.get_array().get(arr) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'enum' at {} must be an array", at);
                }
                bool all_strings = true;
                for (const element item : arr) {
                    N().enum_values.push_back(item);
                    all_strings = all_strings && item.is_string();
                }
                if (all_strings) {
                    for (const element item : arr) {
                        N().enum_strings.push_back(item.get_string().value_unsafe());
                    }
                }
                N().enum_all_strings = all_strings;
                N().has |= kw_enum;
            } else if (key == "const") {
                N().const_value = v;
                N().has |= kw_const;
            } else if (key == "multipleOf") {
                number n;
                OBSRV_TRY_ASSIGN(n, read_number(v, key, at));
                if (!(n.d > 0)) {
                    return make_error("data_schema: 'multipleOf' at {} must be > 0", at);
                }
                N().multiple_of = n;
                N().has |= kw_multiple_of;
            } else if (key == "maximum") {
                OBSRV_TRY_ASSIGN(N().maximum, read_number(v, key, at));
                N().has |= kw_maximum;
            } else if (key == "exclusiveMaximum") {
                OBSRV_TRY_ASSIGN(N().exclusive_maximum, read_number(v, key, at));
                N().has |= kw_exclusive_maximum;
            } else if (key == "minimum") {
                OBSRV_TRY_ASSIGN(N().minimum, read_number(v, key, at));
                N().has |= kw_minimum;
            } else if (key == "exclusiveMinimum") {
                OBSRV_TRY_ASSIGN(N().exclusive_minimum, read_number(v, key, at));
                N().has |= kw_exclusive_minimum;
            } else if (key == "maxLength") {
                OBSRV_TRY_ASSIGN(N().max_length, read_count(v, key, at));
                N().has |= kw_max_length;
            } else if (key == "minLength") {
                OBSRV_TRY_ASSIGN(N().min_length, read_count(v, key, at));
                N().has |= kw_min_length;
            } else if (key == "pattern") {
                std::string_view src;
                if (v.get_string().get(src) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'pattern' at {} must be a string", at);
                }
                OBSRV_TRY_ASSIGN(N().pattern, compile_regex(src, key, at));
                N().pattern_source = std::string(src);
                N().has |= kw_pattern;
            } else if (key == "maxItems") {
                OBSRV_TRY_ASSIGN(N().max_items, read_count(v, key, at));
                N().has |= kw_max_items;
            } else if (key == "minItems") {
                OBSRV_TRY_ASSIGN(N().min_items, read_count(v, key, at));
                N().has |= kw_min_items;
            } else if (key == "uniqueItems") {
                bool b = false;
                if (v.get_bool().get(b) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'uniqueItems' at {} must be a boolean", at);
                }
                N().unique_items = b;
                if (b) {
                    N().has |= kw_unique_items;
                }
            } else if (key == "maxContains") {
                OBSRV_TRY_ASSIGN(N().max_contains, read_count(v, key, at));
                N().has |= kw_max_contains;
            } else if (key == "minContains") {
                OBSRV_TRY_ASSIGN(N().min_contains, read_count(v, key, at));
                N().has |= kw_min_contains;
            } else if (key == "maxProperties") {
                OBSRV_TRY_ASSIGN(N().max_properties, read_count(v, key, at));
                N().has |= kw_max_properties;
            } else if (key == "minProperties") {
                OBSRV_TRY_ASSIGN(N().min_properties, read_count(v, key, at));
                N().has |= kw_min_properties;
            } else if (key == "required") {
                OBSRV_TRY(string_array(v, key, required));
                N().has |= kw_required;
            } else if (key == "dependentRequired") {
                simdjson::dom::object deps;
                if (v.get_object().get(deps) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'dependentRequired' at {} must be an object",
                                      at);
                }
                for (const auto [name, list] : deps) {
                    std::vector<std::string> names;
                    OBSRV_TRY(string_array(list, key, names));
                    N().dependent_required.emplace_back(std::string(name), std::move(names));
                }
                N().has |= kw_dependent_required;
            } else if (key == "dependentSchemas") {
                simdjson::dom::object deps;
                if (v.get_object().get(deps) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'dependentSchemas' at {} must be an object",
                                      at);
                }
                for (const auto [name, sub] : deps) {
                    std::int32_t c = -1;
                    OBSRV_TRY_ASSIGN(c, child(sub, {key, name}));
                    N().dependent_schemas.emplace_back(std::string(name), c);
                }
                N().has |= kw_dependent_schemas;
            } else if (key == "properties") {
                simdjson::dom::object props;
                if (v.get_object().get(props) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'properties' at {} must be an object", at);
                }
                for (const auto [name, sub] : props) {
                    std::int32_t c = -1;
                    OBSRV_TRY_ASSIGN(c, child(sub, {key, name}));
                    properties.emplace_back(std::string(name), c);
                }
                N().has |= kw_properties;
            } else if (key == "patternProperties") {
                simdjson::dom::object props;
                if (v.get_object().get(props) != simdjson::SUCCESS) {
                    return make_error("data_schema: 'patternProperties' at {} must be an object",
                                      at);
                }
                for (const auto [name, sub] : props) {
                    pattern_entry pe;
                    pe.source = std::string(name);
                    OBSRV_TRY_ASSIGN(pe.re, compile_regex(name, key, at));
                    OBSRV_TRY_ASSIGN(pe.node, child(sub, {key, name}));
                    N().pattern_properties.push_back(std::move(pe));
                }
                N().has |= kw_pattern_properties;
            } else if (key == "additionalProperties") {
                OBSRV_TRY_ASSIGN(N().additional_properties, child(v, {key}));
                N().has |= kw_additional_properties;
            } else if (key == "propertyNames") {
                OBSRV_TRY_ASSIGN(N().property_names, child(v, {key}));
                N().has |= kw_property_names;
            } else if (key == "unevaluatedProperties") {
                OBSRV_TRY_ASSIGN(N().unevaluated_properties, child(v, {key}));
                N().has |= kw_unevaluated_properties;
            } else if (key == "prefixItems") {
                std::vector<std::int32_t> list;
                OBSRV_TRY(schema_array(v, key, list));
                N().prefix_items = std::move(list);
                N().has |= kw_prefix_items;
            } else if (key == "items") {
                if (v.is_array()) {
                    return make_error(
                        "data_schema: unsupported array form of 'items' at {} (draft 2019-09 and "
                        "earlier); use 'prefixItems'",
                        at);
                }
                OBSRV_TRY_ASSIGN(N().items, child(v, {key}));
                N().has |= kw_items;
            } else if (key == "contains") {
                OBSRV_TRY_ASSIGN(N().contains, child(v, {key}));
                N().has |= kw_contains;
            } else if (key == "unevaluatedItems") {
                OBSRV_TRY_ASSIGN(N().unevaluated_items, child(v, {key}));
                N().has |= kw_unevaluated_items;
            } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
                std::vector<std::int32_t> list;
                OBSRV_TRY(schema_array(v, key, list));
                if (key == "allOf") {
                    N().all_of = std::move(list);
                    N().has |= kw_all_of;
                } else if (key == "anyOf") {
                    N().any_of = std::move(list);
                    N().has |= kw_any_of;
                } else {
                    N().one_of = std::move(list);
                    N().has |= kw_one_of;
                }
            } else if (key == "not") {
                OBSRV_TRY_ASSIGN(N().not_schema, child(v, {key}));
                N().has |= kw_not;
            } else if (key == "if") {
                OBSRV_TRY_ASSIGN(N().if_schema, child(v, {key}));
                N().has |= kw_if;
            } else if (key == "then") {
                OBSRV_TRY_ASSIGN(N().then_schema, child(v, {key}));
                N().has |= kw_then;
            } else if (key == "else") {
                OBSRV_TRY_ASSIGN(N().else_schema, child(v, {key}));
                N().has |= kw_else;
            } else {
                return make_error("data_schema: unsupported keyword '{}' at {}", key, at);
            }
        }
#undef OBSRV_TRY
#undef OBSRV_TRY_ASSIGN

        node& n = _d.nodes[static_cast<std::size_t>(id)];
        // then/else without if do nothing (2020-12 §10.2.2.2/3).
        if (!(n.has & kw_if)) {
            n.has &= ~(kw_then | kw_else);
        }
        // minContains/maxContains without contains are ignored.
        if (!(n.has & kw_contains)) {
            n.has &= ~(kw_min_contains | kw_max_contains);
        }
        // Merge properties and required into one sorted name table: a single
        // pass over the instance's members then serves both keywords.
        for (auto& [name, c] : properties) {
            n.props.push_back({name, c, -1});
        }
        std::sort(n.props.begin(), n.props.end(),
                  [](const prop_entry& a, const prop_entry& b) { return a.name < b.name; });
        n.required_overflow = required.size() > 64;
        int bit = 0;
        for (const auto& name : required) {
            if (n.required_overflow) {
                break;
            }
            auto it = std::lower_bound(
                n.props.begin(), n.props.end(), name,
                [](const prop_entry& a, const std::string& b) { return a.name < b; });
            if (it == n.props.end() || it->name != name) {
                it = n.props.insert(it, prop_entry{name, -1, -1});
            }
            if (it->required_bit < 0) {
                it->required_bit = bit;
                n.required_mask |= 1ull << bit;
                ++bit;
            }
        }
        n.required = std::move(required);
        if (!n.props.empty()) {
            std::size_t size = 4;
            while (size < n.props.size() * 2) {
                size *= 2;
            }
            n.prop_table.assign(size, -1);
            for (std::size_t i = 0; i < n.props.size(); ++i) {
                std::size_t slot = hash_name(n.props[i].name) & (size - 1);
                while (n.prop_table[slot] >= 0) {
                    slot = (slot + 1) & (size - 1);
                }
                n.prop_table[slot] = static_cast<std::int32_t>(i);
            }
        }
        return id;
    }

    void register_node(std::int32_t id, const std::vector<scope>& scopes) {
        for (const auto& s : scopes) {
            _index.emplace(s.uri + "#" + s.pointer, id);
        }
    }

    compiled_data& _d;
    const compile_options& _options;
    std::unordered_map<std::string, std::int32_t> _index;
    std::unordered_set<std::string> _loaded;
    std::unordered_set<std::string> _resources;
    std::vector<pending_ref> _refs;
};

}  // namespace

}  // namespace detail

obsrv::result<std::shared_ptr<const compiled_schema>> compiled_schema::compile(
    std::string_view schema_json, const compile_options& options) {
    auto data = std::make_unique<detail::compiled_data>();
    data->max_errors = options.max_errors;
    data->max_depth = options.max_depth;
    detail::compiler c(*data, options);
    if (auto st = c.compile_document(schema_json, options.base_uri); !st) {
        return std::move(st).error();
    }
    if (auto st = c.resolve_refs(); !st) {
        return std::move(st).error();
    }
    detail::mark_fast_path(*data);
    return std::shared_ptr<const compiled_schema>(
        std::make_shared<compiled_schema>(std::move(data)));
}

compiled_schema::compiled_schema(std::unique_ptr<detail::compiled_data> data)
    : _data(std::move(data)) {}

compiled_schema::~compiled_schema() = default;

}  // namespace obsrv::schema
