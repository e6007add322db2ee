#include "common/process_metrics.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <unistd.h>

namespace obsrv::metrics {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Whole contents of a small /proc file. /proc files report size 0, so read until EOF.
std::optional<std::string> read_file(const char* path) {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            ::close(fd);
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc{} || res.ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

// Fields of /proc/self/stat we use, numbered as in proc(5).
struct stat_fields {
    std::uint64_t utime = 0;        // 14, clock ticks
    std::uint64_t stime = 0;        // 15, clock ticks
    std::uint64_t num_threads = 0;  // 20
    std::uint64_t starttime = 0;    // 22, clock ticks after boot
    std::uint64_t vsize = 0;        // 23, bytes
    std::uint64_t rss = 0;          // 24, pages
};

std::optional<stat_fields> read_stat() {
    const std::optional<std::string> text = read_file("/proc/self/stat");
    if (!text) {
        return std::nullopt;
    }
    // Field 2 is the command name in parentheses and may itself contain spaces and ')', so
    // fields are counted from the last ')'; the next field is number 3.
    const std::size_t close = text->rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::string_view rest = std::string_view(*text).substr(close + 1);
    stat_fields out;
    int field = 2;
    while (!rest.empty() && field < 24) {
        const std::size_t start = rest.find_first_not_of(" \n");
        if (start == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(start);
        const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
        const std::string_view token = rest.substr(0, end);
        rest.remove_prefix(end);
        ++field;
        std::uint64_t* dest = nullptr;
        switch (field) {
            case 14:
                dest = &out.utime;
                break;
            case 15:
                dest = &out.stime;
                break;
            case 20:
                dest = &out.num_threads;
                break;
            case 22:
                dest = &out.starttime;
                break;
            case 23:
                dest = &out.vsize;
                break;
            case 24:
                dest = &out.rss;
                break;
            default:
                continue;
        }
        const std::optional<std::uint64_t> v = parse_u64(token);
        if (!v) {
            return std::nullopt;
        }
        *dest = *v;
    }
    if (field < 24) {
        return std::nullopt;
    }
    return out;
}

double clock_ticks_per_second() {
    const long ticks = ::sysconf(_SC_CLK_TCK);
    return ticks > 0 ? static_cast<double>(ticks) : nan;
}

// Entries of /proc/self/fd, not counting the descriptor used to list them.
double open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) {
        return nan;
    }
    const std::string own = std::to_string(::dirfd(dir));
    double count = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != ".." && name != own) {
            count += 1;
        }
    }
    ::closedir(dir);
    return count;
}

double max_fds() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return nan;
    }
    if (limit.rlim_cur == RLIM_INFINITY) {
        return std::numeric_limits<double>::infinity();
    }
    return static_cast<double>(limit.rlim_cur);
}

// Seconds since the epoch: boot time (btime in /proc/stat) plus the start tick from
// /proc/self/stat, which is how procps and client_golang compute it.
double start_time_seconds() {
    const std::optional<stat_fields> stat = read_stat();
    const std::optional<std::string> system = read_file("/proc/stat");
    if (!stat || !system) {
        return nan;
    }
    const std::string_view text = *system;
    const std::size_t pos = text.find("\nbtime ");
    if (pos == std::string_view::npos) {
        return nan;
    }
    const std::string_view line = text.substr(pos + 7, text.find('\n', pos + 7) - (pos + 7));
    const std::optional<std::uint64_t> btime = parse_u64(line);
    if (!btime) {
        return nan;
    }
    return static_cast<double>(*btime) +
           static_cast<double>(stat->starttime) / clock_ticks_per_second();
}

}  // namespace

void register_process_metrics(registry& reg) {
    reg.add_counter_callback(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {}, [] {
            const std::optional<stat_fields> s = read_stat();
            return s ? static_cast<double>(s->utime + s->stime) / clock_ticks_per_second() : nan;
        });
    reg.add_gauge_callback(
        "process_resident_memory_bytes", "Resident memory size in bytes.", {}, [] {
            const std::optional<stat_fields> s = read_stat();
            const long page = ::sysconf(_SC_PAGESIZE);
            return s && page > 0 ? static_cast<double>(s->rss) * static_cast<double>(page) : nan;
        });
    reg.add_gauge_callback("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, [] {
        const std::optional<stat_fields> s = read_stat();
        return s ? static_cast<double>(s->vsize) : nan;
    });
    reg.add_gauge_callback("process_threads", "Number of OS threads in the process.", {}, [] {
        const std::optional<stat_fields> s = read_stat();
        return s ? static_cast<double>(s->num_threads) : nan;
    });
    reg.add_gauge_callback("process_open_fds", "Number of open file descriptors.", {}, open_fds);
    reg.add_gauge_callback("process_max_fds", "Maximum number of open file descriptors.", {},
                           max_fds);
    // Constant for the life of the process, so computed once rather than on every scrape.
    const double start_time = start_time_seconds();
    reg.add_gauge_callback("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.", {},
                           [start_time] { return start_time; });
}

}  // namespace obsrv::metrics
