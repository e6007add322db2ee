#include "kafka/client.h"

#include "common/log.h"

namespace obsrv::kafka {
namespace {

// librdkafka calls this from its own threads (rdk:main, rdk:broker*).
void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    static const auto logger = log::get("rdkafka");
    // librdkafka uses syslog levels: 0..3 errors, 4 warning, 5..6 info, 7 debug.
    auto spd_level = level <= 3   ? spdlog::level::err
                     : level == 4 ? spdlog::level::warn
                     : level <= 6 ? spdlog::level::info
                                  : spdlog::level::debug;
    logger->log(spd_level, "{} {}: {}", rd_kafka_name(rk), facility, message);
}

status set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
                    std::string_view key_prefix) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
        return make_error("config: key '{}.{}': {}", key_prefix, name, errstr);
    }
    return {};
}

}  // namespace

std::string error_text(rd_kafka_resp_err_t err) {
    return rd_kafka_err2str(err);
}

status validate_properties(client_kind kind, const client_properties& properties,
                           std::string_view key_prefix) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [name, value] : properties) {
        if (auto st = set_property(conf, name, value, key_prefix); !st) {
            rd_kafka_conf_destroy(conf);
            return st;
        }
    }
    // Some checks (e.g. idempotence vs acks) only run when a client is built;
    // build one that never connects: no bootstrap servers, destroyed at once.
    char errstr[512];
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    if (kind == client_kind::consumer) {
        rd_kafka_conf_set(conf, "group.id", "obsrvd-config-check", errstr, sizeof errstr);
    }
    rd_kafka_t* rk =
        rd_kafka_new(kind == client_kind::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf,
                     errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);  // rd_kafka_new takes ownership only on success
        return make_error("config: {}: {}", key_prefix, errstr);
    }
    rd_kafka_destroy(rk);
    return {};
}

result<client_ptr> make_client(const client_options& options) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::string_view prefix =
        options.kind == client_kind::producer ? "kafka.producer" : "kafka.consumer";
    auto fail = [&](error e) -> result<client_ptr> {
        rd_kafka_conf_destroy(conf);
        return e;
    };
    for (const auto& [name, value] : options.properties) {
        if (auto st = set_property(conf, name, value, prefix); !st) {
            return fail(st.error());
        }
    }
    if (auto st = set_property(conf, "bootstrap.servers", options.bootstrap, "kafka.brokers");
        !st) {
        return fail(st.error());
    }
    if (auto st = set_property(conf, "client.id", options.client_id, "kafka.client_id"); !st) {
        return fail(st.error());
    }
    rd_kafka_conf_set_log_cb(conf, log_callback);
    if (options.delivery_report) {
        rd_kafka_conf_set_dr_msg_cb(conf, options.delivery_report);
    }
    if (options.rebalance) {
        rd_kafka_conf_set_rebalance_cb(conf, options.rebalance);
    }
    if (options.opaque) {
        rd_kafka_conf_set_opaque(conf, options.opaque);
    }
    char errstr[512];
    rd_kafka_t* rk =
        rd_kafka_new(options.kind == client_kind::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                     conf, errstr, sizeof errstr);
    if (!rk) {
        // rd_kafka_new frees conf only on success.
        return fail(make_error("kafka: cannot create client '{}': {}", options.client_id, errstr));
    }
    return client_ptr(rk);
}

client_options producer_options(const kafka_settings& kafka, std::string bootstrap,
                                std::string_view role) {
    client_options options;
    options.kind = client_kind::producer;
    options.bootstrap = std::move(bootstrap);
    options.client_id = fmt::format("{}-{}", kafka.client_id, role);
    options.properties = kafka.producer;
    return options;
}

client_options consumer_options(const kafka_settings& kafka, std::string bootstrap,
                                std::string_view role, std::string_view group,
                                const client_properties& overrides) {
    client_options options;
    options.kind = client_kind::consumer;
    options.bootstrap = std::move(bootstrap);
    options.client_id = fmt::format("{}-{}", kafka.client_id, role);
    options.properties = kafka.consumer;
    options.properties["group.id"] = std::string(group);
    for (const auto& [name, value] : overrides) {
        options.properties[name] = value;
    }
    return options;
}

result<client_ptr> make_metadata_client(std::string bootstrap, std::string client_id) {
    client_options options;
    options.kind = client_kind::producer;
    options.bootstrap = std::move(bootstrap);
    options.client_id = std::move(client_id);
    return make_client(options);
}

}  // namespace obsrv::kafka
