#pragma once

// obsrvd as a child process for end-to-end tests: free admin and gateway ports, its own
// bootstrap file, the repository's config file, datasets from a directory, --set overrides.
//
//   obsrvd_process broker({.roles = "gateway"});                        // embedded Kafka
//   obsrvd_process pipeline({.roles = "pipeline", .sets = {"kafka.brokers=" + bootstrap}});
//   ASSERT_TRUE(pipeline.wait_ready()) << pipeline.process().stderr_text();
//
// The destructor SIGKILLs a process still running (subprocess); stop() is the clean way.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "subprocess.h"

namespace obsrv::testing {

struct obsrvd_options {
    std::string roles;              // --roles; empty: obsrvd's default (all)
    std::vector<std::string> sets;  // "key=value" each, passed as --set
    std::string datasets_dir;       // empty: config/datasets of the source tree
    std::string bootstrap_file;     // empty: <dir>/bootstrap
    uint16_t admin_port = 0;        // 0: a free port
    std::vector<std::string> extra_args;
};

class obsrvd_process {
  public:
    explicit obsrvd_process(obsrvd_options options = {});

    /// /ready answers 200 (within `timeout`, scaled under sanitizers).
    bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// The embedded broker's address, from the bootstrap file (empty without one).
    std::string bootstrap() const;
    /// SIGTERM, then the exit status (nullopt if still running after `timeout`).
    std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    /// obsrvctl against this instance.
    run_result ctl(std::vector<std::string> args) const;
    /// The value of one series of /metrics ("name{labels}" as exposed); 0 when absent or the
    /// endpoint does not answer.
    double metric(const std::string& series) const;

    subprocess& process() { return *_process; }
    uint16_t admin_port() const { return _admin_port; }
    uint16_t gateway_port() const { return _gateway_port; }
    const std::string& bootstrap_file() const { return _bootstrap_file; }
    const std::string& dir() const { return _dir; }

  private:
    std::string _dir;
    uint16_t _admin_port;
    uint16_t _gateway_port;
    std::string _bootstrap_file;
    std::unique_ptr<subprocess> _process;
};

}  // namespace obsrv::testing
