// obsrvd and obsrvctl driven as an operator would: real processes, the
// embedded broker checked from outside with kcat, /metrics with promtool.

#include "obsrvd_process.h"

#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/http_client.h"
#include "kafka_helpers.h"
#include "subprocess.h"
#include "test_env.h"

namespace obsrv::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

/// A running obsrvd on free ports with its own bootstrap file (all roles).
using obsrvd_instance = obsrvd_process;

simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
    return doc;
}

// --- start-up refusals: one line naming the key, exit status 2 ---------------

TEST(obsrvd_config_errors, bad_type_on_the_command_line) {
    auto r = run({app_binary("obsrvd"), "--set", "gateway.port=abc"}, scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.err,
              "obsrvd: config: --set gateway.port: key 'gateway.port': expected an integer "
              "between 1 and 65535, got 'abc'\n");
}

TEST(obsrvd_config_errors, unknown_key_in_the_file) {
    auto path = make_temp_dir("cfg") + "/obsrvd.yaml";
    std::ofstream(path) << "kafka:\n  topics:\n    partition: 4\n";
    auto r = run({app_binary("obsrvd"), "--config", path}, scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr(path + ":3: unknown key 'kafka.topics.partition' (did you mean "
                                        "'kafka.topics.partitions'?)"));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(obsrvd_config_errors, librdkafka_rejects_a_passthrough_property) {
    auto r = run({app_binary("obsrvd"), "--set", "kafka.producer.compression.codec=brotli"},
                 scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("key 'kafka.producer.compression.codec'"));
}

TEST(obsrvd_config_errors, missing_datasets_dir_names_the_key) {
    auto dir = make_temp_dir("nodatasets");
    auto r = run({app_binary("obsrvd"), "--set", "admin.port=" + std::to_string(free_port()),
                  "--set", "gateway.port=" + std::to_string(free_port()), "--set",
                  "kafka.embedded.bootstrap_file=" + dir + "/bootstrap", "--set",
                  "datasets.dir=" + dir + "/missing"},
                 scaled(30s));
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.err, HasSubstr("datasets.dir"));
}

TEST(obsrvd_config_errors, role_not_built_is_refused) {
    auto r = run({app_binary("obsrvd"), "--roles", "archive"}, scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("role 'archive' is not built in this version"));
}

TEST(obsrvd_cli, check_config_prints_the_effective_settings) {
    auto r = run({app_binary("obsrvd"), "--config", source_dir() + "/config/obsrvd.yaml", "--set",
                  "gateway.port=3999", "--check-config"},
                 scaled(20s));
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("  port: 3999\n"));
    EXPECT_THAT(r.err, HasSubstr("configuration ok"));
}

TEST(obsrvd_cli, version_names_the_allocator) {
    auto r = run({app_binary("obsrvd"), "--version"}, scaled(20s));
    EXPECT_EQ(r.status, 0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    EXPECT_THAT(r.out, HasSubstr("allocator: system malloc"));
#else
    // mimalloc must really serve malloc, not merely be linked.
    EXPECT_THAT(r.out, HasSubstr("allocator: mimalloc"));
#endif
}

// --- a running daemon, checked from outside ----------------------------------

class obsrvd_running : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        s_instance = new obsrvd_instance();
        ASSERT_TRUE(s_instance->wait_ready()) << s_instance->process().stderr_text();
    }
    static void TearDownTestSuite() {
        s_instance->process().signal(SIGTERM);
        s_instance->process().wait(scaled(20s));
        delete s_instance;
        s_instance = nullptr;
    }
    static obsrvd_instance* s_instance;
};
obsrvd_instance* obsrvd_running::s_instance = nullptr;

TEST_F(obsrvd_running, kcat_lists_the_16_topics_with_4_partitions) {
    ASSERT_TRUE(have_program("kcat")) << "install kcat (scripts/setup.sh does)";
    auto r = run({"/usr/bin/env", "kcat", "-b", s_instance->bootstrap(), "-L", "-J"}, scaled(30s));
    ASSERT_EQ(r.status, 0) << r.err;
    simdjson::dom::parser parser;
    auto doc = parse_json(parser, r.out);
    simdjson::dom::array topics;
    ASSERT_EQ(doc["topics"].get(topics), simdjson::SUCCESS);
    std::map<std::string, size_t> partitions;
    for (auto topic : topics) {
        std::string_view name;
        simdjson::dom::array parts;
        ASSERT_EQ(topic["topic"].get(name), simdjson::SUCCESS);
        ASSERT_EQ(topic["partitions"].get(parts), simdjson::SUCCESS);
        partitions[std::string(name)] = parts.size();
    }
    std::vector<std::string> expected = {
        "ingest", "raw", "unique", "denorm", "transform", "failed", "transform.failed",
        "system.events", "system.telemetry.events", "stats", "masterdata.ingest",
        "masterdata.stats", "masterdata.failed", "hudi.connector.in", "obsrv-connectors-metrics",
        "connectors.failed",
        // the pipeline's router topics of the shipped datasets
        "telemetry", "vehicle-telemetry", "vehicles"};
    EXPECT_EQ(partitions.size(), 19u);
    for (const auto& name : expected) {
        EXPECT_EQ(partitions[name], 4u) << name;
    }
}

TEST_F(obsrvd_running, kcat_produces_and_consumes_through_the_embedded_broker) {
    ASSERT_TRUE(have_program("kcat"));
    auto input = s_instance->dir() + "/message.txt";
    std::ofstream(input) << "{\"hello\":\"kafka\"}\n";
    auto produced = run(
        {"/bin/sh", "-c", "kcat -P -b " + s_instance->bootstrap() + " -t stats -p 2 < " + input},
        scaled(30s));
    ASSERT_EQ(produced.status, 0) << produced.err;
    auto consumed = run({"/usr/bin/env", "kcat", "-C", "-b", s_instance->bootstrap(), "-t", "stats",
                         "-p", "2", "-o", "beginning", "-c", "1", "-e", "-q"},
                        scaled(30s));
    ASSERT_EQ(consumed.status, 0) << consumed.err;
    EXPECT_EQ(consumed.out, "{\"hello\":\"kafka\"}\n");
}

TEST_F(obsrvd_running, obsrvctl_topics_list_shows_partitions_and_config) {
    auto human = s_instance->ctl({"topics", "list"});
    ASSERT_EQ(human.status, 0) << human.err;
    EXPECT_THAT(human.out, HasSubstr("TOPIC"));
    EXPECT_THAT(human.out, HasSubstr("RETENTION.MS"));
    EXPECT_THAT(human.out, HasSubstr("604800000*"));

    auto r = s_instance->ctl({"--json", "topics", "list"});
    ASSERT_EQ(r.status, 0) << r.err;
    simdjson::dom::parser parser;
    auto doc = parse_json(parser, r.out);
    bool embedded = false;
    ASSERT_EQ(doc["embedded"].get(embedded), simdjson::SUCCESS);
    EXPECT_TRUE(embedded);
    simdjson::dom::array topics;
    ASSERT_EQ(doc["topics"].get(topics), simdjson::SUCCESS);
    EXPECT_EQ(topics.size(), 19u);  // 16 configured + 3 router topics of the pipeline
    for (auto t : topics) {
        int64_t partitions = 0, retention = 0, max_message = 0;
        std::string_view status;
        std::string_view name;
        ASSERT_EQ(t["name"].get(name), simdjson::SUCCESS);
        if (name == "telemetry" || name == "vehicle-telemetry" || name == "vehicles") {
            continue;  // router topics: created by the pipeline, not in kafka.topics.names
        }
        ASSERT_EQ(t["partitions"].get(partitions), simdjson::SUCCESS);
        ASSERT_EQ(t["retention_ms"].get(retention), simdjson::SUCCESS);
        ASSERT_EQ(t["max_message_bytes"].get(max_message), simdjson::SUCCESS);
        ASSERT_EQ(t["status"].get(status), simdjson::SUCCESS);
        EXPECT_EQ(partitions, 4);
        EXPECT_EQ(retention, 604800000);
        EXPECT_EQ(max_message, 5242880);
        EXPECT_EQ(status, "ok");
    }
}

TEST_F(obsrvd_running, obsrvctl_topics_apply_is_idempotent) {
    for (int round = 0; round < 2; ++round) {
        auto r = s_instance->ctl({"topics", "apply"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_THAT(r.out, HasSubstr("16 topics: 0 created, 16 existed, 0 with another partition "
                                     "count, 0 failed"));
    }
}

TEST_F(obsrvd_running, obsrvctl_groups_shows_committed_end_and_lag) {
    const auto bootstrap = s_instance->bootstrap();
    ASSERT_EQ(produce(bootstrap, "system.telemetry.events", 1, 12), 12);
    ASSERT_EQ(consume_and_commit(bootstrap, "ctl-group", "system.telemetry.events", 5, scaled(30s))
                  .size(),
              5u);
    auto r = s_instance->ctl({"--json", "groups", "--group", "ctl-group"});
    ASSERT_EQ(r.status, 0) << r.err;
    // The running pipeline's group is listed too (obsrvd reports it; --group adds others).
    EXPECT_THAT(
        r.out,
        HasSubstr(R"({"group":"ctl-group","total_lag":7,"partitions":[{"topic":)"
                  R"("system.telemetry.events","partition":1,"committed":5,"end":12,"lag":7}]})"));
    EXPECT_THAT(r.out, HasSubstr(R"({"group":"unified-pipeline-group",)"));
    // And the cache indexer's (memory store: a group of this process's own).
    EXPECT_THAT(r.out, HasSubstr(R"({"group":"cache-indexer-group-)"));
    auto human = s_instance->ctl({"groups", "--group", "ctl-group"});
    ASSERT_EQ(human.status, 0) << human.err;
    EXPECT_THAT(human.out, HasSubstr("group ctl-group: total lag 7"));
}

TEST_F(obsrvd_running, metrics_pass_promtool) {
    ASSERT_TRUE(have_program("promtool")) << "install prometheus (scripts/setup.sh does)";
    auto r = http::get("127.0.0.1", s_instance->admin_port(), "/metrics", 5s);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, 200);
    EXPECT_THAT(std::string(r->header_value("Content-Type")), HasSubstr("version=0.0.4"));
    EXPECT_THAT(r->body, HasSubstr("obsrv_build_info{"));
    EXPECT_THAT(r->body, HasSubstr("obsrv_kafka_broker_reachable 1"));
    EXPECT_THAT(r->body, HasSubstr("process_resident_memory_bytes"));
    auto path = s_instance->dir() + "/metrics.txt";
    std::ofstream(path) << r->body;
    auto check = run({"/bin/sh", "-c", "promtool check metrics < " + path}, scaled(30s));
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    EXPECT_EQ(check.out + check.err, "") << "promtool lint findings";
}

TEST_F(obsrvd_running, health_and_ready) {
    auto health = http::get("127.0.0.1", s_instance->admin_port(), "/health", 5s);
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto ready = http::get("127.0.0.1", s_instance->admin_port(), "/ready", 5s);
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200);
    EXPECT_THAT(ready->body, HasSubstr(R"("status":"ready")"));
    EXPECT_THAT(ready->body, HasSubstr(R"("kafka":{"ok":true})"));
}

// --- stopping -------------------------------------------------------------

bool port_open(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return open;
}

class obsrvd_stop : public ::testing::TestWithParam<int> {};

TEST_P(obsrvd_stop, signal_stops_cleanly_and_promptly) {
    obsrvd_instance instance;
    ASSERT_TRUE(instance.wait_ready()) << instance.process().stderr_text();
    ASSERT_TRUE(std::filesystem::exists(instance.bootstrap_file()));
    // The process keeps its name, so `pkill obsrvd` and `pgrep obsrvd` find it.
    EXPECT_EQ(read_file("/proc/" + std::to_string(instance.process().pid()) + "/comm"), "obsrvd\n");
    auto started = std::chrono::steady_clock::now();
    instance.process().signal(GetParam());
    auto status = instance.process().wait(scaled(15s));
    ASSERT_TRUE(status.has_value()) << "still running 15 s after the signal";
    EXPECT_EQ(*status, 0) << instance.process().stderr_text();
    EXPECT_LT(std::chrono::steady_clock::now() - started, scaled(10s));
    EXPECT_THAT(instance.process().stderr_text(), HasSubstr("stopped cleanly"));
    EXPECT_FALSE(std::filesystem::exists(instance.bootstrap_file()))
        << "bootstrap file removed on clean stop";
    EXPECT_FALSE(port_open(instance.admin_port()));
}

TEST(obsrvd_start, second_instance_leaves_the_first_ones_bootstrap_file_alone) {
    obsrvd_instance first;
    ASSERT_TRUE(first.wait_ready()) << first.process().stderr_text();
    auto address = first.bootstrap();
    ASSERT_FALSE(address.empty());
    // Same bootstrap file and admin port: the second fails on the port.
    obsrvd_options same;
    same.bootstrap_file = first.bootstrap_file();
    same.admin_port = first.admin_port();
    obsrvd_instance second(same);
    auto status = second.process().wait(scaled(30s));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 1);
    EXPECT_THAT(second.process().stderr_text(), HasSubstr("(admin.port)"));
    EXPECT_EQ(first.bootstrap(), address) << "the running instance's file is untouched";
}

INSTANTIATE_TEST_SUITE_P(signals, obsrvd_stop, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& param_info) {
                             return param_info.param == SIGTERM ? "sigterm" : "sigint";
                         });

TEST(obsrvd_start, busy_admin_port_fails_start_up_naming_the_key) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto dir = make_temp_dir("busy");
    auto r =
        run({app_binary("obsrvd"), "--set", "admin.port=" + std::to_string(ntohs(addr.sin_port)),
             "--set", "gateway.port=" + std::to_string(free_port()), "--set",
             "kafka.embedded.bootstrap_file=" + dir + "/bootstrap", "--set",
             "datasets.dir=" + source_dir() + "/config/datasets"},
            scaled(30s));
    ::close(fd);
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.err, HasSubstr("(admin.port)"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/bootstrap")) << "cleaned up after failure";
}

}  // namespace
}  // namespace obsrv::testing
