#pragma once

// Consumer group progress: committed offset, end offset and lag per
// partition, read the way a Kafka client sees it (OffsetFetch + ListOffsets),
// so it works on the embedded broker and on real clusters alike.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/client.h"
#include "kafka/topic_admin.h"

namespace obsrv::kafka {

struct partition_progress {
    std::string topic;
    int32_t partition = 0;
    int64_t committed = -1;
    int64_t end = -1;
    int64_t lag = 0;
};

struct group_progress {
    std::string group;
    std::vector<partition_progress> partitions;  // only partitions with a committed offset
    int64_t total_lag = 0;
    std::string to_json() const;
};

/// Progress of `group` over every partition of `topics`. Does not join the
/// group: a consumer with that group.id only fetches its committed offsets.
result<group_progress> describe_group(const std::string& bootstrap, const std::string& group,
                                      std::span<const topic_info> topics,
                                      std::chrono::milliseconds timeout);

/// The end offset of a partition that held messages when it was read.
struct partition_end {
    std::string topic;
    int32_t partition = 0;
    int64_t end = 0;
};

/// Where a group reading `topics` from their start will have read everything they hold now:
/// the end offset (high watermark) of every partition holding messages (end above its low
/// watermark). A topic the cluster does not have holds nothing.
result<std::vector<partition_end>> topic_ends(rd_kafka_t* client,
                                              std::span<const std::string> topics,
                                              std::chrono::milliseconds timeout);

/// How many of `ends` the group of `consumer` (a consumer with group.id set; it need not be
/// subscribed) has not yet committed an offset at or past: 0 when the group has consumed and
/// committed everything up to `ends`.
result<size_t> partitions_behind(rd_kafka_t* consumer, std::span<const partition_end> ends,
                                 std::chrono::milliseconds timeout);

/// Group ids from the cluster (ListGroups). The embedded broker does not
/// implement it: the error says so.
result<std::vector<std::string>> list_groups(rd_kafka_t* client, std::chrono::milliseconds timeout);

}  // namespace obsrv::kafka
