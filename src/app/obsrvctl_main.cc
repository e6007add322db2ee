// obsrvctl: operator CLI for obsrvd's Kafka side.
//   obsrvctl topics list | topics apply | groups [--group G]...
// Brokers: --brokers, --bootstrap-file, kafka.brokers of --config, or the
// embedded broker's bootstrap file. Exit status: 0 ok, 1 failure, 2 usage.

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/ctl_commands.h"
#include "common/config.h"
#include "common/log.h"

int main(int argc, char** argv) {
    CLI::App cli{"obsrvctl: topics and consumer groups of an Obsrv data plane"};
    cli.require_subcommand(1);
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;
    obsrv::app::ctl::cli_options options;
    int64_t timeout_ms = 10000;
    cli.add_option("-c,--config", config_file, "obsrvd's YAML configuration (topics, ports)");
    cli.add_option("-s,--set", overrides, "Override a configuration key (as obsrvd --set)");
    cli.add_option("-b,--brokers", options.brokers, "Bootstrap brokers host:port[,...]");
    cli.add_option("--bootstrap-file", options.bootstrap_file,
                   "File holding the bootstrap address (the embedded broker's)");
    cli.add_option("--admin", options.admin,
                   "obsrvd admin endpoint host:port (default: admin.bind/admin.port of the "
                   "configuration)");
    cli.add_option("--timeout-ms", timeout_ms, "Timeout of each Kafka request")
        ->check(CLI::Range(100, 600000))
        ->capture_default_str();
    cli.add_flag("--json", options.json, "Machine-readable output");

    auto* topics = cli.add_subcommand("topics", "Kafka topics");
    topics->require_subcommand(1);
    auto* topics_list = topics->add_subcommand("list", "Partitions and config of each topic");
    auto* topics_apply =
        topics->add_subcommand("apply", "Create the configured topics that are missing");
    auto* groups = cli.add_subcommand(
        "groups", "Consumer groups: committed offset, end offset and lag per partition");
    std::vector<std::string> group_names;
    groups->add_option("-g,--group", group_names, "A group to show (repeatable)");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    options.timeout = std::chrono::milliseconds(timeout_ms);

    // librdkafka's own log lines would interleave with the tables; keep errors.
    if (auto st = obsrv::log::setup({"error", "plain"}); !st) {
        std::fprintf(stderr, "obsrvctl: %s\n", st.error().message.c_str());
        return 2;
    }
    auto settings = obsrv::config::load(config_file, overrides);
    if (!settings) {
        std::fprintf(stderr, "obsrvctl: %s\n", settings.error().message.c_str());
        return 2;
    }
    auto ctx = obsrv::app::ctl::resolve(*settings, options);
    if (!ctx) {
        std::fprintf(stderr, "obsrvctl: %s\n", ctx.error().message.c_str());
        return 1;
    }
    if (topics_list->parsed()) {
        return obsrv::app::ctl::topics_list(*ctx, std::cout, std::cerr);
    }
    if (topics_apply->parsed()) {
        return obsrv::app::ctl::topics_apply(*ctx, std::cout, std::cerr);
    }
    if (groups->parsed()) {
        return obsrv::app::ctl::groups(*ctx, group_names, std::cout, std::cerr);
    }
    return 2;
}
