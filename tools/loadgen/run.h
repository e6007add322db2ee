#pragma once

// Runs a load test (threads, clock, per-second lines) and formats its results
// as the human table and the JSON document.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include "body_pool.h"
#include "common/result.h"
#include "settings.h"
#include "stats.h"

namespace obsrv::loadgen {

struct run_result {
    run_stats measured;           // requests meant to be sent after the warmup
    double duration_seconds = 0;  // warmup end to the later of the last send and last response
    double warmup_seconds = 0;
    uint64_t requests_sent_total = 0;  // warmup included
    uint64_t backlog_at_end = 0;       // open loop: due before the end but never sent
    bool interrupted = false;
    std::string first_error;  // first connection-level error, for the diagnosis
    std::string address;      // the resolved address connected to
    // The load generator's own CPU use: if a worker thread was busy close to
    // 100% of the time, the tool itself may have limited the figures.
    double cpu_seconds = 0;             // all worker threads, from t0 to their end
    double max_thread_utilization = 0;  // busiest worker: CPU time / wall time
};

/// Resolves and probes the target (an unreachable one is an error here, with
/// the reason), starts the workers, prints a line per second to `progress`
/// (null: quiet) and returns the merged figures.
result<run_result> run_load(const settings& config, const body_pool& pool, std::FILE* progress,
                            std::atomic<bool>& stop);

struct host_info {
    unsigned nproc = 0;  // CPUs this process may run on (what nproc prints)
    unsigned online_cpus = 0;
};
host_info current_host();

std::string describe_bodies(const settings& config, const body_pool& pool);

std::string format_table(const settings& config, const body_pool& pool, const run_result& r);
std::string format_json(const settings& config, const body_pool& pool, const run_result& r,
                        const host_info& host);

/// The whole tool: parse argv, build the bodies, run, report. Returns the exit
/// status: 0 when some request got a 2xx, 1 when none did or the target is
/// unreachable, 2 on usage errors.
int loadgen_main(int argc, const char* const* argv);

}  // namespace obsrv::loadgen
