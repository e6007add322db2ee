#include "obsrv_tables.h"

namespace obsrv::testing {

std::string obsrv_tables_ddl() {
    return R"sql(
SET client_min_messages = warning;
DROP TABLE IF EXISTS dataset_transformations;
DROP TABLE IF EXISTS datasets;
DROP TABLE IF EXISTS system_settings;

-- V1__create_obsrv_initial_data.sql
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    dataset_id TEXT,
    type TEXT NOT NULL,
    name TEXT,
    validation_config JSON,
    extraction_config JSON,
    dedup_config JSON,
    data_schema JSON,
    denorm_config JSON,
    router_config JSON,
    dataset_config JSON,
    tags TEXT[],
    data_version INT,
    status TEXT,
    created_by TEXT,
    updated_by TEXT,
    created_date TIMESTAMP NOT NULL DEFAULT now(),
    updated_date TIMESTAMP NOT NULL,
    published_date TIMESTAMP NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS datasets_status ON datasets(status);

CREATE TABLE IF NOT EXISTS dataset_transformations (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets (id),
  field_key TEXT NOT NULL,
  transformation_function JSON,
  status TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  created_date TIMESTAMP NOT NULL DEFAULT now(),
  updated_date TIMESTAMP NOT NULL,
  published_date TIMESTAMP NOT NULL DEFAULT now(),
  UNIQUE (dataset_id, field_key)
);

CREATE INDEX IF NOT EXISTS dataset_transformations_dataset ON dataset_transformations (dataset_id);

CREATE INDEX IF NOT EXISTS dataset_transformations_status ON dataset_transformations (status);

CREATE TABLE IF NOT EXISTS system_settings (
  "key" text NOT NULL,
  "value" text NOT NULL,
  "category" text NOT NULL DEFAULT 'SYSTEM'::text,
  "type" text NOT NULL,
  "created_date" timestamp NOT NULL DEFAULT now(),
  "updated_date" timestamp,
  "label" text,
  PRIMARY KEY ("key")
);

-- V2__create_system_settings.sql
ALTER TABLE dataset_transformations ADD mode TEXT, ADD metadata JSON;
ALTER TABLE system_settings RENAME COLUMN "type" TO valuetype;

-- V4__update_dataset_ddl.sql
ALTER TABLE datasets
  ADD COLUMN api_version VARCHAR(255) NOT NULL default 'v1',
  ADD COLUMN version INTEGER NOT NULL default 1,
  ADD COLUMN sample_data JSON default '{}',
  ADD COLUMN entry_topic TEXT NOT NULL default 'ingest';

-- V6__dataset_alias.sql
ALTER TABLE datasets ADD COLUMN alias TEXT;
CREATE UNIQUE INDEX unique_alias ON datasets (alias) WHERE alias IS NOT NULL;
)sql";
}

std::string obsrv_seed_system_settings(const std::string& key) {
    return R"sql(
INSERT INTO system_settings VALUES
   ('encryptionSecretKey', ')sql" +
           key + R"sql(', 'SYSTEM', 'string', now(), now(), 'Data Encryption Secret Key'),
   ('defaultDatasetId', 'ALL', 'SYSTEM', 'string', now(), now(), 'Default Dataset ID'),
   ('maxEventSize', '1048576', 'SYSTEM', 'long', now(), now(), 'Maximum Event Size (per event)'),
   ('defaultDedupPeriodInSeconds', '604800', 'SYSTEM', 'int', now(), now(), 'Default Dedup Period (in seconds)') ON CONFLICT DO NOTHING;
)sql";
}

}  // namespace obsrv::testing
