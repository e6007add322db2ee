#pragma once

// Command-line settings of obsrv-loadgen and the small parsers behind them
// (durations, URLs, CPU lists, headers), kept apart from the CLI so that they
// can be unit-tested.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace obsrv::loadgen {

struct target_url {
    std::string host;  // without brackets for IPv6 literals
    uint16_t port = 80;
    std::string target;       // origin-form request target: path[?query], starts with '/'
    std::string host_header;  // Host header value as the URL spells it
};

struct settings {
    std::string url;
    target_url target;

    unsigned threads = 1;
    unsigned connections = 64;
    unsigned pipeline = 1;
    std::chrono::nanoseconds duration{0};  // 0: run until `requests` are done
    uint64_t requests = 0;                 // 0: run for `duration`
    std::chrono::nanoseconds warmup{0};
    double rate = 0;  // total requests/s for the open loop; 0 = closed loop
    std::chrono::nanoseconds timeout{std::chrono::seconds(10)};

    std::string body_file;
    std::string bodies_dir;
    unsigned events_per_request = 100;
    unsigned event_size = 400;
    double duplicate_share = 0;
    double invalid_share = 0;
    unsigned actors = 1000000;
    std::string msgid_prefix;  // empty: chosen at start, unique per run
    unsigned pool_size = 256;
    uint64_t seed = 42;
    bool gzip = false;  // bodies sent gzip-compressed, with Content-Encoding: gzip

    std::string method = "POST";
    std::vector<std::string> headers;  // "Name: value", validated

    std::string json_path;  // "-" for stdout
    bool quiet = false;
    std::vector<int> cpus;  // empty: no pinning
    std::string cpu_list;   // as given, for the report

    bool closed_loop() const { return rate <= 0; }
};

/// "10s", "500ms", "250us", "2m", "1h", "1.5s"; a bare number is seconds.
result<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// http://host[:port][/path][?query]; IPv6 literals in brackets. No https.
result<target_url> parse_url(std::string_view url);

/// "0", "0,2", "0-3", "0-1,4"; duplicates dropped, order kept.
result<std::vector<int>> parse_cpu_list(std::string_view text);

/// Checks "Name: value" (token name, no CR/LF) and returns it normalised as
/// "Name: value" with surrounding whitespace trimmed.
result<std::string> parse_header(std::string_view text);

/// What to do after parsing the command line.
struct cli_outcome {
    enum class action { run, exit } what = action::run;
    int exit_code = 0;  // for action::exit: 0 after --help/--version, 2 on usage errors
    settings config{};
};

/// Parses and validates argv (CLI11). Prints help, version and usage errors
/// itself (stdout and stderr respectively).
cli_outcome parse_command_line(int argc, const char* const* argv);

}  // namespace obsrv::loadgen
