// Every dataset file shipped in config/datasets/ must load, cleanly, as obsrvd would load it.

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dataset/parse.h"
#include "dataset/registry.h"
#include "test_env.h"

namespace obsrv::dataset {
namespace {

namespace fs = std::filesystem;

std::string shipped_dir() {
    return testing::source_dir() + "/config/datasets";
}

TEST(shipped_datasets, every_json_file_parses_and_is_named_after_its_dataset) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator(shipped_dir())) {
        const auto name = entry.path().filename().string();
        if (entry.path().extension() != ".json") {
            continue;
        }
        ++count;
        EXPECT_TRUE(is_dataset_file_name(name)) << name;
        auto parsed = parse_dataset(testing::read_file(entry.path().string()), name);
        ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
        EXPECT_EQ(parsed->dataset_id + ".json", name);
        EXPECT_EQ(parsed->status, dataset_status::live) << name;
        EXPECT_EQ(parsed->version, api_version::v2) << name;
        EXPECT_EQ(parsed->entry_topic, "ingest") << name;
        EXPECT_EQ(parsed->router_config.topic, parsed->dataset_id) << name;
        EXPECT_FALSE(parsed->data_schema.empty()) << name;
    }
    EXPECT_GE(count, 2);
}

TEST(shipped_datasets, directory_loads_without_errors_or_conflicts) {
    metrics::registry metrics;
    registry reg(shipped_dir(), metrics);
    ASSERT_TRUE(reg.load().has_value());
    auto summary = reg.last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_TRUE(summary.errors.empty());
    EXPECT_TRUE(summary.conflicts.empty());
    auto snap = reg.current();
    EXPECT_EQ(snap->size(), summary.files);
    ASSERT_NE(snap->find("telemetry"), nullptr);
    EXPECT_TRUE(snap->find("telemetry")->extraction_config.is_batch_event);
    ASSERT_NE(snap->find("sunbird-telemetry"), nullptr);  // the sample's alias
    EXPECT_EQ(snap->find("sunbird-telemetry")->dataset_id, "telemetry");
    ASSERT_NE(snap->find("vehicle-telemetry"), nullptr);
    EXPECT_FALSE(snap->find("vehicle-telemetry")->extraction_config.is_batch_event);
    // Denorm fields point at a master dataset that is shipped too.
    for (const auto& ds : snap->datasets()) {
        for (const auto& field : ds->denorm_config.denorm_fields) {
            const dataset* master = snap->by_dataset_id(field.dataset_id);
            ASSERT_NE(master, nullptr) << ds->dataset_id << " -> " << field.dataset_id;
            EXPECT_EQ(master->type, dataset_type::master);
            EXPECT_EQ(master->dataset_config.cache_config.redis_db, field.redis_db);
        }
    }
}

}  // namespace
}  // namespace obsrv::dataset
