#pragma once

// One load-generating thread: an epoll loop over its share of the
// connections. Requests are immutable templates from the body pool written
// with sendmsg() iovecs (no per-request copy of the body); responses are
// framed by response_parser and their latency recorded per thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "body_pool.h"
#include "response_parser.h"
#include "settings.h"
#include "stats.h"

namespace obsrv::loadgen {

/// What all workers share. Times are CLOCK_MONOTONIC nanoseconds, written by
/// the coordinator before it releases the `go` latch and read-only after.
struct run_plan {
    const settings* config = nullptr;
    const body_pool* pool = nullptr;
    sockaddr_storage address{};
    socklen_t address_len = 0;

    int64_t start_ns = 0;       // t0: the open-loop schedule and the ticks start here
    int64_t warmup_end_ns = 0;  // requests meant to be sent before this are not measured
    int64_t end_ns = 0;         // no request is sent at or after this (INT64_MAX: none)

    std::atomic<bool>* stop = nullptr;  // set on SIGINT: stop sending, drain, report
};

int64_t monotonic_ns();

class worker {
  public:
    /// `requests`: measured requests this worker sends (0: no limit).
    /// `rate`: this worker's share of --rate in requests/s (0: closed loop).
    /// `cpu`: CPU to pin to, or -1.
    worker(unsigned index, const run_plan& plan, unsigned connections, uint64_t requests,
           double rate, int cpu);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    /// Thread body: connects, counts down `ready`, waits for `go`, runs until
    /// the plan ends and the requests in flight are answered or time out.
    void run(std::latch& ready, std::latch& go);

    /// The counters of the seconds since the previous call (all requests,
    /// warmup included). Published by the worker once per second.
    run_stats take_interval();

    // Read after the thread is joined.
    const run_stats& measured() const { return _measured; }
    int64_t issue_end_ns() const { return _issue_end_ns; }          // when it stopped sending
    int64_t last_response_ns() const { return _last_response_ns; }  // last measured response
    uint64_t backlog_at_end() const { return _backlog_at_end; }     // open loop: due, never sent
    uint64_t requests_sent_total() const { return _seq; }           // warmup included
    const std::string& first_error() const { return _first_error; }
    /// CPU time this thread used from t0 to its end, and the wall time of that span.
    double cpu_seconds() const { return _cpu_seconds; }
    double wall_seconds() const { return _wall_seconds; }
    bool done() const { return _done.load(std::memory_order_acquire); }

  private:
    struct slot;
    struct connection;

    void open_connection(connection& c, int64_t now);
    void on_open(connection& c, int64_t now);
    void handle_event(uint32_t events, uint64_t data, int64_t& now);
    bool do_read(connection& c, int64_t& now, bool peer_closed);
    bool consume(connection& c, const char* data, size_t n, int64_t now);
    void on_response(connection& c, const response_info& info, int64_t now);
    bool flush(connection& c, int64_t now);
    void advance(connection& c, size_t n);
    void drop(connection& c, int64_t now, uint64_t error_counts::*kind, int64_t retry_delay_ns);
    void refill(connection& c, int64_t now);
    void issue(connection& c, int64_t intended_ns, int64_t now);
    bool may_issue_closed(int64_t now) const;
    bool has_capacity(const connection& c) const;
    bool in_measurement(int64_t now) const;
    void dispatch_due(int64_t now);
    int64_t intended(uint64_t k) const;
    void housekeeping(int64_t now);
    void publish();
    void note_error(const std::string& what);
    void count_error(uint64_t error_counts::*kind, uint64_t n, bool measured);

    unsigned _index;
    const run_plan& _plan;
    const settings& _cfg;
    const body_pool& _pool;
    uint64_t _request_limit;
    double _rate;
    int _cpu;

    int _epoll = -1;
    std::vector<connection> _conns;
    std::unique_ptr<char[]> _rbuf;
    body_cursor _cursor;
    bool _started = false;
    bool _stopping = false;
    int64_t _drain_deadline = 0;

    uint64_t _seq = 0;  // requests issued, warmup included: the id counter
    uint64_t _issued_measured = 0;
    uint64_t _inflight = 0;
    uint64_t _k = 0;             // open loop: next schedule index
    double _period_ns = 0;       // open loop: time between this worker's requests
    double _offset_ns = 0;       // open loop: stagger between workers
    std::deque<uint32_t> _free;  // open loop: connections with spare capacity, oldest first

    int64_t _next_tick = 0;
    int64_t _next_housekeeping = 0;
    int64_t _issue_end_ns = 0;
    int64_t _last_issue_ns = 0;
    int64_t _last_response_ns = 0;
    uint64_t _backlog_at_end = 0;
    std::string _first_error;
    double _cpu_seconds = 0;
    double _wall_seconds = 0;

    run_stats _measured;
    run_stats _interval;
    std::mutex _pending_mutex;
    run_stats _pending;  // guarded by _pending_mutex
    std::atomic<bool> _done{false};
};

}  // namespace obsrv::loadgen
