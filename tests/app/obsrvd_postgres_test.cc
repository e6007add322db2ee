// obsrvd as a process with datasets.source=postgres: datasets come from a real PostgreSQL
// server holding Obsrv's tables, and the gateway serves them.

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/http_client.h"
#include "obsrv_tables.h"
#include "postgres_server.h"
#include "subprocess.h"
#include "test_env.h"

namespace obsrv::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr std::string_view k_body =
    R"({"id":"api.data.in","ver":"1.0","ts":"1711966306164","params":{"msgid":"m1"},"data":{"id":"1"}})";

std::string dataset_row(const std::string& id) {
    return "INSERT INTO datasets (id, dataset_id, type, status, updated_date, api_version, "
           "router_config, dataset_config) VALUES ('" +
           id + "', '" + id + "', 'event', 'Live', now(), 'v2', '{\"topic\": \"" + id +
           "\"}', '{\"keys_config\": {}}')";
}

class obsrvd_postgres_test : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        auto launched = postgres_server::launch();
        if (!launched) {
            skip_reason = new std::string(launched.error().message);
            return;
        }
        server = launched->release();
    }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    void SetUp() override {
        if (!server) {
            GTEST_SKIP() << *skip_reason;
        }
        sql(obsrv_tables_ddl());
    }
    void sql(const std::string& statement) {
        auto st = server->execute(statement);
        ASSERT_TRUE(st) << st.error().message;
    }

    std::vector<std::string> postgres_args(uint16_t port) const {
        return {"--set", "datasets.source=postgres", "--set",
                "datasets.postgres.host=" + server->host(), "--set",
                "datasets.postgres.port=" + std::to_string(port), "--set",
                "datasets.postgres.dbname=" + server->dbname(), "--set",
                "datasets.postgres.user=" + server->user(), "--set",
                "datasets.postgres.password_file=" + server->password_file(), "--set",
                "datasets.postgres.refresh_interval_ms=200",
                // Shipped in config/datasets, which must not be read in this mode.
                "--set", "datasets.dir=" + source_dir() + "/config/datasets"};
    }

    static postgres_server* server;
    static std::string* skip_reason;
};

postgres_server* obsrvd_postgres_test::server = nullptr;
std::string* obsrvd_postgres_test::skip_reason = nullptr;

TEST_F(obsrvd_postgres_test, the_gateway_serves_datasets_from_postgres_and_sees_new_rows) {
    sql(dataset_row("pg-only"));
    auto dir = make_temp_dir("obsrvd-pg");
    const uint16_t admin_port = free_port();
    const uint16_t gateway_port = free_port();
    std::vector<std::string> argv = {app_binary("obsrvd"),
                                     "--roles",
                                     "gateway",
                                     "--set",
                                     "admin.port=" + std::to_string(admin_port),
                                     "--set",
                                     "gateway.port=" + std::to_string(gateway_port),
                                     "--set",
                                     "gateway.workers=1",
                                     "--set",
                                     "kafka.embedded.bootstrap_file=" + dir + "/bootstrap"};
    auto pg = postgres_args(server->port());
    argv.insert(argv.end(), pg.begin(), pg.end());
    subprocess obsrvd(argv);
    ASSERT_TRUE(wait_until(
        [&] {
            auto r = http::get("127.0.0.1", admin_port, "/ready", 1s);
            return (r && r->status == 200) || !obsrvd.running();
        },
        scaled(60s)))
        << obsrvd.stderr_text();
    ASSERT_TRUE(obsrvd.running()) << obsrvd.stderr_text();

    auto post = [&](const std::string& dataset) {
        auto r = http::post("127.0.0.1", gateway_port, "/v2/data/in/" + dataset, k_body,
                            "application/json", scaled(10s));
        return r ? r->status : -1;
    };
    EXPECT_EQ(post("pg-only"), 200);
    EXPECT_EQ(post("telemetry"), 404) << "a dataset of config/datasets, not in the table";

    // A dataset published while obsrvd runs is served without a restart.
    sql(dataset_row("pg-later"));
    EXPECT_TRUE(wait_until([&] { return post("pg-later") == 200; }, scaled(10s)));

    obsrvd.signal(SIGTERM);
    EXPECT_EQ(obsrvd.wait(scaled(30s)), 0) << obsrvd.stderr_text();
    EXPECT_THAT(obsrvd.stderr_text() + obsrvd.stdout_text(),
                HasSubstr("dataset(s) loaded from postgres obsrv@127.0.0.1:"));
}

TEST_F(obsrvd_postgres_test, an_unreachable_database_fails_start_up_naming_the_key) {
    auto dir = make_temp_dir("obsrvd-pg");
    std::vector<std::string> argv = {app_binary("obsrvd"),
                                     "--roles",
                                     "gateway",
                                     "--set",
                                     "admin.port=" + std::to_string(free_port()),
                                     "--set",
                                     "gateway.port=" + std::to_string(free_port()),
                                     "--set",
                                     "kafka.embedded.bootstrap_file=" + dir + "/bootstrap",
                                     "--set",
                                     "datasets.postgres.startup_timeout_ms=1500"};
    const uint16_t closed_port = free_port();
    auto pg = postgres_args(closed_port);
    argv.insert(argv.end(), pg.begin(), pg.end());
    auto r = run(argv, scaled(60s));
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.err, HasSubstr("datasets.postgres: cannot connect to postgres obsrv@127.0.0.1:" +
                                 std::to_string(closed_port) + "/obsrv"));
    EXPECT_THAT(r.err, HasSubstr("gave up after 1500 ms: datasets.postgres.startup_timeout_ms"));
}

TEST(obsrvd_postgres_config, a_bad_value_names_the_key) {
    auto r = run({app_binary("obsrvd"), "--set", "datasets.source=mysql", "--check-config"},
                 scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("key 'datasets.source'"));
    r = run({app_binary("obsrvd"), "--set", "datasets.source=postgres", "--set",
             "datasets.postgres.host=", "--check-config"},
            scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("key 'datasets.postgres.host': must not be empty"));
    r = run({app_binary("obsrvd"), "--set", "datasets.postgres.refresh_interval_ms=5",
             "--check-config"},
            scaled(20s));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.err, HasSubstr("key 'datasets.postgres.refresh_interval_ms'"));
}

}  // namespace
}  // namespace obsrv::testing
