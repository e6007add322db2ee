#pragma once

// Loading and validating the configuration: built-in defaults (config_schema),
// then a YAML file, then `--set key=value` overrides, each step checked against
// the key table. Any problem is one line naming the key and what was expected.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/settings.h"

namespace YAML {
class Node;
}

namespace obsrv::config {

/// Settings holding every key's default.
settings defaults();

/// defaults() + the YAML file (when given) + overrides ("key=value", applied
/// in order), then cross-key checks.
result<settings> load(const std::optional<std::string>& file,
                      std::span<const std::string> overrides);

/// Applies a parsed YAML document; `origin` names the file in messages.
status apply_yaml(settings& s, const YAML::Node& root, std::string_view origin);

/// Applies one "key=value" override (dotted key; lists comma-separated;
/// kafka.producer.<property> and kafka.consumer.<property> pass through).
status apply_override(settings& s, std::string_view assignment);

/// Checks that involve several keys (e.g. admin and gateway on one port).
status check(const settings& s);

/// The commented YAML file with every default (config/obsrvd.yaml).
std::string render_default_yaml();

/// The Markdown reference of every key (docs/CONFIGURATION.md).
std::string render_markdown_reference();

/// The effective settings as YAML (obsrvd --check-config); secret values (passwords, keys)
/// read "(redacted)".
std::string render_yaml(const settings& s);

}  // namespace obsrv::config
