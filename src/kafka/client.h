#pragma once

// librdkafka client handles: creation from the passthrough properties of the
// configuration, ownership, and routing of librdkafka's log into ours.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "common/result.h"
#include "common/settings.h"

namespace obsrv::kafka {

struct client_deleter {
    void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
/// Owns a producer or consumer; destroying it stops librdkafka's threads
/// (it does not flush: producers call flush() first).
using client_ptr = std::unique_ptr<rd_kafka_t, client_deleter>;

enum class client_kind { producer, consumer };

struct client_options {
    client_kind kind = client_kind::producer;
    std::string bootstrap;         // resolved broker list (embedded or configured)
    std::string client_id;         // e.g. "obsrvd-gateway"
    client_properties properties;  // passed to librdkafka verbatim, in order
    /// Producer delivery reports (rd_kafka_conf_set_dr_msg_cb), optional.
    void (*delivery_report)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr;
    /// Consumer group rebalances (rd_kafka_conf_set_rebalance_cb), optional: without it
    /// librdkafka assigns and revokes on its own, too early for a consumer that must finish
    /// in-flight work and commit before giving a partition away.
    void (*rebalance)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*,
                      void*) = nullptr;
    void* opaque = nullptr;
};

/// Creates a client; the message names the offending property.
result<client_ptr> make_client(const client_options& options);

/// Checks every property against librdkafka without connecting anywhere;
/// the message names the config key (`<key_prefix>.<property>`).
status validate_properties(client_kind kind, const client_properties& properties,
                           std::string_view key_prefix);

/// Producer options for a role, from the configuration.
client_options producer_options(const kafka_settings& kafka, std::string bootstrap,
                                std::string_view role);

/// Consumer options for a role and group; `overrides` win over the configuration.
client_options consumer_options(const kafka_settings& kafka, std::string bootstrap,
                                std::string_view role, std::string_view group,
                                const client_properties& overrides = {});

/// A lightweight client for metadata and admin requests (no queues in use).
result<client_ptr> make_metadata_client(std::string bootstrap, std::string client_id);

/// The error text of a librdkafka error code.
std::string error_text(rd_kafka_resp_err_t err);

}  // namespace obsrv::kafka
