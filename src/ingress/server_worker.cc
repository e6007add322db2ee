#include "ingress/server_worker.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread_name.h"

namespace obsrv::ingress {
namespace {

// user_data = kind << 56 | (generation & 0xffffff) << 32 | slot
enum op_kind : uint8_t {
    op_accept = 1,
    op_recv = 2,
    op_send = 3,
    op_stop_wakeup = 4,
    op_handler_wakeup = 5,
    op_cancel = 6,
};

constexpr uint64_t encode(op_kind kind, uint32_t slot = 0, uint32_t generation = 0) {
    return (uint64_t{kind} << 56) | (uint64_t{generation & 0xffffffu} << 32) | slot;
}
constexpr op_kind kind_of(uint64_t data) {
    return static_cast<op_kind>(data >> 56);
}
constexpr uint32_t slot_of(uint64_t data) {
    return static_cast<uint32_t>(data);
}
constexpr uint32_t generation_of(uint64_t data) {
    return static_cast<uint32_t>(data >> 32) & 0xffffffu;
}

constexpr auto k_sweep_interval = std::chrono::milliseconds(100);
constexpr auto k_linger = std::chrono::seconds(2);
constexpr uint16_t k_buffer_group = 1;

}  // namespace

server_metrics::server_metrics(metrics::registry& r)
    : connections_open(r.add_gauge("obsrv_gateway_connections", "Open client connections")),
      connections_accepted(
          r.add_counter("obsrv_gateway_connections_accepted_total", "Client connections accepted")),
      connections_rejected(r.add_counter(
          "obsrv_gateway_connections_rejected_total",
          "Client connections closed at once because gateway.max_connections was reached")),
      received_bytes(r.add_counter("obsrv_gateway_received_bytes_total",
                                   "Bytes received from clients (heads and bodies)")),
      assembled_bytes(
          r.add_counter("obsrv_gateway_assembled_bytes_total",
                        "Bytes copied to assemble requests that spanned receive buffers")),
      kept_buffers(r.add_counter(
          "obsrv_gateway_kept_buffers_total",
          "Receive buffers kept to hold the Kafka message built around the body they received")),
      responses_dropped(
          r.add_counter("obsrv_gateway_responses_dropped_total",
                        "Responses not delivered because the client connection had closed")),
      timeouts_idle(r.add_counter("obsrv_gateway_idle_timeouts_total",
                                  "Keep-alive connections closed after gateway.idle_timeout_ms")),
      timeouts_request(
          r.add_counter("obsrv_gateway_request_timeouts_total",
                        "Requests not received whole within gateway.request_timeout_ms (408)")),
      registry(r) {}

metrics::counter& server_metrics::protocol_error(uint16_t status) {
    // Registration returns the existing counter; protocol errors are rare.
    return registry.add_counter("obsrv_gateway_protocol_errors_total",
                                "Requests refused by the HTTP layer, by status code",
                                {{"code", std::to_string(status)}});
}

std::string_view status_reason(uint16_t status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 417:
            return "Expectation Failed";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

void serialize_response(std::string& out, const response& r, bool head_request,
                        bool http10_keep_alive) {
    char number[24];
    out.append("HTTP/1.1 ");
    auto n = std::to_chars(number, number + sizeof number, r.status).ptr - number;
    out.append(number, static_cast<size_t>(n));
    out.push_back(' ');
    out.append(status_reason(r.status));
    out.append("\r\nContent-Type: ");
    out.append(r.content_type);
    out.append("\r\nContent-Length: ");
    n = std::to_chars(number, number + sizeof number, r.body.size()).ptr - number;
    out.append(number, static_cast<size_t>(n));
    if (r.retry_after_s) {
        out.append("\r\nRetry-After: ");
        n = std::to_chars(number, number + sizeof number, r.retry_after_s).ptr - number;
        out.append(number, static_cast<size_t>(n));
    }
    if (r.close) {
        out.append("\r\nConnection: close");
    } else if (http10_keep_alive) {
        out.append("\r\nConnection: keep-alive");
    }
    out.append("\r\n\r\n");
    if (!head_request) {
        out.append(r.body);
    }
}

server_worker::server_worker(worker_options options, request_handler& handler,
                             server_metrics& metrics)
    : _options(std::move(options)), _handler(handler), _metrics(metrics) {}

server_worker::~server_worker() {
    for (auto& c : _connections) {
        if (c.in_use && c.fd >= 0) {
            ::close(c.fd);
        }
    }
    if (_stop_fd >= 0) {
        ::close(_stop_fd);
    }
}

status server_worker::setup() {
    auto ring = uring::create(_options.ring_entries);
    if (!ring) {
        return ring.error();
    }
    _ring = std::move(*ring);
    auto buffers = provided_buffers::create(_ring->get(), k_buffer_group, _options.buffer_count,
                                            _options.buffer_size);
    if (!buffers) {
        return buffers.error();
    }
    _buffers = std::move(*buffers);
    _stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (_stop_fd < 0) {
        return make_error("eventfd: {}", std::strerror(errno));
    }
    _connections.reserve(std::min<size_t>(_options.limits.max_connections, 1024));
    _handler.attach(*this);
    _handler_fd = _handler.wakeup_fd();
    arm_accept();
    arm_wakeup(_stop_fd, op_stop_wakeup);
    if (_handler_fd >= 0) {
        arm_wakeup(_handler_fd, op_handler_wakeup);
    }
    io_uring_submit(_ring->get());
    return {};
}

void server_worker::run(std::promise<status> ready) {
    set_thread_name("io-" + std::to_string(_options.index));
    auto st = setup();
    bool ok = st.has_value();
    ready.set_value(std::move(st));
    if (ok) {
        loop();
    }
}

void server_worker::stop(std::chrono::steady_clock::time_point deadline) {
    _stop_deadline_ns.store(deadline.time_since_epoch().count());
    _stop_requested.store(true);
    uint64_t one = 1;
    if (_stop_fd >= 0) {
        [[maybe_unused]] auto w = ::write(_stop_fd, &one, sizeof one);
    }
}

void server_worker::arm_accept() {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_multishot_accept(sqe, _options.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, encode(op_accept));
    _accept_armed = true;
}

void server_worker::arm_wakeup(int fd, uint8_t kind) {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, encode(static_cast<op_kind>(kind)));
}

void server_worker::arm_recv(connection& c, uint32_t slot) {
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = _buffers->group();
    io_uring_sqe_set_data64(sqe, encode(op_recv, slot, c.generation));
    c.recv_armed = true;
    c.recv_cancelled = false;
}

void server_worker::loop() {
    io_uring* ring = _ring->get();
    _now = std::chrono::steady_clock::now();
    _next_sweep = _now + k_sweep_interval;
    unsigned last_round = 1;
    while (true) {
        // Waking once per completion costs a context switch each, and on a core shared with
        // librdkafka's threads every switch also evicts the other side's cache (measured:
        // ~20% fewer requests/s). Under load, wait for as many completions as the last round
        // brought, bounded by completion_wait; a quiet worker (last round 1) still wakes on
        // the first one.
        unsigned wait_for = _stopping || _options.completion_wait.count() == 0
                                ? 1u
                                : std::clamp(last_round, 1u, _options.completion_batch);
        __kernel_timespec timeout{};
        timeout.tv_nsec = wait_for > 1 ? std::chrono::nanoseconds(_options.completion_wait).count()
                                       : std::chrono::nanoseconds(k_sweep_interval).count();
        io_uring_cqe* cqe = nullptr;
        int rc = io_uring_submit_and_wait_timeout(ring, &cqe, wait_for, &timeout, nullptr);
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
            log::get("gateway")->error("io-{}: io_uring wait failed: {}", _options.index,
                                       std::strerror(-rc));
        }
        _now = std::chrono::steady_clock::now();
        unsigned head;
        unsigned seen = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            handle_cqe(cqe);
            ++seen;
        }
        io_uring_cq_advance(ring, seen);
        last_round = seen;
        _buffers->publish();
        if (!_waiting_for_buffers.empty()) {
            // Receives that ran out of buffers resume now that some came back.
            auto waiting = std::move(_waiting_for_buffers);
            _waiting_for_buffers.clear();
            for (uint32_t slot : waiting) {
                auto& c = _connections[slot];
                if (c.in_use && !c.recv_armed && !c.closing && !c.read_paused) {
                    arm_recv(c, slot);
                }
            }
        }
        if (_stop_requested.load() && !_stopping) {
            begin_stop();
        }
        if (_now >= _next_sweep) {
            sweep_timeouts();
            _next_sweep = _now + k_sweep_interval;
        }
        if (_stopping && (drained() || _now >= stop_deadline())) {
            break;
        }
    }
    // Whatever is left after the deadline is cut off.
    for (uint32_t slot = 0; slot < _connections.size(); ++slot) {
        auto& c = _connections[slot];
        if (c.in_use) {
            ::shutdown(c.fd, SHUT_RDWR);
            ::close(c.fd);
            c.fd = -1;
            c.in_use = false;
            _metrics.connections_open.sub(1);
        }
    }
    _open_connections = 0;
    _handler.on_stopped(stop_deadline());
}

void server_worker::begin_stop() {
    _stopping = true;
    // No new connections, no new requests; answered requests still go out.
    if (!_listener_closed) {
        io_uring_sqe* sqe = _ring->sqe();
        io_uring_prep_cancel64(sqe, encode(op_accept), 0);
        io_uring_sqe_set_data64(sqe, encode(op_cancel));
        _listener_closed = true;
    }
    for (uint32_t slot = 0; slot < _connections.size(); ++slot) {
        auto& c = _connections[slot];
        if (!c.in_use || c.closing) {
            continue;
        }
        if (c.queue.empty() && !c.send_in_flight) {
            begin_close(c, slot, false);
        } else {
            // Finish the requests already received, then close.
            c.closing = true;
            if (c.recv_armed) {
                io_uring_sqe* sqe = _ring->sqe();
                io_uring_prep_cancel64(sqe, encode(op_recv, slot, c.generation), 0);
                io_uring_sqe_set_data64(sqe, encode(op_cancel));
            }
            if (!c.queue.empty()) {
                c.queue.back().close_after = true;
            }
        }
    }
    _handler.on_stop_begin();
}

std::chrono::steady_clock::time_point server_worker::stop_deadline() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(_stop_deadline_ns.load()));
}

bool server_worker::drained() const {
    return _open_connections == 0 && _handler.pending() == 0;
}

void server_worker::handle_cqe(io_uring_cqe* cqe) {
    uint64_t data = io_uring_cqe_get_data64(cqe);
    switch (kind_of(data)) {
        case op_accept:
            on_accept(cqe->res, cqe->flags & IORING_CQE_F_MORE);
            break;
        case op_recv:
            on_recv(slot_of(data), generation_of(data), cqe->res, cqe->flags);
            break;
        case op_send:
            on_send(slot_of(data), generation_of(data), cqe->res);
            break;
        case op_stop_wakeup: {
            uint64_t value;
            [[maybe_unused]] auto r = ::read(_stop_fd, &value, sizeof value);
            if (!(cqe->flags & IORING_CQE_F_MORE)) {
                arm_wakeup(_stop_fd, op_stop_wakeup);
            }
            break;
        }
        case op_handler_wakeup:
            _handler.on_wakeup();
            if (!(cqe->flags & IORING_CQE_F_MORE)) {
                arm_wakeup(_handler_fd, op_handler_wakeup);
            }
            break;
        case op_cancel:
            break;
    }
}

void server_worker::on_accept(int res, bool more) {
    if (!more) {
        _accept_armed = false;
        if (!_stopping) {
            arm_accept();
        }
    }
    if (res < 0) {
        if (res != -ECANCELED) {
            log::get("gateway")->warn("io-{}: accept failed: {}", _options.index,
                                      std::strerror(-res));
        }
        return;
    }
    int fd = res;
    if (_stopping || _open_connections >= _options.limits.max_connections) {
        _metrics.connections_rejected.inc();
        ::close(fd);
        return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint32_t slot;
    if (!_free_slots.empty()) {
        slot = _free_slots.back();
        _free_slots.pop_back();
    } else {
        slot = static_cast<uint32_t>(_connections.size());
        _connections.emplace_back();
    }
    auto& c = _connections[slot];
    uint32_t generation = c.generation + 1;
    c.~connection();
    new (&c) connection();
    c.generation = generation;
    c.fd = fd;
    c.in_use = true;
    c.last_activity = _now;
    c.chunked = chunked_decoder(chunked_limits{_options.limits.http.max_body_bytes,
                                               _options.limits.http.max_head_bytes, 1024});
    ++_open_connections;
    _metrics.connections_open.add(1);
    _metrics.connections_accepted.inc();
    arm_recv(c, slot);
}

void server_worker::on_recv(uint32_t slot, uint32_t generation, int res, uint32_t flags) {
    if (slot >= _connections.size()) {
        return;
    }
    auto& c = _connections[slot];
    if (!c.in_use || (c.generation & 0xffffffu) != generation) {
        if (flags & IORING_CQE_F_BUFFER) {
            _buffers->recycle(static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
        }
        return;
    }
    if (!(flags & IORING_CQE_F_MORE)) {
        c.recv_armed = false;
    }
    if (res > 0) {
        uint16_t id = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        c.last_activity = _now;
        _metrics.received_bytes.inc(static_cast<uint64_t>(res));
        bool taken = false;
        if (!c.closing && !c.lingering) {
            char* buffer = _buffers->buffer(id);
            _offer = receive_block{_buffers->block(id), buffer + _buffers->buffer_size()};
            _offer_data_end = buffer + res;
            on_data(c, slot, buffer, static_cast<size_t>(res));
            taken = _offer.taken;
            _offer = receive_block{};
            _offer_data_end = nullptr;
        }
        if (taken) {
            // A Kafka message was built inside the buffer; the handler frees it after delivery.
            _buffers->replace(id);
            _metrics.kept_buffers.inc();
        } else {
            // Everything in it was consumed or copied (into the Kafka message or c.in).
            _buffers->recycle(id);
        }
        if (!c.recv_armed && c.in_use && !c.closing && !c.read_paused) {
            arm_recv(c, slot);
        } else if (!c.recv_armed && c.lingering) {
            arm_recv(c, slot);
        }
        maybe_finish_close(c, slot);
        return;
    }
    if (res == -ENOBUFS) {
        // Every receive buffer is in use; retry once some come back.
        _waiting_for_buffers.push_back(slot);
        return;
    }
    if (res == -ECANCELED && c.recv_cancelled && !c.closing) {
        return;  // paused; resume_reading() re-arms
    }
    if ((res == 0 || res == -ECANCELED) && !c.aborting &&
        (!c.queue.empty() || c.send_in_flight || !c.out_pending.empty())) {
        // The client finished sending, or we stopped reading: answer what
        // was received, then close.
        c.closing = true;
        if (!c.queue.empty()) {
            c.queue.back().close_after = true;
        }
        maybe_finish_close(c, slot);
        return;
    }
    begin_close(c, slot, false);
}

void server_worker::on_data(connection& c, uint32_t slot, const char* data, size_t len) {
    while (len > 0 && !c.closing) {
        if (c.in.empty()) {
            size_t used = process(c, slot, {data, len});
            if (used < len && !c.closing) {
                c.in.append(data + used, len - used);
                _metrics.assembled_bytes.inc(len - used);
            }
            break;
        }
        // Take only what the pending request needs, so that what follows is
        // parsed in place from the receive buffer.
        size_t take = c.expected > c.in.size() ? std::min(len, c.expected - c.in.size()) : len;
        c.in.append(data, take);
        _metrics.assembled_bytes.inc(take);
        data += take;
        len -= take;
        size_t used = process(c, slot, c.in.view());
        c.in.consume(used);
        if (c.read_paused && len > 0) {
            c.in.append(data, len);
            break;
        }
    }
    if (c.in.empty()) {
        c.in.shrink_if_larger_than(_options.buffer_size * 4);
    }
    // A client that keeps sending while its responses pile up stops being read.
    if (c.read_paused &&
        c.in.size() > _options.limits.http.max_head_bytes + _options.limits.http.max_body_bytes +
                          _options.buffer_size &&
        c.recv_armed && !c.recv_cancelled) {
        io_uring_sqe* sqe = _ring->sqe();
        io_uring_prep_cancel64(sqe, encode(op_recv, slot, c.generation), 0);
        io_uring_sqe_set_data64(sqe, encode(op_cancel));
        c.recv_cancelled = true;
    }
}

size_t server_worker::process(connection& c, uint32_t slot, std::string_view buffer) {
    size_t pos = 0;
    const auto& limits = _options.limits.http;
    while (pos < buffer.size() && !c.closing && !c.read_paused) {
        std::string_view rest = buffer.substr(pos);
        if (c.state == read_state::chunked_body) {
            size_t consumed = 0;
            auto st = c.chunked.feed(rest, consumed,
                                     [&c](std::string_view data) { c.body.append(data); });
            pos += consumed;
            if (st == decode_status::incomplete) {
                break;
            }
            if (st == decode_status::error) {
                protocol_error(c, slot, static_cast<uint16_t>(to_http_status(c.chunked.error())));
                return buffer.size();
            }
            http_request_head head;
            http_error err = http_error::none;
            parse_request_head(c.head_copy.view(), limits, head, err);
            dispatch(c, slot, head, c.body.view());
            c.state = read_state::head;
            c.head_copy.clear();
            c.body.clear();
            c.body.shrink_if_larger_than(_options.buffer_size * 4);
            c.chunked.reset();
            continue;
        }
        if (c.request_started == std::chrono::steady_clock::time_point{}) {
            c.request_started = _now;
        }
        http_request_head head;
        http_error err = http_error::none;
        // A head trickling in is rescanned from where the last attempt stopped.
        size_t hint = rest.data() == c.in.data() ? c.head_scanned : 0;
        auto st = parse_request_head(rest, limits, head, err, hint);
        if (st == parse_status::incomplete) {
            c.expected = 0;
            c.head_scanned = rest.size();
            break;
        }
        c.head_scanned = 0;
        if (st == parse_status::error) {
            protocol_error(c, slot, static_cast<uint16_t>(to_http_status(err)));
            return buffer.size();
        }
        if (head.expect_unsupported) {
            protocol_error(c, slot, 417);
            return buffer.size();
        }
        if (head.chunked) {
            c.head_copy.clear();
            c.head_copy.append(rest.substr(0, head.head_bytes));
            c.state = read_state::chunked_body;
            pos += head.head_bytes;
            if (head.expect_continue) {
                send_continue(c, slot);
            }
            continue;
        }
        size_t need = head.head_bytes + static_cast<size_t>(head.content_length.value_or(0));
        if (rest.size() < need) {
            c.expected = need;
            if (head.expect_continue && !c.expect_sent) {
                send_continue(c, slot);
            }
            break;
        }
        c.expected = 0;
        dispatch(c, slot, head, rest.substr(head.head_bytes, need - head.head_bytes));
        pos += need;
    }
    return pos;
}

void server_worker::send_continue(connection& c, uint32_t slot) {
    c.expect_sent = true;
    if (c.queue.empty()) {
        c.out_pending.append("HTTP/1.1 100 Continue\r\n\r\n");
        flush(c, slot);
    }
    // With earlier responses still queued, 100 Continue would overtake them;
    // clients send the body anyway after a short wait.
}

void server_worker::dispatch(connection& c, uint32_t slot, const http_request_head& head,
                             std::string_view body) {
    c.request_started = {};
    c.expect_sent = false;
    uint64_t sequence = c.next_sequence++;
    bool keep_alive = head.keep_alive && !_stopping;
    pending_response entry;
    entry.sequence = sequence;
    entry.head_request = head.method == http_method::head;
    entry.http10_keep_alive = head.minor_version == 0 && keep_alive;
    entry.close_after = !keep_alive;
    c.queue.push_back(std::move(entry));
    if (!keep_alive) {
        c.closing = true;  // nothing after this request is read
    }
    request req{head, body, request_token{slot, c.generation, sequence}, _now};
    // The buffer may be kept only by the request that ends what was received into it: the
    // bytes after the body are then free, and nothing in it is parsed afterwards.
    // (std::less: the body may be in c.in, unrelated to the buffer.)
    if (_offer.begin != nullptr && !_offer.taken && !std::less<>{}(body.data(), _offer.begin) &&
        std::less<>{}(body.data(), _offer_data_end) &&
        body.data() + body.size() == _offer_data_end) {
        req.block = &_offer;
    }
    response out;
    if (_handler.on_request(req, out) == handled::now) {
        enqueue_ready(c, slot, sequence, std::move(out));
    }
    if (c.queue.size() >= _options.limits.max_pipelined) {
        pause_reading(c);
    }
}

void server_worker::enqueue_ready(connection& c, uint32_t slot, uint64_t sequence, response&& r) {
    if (c.queue.empty() || sequence < c.queue.front().sequence) {
        return;
    }
    size_t index = static_cast<size_t>(sequence - c.queue.front().sequence);
    if (index >= c.queue.size()) {
        return;
    }
    auto& entry = c.queue[index];
    if (entry.close_after) {
        r.close = true;
    }
    if (r.close) {
        entry.close_after = true;
    }
    entry.bytes.clear();
    serialize_response(entry.bytes, r, entry.head_request, entry.http10_keep_alive);
    entry.ready = true;
    flush(c, slot);
}

void server_worker::complete(const request_token& token, response&& r) {
    if (token.slot >= _connections.size()) {
        _metrics.responses_dropped.inc();
        return;
    }
    auto& c = _connections[token.slot];
    if (!c.in_use || c.generation != token.generation || c.fd < 0) {
        _metrics.responses_dropped.inc();
        return;
    }
    enqueue_ready(c, token.slot, token.sequence, std::move(r));
}

void server_worker::flush(connection& c, uint32_t slot) {
    while (!c.queue.empty() && c.queue.front().ready) {
        auto& entry = c.queue.front();
        c.out_pending.append(entry.bytes);
        bool close_after = entry.close_after;
        c.queue.pop_front();
        if (close_after) {
            c.closing = true;
            // Anything queued behind a closing response is never answered.
            c.queue.clear();
            break;
        }
    }
    if (!c.send_in_flight && !c.out_pending.empty()) {
        submit_send(c, slot);
    }
    if (c.read_paused && c.queue.size() < _options.limits.max_pipelined / 2 + 1 && !c.closing) {
        resume_reading(c, slot);
    }
    maybe_finish_close(c, slot);
}

void server_worker::submit_send(connection& c, uint32_t slot) {
    std::swap(c.out_sending, c.out_pending);
    c.out_pending.clear();
    c.out_sent = 0;
    io_uring_sqe* sqe = _ring->sqe();
    io_uring_prep_send(sqe, c.fd, c.out_sending.data(), c.out_sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, encode(op_send, slot, c.generation));
    c.send_in_flight = true;
}

void server_worker::on_send(uint32_t slot, uint32_t generation, int res) {
    if (slot >= _connections.size()) {
        return;
    }
    auto& c = _connections[slot];
    if (!c.in_use || (c.generation & 0xffffffu) != generation) {
        return;
    }
    c.send_in_flight = false;
    if (res < 0) {
        c.out_pending.clear();
        c.queue.clear();
        begin_close(c, slot, false);
        return;
    }
    c.last_activity = _now;
    c.out_sent += static_cast<size_t>(res);
    if (c.out_sent < c.out_sending.size()) {
        io_uring_sqe* sqe = _ring->sqe();
        io_uring_prep_send(sqe, c.fd, c.out_sending.data() + c.out_sent,
                           c.out_sending.size() - c.out_sent, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, encode(op_send, slot, c.generation));
        c.send_in_flight = true;
        return;
    }
    c.out_sending.clear();
    if (c.out_sending.capacity() > 1 << 20) {
        std::string().swap(c.out_sending);
    }
    if (!c.out_pending.empty()) {
        submit_send(c, slot);
        return;
    }
    maybe_finish_close(c, slot);
}

void server_worker::protocol_error(connection& c, uint32_t slot, uint16_t status) {
    _metrics.protocol_error(status).inc();
    response r = _handler.protocol_error(status);
    r.status = status;
    r.close = true;
    pending_response entry;
    entry.sequence = c.next_sequence++;
    entry.close_after = true;
    c.queue.push_back(std::move(entry));
    c.request_started = {};
    c.closing = true;  // stop reading: what follows cannot be framed
    enqueue_ready(c, slot, c.queue.back().sequence, std::move(r));
}

void server_worker::pause_reading(connection& c) {
    c.read_paused = true;
}

void server_worker::resume_reading(connection& c, uint32_t slot) {
    c.read_paused = false;
    if (!c.in.empty()) {
        size_t used = process(c, slot, c.in.view());
        c.in.consume(used);
    }
    if (!c.recv_armed && !c.closing && !c.read_paused) {
        arm_recv(c, slot);
    }
}

void server_worker::begin_close(connection& c, uint32_t slot, bool graceful) {
    if (!c.in_use) {
        return;
    }
    c.closing = true;
    c.queue.clear();
    c.out_pending.clear();
    if (graceful) {
        ::shutdown(c.fd, SHUT_WR);
    } else {
        c.aborting = true;
        c.lingering = false;
        ::shutdown(c.fd, SHUT_RDWR);  // ends an armed receive
    }
    maybe_finish_close(c, slot);
}

void server_worker::maybe_finish_close(connection& c, uint32_t slot) {
    if (!c.in_use || !c.closing || !c.queue.empty() || c.send_in_flight || !c.out_pending.empty()) {
        return;
    }
    if (c.recv_armed) {
        if (!c.aborting && !c.lingering) {
            // The last response went out: stop sending but keep reading for a
            // moment, so a client still sending its body reads our answer
            // rather than a connection reset.
            c.lingering = true;
            c.close_deadline = _now + k_linger;
            ::shutdown(c.fd, SHUT_WR);
        }
        return;  // EOF, a reset or the linger deadline ends the receive
    }
    ::close(c.fd);
    c.fd = -1;
    c.in_use = false;
    c.in = byte_buffer();
    c.head_copy = byte_buffer();
    c.body = byte_buffer();
    std::string().swap(c.out_pending);
    std::string().swap(c.out_sending);
    _free_slots.push_back(slot);
    --_open_connections;
    _metrics.connections_open.sub(1);
}

void server_worker::sweep_timeouts() {
    const auto& limits = _options.limits;
    for (uint32_t slot = 0; slot < _connections.size(); ++slot) {
        auto& c = _connections[slot];
        if (!c.in_use) {
            continue;
        }
        if (c.lingering) {
            if (_now >= c.close_deadline) {
                ::shutdown(c.fd, SHUT_RDWR);  // completes the armed recv
            }
            continue;
        }
        if (c.closing) {
            continue;
        }
        bool partial = c.request_started != std::chrono::steady_clock::time_point{};
        if (partial && _now - c.request_started > limits.request_timeout) {
            _metrics.timeouts_request.inc();
            protocol_error(c, slot, 408);
            continue;
        }
        if (!partial && c.queue.empty() && !c.send_in_flight &&
            _now - c.last_activity > limits.idle_timeout) {
            _metrics.timeouts_idle.inc();
            begin_close(c, slot, false);
            continue;
        }
        if (c.send_in_flight && _now - c.last_activity > limits.request_timeout) {
            // A client that does not read its responses.
            begin_close(c, slot, false);
        }
    }
}

}  // namespace obsrv::ingress
