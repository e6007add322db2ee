#include "worker.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>

#include <climits>
#include <fmt/format.h>

#include "common/thread_name.h"

namespace obsrv::loadgen {

namespace {

constexpr size_t read_buffer_bytes = 64 * 1024;
constexpr int max_events = 256;
constexpr size_t max_iov = 1024;  // IOV_MAX on Linux
constexpr int64_t second_ns = 1'000'000'000;
constexpr int64_t housekeeping_ns = 20'000'000;
constexpr int64_t reconnect_backoff_ns = 100'000'000;

}  // namespace

namespace {
int64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * second_ns + ts.tv_nsec;
}
}  // namespace

int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * second_ns + ts.tv_nsec;
}

struct worker::slot {
    int64_t intended_ns = 0;  // latency is measured from here (open loop: the schedule)
    int64_t sent_ns = 0;      // handed to the connection; the timeout runs from here
    uint32_t tmpl = 0;
    bool measured = false;
    char id[id_width]{};
};

struct worker::connection {
    enum class state { closed, connecting, open };

    int fd = -1;
    uint32_t gen = 0;  // tags epoll events so a stale one never reaches a reopened socket
    state st = state::closed;
    response_parser parser;
    std::unique_ptr<slot[]> ring;  // pipeline depth; indices below grow and wrap by modulo
    uint64_t head = 0;             // oldest request awaiting its response
    uint64_t wr = 0;               // request being written
    uint64_t tail = 0;             // next free slot
    uint32_t elem = 0;             // write cursor in ring[wr]: even = piece, odd = id hole
    uint32_t elem_off = 0;
    uint64_t responses = 0;    // on this socket, to tell a refusing server from a closing one
    int64_t since_ns = 0;      // connect start (connecting) or retry time (closed)
    bool close_after = false;  // answered before fully written: framing is lost, reconnect
    bool queued = false;       // in the open-loop free list
};

worker::worker(unsigned index, const run_plan& plan, unsigned connections, uint64_t requests,
               double rate, int cpu)
    : _index(index),
      _plan(plan),
      _cfg(*plan.config),
      _pool(*plan.pool),
      _request_limit(requests),
      _rate(rate),
      _cpu(cpu),
      _conns(connections),
      _rbuf(new char[read_buffer_bytes]),
      _cursor(*plan.pool, index * 7919u) {
    for (auto& c : _conns) {
        c.ring = std::make_unique<slot[]>(_cfg.pipeline);
    }
}

worker::~worker() {
    for (auto& c : _conns) {
        if (c.fd >= 0) {
            ::close(c.fd);
        }
    }
    if (_epoll >= 0) {
        ::close(_epoll);
    }
}

void worker::note_error(const std::string& what) {
    if (_first_error.empty()) {
        _first_error = what;
    }
}

void worker::count_error(uint64_t error_counts::*kind, uint64_t n, bool measured) {
    _interval.errors.*kind += n;
    if (measured) {
        _measured.errors.*kind += n;
    }
}

bool worker::in_measurement(int64_t now) const {
    // Before `go` the plan's times are not written yet (and nothing is measured).
    return _started && now >= _plan.warmup_end_ns;
}

bool worker::has_capacity(const connection& c) const {
    return c.st == connection::state::open && !c.close_after && c.tail - c.head < _cfg.pipeline;
}

int64_t worker::intended(uint64_t k) const {
    return _plan.start_ns +
           static_cast<int64_t>(std::llround(_offset_ns + static_cast<double>(k) * _period_ns));
}

bool worker::may_issue_closed(int64_t now) const {
    if (_stopping || !_started) {
        return false;
    }
    if (_request_limit > 0 && now >= _plan.warmup_end_ns && _issued_measured >= _request_limit) {
        return false;
    }
    return now < _plan.end_ns;
}

void worker::issue(connection& c, int64_t intended_ns, int64_t now) {
    slot& s = c.ring[c.tail % _cfg.pipeline];
    s.intended_ns = intended_ns;
    s.sent_ns = now;
    s.tmpl = static_cast<uint32_t>(_cursor.next());
    s.measured = intended_ns >= _plan.warmup_end_ns;
    format_id(request_id(_index, _seq++), s.id);
    ++c.tail;
    ++_inflight;
    ++_interval.sent;
    if (s.measured) {
        ++_measured.sent;
        ++_issued_measured;
        _last_issue_ns = now;
        if (_rate > 0) {
            _measured.send_lag.record(
                static_cast<uint64_t>(std::max<int64_t>(0, now - intended_ns)) / 1000);
        }
    }
}

void worker::refill(connection& c, int64_t now) {
    if (_rate > 0) {
        // Open loop: a due request waiting for a connection goes out now;
        // otherwise the connection waits in the free list for the schedule.
        while (has_capacity(c) && !_stopping && _started &&
               (_request_limit == 0 || _issued_measured < _request_limit)) {
            const int64_t t = intended(_k);
            if (t > now || t >= _plan.end_ns) {
                break;
            }
            issue(c, t, now);
            ++_k;
        }
        if (has_capacity(c) && !c.queued) {
            c.queued = true;
            _free.push_back(static_cast<uint32_t>(&c - _conns.data()));
        }
        return;
    }
    while (has_capacity(c) && may_issue_closed(now)) {
        issue(c, now, now);
    }
}

void worker::dispatch_due(int64_t now) {
    while (!_free.empty() && (_request_limit == 0 || _issued_measured < _request_limit)) {
        const int64_t t = intended(_k);
        if (t > now || t >= _plan.end_ns) {
            return;
        }
        connection& c = _conns[_free.front()];
        _free.pop_front();
        c.queued = false;
        if (!has_capacity(c)) {
            continue;
        }
        issue(c, t, now);
        ++_k;
        if (has_capacity(c)) {
            c.queued = true;
            _free.push_back(static_cast<uint32_t>(&c - _conns.data()));
        }
        flush(c, now);
    }
}

void worker::open_connection(connection& c, int64_t now) {
    const int fd =
        ::socket(_plan.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        count_error(&error_counts::connect, 1, in_measurement(now));
        note_error(fmt::format("socket: {}", std::strerror(errno)));
        c.since_ns = now + reconnect_backoff_ns;
        return;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc =
        ::connect(fd, reinterpret_cast<const sockaddr*>(&_plan.address), _plan.address_len);
    if (rc != 0 && errno != EINPROGRESS) {
        count_error(&error_counts::connect, 1, in_measurement(now));
        note_error(fmt::format("connect: {}", std::strerror(errno)));
        ::close(fd);
        c.since_ns = now + reconnect_backoff_ns;
        return;
    }
    ++c.gen;
    c.fd = fd;
    c.st = connection::state::connecting;
    c.since_ns = now;
    c.responses = 0;
    // Edge-triggered, registered once: no epoll_ctl per request. Reads go on
    // until a short read and writes until a short write, after which the
    // kernel reports the next edge.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (static_cast<uint64_t>(c.gen) << 32) | static_cast<uint64_t>(&c - _conns.data());
    if (::epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
        note_error(fmt::format("epoll_ctl: {}", std::strerror(errno)));
        count_error(&error_counts::connect, 1, in_measurement(now));
        ::close(fd);
        c.fd = -1;
        c.st = connection::state::closed;
        c.since_ns = now + reconnect_backoff_ns;
    }
}

void worker::on_open(connection& c, int64_t now) {
    c.st = connection::state::open;
    if (!_started) {
        return;  // the first requests go out when every worker is connected
    }
    refill(c, now);
    flush(c, now);
}

void worker::drop(connection& c, int64_t now, uint64_t error_counts::*kind,
                  int64_t retry_delay_ns) {
    for (uint64_t i = c.head; i != c.tail; ++i) {
        count_error(kind, 1, c.ring[i % _cfg.pipeline].measured);
    }
    _inflight -= c.tail - c.head;
    if (c.fd >= 0) {
        ::close(c.fd);  // also removes it from the epoll set
    }
    c.fd = -1;
    c.st = connection::state::closed;
    c.parser.reset();
    c.head = c.wr = c.tail = 0;
    c.elem = c.elem_off = 0;
    c.close_after = false;
    c.since_ns = now + retry_delay_ns;
    if (!_stopping && retry_delay_ns == 0) {
        open_connection(c, now);
    }
}

void worker::advance(connection& c, size_t n) {
    _interval.bytes_sent += n;
    while (c.wr != c.tail) {
        const slot& s = c.ring[c.wr % _cfg.pipeline];
        const request_template& t = _pool.at(s.tmpl);
        const uint32_t elems = static_cast<uint32_t>(2 * t.holes.size() + 1);
        while (c.elem < elems) {
            const size_t len = (c.elem % 2 == 0) ? t.piece(c.elem / 2).size() : id_width;
            const size_t left = len - c.elem_off;
            if (n < left) {
                c.elem_off += static_cast<uint32_t>(n);
                if (s.measured) {
                    _measured.bytes_sent += n;
                }
                return;
            }
            n -= left;
            if (s.measured) {
                _measured.bytes_sent += left;
            }
            ++c.elem;
            c.elem_off = 0;
        }
        ++c.wr;
        c.elem = 0;
    }
}

bool worker::flush(connection& c, int64_t now) {
    iovec iov[max_iov];
    while (c.wr != c.tail && c.st == connection::state::open) {
        size_t count = 0;
        size_t total = 0;
        uint64_t w = c.wr;
        uint32_t e = c.elem;
        size_t off = c.elem_off;
        while (w != c.tail && count < max_iov) {
            const slot& s = c.ring[w % _cfg.pipeline];
            const request_template& t = _pool.at(s.tmpl);
            const uint32_t elems = static_cast<uint32_t>(2 * t.holes.size() + 1);
            for (; e < elems && count < max_iov; ++e) {
                std::string_view piece =
                    (e % 2 == 0) ? t.piece(e / 2) : std::string_view(s.id, id_width);
                piece.remove_prefix(off);
                off = 0;
                if (!piece.empty()) {
                    iov[count].iov_base = const_cast<char*>(piece.data());
                    iov[count].iov_len = piece.size();
                    ++count;
                    total += piece.size();
                }
            }
            if (e == elems) {
                ++w;
                e = 0;
            }
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        const ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true;
            }
            if (errno == EINTR) {
                continue;
            }
            note_error(fmt::format("send: {}", std::strerror(errno)));
            drop(c, now, &error_counts::write, 0);
            return false;
        }
        advance(c, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < total) {
            return true;  // the socket buffer is full; EPOLLOUT will come
        }
    }
    return c.st == connection::state::open;
}

void worker::on_response(connection& c, const response_info& info, int64_t now) {
    if (c.head == c.tail) {
        // A response nobody asked for: the stream cannot be trusted any more.
        note_error("unsolicited response");
        count_error(&error_counts::parse, 1, in_measurement(now));
        c.close_after = true;
        return;
    }
    if (c.head == c.wr) {
        // Answered before the request was fully written (e.g. an early 413):
        // count it, then reconnect since the rest of the request cannot follow.
        c.close_after = true;
    }
    const slot& s = c.ring[c.head % _cfg.pipeline];
    const int64_t ns = std::max<int64_t>(0, now - s.intended_ns);
    const uint64_t micros = static_cast<uint64_t>((ns + 999) / 1000);  // never rounds down
    const int status = std::min(info.status, run_stats::max_status);
    const bool ok = status >= 200 && status < 300;
    const uint32_t events = ok ? _pool.at(s.tmpl).events : 0;

    _interval.latency.record(micros);
    ++_interval.status[static_cast<size_t>(status)];
    ++_interval.responses;
    _interval.events_ok += events;
    _interval.bytes_received += info.total_bytes;
    if (s.measured) {
        _measured.latency.record(micros);
        ++_measured.status[static_cast<size_t>(status)];
        ++_measured.responses;
        _measured.events_ok += events;
        _measured.bytes_received += info.total_bytes;
        _last_response_ns = now;
    }
    if (c.head == c.wr) {
        ++c.wr;  // keep head <= wr; the connection is dropped right after
        c.elem = c.elem_off = 0;
    }
    ++c.head;
    --_inflight;
    ++c.responses;
}

bool worker::consume(connection& c, const char* data, size_t n, int64_t now) {
    std::string_view rest(data, n);
    while (!rest.empty()) {
        const auto step = c.parser.feed(rest);
        rest.remove_prefix(step.consumed);
        if (step.status == parse_status::error) {
            note_error("bad response: " + c.parser.error_message());
            drop(c, now, &error_counts::parse, 0);
            return false;
        }
        if (step.status == parse_status::need_more) {
            break;
        }
        on_response(c, c.parser.last(), now);
        if (!c.parser.last().keep_alive || c.close_after) {
            // The server closes after this response (admin servers, HTTP/1.0):
            // what was pipelined behind it is lost; reconnect at once.
            drop(c, now, &error_counts::unanswered, 0);
            return false;
        }
    }
    return true;
}

bool worker::do_read(connection& c, int64_t& now, bool peer_closed) {
    while (true) {
        const ssize_t n = ::read(c.fd, _rbuf.get(), read_buffer_bytes);
        if (n > 0) {
            now = monotonic_ns();
            if (!consume(c, _rbuf.get(), static_cast<size_t>(n), now)) {
                return false;
            }
            // A short read drained the socket and later data raises a new
            // edge, saving the read() that would return EAGAIN. Not so for a
            // FIN that came before this event: read on to see the EOF.
            if (static_cast<size_t>(n) < read_buffer_bytes && !peer_closed) {
                break;
            }
            continue;
        }
        if (n == 0) {
            now = monotonic_ns();
            if (c.parser.finish() == parse_status::complete) {
                on_response(c, c.parser.last(), now);
            }
            // A server that closes before answering anything gets a pause
            // before the next attempt, so a refusing server is not hammered.
            const int64_t delay = c.responses == 0 ? reconnect_backoff_ns / 10 : 0;
            if (c.head != c.tail) {
                note_error("connection closed by the server with requests in flight");
            }
            drop(c, now, &error_counts::unanswered, delay);
            return false;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        now = monotonic_ns();
        note_error(fmt::format("read: {}", std::strerror(errno)));
        drop(c, now, &error_counts::read, reconnect_backoff_ns / 10);
        return false;
    }
    refill(c, now);
    return flush(c, now);
}

void worker::handle_event(uint32_t events, uint64_t data, int64_t& now) {
    const auto idx = static_cast<uint32_t>(data & 0xffffffffu);
    const auto gen = static_cast<uint32_t>(data >> 32);
    if (idx >= _conns.size()) {
        return;
    }
    connection& c = _conns[idx];
    if (c.gen != gen || c.fd < 0) {
        return;
    }
    if (c.st == connection::state::connecting) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            note_error(fmt::format("connect: {}", std::strerror(err ? err : ECONNREFUSED)));
            count_error(&error_counts::connect, 1, in_measurement(now));
            drop(c, now, &error_counts::connect, reconnect_backoff_ns);
            return;
        }
        if (!(events & EPOLLOUT)) {
            return;
        }
        on_open(c, now);
        if (c.st != connection::state::open) {
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (!do_read(c, now, (events & (EPOLLRDHUP | EPOLLHUP)) != 0)) {
            return;
        }
    }
    if ((events & EPOLLOUT) && c.wr != c.tail) {
        flush(c, now);
    }
}

void worker::housekeeping(int64_t now) {
    _next_housekeeping = now + housekeeping_ns;
    for (auto& c : _conns) {
        switch (c.st) {
            case connection::state::closed:
                if (!_stopping && now >= c.since_ns) {
                    open_connection(c, now);
                }
                break;
            case connection::state::connecting:
                if (now - c.since_ns > _cfg.timeout.count()) {
                    note_error("connect: timed out");
                    count_error(&error_counts::connect, 1, in_measurement(now));
                    drop(c, now, &error_counts::connect, reconnect_backoff_ns);
                }
                break;
            case connection::state::open:
                if (c.head != c.tail &&
                    now - c.ring[c.head % _cfg.pipeline].sent_ns > _cfg.timeout.count()) {
                    note_error("request timed out");
                    drop(c, now, &error_counts::timeout, 0);
                }
                break;
        }
    }
}

void worker::publish() {
    std::lock_guard lock(_pending_mutex);
    _pending.merge(_interval);
    _interval.reset();
}

run_stats worker::take_interval() {
    std::lock_guard lock(_pending_mutex);
    run_stats out;
    out.merge(_pending);
    _pending.reset();
    return out;
}

void worker::run(std::latch& ready, std::latch& go) {
    set_thread_name(fmt::format("loadgen-{}", _index));
    if (_cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(_cpu, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0) {
            note_error(fmt::format("sched_setaffinity({}): {}", _cpu, std::strerror(errno)));
        }
    }
    // The open-loop schedule wakes the loop at exact times; the default 50 us
    // timer slack would delay every wake-up and skew the send times.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    _epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event events[max_events];

    // Connect everything before the clock starts, so connection set-up is in
    // neither the figures nor the open-loop backlog.
    int64_t now = monotonic_ns();
    for (auto& c : _conns) {
        open_connection(c, now);
    }
    const int64_t connect_deadline = now + std::min<int64_t>(_cfg.timeout.count(), 3 * second_ns);
    while (now < connect_deadline &&
           std::any_of(_conns.begin(), _conns.end(),
                       [](const connection& c) { return c.st == connection::state::connecting; })) {
        const int n = ::epoll_wait(_epoll, events, max_events, 50);
        now = monotonic_ns();
        for (int i = 0; i < n; ++i) {
            handle_event(events[i].events, events[i].data.u64, now);
        }
    }
    ready.count_down();
    go.wait();
    while (monotonic_ns() < _plan.start_ns) {
        // Nothing may be sent before t0, or it would count as warmup.
        std::this_thread::yield();
    }

    _started = true;
    const int64_t cpu_start = thread_cpu_ns();
    const int64_t wall_start = monotonic_ns();
    if (_rate > 0) {
        _period_ns = 1e9 / _rate;
        _offset_ns = _period_ns * _index / std::max(1u, _cfg.threads);
    }
    now = monotonic_ns();
    _next_tick = _plan.start_ns + second_ns;
    _next_housekeeping = now + housekeeping_ns;
    for (auto& c : _conns) {
        if (c.st == connection::state::open) {
            on_open(c, now);
        }
    }

    bool use_pwait2 = true;
    while (true) {
        now = monotonic_ns();
        if (_rate > 0 && !_stopping) {
            // Before the end check: requests due before the end still go out
            // when this thread wakes up late.
            dispatch_due(now);
        }
        if (!_stopping) {
            const bool interrupted = _plan.stop->load(std::memory_order_relaxed);
            const bool limit = _request_limit > 0 && _issued_measured >= _request_limit;
            if (interrupted || now >= _plan.end_ns || limit) {
                _stopping = true;
                _issue_end_ns = limit ? _last_issue_ns : std::min(now, _plan.end_ns);
                _drain_deadline = now + _cfg.timeout.count();
                if (_rate > 0) {
                    // Requests the schedule wanted out that no connection was free
                    // to take: the target fell behind the rate.
                    const int64_t until = std::min(now, _plan.end_ns);
                    const double x =
                        (static_cast<double>(until - _plan.start_ns) - _offset_ns) / _period_ns;
                    uint64_t due = x > 0 ? static_cast<uint64_t>(std::ceil(x)) : 0;
                    if (_request_limit > 0) {
                        due = std::min(due, _k + (_request_limit -
                                                  std::min(_issued_measured, _request_limit)));
                    }
                    _backlog_at_end = due > _k ? due - _k : 0;
                }
            }
        }
        if (now >= _next_tick) {
            publish();
            while (_next_tick <= now) {
                _next_tick += second_ns;
            }
        }
        if (_stopping && (_inflight == 0 || now >= _drain_deadline)) {
            break;
        }
        if (now >= _next_housekeeping) {
            housekeeping(now);
        }

        int64_t wake = std::min(_next_tick, _next_housekeeping);
        if (_rate > 0 && !_stopping && !_free.empty()) {
            wake = std::min(wake, intended(_k));
        }
        if (_stopping) {
            wake = std::min(wake, _drain_deadline);
        } else {
            wake = std::min(wake, _plan.end_ns);
        }
        const int64_t wait_ns = std::max<int64_t>(0, wake - now);
        int n = 0;
        if (use_pwait2) {
            timespec ts{static_cast<time_t>(wait_ns / second_ns),
                        static_cast<long>(wait_ns % second_ns)};
            n = ::epoll_pwait2(_epoll, events, max_events, &ts, nullptr);
            if (n < 0 && errno == ENOSYS) {
                use_pwait2 = false;
                continue;
            }
        } else {
            n = ::epoll_wait(_epoll, events, max_events,
                             static_cast<int>((wait_ns + 999'999) / 1'000'000));
        }
        if (n < 0) {
            continue;  // EINTR
        }
        now = monotonic_ns();
        for (int i = 0; i < n; ++i) {
            handle_event(events[i].events, events[i].data.u64, now);
        }
    }

    // Whatever is still in flight after the drain window timed out.
    now = monotonic_ns();
    _cpu_seconds = static_cast<double>(thread_cpu_ns() - cpu_start) / 1e9;
    _wall_seconds = static_cast<double>(now - wall_start) / 1e9;
    for (auto& c : _conns) {
        if (c.st != connection::state::closed) {
            drop(c, now, &error_counts::timeout, 1);
        }
    }
    publish();
    _done.store(true, std::memory_order_release);
}

}  // namespace obsrv::loadgen
