#include "dataset/postgres_source.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread_name.h"
#include "dataset/row_mapping.h"

namespace obsrv::dataset {
namespace {

using clock_type = std::chrono::steady_clock;

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto instance = log::get("datasets");
    return instance;
}

// One statement per table. The server writes each row as JSON (every column, whatever the
// migration level: api_version, entry_topic and alias came later) and collects the
// transformations of each dataset; the C collation makes the order independent of the
// database's locale.
constexpr const char* k_datasets_query =
    "SELECT d.id, to_json(d)::text, "
    "(SELECT json_agg(t ORDER BY t.field_key COLLATE \"C\")::text "
    "FROM dataset_transformations t WHERE t.dataset_id = d.id) "
    "FROM datasets d ORDER BY d.id COLLATE \"C\"";

constexpr const char* k_settings_query =
    "SELECT key, value, valuetype FROM system_settings ORDER BY key COLLATE \"C\"";

// Between two attempts to LISTEN again after the notification connection broke.
constexpr auto k_listen_retry = std::chrono::seconds(1);

std::string fingerprint_of(std::string_view document) {
    return fmt::format("r:{}:{:x}", document.size(), std::hash<std::string_view>{}(document));
}

}  // namespace

postgres_source::postgres_source(postgres_options options) : _options(std::move(options)) {}

postgres_source::~postgres_source() {
    stop();
}

std::string postgres_source::describe() const {
    return "postgres " + dataset::describe(_options);
}

result<source_listing> postgres_source::read() {
    if (_connection && !_connection->healthy()) {
        _connection.reset();
    }
    if (!_connection) {
        auto connected = postgres_connection::connect(_options);
        if (!connected) {
            return std::move(connected).error();
        }
        _connection = std::move(connected).value();
    }
    auto listing = read_tables();
    if (!listing) {
        if (_connection->healthy()) {
            (void)_connection->execute("ROLLBACK", "ROLLBACK");
        }
        if (!_connection->healthy()) {
            _connection.reset();
        }
        return make_error("postgres {}: {}", dataset::describe(_options), listing.error().message);
    }
    return listing;
}

result<source_listing> postgres_source::read_tables() {
    if (auto st = _connection->execute("starting a read-only transaction",
                                       "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        !st) {
        return st.error();
    }
    auto datasets = _connection->query("reading table datasets", k_datasets_query);
    if (!datasets) {
        return std::move(datasets).error();
    }
    auto settings = _connection->query("reading table system_settings", k_settings_query);
    if (!settings) {
        return std::move(settings).error();
    }
    if (auto st = _connection->execute("ending the read transaction", "COMMIT"); !st) {
        return st.error();
    }

    source_listing listing;
    listing.entries.reserve(datasets->rows.size());
    for (auto& row : datasets->rows) {
        source_entry entry;
        entry.key = row[0].value_or("");  // the primary key: never NULL
        entry.origin = dataset_row_origin(entry.key);
        std::optional<std::string_view> transformations;
        if (row[2]) {
            transformations = *row[2];
        }
        auto document = dataset_document(row[1].value_or(""), transformations);
        if (document) {
            entry.document = std::move(document).value();
            entry.fingerprint = fingerprint_of(entry.document);
        } else {
            entry.error = document.error().message;
            entry.fingerprint = "e:" + *entry.error;
        }
        listing.entries.push_back(std::move(entry));
    }

    std::vector<system_setting_row> setting_rows;
    setting_rows.reserve(settings->rows.size());
    for (auto& row : settings->rows) {
        setting_rows.push_back({row[0].value_or(""), row[1].value_or(""), row[2].value_or("")});
    }
    auto resolved = resolve_system_settings(setting_rows, _system);
    _system = resolved.values;
    listing.system = std::move(resolved.values);
    listing.setting_errors = std::move(resolved.errors);
    return listing;
}

status postgres_source::start_watching(std::function<void()> changed) {
    std::lock_guard lock(_lifecycle_mutex);
    if (_thread.joinable()) {
        return {};
    }
    int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
        return make_error("datasets.postgres: eventfd failed: {}", std::strerror(errno));
    }
    _wake_fd = wake_fd;
    _changed = std::move(changed);
    _thread = std::thread([this] { watch_loop(); });
    return {};
}

void postgres_source::stop() {
    std::lock_guard lock(_lifecycle_mutex);
    if (!_thread.joinable()) {
        return;
    }
    uint64_t one = 1;
    if (::write(_wake_fd, &one, sizeof one) != static_cast<ssize_t>(sizeof one)) {
        logger()->error("cannot wake the dataset watcher: {}", std::strerror(errno));
    }
    _thread.join();
    ::close(_wake_fd);
    _wake_fd = -1;
}

void postgres_source::watch_loop() {
    set_thread_name("datasets");
    const auto interval = _options.refresh_interval;
    logger()->info("refreshing datasets from {} every {} ms{}", describe(), interval.count(),
                   _options.notify_channel.empty()
                       ? std::string()
                       : fmt::format(" and on NOTIFY {}", _options.notify_channel));
    std::unique_ptr<postgres_connection> listener;
    bool listened_before = false;
    auto next_refresh = clock_type::now() + interval;
    auto next_listen = clock_type::now();

    for (;;) {
        auto now = clock_type::now();
        bool reload = false;
        if (!_options.notify_channel.empty() && !listener && now >= next_listen) {
            // A separate connection: read() runs on other threads too (SIGHUP), and a
            // connection serves one thread at a time.
            auto connected = postgres_connection::connect(_options);
            if (connected) {
                auto conn = std::move(connected).value();
                auto st = conn->execute(
                    "LISTEN", "LISTEN " + conn->quote_identifier(_options.notify_channel));
                if (st) {
                    listener = std::move(conn);
                    logger()->info("listening for NOTIFY {} on {}", _options.notify_channel,
                                   describe());
                    // Whatever was notified while nobody listened is found by a reload.
                    reload = listened_before;
                    listened_before = true;
                } else {
                    logger()->warn("cannot LISTEN {}: {}", _options.notify_channel,
                                   st.error().message);
                }
            }
            if (!listener) {
                next_listen = clock_type::now() + k_listen_retry;
            }
        }
        if (!reload) {
            auto deadline = next_refresh;
            if (!_options.notify_channel.empty() && !listener) {
                deadline = std::min(deadline, next_listen);
            }
            auto timeout_ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
            pollfd fds[2] = {{_wake_fd, POLLIN, 0},
                             {listener ? listener->socket() : -1, POLLIN, 0}};
            int ready =
                ::poll(fds, listener ? 2 : 1, static_cast<int>(std::max<int64_t>(timeout_ms, 0)));
            if (ready < 0 && errno != EINTR) {
                logger()->error("dataset watcher stops: poll failed: {}", std::strerror(errno));
                return;
            }
            if (ready > 0 && (fds[0].revents & POLLIN)) {
                return;  // stop()
            }
            if (ready > 0 && listener && fds[1].revents) {
                auto channels = listener->take_notifications();
                if (!channels) {
                    logger()->warn("lost the NOTIFY connection to {}: {}", describe(),
                                   channels.error().message);
                    listener.reset();
                    next_listen = clock_type::now() + k_listen_retry;
                } else if (!channels->empty()) {
                    reload = true;
                }
            }
            if (clock_type::now() >= next_refresh) {
                reload = true;
            }
        }
        if (reload) {
            _changed();
            next_refresh = clock_type::now() + interval;
        }
    }
}

}  // namespace obsrv::dataset
