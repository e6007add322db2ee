#include "settings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <sched.h>

#include <CLI/CLI.hpp>

#include "common/build_info.h"

namespace obsrv::loadgen {

result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    size_t digits = 0;
    while (digits < text.size() &&
           ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
        ++digits;
    }
    const std::string number(text.substr(0, digits));
    const std::string_view unit = text.substr(digits);
    double value = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size()) {
        return make_error("bad duration '{}' (examples: 10s, 500ms, 2m)", text);
    }
    double scale = 1e9;
    if (unit.empty() || unit == "s") {
        scale = 1e9;
    } else if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "us") {
        scale = 1e3;
    } else if (unit == "m" || unit == "min") {
        scale = 60e9;
    } else if (unit == "h") {
        scale = 3600e9;
    } else {
        return make_error("bad duration unit in '{}' (use h, m, s, ms or us)", text);
    }
    const double ns = value * scale;
    if (!std::isfinite(ns) || ns > 1e18) {
        return make_error("duration '{}' is too long", text);
    }
    return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
}

result<target_url> parse_url(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, 8) == "https://") {
        return make_error(
            "https is not supported: '{}' (the gateway benchmarks run over plain "
            "HTTP/1.1)",
            url);
    }
    if (url.size() < scheme.size() || url.substr(0, scheme.size()) != scheme) {
        return make_error("URL '{}' must start with http://", url);
    }
    std::string_view rest = url.substr(scheme.size());
    const size_t slash = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, slash);
    std::string_view target = slash == std::string_view::npos ? "" : rest.substr(slash);
    if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
        target = target.substr(0, hash);
    }
    if (authority.find('@') != std::string_view::npos) {
        return make_error("URL '{}': user information is not supported", url);
    }
    target_url out;
    out.host_header = std::string(authority);
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return make_error("URL '{}': unterminated IPv6 literal", url);
        }
        out.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return make_error("URL '{}': bad authority", url);
            }
            port_text = after.substr(1);
        }
    } else {
        const size_t colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
        }
    }
    if (out.host.empty()) {
        return make_error("URL '{}' has no host", url);
    }
    if (!port_text.empty()) {
        unsigned port = 0;
        const auto [ptr, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            return make_error("URL '{}': bad port '{}'", url, port_text);
        }
        out.port = static_cast<uint16_t>(port);
    }
    if (target.empty()) {
        out.target = "/";
    } else if (target.front() == '?') {
        out.target = "/" + std::string(target);
    } else {
        out.target = std::string(target);
    }
    for (const char c : out.target) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
            return make_error(
                "URL '{}': the path must be percent-encoded (no spaces or "
                "control characters)",
                url);
        }
    }
    return out;
}

result<std::vector<int>> parse_cpu_list(std::string_view text) {
    std::vector<int> cpus;
    auto number = [](std::string_view s, int& out) {
        const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc() && ptr == s.data() + s.size() && out >= 0 &&
               out < 4096;
    };
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const size_t dash = item.find('-');
        int lo = 0;
        int hi = 0;
        if (dash == std::string_view::npos) {
            if (!number(item, lo)) {
                return make_error("bad CPU list item '{}' (examples: 0, 0,1, 0-3)", item);
            }
            hi = lo;
        } else if (!number(item.substr(0, dash), lo) || !number(item.substr(dash + 1), hi) ||
                   hi < lo) {
            return make_error("bad CPU range '{}' (examples: 0, 0,1, 0-3)", item);
        }
        for (int cpu = lo; cpu <= hi; ++cpu) {
            if (std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) {
                cpus.push_back(cpu);
            }
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
        if (text.empty()) {
            return make_error("CPU list ends with a comma");
        }
    }
    if (cpus.empty()) {
        return make_error("empty CPU list");
    }
    return cpus;
}

result<std::string> parse_header(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return make_error("header '{}' must look like 'Name: value'", text);
    }
    std::string_view name = text.substr(0, colon);
    std::string_view value = text.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    constexpr std::string_view tchar_extra = "!#$%&'*+-.^_`|~";
    if (name.empty()) {
        return make_error("header '{}' has an empty name", text);
    }
    for (const char c : name) {
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && tchar_extra.find(c) == std::string_view::npos) {
            return make_error("header name '{}' has a character not allowed in a token", name);
        }
    }
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            return make_error("header '{}' has a control character in its value", name);
        }
    }
    std::string out(name);
    out += ": ";
    out += value;
    return out;
}

namespace {

bool header_named(std::string_view header, std::string_view name) {
    if (header.size() <= name.size() || header[name.size()] != ':') {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        const char a = static_cast<char>(header[i] | 0x20);
        const char b = static_cast<char>(name[i] | 0x20);
        if (a != b) {
            return false;
        }
    }
    return true;
}

}  // namespace

cli_outcome parse_command_line(int argc, const char* const* argv) {
    cli_outcome out;
    settings& s = out.config;
    CLI::App app{
        "obsrv-loadgen: HTTP/1.1 load generator for the Obsrv ingestion gateway.\n"
        "Closed loop by default; --rate R runs an open loop at R requests/s with latency\n"
        "measured from each request's intended send time (no coordinated omission).",
        "obsrv-loadgen"};
    app.set_version_flag("--version", std::string("obsrv-loadgen ") + build_info::version + " (" +
                                          build_info::git_commit + ")");

    std::string duration_text;
    std::string warmup_text = "0s";
    std::string timeout_text = "10s";
    std::string cpu_text;
    std::vector<std::string> header_texts;

    app.add_option("target", s.url, "Same as --url");
    app.add_option("-u,--url", s.url, "Target: http://host:port/path");
    app.add_option("-t,--threads", s.threads, "Worker threads, each with its own epoll loop")
        ->default_val(1)
        ->check(CLI::Range(1u, 256u));
    app.add_option("-c,--connections", s.connections, "Connections in total (split over threads)")
        ->default_val(64)
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--pipeline", s.pipeline, "Requests in flight per connection")
        ->default_val(1)
        ->check(CLI::Range(1u, 1024u));
    auto* duration_opt = app.add_option("-d,--duration", duration_text,
                                        "Measured run time, e.g. 10s, 500ms, 2m (default 10s)");
    auto* requests_opt =
        app.add_option("-n,--requests", s.requests, "Stop after N measured requests in total")
            ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
    app.add_option("--warmup", warmup_text, "Load before measuring; excluded from the figures")
        ->default_str("0s");
    app.add_option("-r,--rate", s.rate, "Open loop: total requests/s (default: closed loop)")
        ->check(CLI::Range(0.001, 1e8));
    app.add_option("--timeout", timeout_text, "Per-request timeout; the connection is dropped")
        ->default_str("10s");

    auto* file_opt = app.add_option("--body-file", s.body_file, "Send this file as every body")
                         ->check(CLI::ExistingFile);
    auto* dir_opt = app.add_option("--bodies-dir", s.bodies_dir,
                                   "Send every *.json in this directory, "
                                   "round-robin")
                        ->check(CLI::ExistingDirectory);
    file_opt->excludes(dir_opt);
    auto* epr_opt = app.add_option("--events-per-request", s.events_per_request,
                                   "Generated bodies: events in each request's data array")
                        ->default_val(100)
                        ->check(CLI::Range(1u, 100000u));
    auto* size_opt = app.add_option("--event-size", s.event_size,
                                    "Generated bodies: approximate bytes per event")
                         ->default_val(400)
                         ->check(CLI::Range(1u, 10000000u));
    auto* dup_opt = app.add_option("--duplicate-share", s.duplicate_share,
                                   "Generated bodies: share of events repeating an earlier mid")
                        ->default_val(0)
                        ->check(CLI::Range(0.0, 1.0));
    auto* inv_opt = app.add_option("--invalid-share", s.invalid_share,
                                   "Generated bodies: share of requests the gateway must reject "
                                   "with 400")
                        ->default_val(0)
                        ->check(CLI::Range(0.0, 1.0));
    auto* actors_opt =
        app.add_option("--actors", s.actors,
                       "Generated bodies: distinct actor ids; each event's actor.id is "
                       "user-<k> with k drawn from 0 to N-1 (six digits)")
            ->default_val(1000000)
            ->check(CLI::Range(1u, 1000000u));
    auto* prefix_opt =
        app.add_option("--msgid-prefix", s.msgid_prefix,
                       "Generated bodies: msgid/mid prefix (default: lg-<time>-<pid>)");
    auto* pool_opt = app.add_option("--pool-size", s.pool_size,
                                    "Generated bodies: distinct bodies pre-generated")
                         ->default_val(256)
                         ->check(CLI::Range(1u, 1000000u));
    auto* seed_opt =
        app.add_option("--seed", s.seed, "Generated bodies: random seed")->default_val(42);
    app.add_flag("--gzip", s.gzip,
                 "Send every body gzip-compressed (Content-Encoding: gzip), compressed once "
                 "before the run; generated bodies then get fixed ids, so a msgid repeats every "
                 "--pool-size requests");
    app.add_option("-H,--header", header_texts, "Extra header 'Name: value' (repeatable)");
    app.add_option("--method", s.method, "Request method")->default_val("POST");

    app.add_option("--json", s.json_path, "Write the results as JSON to FILE ('-' for stdout)");
    app.add_flag("-q,--quiet", s.quiet, "No per-second lines on stderr");
    app.add_option("--cpu", cpu_text, "Pin the worker threads to these CPUs, e.g. 0 or 0,1 or 0-3");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        out.what = cli_outcome::action::exit;
        out.exit_code = app.exit(e);
        return out;
    } catch (const CLI::CallForVersion& e) {
        out.what = cli_outcome::action::exit;
        out.exit_code = app.exit(e);
        return out;
    } catch (const CLI::ParseError& e) {
        std::cerr << "obsrv-loadgen: " << e.what() << "\nRun with --help for the options.\n";
        out.what = cli_outcome::action::exit;
        out.exit_code = 2;
        return out;
    }

    auto usage = [&out](const std::string& message) {
        std::cerr << "obsrv-loadgen: " << message << "\nRun with --help for the options.\n";
        out.what = cli_outcome::action::exit;
        out.exit_code = 2;
        return out;
    };

    if (s.url.empty()) {
        return usage("--url is required, e.g. --url http://127.0.0.1:3000/v2/data/in/telemetry");
    }
    auto url = parse_url(s.url);
    if (!url) {
        return usage(url.error().message);
    }
    s.target = std::move(*url);

    if (*duration_opt) {
        auto d = parse_duration(duration_text);
        if (!d) {
            return usage(d.error().message);
        }
        if (d->count() <= 0) {
            return usage("--duration must be positive");
        }
        s.duration = *d;
    } else if (!*requests_opt) {
        s.duration = std::chrono::seconds(10);
    }
    auto w = parse_duration(warmup_text);
    if (!w) {
        return usage(w.error().message);
    }
    s.warmup = *w;
    auto t = parse_duration(timeout_text);
    if (!t) {
        return usage(t.error().message);
    }
    if (t->count() <= 0) {
        return usage("--timeout must be positive");
    }
    s.timeout = *t;

    if (s.threads > s.connections) {
        return usage("--threads must not exceed --connections (each thread needs a connection)");
    }
    const bool generated = s.body_file.empty() && s.bodies_dir.empty();
    if (!generated) {
        for (const auto* opt :
             {epr_opt, size_opt, dup_opt, inv_opt, actors_opt, prefix_opt, pool_opt, seed_opt}) {
            if (*opt) {
                return usage(opt->get_name() + " applies to generated bodies only, not with " +
                             (s.body_file.empty() ? "--bodies-dir" : "--body-file"));
            }
        }
    }
    if (generated && s.duplicate_share > 0 && s.events_per_request < 2) {
        return usage(
            "--duplicate-share needs --events-per-request >= 2: a duplicate repeats the "
            "mid of an earlier event of the same request");
    }
    if (generated && s.duplicate_share > 0) {
        const double most = static_cast<double>(s.events_per_request - 1) / s.events_per_request;
        if (s.duplicate_share > most + 1e-12) {
            return usage(
                fmt::format("--duplicate-share can be at most {:.4f} with {} events per "
                            "request (the first event of a request is never a duplicate)",
                            most, s.events_per_request));
        }
    }
    if (generated) {
        // The pool lives in memory for the whole run.
        const double bytes = static_cast<double>(s.pool_size) * s.events_per_request * s.event_size;
        if (bytes > 4e9) {
            return usage(
                fmt::format("the body pool would take about {:.1f} GB (pool size x events "
                            "per request x event size); lower --pool-size",
                            bytes / 1e9));
        }
    }
    for (const char c : s.msgid_prefix) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
            return usage(
                "--msgid-prefix must not contain quotes, backslashes or control "
                "characters");
        }
    }
    bool has_content_type = false;
    for (const auto& h : header_texts) {
        auto parsed = parse_header(h);
        if (!parsed) {
            return usage(parsed.error().message);
        }
        for (const std::string_view reserved : {"content-length", "transfer-encoding"}) {
            if (header_named(*parsed, reserved)) {
                return usage(fmt::format("header '{}' is set by the tool", reserved));
            }
        }
        if (s.gzip && header_named(*parsed, "content-encoding")) {
            return usage("--gzip sets Content-Encoding: do not pass it with -H as well");
        }
        has_content_type = has_content_type || header_named(*parsed, "content-type");
        s.headers.push_back(std::move(*parsed));
    }
    if (!has_content_type) {
        s.headers.insert(s.headers.begin(), "Content-Type: application/json");
    }
    for (const char c : s.method) {
        if (!(c >= 'A' && c <= 'Z')) {
            return usage("--method must be upper-case letters, e.g. POST");
        }
    }
    if (s.method.empty()) {
        return usage("--method must not be empty");
    }
    if (!cpu_text.empty()) {
        auto cpus = parse_cpu_list(cpu_text);
        if (!cpus) {
            return usage(cpus.error().message);
        }
        // Only CPUs this process may run on (cgroups and taskset narrow the set).
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
            std::string list;
            for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
                if (CPU_ISSET(cpu, &allowed)) {
                    list += (list.empty() ? "" : ",") + std::to_string(cpu);
                }
            }
            for (const int cpu : *cpus) {
                if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
                    return usage(fmt::format("--cpu {}: CPU {} is not available (allowed: {})",
                                             cpu_text, cpu, list));
                }
            }
        }
        s.cpus = std::move(*cpus);
        s.cpu_list = cpu_text;
    }
    return out;
}

}  // namespace obsrv::loadgen
