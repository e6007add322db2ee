#pragma once

// Real Kafka clients for tests against the embedded broker: produce a batch,
// consume and commit as a group member.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace obsrv::testing {

/// Produces `count` messages "m<first>" .. "m<first+count-1>" to topic/partition (-1:
/// partitioner) and waits for every delivery report; returns how many were delivered.
int produce(const std::string& bootstrap, const std::string& topic, int32_t partition, int count,
            int first = 0);

/// Produces each of `values` to topic/partition (-1: partitioner), in order, and waits for
/// every delivery report; returns how many were delivered.
int produce_values(const std::string& bootstrap, const std::string& topic, int32_t partition,
                   const std::vector<std::string>& values);

/// Joins `group`, consumes `count` messages of `topic` and commits the offset
/// after the last one; returns their payloads.
std::vector<std::string> consume_and_commit(const std::string& bootstrap, const std::string& group,
                                            const std::string& topic, int count,
                                            std::chrono::milliseconds timeout);

}  // namespace obsrv::testing

namespace obsrv::testing {

/// Reads up to `count` messages from every partition of `topic`, from the
/// beginning, without a consumer group; returns their payloads in the order
/// read (per partition order preserved).
std::vector<std::string> read_topic(const std::string& bootstrap, const std::string& topic,
                                    size_t count, std::chrono::milliseconds timeout);

/// Messages in `topic` (sum of the partitions' high watermarks).
int64_t topic_message_count(const std::string& bootstrap, const std::string& topic);

}  // namespace obsrv::testing
