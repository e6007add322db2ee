#pragma once

// Runs a child process for integration tests: arguments, environment
// additions, stdout/stderr captured to files, signals, bounded waits.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace obsrv::testing {

class subprocess {
  public:
    /// Starts `argv[0]` (a path) with the arguments; output goes to files in a
    /// fresh temp directory, readable at any time.
    explicit subprocess(std::vector<std::string> argv,
                        std::map<std::string, std::string> extra_env = {});
    ~subprocess();  // SIGKILLs the child if still running

    subprocess(const subprocess&) = delete;
    subprocess& operator=(const subprocess&) = delete;

    pid_t pid() const { return _pid; }
    void signal(int sig) const;

    /// Exit status (WEXITSTATUS, or 128+signal), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    bool running();

    std::string stdout_text() const;
    std::string stderr_text() const;

  private:
    pid_t _pid = -1;
    std::optional<int> _status;
    std::string _dir;
};

/// Runs to completion; returns {exit status, stdout, stderr}.
struct run_result {
    int status = -1;
    std::string out;
    std::string err;
};
run_result run(std::vector<std::string> argv, std::chrono::milliseconds timeout,
               std::map<std::string, std::string> extra_env = {});

}  // namespace obsrv::testing
