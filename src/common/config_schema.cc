#include "common/config_schema.h"

#include <algorithm>
#include <array>

namespace obsrv::config {
namespace {

// A captureless lambda returning a reference to the settings member; the cast
// picks the field_ref alternative from the member's type.
#define OBSRV_FIELD(type, path) \
    static_cast<type& (*)(settings&)>([](settings& s) -> type& { return s.path; })

constexpr int64_t k_max_port = 65535;
constexpr int64_t k_hour_ms = 3'600'000;

// The 14 topics of the Obsrv seed plus transform.failed and masterdata.failed
// (contracts §7).
constexpr std::string_view k_default_topics =
    "ingest\n"
    "raw\n"
    "unique\n"
    "denorm\n"
    "transform\n"
    "failed\n"
    "transform.failed\n"
    "system.events\n"
    "system.telemetry.events\n"
    "stats\n"
    "masterdata.ingest\n"
    "masterdata.stats\n"
    "masterdata.failed\n"
    "hudi.connector.in\n"
    "obsrv-connectors-metrics\n"
    "connectors.failed";

// Seed producer settings (DESIGN.md, contracts §7), plus the bounds a gateway
// needs: an explicit delivery timeout and a bounded in-memory queue.
// message.max.bytes is 6 MiB so that a 5 MB body (gateway.max_body_bytes)
// plus the Obsrv envelope fits one request; brokers check the compressed
// batch against the topic's max.message.bytes (5 MB).
constexpr std::string_view k_default_producer =
    "compression.codec=snappy\n"
    "batch.size=98304\n"
    "linger.ms=10\n"
    "enable.idempotence=true\n"
    "acks=all\n"
    "retries=5\n"
    "retry.backoff.ms=3000\n"
    "message.max.bytes=6291456\n"
    "message.timeout.ms=30000\n"
    "queue.buffering.max.messages=100000\n"
    "queue.buffering.max.kbytes=262144";

// Seed consumer settings; offsets are committed by the roles after processing.
constexpr std::string_view k_default_consumer =
    "session.timeout.ms=30000\n"
    "heartbeat.interval.ms=3000\n"
    "enable.auto.commit=false\n"
    "auto.offset.reset=earliest\n"
    "isolation.level=read_committed\n"
    "max.partition.fetch.bytes=5242880";

const std::array k_keys = {
    key_spec{"log.level", OBSRV_FIELD(std::string, log.level), "info",
             "Minimum level written to the log.", 0, 0, "trace|debug|info|warn|error|critical|off"},
    key_spec{"log.format", OBSRV_FIELD(std::string, log.format), "plain",
             "plain: human-readable lines; json: one JSON object per line (ts, level, logger, "
             "thread, msg).",
             0, 0, "plain|json"},

    key_spec{"admin.bind", OBSRV_FIELD(std::string, admin.bind), "127.0.0.1",
             "Address of the admin HTTP endpoint (/metrics, /health, /ready, /admin/*). Use "
             "0.0.0.0 to let a remote Prometheus scrape it.",
             0, 0},
    key_spec{"admin.port", OBSRV_FIELD(int64_t, admin.port), "9180",
             "Port of the admin HTTP endpoint, served for every role; 0 picks a free port "
             "(logged at start-up).",
             0, k_max_port},

    key_spec{"gateway.bind", OBSRV_FIELD(std::string, gateway.bind), "0.0.0.0",
             "Address the ingest gateway listens on.", 0, 0},
    key_spec{"gateway.port", OBSRV_FIELD(int64_t, gateway.port), "3000",
             "Port of the ingest gateway (Obsrv Dataset API routes), 3000 as Obsrv's API "
             "service.",
             1, k_max_port},
    key_spec{"gateway.workers", OBSRV_FIELD(int64_t, gateway.workers), "0",
             "io_uring worker threads (io-0, io-1, ...), each with its own ring, connections "
             "and Kafka producer; 0 means one per core.",
             0, 256},
    key_spec{"gateway.ack", OBSRV_FIELD(std::string, gateway.ack), "persisted",
             "When to answer 200: persisted = after Kafka acknowledged the message (delivery "
             "report); enqueued = once it is in the producer's queue (faster, loses data if "
             "the process dies).",
             0, 0, "persisted|enqueued"},
    key_spec{"gateway.max_connections", OBSRV_FIELD(int64_t, gateway.max_connections), "10000",
             "Open client connections across all workers; beyond it new ones are closed at "
             "once.",
             1, 1'000'000},
    key_spec{"gateway.max_head_bytes", OBSRV_FIELD(int64_t, gateway.max_head_bytes), "16384",
             "Request line plus headers; larger heads get 431 (a longer request target 414).", 1024,
             1'048'576},
    key_spec{"gateway.max_header_count", OBSRV_FIELD(int64_t, gateway.max_header_count), "100",
             "Headers per request; more get 431 (the parser holds at most 128).", 8, 128},
    key_spec{"gateway.max_body_bytes", OBSRV_FIELD(int64_t, gateway.max_body_bytes), "5242880",
             "Request body limit (5 MB, the seed's max message); larger bodies get 413, on the "
             "wire and once decoded (Content-Encoding gzip/deflate). Must leave room for the "
             "envelope under kafka.producer.message.max.bytes.",
             1024, 1'073'741'824},
    key_spec{"gateway.idle_timeout_ms", OBSRV_FIELD(int64_t, gateway.idle_timeout_ms), "60000",
             "A keep-alive connection with no request in progress is closed after this long.", 100,
             3'600'000},
    key_spec{"gateway.request_timeout_ms", OBSRV_FIELD(int64_t, gateway.request_timeout_ms),
             "30000",
             "A request must arrive whole within this time of its first byte, else 408 and the "
             "connection closes (slow clients); also bounds a client that does not read its "
             "responses.",
             100, 600'000},
    key_spec{"gateway.max_pipelined", OBSRV_FIELD(int64_t, gateway.max_pipelined), "64",
             "Requests a connection may have in flight (pipelining) before the gateway stops "
             "reading from it.",
             1, 4096},
    key_spec{"gateway.max_inflight_bytes", OBSRV_FIELD(int64_t, gateway.max_inflight_bytes),
             "134217728",
             "Kafka message bytes awaiting delivery across all workers; beyond it ingest "
             "requests get 503 with Retry-After, so memory stays bounded when Kafka is slow or "
             "down.",
             1'048'576, 68'719'476'736},
    key_spec{"gateway.max_queued_messages", OBSRV_FIELD(int64_t, gateway.max_queued_messages),
             "50000",
             "Messages waiting in a worker's producer queue; beyond it ingest requests get 503 "
             "with Retry-After.",
             1, 10'000'000},
    key_spec{"gateway.retry_after_s", OBSRV_FIELD(int64_t, gateway.retry_after_s), "1",
             "Retry-After seconds sent with 503 answers.", 1, 3600},
    key_spec{"gateway.reject_when_brokers_down",
             OBSRV_FIELD(bool, gateway.reject_when_brokers_down), "true",
             "Answer 503 at once while the broker monitor cannot reach Kafka, instead of "
             "holding requests until kafka.producer.message.timeout.ms expires.",
             0, 0},
    key_spec{"gateway.minify", OBSRV_FIELD(bool, gateway.minify), "false",
             "Strip whitespace from the request's data while copying it into the Kafka message "
             "(compact like Obsrv's JSON.stringify); false copies the bytes as sent, cheaper for "
             "the compact bodies machine clients send.",
             0, 0},
    key_spec{"gateway.ring_entries", OBSRV_FIELD(int64_t, gateway.ring_entries), "4096",
             "io_uring submission queue entries per worker (the completion queue gets 8x).", 64,
             32768},
    key_spec{"gateway.buffer_size", OBSRV_FIELD(int64_t, gateway.buffer_size), "65536",
             "Bytes of each receive buffer; a request that fits in one is parsed in place, and a "
             "v2 body filling at least half of one becomes the Kafka message in place.",
             4096, 4'194'304},
    key_spec{"gateway.buffer_count", OBSRV_FIELD(int64_t, gateway.buffer_count), "256",
             "Receive buffers per worker (a power of two).", 8, 32768},

    key_spec{"gateway.completion_batch", OBSRV_FIELD(int64_t, gateway.completion_batch), "32",
             "Under load a worker sleeps until up to this many completions are ready (as many "
             "as its last round had) or gateway.completion_wait_us passed, instead of waking "
             "per completion; 1 wakes for every completion.",
             1, 1024},
    key_spec{"gateway.completion_wait_us", OBSRV_FIELD(int64_t, gateway.completion_wait_us), "1000",
             "Longest a worker waits for a batch of completions once one is ready (bounds the "
             "latency batching can add).",
             0, 100'000},

    key_spec{"datasets.source", OBSRV_FIELD(std::string, datasets.source), "dir",
             "Where datasets come from: dir = a directory of Obsrv dataset JSON files "
             "(datasets.dir); postgres = Obsrv's tables datasets, dataset_transformations and "
             "system_settings (datasets.postgres.*), refreshed without restart.",
             0, 0, "dir|postgres"},
    key_spec{"datasets.dir", OBSRV_FIELD(std::string, datasets.dir), "config/datasets",
             "Directory of Obsrv dataset JSON files (one dataset per file); relative paths are "
             "resolved from the working directory.",
             0, 0},
    key_spec{"datasets.watch", OBSRV_FIELD(bool, datasets.watch), "true",
             "Reload datasets when they change: inotify on datasets.dir, or polling (and "
             "NOTIFY) for postgres. SIGHUP always reloads.",
             0, 0},
    key_spec{"datasets.encryption_secret_key",
             OBSRV_FIELD(std::string, datasets.encryption_secret_key),
             "",
             "Stands for Obsrv's system_settings encryptionSecretKey when datasets.source is "
             "dir (with postgres it comes from the system_settings table): the AES key (its "
             "UTF-8 bytes; 16, 24 or 32 of them) of the transformer's encrypt transformations. "
             "Empty: datasets with an encrypt transformation are not loaded.",
             0,
             0,
             {},
             true},
    key_spec{
        "datasets.postgres.host", OBSRV_FIELD(std::string, datasets.postgres.host), "localhost",
        "PostgreSQL host name or address, or a unix socket directory (starting with /).", 0, 0},
    key_spec{"datasets.postgres.port", OBSRV_FIELD(int64_t, datasets.postgres.port), "5432",
             "PostgreSQL port.", 1, k_max_port},
    key_spec{"datasets.postgres.dbname", OBSRV_FIELD(std::string, datasets.postgres.dbname),
             "obsrv", "Database holding Obsrv's tables (Obsrv's postgres.database).", 0, 0},
    key_spec{"datasets.postgres.user", OBSRV_FIELD(std::string, datasets.postgres.user), "obsrv",
             "Database user; it only needs SELECT on datasets, dataset_transformations and "
             "system_settings.",
             0, 0},
    key_spec{"datasets.postgres.password",
             OBSRV_FIELD(std::string, datasets.postgres.password),
             "",
             "Database password. Empty: datasets.postgres.password_file, else libpq's PGPASSWORD "
             "environment variable or password file (~/.pgpass, PGPASSFILE).",
             0,
             0,
             {},
             true},
    key_spec{"datasets.postgres.password_file",
             OBSRV_FIELD(std::string, datasets.postgres.password_file), "",
             "File whose first line is the database password (a mounted secret); used when "
             "datasets.postgres.password is empty.",
             0, 0},
    key_spec{"datasets.postgres.sslmode", OBSRV_FIELD(std::string, datasets.postgres.sslmode),
             "prefer", "libpq sslmode.", 0, 0,
             "disable|allow|prefer|require|verify-ca|verify-full"},
    key_spec{"datasets.postgres.connect_timeout_s",
             OBSRV_FIELD(int64_t, datasets.postgres.connect_timeout_s), "5",
             "Longest wait for a connection to be made (libpq connect_timeout).", 1, 600},
    key_spec{"datasets.postgres.query_timeout_ms",
             OBSRV_FIELD(int64_t, datasets.postgres.query_timeout_ms), "10000",
             "Longest a reading query may run (statement_timeout) or the socket may stay "
             "unanswered (tcp_user_timeout).",
             100, k_hour_ms},
    key_spec{"datasets.postgres.refresh_interval_ms",
             OBSRV_FIELD(int64_t, datasets.postgres.refresh_interval_ms), "5000",
             "How often the tables are read again when datasets.watch is on; a read that finds "
             "nothing changed publishes nothing.",
             100, k_hour_ms},
    key_spec{"datasets.postgres.notify_channel",
             OBSRV_FIELD(std::string, datasets.postgres.notify_channel), "",
             "Also LISTEN on this channel and reload as soon as it is notified (needs a trigger "
             "that NOTIFYs it; see docs/DATASETS.md). Empty: polling only.",
             0, 0},
    key_spec{"datasets.postgres.startup_timeout_ms",
             OBSRV_FIELD(int64_t, datasets.postgres.startup_timeout_ms), "10000",
             "At start-up, how long obsrvd keeps trying to read the tables before it exits with "
             "an error naming datasets.postgres (0: one attempt).",
             0, k_hour_ms},

    key_spec{"pipeline.workers", OBSRV_FIELD(int64_t, pipeline.workers), "0",
             "Pipeline worker threads (pipe-0, ...), each with its own stage chain and Kafka "
             "producer; entry-topic partition p goes to worker p % workers. 0 means one per "
             "core.",
             0, 256},
    key_spec{"pipeline.group", OBSRV_FIELD(std::string, pipeline.group), "unified-pipeline-group",
             "Consumer group of the pipeline (Obsrv's unified pipeline group); pipeline "
             "instances in one group share the entry topics' partitions.",
             0, 0},
    key_spec{"pipeline.entry_topics", OBSRV_FIELD(std::vector<std::string>, pipeline.entry_topics),
             "ingest", "Topics the pipeline consumes (the datasets' entry_topic).", 0, 0},
    key_spec{"pipeline.raw_topic", OBSRV_FIELD(std::string, pipeline.raw_topic), "raw",
             "Extractor output topic.", 0, 0},
    key_spec{"pipeline.unique_topic", OBSRV_FIELD(std::string, pipeline.unique_topic), "unique",
             "Validator + dedup output topic.", 0, 0},
    key_spec{"pipeline.denorm_topic", OBSRV_FIELD(std::string, pipeline.denorm_topic), "denorm",
             "Denormalizer output topic.", 0, 0},
    key_spec{"pipeline.transform_topic", OBSRV_FIELD(std::string, pipeline.transform_topic),
             "transform", "Transformer output topic.", 0, 0},
    key_spec{"pipeline.failed_topic", OBSRV_FIELD(std::string, pipeline.failed_topic), "failed",
             "Where failed events go (Obsrv's failed, duplicate, invalid and batch-failed "
             "outputs are all this topic).",
             0, 0},
    key_spec{"pipeline.transform_failed_topic",
             OBSRV_FIELD(std::string, pipeline.transform_failed_topic), "transform.failed",
             "Where events a Strict transformation failed go (ERR_TRANSFORM_1023; Obsrv's "
             "output.transform.failed.topic).",
             0, 0},
    key_spec{"pipeline.system_events_topic", OBSRV_FIELD(std::string, pipeline.system_events_topic),
             "system.events", "Topic of Obsrv METRIC system events.", 0, 0},
    key_spec{"pipeline.write_raw", OBSRV_FIELD(bool, pipeline.write_raw), "true",
             "Write the raw topic (intermediate; the chain runs either way).", 0, 0},
    key_spec{"pipeline.write_unique", OBSRV_FIELD(bool, pipeline.write_unique), "true",
             "Write the unique topic (intermediate).", 0, 0},
    key_spec{"pipeline.write_denorm", OBSRV_FIELD(bool, pipeline.write_denorm), "true",
             "Write the denorm topic (intermediate).", 0, 0},
    key_spec{"pipeline.write_transform", OBSRV_FIELD(bool, pipeline.write_transform), "true",
             "Write the transform topic (intermediate).", 0, 0},
    key_spec{"pipeline.max_event_size", OBSRV_FIELD(int64_t, pipeline.max_event_size), "1048576",
             "Largest event the extractor passes, in bytes as received; larger ones fail with "
             "ERR_EXT_1003 (Obsrv's kafka.event.max.size).",
             1, 104'857'600},
    key_spec{"pipeline.system_events", OBSRV_FIELD(std::string, pipeline.system_events),
             "per_event",
             "Router completion events: per_event (one per routed event, as Obsrv) or interval "
             "(one aggregate per dataset every pipeline.system_events_interval_ms). Failure and "
             "extractor events are always written as they happen.",
             0, 0, "per_event|interval"},
    key_spec{"pipeline.system_events_interval_ms",
             OBSRV_FIELD(int64_t, pipeline.system_events_interval_ms), "60000",
             "Aggregation interval of router completion events when pipeline.system_events is "
             "interval.",
             1000, k_hour_ms},
    key_spec{"pipeline.ring_capacity", OBSRV_FIELD(int64_t, pipeline.ring_capacity), "4096",
             "Messages queued from the consumer thread to each worker; a full ring pauses the "
             "partition.",
             16, 1'048'576},
    key_spec{"pipeline.commit_interval_ms", OBSRV_FIELD(int64_t, pipeline.commit_interval_ms),
             "1000",
             "How often delivered progress is committed to the group (offsets only ever cover "
             "messages whose outputs were all delivered).",
             10, k_hour_ms},
    key_spec{"pipeline.producer_high_water", OBSRV_FIELD(int64_t, pipeline.producer_high_water),
             "50000",
             "A worker stops taking input while its producer holds more messages than this, "
             "and resumes below half.",
             100, 10'000'000},
    key_spec{"pipeline.retry_backoff_ms", OBSRV_FIELD(int64_t, pipeline.retry_backoff_ms), "1000",
             "Wait before producing an output again after its delivery failed (outputs are "
             "retried until delivered; their partition's commits wait).",
             1, k_hour_ms},
    key_spec{"pipeline.drain_timeout_ms", OBSRV_FIELD(int64_t, pipeline.drain_timeout_ms), "10000",
             "At stop or partition revoke, how long in-flight messages may take to be "
             "delivered before they are abandoned (not committed; processed again later).",
             0, k_hour_ms},
    key_spec{"pipeline.dedup.store", OBSRV_FIELD(std::string, pipeline.dedup.store), "memory",
             "Dedup state: memory (in this process, shared by its workers; one pipeline "
             "instance) or redis (shared by several pipeline instances; SET NX EX).",
             0, 0, "memory|redis"},
    key_spec{"pipeline.dedup.max_entries", OBSRV_FIELD(int64_t, pipeline.dedup.max_entries),
             "10000000",
             "memory store: most keys kept (about 100 bytes each); when full, the keys closest "
             "to expiry are evicted first (counted).",
             1000, 1'000'000'000},
    key_spec{"pipeline.dedup.snapshot_path", OBSRV_FIELD(std::string, pipeline.dedup.snapshot_path),
             "",
             "memory store: file the dedup window is saved to (periodically and at stop) and "
             "restored from at start, so dedup holds across restarts. Empty: no snapshot.",
             0, 0},
    key_spec{"pipeline.dedup.snapshot_interval_ms",
             OBSRV_FIELD(int64_t, pipeline.dedup.snapshot_interval_ms), "30000",
             "memory store: how often the snapshot is written.", 1000, k_hour_ms},
    key_spec{"pipeline.dedup.redis_host", OBSRV_FIELD(std::string, pipeline.dedup.redis_host),
             "127.0.0.1", "redis store: host (Obsrv's redis.host).", 0, 0},
    key_spec{"pipeline.dedup.redis_port", OBSRV_FIELD(int64_t, pipeline.dedup.redis_port), "6379",
             "redis store: port.", 1, k_max_port},
    key_spec{"pipeline.dedup.redis_db", OBSRV_FIELD(int64_t, pipeline.dedup.redis_db), "2",
             "redis store: database (Obsrv's redis.database.preprocessor.duplication.store.id).", 0,
             15},
    key_spec{"pipeline.dedup.redis_timeout_ms",
             OBSRV_FIELD(int64_t, pipeline.dedup.redis_timeout_ms), "1000",
             "redis store: connect and command timeout.", 1, 60'000},

    key_spec{"pipeline.denorm.cache_max_entries",
             OBSRV_FIELD(int64_t, pipeline.denorm.cache_max_entries), "100000",
             "redis master-data store: master records the denormalizer keeps in process, in "
             "front of Redis (records found only; the oldest go first). 0: no cache.",
             0, 100'000'000},
    key_spec{"pipeline.denorm.cache_ttl_ms", OBSRV_FIELD(int64_t, pipeline.denorm.cache_ttl_ms),
             "30000",
             "redis master-data store: how long a cached master record is used before it is "
             "read from Redis again (a change made by another indexer shows after this).",
             1, k_hour_ms},
    key_spec{"pipeline.master_data.store", OBSRV_FIELD(std::string, pipeline.master_data.store),
             "memory",
             "Where master-data records live, for the denormalizer and the cache indexer: "
             "memory (in this process, rebuilt from the master datasets' topics at every "
             "start) or redis (Obsrv's: the host and port of each dataset's denorm_config / "
             "cache_config, the db of its denorm field / master dataset).",
             0, 0, "memory|redis"},
    key_spec{"pipeline.master_data.redis_host",
             OBSRV_FIELD(std::string, pipeline.master_data.redis_host), "",
             "redis store: host used for every dataset instead of its redis_db_host (Obsrv's "
             "names, like valkey-denorm-headless.redis.svc.cluster.local, only resolve in its "
             "cluster). Empty: the dataset's host, or 127.0.0.1 when it has none.",
             0, 0},
    key_spec{"pipeline.master_data.redis_port",
             OBSRV_FIELD(int64_t, pipeline.master_data.redis_port), "0",
             "redis store: port used for every dataset instead of its redis_db_port. 0: the "
             "dataset's.",
             0, k_max_port},
    key_spec{"pipeline.master_data.redis_timeout_ms",
             OBSRV_FIELD(int64_t, pipeline.master_data.redis_timeout_ms), "1000",
             "redis store: connect and command timeout.", 1, 60'000},
    key_spec{"pipeline.master_data.indexer", OBSRV_FIELD(bool, pipeline.master_data.indexer),
             "true",
             "Run the cache indexer in the pipeline role: consume the topics of the Live master "
             "datasets and upsert their records into the master-data store (Obsrv's "
             "CacheIndexerJob).",
             0, 0},
    key_spec{"pipeline.master_data.group", OBSRV_FIELD(std::string, pipeline.master_data.group),
             "cache-indexer-group",
             "Consumer group of the cache indexer (redis store). With the memory store every "
             "process needs every record, so the group is this name + host + pid + start time, "
             "read from the beginning.",
             0, 0},
    key_spec{"pipeline.master_data.load_timeout_ms",
             OBSRV_FIELD(int64_t, pipeline.master_data.load_timeout_ms), "60000",
             "memory store: at start, how long the pipeline waits for the cache indexer to load "
             "what the master datasets' topics hold before it consumes the entry topics (events "
             "taken earlier would not find their records). Past it the pipeline starts anyway, "
             "with a warning. 0: no wait.",
             0, k_hour_ms},
    key_spec{"pipeline.master_data.workers", OBSRV_FIELD(int64_t, pipeline.master_data.workers),
             "1", "Cache indexer worker threads (cidx-0, ...).", 1, 64},
    key_spec{"pipeline.master_data.failed_topic",
             OBSRV_FIELD(std::string, pipeline.master_data.failed_topic), "masterdata.failed",
             "Where master records without their data_key go (ERR_MASTER_DATA_1017).", 0, 0},
    key_spec{"pipeline.master_data.stats_topic",
             OBSRV_FIELD(std::string, pipeline.master_data.stats_topic), "masterdata.stats",
             "One {dataset, obsrv_meta} message per indexed record (obsrv 2.0's master-data "
             "stats). Empty: none.",
             0, 0},

    key_spec{"shutdown.timeout_ms", OBSRV_FIELD(int64_t, shutdown.timeout_ms), "15000",
             "Upper bound for a clean stop after SIGINT/SIGTERM (flush producers, commit "
             "offsets); past it the process exits with status 3. A second signal exits at once.",
             100, 600'000},

    key_spec{"kafka.brokers", OBSRV_FIELD(std::string, kafka.brokers), "embedded",
             "Bootstrap broker list (host:port,...). Empty or \"embedded\" starts the in-process "
             "broker (librdkafka mock cluster): in-memory, bounded, for one machine, demos and "
             "tests.",
             0, 0},
    key_spec{"kafka.client_id", OBSRV_FIELD(std::string, kafka.client_id), "obsrvd",
             "client.id of every Kafka client; the role name is appended (obsrvd-gateway).", 0, 0},
    key_spec{"kafka.admin_timeout_ms", OBSRV_FIELD(int64_t, kafka.admin_timeout_ms), "10000",
             "Timeout of metadata requests and topic creation.", 100, 600'000},

    key_spec{"kafka.embedded.broker_count", OBSRV_FIELD(int64_t, kafka.embedded.broker_count), "1",
             "Number of brokers of the embedded cluster.", 1, 16},
    key_spec{"kafka.embedded.bootstrap_file",
             OBSRV_FIELD(std::string, kafka.embedded.bootstrap_file), "/tmp/obsrvd.bootstrap",
             "File the embedded cluster's bootstrap address is written to (kcat -b $(cat FILE)); "
             "removed on clean shutdown.",
             0, 0},

    key_spec{"kafka.topics.names", OBSRV_FIELD(std::vector<std::string>, kafka.topics.names),
             k_default_topics,
             "Topics created at start-up and by `obsrvctl topics apply` (the Obsrv seed's "
             "topics).",
             0, 0},
    key_spec{"kafka.topics.partitions", OBSRV_FIELD(int64_t, kafka.topics.partitions), "4",
             "Partitions of each created topic. Existing topics are left alone and reported when "
             "their count differs.",
             1, 10'000},
    key_spec{"kafka.topics.replication_factor",
             OBSRV_FIELD(int64_t, kafka.topics.replication_factor), "1",
             "Replication factor of each created topic (capped by the embedded broker count).", 1,
             16},
    key_spec{"kafka.topics.retention_ms", OBSRV_FIELD(int64_t, kafka.topics.retention_ms),
             "604800000",
             "retention.ms of created topics (7 days); -1 keeps forever. Real clusters only: the "
             "embedded broker keeps a fixed in-memory window.",
             -1, 100LL * 365 * 24 * k_hour_ms},
    key_spec{"kafka.topics.max_message_bytes", OBSRV_FIELD(int64_t, kafka.topics.max_message_bytes),
             "5242880", "max.message.bytes of created topics (5 MB). Real clusters only.", 1024,
             1'073'741'824},
    key_spec{"kafka.topics.create_on_start", OBSRV_FIELD(bool, kafka.topics.create_on_start),
             "true", "Create missing topics at start-up.", 0, 0},

    key_spec{"kafka.producer", OBSRV_FIELD(client_properties, kafka.producer), k_default_producer,
             "librdkafka producer properties, passed through (kafka.producer.<property>). "
             "Validated by librdkafka at start-up.",
             0, 0},
    key_spec{"kafka.consumer", OBSRV_FIELD(client_properties, kafka.consumer), k_default_consumer,
             "librdkafka consumer properties, passed through (kafka.consumer.<property>). Roles "
             "add group.id and their own overrides.",
             0, 0},
};

#undef OBSRV_FIELD

}  // namespace

value_kind key_spec::kind() const {
    switch (field.index()) {
        case 0:
            return value_kind::integer;
        case 1:
            return value_kind::boolean;
        case 2:
            return choices.empty() ? value_kind::string : value_kind::choice;
        case 3:
            return value_kind::string_list;
        default:
            return value_kind::string_map;
    }
}

std::span<const key_spec> all_keys() {
    return k_keys;
}

const key_spec* find_key(std::string_view name) {
    auto it = std::find_if(k_keys.begin(), k_keys.end(),
                           [&](const key_spec& k) { return k.name == name; });
    return it == k_keys.end() ? nullptr : &*it;
}

bool is_section(std::string_view name) {
    return std::any_of(k_keys.begin(), k_keys.end(), [&](const key_spec& k) {
        return k.name.size() > name.size() && k.name.starts_with(name) &&
               k.name[name.size()] == '.';
    });
}

}  // namespace obsrv::config
