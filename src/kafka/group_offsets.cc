#include "kafka/group_offsets.h"

#include <algorithm>
#include <memory>

#include "common/json_writer.h"

namespace obsrv::kafka {
namespace {

struct partition_list_deleter {
    void operator()(rd_kafka_topic_partition_list_t* list) const noexcept {
        rd_kafka_topic_partition_list_destroy(list);
    }
};

}  // namespace

std::string group_progress::to_json() const {
    json_writer w;
    w.begin_object().key("group").value(group).key("total_lag").value(total_lag);
    w.key("partitions").begin_array();
    for (const auto& p : partitions) {
        w.begin_object()
            .key("topic")
            .value(p.topic)
            .key("partition")
            .value(static_cast<int64_t>(p.partition))
            .key("committed")
            .value(p.committed)
            .key("end")
            .value(p.end)
            .key("lag")
            .value(p.lag)
            .end_object();
    }
    w.end_array().end_object();
    return w.take();
}

result<group_progress> describe_group(const std::string& bootstrap, const std::string& group,
                                      std::span<const topic_info> topics,
                                      std::chrono::milliseconds timeout) {
    client_options options;
    options.kind = client_kind::consumer;
    options.bootstrap = bootstrap;
    options.client_id = "obsrvctl-groups";
    options.properties["group.id"] = group;
    options.properties["enable.auto.commit"] = "false";
    auto consumer = make_client(options);
    if (!consumer) {
        return consumer.error();
    }
    std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter> list(
        rd_kafka_topic_partition_list_new(64));
    for (const auto& topic : topics) {
        for (int p = 0; p < topic.partitions; ++p) {
            rd_kafka_topic_partition_list_add(list.get(), topic.name.c_str(), p);
        }
    }
    auto timeout_ms = static_cast<int>(timeout.count());
    if (auto err = rd_kafka_committed(consumer->get(), list.get(), timeout_ms)) {
        return make_error("kafka: cannot fetch committed offsets of group '{}': {}", group,
                          rd_kafka_err2str(err));
    }
    group_progress progress;
    progress.group = group;
    for (int i = 0; i < list->cnt; ++i) {
        const auto& elem = list->elems[i];
        if (elem.offset < 0) {
            continue;  // nothing committed for this partition
        }
        partition_progress p;
        p.topic = elem.topic;
        p.partition = elem.partition;
        p.committed = elem.offset;
        int64_t low = 0;
        int64_t high = 0;
        if (auto err = rd_kafka_query_watermark_offsets(consumer->get(), elem.topic, elem.partition,
                                                        &low, &high, timeout_ms)) {
            return make_error("kafka: cannot read the end offset of {}[{}]: {}", elem.topic,
                              elem.partition, rd_kafka_err2str(err));
        }
        p.end = high;
        p.lag = std::max<int64_t>(0, high - elem.offset);
        progress.total_lag += p.lag;
        progress.partitions.push_back(std::move(p));
    }
    return progress;
}

result<std::vector<partition_end>> topic_ends(rd_kafka_t* client,
                                              std::span<const std::string> topics,
                                              std::chrono::milliseconds timeout) {
    auto listed = list_topics(client, timeout);
    if (!listed) {
        return listed.error();
    }
    const auto timeout_ms = static_cast<int>(timeout.count());
    std::vector<partition_end> ends;
    for (const auto& info : *listed) {
        if (std::find(topics.begin(), topics.end(), info.name) == topics.end()) {
            continue;
        }
        for (int32_t p = 0; p < info.partitions; ++p) {
            int64_t low = 0;
            int64_t high = 0;
            if (auto err = rd_kafka_query_watermark_offsets(client, info.name.c_str(), p, &low,
                                                            &high, timeout_ms)) {
                return make_error("kafka: cannot read the offsets of {}[{}]: {}", info.name, p,
                                  rd_kafka_err2str(err));
            }
            if (high > low) {
                ends.push_back({info.name, p, high});
            }
        }
    }
    return ends;
}

result<size_t> partitions_behind(rd_kafka_t* consumer, std::span<const partition_end> ends,
                                 std::chrono::milliseconds timeout) {
    if (ends.empty()) {
        return size_t{0};
    }
    std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter> list(
        rd_kafka_topic_partition_list_new(static_cast<int>(ends.size())));
    for (const auto& e : ends) {
        rd_kafka_topic_partition_list_add(list.get(), e.topic.c_str(), e.partition);
    }
    if (auto err = rd_kafka_committed(consumer, list.get(), static_cast<int>(timeout.count()))) {
        return make_error("kafka: cannot fetch committed offsets: {}", rd_kafka_err2str(err));
    }
    size_t behind = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
        // The list keeps the order it was built in; a partition without a commit has offset -1.
        if (list->elems[i].offset < ends[i].end) {
            ++behind;
        }
    }
    return behind;
}

result<std::vector<std::string>> list_groups(rd_kafka_t* client,
                                             std::chrono::milliseconds timeout) {
    const rd_kafka_group_list* raw = nullptr;
    auto err = rd_kafka_list_groups(client, nullptr, &raw, static_cast<int>(timeout.count()));
    if (err) {
        return make_error("kafka: cannot list consumer groups: {}", rd_kafka_err2str(err));
    }
    std::vector<std::string> groups;
    for (int i = 0; i < raw->group_cnt; ++i) {
        groups.emplace_back(raw->groups[i].group);
    }
    rd_kafka_group_list_destroy(raw);
    std::sort(groups.begin(), groups.end());
    return groups;
}

}  // namespace obsrv::kafka
