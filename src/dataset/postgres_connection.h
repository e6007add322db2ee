#pragma once

// A libpq connection for reading Obsrv's tables: connect with explicit parameters (no conninfo
// string to quote), run a statement, get its rows as text. Errors are one line naming what was
// being done ("reading table datasets: ERROR: relation \"datasets\" does not exist").
//
// Not thread-safe: one thread uses a connection at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct pg_conn;
struct pg_result;

namespace obsrv::dataset {

/// Where and how to reach the database (the `datasets.postgres.*` settings).
struct postgres_options {
    std::string host = "localhost";  // a name, an address, or a unix socket directory ("/...")
    int64_t port = 5432;
    std::string dbname = "obsrv";
    std::string user = "obsrv";
    /// Empty: libpq's own fallbacks apply (PGPASSWORD, ~/.pgpass or PGPASSFILE).
    std::string password;
    std::string sslmode = "prefer";
    int64_t connect_timeout_s = 5;
    /// statement_timeout of the session, and how long the socket may hang unanswered.
    int64_t query_timeout_ms = 10000;
    std::chrono::milliseconds refresh_interval{5000};
    /// LISTEN on this channel and reload when notified; empty: polling only.
    std::string notify_channel;
};

/// "obsrv@127.0.0.1:5432/obsrv" (never the password).
std::string describe(const postgres_options& options);

/// The rows of one statement, every value as text (nullopt for SQL NULL).
struct postgres_rows {
    std::vector<std::vector<std::optional<std::string>>> rows;
};

class postgres_connection {
  public:
    /// Connects (blocking, bounded by connect_timeout_s).
    static result<std::unique_ptr<postgres_connection>> connect(const postgres_options& options);

    ~postgres_connection();
    postgres_connection(const postgres_connection&) = delete;
    postgres_connection& operator=(const postgres_connection&) = delete;

    /// Runs `sql` (no parameters); `what` starts the error message.
    result<postgres_rows> query(std::string_view what, const std::string& sql);
    /// Runs a statement that returns no rows.
    status execute(std::string_view what, const std::string& sql);

    /// Whether the connection is still usable (false after the server went away).
    bool healthy() const;
    /// The socket, for poll() while waiting for notifications.
    int socket() const;
    /// Reads what arrived on the socket and returns the channels notified since the last call;
    /// an error when the connection broke.
    result<std::vector<std::string>> take_notifications();
    /// `name` quoted as an SQL identifier.
    std::string quote_identifier(std::string_view name) const;

  private:
    explicit postgres_connection(pg_conn* conn) : _conn(conn) {}
    result<pg_result*> run(std::string_view what, const std::string& sql, bool expect_rows);

    pg_conn* _conn;
};

}  // namespace obsrv::dataset
