#pragma once

// A throwaway PostgreSQL server for integration tests: Debian's binaries
// (/usr/lib/postgresql/<version>/bin, or $OBSRV_POSTGRES_BIN), a fresh data directory made by
// initdb in a temp dir, loopback TCP on a free port (password auth, scram-sha-256), the unix
// socket in the temp dir, durability off (fsync, synchronous_commit). initdb and postgres refuse
// to run as root: as root they run as the `postgres` system user (setpriv), and the temp dir is
// handed to it. stop() / start() keep the port and the data, so tests can take the database away
// and bring it back. The destructor stops it and removes the temp dir.
//
//   auto server = postgres_server::launch();  // once per test file (SetUpTestSuite)
//   if (!server) GTEST_SKIP() << server.error().message;
//   server->execute("CREATE TABLE ...");
//
// Not thread-safe: drive it from the test's main thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "subprocess.h"

namespace obsrv::testing {

class postgres_server {
  public:
    /// Directory holding initdb and postgres, or empty when PostgreSQL is not installed.
    static std::string bin_dir();

    /// initdb, start, CREATE DATABASE obsrv. An error when the binaries are missing (the message
    /// is meant for GTEST_SKIP) or when the server does not come up.
    static result<std::unique_ptr<postgres_server>> launch();

    ~postgres_server();
    postgres_server(const postgres_server&) = delete;
    postgres_server& operator=(const postgres_server&) = delete;

    const std::string& host() const { return _host; }
    uint16_t port() const { return _port; }
    /// The superuser obsrvd connects as, and its password.
    const std::string& user() const { return _user; }
    const std::string& password() const { return _password; }
    /// The database with Obsrv's tables.
    const std::string& dbname() const { return _dbname; }
    /// A file holding the password (for datasets.postgres.password_file).
    const std::string& password_file() const { return _password_file; }
    bool running() const { return _process != nullptr; }

    /// Fast shutdown (SIGINT), then SIGKILL after a grace period; waits for the exit.
    void stop();
    /// Starts again on the same port with the same data; waits until it accepts connections.
    status start();

    /// Runs SQL (several statements allowed) in `dbname()`; an error with the server's message.
    status execute(const std::string& sql) const;
    /// The first column of the first row of a query (nullopt for NULL or no row).
    result<std::optional<std::string>> query_value(const std::string& sql) const;

  private:
    postgres_server(std::string bin, std::string dir);
    status init();
    status start_on(uint16_t port);
    status run_sql(const std::string& dbname, const std::string& sql) const;
    /// argv run as the postgres user when we are root, from the temp dir.
    std::vector<std::string> as_owner(const std::vector<std::string>& argv) const;

    std::string _bin;
    std::string _dir;
    std::string _host = "127.0.0.1";
    uint16_t _port = 0;
    std::string _user = "obsrv";
    std::string _password = "obsrv-test-password";
    std::string _dbname = "obsrv";
    std::string _password_file;
    std::unique_ptr<subprocess> _process;
};

}  // namespace obsrv::testing
