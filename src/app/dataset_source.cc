#include "app/dataset_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "dataset/directory_source.h"
#include "dataset/postgres_source.h"

namespace obsrv::app {
namespace {

// A mounted secret holds the password alone, usually with a trailing newline.
result<std::string> read_password_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return make_error("config: key 'datasets.postgres.password_file': cannot read '{}': {}",
                          path, std::strerror(errno));
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

}  // namespace

result<std::unique_ptr<dataset::source>> make_dataset_source(const datasets_settings& config) {
    if (config.source != "postgres") {
        dataset::system_settings system;
        system.encryption_secret_key = config.encryption_secret_key;
        return std::unique_ptr<dataset::source>(
            std::make_unique<dataset::directory_source>(config.dir, std::move(system)));
    }
    const auto& pg = config.postgres;
    dataset::postgres_options options;
    options.host = pg.host;
    options.port = pg.port;
    options.dbname = pg.dbname;
    options.user = pg.user;
    options.password = pg.password;
    if (options.password.empty() && !pg.password_file.empty()) {
        auto password = read_password_file(pg.password_file);
        if (!password) {
            return std::move(password).error();
        }
        options.password = std::move(password).value();
    }
    options.sslmode = pg.sslmode;
    options.connect_timeout_s = pg.connect_timeout_s;
    options.query_timeout_ms = pg.query_timeout_ms;
    options.refresh_interval = std::chrono::milliseconds(pg.refresh_interval_ms);
    options.notify_channel = pg.notify_channel;
    return std::unique_ptr<dataset::source>(
        std::make_unique<dataset::postgres_source>(std::move(options)));
}

}  // namespace obsrv::app
