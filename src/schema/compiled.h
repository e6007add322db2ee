#pragma once

// Internal representation shared by the compiler (compile.cc), the evaluator
// (validator.cc) and the message formatter (messages.cc). A schema is a flat
// vector of nodes, one per subschema; node fields hold what each keyword
// needs at evaluation time, with indexes instead of pointers so the vector
// can grow while compiling.

#include <cstdint>
#include <memory>
#include <re2/re2.h>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "schema/validator.h"

namespace obsrv::schema::detail {

// JSON Schema type names as bits; "integer" is separate so the type keyword
// can say exactly what it allows.
enum type_bit : std::uint8_t {
    t_null = 1,
    t_boolean = 2,
    t_object = 4,
    t_array = 8,
    t_number = 16,
    t_string = 32,
    t_integer = 64,
};

// One bit per keyword that does work at evaluation time, so that a node
// skips whole groups (all object keywords for a string, say) with one test.
enum kw : std::uint64_t {
    kw_type = 1ull << 0,
    kw_enum = 1ull << 1,
    kw_const = 1ull << 2,
    kw_multiple_of = 1ull << 3,
    kw_maximum = 1ull << 4,
    kw_exclusive_maximum = 1ull << 5,
    kw_minimum = 1ull << 6,
    kw_exclusive_minimum = 1ull << 7,
    kw_max_length = 1ull << 8,
    kw_min_length = 1ull << 9,
    kw_pattern = 1ull << 10,
    kw_max_items = 1ull << 11,
    kw_min_items = 1ull << 12,
    kw_unique_items = 1ull << 13,
    kw_max_contains = 1ull << 14,
    kw_min_contains = 1ull << 15,
    kw_max_properties = 1ull << 16,
    kw_min_properties = 1ull << 17,
    kw_required = 1ull << 18,
    kw_dependent_required = 1ull << 19,
    kw_properties = 1ull << 20,
    kw_pattern_properties = 1ull << 21,
    kw_additional_properties = 1ull << 22,
    kw_property_names = 1ull << 23,
    kw_prefix_items = 1ull << 24,
    kw_items = 1ull << 25,
    kw_contains = 1ull << 26,
    kw_all_of = 1ull << 27,
    kw_any_of = 1ull << 28,
    kw_one_of = 1ull << 29,
    kw_not = 1ull << 30,
    kw_if = 1ull << 31,
    kw_then = 1ull << 32,
    kw_else = 1ull << 33,
    kw_dependent_schemas = 1ull << 34,
    kw_unevaluated_items = 1ull << 35,
    kw_unevaluated_properties = 1ull << 36,
    kw_ref = 1ull << 37,
    kw_dynamic_ref = 1ull << 38,
};

constexpr std::uint64_t kw_number_group =
    kw_multiple_of | kw_maximum | kw_exclusive_maximum | kw_minimum | kw_exclusive_minimum;
constexpr std::uint64_t kw_string_group = kw_max_length | kw_min_length | kw_pattern;
constexpr std::uint64_t kw_array_group = kw_max_items | kw_min_items | kw_unique_items |
                                         kw_prefix_items | kw_items | kw_contains |
                                         kw_unevaluated_items;
constexpr std::uint64_t kw_object_group =
    kw_max_properties | kw_min_properties | kw_required | kw_dependent_required | kw_properties |
    kw_pattern_properties | kw_additional_properties | kw_property_names | kw_dependent_schemas |
    kw_unevaluated_properties;
// Object keywords that need the single pass over the members.
constexpr std::uint64_t kw_member_pass = kw_required | kw_properties | kw_pattern_properties |
                                         kw_additional_properties | kw_property_names;
constexpr std::uint64_t kw_in_place =
    kw_all_of | kw_any_of | kw_one_of | kw_not | kw_if | kw_ref | kw_dynamic_ref;

// A numeric limit kept in the representation it was written in, so integer
// limits compare exactly against integer instances.
struct number {
    enum class kind : std::uint8_t { i64, u64, f64 };
    kind k = kind::i64;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
};

// What a subschema asks of a value, as the verdict-only check (fast_check.cc) reads it from
// the parent's tables: most properties of event schemas are {"type": ...} alone, and deciding
// those in place saves a call and a look at the child node per member.
enum class child_check : std::uint8_t {
    any,    // true, or a schema without assertions
    none,   // false
    types,  // "type" alone: child_types
    node,   // anything else: evaluate the node
};

// A name under "properties" and/or "required" of one object schema.
struct prop_entry {
    std::string name;
    std::int32_t node = -1;                // schema under "properties", or -1
    std::int32_t required_bit = -1;        // bit in the required mask, or -1
    child_check check = child_check::any;  // of `node` (set by mark_fast_path)
    std::uint8_t child_types = 0;
};

struct pattern_entry {
    std::string source;
    std::unique_ptr<RE2> re;
    std::int32_t node = -1;
};

struct node {
    std::uint64_t has = 0;  // kw bits
    bool is_bool = false;
    bool bool_value = true;
    bool type_is_array = false;
    bool unique_items = false;
    bool enum_all_strings = false;
    bool required_overflow = false;  // more than 64 required names: looked up one by one
    bool dynamic_ref_is_dynamic = false;
    std::uint8_t types = 0;
    std::int32_t resource = 0;  // node index of the enclosing schema resource
    std::int32_t ref = -1;
    std::int32_t dynamic_ref = -1;
    std::int32_t items = -1;
    std::int32_t contains = -1;
    std::int32_t unevaluated_items = -1;
    std::int32_t additional_properties = -1;
    std::int32_t property_names = -1;
    std::int32_t unevaluated_properties = -1;
    std::int32_t not_schema = -1;
    std::int32_t if_schema = -1;
    std::int32_t then_schema = -1;
    std::int32_t else_schema = -1;
    number minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;
    std::uint64_t min_length = 0, max_length = 0;
    std::uint64_t min_items = 0, max_items = 0;
    std::uint64_t min_contains = 1, max_contains = 0;
    std::uint64_t min_properties = 0, max_properties = 0;
    std::uint64_t required_mask = 0;
    std::unique_ptr<RE2> pattern;
    std::string pattern_source;
    std::string dynamic_anchor_name;  // of the $dynamicRef fragment
    std::vector<simdjson::dom::element> enum_values;
    std::vector<std::string_view> enum_strings;  // when every enum value is a string
    simdjson::dom::element const_value;
    std::vector<prop_entry> props;  // sorted by name
    // Open-addressing index over props (power-of-two size, -1 = empty): one
    // hash and usually one compare per instance member.
    std::vector<std::int32_t> prop_table;
    std::vector<std::string> required;
    std::vector<pattern_entry> pattern_properties;
    std::vector<std::int32_t> prefix_items;
    std::vector<std::int32_t> all_of, any_of, one_of;
    std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
    std::vector<std::pair<std::string, std::int32_t>> dependent_schemas;
    simdjson::dom::element source;  // the schema JSON, for messages
    std::string location;           // absolute location: "<base uri>#<pointer>"
};

struct compiled_data {
    std::vector<std::unique_ptr<simdjson::dom::document>> docs;
    std::vector<node> nodes;
    // $dynamicAnchor names per schema resource (key: resource node index).
    std::unordered_map<std::int32_t, std::vector<std::pair<std::string, std::int32_t>>>
        dynamic_anchors;
    std::size_t max_errors = 64;
    std::uint32_t max_depth = 512;
    // The root and every subschema below it use only the keywords fast_check.cc decides
    // (no $ref, applicators or unevaluated*), within max_depth: its verdict is exact.
    bool fast_root = false;
};

/// FNV-1a; property names are short, so this beats a tree or binary search.
inline std::uint32_t hash_name(std::string_view s) {
    std::uint32_t h = 2166136261u;
    for (const char c : s) {
        h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    }
    return h;
}

/// After compilation and $ref resolution: sets prop_entry::check and compiled_data::fast_root.
void mark_fast_path(compiled_data& d);

/// The verdict of node `n` for `inst`, without reporting, for schemas with fast_root. Exactly
/// the full evaluator's verdict (the JSON-Schema-Test-Suite test compares the two).
bool fast_valid(const compiled_data& d, const node& n, simdjson::dom::element inst);

/// Message text in networknt's wording for `message_key`, with {0} the
/// instance path and {1}, {2}... the arguments.
std::string format_message(std::string_view message_key, std::string_view instance_path,
                           const std::vector<std::string>& arguments);

/// Deep JSON equality as JSON Schema defines it (1 == 1.0, key order ignored).
bool json_equal(simdjson::dom::element a, simdjson::dom::element b);

}  // namespace obsrv::schema::detail
