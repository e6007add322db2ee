#pragma once

// Process-wide logging on spdlog: one set of sinks shared by per-module
// loggers ("kafka", "admin", "gateway", ...), plain lines or JSON lines, UTC
// timestamps and the thread name in every record. Modules keep the logger
// they get at start-up; nothing is looked up per message.

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace obsrv::log {

struct options {
    std::string level = "info";    // trace|debug|info|warn|error|critical|off
    std::string format = "plain";  // plain|json
};

/// (Re)configures level, format and output (stderr unless a sink is given,
/// as tests do). Loggers handed out earlier follow the new setup.
status setup(const options& opts, spdlog::sink_ptr sink = nullptr);

/// The logger of a module, created on first use.
std::shared_ptr<spdlog::logger> get(std::string_view module);

/// Flushes every logger (before exit).
void flush();

}  // namespace obsrv::log
