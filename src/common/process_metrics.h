#pragma once

// Standard Prometheus process metrics for Linux, read from /proc/self at scrape time:
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_max_fds, process_start_time_seconds, process_threads.
// These names are shared by every Prometheus client library (dashboards and alerts expect them),
// which is why they do not follow the project's obsrv_<module>_... convention.

#include "common/metrics.h"

namespace obsrv::metrics {

// Registers the process metrics as scrape-time callbacks. Call once per registry (a second call
// registers duplicate callbacks, which asserts), from any thread. A value whose /proc source
// cannot be read renders as NaN rather than failing the scrape.
void register_process_metrics(registry& reg);

}  // namespace obsrv::metrics
