#include "dataset/directory_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread_name.h"

namespace obsrv::dataset {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// Dataset files are small; the cap keeps a stray symlink to a device or a huge dump from
// stalling the reload thread.
constexpr off_t k_max_file_bytes = 16 * 1024 * 1024;

// Entries that can change what the directory holds. IN_CLOSE_WRITE rather than IN_MODIFY: a
// file is read once its writer is done. Self events tell us the directory itself went away.
constexpr uint32_t k_watch_mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |
                                  IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// Kubernetes mounts a ConfigMap as symlinks into a "..data" directory that is swapped by a
// rename; that rename is the only event such an update produces.
constexpr std::string_view k_configmap_swap = "..data";

constexpr auto k_rewatch_interval = std::chrono::seconds(1);

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto instance = log::get("datasets");
    return instance;
}

std::string errno_text(int err) {
    return std::strerror(err);
}

result<std::string> read_whole_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return make_error("cannot open: {}", errno_text(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return make_error("cannot stat: {}", errno_text(err));
    }
    if (st.st_size > k_max_file_bytes) {
        ::close(fd);
        return make_error("file too large ({} bytes, at most {})", st.st_size, k_max_file_bytes);
    }
    std::string content;
    content.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    for (;;) {
        if (done == content.size()) {
            // The file may have grown since fstat(); read until EOF, up to the cap.
            if (content.size() >= static_cast<std::size_t>(k_max_file_bytes)) {
                break;
            }
            content.resize(std::max<std::size_t>(content.size() * 2, 4096));
        }
        ssize_t n = ::read(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno;
            ::close(fd);
            return make_error("cannot read: {}", errno_text(err));
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    content.resize(done);
    return content;
}

std::string fingerprint_of(std::string_view content) {
    return fmt::format("c:{}:{:x}", content.size(), std::hash<std::string_view>{}(content));
}

// Sorted names of the dataset files of `dir`, or why the directory cannot be read.
result<std::vector<std::string>> list_dataset_files(const std::string& dir) {
    std::error_code ec;
    auto status = fs::status(dir, ec);
    if (ec) {
        return make_error("cannot read directory '{}': {}", dir, ec.message());
    }
    if (!fs::is_directory(status)) {
        return make_error("'{}' is not a directory", dir);
    }
    fs::directory_iterator it(dir, ec);
    if (ec) {
        return make_error("cannot read directory '{}': {}", dir, ec.message());
    }
    std::vector<std::string> names;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) {
            return make_error("cannot read directory '{}': {}", dir, ec.message());
        }
        std::string name = it->path().filename().string();
        if (!is_dataset_file_name(name)) {
            continue;
        }
        std::error_code type_ec;
        // Follows symlinks (ConfigMap mounts); a dangling link reads as a broken file below.
        if (it->is_directory(type_ec)) {
            continue;
        }
        names.push_back(std::move(name));
    }
    if (ec) {
        return make_error("cannot read directory '{}': {}", dir, ec.message());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string path_in(const std::string& dir, std::string_view name) {
    if (!dir.empty() && dir.back() == '/') {
        return dir + std::string(name);
    }
    return dir + "/" + std::string(name);
}

}  // namespace

bool is_dataset_file_name(std::string_view name) {
    constexpr std::string_view suffix = ".json";
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) {
        return false;
    }
    // Hidden files (".x.json", Emacs lock files ".#x.json") and Emacs autosaves ("#x.json").
    return name.front() != '.' && name.front() != '#';
}

directory_source::directory_source(std::string dir, system_settings system,
                                   std::chrono::milliseconds debounce)
    : _dir(std::move(dir)), _system(std::move(system)), _debounce(debounce) {}

directory_source::~directory_source() {
    stop();
}

result<source_listing> directory_source::read() {
    auto names = list_dataset_files(_dir);
    if (!names) {
        return names.error();
    }
    source_listing listing;
    listing.system = _system;
    listing.entries.reserve(names->size());
    for (auto& name : *names) {
        source_entry entry;
        entry.origin = path_in(_dir, name);
        auto content = read_whole_file(entry.origin);
        if (content) {
            entry.fingerprint = fingerprint_of(*content);
            entry.document = std::move(content).value();
        } else {
            entry.fingerprint = "e:" + content.error().message;
            entry.error = content.error().message;
        }
        entry.key = std::move(name);
        listing.entries.push_back(std::move(entry));
    }
    return listing;
}

status directory_source::start_watching(std::function<void()> changed) {
    std::lock_guard lock(_lifecycle_mutex);
    if (_thread.joinable()) {
        return {};
    }
    int inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd < 0) {
        return make_error("datasets.dir: inotify_init1 failed: {}", errno_text(errno));
    }
    int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
        int err = errno;
        ::close(inotify_fd);
        return make_error("datasets.dir: eventfd failed: {}", errno_text(err));
    }
    int wd = ::inotify_add_watch(inotify_fd, _dir.c_str(), k_watch_mask);
    if (wd < 0) {
        int err = errno;
        ::close(inotify_fd);
        ::close(wake_fd);
        return make_error("datasets.dir: cannot watch '{}': {}", _dir, errno_text(err));
    }
    _inotify_fd = inotify_fd;
    _wake_fd = wake_fd;
    _changed = std::move(changed);
    _thread = std::thread([this, wd] { watch_loop(wd); });
    return {};
}

void directory_source::stop() {
    std::lock_guard lock(_lifecycle_mutex);
    if (!_thread.joinable()) {
        return;
    }
    uint64_t one = 1;
    if (::write(_wake_fd, &one, sizeof one) != static_cast<ssize_t>(sizeof one)) {
        logger()->error("cannot wake the dataset watcher: {}", errno_text(errno));
    }
    _thread.join();
    ::close(_inotify_fd);
    ::close(_wake_fd);
    _inotify_fd = -1;
    _wake_fd = -1;
}

void directory_source::watch_loop(int watch_descriptor) {
    set_thread_name("datasets");
    logger()->info("watching {} for dataset changes", _dir);
    const auto max_delay = _debounce * 5;
    bool watching = true;
    bool pending = false;
    clock_type::time_point first_event{};
    clock_type::time_point last_event{};
    clock_type::time_point next_rewatch{};
    alignas(struct inotify_event) char buffer[16 * 1024];

    auto until = [](clock_type::time_point deadline, clock_type::time_point now) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
        return static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
    };

    for (;;) {
        auto now = clock_type::now();
        int timeout_ms = -1;
        if (pending) {
            timeout_ms = until(std::min(last_event + _debounce, first_event + max_delay), now);
        }
        if (!watching) {
            int retry = until(next_rewatch, now);
            timeout_ms = timeout_ms < 0 ? retry : std::min(timeout_ms, retry);
        }
        pollfd fds[2] = {{_wake_fd, POLLIN, 0}, {_inotify_fd, POLLIN, 0}};
        if (::poll(fds, 2, timeout_ms) < 0) {
            if (errno == EINTR) {
                continue;
            }
            logger()->error("dataset watcher stops: poll failed: {}", errno_text(errno));
            return;
        }
        if (fds[0].revents & POLLIN) {
            return;  // stop()
        }
        if (fds[1].revents & POLLIN) {
            bool relevant = false;
            for (;;) {
                ssize_t len = ::read(_inotify_fd, buffer, sizeof buffer);
                if (len <= 0) {
                    break;  // EAGAIN: drained
                }
                for (ssize_t offset = 0; offset < len;) {
                    struct inotify_event event {};
                    std::memcpy(&event, buffer + offset, sizeof event);
                    const char* name_start = buffer + offset + sizeof event;
                    offset += static_cast<ssize_t>(sizeof event + event.len);
                    if (event.mask & IN_Q_OVERFLOW) {
                        relevant = true;  // events were lost: reload to be sure
                        continue;
                    }
                    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
                        if (watching) {
                            watching = false;
                            if (!(event.mask & IN_IGNORED)) {
                                ::inotify_rm_watch(_inotify_fd, watch_descriptor);
                            }
                            logger()->warn("{} was moved or deleted; waiting for it to return",
                                           _dir);
                            next_rewatch = clock_type::now() + k_rewatch_interval;
                            relevant = true;
                        }
                        continue;
                    }
                    if (event.len > 0) {
                        std::string_view name(name_start, ::strnlen(name_start, event.len));
                        if (is_dataset_file_name(name) || name == k_configmap_swap) {
                            relevant = true;
                        }
                    }
                }
            }
            if (relevant) {
                now = clock_type::now();
                if (!pending) {
                    pending = true;
                    first_event = now;
                }
                last_event = now;
            }
        }
        now = clock_type::now();
        if (!watching && now >= next_rewatch) {
            int wd = ::inotify_add_watch(_inotify_fd, _dir.c_str(), k_watch_mask);
            if (wd >= 0) {
                watch_descriptor = wd;
                watching = true;
                logger()->info("watching {} again", _dir);
                // Reload at once: whatever the new directory holds is news.
                pending = true;
                first_event = last_event = now - max_delay;
            } else {
                next_rewatch = now + k_rewatch_interval;
            }
        }
        if (pending && now >= std::min(last_event + _debounce, first_event + max_delay)) {
            pending = false;
            _changed();
        }
    }
}

}  // namespace obsrv::dataset
