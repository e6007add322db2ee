#include "app/roles.h"

#include <algorithm>
#include <array>

namespace obsrv::app {
namespace {

constexpr std::array k_all_roles = {role::gateway, role::pipeline, role::archive, role::exporter};

std::vector<role> built_roles() {
    std::vector<role> out;
    std::copy_if(k_all_roles.begin(), k_all_roles.end(), std::back_inserter(out), is_built);
    return out;
}

}  // namespace

std::string_view to_string(role r) {
    switch (r) {
        case role::gateway:
            return "gateway";
        case role::pipeline:
            return "pipeline";
        case role::archive:
            return "archive";
        case role::exporter:
            return "exporter";
    }
    return "unknown";
}

bool is_built(role r) {
    // Roles land one by one; until then a request for one is refused clearly
    // rather than started as an empty shell.
    switch (r) {
        case role::gateway:
        case role::pipeline:
            return true;
        case role::archive:
        case role::exporter:
            return false;
    }
    return false;
}

std::string describe(const std::vector<role>& roles) {
    if (roles.empty()) {
        return "none";
    }
    std::string out;
    for (auto r : roles) {
        out += (out.empty() ? "" : ", ") + std::string(to_string(r));
    }
    return out;
}

result<std::vector<role>> parse_roles(std::string_view list) {
    std::vector<role> roles;
    if (list == "all") {
        return built_roles();
    }
    while (!list.empty()) {
        auto comma = list.find(',');
        auto name = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (name.empty()) {
            continue;
        }
        auto it = std::find_if(k_all_roles.begin(), k_all_roles.end(),
                               [&](role r) { return to_string(r) == name; });
        if (it == k_all_roles.end()) {
            return make_error(
                "--roles: unknown role '{}' (roles: gateway, pipeline, archive, exporter, all)",
                name);
        }
        if (std::find(roles.begin(), roles.end(), *it) == roles.end()) {
            roles.push_back(*it);
        }
    }
    if (roles.empty()) {
        return make_error("--roles: expected a comma-separated list of roles or 'all'");
    }
    // Typos first, then what this build lacks.
    for (auto r : roles) {
        if (!is_built(r)) {
            return make_error("--roles: role '{}' is not built in this version (built roles: {})",
                              to_string(r), describe(built_roles()));
        }
    }
    return roles;
}

}  // namespace obsrv::app
