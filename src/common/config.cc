#include "common/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/assert.h"
#include "common/config_schema.h"

namespace obsrv::config {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    while (true) {
        auto pos = text.find(separator);
        auto item = trim(text.substr(0, pos));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (pos == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(pos + 1);
    }
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string suggestion(std::string_view name) {
    const key_spec* best = nullptr;
    size_t best_distance = 4;  // farther than this is noise, not a typo
    for (const auto& spec : all_keys()) {
        size_t d = edit_distance(name, spec.name);
        if (d < best_distance) {
            best_distance = d;
            best = &spec;
        }
    }
    return best ? fmt::format(" (did you mean '{}'?)", best->name) : std::string();
}

std::string describe_expected(const key_spec& spec) {
    switch (spec.kind()) {
        case value_kind::integer:
            return fmt::format("an integer between {} and {}", spec.min, spec.max);
        case value_kind::boolean:
            return "true or false";
        case value_kind::string:
            return "a string";
        case value_kind::choice:
            return fmt::format("one of {}", spec.choices);
        case value_kind::string_list:
            return "a list of strings";
        case value_kind::string_map:
            return fmt::format("a mapping of librdkafka properties ({}.<property>)", spec.name);
    }
    return "a value";
}

error bad_value(const key_spec& spec, std::string_view origin, std::string_view got) {
    return make_error("config: {}: key '{}': expected {}, got '{}'", origin, spec.name,
                      describe_expected(spec), got);
}

std::string node_kind(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Null:
            return "nothing";
        default:
            return node.Scalar();
    }
}

/// Like bad_value, for a YAML node: scalars are quoted, other kinds named.
error bad_node(const key_spec& spec, std::string_view origin, const YAML::Node& node) {
    if (node.IsScalar()) {
        return bad_value(spec, origin, node.Scalar());
    }
    return make_error("config: {}: key '{}': expected {}, got {}", origin, spec.name,
                      describe_expected(spec), node_kind(node));
}

/// Parses the textual form of a scalar, list or map value into the settings.
status assign(settings& s, const key_spec& spec, std::string_view text, std::string_view origin) {
    switch (spec.kind()) {
        case value_kind::integer: {
            auto t = trim(text);
            int64_t value = 0;
            auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
            if (t.empty() || ec != std::errc() || end != t.data() + t.size() || value < spec.min ||
                value > spec.max) {
                return bad_value(spec, origin, text);
            }
            std::get<int_field>(spec.field)(s) = value;
            return {};
        }
        case value_kind::boolean: {
            auto t = lower(trim(text));
            bool& target = std::get<bool_field>(spec.field)(s);
            if (t == "true" || t == "yes" || t == "on") {
                target = true;
            } else if (t == "false" || t == "no" || t == "off") {
                target = false;
            } else {
                return bad_value(spec, origin, text);
            }
            return {};
        }
        case value_kind::string:
            std::get<string_field>(spec.field)(s) = std::string(trim(text));
            return {};
        case value_kind::choice: {
            auto t = std::string(trim(text));
            auto choices = split(spec.choices, '|');
            if (std::find(choices.begin(), choices.end(), t) == choices.end()) {
                return bad_value(spec, origin, text);
            }
            std::get<string_field>(spec.field)(s) = t;
            return {};
        }
        case value_kind::string_list:
            // Defaults use one entry per line, overrides use commas.
            std::get<list_field>(spec.field)(s) =
                split(text, text.find('\n') != std::string_view::npos ? '\n' : ',');
            return {};
        case value_kind::string_map: {
            auto& map = std::get<map_field>(spec.field)(s);
            map.clear();
            for (const auto& line : split(text, '\n')) {
                auto eq = line.find('=');
                if (eq == std::string::npos) {
                    return bad_value(spec, origin, line);
                }
                map[std::string(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
            }
            return {};
        }
    }
    return {};
}

/// The map key whose entries `name` addresses (kafka.producer.linger.ms), or null.
const key_spec* map_owner(std::string_view name, std::string_view* property) {
    for (const auto& spec : all_keys()) {
        if (spec.kind() == value_kind::string_map && name.size() > spec.name.size() + 1 &&
            name.starts_with(spec.name) && name[spec.name.size()] == '.') {
            *property = name.substr(spec.name.size() + 1);
            return &spec;
        }
    }
    return nullptr;
}

std::string yaml_origin(std::string_view file, const YAML::Node& node) {
    if (node.Mark().is_null()) {
        return std::string(file);
    }
    return fmt::format("{}:{}", file, node.Mark().line + 1);
}

status apply_map_entries(settings& s, const key_spec& spec, const YAML::Node& node,
                         const std::string& prefix, std::string_view file) {
    auto& map = std::get<map_field>(spec.field)(s);
    for (const auto& entry : node) {
        std::string property = prefix + entry.first.Scalar();
        const YAML::Node& value = entry.second;
        if (value.IsMap()) {
            // Nested form: linger: {ms: 10} is linger.ms: 10.
            if (auto st = apply_map_entries(s, spec, value, property + ".", file); !st) {
                return st;
            }
        } else if (value.IsNull()) {
            map.erase(property);  // back to librdkafka's own default
        } else if (value.IsScalar()) {
            map[property] = value.Scalar();
        } else {
            return make_error("config: {}: key '{}.{}': expected a scalar value, got a list",
                              yaml_origin(file, value), spec.name, property);
        }
    }
    return {};
}

status apply_node(settings& s, const std::string& name, const YAML::Node& node,
                  std::string_view file) {
    if (const key_spec* spec = find_key(name)) {
        auto origin = yaml_origin(file, node);
        switch (spec->kind()) {
            case value_kind::string_map:
                if (node.IsNull()) {
                    return {};
                }
                if (!node.IsMap()) {
                    return bad_node(*spec, origin, node);
                }
                return apply_map_entries(s, *spec, node, "", file);
            case value_kind::string_list: {
                auto& list = std::get<list_field>(spec->field)(s);
                list.clear();
                if (node.IsNull()) {
                    return {};
                }
                if (node.IsScalar()) {
                    return assign(s, *spec, node.Scalar(), origin);
                }
                if (!node.IsSequence()) {
                    return bad_node(*spec, origin, node);
                }
                for (const auto& item : node) {
                    if (!item.IsScalar() || trim(item.Scalar()).empty()) {
                        return bad_node(*spec, yaml_origin(file, item), item);
                    }
                    list.emplace_back(trim(item.Scalar()));
                }
                return {};
            }
            default:
                if (!node.IsScalar()) {
                    return bad_node(*spec, origin, node);
                }
                return assign(s, *spec, node.Scalar(), origin);
        }
    }
    std::string_view property;
    if (const key_spec* owner = map_owner(name, &property)) {
        if (!node.IsScalar()) {
            return bad_node(*owner, yaml_origin(file, node), node);
        }
        std::get<map_field>(owner->field)(s)[std::string(property)] = node.Scalar();
        return {};
    }
    if (is_section(name)) {
        if (node.IsNull()) {
            return {};
        }
        if (!node.IsMap()) {
            return make_error(
                "config: {}: key '{}' is a section: expected a mapping of its keys, "
                "got {}",
                yaml_origin(file, node), name, node_kind(node));
        }
        for (const auto& entry : node) {
            if (!entry.first.IsScalar()) {
                return make_error("config: {}: keys must be strings",
                                  yaml_origin(file, entry.first));
            }
            if (auto st = apply_node(s, name + "." + entry.first.Scalar(), entry.second, file);
                !st) {
                return st;
            }
        }
        return {};
    }
    return make_error("config: {}: unknown key '{}'{}", yaml_origin(file, node), name,
                      suggestion(name));
}

bool valid_topic_name(std::string_view name) {
    if (name.empty() || name.size() > 249 || name == "." || name == "..") {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

// Values rendered back to text, in YAML syntax.
std::string yaml_scalar(std::string_view text) {
    static constexpr std::string_view k_plain =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-:";
    auto l = lower(text);
    bool reserved = l == "true" || l == "false" || l == "yes" || l == "no" || l == "on" ||
                    l == "off" || l == "null" || l == "~";
    if (!text.empty() && !reserved && text.find_first_not_of(k_plain) == std::string_view::npos &&
        text.front() != '-' && text.front() != ':') {
        return std::string(text);
    }
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string wrap_comment(std::string_view text, const std::string& indent) {
    std::string out;
    std::string line;
    std::istringstream words{std::string(text)};
    std::string word;
    while (words >> word) {
        if (!line.empty() && indent.size() + 2 + line.size() + 1 + word.size() > 96) {
            out += indent + "# " + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) {
        out += indent + "# " + line + "\n";
    }
    return out;
}

std::string type_note(const key_spec& spec) {
    switch (spec.kind()) {
        case value_kind::integer:
            return fmt::format("integer, {}..{}", spec.min, spec.max);
        case value_kind::boolean:
            return "boolean";
        case value_kind::string:
            return "string";
        case value_kind::choice:
            return spec.choices.find('|') == std::string_view::npos
                       ? std::string(spec.choices)
                       : fmt::format("one of {}", spec.choices);
        case value_kind::string_list:
            return "list of strings";
        case value_kind::string_map:
            return "map of librdkafka properties";
    }
    return {};
}

constexpr std::string_view k_redacted = "(redacted)";

std::string render(const settings& values, bool with_comments) {
    std::string out;
    if (with_comments) {
        out +=
            "# obsrvd configuration. Every key with its default; generated from the key table\n"
            "# (src/common/config_schema.cc) by `obsrvd --print-default-config`.\n"
            "# Override any key with `obsrvd --set key=value` (dotted keys, repeatable).\n";
    }
    std::vector<std::string> open;                         // currently open sections
    auto& mutable_values = const_cast<settings&>(values);  // field refs take non-const
    for (const auto& spec : all_keys()) {
        auto parts = split(spec.name, '.');
        std::vector<std::string> sections(parts.begin(), parts.end() - 1);
        size_t common = 0;
        while (common < open.size() && common < sections.size() &&
               open[common] == sections[common]) {
            ++common;
        }
        if (with_comments && common == 0) {
            out += "\n";  // a blank line between top-level sections
        }
        open.resize(common);
        for (size_t i = common; i < sections.size(); ++i) {
            out += std::string(2 * i, ' ') + sections[i] + ":\n";
            open.push_back(sections[i]);
        }
        std::string indent(2 * sections.size(), ' ');
        if (with_comments) {
            out += wrap_comment(fmt::format("{} ({})", spec.description, type_note(spec)), indent);
        }
        out += indent + parts.back() + ":";
        switch (spec.kind()) {
            case value_kind::integer:
                out += fmt::format(" {}\n", std::get<int_field>(spec.field)(mutable_values));
                break;
            case value_kind::boolean:
                out += std::get<bool_field>(spec.field)(mutable_values) ? " true\n" : " false\n";
                break;
            case value_kind::string:
            case value_kind::choice: {
                const auto& text = std::get<string_field>(spec.field)(mutable_values);
                // Effective settings end up in terminals and tickets; defaults have no secrets.
                bool hide = spec.secret && !with_comments && !text.empty();
                out += " " + yaml_scalar(hide ? std::string(k_redacted) : text) + "\n";
                break;
            }
            case value_kind::string_list: {
                const auto& list = std::get<list_field>(spec.field)(mutable_values);
                out += list.empty() ? " []\n" : "\n";
                for (const auto& item : list) {
                    out += indent + "  - " + yaml_scalar(item) + "\n";
                }
                break;
            }
            case value_kind::string_map: {
                const auto& map = std::get<map_field>(spec.field)(mutable_values);
                out += map.empty() ? " {}\n" : "\n";
                for (const auto& [k, v] : map) {
                    out += indent + "  " + yaml_scalar(k) + ": " + yaml_scalar(v) + "\n";
                }
                break;
            }
        }
    }
    return out;
}

}  // namespace

settings defaults() {
    settings s;
    for (const auto& spec : all_keys()) {
        auto st = assign(s, spec, spec.default_text, "default");
        OBSRV_RELEASE_ASSERT(st.has_value(), "{}", st.error().message);
    }
    return s;
}

status apply_yaml(settings& s, const YAML::Node& root, std::string_view origin) {
    if (!root.IsDefined() || root.IsNull()) {
        return {};
    }
    if (!root.IsMap()) {
        return make_error("config: {}: expected a mapping of sections at the top level", origin);
    }
    for (const auto& entry : root) {
        if (auto st = apply_node(s, entry.first.Scalar(), entry.second, origin); !st) {
            return st;
        }
    }
    return {};
}

status apply_override(settings& s, std::string_view assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string_view::npos || trim(assignment.substr(0, eq)).empty()) {
        return make_error("config: --set '{}': expected key=value", assignment);
    }
    auto name = trim(assignment.substr(0, eq));
    auto text = assignment.substr(eq + 1);
    std::string origin = fmt::format("--set {}", name);
    if (const key_spec* spec = find_key(name)) {
        if (spec->kind() == value_kind::string_map) {
            return make_error(
                "config: {}: key '{}' is a map: set its entries as {}.<property>=value", origin,
                name, name);
        }
        return assign(s, *spec, text, origin);
    }
    std::string_view property;
    if (const key_spec* owner = map_owner(name, &property)) {
        auto& map = std::get<map_field>(owner->field)(s);
        if (trim(text).empty()) {
            map.erase(std::string(property));
        } else {
            map[std::string(property)] = std::string(trim(text));
        }
        return {};
    }
    if (is_section(name)) {
        return make_error("config: {}: key '{}' is a section, not a value", origin, name);
    }
    return make_error("config: {}: unknown key '{}'{}", origin, name, suggestion(name));
}

status check(const settings& s) {
    if (s.admin.port != 0 && s.admin.port == s.gateway.port) {
        return make_error("config: key 'admin.port': must differ from gateway.port ({})",
                          s.gateway.port);
    }
    if (s.gateway.buffer_count & (s.gateway.buffer_count - 1)) {
        return make_error("config: key 'gateway.buffer_count': expected a power of two, got {}",
                          s.gateway.buffer_count);
    }
    if (auto it = s.kafka.producer.find("message.max.bytes"); it != s.kafka.producer.end()) {
        // The envelope Obsrv wraps around a body is a few hundred bytes.
        constexpr int64_t k_envelope_room = 4096;
        int64_t limit = std::atoll(it->second.c_str());
        if (limit > 0 && s.gateway.max_body_bytes + k_envelope_room > limit) {
            return make_error(
                "config: key 'gateway.max_body_bytes': {} leaves no room for the envelope under "
                "kafka.producer.message.max.bytes ({}); lower it to {} or raise the producer "
                "limit",
                s.gateway.max_body_bytes, limit, limit - k_envelope_room);
        }
    }
    if (s.kafka.use_embedded() && s.kafka.embedded.bootstrap_file.empty()) {
        return make_error(
            "config: key 'kafka.embedded.bootstrap_file': expected a file path when "
            "kafka.brokers is embedded");
    }
    for (const auto& name : s.kafka.topics.names) {
        if (!valid_topic_name(name)) {
            return make_error(
                "config: key 'kafka.topics.names': '{}' is not a valid Kafka topic name "
                "(1-249 characters of a-z A-Z 0-9 . _ -)",
                name);
        }
    }
    if (s.datasets.source == "postgres") {
        for (const auto& [key, value] :
             {std::pair{"datasets.postgres.host", &s.datasets.postgres.host},
              std::pair{"datasets.postgres.dbname", &s.datasets.postgres.dbname},
              std::pair{"datasets.postgres.user", &s.datasets.postgres.user}}) {
            if (value->empty()) {
                return make_error(
                    "config: key '{}': must not be empty when datasets.source is "
                    "postgres",
                    key);
            }
        }
    }
    // Postgres truncates identifiers beyond 63 bytes: LISTEN and NOTIFY would disagree.
    if (s.datasets.postgres.notify_channel.size() > 63) {
        return make_error(
            "config: key 'datasets.postgres.notify_channel': at most 63 bytes, got "
            "{}",
            s.datasets.postgres.notify_channel.size());
    }
    // Connection and identity come from dedicated keys so that every client of
    // every role agrees on them.
    static constexpr std::pair<std::string_view, std::string_view> k_reserved[] = {
        {"bootstrap.servers", "kafka.brokers"},
        {"metadata.broker.list", "kafka.brokers"},
        {"client.id", "kafka.client_id"},
        {"group.id", "the role's own group (not configurable here)"},
    };
    for (const auto& [map_name, map] : {std::pair{"kafka.producer", &s.kafka.producer},
                                        std::pair{"kafka.consumer", &s.kafka.consumer}}) {
        for (const auto& [property, instead] : k_reserved) {
            if (map->contains(std::string(property))) {
                return make_error("config: key '{}.{}': not settable here; use {}", map_name,
                                  property, instead);
            }
        }
    }
    return {};
}

result<settings> load(const std::optional<std::string>& file,
                      std::span<const std::string> overrides) {
    settings s = defaults();
    if (file) {
        std::ifstream in(*file);
        if (!in) {
            return make_error("config: cannot read '{}': {}", *file, std::strerror(errno));
        }
        YAML::Node root;
        try {
            root = YAML::Load(in);
        } catch (const YAML::Exception& e) {
            return make_error("config: {}:{}: invalid YAML: {}", *file, e.mark.line + 1, e.msg);
        }
        if (auto st = apply_yaml(s, root, *file); !st) {
            return st.error();
        }
    }
    for (const auto& assignment : overrides) {
        if (auto st = apply_override(s, assignment); !st) {
            return st.error();
        }
    }
    if (auto st = check(s); !st) {
        return st.error();
    }
    return s;
}

std::string render_default_yaml() {
    return render(defaults(), true);
}

std::string render_yaml(const settings& s) {
    return render(s, false);
}

std::string render_markdown_reference() {
    std::string out =
        "# Configuration reference\n\n"
        "Generated from `src/common/config_schema.cc` by `obsrvd --print-config-doc`; a test "
        "fails when this file\ndrifts from the code. Every key can be set in the YAML file "
        "(`--config`) or with\n`--set key=value` (dotted keys, repeatable, applied after the "
        "file). Lists take comma-separated\nvalues on the command line. An unknown key, a wrong "
        "type or an out-of-range value stops start-up\nwith one line naming the key.\n\n"
        "| key | type | default | description |\n|---|---|---|---|\n";
    for (const auto& spec : all_keys()) {
        std::string def;
        if (spec.kind() == value_kind::string_list || spec.kind() == value_kind::string_map) {
            for (const auto& item : split(spec.default_text, '\n')) {
                def += (def.empty() ? "" : "<br>") + fmt::format("`{}`", item);
            }
        } else {
            def = spec.default_text.empty() ? "(empty)" : fmt::format("`{}`", spec.default_text);
        }
        auto escape_pipes = [](std::string_view text) {
            std::string escaped;
            for (char c : text) {
                escaped += c == '|' ? std::string("\\|") : std::string(1, c);
            }
            return escaped;
        };
        out += fmt::format("| `{}` | {} | {} | {} |\n", spec.name, escape_pipes(type_note(spec)),
                           def, escape_pipes(spec.description));
    }
    return out;
}

}  // namespace obsrv::config
