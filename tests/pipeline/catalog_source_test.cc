// The pipeline's catalog follows the dataset registry, platform settings included: the
// encryption key comes with each snapshot, whatever the source.

#include <fstream>

#include <gtest/gtest.h>

#include "dataset/registry.h"
#include "pipeline/dataset_catalog.h"
#include "test_env.h"

namespace obsrv::pipeline {
namespace {

constexpr const char* k_encrypting_dataset =
    R"({"dataset_id":"secure","type":"event","status":"Live","api_version":"v2",)"
    R"("transformations_config":[{"field_key":"email",)"
    R"("transformation_function":{"type":"encrypt","expr":"email"}}]})";

std::unique_ptr<dataset::registry> registry_with_key(const std::string& dir, const std::string& key,
                                                     metrics::registry& metrics) {
    dataset::system_settings system;
    system.encryption_secret_key = key;
    auto reg = std::make_unique<dataset::registry>(
        std::make_unique<dataset::directory_source>(dir, system), metrics);
    EXPECT_TRUE(reg->load());
    return reg;
}

TEST(catalog_source, takes_the_encryption_key_from_the_snapshot) {
    auto dir = testing::make_temp_dir("catalog");
    std::ofstream(dir + "/secure.json") << k_encrypting_dataset;

    metrics::registry metrics;
    auto keyed = registry_with_key(dir, "obsrv-test-key16", metrics);
    catalog_source with_key(*keyed);
    EXPECT_NE(with_key.current()->find("secure"), nullptr);

    metrics::registry other_metrics;
    auto unkeyed = registry_with_key(dir, "", other_metrics);
    catalog_source without_key(*unkeyed);
    EXPECT_EQ(without_key.current()->find("secure"), nullptr) << "encrypt without a key is refused";
}

}  // namespace
}  // namespace obsrv::pipeline
