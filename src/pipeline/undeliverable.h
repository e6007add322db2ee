#pragma once

// What the stage chain writes when Kafka refused a routed message for good (a permanent
// produce error, see message_processor::undeliverable): Obsrv's markFailure of the event at the
// router, i.e. a `failed` message of the usual shape plus a critical system event, so the event
// is accounted for instead of holding its partition's commits forever.
//
//   too large      ERR_EXT_1003 "Event size has exceeded max configured size" (Obsrv's code
//                  for an oversized event), error_type EventSizeExceeded;
//   anything else  ERR_ROUTER_9001 (ours: topic unknown or not authorised), error_type
//                  OutputUndeliverable.
//
// error_msg adds the topic, the size and librdkafka's reason. The failed message carries the
// event as routed; when the whole would not fit under the producer's message.max.bytes either,
// only a prefix of the event is kept and error_msg says so (the original stays in the entry
// topic).

#include "pipeline/dataset_catalog.h"
#include "pipeline/message_processor.h"
#include "pipeline/stage_context.h"

namespace obsrv::pipeline {

/// `failed.payload` is a message the router wrote (event members + obsrv_meta + indexTS).
/// Appends the failed message and its system event to ctx.out and counts the router failure.
void fail_undeliverable_routed_event(const undeliverable_output& failed,
                                     const dataset_catalog& catalog, stage_context& ctx);

}  // namespace obsrv::pipeline
