// The verdict-only evaluation of schemas made of the common keywords (type, enum, const, the
// number, string and array limits, items/prefixItems, properties, patternProperties,
// additionalProperties, required, min/maxProperties) — what dataset schemas are made of.
//
// Why a second evaluator: the full one (validator.cc) carries, for every value, what it needs
// to report errors and to follow $ref/$dynamicRef, applicators and unevaluated* annotations
// (path and scope frames, the report budget, optional annotation records). On the telemetry
// schema, a valid ~400 B event cost ~0.8 µs there, most of it that bookkeeping; here a valid
// event needs one look-up per member and a type test per scalar. validate() asks this check
// first; an invalid verdict with errors wanted goes through the full evaluator, which reports
// why (the two must agree: tests/schema/suite_test compares them on every suite case).

#include <algorithm>
#include <vector>

#include "schema/checks.h"

namespace obsrv::schema::detail {

namespace {

// Keywords decided here. Anything else ($ref, allOf/anyOf/oneOf/not/if, contains,
// dependent*, propertyNames, unevaluated*) leaves the schema to the full evaluator.
constexpr std::uint64_t k_fast_keywords =
    kw_type | kw_enum | kw_const | kw_number_group | kw_string_group | kw_min_items | kw_max_items |
    kw_unique_items | kw_items | kw_prefix_items | kw_min_properties | kw_max_properties |
    kw_required | kw_properties | kw_pattern_properties | kw_additional_properties;

child_check check_of(const node& c) {
    if (c.is_bool) {
        return c.bool_value ? child_check::any : child_check::none;
    }
    if (c.has == 0) {
        return child_check::any;
    }
    return c.has == kw_type ? child_check::types : child_check::node;
}

bool number_ok(const node& n, element inst) {
    const number x = to_number(inst);
    return !((n.has & kw_minimum) && compare(x, n.minimum) < 0) &&
           !((n.has & kw_maximum) && compare(x, n.maximum) > 0) &&
           !((n.has & kw_exclusive_minimum) && compare(x, n.exclusive_minimum) <= 0) &&
           !((n.has & kw_exclusive_maximum) && compare(x, n.exclusive_maximum) >= 0) &&
           !((n.has & kw_multiple_of) && !is_multiple_of(x, n.multiple_of));
}

bool string_ok(const node& n, element inst) {
    const std::string_view s = inst.get_string().value_unsafe();
    if (n.has & (kw_min_length | kw_max_length)) {
        const std::size_t len = code_points(s);
        if (((n.has & kw_min_length) && len < n.min_length) ||
            ((n.has & kw_max_length) && len > n.max_length)) {
            return false;
        }
    }
    return !(n.has & kw_pattern) || RE2::PartialMatch(s, *n.pattern);
}

bool child_ok(const compiled_data& d, std::int32_t child, element value) {
    return fast_valid(d, d.nodes[static_cast<std::size_t>(child)], value);
}

// A property's schema, decided from the parent's table when it is trivial.
bool prop_ok(const compiled_data& d, const prop_entry& pe, element value) {
    switch (pe.check) {
        case child_check::any:
            return true;
        case child_check::none:
            return false;
        case child_check::types:
            return type_matches(pe.child_types, value);
        case child_check::node:
            break;
    }
    return child_ok(d, pe.node, value);
}

bool array_ok(const compiled_data& d, const node& n, element inst) {
    const auto arr = inst.get_array().value_unsafe();
    const std::size_t size = arr.size();
    if (((n.has & kw_min_items) && size < n.min_items) ||
        ((n.has & kw_max_items) && size > n.max_items)) {
        return false;
    }
    if (n.has & kw_unique_items) {
        for (auto a = arr.begin(); a != arr.end(); ++a) {
            auto b = a;
            for (++b; b != arr.end(); ++b) {
                if (json_equal(*a, *b)) {
                    return false;
                }
            }
        }
    }
    if (n.has & (kw_prefix_items | kw_items)) {
        std::size_t i = 0;
        for (const element item : arr) {
            std::int32_t child = -1;
            if (i < n.prefix_items.size()) {
                child = n.prefix_items[i];
            } else if (n.has & kw_items) {
                child = n.items;
            } else {
                break;
            }
            if (!child_ok(d, child, item)) {
                return false;
            }
            ++i;
        }
    }
    return true;
}

bool object_ok(const compiled_data& d, const node& n, element inst) {
    const auto obj = inst.get_object().value_unsafe();
    if (n.has & (kw_min_properties | kw_max_properties)) {
        const std::size_t size = obj.size();
        if (((n.has & kw_min_properties) && size < n.min_properties) ||
            ((n.has & kw_max_properties) && size > n.max_properties)) {
            return false;
        }
    }
    if (!(n.has & kw_member_pass)) {
        return true;
    }
    std::uint64_t seen_required = 0;
    for (const auto member : obj) {
        const std::string_view key = member.key;
        bool evaluated = false;
        if (!n.props.empty()) {
            if (const prop_entry* pe = find_prop(n, key); pe != nullptr) {
                if (pe->required_bit >= 0) {
                    seen_required |= 1ull << pe->required_bit;
                }
                if (pe->node >= 0) {
                    evaluated = true;
                    if (!prop_ok(d, *pe, member.value)) {
                        return false;
                    }
                }
            }
        }
        for (const auto& pp : n.pattern_properties) {
            if (RE2::PartialMatch(key, *pp.re)) {
                evaluated = true;
                if (!child_ok(d, pp.node, member.value)) {
                    return false;
                }
            }
        }
        if (!evaluated && (n.has & kw_additional_properties) &&
            !child_ok(d, n.additional_properties, member.value)) {
            return false;
        }
    }
    if (n.has & kw_required) {
        if (!n.required_overflow) {
            return (n.required_mask & ~seen_required) == 0;
        }
        return std::all_of(n.required.begin(), n.required.end(),
                           [&](const std::string& name) { return has_key(obj, name); });
    }
    return true;
}

}  // namespace

bool fast_valid(const compiled_data& d, const node& n, element inst) {
    if (n.is_bool) {
        return n.bool_value;
    }
    if ((n.has & kw_type) && !type_matches(n.types, inst)) {
        return false;
    }
    if (n.has & kw_enum) {
        bool found = false;
        if (n.enum_all_strings) {
            std::string_view s;
            found =
                inst.get_string().get(s) == simdjson::SUCCESS &&
                std::find(n.enum_strings.begin(), n.enum_strings.end(), s) != n.enum_strings.end();
        } else {
            found = std::any_of(n.enum_values.begin(), n.enum_values.end(),
                                [&](element v) { return json_equal(v, inst); });
        }
        if (!found) {
            return false;
        }
    }
    if ((n.has & kw_const) && !json_equal(n.const_value, inst)) {
        return false;
    }
    switch (inst.type()) {
        case element_type::INT64:
        case element_type::UINT64:
        case element_type::DOUBLE:
            return !(n.has & kw_number_group) || number_ok(n, inst);
        case element_type::STRING:
            return !(n.has & kw_string_group) || string_ok(n, inst);
        case element_type::ARRAY:
            return !(n.has & kw_array_group) || array_ok(d, n, inst);
        case element_type::OBJECT:
            return !(n.has & kw_object_group) || object_ok(d, n, inst);
        default:
            return true;
    }
}

void mark_fast_path(compiled_data& d) {
    // Subschemas are created after the schema that holds them (compile.cc walks depth first),
    // so walking the nodes backwards sees every child before its parent. A node with $ref is
    // never fast, so what is left is a tree and its height bounds the evaluation depth.
    const std::size_t count = d.nodes.size();
    std::vector<std::uint8_t> fast(count, 0);
    std::vector<std::uint32_t> height(count, 1);
    for (std::size_t i = count; i-- > 0;) {
        node& n = d.nodes[i];
        for (auto& pe : n.props) {
            if (pe.node >= 0) {
                const node& c = d.nodes[static_cast<std::size_t>(pe.node)];
                pe.check = check_of(c);
                pe.child_types = c.types;
            }
        }
        if (n.is_bool) {
            fast[i] = 1;
            continue;
        }
        if ((n.has & ~k_fast_keywords) != 0) {
            continue;
        }
        bool children_fast = true;
        std::uint32_t below = 0;
        const auto visit = [&](std::int32_t child) {
            if (child < 0) {
                return;
            }
            const auto c = static_cast<std::size_t>(child);
            children_fast = children_fast && c > i && fast[c];
            below = std::max(below, c < count ? height[c] : 0);
        };
        for (const auto& pe : n.props) {
            visit(pe.node);
        }
        for (const auto& pp : n.pattern_properties) {
            visit(pp.node);
        }
        if (n.has & kw_additional_properties) {
            visit(n.additional_properties);
        }
        if (n.has & kw_items) {
            visit(n.items);
        }
        for (const std::int32_t c : n.prefix_items) {
            visit(c);
        }
        fast[i] = children_fast ? 1 : 0;
        height[i] = below + 1;
    }
    // The full evaluator gives up below max_depth (the root is at depth 0).
    d.fast_root = count > 0 && fast[0] && height[0] - 1 <= d.max_depth;
}

}  // namespace obsrv::schema::detail
