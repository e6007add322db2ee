#pragma once

// One io_uring worker of the gateway's HTTP server: its own ring, listening
// socket (SO_REUSEPORT), receive buffers, connections and request handler.
// Nothing is shared with other workers except metrics (relaxed atomics).
//
//   multishot accept ──► connection ──► multishot recv (provided buffers)
//        │                  │  parse in place; assemble only what spans
//        │                  ▼  buffers
//        │            request_handler::on_request ──► response now / later
//        │                  │
//        └──────────────── send (in order, one in flight per connection)
//
// Lifecycle: construct on any thread; run() on the worker's own thread sets
// up the ring (SINGLE_ISSUER ties it to that thread) and serves until
// stop(); stop() may be called from any thread. Start-up errors are reported
// through the promise given to run().

#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/result.h"
#include "ingress/byte_buffer.h"
#include "ingress/chunked_decoder.h"
#include "ingress/http_parser.h"
#include "ingress/request_handler.h"
#include "ingress/uring.h"

namespace obsrv::ingress {

struct server_limits {
    http_limits http;
    size_t max_connections = 10000;  // per worker
    std::chrono::milliseconds idle_timeout{60000};
    std::chrono::milliseconds request_timeout{30000};
    size_t max_pipelined = 64;  // responses queued per connection before reading pauses
};

struct worker_options {
    unsigned index = 0;
    int listen_fd = -1;  // owned by the server
    unsigned ring_entries = 4096;
    unsigned buffer_count = 256;
    size_t buffer_size = 64 * 1024;
    /// Wake-up batching: wait for up to this many completions (adapted to the last round)...
    unsigned completion_batch = 32;
    /// ...but no longer than this once the wait started.
    std::chrono::microseconds completion_wait{1000};
    server_limits limits;
};

/// Counters shared by all workers (relaxed atomics, registered once).
struct server_metrics {
    explicit server_metrics(metrics::registry& registry);
    metrics::gauge& connections_open;
    metrics::counter& connections_accepted;
    metrics::counter& connections_rejected;
    metrics::counter& received_bytes;
    metrics::counter& assembled_bytes;
    metrics::counter& kept_buffers;
    metrics::counter& responses_dropped;
    metrics::counter& timeouts_idle;
    metrics::counter& timeouts_request;
    metrics::registry& registry;
    /// protocol-level rejections (400, 408, 413, 431, 501, 505) by status code
    metrics::counter& protocol_error(uint16_t status);
};

class server_worker final : public response_sink {
  public:
    server_worker(worker_options options, request_handler& handler, server_metrics& metrics);
    ~server_worker();

    server_worker(const server_worker&) = delete;
    server_worker& operator=(const server_worker&) = delete;

    /// Thread body: sets up, reports through `ready`, serves until stopped.
    void run(std::promise<status> ready);

    /// Stops accepting, finishes in-flight requests until `deadline`, then
    /// closes every connection and returns from run(). Any thread.
    void stop(std::chrono::steady_clock::time_point deadline);

    void complete(const request_token& token, response&& r) override;

    size_t connection_count() const { return _open_connections; }

  private:
    struct pending_response {
        uint64_t sequence = 0;
        bool ready = false;
        bool close_after = false;
        bool head_request = false;       // HEAD: no body in the response
        bool http10_keep_alive = false;  // HTTP/1.0 client that asked for keep-alive
        std::string bytes;
    };

    enum class read_state : uint8_t { head, chunked_body };

    struct connection {
        int fd = -1;
        uint32_t generation = 0;
        bool in_use = false;
        bool recv_armed = false;
        bool send_in_flight = false;
        bool closing = false;         // no more requests; close once sends finish
        bool lingering = false;       // response sent, reading and discarding until EOF
        bool aborting = false;        // closed without lingering (errors, stop)
        bool read_paused = false;     // too many responses queued
        bool recv_cancelled = false;  // recv stopped while paused; re-arm on resume
        bool expect_sent = false;     // 100 Continue already sent for the current request
        read_state state = read_state::head;
        uint64_t next_sequence = 0;
        size_t expected = 0;      // bytes of the current request when known
        size_t head_scanned = 0;  // bytes of a partial head in `in` already scanned
        byte_buffer in;           // bytes that did not form a whole request yet
        byte_buffer head_copy;    // the head of a chunked request
        byte_buffer body;         // a de-chunked body
        chunked_decoder chunked;
        std::deque<pending_response> queue;
        std::string out_pending;  // serialised responses waiting for the socket
        std::string out_sending;  // bytes the kernel is sending (not touched)
        size_t out_sent = 0;
        std::chrono::steady_clock::time_point last_activity{};
        std::chrono::steady_clock::time_point request_started{};  // zero: no partial request
        std::chrono::steady_clock::time_point close_deadline{};
    };

    status setup();
    void loop();
    void handle_cqe(io_uring_cqe* cqe);
    void arm_accept();
    void arm_recv(connection& c, uint32_t slot);
    void arm_wakeup(int fd, uint8_t kind);
    void on_accept(int res, bool more);
    void on_recv(uint32_t slot, uint32_t generation, int res, uint32_t flags);
    void on_send(uint32_t slot, uint32_t generation, int res);
    void on_data(connection& c, uint32_t slot, const char* data, size_t len);
    size_t process(connection& c, uint32_t slot, std::string_view buffer);
    void dispatch(connection& c, uint32_t slot, const http_request_head& head,
                  std::string_view body);
    void protocol_error(connection& c, uint32_t slot, uint16_t status);
    void send_continue(connection& c, uint32_t slot);
    void enqueue_ready(connection& c, uint32_t slot, uint64_t sequence, response&& r);
    void flush(connection& c, uint32_t slot);
    void submit_send(connection& c, uint32_t slot);
    void pause_reading(connection& c);
    void resume_reading(connection& c, uint32_t slot);
    void begin_close(connection& c, uint32_t slot, bool graceful);
    void maybe_finish_close(connection& c, uint32_t slot);
    void sweep_timeouts();
    void begin_stop();
    bool drained() const;
    std::chrono::steady_clock::time_point stop_deadline() const;

    worker_options _options;
    request_handler& _handler;
    server_metrics& _metrics;
    std::unique_ptr<uring> _ring;
    std::unique_ptr<provided_buffers> _buffers;
    std::vector<connection> _connections;
    std::vector<uint32_t> _free_slots;
    size_t _open_connections = 0;
    int _stop_fd = -1;
    int _handler_fd = -1;
    bool _accept_armed = false;
    bool _stopping = false;
    bool _listener_closed = false;
    std::vector<uint32_t> _waiting_for_buffers;
    // The receive buffer being processed, offered to the request that ends it (dispatch).
    receive_block _offer{};
    const char* _offer_data_end = nullptr;
    std::chrono::steady_clock::time_point _now{};
    std::chrono::steady_clock::time_point _next_sweep{};
    std::atomic<int64_t> _stop_deadline_ns{0};
    std::atomic<bool> _stop_requested{false};
};

/// The HTTP status line reason for `status`.
std::string_view status_reason(uint16_t status);

/// Serialises a response (status line, headers, body) onto `out`.
void serialize_response(std::string& out, const response& r, bool head_request,
                        bool http10_keep_alive);

}  // namespace obsrv::ingress
