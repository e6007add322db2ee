#pragma once

// The contract between the pipeline runtime (Kafka consumer, worker threads, producers, offset
// commits: pipeline_runtime.h) and the processing of one entry-topic message (the stage chain:
// pipeline_processor.h). Keeping them apart lets the chain be benchmarked and tested without
// Kafka, and the runtime be tested with a trivial processor.
//
// Threading: each worker thread owns one message_processor (made by a factory); the runtime
// calls process(), complete() and abandon() only on that worker's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::pipeline {

/// One consumed Kafka record. `value` is valid only during process().
struct input_message {
    std::string_view value;
    int32_t partition = 0;
    int64_t offset = 0;
    int64_t timestamp_ms = 0;     // the record's Kafka timestamp
    std::string_view topic = {};  // where it was consumed from
};

/// One message to produce (no key, no headers: as Obsrv's sinks write them).
struct output_message {
    std::string topic;
    std::string payload;
};

/// Identifies what process() left pending on delivery (dedup reservations). 0 = nothing.
using processing_token = uint64_t;

/// Returned by process() when it could not handle the message and must see it again (a store
/// that does not answer while the runtime stops): its outputs are dropped, its offset is never
/// committed, so after a restart (or by the partition's next owner) it is processed again.
inline constexpr processing_token k_not_processed = ~processing_token{0};

/// An output the producer or the broker refused for good: retrying cannot deliver it (larger
/// than message.max.bytes, topic unknown or not authorised). Views valid during the call only.
struct undeliverable_output {
    std::string_view topic;
    std::string_view payload;
    bool too_large = false;        // the size was the reason
    std::string_view reason;       // librdkafka's text for the error
    size_t max_message_bytes = 0;  // the producer's message.max.bytes: replacements must fit
};

class message_processor {
  public:
    virtual ~message_processor() = default;

    /// Runs the stages over one input message and appends every message to produce to `out`
    /// (possibly none). Never throws for bad input: bad input becomes `failed` outputs.
    /// Returns the token the runtime hands to complete() once all of those outputs were
    /// delivered, or to abandon() if they will not be (shutdown, rebalance before delivery).
    virtual processing_token process(const input_message& in, std::vector<output_message>& out) = 0;

    virtual void complete(processing_token token) = 0;
    virtual void abandon(processing_token token) = 0;

    /// Called by the worker about every 100 ms, also when idle (interval-based system events,
    /// window expiry). Appends outputs like process(); they carry no token.
    virtual void tick(int64_t now_ms, std::vector<output_message>& out) {
        (void)now_ms;
        (void)out;
    }

    /// Called instead of retrying when an output of process() hit a permanent produce error.
    /// Appends what to produce in its place (e.g. a `failed` message); those count as outputs
    /// of the same input, so its offset is committed once they are delivered. Appending nothing
    /// drops the output (the runtime counts and logs it). Replacements that fail for good in
    /// turn are dropped without asking again.
    virtual void undeliverable(const undeliverable_output& failed,
                               std::vector<output_message>& out) {
        (void)failed;
        (void)out;
    }
};

/// Makes one processor per worker; `worker_index` in [0, workers).
using processor_factory = std::function<std::unique_ptr<message_processor>(int worker_index)>;

}  // namespace obsrv::pipeline
