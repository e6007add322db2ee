// The registry reading Obsrv's tables from a real PostgreSQL server (one per test file), created
// with the DDL of Obsrv's migrations.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataset/postgres_source.h"
#include "dataset/registry.h"
#include "obsrv_tables.h"
#include "postgres_server.h"
#include "test_env.h"

namespace obsrv::dataset {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::postgres_server;

constexpr const char* k_v2_row = R"sql(
INSERT INTO datasets (id, dataset_id, type, name, validation_config, extraction_config,
    dedup_config, data_schema, denorm_config, router_config, dataset_config, tags, data_version,
    status, created_by, updated_by, updated_date, api_version, entry_topic, alias)
VALUES ('telemetry', 'telemetry', 'event', 'Telemetry',
    '{"validate": true, "mode": "IgnoreNewFields"}',
    '{"is_batch_event": true, "extraction_key": "events", "dedup_config": {"drop_duplicates": true, "dedup_key": "id", "dedup_period": 3600}}',
    '{"drop_duplicates": true, "dedup_key": "mid", "dedup_period": 3600}',
    '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"mid": {"type": "string"}}}',
    '{"redis_db_host": "localhost", "redis_db_port": 6380, "denorm_fields": [{"denorm_key": "vehicleCode", "denorm_out_field": "vehicleData", "dataset_id": "vehicles", "redis_db": 3}]}',
    '{"topic": "telemetry-out"}',
    '{"indexing_config": {"olap_store_enabled": true, "lakehouse_enabled": false, "cache_enabled": false}, "keys_config": {"data_key": "", "partition_key": "", "timestamp_key": "ets", "timestamp_format": null}, "dataset_tz": null, "exclude_fields": []}',
    ARRAY['sunbird', 'telemetry'], 2, 'Live', 'SYSTEM', 'SYSTEM', now(), 'v2', 'telemetry-in',
    'sunbird-telemetry');
)sql";

// An obsrv 1.x row: api_version left at the column default, flat dataset_config.
constexpr const char* k_v1_row = R"sql(
INSERT INTO datasets (id, dataset_id, type, name, router_config, dataset_config, data_version,
    status, created_by, updated_by, updated_date)
VALUES ('vehicles', 'vehicles', 'master', 'vehicles', '{"topic": "vehicles"}',
    '{"data_key": "vehicleCode", "timestamp_key": "updatedAt", "entry_topic": "masterdata.ingest", "redis_db_host": "localhost", "redis_db_port": 6379, "redis_db": 3, "index_data": false}',
    1, 'Live', 'SYSTEM', 'SYSTEM', now());
)sql";

std::string minimal_row(const std::string& id, const std::string& extra_columns = {},
                        const std::string& extra_values = {}) {
    return "INSERT INTO datasets (id, dataset_id, type, status, updated_date, api_version, "
           "router_config, dataset_config" +
           extra_columns + ") VALUES ('" + id + "', '" + id +
           "', 'event', 'Live', now(), 'v2', '{\"topic\": \"" + id +
           "\"}', '{\"keys_config\": {}}'" + extra_values + ");";
}

int64_t data_version_of(const registry& reg, std::string_view key) {
    auto snap = reg.current();
    const dataset* ds = snap->find(key);
    return ds ? ds->data_version : -1;
}

class postgres_registry_test : public ::testing::Test {
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
        ASSERT_TRUE(server->start());  // a test that stopped it may have failed midway
        sql(testing::obsrv_tables_ddl());
    }

    void sql(const std::string& statement) {
        auto st = server->execute(statement);
        ASSERT_TRUE(st) << st.error().message << "\n" << statement;
    }

    postgres_options options() const {
        postgres_options o;
        o.host = server->host();
        o.port = server->port();
        o.dbname = server->dbname();
        o.user = server->user();
        o.password = server->password();
        o.connect_timeout_s = 2;
        o.refresh_interval = 100ms;
        return o;
    }

    std::unique_ptr<registry> make_registry(postgres_options o) {
        return std::make_unique<registry>(std::make_unique<postgres_source>(std::move(o)), metrics);
    }
    std::unique_ptr<registry> make_registry() { return make_registry(options()); }

    static postgres_server* server;
    static std::string* skip_reason;
    metrics::registry metrics;
};

postgres_server* postgres_registry_test::server = nullptr;
std::string* postgres_registry_test::skip_reason = nullptr;

TEST_F(postgres_registry_test, loads_v2_and_v1_rows) {
    sql(k_v2_row);
    sql(k_v1_row);
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());
    auto summary = reg->last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(summary.files, 2u);
    EXPECT_EQ(summary.version, 1u);
    auto snap = reg->current();
    ASSERT_EQ(snap->size(), 2u);

    const dataset* t = snap->find("sunbird-telemetry");  // the alias column
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dataset_id, "telemetry");
    EXPECT_EQ(t->origin, "datasets row 'telemetry'");
    EXPECT_EQ(t->name, "Telemetry");
    EXPECT_EQ(t->version, api_version::v2);
    EXPECT_EQ(t->status, dataset_status::live);
    EXPECT_EQ(t->entry_topic, "telemetry-in");
    EXPECT_EQ(t->data_version, 2);
    EXPECT_EQ(t->tags, (std::vector<std::string>{"sunbird", "telemetry"}));
    EXPECT_EQ(t->validation_config.mode, validation_mode::ignore_new_fields);
    EXPECT_TRUE(t->extraction_config.is_batch_event);
    EXPECT_EQ(t->extraction_config.dedup_config.dedup_period, 3600);
    EXPECT_EQ(t->dedup_config.dedup_key, "mid");
    EXPECT_EQ(t->data_schema,
              R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",)"
              R"("properties":{"mid":{"type":"string"}}})");
    EXPECT_EQ(t->denorm_config.redis_db_port, 6380);
    ASSERT_EQ(t->denorm_config.denorm_fields.size(), 1u);
    EXPECT_EQ(t->denorm_config.denorm_fields[0].redis_db, 3);
    EXPECT_EQ(t->router_config.topic, "telemetry-out");
    EXPECT_EQ(t->dataset_config.keys_config.timestamp_key, "ets");
    EXPECT_FALSE(t->dataset_config.indexing_config.lakehouse_enabled);
    EXPECT_TRUE(t->transformations_config.empty());

    const dataset* v = snap->find("vehicles");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->version, api_version::v1);
    EXPECT_EQ(v->type, dataset_type::master);
    EXPECT_EQ(v->entry_topic, "masterdata.ingest");  // v1: dataset_config.entry_topic
    EXPECT_EQ(v->dataset_config.keys_config.data_key, "vehicleCode");
    EXPECT_EQ(v->dataset_config.keys_config.timestamp_key, "updatedAt");
    EXPECT_EQ(v->dataset_config.cache_config.redis_db, 3);
    EXPECT_FALSE(v->dataset_config.indexing_config.olap_store_enabled);  // index_data
    EXPECT_TRUE(v->dataset_config.indexing_config.cache_enabled);
}

TEST_F(postgres_registry_test, transformation_rows_become_the_datasets_transformations) {
    sql(minimal_row("d1"));
    sql(minimal_row("d2"));
    sql(R"sql(
INSERT INTO dataset_transformations (id, dataset_id, field_key, transformation_function, status,
    mode, created_by, updated_by, updated_date) VALUES
  ('d1_email', 'd1', 'dealer.email',
   '{"type": "mask", "expr": "dealer.email", "datatype": "string", "category": "pii"}',
   'Live', 'Strict', 'SYSTEM', 'SYSTEM', now()),
  ('d1_total', 'd1', 'total',
   '{"type": "jsonata", "expr": "a + b", "condition": {"type": "jsonata", "expr": "a > 0"}, "category": "derived"}',
   'Live', 'Lenient', 'SYSTEM', 'SYSTEM', now()),
  ('d1_card', 'd1', 'card', '{"type": "encrypt", "expr": "card"}', 'Live', NULL,
   'SYSTEM', 'SYSTEM', now());
)sql");
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());
    auto snap = reg->current();
    const dataset* d1 = snap->find("d1");
    ASSERT_NE(d1, nullptr);
    ASSERT_EQ(d1->transformations_config.size(), 3u);
    // Ordered by field_key.
    const auto& card = d1->transformations_config[0];
    EXPECT_EQ(card.field_key, "card");
    EXPECT_EQ(card.function_type, "encrypt");
    EXPECT_EQ(card.mode, transform_mode::strict);  // NULL mode: Strict, as Obsrv
    const auto& email = d1->transformations_config[1];
    EXPECT_EQ(email.field_key, "dealer.email");
    EXPECT_EQ(email.function_type, "mask");
    EXPECT_EQ(email.expr, "dealer.email");
    EXPECT_EQ(email.category, "pii");
    const auto& total = d1->transformations_config[2];
    EXPECT_EQ(total.mode, transform_mode::lenient);
    EXPECT_EQ(total.condition_type, "jsonata");
    EXPECT_EQ(total.condition_expr, "a > 0");
    EXPECT_TRUE(snap->find("d2")->transformations_config.empty());

    // A transformation changed alone changes its dataset.
    sql("UPDATE dataset_transformations SET mode = 'Lenient' WHERE id = 'd1_card'");
    auto summary = reg->reload();
    EXPECT_TRUE(summary.changed);
    EXPECT_EQ(reg->current()->find("d1")->transformations_config[0].mode, transform_mode::lenient);
}

TEST_F(postgres_registry_test, system_settings_are_read_with_obsrv_type_checks) {
    sql(minimal_row("d1"));
    sql(testing::obsrv_seed_system_settings("0123456789abcdef"));
    sql("UPDATE system_settings SET value = '2097152' WHERE key = 'maxEventSize'");
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());
    const auto& system = reg->current()->system_config();
    EXPECT_EQ(system.encryption_secret_key, "0123456789abcdef");
    EXPECT_EQ(system.max_event_size, 2097152);
    EXPECT_EQ(system.default_dedup_period_seconds, 604800);
    EXPECT_EQ(system.default_dataset_id, "ALL");
    EXPECT_EQ(reg->last_summary().result, reload_summary::outcome::ok);

    // A wrong valuetype is reported and the setting keeps its value.
    sql("UPDATE system_settings SET valuetype = 'string', value = '10' WHERE key = "
        "'maxEventSize'");
    auto summary = reg->reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    EXPECT_FALSE(summary.changed);
    ASSERT_EQ(summary.errors.size(), 1u);
    EXPECT_EQ(summary.errors[0].file, "system_settings 'maxEventSize'");
    EXPECT_EQ(summary.errors[0].message,
              "system_settings 'maxEventSize': field 'valuetype': expected 'long' (Obsrv reads "
              "maxEventSize as a long), got 'string'; keeping the previous value");
    EXPECT_EQ(reg->current()->system_config().max_event_size, 2097152);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_file_errors_total 1\n"));
    reg->reload();  // still wrong: counted once
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_file_errors_total 1\n"));

    // Fixed, and the key changed: a new snapshot carries the new settings.
    sql("UPDATE system_settings SET valuetype = 'long' WHERE key = 'maxEventSize'; "
        "UPDATE system_settings SET value = 'fedcba9876543210' WHERE key = "
        "'encryptionSecretKey'");
    summary = reg->reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_TRUE(summary.changed);
    EXPECT_EQ(reg->current()->system_config().max_event_size, 10);
    EXPECT_EQ(reg->current()->system_config().encryption_secret_key, "fedcba9876543210");
    EXPECT_EQ(reg->version(), 2u);

    // A removed row goes back to Obsrv's default.
    sql("DELETE FROM system_settings WHERE key = 'maxEventSize'");
    reg->reload();
    EXPECT_EQ(reg->current()->system_config().max_event_size, 1048576);
}

TEST_F(postgres_registry_test, refresh_picks_up_insert_update_and_delete_without_restart) {
    sql(minimal_row("d1"));
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());
    ASSERT_TRUE(reg->start_watching());
    const auto wait = testing::scaled(10s);

    sql(minimal_row("d2"));
    EXPECT_TRUE(testing::wait_until([&] { return reg->current()->find("d2") != nullptr; }, wait));

    sql("UPDATE datasets SET data_version = 7, updated_date = now() WHERE id = 'd1'");
    EXPECT_TRUE(testing::wait_until([&] { return data_version_of(*reg, "d1") == 7; }, wait));

    // Retired stays known (as Obsrv: the gateway answers "not Live", the validator drops).
    sql("UPDATE datasets SET status = 'Retired', updated_date = now() WHERE id = 'd2'");
    EXPECT_TRUE(testing::wait_until(
        [&] {
            const dataset* ds = reg->current()->find("d2");
            return ds && ds->status == dataset_status::retired;
        },
        wait));

    sql("DELETE FROM datasets WHERE id = 'd2'");
    EXPECT_TRUE(testing::wait_until([&] { return reg->current()->find("d2") == nullptr; }, wait));
    EXPECT_NE(reg->current()->find("d1"), nullptr);

    // Polls that find nothing new publish nothing; neither does a publish of the same content.
    auto version = reg->version();
    auto reloads = reg->reload_count();
    sql("UPDATE datasets SET updated_date = now() + interval '1 minute', version = version + 1 "
        "WHERE id = 'd1'");
    EXPECT_TRUE(testing::wait_until([&] { return reg->reload_count() >= reloads + 3; }, wait));
    EXPECT_EQ(reg->version(), version);
    reg->stop();
}

TEST_F(postgres_registry_test, a_broken_row_keeps_its_previous_version_and_is_reported) {
    sql(minimal_row("d1", ", data_version", ", 3"));
    sql(minimal_row("d2"));
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());

    sql("UPDATE datasets SET data_version = 4, validation_config = '{\"mode\": \"strict\"}' "
        "WHERE id = 'd1'");
    auto summary = reg->reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    ASSERT_EQ(summary.errors.size(), 1u);
    EXPECT_EQ(summary.errors[0].file, "datasets row 'd1'");
    EXPECT_EQ(summary.errors[0].message,
              "datasets row 'd1': field 'validation_config.mode': unknown value 'strict' "
              "(expected Strict|IgnoreNewFields|DiscardNewFields)");
    EXPECT_EQ(summary.kept_previous, 1u);
    EXPECT_EQ(data_version_of(*reg, "d1"), 3);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_broken_files 1\n"));
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_file_errors_total 1\n"));

    // A broken transformation row breaks its dataset the same way.
    sql("UPDATE datasets SET validation_config = NULL WHERE id = 'd1'");
    sql("INSERT INTO dataset_transformations (id, dataset_id, field_key, transformation_function, "
        "status, created_by, updated_by, updated_date) VALUES ('t', 'd1', 'x', '{\"expr\": "
        "\"y\"}', 'Live', 'SYSTEM', 'SYSTEM', now())");
    summary = reg->reload();
    ASSERT_EQ(summary.errors.size(), 1u);
    EXPECT_EQ(summary.errors[0].message,
              "datasets row 'd1': field 'transformations_config[0].transformation_function.type': "
              "required");
    EXPECT_EQ(data_version_of(*reg, "d1"), 3);

    // A new row that does not parse contributes nothing.
    sql("INSERT INTO datasets (id, dataset_id, type, status, updated_date) VALUES ('d3', 'd3', "
        "'stream', 'Live', now())");
    summary = reg->reload();
    EXPECT_EQ(summary.errors.size(), 2u);
    EXPECT_EQ(reg->current()->find("d3"), nullptr);

    // Fixed: served again.
    sql("UPDATE dataset_transformations SET transformation_function = '{\"type\": \"mask\", "
        "\"expr\": \"y\"}'; DELETE FROM datasets WHERE id = 'd3'");
    summary = reg->reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(data_version_of(*reg, "d1"), 4);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_broken_files 0\n"));
}

TEST_F(postgres_registry_test, the_database_going_away_keeps_the_snapshot_until_it_returns) {
    sql(minimal_row("d1"));
    auto reg = make_registry();
    ASSERT_TRUE(reg->load());
    ASSERT_TRUE(reg->start_watching());
    const auto version = reg->version();

    server->stop();
    const auto wait = testing::scaled(20s);
    EXPECT_TRUE(testing::wait_until(
        [&] { return reg->last_summary().result == reload_summary::outcome::failed; }, wait));
    auto summary = reg->last_summary();
    EXPECT_THAT(summary.message, HasSubstr("postgres obsrv@127.0.0.1:"));
    EXPECT_EQ(summary.version, version);
    EXPECT_EQ(reg->version(), version);
    EXPECT_NE(reg->current()->find("d1"), nullptr);
    EXPECT_THAT(metrics.render(), ::testing::ContainsRegex("obsrv_datasets_reloads_total\\{"
                                                           "result=\"failed\"\\} [1-9]"));

    ASSERT_TRUE(server->start());
    sql(minimal_row("d2"));
    EXPECT_TRUE(testing::wait_until([&] { return reg->current()->find("d2") != nullptr; }, wait));
    EXPECT_EQ(reg->last_summary().result, reload_summary::outcome::ok);
    EXPECT_NE(reg->current()->find("d1"), nullptr);
    reg->stop();
}

TEST_F(postgres_registry_test, a_notification_reloads_before_the_next_poll) {
    sql(minimal_row("d1"));
    auto o = options();
    o.refresh_interval = 1h;
    o.notify_channel = "obsrv_datasets";
    auto reg = make_registry(o);
    ASSERT_TRUE(reg->load());
    ASSERT_TRUE(reg->start_watching());
    // The listener connects on the watcher thread; a notification sent before it listens is
    // lost, so notify until the change is seen.
    sql(minimal_row("d2"));
    EXPECT_TRUE(testing::wait_until(
        [&] {
            (void)server->execute("NOTIFY obsrv_datasets");
            return reg->current()->find("d2") != nullptr;
        },
        testing::scaled(10s)));
    reg->stop();
}

TEST_F(postgres_registry_test, start_up_failures_name_the_key) {
    auto o = options();
    o.port = testing::free_port();
    auto unreachable = make_registry(o);
    auto st = unreachable->load();
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("datasets.postgres: cannot connect to postgres "
                                              "obsrv@127.0.0.1:" +
                                              std::to_string(o.port) + "/obsrv"));

    auto wrong_password = options();
    wrong_password.password = "nope";
    st = make_registry(wrong_password)->load();
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("password authentication failed"));

    sql("DROP TABLE system_settings");
    st = make_registry()->load();
    ASSERT_FALSE(st);
    EXPECT_THAT(st.error().message, HasSubstr("reading table system_settings"));
}

}  // namespace
}  // namespace obsrv::dataset
