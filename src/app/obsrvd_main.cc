// obsrvd: the Obsrv data-plane daemon. See README.md and docs/CONFIGURATION.md.
//
// Exit status: 0 clean stop, 1 start-up or runtime failure, 2 bad command
// line or configuration, 3 shutdown exceeded shutdown.timeout_ms.

#include <cstdio>
#include <iostream>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include "app/allocator.h"
#include "app/daemon.h"
#include "app/roles.h"
#include "app/shutdown_watchdog.h"
#include "app/signals.h"
#include "common/build_info.h"
#include "common/config.h"
#include "common/log.h"
#include "kafka/client.h"

namespace {

constexpr int k_exit_runtime = 1;
constexpr int k_exit_usage = 2;

int fail_usage(const std::string& message) {
    std::fprintf(stderr, "obsrvd: %s\n", message.c_str());
    return k_exit_usage;
}

}  // namespace

int main(int argc, char** argv) {
    // Before any thread exists, so that every thread inherits the mask.
    obsrv::app::signal_waiter signals;
    // The main thread keeps the process name ("obsrvd") so ps, pgrep and top find it.

    CLI::App cli{"obsrvd: Obsrv data plane (ingest gateway, pipeline, archive, exporter)"};
    std::optional<std::string> config_file;
    std::string roles_text = "all";
    std::vector<std::string> overrides;
    bool check_config = false;
    bool print_default_config = false;
    bool print_config_doc = false;
    bool show_version = false;
    cli.add_option("-c,--config", config_file, "YAML configuration file (config/obsrvd.yaml)");
    cli.add_option("-r,--roles", roles_text,
                   "Comma-separated roles (gateway,pipeline,archive,exporter) or 'all'")
        ->capture_default_str();
    cli.add_option("-s,--set", overrides, "Override a key: --set gateway.port=3001 (repeatable)")
        ->allow_extra_args(false);
    cli.add_flag("--check-config", check_config,
                 "Validate the configuration, print the effective settings and exit");
    cli.add_flag("--print-default-config", print_default_config,
                 "Print the commented default configuration (config/obsrvd.yaml) and exit");
    cli.add_flag("--print-config-doc", print_config_doc,
                 "Print the configuration reference (docs/CONFIGURATION.md) and exit");
    cli.add_flag("-V,--version", show_version, "Print version information and exit");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    if (show_version) {
        std::printf("obsrvd %s (commit %s, %s build)\nallocator: %s\nlibrdkafka: %s\n",
                    obsrv::build_info::version, obsrv::build_info::git_commit,
                    obsrv::build_info::build_type, obsrv::app::allocator_description().c_str(),
                    rd_kafka_version_str());
        return 0;
    }
    if (print_default_config) {
        std::cout << obsrv::config::render_default_yaml();
        return 0;
    }
    if (print_config_doc) {
        std::cout << obsrv::config::render_markdown_reference();
        return 0;
    }

    auto settings = obsrv::config::load(config_file, overrides);
    if (!settings) {
        return fail_usage(settings.error().message);
    }
    for (const auto& [kind, properties, prefix] :
         {std::tuple{obsrv::kafka::client_kind::producer, &settings->kafka.producer,
                     "kafka.producer"},
          std::tuple{obsrv::kafka::client_kind::consumer, &settings->kafka.consumer,
                     "kafka.consumer"}}) {
        if (auto st = obsrv::kafka::validate_properties(kind, *properties, prefix); !st) {
            return fail_usage(st.error().message);
        }
    }
    auto roles = obsrv::app::parse_roles(roles_text);
    if (!roles) {
        return fail_usage(roles.error().message);
    }
    if (check_config) {
        std::cout << obsrv::config::render_yaml(*settings);
        std::fprintf(stderr, "obsrvd: configuration ok (roles: %s)\n",
                     obsrv::app::describe(*roles).c_str());
        return 0;
    }

    if (auto st = obsrv::log::setup({settings->log.level, settings->log.format}); !st) {
        return fail_usage(st.error().message);
    }
    auto logger = obsrv::log::get("obsrvd");
    logger->info("starting obsrvd {} (commit {}, {} build, {}, librdkafka {})",
                 obsrv::build_info::version, obsrv::build_info::git_commit,
                 obsrv::build_info::build_type, obsrv::app::allocator_description(),
                 rd_kafka_version_str());

    auto shutdown_limit = std::chrono::milliseconds(settings->shutdown.timeout_ms);
    obsrv::app::daemon daemon(std::move(*settings), std::move(*roles));
    if (auto st = daemon.start(); !st) {
        logger->error("start-up failed: {}", st.error().message);
        obsrv::app::shutdown_watchdog watchdog(signals, shutdown_limit);
        daemon.stop();
        obsrv::log::flush();
        return k_exit_runtime;
    }

    while (true) {
        auto sig = signals.wait(std::chrono::seconds(1));
        if (!sig) {
            continue;
        }
        if (*sig == SIGHUP) {
            daemon.reload();
            continue;
        }
        logger->info("{}: stopping (bounded by shutdown.timeout_ms={})", strsignal(*sig),
                     shutdown_limit.count());
        break;
    }
    {
        obsrv::app::shutdown_watchdog watchdog(signals, shutdown_limit);
        // Leave a tenth of the budget for what follows the roles.
        daemon.stop(std::chrono::steady_clock::now() + shutdown_limit * 9 / 10);
    }
    logger->info("stopped cleanly");
    obsrv::log::flush();
    return 0;
}
