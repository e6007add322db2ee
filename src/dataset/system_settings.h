#pragma once

// Obsrv's platform-wide settings (the `system_settings` table: encryptionSecretKey,
// maxEventSize, defaultDedupPeriodInSeconds, defaultDatasetId), as one value handed to whatever
// prepares datasets for the stages. In directory mode it is filled from obsrvd's configuration
// (datasets.encryption_secret_key); the defaults are Obsrv's seed values.

#include <cstdint>
#include <string>

namespace obsrv::dataset {

struct system_settings {
    std::string encryption_secret_key;
    int64_t max_event_size = 1048576;
    int64_t default_dedup_period_seconds = 604800;
    std::string default_dataset_id = "ALL";
};

}  // namespace obsrv::dataset
