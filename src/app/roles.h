#pragma once

// The roles obsrvd can run in one process (DESIGN.md "Processes and roles").

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace obsrv::app {

enum class role { gateway, pipeline, archive, exporter };

std::string_view to_string(role r);

/// Whether this build implements the role.
bool is_built(role r);

/// Parses "gateway,pipeline" or "all" (every built role). An unknown role or
/// one this build does not implement is refused with a message saying so.
result<std::vector<role>> parse_roles(std::string_view list);

/// "gateway, pipeline" or "none".
std::string describe(const std::vector<role>& roles);

}  // namespace obsrv::app
