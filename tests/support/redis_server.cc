#include "redis_server.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

#include "test_env.h"

namespace obsrv::testing {
namespace {

constexpr int k_port_attempts = 5;

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}

}  // namespace

bool redis_ping(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return false;
    }
    timeval tv = to_timeval(timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    bool ok = false;
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1 &&
        ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
        char buf[16] = {};
        ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
        ok = n >= 7 && std::strncmp(buf, "+PONG\r\n", 7) == 0;
    }
    ::close(fd);
    return ok;
}

std::string redis_server::binary() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) {
            end = dirs.size();
        }
        std::string candidate = dirs.substr(start, end - start) + "/redis-server";
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        start = end + 1;
    }
    if (::access("/usr/bin/redis-server", X_OK) == 0) {
        return "/usr/bin/redis-server";
    }
    return {};
}

result<std::unique_ptr<redis_server>> redis_server::launch() {
    std::string bin = binary();
    if (bin.empty()) {
        return make_error(
            "redis-server not found on PATH or in /usr/bin (scripts/setup.sh "
            "installs the redis-server package)");
    }
    std::unique_ptr<redis_server> server(new redis_server(std::move(bin), make_temp_dir("redis")));
    std::string last_error;
    // free_port() only says the port was free a moment ago: another process may take it
    // before redis-server binds it, so a failed start is retried on a new port.
    for (int attempt = 0; attempt < k_port_attempts; ++attempt) {
        auto started = server->start_on(free_port());
        if (started) {
            return server;
        }
        last_error = started.error().message;
    }
    return make_error("redis-server did not start: {}", last_error);
}

redis_server::redis_server(std::string binary, std::string dir)
    : _binary(std::move(binary)), _dir(std::move(dir)) {}

redis_server::~redis_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(_dir, ec);
}

status redis_server::start_on(uint16_t port) {
    _port = port;
    _paused = false;
    _process = std::make_unique<subprocess>(std::vector<std::string>{
        _binary, "--port", std::to_string(port), "--bind", _host, "--save", "", "--appendonly",
        "no", "--dir", _dir, "--daemonize", "no", "--logfile", ""});
    const bool up = wait_until(
        [&] { return !_process->running() || redis_ping(_host, _port, std::chrono::seconds(1)); },
        scaled(std::chrono::seconds(5)));
    if (up && _process->running()) {
        return {};
    }
    std::string log = _process->stdout_text() + _process->stderr_text();
    _process.reset();  // SIGKILLs it if it hangs
    return make_error("port {}: {}", port, log.empty() ? "no answer to PING" : log);
}

status redis_server::start() {
    if (_process) {
        return {};
    }
    return start_on(_port);
}

void redis_server::stop() {
    if (!_process) {
        return;
    }
    _process->signal(SIGTERM);
    if (_paused) {
        _process->signal(SIGCONT);  // a stopped process acts on SIGTERM only once continued
        _paused = false;
    }
    if (!_process->wait(scaled(std::chrono::seconds(5)))) {
        _process->signal(SIGKILL);
        (void)_process->wait(std::chrono::seconds(5));
    }
    _process.reset();
}

void redis_server::pause() {
    if (_process && !_paused) {
        _process->signal(SIGSTOP);
        _paused = true;
    }
}

void redis_server::resume() {
    if (_process && _paused) {
        _process->signal(SIGCONT);
        _paused = false;
    }
}

}  // namespace obsrv::testing
