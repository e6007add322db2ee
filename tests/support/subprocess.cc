#include "subprocess.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "test_env.h"

extern char** environ;

namespace obsrv::testing {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

subprocess::subprocess(std::vector<std::string> argv, std::map<std::string, std::string> extra_env)
    : _dir(make_temp_dir("proc")) {
    std::vector<std::string> env_strings;
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        env[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
    }
    for (auto& [k, v] : extra_env) {
        env[k] = v;
    }
    for (auto& [k, v] : env) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (auto& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string out = _dir + "/stdout";
    std::string err = _dir + "/stderr";
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // The child must not inherit a blocked signal mask from a test thread.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawn(&_pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    }
}

subprocess::~subprocess() {
    if (running()) {
        ::kill(_pid, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

void subprocess::signal(int sig) const {
    ::kill(_pid, sig);
}

bool subprocess::running() {
    if (_status) {
        return false;
    }
    int status = 0;
    pid_t r = ::waitpid(_pid, &status, WNOHANG);
    if (r == _pid) {
        _status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }
    return r == 0;
}

std::optional<int> subprocess::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return _status;
}

std::string subprocess::stdout_text() const {
    return slurp(_dir + "/stdout");
}
std::string subprocess::stderr_text() const {
    return slurp(_dir + "/stderr");
}

run_result run(std::vector<std::string> argv, std::chrono::milliseconds timeout,
               std::map<std::string, std::string> extra_env) {
    subprocess p(std::move(argv), std::move(extra_env));
    auto status = p.wait(timeout);
    run_result r;
    r.status = status.value_or(-1);
    r.out = p.stdout_text();
    r.err = p.stderr_text();
    return r;
}

}  // namespace obsrv::testing
