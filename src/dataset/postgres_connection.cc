#include "dataset/postgres_connection.h"

#include <libpq-fe.h>

namespace obsrv::dataset {
namespace {

// libpq's messages end in a newline and may hold several lines ("connection to server ...
// failed: Connection refused\n\tIs the server running ...?"): one log line instead.
std::string one_line(const char* text) {
    std::string out;
    bool space = false;
    for (const char* p = text ? text : ""; *p; ++p) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty()) {
            out += ' ';
        }
        space = false;
        out += *p;
    }
    return out.empty() ? "unknown error" : out;
}

struct result_deleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

}  // namespace

std::string describe(const postgres_options& options) {
    return fmt::format("{}@{}:{}/{}", options.user, options.host, options.port, options.dbname);
}

result<std::unique_ptr<postgres_connection>> postgres_connection::connect(
    const postgres_options& options) {
    const std::string port = std::to_string(options.port);
    const std::string connect_timeout = std::to_string(options.connect_timeout_s);
    const std::string tcp_user_timeout = std::to_string(options.query_timeout_ms);
    // The session reads only; a query that hangs (locks, a huge table) is cut off server-side.
    const std::string session_options = fmt::format(
        "-c statement_timeout={} -c default_transaction_read_only=on", options.query_timeout_ms);
    std::vector<const char*> keys = {"host",
                                     "port",
                                     "dbname",
                                     "user",
                                     "sslmode",
                                     "connect_timeout",
                                     "tcp_user_timeout",
                                     "options",
                                     "application_name"};
    std::vector<const char*> values = {options.host.c_str(),
                                       port.c_str(),
                                       options.dbname.c_str(),
                                       options.user.c_str(),
                                       options.sslmode.c_str(),
                                       connect_timeout.c_str(),
                                       tcp_user_timeout.c_str(),
                                       session_options.c_str(),
                                       "obsrvd"};
    if (!options.password.empty()) {
        keys.push_back("password");
        values.push_back(options.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
    if (!conn) {
        return make_error("cannot connect to postgres {}: out of memory", describe(options));
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        auto message = one_line(PQerrorMessage(conn));
        PQfinish(conn);
        return make_error("cannot connect to postgres {}: {}", describe(options), message);
    }
    return std::unique_ptr<postgres_connection>(new postgres_connection(conn));
}

postgres_connection::~postgres_connection() {
    PQfinish(_conn);
}

result<pg_result*> postgres_connection::run(std::string_view what, const std::string& sql,
                                            bool expect_rows) {
    PGresult* raw = PQexec(_conn, sql.c_str());
    if (!raw) {
        return make_error("{}: {}", what, one_line(PQerrorMessage(_conn)));
    }
    ExecStatusType status = PQresultStatus(raw);
    if (status != (expect_rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
        std::string message = one_line(PQresultErrorMessage(raw));
        PQclear(raw);
        return make_error("{}: {}", what, message);
    }
    return raw;
}

result<postgres_rows> postgres_connection::query(std::string_view what, const std::string& sql) {
    auto raw = run(what, sql, true);
    if (!raw) {
        return std::move(raw).error();
    }
    result_ptr res(*raw);
    postgres_rows out;
    const int rows = PQntuples(res.get());
    const int columns = PQnfields(res.get());
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
        auto& row = out.rows.emplace_back();
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(res.get(), r, c)) {
                row.emplace_back(std::nullopt);
            } else {
                row.emplace_back(
                    std::string(PQgetvalue(res.get(), r, c),
                                static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
            }
        }
    }
    return out;
}

status postgres_connection::execute(std::string_view what, const std::string& sql) {
    auto raw = run(what, sql, false);
    if (!raw) {
        return std::move(raw).error();
    }
    PQclear(*raw);
    return {};
}

bool postgres_connection::healthy() const {
    return PQstatus(_conn) == CONNECTION_OK;
}

int postgres_connection::socket() const {
    return PQsocket(_conn);
}

result<std::vector<std::string>> postgres_connection::take_notifications() {
    if (PQconsumeInput(_conn) == 0) {
        return make_error("{}", one_line(PQerrorMessage(_conn)));
    }
    std::vector<std::string> channels;
    while (PGnotify* n = PQnotifies(_conn)) {
        channels.emplace_back(n->relname);
        PQfreemem(n);
    }
    if (!healthy()) {
        return make_error("connection lost");
    }
    return channels;
}

std::string postgres_connection::quote_identifier(std::string_view name) const {
    char* quoted = PQescapeIdentifier(_conn, name.data(), name.size());
    if (!quoted) {
        return {};
    }
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

}  // namespace obsrv::dataset
