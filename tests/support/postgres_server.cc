#include "postgres_server.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_env.h"

namespace obsrv::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int k_port_attempts = 5;

bool is_executable(const std::string& path) {
    return ::access(path.c_str(), X_OK) == 0;
}

std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

struct connection_deleter {
    void operator()(PGconn* c) const { PQfinish(c); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_deleter>;

}  // namespace

std::string postgres_server::bin_dir() {
    if (const char* env = std::getenv("OBSRV_POSTGRES_BIN"); env && *env) {
        return is_executable(std::string(env) + "/postgres") ? env : "";
    }
    // Debian installs each major version side by side; the newest one wins.
    std::vector<std::string> candidates;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        std::string bin = entry.path().string() + "/bin";
        if (is_executable(bin + "/initdb") && is_executable(bin + "/postgres")) {
            candidates.push_back(bin);
        }
    }
    std::sort(candidates.begin(), candidates.end(), [](const std::string& a, const std::string& b) {
        return std::atoi(fs::path(a).parent_path().filename().c_str()) <
               std::atoi(fs::path(b).parent_path().filename().c_str());
    });
    return candidates.empty() ? "" : candidates.back();
}

result<std::unique_ptr<postgres_server>> postgres_server::launch() {
    std::string bin = bin_dir();
    if (bin.empty()) {
        return make_error(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (scripts/setup.sh "
            "installs the postgresql package; OBSRV_POSTGRES_BIN points elsewhere)");
    }
    std::string dir;
    if (::geteuid() == 0) {
        // The postgres user must reach the directory: not under a root-only $TMPDIR.
        std::string pattern = "/tmp/obsrv-postgres-XXXXXX";
        if (!::mkdtemp(pattern.data())) {
            return make_error("mkdtemp {} failed", pattern);
        }
        dir = pattern;
    } else {
        dir = make_temp_dir("postgres");
    }
    std::unique_ptr<postgres_server> server(new postgres_server(std::move(bin), std::move(dir)));
    if (auto st = server->init(); !st) {
        return st.error();
    }
    std::string last_error;
    for (int attempt = 0; attempt < k_port_attempts; ++attempt) {
        auto started = server->start_on(free_port());
        if (started) {
            if (auto st = server->run_sql("postgres", "CREATE DATABASE " + server->_dbname); !st) {
                return make_error("CREATE DATABASE failed: {}", st.error().message);
            }
            return server;
        }
        last_error = started.error().message;
    }
    return make_error("postgres did not start: {}", last_error);
}

postgres_server::postgres_server(std::string bin, std::string dir)
    : _bin(std::move(bin)), _dir(std::move(dir)) {}

postgres_server::~postgres_server() {
    stop();
    std::error_code ec;
    fs::remove_all(_dir, ec);
}

std::vector<std::string> postgres_server::as_owner(const std::vector<std::string>& argv) const {
    // From the temp dir: postgres' tools look at the working directory, which may be one the
    // postgres user cannot enter.
    std::vector<std::string> out;
    if (::geteuid() == 0) {
        out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"};
    }
    out.insert(out.end(), {"/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", _dir});
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

status postgres_server::init() {
    _password_file = _dir + "/password";
    std::ofstream(_password_file) << _password << "\n";
    fs::create_directories(_dir + "/socket");
    if (::geteuid() == 0) {
        passwd* pw = ::getpwnam("postgres");
        if (!pw) {
            return make_error(
                "running as root, and there is no 'postgres' user to run the "
                "server as (the postgresql package creates it)");
        }
        for (const auto& path : {_dir, _password_file, _dir + "/socket"}) {
            if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
                return make_error("chown {} to postgres failed", path);
            }
        }
    }
    auto r = run(
        as_owner({_bin + "/initdb", "-D", _dir + "/data", "-U", _user, "--pwfile=" + _password_file,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
                  "--no-sync", "--no-instructions"}),
        scaled(120s));
    if (r.status != 0) {
        return make_error("initdb failed (status {}): {}{}", r.status, r.out, r.err);
    }
    return {};
}

status postgres_server::start_on(uint16_t port) {
    _port = port;
    _process = std::make_unique<subprocess>(as_owner({_bin + "/postgres",
                                                      "-D",
                                                      _dir + "/data",
                                                      "-p",
                                                      std::to_string(port),
                                                      "-k",
                                                      _dir + "/socket",
                                                      "-c",
                                                      "listen_addresses=" + _host,
                                                      "-c",
                                                      "fsync=off",
                                                      "-c",
                                                      "synchronous_commit=off",
                                                      "-c",
                                                      "full_page_writes=off",
                                                      "-c",
                                                      "max_connections=40",
                                                      "-c",
                                                      "shared_buffers=16MB",
                                                      "-c",
                                                      "logging_collector=off"}));
    const std::string port_text = std::to_string(port);
    const char* keys[] = {"host", "port", "dbname", "user", "connect_timeout", nullptr};
    const char* values[] = {_host.c_str(), port_text.c_str(), "postgres", _user.c_str(), "2",
                            nullptr};
    const bool up = wait_until(
        [&] { return !_process->running() || PQpingParams(keys, values, 0) == PQPING_OK; },
        scaled(60s));
    if (up && _process->running()) {
        return {};
    }
    std::string log = _process->stdout_text() + _process->stderr_text();
    _process.reset();
    return make_error("port {}: {}", port, log.empty() ? "not accepting connections" : log);
}

status postgres_server::start() {
    if (_process) {
        return {};
    }
    return start_on(_port);
}

void postgres_server::stop() {
    if (!_process) {
        return;
    }
    _process->signal(SIGINT);  // fast shutdown: clients are disconnected
    if (!_process->wait(scaled(20s))) {
        _process->signal(SIGKILL);
        (void)_process->wait(10s);
    }
    _process.reset();
}

status postgres_server::run_sql(const std::string& dbname, const std::string& sql) const {
    const std::string port_text = std::to_string(_port);
    const char* keys[] = {"host", "port", "dbname", "user", "password", nullptr};
    const char* values[] = {_host.c_str(), port_text.c_str(), dbname.c_str(),
                            _user.c_str(), _password.c_str(), nullptr};
    connection_ptr conn(PQconnectdbParams(keys, values, 0));
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        return make_error("connect: {}", trimmed(PQerrorMessage(conn.get())));
    }
    PGresult* res = PQexec(conn.get(), sql.c_str());
    auto status = PQresultStatus(res);
    std::string message = trimmed(PQresultErrorMessage(res));
    PQclear(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return make_error("{}", message);
    }
    return {};
}

status postgres_server::execute(const std::string& sql) const {
    return run_sql(_dbname, sql);
}

result<std::optional<std::string>> postgres_server::query_value(const std::string& sql) const {
    const std::string port_text = std::to_string(_port);
    const char* keys[] = {"host", "port", "dbname", "user", "password", nullptr};
    const char* values[] = {_host.c_str(), port_text.c_str(), _dbname.c_str(),
                            _user.c_str(), _password.c_str(), nullptr};
    connection_ptr conn(PQconnectdbParams(keys, values, 0));
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        return make_error("connect: {}", trimmed(PQerrorMessage(conn.get())));
    }
    PGresult* res = PQexec(conn.get(), sql.c_str());
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        std::string message = trimmed(PQresultErrorMessage(res));
        PQclear(res);
        return make_error("{}", message);
    }
    std::optional<std::string> value;
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0)) {
        value = PQgetvalue(res, 0, 0);
    }
    PQclear(res);
    return value;
}

}  // namespace obsrv::testing
