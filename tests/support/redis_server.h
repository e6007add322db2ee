#pragma once

// A throwaway redis-server for integration tests: loopback only, a free port, a fresh temp dir,
// no persistence (`--save "" --appendonly no`). stop() / start() keep the port, so tests can
// take Redis away and bring it back; pause() / resume() (SIGSTOP / SIGCONT) make it hang
// instead. The destructor stops it (SIGTERM, then SIGKILL).
//
//   auto server = redis_server::launch();  // in a fixture's SetUp()
//   if (!server) GTEST_SKIP() << server.error().message;
//
// Not thread-safe: drive it from the test's main thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "subprocess.h"

namespace obsrv::testing {

class redis_server {
  public:
    /// The redis-server binary (PATH, then /usr/bin), or empty when there is none.
    static std::string binary();

    /// Starts a server on a free loopback port (retrying on a port taken meanwhile). An error
    /// when redis-server is missing or does not come up; the message is meant for GTEST_SKIP.
    static result<std::unique_ptr<redis_server>> launch();

    ~redis_server();
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;

    const std::string& host() const { return _host; }
    uint16_t port() const { return _port; }
    bool running() const { return _process != nullptr; }

    /// SIGTERM, then SIGKILL after a grace period; waits for the exit.
    void stop();
    /// Starts again on the same port; waits until it answers PING.
    status start();
    /// SIGSTOP / SIGCONT: the server keeps its sockets but stops answering.
    void pause();
    void resume();

  private:
    redis_server(std::string binary, std::string dir);
    status start_on(uint16_t port);

    std::string _binary;
    std::string _dir;
    std::string _host = "127.0.0.1";
    uint16_t _port = 0;
    std::unique_ptr<subprocess> _process;
    bool _paused = false;
};

/// Sends PING over a fresh connection; true on +PONG within `timeout`.
bool redis_ping(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

}  // namespace obsrv::testing
