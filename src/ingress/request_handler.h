#pragma once

// The contract between the io_uring HTTP server and the application: the
// server frames requests (keep-alive, pipelining, Content-Length and chunked
// bodies, limits) and keeps responses in order; a handler turns one complete
// request into one response, now or later (e.g. after a Kafka delivery
// report).
//
// Threading: one handler instance per worker, called only on that worker's
// thread; a deferred response is completed on the same thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingress/http_parser.h"

namespace obsrv::ingress {

/// Identifies a request whose response comes later.
struct request_token {
    uint32_t slot = 0;
    uint32_t generation = 0;
    uint64_t sequence = 0;
};

struct response {
    uint16_t status = 200;
    std::string_view content_type = "application/json";
    std::string body;
    uint32_t retry_after_s = 0;  // adds Retry-After when non-zero
    bool close = false;          // close the connection after this response
};

/// The receive buffer a request arrived in, offered to the handler when the request was the
/// last thing received into it: the handler may then build its output inside the buffer (the
/// Kafka message around the body, without copying the body) and keep the buffer.
struct receive_block {
    char* begin = nullptr;  // the buffer; a handler that sets `taken` frees it with std::free
    char* end = nullptr;    // end of its writable bytes
    /// Set by a handler that keeps the buffer. Once it writes into the buffer, the request's
    /// head and body views are gone: read what is needed from them first.
    bool taken = false;
};

struct request {
    const http_request_head& head;
    std::string_view body;  // valid during on_request only; SIMDJSON_PADDING readable bytes follow
    request_token token;
    std::chrono::steady_clock::time_point received;
    receive_block* block = nullptr;  // non-null when the body lies in a buffer the handler may keep
};

enum class handled : uint8_t { now, later };

class response_sink {
  public:
    /// Completes a deferred request; a token whose connection has gone is
    /// ignored (counted by the server).
    virtual void complete(const request_token& token, response&& r) = 0;

  protected:
    ~response_sink() = default;
};

class request_handler {
  public:
    virtual ~request_handler() = default;

    /// Called once, on the worker thread, before the first request.
    virtual void attach(response_sink& sink) { _sink = &sink; }

    /// A complete request: fill `out` and return `now`, or return `later`
    /// and call sink().complete(token, ...) afterwards on this thread.
    virtual handled on_request(const request& req, response& out) = 0;

    /// The body of a response the HTTP layer sends on its own (400, 408,
    /// 413, 417, 431, 501, 505); plain text unless overridden.
    virtual response protocol_error(uint16_t status);

    /// A descriptor the worker polls; on_wakeup() runs on the worker thread
    /// when it becomes readable and must drain it. -1 when none is needed.
    virtual int wakeup_fd() { return -1; }
    virtual void on_wakeup() {}

    /// Requests answered `later` and not completed yet.
    virtual size_t pending() const { return 0; }

    /// Graceful stop, step 1 (worker thread, must not block): no new
    /// requests will come; deferred ones still complete through the loop.
    virtual void on_stop_begin() {}

    /// Step 2, after the worker's loop ended (worker thread, may block until
    /// `deadline`): push out what is left (e.g. flush a producer).
    virtual void on_stopped(std::chrono::steady_clock::time_point deadline) { (void)deadline; }

  protected:
    response_sink& sink() { return *_sink; }

  private:
    response_sink* _sink = nullptr;
};

}  // namespace obsrv::ingress
