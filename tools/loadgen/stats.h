#pragma once

// Counters one worker keeps for a run (and, separately, for the current
// second). Plain integers: each worker owns its own and they are merged.

#include <array>
#include <cstdint>

#include "latency_histogram.h"

namespace obsrv::loadgen {

struct error_counts {
    uint64_t connect = 0;     // connection attempts that failed
    uint64_t read = 0;        // resets and other read failures
    uint64_t write = 0;       // send failures (EPIPE, ECONNRESET)
    uint64_t timeout = 0;     // requests unanswered after --timeout (connection dropped)
    uint64_t parse = 0;       // malformed responses (connection dropped)
    uint64_t unanswered = 0;  // requests in flight when the server closed the connection

    uint64_t total() const { return connect + read + write + timeout + parse + unanswered; }
    void merge(const error_counts& o) {
        connect += o.connect;
        read += o.read;
        write += o.write;
        timeout += o.timeout;
        parse += o.parse;
        unanswered += o.unanswered;
    }
};

struct run_stats {
    static constexpr int max_status = 999;

    latency_histogram latency;  // microseconds
    // Open loop: how late requests went out (actual send - intended send), in
    // microseconds. Large values mean the latency figures include time the
    // request waited for a free connection or for the load generator itself.
    latency_histogram send_lag;
    std::array<uint64_t, max_status + 1> status{};
    uint64_t responses = 0;
    uint64_t sent = 0;            // requests handed to a connection
    uint64_t events_ok = 0;       // events in requests answered 2xx
    uint64_t bytes_sent = 0;      // request bytes written to sockets
    uint64_t bytes_received = 0;  // response bytes parsed
    error_counts errors;

    uint64_t status_class(int hundreds) const {
        uint64_t n = 0;
        for (int s = hundreds * 100; s < hundreds * 100 + 100; ++s) {
            n += status[static_cast<size_t>(s)];
        }
        return n;
    }

    void merge(const run_stats& o) {
        latency.merge(o.latency);
        send_lag.merge(o.send_lag);
        for (size_t i = 0; i < status.size(); ++i) {
            status[i] += o.status[i];
        }
        responses += o.responses;
        sent += o.sent;
        events_ok += o.events_ok;
        bytes_sent += o.bytes_sent;
        bytes_received += o.bytes_received;
        errors.merge(o.errors);
    }

    void reset() {
        latency.reset();
        send_lag.reset();
        status.fill(0);
        responses = sent = events_ok = bytes_sent = bytes_received = 0;
        errors = {};
    }
};

}  // namespace obsrv::loadgen
