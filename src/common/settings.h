#pragma once

// Typed view of the whole configuration. Filled from the key table in
// config_schema.cc (defaults), then the YAML file, then `--set` overrides;
// components read fields directly and never look keys up by string.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace obsrv {

struct log_settings {
    std::string level;
    std::string format;
};

struct admin_settings {
    std::string bind;
    int64_t port = 0;
};

struct gateway_settings {
    std::string bind;
    int64_t port = 0;
    int64_t workers = 0;  // 0: one per core
    std::string ack;      // persisted|enqueued
    int64_t max_connections = 0;
    int64_t max_head_bytes = 0;
    int64_t max_header_count = 0;
    int64_t max_body_bytes = 0;
    int64_t idle_timeout_ms = 0;
    int64_t request_timeout_ms = 0;
    int64_t max_pipelined = 0;
    int64_t max_inflight_bytes = 0;
    int64_t max_queued_messages = 0;
    int64_t retry_after_s = 0;
    bool reject_when_brokers_down = false;
    bool minify = false;
    int64_t ring_entries = 0;
    int64_t buffer_size = 0;
    int64_t buffer_count = 0;
    int64_t completion_batch = 0;
    int64_t completion_wait_us = 0;
};

struct datasets_postgres_settings {
    std::string host;
    int64_t port = 0;
    std::string dbname;
    std::string user;
    std::string password;
    std::string password_file;
    std::string sslmode;
    int64_t connect_timeout_s = 0;
    int64_t query_timeout_ms = 0;
    int64_t refresh_interval_ms = 0;
    std::string notify_channel;
    int64_t startup_timeout_ms = 0;
};

struct datasets_settings {
    std::string source;  // dir|postgres
    std::string dir;
    bool watch = false;
    std::string encryption_secret_key;  // Obsrv's system_settings encryptionSecretKey (dir)
    datasets_postgres_settings postgres;
};

struct pipeline_dedup_settings {
    std::string store;  // memory|redis
    int64_t max_entries = 0;
    std::string snapshot_path;
    int64_t snapshot_interval_ms = 0;
    std::string redis_host;
    int64_t redis_port = 0;
    int64_t redis_db = 0;
    int64_t redis_timeout_ms = 0;
};

struct pipeline_denorm_settings {
    int64_t cache_max_entries = 0;
    int64_t cache_ttl_ms = 0;
};

struct pipeline_master_data_settings {
    std::string store;       // memory|redis
    std::string redis_host;  // empty: the dataset's
    int64_t redis_port = 0;  // 0: the dataset's
    int64_t redis_timeout_ms = 0;
    bool indexer = true;
    int64_t load_timeout_ms = 0;  // memory store: wait at start for the indexer
    std::string group;
    int64_t workers = 0;
    std::string failed_topic;
    std::string stats_topic;
};

struct pipeline_settings {
    int64_t workers = 0;  // 0: one per core
    std::string group;
    std::vector<std::string> entry_topics;
    std::string raw_topic;
    std::string unique_topic;
    std::string denorm_topic;
    std::string transform_topic;
    std::string failed_topic;
    std::string transform_failed_topic;
    std::string system_events_topic;
    bool write_raw = true;
    bool write_unique = true;
    bool write_denorm = true;
    bool write_transform = true;
    int64_t max_event_size = 0;
    std::string system_events;  // per_event|interval
    int64_t system_events_interval_ms = 0;
    int64_t ring_capacity = 0;
    int64_t commit_interval_ms = 0;
    int64_t producer_high_water = 0;
    int64_t retry_backoff_ms = 0;
    int64_t drain_timeout_ms = 0;
    pipeline_dedup_settings dedup;
    pipeline_denorm_settings denorm;
    pipeline_master_data_settings master_data;
};

struct shutdown_settings {
    int64_t timeout_ms = 0;
};

struct embedded_kafka_settings {
    int64_t broker_count = 0;
    std::string bootstrap_file;
};

struct topics_settings {
    std::vector<std::string> names;
    int64_t partitions = 0;
    int64_t replication_factor = 0;
    int64_t retention_ms = 0;
    int64_t max_message_bytes = 0;
    bool create_on_start = false;
};

/// librdkafka properties passed through verbatim (name -> value).
using client_properties = std::map<std::string, std::string>;

struct kafka_settings {
    std::string brokers;
    std::string client_id;
    int64_t admin_timeout_ms = 0;
    embedded_kafka_settings embedded;
    topics_settings topics;
    client_properties producer;
    client_properties consumer;

    /// Empty or "embedded" selects the in-process broker.
    bool use_embedded() const { return brokers.empty() || brokers == "embedded"; }
};

struct settings {
    log_settings log;
    admin_settings admin;
    gateway_settings gateway;
    datasets_settings datasets;
    pipeline_settings pipeline;
    shutdown_settings shutdown;
    kafka_settings kafka;
};

}  // namespace obsrv
