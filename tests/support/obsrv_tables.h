#pragma once

// The DDL of Obsrv's dataset tables as its migrations leave them (obsrv-automation,
// helmcharts/services/postgresql-migration/configs/migrations/03-obsrv): `datasets`,
// `dataset_transformations` and `system_settings` only, with every column those migrations give
// them. Tests create the tables with it, so obsrvd reads the layout a real Obsrv database has.

#include <string>

namespace obsrv::testing {

/// DROP (if present) and CREATE the three tables, as V1, then V2, V4 and V6 alter them.
std::string obsrv_tables_ddl();

/// The system_settings rows V2 seeds (values as helm's defaults would set them, with `key` as
/// the encryption key).
std::string obsrv_seed_system_settings(const std::string& key);

}  // namespace obsrv::testing
