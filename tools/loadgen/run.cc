#include "run.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <latch>
#include <memory>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <climits>
#include <fmt/format.h>

#include "common/build_info.h"
#include "common/json_writer.h"
#include "worker.h"

namespace obsrv::loadgen {

namespace {

std::string address_text(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        return fmt::format("{}:{}", host, port);
    }
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return fmt::format("[{}]:{}", host, port);
}

// Blocking connect with a deadline: 0 or an errno value.
int probe(const sockaddr* addr, socklen_t len, std::chrono::milliseconds timeout) {
    const int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    int err = 0;
    if (::connect(fd, addr, len) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
            if (n == 0) {
                err = ETIMEDOUT;
            } else {
                socklen_t l = sizeof err;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            }
        }
    }
    ::close(fd);
    return err;
}

result<sockaddr_storage> resolve_and_probe(const target_url& t, socklen_t& len,
                                           std::chrono::nanoseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    const std::string port = std::to_string(t.port);
    const int rc = ::getaddrinfo(t.host.c_str(), port.c_str(), &hints, &list);
    if (rc != 0) {
        return make_error("cannot resolve host '{}': {}", t.host, ::gai_strerror(rc));
    }
    std::string failures;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<std::chrono::nanoseconds>(timeout, std::chrono::seconds(3)));
    for (const addrinfo* a = list; a; a = a->ai_next) {
        sockaddr_storage addr{};
        std::memcpy(&addr, a->ai_addr, a->ai_addrlen);
        const int err = probe(a->ai_addr, a->ai_addrlen, wait);
        if (err == 0) {
            len = a->ai_addrlen;
            ::freeaddrinfo(list);
            return addr;
        }
        if (!failures.empty()) {
            failures += "; ";
        }
        failures += fmt::format("{}: {}", address_text(addr), std::strerror(err));
    }
    ::freeaddrinfo(list);
    return make_error("cannot connect to {}:{} ({})", t.host, t.port, failures);
}

std::string si(double v) {
    if (v >= 1e9) {
        return fmt::format("{:.2f}G", v / 1e9);
    }
    if (v >= 1e6) {
        return fmt::format("{:.2f}M", v / 1e6);
    }
    if (v >= 1e4) {
        return fmt::format("{:.1f}k", v / 1e3);
    }
    return fmt::format("{:.0f}", v);
}

// 1234567 -> "1,234,567"
std::string grouped(uint64_t v) {
    std::string digits = std::to_string(v);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            out += ',';
        }
        out += digits[i];
    }
    return out;
}

double ms(uint64_t micros) {
    return static_cast<double>(micros) / 1000.0;
}

double round_to(double v, int decimals) {
    const double f = std::pow(10.0, decimals);
    return std::round(v * f) / f;
}

void print_interval(std::FILE* out, int second, bool warmup, double seconds, const run_stats& s) {
    const double mb = static_cast<double>(s.bytes_sent) / 1e6 / seconds;
    std::fprintf(out,
                 "[%4ds%s] req/s %9s  ev/s %8s  MB/s %8.2f | 2xx %s 4xx %s 5xx %s err %s | "
                 "p50 %.3f p99 %.3f ms\n",
                 second, warmup ? " warmup" : "", grouped(s.responses).c_str(),
                 si(static_cast<double>(s.events_ok) / seconds).c_str(), mb,
                 grouped(s.status_class(2)).c_str(), grouped(s.status_class(4)).c_str(),
                 grouped(s.status_class(5)).c_str(), grouped(s.errors.total()).c_str(),
                 ms(s.latency.percentile(50)), ms(s.latency.percentile(99)));
    std::fflush(out);
}

}  // namespace

host_info current_host() {
    host_info h;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        h.nproc = static_cast<unsigned>(CPU_COUNT(&set));
    }
    const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    h.online_cpus = online > 0 ? static_cast<unsigned>(online) : 0;
    if (h.nproc == 0) {
        h.nproc = h.online_cpus;
    }
    return h;
}

result<run_result> run_load(const settings& config, const body_pool& pool, std::FILE* progress,
                            std::atomic<bool>& stop) {
    run_plan plan;
    plan.config = &config;
    plan.pool = &pool;
    plan.stop = &stop;
    auto addr = resolve_and_probe(config.target, plan.address_len, config.timeout);
    if (!addr) {
        return std::move(addr).error();
    }
    plan.address = *addr;

    if (!config.cpus.empty()) {
        // The coordinator stays on the chosen CPUs too, so that nothing of the
        // load generator runs on the server's cores.
        cpu_set_t set;
        CPU_ZERO(&set);
        for (const int cpu : config.cpus) {
            CPU_SET(cpu, &set);
        }
        if (::sched_setaffinity(0, sizeof set, &set) != 0) {
            return make_error("cannot pin to CPUs {}: {}", config.cpu_list, std::strerror(errno));
        }
    }

    const unsigned threads = config.threads;
    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned i = 0; i < threads; ++i) {
        const unsigned conns = config.connections / threads + (i < config.connections % threads);
        uint64_t requests = 0;
        if (config.requests > 0) {
            requests = config.requests / threads + (i < config.requests % threads ? 1 : 0);
        }
        const double rate = config.rate > 0 ? config.rate / threads : 0.0;
        const int cpu = config.cpus.empty() ? -1 : config.cpus[i % config.cpus.size()];
        workers.push_back(std::make_unique<worker>(i, plan, conns, requests, rate, cpu));
    }
    std::latch ready(threads);
    std::latch go(1);
    std::vector<std::thread> pool_threads;
    for (auto& w : workers) {
        pool_threads.emplace_back([&ready, &go, &w] { w->run(ready, go); });
    }
    ready.wait();
    const int64_t t0 = monotonic_ns();
    plan.start_ns = t0;
    plan.warmup_end_ns = t0 + config.warmup.count();
    plan.end_ns =
        config.duration.count() > 0 ? plan.warmup_end_ns + config.duration.count() : INT64_MAX;
    go.count_down();

    // One line per second, collected a little after each worker's tick.
    int second = 0;
    auto all_done = [&workers] {
        return std::all_of(workers.begin(), workers.end(), [](const auto& w) { return w->done(); });
    };
    while (!all_done()) {
        const int64_t due = t0 + static_cast<int64_t>(second + 1) * 1'000'000'000 + 20'000'000;
        while (!all_done() && monotonic_ns() < due) {
            std::this_thread::sleep_for(std::chrono::milliseconds(
                std::clamp<int64_t>((due - monotonic_ns()) / 1'000'000, 1, 50)));
        }
        if (monotonic_ns() < due) {
            break;  // finished within this second: the table has the rest
        }
        ++second;
        run_stats interval;
        for (auto& w : workers) {
            interval.merge(w->take_interval());
        }
        if (progress) {
            const bool warmup =
                t0 + static_cast<int64_t>(second) * 1'000'000'000 <= plan.warmup_end_ns;
            print_interval(progress, second, warmup, 1.0, interval);
        }
    }
    for (auto& t : pool_threads) {
        t.join();
    }

    run_result r;
    int64_t issue_end = plan.warmup_end_ns;
    int64_t last_response = plan.warmup_end_ns;
    for (auto& w : workers) {
        r.measured.merge(w->measured());
        issue_end = std::max(issue_end, w->issue_end_ns());
        last_response = std::max(last_response, w->last_response_ns());
        r.requests_sent_total += w->requests_sent_total();
        r.backlog_at_end += w->backlog_at_end();
        r.cpu_seconds += w->cpu_seconds();
        if (w->wall_seconds() > 0) {
            r.max_thread_utilization =
                std::max(r.max_thread_utilization, w->cpu_seconds() / w->wall_seconds());
        }
        if (r.first_error.empty()) {
            r.first_error = w->first_error();
        }
    }
    r.duration_seconds =
        static_cast<double>(std::max(issue_end, last_response) - plan.warmup_end_ns) / 1e9;
    r.warmup_seconds = static_cast<double>(config.warmup.count()) / 1e9;
    r.interrupted = stop.load();
    r.address = address_text(plan.address);
    return r;
}

// ", gzip-compressed to N% on average" when --gzip is on.
std::string gzip_note(const settings& config, const body_pool& pool) {
    if (!config.gzip) {
        return {};
    }
    double plain = 0;
    double sent = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
        plain += static_cast<double>(pool.at(i).decoded_body_size());
        sent += static_cast<double>(pool.at(i).body().size());
    }
    return fmt::format(", gzip-compressed to {:.0f}% of their size", 100 * sent / plain);
}

std::string describe_bodies(const settings& config, const body_pool& pool) {
    if (!config.body_file.empty()) {
        return fmt::format("1 body from {} ({} bytes, {} events){}", config.body_file,
                           pool.at(0).decoded_body_size(), pool.at(0).events,
                           gzip_note(config, pool));
    }
    if (!config.bodies_dir.empty()) {
        uint64_t events = 0;
        for (size_t i = 0; i < pool.size(); ++i) {
            events += pool.at(i).events;
        }
        return fmt::format(
            "{} distinct bodies from {}/*.json, round-robin ({:.1f} events each "
            "on average){}",
            pool.size(), config.bodies_dir,
            static_cast<double>(events) / static_cast<double>(pool.size()),
            gzip_note(config, pool));
    }
    // What the events came out as: below ~100 B the mid alone can exceed the asked size.
    double event_bytes = 0;
    for (size_t i = 0; i < pool.valid_count(); ++i) {
        event_bytes += static_cast<double>(pool.at(i).decoded_body_size()) / pool.at(i).events;
    }
    event_bytes /= static_cast<double>(std::max<size_t>(1, pool.valid_count()));
    const bool off = std::abs(event_bytes - config.event_size) > 0.1 * config.event_size + 5;
    std::string text = fmt::format(
        "{} distinct generated bodies ({} events of ~{:.0f} B{}, duplicates {:.1f}%), msgid and "
        "mids {} (prefix {}){}",
        pool.valid_count(), config.events_per_request, event_bytes,
        off ? fmt::format(" (asked {} B: the smallest event that fits the mid)", config.event_size)
            : std::string(),
        config.duplicate_share * 100,
        config.gzip ? "fixed per body, repeating every pass over the pool" : "unique per request",
        config.msgid_prefix, gzip_note(config, pool));
    if (pool.invalid_count() > 0) {
        text += fmt::format(", plus {} invalid ones for {:.1f}% of requests", pool.invalid_count(),
                            config.invalid_share * 100);
    }
    return text;
}

std::string format_table(const settings& config, const body_pool& pool, const run_result& r) {
    const run_stats& m = r.measured;
    const double d = r.duration_seconds > 0 ? r.duration_seconds : 1e-9;
    std::string out;
    out += fmt::format("obsrv-loadgen {} -> {} ({})\n", config.method, config.url, r.address);
    out += fmt::format("  {}, {} thread(s), {} connection(s), pipeline {}\n",
                       config.closed_loop() ? std::string("closed loop")
                                            : fmt::format("open loop at {} req/s", config.rate),
                       config.threads, config.connections, config.pipeline);
    out += fmt::format("  bodies: {}; {:.0f} B per request on average\n",
                       describe_bodies(config, pool), pool.average_request_bytes());
    out += fmt::format("  {:<14}{} answered, {} sent\n", "requests", grouped(m.responses),
                       grouped(m.sent));
    out += fmt::format("  {:<14}{:.3f} s{}{}\n", "duration", r.duration_seconds,
                       r.warmup_seconds > 0
                           ? fmt::format(" (after {:.1f} s warmup, excluded)", r.warmup_seconds)
                           : std::string(),
                       r.interrupted ? " (interrupted)" : "");
    out += fmt::format("  {:<14}{:.1f}\n", "req/s", static_cast<double>(m.responses) / d);
    out += fmt::format("  {:<14}{:.1f} (events in 2xx-answered requests)\n", "events/s",
                       static_cast<double>(m.events_ok) / d);
    out += fmt::format("  {:<14}{:.2f} (request bytes sent, 1 MB = 10^6 B)\n", "MB/s",
                       static_cast<double>(m.bytes_sent) / 1e6 / d);
    out += fmt::format(
        "  {:<14}p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  (ms, {})\n",
        "latency", ms(m.latency.percentile(50)), ms(m.latency.percentile(90)),
        ms(m.latency.percentile(99)), ms(m.latency.percentile(99.9)), ms(m.latency.max()),
        config.closed_loop() ? "from send" : "from intended send time");
    std::string statuses;
    for (size_t s = 0; s < m.status.size(); ++s) {
        if (m.status[s] > 0) {
            statuses +=
                fmt::format("{}{}: {}", statuses.empty() ? "" : ", ", s, grouped(m.status[s]));
        }
    }
    out += fmt::format("  {:<14}{}\n", "status", statuses.empty() ? "none" : statuses);
    const error_counts& e = m.errors;
    out += fmt::format(
        "  {:<14}{} (connect {}, read {}, write {}, timeout {}, parse {}, "
        "unanswered {})\n",
        "errors", grouped(e.total()), e.connect, e.read, e.write, e.timeout, e.parse, e.unanswered);
    out += fmt::format("  {:<14}{:.2f} s CPU in {} worker thread(s), busiest {:.0f}% busy{}\n",
                       "loadgen cpu", r.cpu_seconds, config.threads, r.max_thread_utilization * 100,
                       r.max_thread_utilization > 0.9
                           ? " (near saturation: the load generator may be the limit; add "
                             "--threads or connections)"
                           : "");
    if (!config.closed_loop()) {
        out += fmt::format("  {:<14}{:.1f} req/s achieved of {} req/s asked\n", "rate",
                           static_cast<double>(m.sent) / d, config.rate);
        out += fmt::format(
            "  {:<14}p50 {:.3f}  p99 {:.3f}  max {:.3f}  (ms after the intended "
            "send time)\n",
            "send lag", ms(m.send_lag.percentile(50)), ms(m.send_lag.percentile(99)),
            ms(m.send_lag.max()));
        if (r.backlog_at_end > 0) {
            out += fmt::format(
                "  warning: the target fell behind the rate: {} requests due before the end "
                "were never sent (no free connection); their latency is not in the figures\n",
                grouped(r.backlog_at_end));
        }
    }
    if (e.total() > 0 && !r.first_error.empty()) {
        out += fmt::format("  first error: {}\n", r.first_error);
    }
    return out;
}

std::string format_json(const settings& config, const body_pool& pool, const run_result& r,
                        const host_info& host) {
    const run_stats& m = r.measured;
    const double d = r.duration_seconds > 0 ? r.duration_seconds : 1e-9;
    json_writer w;
    w.begin_object();
    w.key("tool").value("obsrv-loadgen");
    w.key("version").value(build_info::version);
    w.key("url").value(config.url);
    w.key("address").value(r.address);
    w.key("requests").value(m.responses);
    w.key("requests_sent").value(m.sent);
    w.key("duration_seconds").value(round_to(r.duration_seconds, 6));
    w.key("requests_per_second").value(round_to(static_cast<double>(m.responses) / d, 3));
    w.key("events").value(m.events_ok);
    w.key("events_per_second").value(round_to(static_cast<double>(m.events_ok) / d, 3));
    w.key("bytes_sent").value(m.bytes_sent);
    w.key("megabytes_per_second").value(round_to(static_cast<double>(m.bytes_sent) / 1e6 / d, 6));
    w.key("bytes_received").value(m.bytes_received);
    w.key("latency_ms").begin_object();
    w.key("p50").value(ms(m.latency.percentile(50)));
    w.key("p90").value(ms(m.latency.percentile(90)));
    w.key("p99").value(ms(m.latency.percentile(99)));
    w.key("p999").value(ms(m.latency.percentile(99.9)));
    w.key("max").value(ms(m.latency.max()));
    w.key("mean").value(round_to(m.latency.mean() / 1000.0, 6));
    w.key("min").value(ms(m.latency.min()));
    w.key("relative_error").value(latency_histogram::relative_error);
    w.key("measured_from").value(config.closed_loop() ? "send" : "intended_send");
    w.end_object();
    w.key("status_counts").begin_object();
    for (size_t s = 0; s < m.status.size(); ++s) {
        if (m.status[s] > 0) {
            w.key(std::to_string(s)).value(m.status[s]);
        }
    }
    w.end_object();
    const error_counts& e = m.errors;
    w.key("errors").begin_object();
    w.key("total").value(e.total());
    w.key("connect").value(e.connect);
    w.key("read").value(e.read);
    w.key("write").value(e.write);
    w.key("timeout").value(e.timeout);
    w.key("parse").value(e.parse);
    w.key("unanswered").value(e.unanswered);
    w.end_object();
    if (!r.first_error.empty()) {
        w.key("first_error").value(r.first_error);
    }
    if (!config.closed_loop()) {
        w.key("send_lag_ms").begin_object();
        w.key("p50").value(ms(m.send_lag.percentile(50)));
        w.key("p99").value(ms(m.send_lag.percentile(99)));
        w.key("max").value(ms(m.send_lag.max()));
        w.end_object();
    }
    w.key("backlog_at_end").value(r.backlog_at_end);
    w.key("loadgen_cpu").begin_object();
    w.key("seconds").value(round_to(r.cpu_seconds, 3));
    w.key("max_thread_utilization").value(round_to(r.max_thread_utilization, 3));
    w.end_object();
    w.key("interrupted").value(r.interrupted);
    w.key("distinct_bodies").value(static_cast<uint64_t>(pool.size()));
    w.key("average_request_bytes").value(round_to(pool.average_request_bytes(), 1));

    w.key("settings").begin_object();
    w.key("url").value(config.url);
    w.key("method").value(config.method);
    w.key("mode").value(config.closed_loop() ? "closed" : "open");
    if (!config.closed_loop()) {
        w.key("rate_per_second").value(config.rate);
    }
    w.key("threads").value(static_cast<uint64_t>(config.threads));
    w.key("connections").value(static_cast<uint64_t>(config.connections));
    w.key("pipeline").value(static_cast<uint64_t>(config.pipeline));
    if (config.duration.count() > 0) {
        w.key("duration_seconds").value(static_cast<double>(config.duration.count()) / 1e9);
    }
    if (config.requests > 0) {
        w.key("requests").value(config.requests);
    }
    w.key("warmup_seconds").value(r.warmup_seconds);
    w.key("timeout_seconds").value(static_cast<double>(config.timeout.count()) / 1e9);
    if (!config.body_file.empty()) {
        w.key("body_source").value("file");
        w.key("body_file").value(config.body_file);
    } else if (!config.bodies_dir.empty()) {
        w.key("body_source").value("dir");
        w.key("bodies_dir").value(config.bodies_dir);
    } else {
        w.key("body_source").value("generated");
        w.key("events_per_request").value(static_cast<uint64_t>(config.events_per_request));
        w.key("event_size_bytes").value(static_cast<uint64_t>(config.event_size));
        w.key("duplicate_share").value(config.duplicate_share);
        w.key("invalid_share").value(config.invalid_share);
        w.key("actors").value(static_cast<uint64_t>(config.actors));
        w.key("msgid_prefix").value(config.msgid_prefix);
        w.key("pool_size").value(static_cast<uint64_t>(config.pool_size));
        w.key("seed").value(config.seed);
    }
    w.key("content_encoding").value(config.gzip ? "gzip" : "identity");
    w.key("headers").begin_array();
    for (const auto& h : config.headers) {
        w.value(h);
    }
    w.end_array();
    w.key("cpu").value(config.cpu_list);
    w.end_object();

    w.key("host").begin_object();
    w.key("nproc").value(static_cast<uint64_t>(host.nproc));
    w.key("online_cpus").value(static_cast<uint64_t>(host.online_cpus));
    w.end_object();
    w.end_object();
    return w.take() + "\n";
}

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// First signal: stop sending, drain, report. A second one does not wait for
// the drain (up to --timeout) and exits at once, as 128 + signal.
extern "C" void on_stop_signal(int sig) {
    if (g_stop.exchange(true)) {
        ::_exit(128 + sig);
    }
}

// Installs SIGINT/SIGTERM handlers for the run and restores the old ones.
class signal_scope {
  public:
    signal_scope() {
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGINT, &sa, &_old_int);
        ::sigaction(SIGTERM, &sa, &_old_term);
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, &_old_pipe);
    }
    ~signal_scope() {
        ::sigaction(SIGINT, &_old_int, nullptr);
        ::sigaction(SIGTERM, &_old_term, nullptr);
        ::sigaction(SIGPIPE, &_old_pipe, nullptr);
    }
    signal_scope(const signal_scope&) = delete;
    signal_scope& operator=(const signal_scope&) = delete;

  private:
    struct sigaction _old_int {};
    struct sigaction _old_term {};
    struct sigaction _old_pipe {};
};

}  // namespace

int loadgen_main(int argc, const char* const* argv) {
    cli_outcome cli = parse_command_line(argc, argv);
    if (cli.what == cli_outcome::action::exit) {
        return cli.exit_code;
    }
    settings& config = cli.config;
    if (config.msgid_prefix.empty()) {
        // Unique per run, so that a second run is not deduplicated away downstream.
        config.msgid_prefix = fmt::format("lg-{:x}-{}", ::time(nullptr), ::getpid());
    }

    request_head head;
    head.method = config.method;
    head.target = config.target.target;
    head.host = config.target.host_header;
    head.headers = config.headers;
    if (config.gzip) {
        head.headers.emplace_back("Content-Encoding: gzip");
    }

    const auto t_build = std::chrono::steady_clock::now();
    result<body_pool> pool = [&]() -> result<body_pool> {
        if (!config.body_file.empty()) {
            return body_pool::from_file(config.body_file, head);
        }
        if (!config.bodies_dir.empty()) {
            return body_pool::from_dir(config.bodies_dir, head);
        }
        generate_options g;
        g.pool_size = config.pool_size;
        g.events_per_request = config.events_per_request;
        g.event_size = config.event_size;
        g.duplicate_share = config.duplicate_share;
        g.invalid_share = config.invalid_share;
        g.actors = config.actors;
        g.msgid_prefix = config.msgid_prefix;
        g.seed = config.seed;
        return body_pool::generate(g, head);
    }();
    if (!pool) {
        std::fprintf(stderr, "obsrv-loadgen: %s\n", pool.error().message.c_str());
        return 2;
    }
    if (config.gzip) {
        pool->gzip_bodies(head);
    }
    const double build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_build)
            .count();
    std::FILE* progress = config.quiet ? nullptr : stderr;
    if (progress) {
        std::fprintf(progress, "obsrv-loadgen: %s, built in %.0f ms\n",
                     describe_bodies(config, *pool).c_str(), build_ms);
    }

    g_stop.store(false);
    result<run_result> r = [&] {
        signal_scope signals;
        return run_load(config, *pool, progress, g_stop);
    }();
    if (!r) {
        std::fprintf(stderr, "obsrv-loadgen: error: %s\n", r.error().message.c_str());
        return 1;
    }

    const std::string table = format_table(config, *pool, *r);
    const bool json_stdout = config.json_path == "-";
    std::fputs(table.c_str(), json_stdout ? stderr : stdout);
    std::fflush(json_stdout ? stderr : stdout);
    if (!config.json_path.empty()) {
        const std::string json = format_json(config, *pool, *r, current_host());
        if (json_stdout) {
            std::fputs(json.c_str(), stdout);
            std::fflush(stdout);
        } else {
            std::ofstream out(config.json_path, std::ios::trunc);
            out << json;
            out.close();
            if (!out) {
                std::fprintf(stderr, "obsrv-loadgen: cannot write %s\n", config.json_path.c_str());
                return 1;
            }
        }
    }
    if (r->measured.status_class(2) == 0) {
        std::fprintf(stderr, "obsrv-loadgen: no request succeeded (no 2xx response)%s%s\n",
                     r->first_error.empty() ? "" : "; first error: ", r->first_error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace obsrv::loadgen
