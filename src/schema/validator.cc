// compiled_schema::validate(): a recursive walk of the node graph alongside
// the instance. The valid path touches no heap: instance and schema paths are
// linked frames on the call stack and become strings only when an error is
// reported. Annotation tracking for unevaluatedProperties/unevaluatedItems is
// switched on only below nodes that use those keywords.

#include <algorithm>
#include <cmath>
#include <limits>

#include "schema/checks.h"
#include "schema/compiled.h"

namespace obsrv::schema {

namespace detail {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// One segment of a JSON pointer; frames link towards the root.
struct path_frame {
    const path_frame* parent;
    std::string_view key;
    std::int64_t index;  // >= 0: an array index (rendered as a number)
};

// The dynamic scope: schema resources entered, innermost first.
struct scope_frame {
    const scope_frame* parent;
    std::int32_t resource;
};

// Which members (object) or items (array) of the current instance some
// subschema evaluated successfully.
struct annotations {
    std::vector<std::uint8_t> evaluated;

    explicit annotations(std::size_t n) : evaluated(n, 0) {}
    void merge(const annotations& other) {
        for (std::size_t i = 0; i < evaluated.size(); ++i) {
            evaluated[i] |= other.evaluated[i];
        }
    }
    void mark_all() { std::fill(evaluated.begin(), evaluated.end(), 1); }
};

const char* json_type_name(element e) {
    switch (e.type()) {
        case element_type::ARRAY:
            return "array";
        case element_type::OBJECT:
            return "object";
        case element_type::STRING:
            return "string";
        case element_type::INT64:
        case element_type::UINT64:
            return "integer";
        case element_type::DOUBLE:
            return "number";
        case element_type::BOOL:
            return "boolean";
        case element_type::NULL_VALUE:
            return "null";
    }
    return "unknown";
}

std::string format_number(const number& n) {
    switch (n.k) {
        case number::kind::i64:
            return std::to_string(n.i);
        case number::kind::u64:
            return std::to_string(n.u);
        case number::kind::f64:
            return fmt::format("{}", n.d);
    }
    return {};
}

void collect(const path_frame* f, std::vector<const path_frame*>& out) {
    for (; f != nullptr; f = f->parent) {
        out.push_back(f);
    }
    std::reverse(out.begin(), out.end());
}

void append_pointer_segment(std::string& out, std::string_view key) {
    for (const char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out.push_back(c);
        }
    }
}

std::string to_pointer(const path_frame* f) {
    std::vector<const path_frame*> frames;
    collect(f, frames);
    std::string out;
    for (const auto* p : frames) {
        out.push_back('/');
        if (p->index >= 0) {
            out += std::to_string(p->index);
        } else {
            append_pointer_segment(out, p->key);
        }
    }
    return out;
}

// networknt's legacy path: "$", ".name" per property, "[i]" per index.
std::string to_legacy(const path_frame* f) {
    std::vector<const path_frame*> frames;
    collect(f, frames);
    std::string out = "$";
    for (const auto* p : frames) {
        if (p->index >= 0) {
            out += "[" + std::to_string(p->index) + "]";
        } else {
            out.push_back('.');
            out.append(p->key);
        }
    }
    return out;
}

class evaluator {
  public:
    evaluator(const compiled_data& d, std::vector<validation_error>* errors)
        : _d(d), _errors(errors), _error_base(errors != nullptr ? errors->size() : 0) {}

    // `report`: append errors and keep going after a failure (to collect
    // them all) rather than return at the first one.
    bool eval(std::int32_t id, element inst, const path_frame* ip, const path_frame* ep,
              const scope_frame* sc, bool report, annotations* ann, std::uint32_t depth) {
        const node& n = _d.nodes[static_cast<std::size_t>(id)];
        if (depth > _d.max_depth) {
            if (report) {
                emit(n, "$ref", "$ref", inst, ip, ep, "", {std::to_string(_d.max_depth)});
            }
            return false;
        }
        if (n.is_bool) {
            if (n.bool_value) {
                return true;  // "true" asserts nothing and annotates nothing
            }
            if (report) {
                emit_false(n, inst, ip, ep);
            }
            return false;
        }
        report = report && budget_left();
        scope_frame own_scope{sc, n.resource};
        if (sc == nullptr || sc->resource != n.resource) {
            sc = &own_scope;
        }
        const element_type et = inst.type();
        const bool is_object = et == element_type::OBJECT;
        const bool is_array = et == element_type::ARRAY;

        // A node with unevaluated* keeps its own record of what its in-place
        // subschemas evaluated; otherwise it records into the caller's.
        annotations* own = ann;
        std::optional<annotations> local;
        if ((is_object && (n.has & kw_unevaluated_properties)) ||
            (is_array && (n.has & kw_unevaluated_items))) {
            local.emplace(is_object ? inst.get_object().value_unsafe().size()
                                    : inst.get_array().value_unsafe().size());
            own = &*local;
        }

        bool valid = true;
#define OBSRV_FAIL()            \
    do {                        \
        valid = false;          \
        if (!report) {          \
            return false;       \
        }                       \
        report = budget_left(); \
    } while (false)

        if ((n.has & kw_type) && !type_matches(n.types, inst)) {
            if (report) {
                emit_type(n, inst, ip, ep);
            }
            OBSRV_FAIL();
        }
        if (n.has & kw_enum) {
            bool found = false;
            if (n.enum_all_strings) {
                std::string_view s;
                if (inst.get_string().get(s) == simdjson::SUCCESS) {
                    found = std::find(n.enum_strings.begin(), n.enum_strings.end(), s) !=
                            n.enum_strings.end();
                }
            } else {
                for (const element v : n.enum_values) {
                    if (json_equal(v, inst)) {
                        found = true;
                        break;
                    }
                }
            }
            if (!found) {
                if (report) {
                    emit(n, "enum", "enum", inst, ip, ep, "",
                         {simdjson::minify(n.source["enum"].value_unsafe())});
                }
                OBSRV_FAIL();
            }
        }
        if ((n.has & kw_const) && !json_equal(n.const_value, inst)) {
            if (report) {
                emit(n, "const", "const", inst, ip, ep, "", {simdjson::minify(n.const_value)});
            }
            OBSRV_FAIL();
        }
        if ((n.has & kw_number_group) && (et == element_type::INT64 || et == element_type::UINT64 ||
                                          et == element_type::DOUBLE)) {
            if (!check_number(n, inst, ip, ep, report)) {
                OBSRV_FAIL();
            }
        }
        if ((n.has & kw_string_group) && et == element_type::STRING) {
            if (!check_string(n, inst, ip, ep, report)) {
                OBSRV_FAIL();
            }
        }
        if ((n.has & kw_array_group) && is_array) {
            if (!check_array(n, inst, ip, ep, sc, report, own, depth)) {
                OBSRV_FAIL();
            }
        }
        if (((n.has & kw_object_group) || own != nullptr) && is_object) {
            if (!check_object(n, inst, ip, ep, sc, report, own, depth)) {
                OBSRV_FAIL();
            }
        }
        if (n.has & kw_in_place) {
            if (!check_in_place(n, inst, ip, ep, sc, report, own, depth)) {
                OBSRV_FAIL();
            }
        }
        if (is_object && (n.has & kw_dependent_schemas)) {
            const auto obj = inst.get_object().value_unsafe();
            for (const auto& [name, child] : n.dependent_schemas) {
                if (!has_key(obj, name)) {
                    continue;
                }
                const path_frame e1{ep, "dependentSchemas", -1};
                const path_frame e2{&e1, name, -1};
                if (!eval(child, inst, ip, &e2, sc, report, own, depth + 1)) {
                    OBSRV_FAIL();
                }
            }
        }
        if (local && valid) {
            if (!check_unevaluated(n, inst, ip, ep, sc, report, *local, depth)) {
                OBSRV_FAIL();
            }
            if (valid && ann != nullptr) {
                ann->mark_all();
            }
        }
#undef OBSRV_FAIL
        return valid;
    }

    bool run(std::int32_t root, element inst) {
        return eval(root, inst, nullptr, nullptr, nullptr, _errors != nullptr, nullptr, 0);
    }

  private:
    bool budget_left() const {
        return _errors != nullptr && _errors->size() - _error_base < _d.max_errors;
    }

    bool check_number(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                      bool report) {
        const number x = to_number(inst);
        bool ok = true;
        auto fail = [&](std::string_view kw, const number& limit) {
            ok = false;
            if (report && budget_left()) {
                emit(n, kw, kw, inst, ip, ep, "", {format_number(limit)});
            }
            return report;
        };
        if ((n.has & kw_minimum) && compare(x, n.minimum) < 0 && !fail("minimum", n.minimum)) {
            return false;
        }
        if ((n.has & kw_maximum) && compare(x, n.maximum) > 0 && !fail("maximum", n.maximum)) {
            return false;
        }
        if ((n.has & kw_exclusive_minimum) && compare(x, n.exclusive_minimum) <= 0 &&
            !fail("exclusiveMinimum", n.exclusive_minimum)) {
            return false;
        }
        if ((n.has & kw_exclusive_maximum) && compare(x, n.exclusive_maximum) >= 0 &&
            !fail("exclusiveMaximum", n.exclusive_maximum)) {
            return false;
        }
        if ((n.has & kw_multiple_of) && !is_multiple_of(x, n.multiple_of) &&
            !fail("multipleOf", n.multiple_of)) {
            return false;
        }
        return ok;
    }

    bool check_string(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                      bool report) {
        const std::string_view s = inst.get_string().value_unsafe();
        bool ok = true;
        if (n.has & (kw_min_length | kw_max_length)) {
            const std::size_t len = code_points(s);
            if ((n.has & kw_min_length) && len < n.min_length) {
                ok = false;
                if (!report) {
                    return false;
                }
                if (budget_left()) {
                    emit(n, "minLength", "minLength", inst, ip, ep, "",
                         {std::to_string(n.min_length)});
                }
            }
            if ((n.has & kw_max_length) && len > n.max_length) {
                ok = false;
                if (!report) {
                    return false;
                }
                if (budget_left()) {
                    emit(n, "maxLength", "maxLength", inst, ip, ep, "",
                         {std::to_string(n.max_length)});
                }
            }
        }
        if ((n.has & kw_pattern) && !RE2::PartialMatch(s, *n.pattern)) {
            ok = false;
            if (report && budget_left()) {
                emit(n, "pattern", "pattern", inst, ip, ep, "", {n.pattern_source});
            }
        }
        return ok;
    }

    bool check_array(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                     const scope_frame* sc, bool report, annotations* own, std::uint32_t depth) {
        const auto arr = inst.get_array().value_unsafe();
        const std::size_t size = arr.size();
        bool ok = true;
        auto failed = [&]() {
            ok = false;
            return !report;  // true: stop now
        };
        if ((n.has & kw_min_items) && size < n.min_items) {
            if (report && budget_left()) {
                emit(n, "minItems", "minItems", inst, ip, ep, "",
                     {std::to_string(n.min_items), std::to_string(size)});
            }
            if (failed()) {
                return false;
            }
        }
        if ((n.has & kw_max_items) && size > n.max_items) {
            if (report && budget_left()) {
                emit(n, "maxItems", "maxItems", inst, ip, ep, "",
                     {std::to_string(n.max_items), std::to_string(size)});
            }
            if (failed()) {
                return false;
            }
        }
        if (n.has & kw_unique_items) {
            bool unique = true;
            std::size_t i = 0;
            for (auto a = arr.begin(); a != arr.end() && unique; ++a, ++i) {
                auto b = a;
                for (++b; b != arr.end(); ++b) {
                    if (json_equal(*a, *b)) {
                        unique = false;
                        break;
                    }
                }
            }
            if (!unique) {
                if (report && budget_left()) {
                    emit(n, "uniqueItems", "uniqueItems", inst, ip, ep, "", {});
                }
                if (failed()) {
                    return false;
                }
            }
        }
        if (n.has & (kw_prefix_items | kw_items)) {
            std::int64_t i = 0;
            const std::size_t prefix = n.prefix_items.size();
            for (const element item : arr) {
                const auto ui = static_cast<std::size_t>(i);
                std::int32_t child = -1;
                const path_frame* kw_frame = nullptr;
                path_frame e1{ep, "prefixItems", -1};
                path_frame e2{&e1, {}, i};
                path_frame e3{ep, "items", -1};
                if (ui < prefix) {
                    child = n.prefix_items[ui];
                    kw_frame = &e2;
                } else if (n.has & kw_items) {
                    child = n.items;
                    kw_frame = &e3;
                } else {
                    break;
                }
                const path_frame ipi{ip, {}, i};
                if (!eval(child, item, &ipi, kw_frame, sc, report && budget_left(), nullptr,
                          depth + 1)) {
                    if (failed()) {
                        return false;
                    }
                } else if (own != nullptr) {
                    own->evaluated[ui] = 1;
                }
                ++i;
            }
        }
        if (n.has & kw_contains) {
            std::uint64_t matches = 0;
            const bool need_all = own != nullptr || (n.has & kw_max_contains);
            std::size_t i = 0;
            const path_frame e1{ep, "contains", -1};
            for (const element item : arr) {
                const path_frame ipi{ip, {}, static_cast<std::int64_t>(i)};
                if (eval(n.contains, item, &ipi, &e1, sc, false, nullptr, depth + 1)) {
                    ++matches;
                    if (own != nullptr) {
                        own->evaluated[i] = 1;
                    }
                    if (!need_all && matches >= n.min_contains) {
                        break;
                    }
                }
                ++i;
            }
            const std::string schema_text =
                report ? simdjson::minify(n.source["contains"].value_unsafe()) : std::string();
            if (matches < n.min_contains) {
                if (report && budget_left()) {
                    if (n.has & kw_min_contains) {
                        emit(n, "minContains", "contains.min", inst, ip, ep, "",
                             {std::to_string(n.min_contains), schema_text});
                    } else {
                        emit(n, "contains", "contains", inst, ip, ep, "",
                             {std::to_string(n.min_contains), schema_text});
                    }
                }
                if (failed()) {
                    return false;
                }
            }
            if ((n.has & kw_max_contains) && matches > n.max_contains) {
                if (report && budget_left()) {
                    emit(n, "maxContains", "contains.max", inst, ip, ep, "",
                         {std::to_string(n.max_contains), schema_text});
                }
                if (failed()) {
                    return false;
                }
            }
        }
        return ok;
    }

    bool check_object(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                      const scope_frame* sc, bool report, annotations* own, std::uint32_t depth) {
        const auto obj = inst.get_object().value_unsafe();
        bool ok = true;
        auto failed = [&]() {
            ok = false;
            return !report;
        };
        if (n.has & (kw_min_properties | kw_max_properties)) {
            const std::size_t size = obj.size();
            if ((n.has & kw_min_properties) && size < n.min_properties) {
                if (report && budget_left()) {
                    emit(n, "minProperties", "minProperties", inst, ip, ep, "",
                         {std::to_string(n.min_properties)});
                }
                if (failed()) {
                    return false;
                }
            }
            if ((n.has & kw_max_properties) && size > n.max_properties) {
                if (report && budget_left()) {
                    emit(n, "maxProperties", "maxProperties", inst, ip, ep, "",
                         {std::to_string(n.max_properties)});
                }
                if (failed()) {
                    return false;
                }
            }
        }
        if ((n.has & kw_member_pass) || own != nullptr) {
            std::uint64_t seen_required = 0;
            std::size_t index = 0;
            for (const auto member : obj) {
                const std::string_view key = member.key;
                bool evaluated = false;
                const path_frame ipk{ip, key, -1};
                if (!n.props.empty()) {
                    if (const prop_entry* pe = find_prop(n, key); pe != nullptr) {
                        if (pe->required_bit >= 0) {
                            seen_required |= 1ull << pe->required_bit;
                        }
                        if (pe->node >= 0) {
                            evaluated = true;
                            const path_frame e1{ep, "properties", -1};
                            const path_frame e2{&e1, key, -1};
                            if (!eval(pe->node, member.value, &ipk, &e2, sc,
                                      report && budget_left(), nullptr, depth + 1) &&
                                failed()) {
                                return false;
                            }
                        }
                    }
                }
                for (const auto& pp : n.pattern_properties) {
                    if (!RE2::PartialMatch(key, *pp.re)) {
                        continue;
                    }
                    evaluated = true;
                    const path_frame e1{ep, "patternProperties", -1};
                    const path_frame e2{&e1, pp.source, -1};
                    if (!eval(pp.node, member.value, &ipk, &e2, sc, report && budget_left(),
                              nullptr, depth + 1) &&
                        failed()) {
                        return false;
                    }
                }
                if (!evaluated && (n.has & kw_additional_properties)) {
                    evaluated = true;
                    const node& ap = _d.nodes[static_cast<std::size_t>(n.additional_properties)];
                    if (ap.is_bool && !ap.bool_value) {
                        if (report && budget_left()) {
                            emit(n, "additionalProperties", "additionalProperties", inst, ip, ep,
                                 key, {std::string(key)});
                        }
                        if (failed()) {
                            return false;
                        }
                    } else {
                        const path_frame e1{ep, "additionalProperties", -1};
                        if (!eval(n.additional_properties, member.value, &ipk, &e1, sc,
                                  report && budget_left(), nullptr, depth + 1) &&
                            failed()) {
                            return false;
                        }
                    }
                }
                if (n.has & kw_property_names) {
                    if (!check_property_name(n, key, inst, ip, ep, sc, report, depth) && failed()) {
                        return false;
                    }
                }
                if (evaluated && own != nullptr) {
                    own->evaluated[index] = 1;
                }
                ++index;
            }
            if (n.has & kw_required) {
                if (!n.required_overflow) {
                    const std::uint64_t missing = n.required_mask & ~seen_required;
                    if (missing != 0) {
                        if (report) {
                            // Report in the schema's order, as written.
                            for (const auto& name : n.required) {
                                const prop_entry* pe = find_prop(n, name);
                                if (pe != nullptr && pe->required_bit >= 0 &&
                                    (missing & (1ull << pe->required_bit)) && budget_left()) {
                                    emit(n, "required", "required", inst, ip, ep, name, {name});
                                }
                            }
                        }
                        if (failed()) {
                            return false;
                        }
                    }
                } else {
                    for (const auto& name : n.required) {
                        if (!has_key(obj, name)) {
                            if (report && budget_left()) {
                                emit(n, "required", "required", inst, ip, ep, name, {name});
                            }
                            if (failed()) {
                                return false;
                            }
                        }
                    }
                }
            }
        }
        if (n.has & kw_dependent_required) {
            for (const auto& [name, deps] : n.dependent_required) {
                if (!has_key(obj, name)) {
                    continue;
                }
                for (const auto& dep : deps) {
                    if (!has_key(obj, dep)) {
                        if (report && budget_left()) {
                            emit(n, "dependentRequired", "dependentRequired", inst, ip, ep, dep,
                                 {dep, name});
                        }
                        if (failed()) {
                            return false;
                        }
                    }
                }
            }
        }
        return ok;
    }

    // propertyNames applies a schema to each key as a JSON string. Keys are not
    // DOM elements, so each is re-parsed as a one-string document; this costs
    // an allocation per key and only schemas using propertyNames pay it.
    bool check_property_name(const node& n, std::string_view key, element inst,
                             const path_frame* ip, const path_frame* ep, const scope_frame* sc,
                             bool report, std::uint32_t depth) {
        thread_local simdjson::dom::parser parser;
        std::string json;
        json.reserve(key.size() + 8);
        json.push_back('"');
        for (const char c : key) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                json.push_back('\\');
                json.push_back(c);
            } else if (u < 0x20) {
                json += fmt::format("\\u{:04x}", u);
            } else {
                json.push_back(c);
            }
        }
        json.push_back('"');
        element name;
        if (parser.parse(json).get(name) != simdjson::SUCCESS) {
            return false;
        }
        const path_frame e1{ep, "propertyNames", -1};
        if (eval(n.property_names, name, ip, &e1, sc, false, nullptr, depth + 1)) {
            return true;
        }
        if (report && budget_left()) {
            emit(n, "propertyNames", "propertyNames", inst, ip, ep, key,
                 {std::string(key), simdjson::minify(n.source["propertyNames"].value_unsafe())});
        }
        return false;
    }

    bool check_in_place(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                        const scope_frame* sc, bool report, annotations* own, std::uint32_t depth) {
        bool ok = true;
        auto failed = [&]() {
            ok = false;
            return !report;
        };
        auto fresh = [&]() -> std::optional<annotations> {
            if (own == nullptr) {
                return std::nullopt;
            }
            return annotations(own->evaluated.size());
        };
        auto ann_ptr = [](std::optional<annotations>& a) { return a ? &*a : nullptr; };
        if (n.has & kw_ref) {
            const path_frame e1{ep, "$ref", -1};
            if (!eval(n.ref, inst, ip, &e1, sc, report && budget_left(), own, depth + 1) &&
                failed()) {
                return false;
            }
        }
        if (n.has & kw_dynamic_ref) {
            std::int32_t target = n.dynamic_ref;
            if (n.dynamic_ref_is_dynamic) {
                // The outermost resource in the dynamic scope that declares
                // the same $dynamicAnchor wins.
                for (const scope_frame* s = sc; s != nullptr; s = s->parent) {
                    const auto it = _d.dynamic_anchors.find(s->resource);
                    if (it == _d.dynamic_anchors.end()) {
                        continue;
                    }
                    for (const auto& [name, anchor_node] : it->second) {
                        if (name == n.dynamic_anchor_name) {
                            target = anchor_node;
                        }
                    }
                }
            }
            const path_frame e1{ep, "$dynamicRef", -1};
            if (!eval(target, inst, ip, &e1, sc, report && budget_left(), own, depth + 1) &&
                failed()) {
                return false;
            }
        }
        if (n.has & kw_all_of) {
            for (std::size_t i = 0; i < n.all_of.size(); ++i) {
                const path_frame e1{ep, "allOf", -1};
                const path_frame e2{&e1, {}, static_cast<std::int64_t>(i)};
                if (!eval(n.all_of[i], inst, ip, &e2, sc, report && budget_left(), own,
                          depth + 1) &&
                    failed()) {
                    return false;
                }
            }
        }
        if (n.has & kw_any_of) {
            bool any = false;
            for (std::size_t i = 0; i < n.any_of.size(); ++i) {
                const path_frame e1{ep, "anyOf", -1};
                const path_frame e2{&e1, {}, static_cast<std::int64_t>(i)};
                auto branch = fresh();
                if (eval(n.any_of[i], inst, ip, &e2, sc, false, ann_ptr(branch), depth + 1)) {
                    any = true;
                    if (own == nullptr) {
                        break;
                    }
                    own->merge(*branch);
                }
            }
            if (!any) {
                if (report && budget_left()) {
                    emit(n, "anyOf", "anyOf", inst, ip, ep, "",
                         {simdjson::minify(n.source["anyOf"].value_unsafe())});
                }
                if (failed()) {
                    return false;
                }
            }
        }
        if (n.has & kw_one_of) {
            std::size_t count = 0;
            std::optional<annotations> winner;
            for (std::size_t i = 0; i < n.one_of.size() && count < 2; ++i) {
                const path_frame e1{ep, "oneOf", -1};
                const path_frame e2{&e1, {}, static_cast<std::int64_t>(i)};
                auto branch = fresh();
                if (eval(n.one_of[i], inst, ip, &e2, sc, false, ann_ptr(branch), depth + 1)) {
                    ++count;
                    winner = std::move(branch);
                }
            }
            if (count != 1) {
                if (report && budget_left()) {
                    emit(n, "oneOf", "oneOf", inst, ip, ep, "", {std::to_string(count)});
                }
                if (failed()) {
                    return false;
                }
            } else if (own != nullptr && winner) {
                own->merge(*winner);
            }
        }
        if (n.has & kw_not) {
            const path_frame e1{ep, "not", -1};
            if (eval(n.not_schema, inst, ip, &e1, sc, false, nullptr, depth + 1)) {
                if (report && budget_left()) {
                    emit(n, "not", "not", inst, ip, ep, "",
                         {simdjson::minify(n.source["not"].value_unsafe())});
                }
                if (failed()) {
                    return false;
                }
            }
        }
        if (n.has & kw_if) {
            const path_frame e_if{ep, "if", -1};
            auto cond = fresh();
            const bool holds =
                eval(n.if_schema, inst, ip, &e_if, sc, false, ann_ptr(cond), depth + 1);
            if (holds && own != nullptr) {
                own->merge(*cond);
            }
            const std::int32_t branch = holds ? n.then_schema : n.else_schema;
            if (branch >= 0) {
                const path_frame e1{ep, holds ? "then" : "else", -1};
                if (!eval(branch, inst, ip, &e1, sc, report && budget_left(), own, depth + 1) &&
                    failed()) {
                    return false;
                }
            }
        }
        return ok;
    }

    bool check_unevaluated(const node& n, element inst, const path_frame* ip, const path_frame* ep,
                           const scope_frame* sc, bool report, annotations& ann,
                           std::uint32_t depth) {
        bool ok = true;
        std::size_t i = 0;
        if (inst.is_object()) {
            const path_frame e1{ep, "unevaluatedProperties", -1};
            const node& un = _d.nodes[static_cast<std::size_t>(n.unevaluated_properties)];
            const simdjson::dom::object obj = inst.get_object().value_unsafe();
            for (const auto member : obj) {
                if (!ann.evaluated[i]) {
                    const path_frame ipk{ip, member.key, -1};
                    if (un.is_bool && !un.bool_value) {
                        ok = false;
                        if (report && budget_left()) {
                            emit(n, "unevaluatedProperties", "unevaluatedProperties", inst, ip, ep,
                                 member.key, {std::string(member.key)});
                        }
                    } else if (!eval(n.unevaluated_properties, member.value, &ipk, &e1, sc,
                                     report && budget_left(), nullptr, depth + 1)) {
                        ok = false;
                    }
                    if (!ok && !report) {
                        return false;
                    }
                }
                ++i;
            }
            return ok;
        }
        const path_frame e1{ep, "unevaluatedItems", -1};
        const node& un = _d.nodes[static_cast<std::size_t>(n.unevaluated_items)];
        const simdjson::dom::array arr = inst.get_array().value_unsafe();
        for (const element item : arr) {
            if (!ann.evaluated[i]) {
                const path_frame ipi{ip, {}, static_cast<std::int64_t>(i)};
                if (un.is_bool && !un.bool_value) {
                    ok = false;
                    if (report && budget_left()) {
                        emit(n, "unevaluatedItems", "unevaluatedItems", inst, ip, ep, "",
                             {std::to_string(i)});
                    }
                } else if (!eval(n.unevaluated_items, item, &ipi, &e1, sc, report && budget_left(),
                                 nullptr, depth + 1)) {
                    ok = false;
                }
                if (!ok && !report) {
                    return false;
                }
            }
            ++i;
        }
        return ok;
    }

    void emit_type(const node& n, element inst, const path_frame* ip, const path_frame* ep) {
        std::string expected;
        if (n.type_is_array) {
            expected = "[";
            bool first = true;
            const simdjson::dom::array types = n.source["type"].get_array().value_unsafe();
            for (const element t : types) {
                if (!first) {
                    expected += ", ";
                }
                first = false;
                expected += t.get_string().value_unsafe();
            }
            expected += "]";
        } else {
            expected = std::string(n.source["type"].get_string().value_unsafe());
        }
        emit(n, "type", n.type_is_array ? "unionType" : "type", inst, ip, ep, "",
             {json_type_name(inst), expected});
    }

    void emit_false(const node& n, element inst, const path_frame* ip, const path_frame* ep) {
        // A false schema reached through properties/items/...: the keyword
        // is the segment that led here ("false" at the root).
        (void)inst;
        validation_error e;
        e.keyword = "false";
        e.message_key = "false";
        e.instance_location = to_pointer(ip);
        e.instance_location_legacy = to_legacy(ip);
        e.evaluation_path = to_pointer(ep);
        e.evaluation_path_legacy = to_legacy(ep);
        e.schema_location = n.location;
        e.arguments.push_back(ep != nullptr ? std::string(ep->index >= 0 ? std::to_string(ep->index)
                                                                         : std::string(ep->key))
                                            : std::string());
        e.message = format_message(e.message_key, e.instance_location_legacy, e.arguments);
        _errors->push_back(std::move(e));
    }

    void emit(const node& n, std::string_view keyword, std::string_view message_key, element inst,
              const path_frame* ip, const path_frame* ep, std::string_view property,
              std::vector<std::string> arguments) {
        (void)inst;
        validation_error e;
        e.keyword = std::string(keyword);
        e.message_key = std::string(message_key);
        e.instance_location = to_pointer(ip);
        e.instance_location_legacy = to_legacy(ip);
        const path_frame kw{ep, keyword, -1};
        e.evaluation_path = to_pointer(&kw);
        e.evaluation_path_legacy = to_legacy(&kw);
        e.schema_location = n.location + "/";
        append_pointer_segment(e.schema_location, keyword);
        e.property = std::string(property);
        e.arguments = std::move(arguments);
        e.message = format_message(e.message_key, e.instance_location_legacy, e.arguments);
        _errors->push_back(std::move(e));
    }

    const compiled_data& _d;
    std::vector<validation_error>* _errors;
    std::size_t _error_base;
};

}  // namespace

bool json_equal(element a, element b) {
    const element_type ta = a.type();
    const element_type tb = b.type();
    const auto is_num = [](element_type t) {
        return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
    };
    if (is_num(ta) && is_num(tb)) {
        return compare(to_number(a), to_number(b)) == 0;
    }
    if (ta != tb) {
        return false;
    }
    switch (ta) {
        case element_type::STRING:
            return a.get_string().value_unsafe() == b.get_string().value_unsafe();
        case element_type::BOOL:
            return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
        case element_type::NULL_VALUE:
            return true;
        case element_type::ARRAY: {
            const auto aa = a.get_array().value_unsafe();
            const auto ba = b.get_array().value_unsafe();
            if (aa.size() != ba.size()) {
                return false;
            }
            auto bi = ba.begin();
            for (const element x : aa) {
                if (!json_equal(x, *bi)) {
                    return false;
                }
                ++bi;
            }
            return true;
        }
        case element_type::OBJECT: {
            const auto ao = a.get_object().value_unsafe();
            const auto bo = b.get_object().value_unsafe();
            if (ao.size() != bo.size()) {
                return false;
            }
            for (const auto member : ao) {
                element other;
                if (bo.at_key(member.key).get(other) != simdjson::SUCCESS ||
                    !json_equal(member.value, other)) {
                    return false;
                }
            }
            return true;
        }
        default:
            return false;
    }
}

}  // namespace detail

bool compiled_schema::validate(simdjson::dom::element instance,
                               std::vector<validation_error>* errors) const {
    // Most events are valid: the verdict-only check decides them without the full evaluator's
    // bookkeeping (fast_check.cc). Its verdict is exact, so only an invalid event whose errors
    // are wanted is evaluated again, to report them.
    if (_data->fast_root) {
        const bool valid = detail::fast_valid(*_data, _data->nodes.front(), instance);
        if (valid || errors == nullptr) {
            return valid;
        }
    }
    detail::evaluator ev(*_data, errors);
    return ev.run(0, instance);
}

}  // namespace obsrv::schema
