#include "obsrvd_process.h"

#include <signal.h>
#include <sstream>

#include "common/http_client.h"
#include "test_env.h"

namespace obsrv::testing {

using namespace std::chrono_literals;

obsrvd_process::obsrvd_process(obsrvd_options options)
    : _dir(make_temp_dir("obsrvd")),
      _admin_port(options.admin_port ? options.admin_port : free_port()),
      _gateway_port(free_port()) {
    _bootstrap_file = options.bootstrap_file.empty() ? _dir + "/bootstrap" : options.bootstrap_file;
    const std::string datasets =
        options.datasets_dir.empty() ? source_dir() + "/config/datasets" : options.datasets_dir;
    std::vector<std::string> argv = {app_binary("obsrvd"), "--config",
                                     source_dir() + "/config/obsrvd.yaml"};
    if (!options.roles.empty()) {
        argv.insert(argv.end(), {"--roles", options.roles});
    }
    std::vector<std::string> sets = {"admin.port=" + std::to_string(_admin_port),
                                     "gateway.port=" + std::to_string(_gateway_port),
                                     "kafka.embedded.bootstrap_file=" + _bootstrap_file,
                                     "datasets.dir=" + datasets};
    sets.insert(sets.end(), options.sets.begin(), options.sets.end());
    for (auto& s : sets) {
        argv.insert(argv.end(), {"--set", s});
    }
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    _process = std::make_unique<subprocess>(argv);
}

bool obsrvd_process::wait_ready(std::chrono::milliseconds timeout) {
    return wait_until(
               [&] {
                   if (!_process->running()) {
                       return true;  // exited: the caller sees it in stderr
                   }
                   auto r = http::get("127.0.0.1", _admin_port, "/ready", 1s);
                   return r && r->status == 200;
               },
               scaled(timeout)) &&
           _process->running();
}

std::string obsrvd_process::bootstrap() const {
    auto text = read_file(_bootstrap_file);
    return text.substr(0, text.find('\n'));
}

std::optional<int> obsrvd_process::stop(std::chrono::milliseconds timeout) {
    _process->signal(SIGTERM);
    return _process->wait(scaled(timeout));
}

run_result obsrvd_process::ctl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {app_binary("obsrvctl"), "--set",
                                     "admin.port=" + std::to_string(_admin_port), "--set",
                                     "kafka.embedded.bootstrap_file=" + _bootstrap_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, scaled(60s));
}

double obsrvd_process::metric(const std::string& series) const {
    auto r = http::get("127.0.0.1", _admin_port, "/metrics", 5s);
    if (!r || r->status != 200) {
        return 0;
    }
    std::istringstream text(r->body);
    std::string line;
    while (std::getline(text, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return 0;
}

}  // namespace obsrv::testing
