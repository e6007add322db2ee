#pragma once

// obsrvctl's commands, as functions over a resolved context so tests can run
// them in-process. Output goes to the given streams; the return value is the
// process exit status (0 ok, 1 failure).

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/settings.h"

namespace obsrv::app::ctl {

struct cli_options {
    std::optional<std::string> brokers;         // --brokers
    std::optional<std::string> bootstrap_file;  // --bootstrap-file
    std::optional<std::string> admin;           // --admin host:port
    std::chrono::milliseconds timeout{10000};
    bool json = false;
};

/// Where the brokers and obsrvd's admin endpoint are, and what kind of broker.
struct context {
    std::string brokers;
    std::string admin_host;
    uint16_t admin_port = 0;
    bool admin_reachable = false;
    /// The brokers are obsrvd's embedded cluster (no Admin API: topic
    /// creation and the group list go through obsrvd's admin endpoint).
    bool embedded = false;
    std::chrono::milliseconds timeout{10000};
    bool json = false;
    settings config;
};

/// Resolves brokers (--brokers, --bootstrap-file, kafka.brokers, or the
/// embedded bootstrap file) and probes the admin endpoint.
result<context> resolve(const settings& config, const cli_options& options);

int topics_list(const context& ctx, std::ostream& out, std::ostream& err);
int topics_apply(const context& ctx, std::ostream& out, std::ostream& err);
int groups(const context& ctx, const std::vector<std::string>& names, std::ostream& out,
           std::ostream& err);

}  // namespace obsrv::app::ctl
