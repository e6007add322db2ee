#include "kafka/topic_admin.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

#include "common/json_writer.h"
#include "kafka/embedded_cluster.h"

namespace obsrv::kafka {
namespace {

struct metadata_deleter {
    void operator()(const rd_kafka_metadata_t* md) const noexcept { rd_kafka_metadata_destroy(md); }
};

struct queue_deleter {
    void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};

struct event_deleter {
    void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};

struct admin_options_deleter {
    void operator()(rd_kafka_AdminOptions_t* o) const noexcept { rd_kafka_AdminOptions_destroy(o); }
};

int timeout_ms(std::chrono::milliseconds timeout) {
    return static_cast<int>(timeout.count());
}

/// Runs one admin request and waits for its result event on a private queue.
template <typename Issue>
result<std::unique_ptr<rd_kafka_event_t, event_deleter>> run_admin(
    rd_kafka_t* client, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout, Issue&& issue) {
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> queue(rd_kafka_queue_new(client));
    std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter> options(
        rd_kafka_AdminOptions_new(client, op));
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms(timeout), errstr,
                                              sizeof errstr);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS) {
        rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms(timeout), errstr,
                                                    sizeof errstr);
    }
    issue(options.get(), queue.get());
    // The request timeout bounds the wait; the margin covers scheduling.
    std::unique_ptr<rd_kafka_event_t, event_deleter> event(
        rd_kafka_queue_poll(queue.get(), timeout_ms(timeout) + 1000));
    if (!event) {
        return make_error(
            "kafka: admin request timed out after {} ms (the embedded broker "
            "does not implement the Admin API)",
            timeout.count());
    }
    if (auto err = rd_kafka_event_error(event.get())) {
        const char* text = rd_kafka_event_error_string(event.get());
        return make_error("kafka: admin request failed: {}", text ? text : rd_kafka_err2str(err));
    }
    return event;
}

}  // namespace

std::vector<topic_spec> configured_topics(const topics_settings& topics) {
    std::vector<topic_spec> specs;
    specs.reserve(topics.names.size());
    for (const auto& name : topics.names) {
        specs.push_back(topic_spec{name, static_cast<int>(topics.partitions),
                                   static_cast<int>(topics.replication_factor), topics.retention_ms,
                                   topics.max_message_bytes});
    }
    return specs;
}

result<std::vector<topic_info>> list_topics(rd_kafka_t* client, std::chrono::milliseconds timeout) {
    const rd_kafka_metadata_t* raw = nullptr;
    // all_topics=1: a request for named topics would auto-create them on the
    // embedded broker.
    auto err = rd_kafka_metadata(client, 1, nullptr, &raw, timeout_ms(timeout));
    if (err) {
        return make_error("kafka: metadata request failed: {}", rd_kafka_err2str(err));
    }
    std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter> md(raw);
    std::vector<topic_info> topics;
    for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        topic_info info;
        info.name = t.topic;
        info.partitions = t.partition_cnt;
        info.replication_factor = t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0;
        if (t.err) {
            info.error = rd_kafka_err2str(t.err);
        }
        topics.push_back(std::move(info));
    }
    std::sort(topics.begin(), topics.end(),
              [](const topic_info& a, const topic_info& b) { return a.name < b.name; });
    return topics;
}

std::string_view to_string(apply_action action) {
    switch (action) {
        case apply_action::created:
            return "created";
        case apply_action::exists:
            return "exists";
        case apply_action::partition_mismatch:
            return "partition_mismatch";
        case apply_action::failed:
            return "failed";
    }
    return "failed";
}

size_t apply_report::count(apply_action action) const {
    return static_cast<size_t>(std::count_if(outcomes.begin(), outcomes.end(),
                                             [&](const auto& o) { return o.action == action; }));
}

std::string apply_report::to_json() const {
    json_writer w;
    w.begin_object().key("ok").value(ok()).key("topics").begin_array();
    for (const auto& o : outcomes) {
        w.begin_object()
            .key("topic")
            .value(o.topic)
            .key("action")
            .value(to_string(o.action))
            .key("expected_partitions")
            .value(o.expected_partitions)
            .key("actual_partitions")
            .value(o.actual_partitions)
            .key("message")
            .value(o.message)
            .end_object();
    }
    w.end_array().end_object();
    return w.take();
}

std::vector<result<apply_action>> topic_creator::create_all(std::span<const topic_spec> specs) {
    std::vector<result<apply_action>> results;
    results.reserve(specs.size());
    for (const auto& spec : specs) {
        results.push_back(create(spec));
    }
    return results;
}

std::vector<result<apply_action>> embedded_topic_creator::create_all(
    std::span<const topic_spec> specs) {
    // librdkafka 2.0's mock cluster sometimes notices a control request only
    // at its next 1 s poll tick, so one-by-one creation of the 16 seed topics
    // took up to 3 s. Requests issued together share the wait.
    std::vector<std::optional<result<apply_action>>> slots(specs.size());
    std::vector<std::thread> threads;
    threads.reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
        threads.emplace_back([this, &slots, &specs, i] { slots[i].emplace(create(specs[i])); });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::vector<result<apply_action>> results;
    results.reserve(specs.size());
    for (auto& slot : slots) {
        results.push_back(std::move(*slot));
    }
    return results;
}

result<apply_action> embedded_topic_creator::create(const topic_spec& spec) {
    auto err = _cluster.create_topic(spec.name, spec.partitions, spec.replication_factor);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return apply_action::exists;
    }
    if (err) {
        return make_error("{}", rd_kafka_err2str(err));
    }
    return apply_action::created;
}

result<apply_action> admin_api_topic_creator::create(const topic_spec& spec) {
    char errstr[512];
    rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
        spec.name.c_str(), spec.partitions, spec.replication_factor, errstr, sizeof errstr);
    if (!new_topic) {
        return make_error("{}", errstr);
    }
    std::string retention = std::to_string(spec.retention_ms);
    std::string max_message = std::to_string(spec.max_message_bytes);
    rd_kafka_NewTopic_set_config(new_topic, "retention.ms", retention.c_str());
    rd_kafka_NewTopic_set_config(new_topic, "max.message.bytes", max_message.c_str());
    auto event = run_admin(_client, RD_KAFKA_ADMIN_OP_CREATETOPICS, _timeout,
                           [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                               rd_kafka_CreateTopics(_client, &new_topic, 1, options, queue);
                           });
    rd_kafka_NewTopic_destroy(new_topic);
    if (!event) {
        return event.error();
    }
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(event->get());
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &count);
    if (count != 1) {
        return make_error("kafka: CreateTopics returned {} results for one topic", count);
    }
    auto err = rd_kafka_topic_result_error(results[0]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return apply_action::exists;
    }
    if (err) {
        const char* text = rd_kafka_topic_result_error_string(results[0]);
        return make_error("{}", text ? text : rd_kafka_err2str(err));
    }
    return apply_action::created;
}

result<apply_report> apply_topics(rd_kafka_t* metadata_client, topic_creator& creator,
                                  std::span<const topic_spec> specs,
                                  std::chrono::milliseconds timeout) {
    auto existing = list_topics(metadata_client, timeout);
    if (!existing) {
        return existing.error();
    }
    apply_report report;
    std::vector<topic_spec> missing;
    std::vector<size_t> missing_at;  // index of each missing topic's outcome
    for (const auto& spec : specs) {
        topic_outcome outcome;
        outcome.topic = spec.name;
        outcome.expected_partitions = spec.partitions;
        auto it = std::find_if(existing->begin(), existing->end(),
                               [&](const topic_info& t) { return t.name == spec.name; });
        if (it != existing->end()) {
            outcome.actual_partitions = it->partitions;
            outcome.action = it->partitions == spec.partitions ? apply_action::exists
                                                               : apply_action::partition_mismatch;
            if (outcome.action == apply_action::partition_mismatch) {
                outcome.message = fmt::format("has {} partitions, configured {}; left alone",
                                              it->partitions, spec.partitions);
            }
        } else {
            missing.push_back(spec);
            missing_at.push_back(report.outcomes.size());
        }
        report.outcomes.push_back(std::move(outcome));
    }
    auto created = creator.create_all(missing);
    for (size_t i = 0; i < missing.size(); ++i) {
        auto& outcome = report.outcomes[missing_at[i]];
        if (!created[i]) {
            outcome.action = apply_action::failed;
            outcome.message = created[i].error().message;
        } else {
            outcome.action = *created[i];
            outcome.actual_partitions = missing[i].partitions;
        }
    }
    return report;
}

result<topic_configs> describe_topic_configs(rd_kafka_t* client,
                                             std::span<const std::string> topics,
                                             std::chrono::milliseconds timeout) {
    std::vector<rd_kafka_ConfigResource_t*> resources;
    for (const auto& topic : topics) {
        resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    }
    auto event = run_admin(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout,
                           [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                               rd_kafka_DescribeConfigs(client, resources.data(), resources.size(),
                                                        options, queue);
                           });
    rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
    if (!event) {
        return event.error();
    }
    topic_configs configs;
    const rd_kafka_DescribeConfigs_result_t* res =
        rd_kafka_event_DescribeConfigs_result(event->get());
    size_t count = 0;
    const rd_kafka_ConfigResource_t** described =
        rd_kafka_DescribeConfigs_result_resources(res, &count);
    for (size_t i = 0; i < count; ++i) {
        auto& entry = configs[rd_kafka_ConfigResource_name(described[i])];
        size_t config_count = 0;
        const rd_kafka_ConfigEntry_t** entries =
            rd_kafka_ConfigResource_configs(described[i], &config_count);
        for (size_t j = 0; j < config_count; ++j) {
            const char* value = rd_kafka_ConfigEntry_value(entries[j]);
            entry[rd_kafka_ConfigEntry_name(entries[j])] = value ? value : "";
        }
    }
    return configs;
}

}  // namespace obsrv::kafka
