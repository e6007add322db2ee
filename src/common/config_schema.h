#pragma once

// The table of every configuration key: name, type, default, bounds and
// documentation. It is the single source of truth: defaults are applied from
// it, config/obsrvd.yaml and docs/CONFIGURATION.md are generated from it (and
// tests fail when they drift), and validation messages quote it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/settings.h"

namespace obsrv::config {

using int_field = int64_t& (*)(settings&);
using bool_field = bool& (*)(settings&);
using string_field = std::string& (*)(settings&);
using list_field = std::vector<std::string>& (*)(settings&);
using map_field = client_properties& (*)(settings&);
using field_ref = std::variant<int_field, bool_field, string_field, list_field, map_field>;

enum class value_kind { integer, boolean, string, choice, string_list, string_map };

struct key_spec {
    std::string_view name;  // dotted path, e.g. "gateway.port"
    field_ref field;
    std::string_view default_text;  // textual default; lists and maps: one entry per line
    std::string_view description;
    int64_t min = 0;  // integers only
    int64_t max = 0;
    std::string_view choices = {};  // choice strings only: "plain|json"
    bool secret = false;            // never printed with its value (--check-config)

    value_kind kind() const;
};

/// Every key, grouped by section in the order the generated file shows them.
std::span<const key_spec> all_keys();

/// The key spec by exact name, or nullptr.
const key_spec* find_key(std::string_view name);

/// True when `name` is a section containing keys (e.g. "kafka", "kafka.topics").
bool is_section(std::string_view name);

}  // namespace obsrv::config
