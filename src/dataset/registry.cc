#include "dataset/registry.h"

#include <algorithm>

#include "common/log.h"
#include "dataset/parse.h"

namespace obsrv::dataset {
namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto instance = log::get("datasets");
    return instance;
}

}  // namespace

std::string_view to_string(reload_summary::outcome value) {
    switch (value) {
        case reload_summary::outcome::ok:
            return "ok";
        case reload_summary::outcome::partial:
            return "partial";
        case reload_summary::outcome::failed:
            return "failed";
    }
    return "?";
}

registry::registry(std::unique_ptr<source> source, metrics::registry& metrics)
    : _source(std::move(source)),
      _current(std::make_shared<snapshot>()),
      _reloads_ok(metrics.add_counter("obsrv_datasets_reloads_total",
                                      "Loads and reloads of the dataset source by outcome",
                                      {{"result", "ok"}})),
      _reloads_partial(metrics.add_counter("obsrv_datasets_reloads_total",
                                           "Loads and reloads of the dataset source by outcome",
                                           {{"result", "partial"}})),
      _reloads_failed(metrics.add_counter("obsrv_datasets_reloads_total",
                                          "Loads and reloads of the dataset source by outcome",
                                          {{"result", "failed"}})),
      _file_errors(metrics.add_counter("obsrv_datasets_file_errors_total",
                                       "Dataset files or rows (and system settings) found "
                                       "unreadable or invalid, counted once per distinct content")),
      _loaded_gauge(metrics.add_gauge("obsrv_datasets_loaded", "Datasets in the current snapshot")),
      _broken_gauge(metrics.add_gauge(
          "obsrv_datasets_broken_files",
          "Dataset files or rows (and system settings) that currently fail to read or parse")),
      _version_gauge(metrics.add_gauge("obsrv_datasets_snapshot_version",
                                       "Version of the current dataset snapshot")) {}

registry::registry(std::string dir, metrics::registry& metrics, std::chrono::milliseconds debounce)
    : registry(std::make_unique<directory_source>(std::move(dir), system_settings{}, debounce),
               metrics) {}

registry::~registry() {
    stop();
}

status registry::load() {
    std::lock_guard lock(_reload_mutex);
    auto summary = reload_locked();
    if (summary.result == reload_summary::outcome::failed) {
        return make_error("{}: {}", _source->config_key(), summary.message);
    }
    return {};
}

reload_summary registry::reload() {
    std::lock_guard lock(_reload_mutex);
    return reload_locked();
}

reload_summary registry::last_summary() const {
    std::lock_guard lock(_reload_mutex);
    return _last_summary;
}

std::shared_ptr<const snapshot> registry::current() const {
    std::lock_guard lock(_current_mutex);
    return _current;
}

void registry::on_change(change_callback callback) {
    std::lock_guard lock(_callbacks_mutex);
    _callbacks.push_back(std::move(callback));
}

reload_summary registry::reload_locked() {
    reload_summary summary;
    auto listing = _source->read();
    if (!listing) {
        summary.result = reload_summary::outcome::failed;
        summary.message = listing.error().message;
        summary.version = _version.load(std::memory_order_relaxed);
        summary.datasets = current()->size();
        // A source that stays down (a database being restarted) is polled again and again:
        // say so once, and once more when the reason changes.
        if (summary.message != _failure) {
            logger()->error("{}; keeping dataset snapshot version {} ({} datasets)",
                            summary.message, summary.version, summary.datasets);
        } else {
            logger()->debug("{} (still)", summary.message);
        }
        _failure = summary.message;
        record(summary);
        return summary;
    }
    if (!_failure.empty()) {
        logger()->info("{} can be read again", _source->describe());
        _failure.clear();
    }

    std::map<std::string, entry_state, std::less<>> next;
    for (auto& entry : listing->entries) {
        const entry_state* prev = nullptr;
        if (auto it = _entries.find(entry.key); it != _entries.end()) {
            prev = &it->second;
        }
        entry_state state;
        state.fingerprint = entry.fingerprint;
        if (prev && prev->fingerprint == state.fingerprint) {
            // Unchanged since the last reload: same outcome, already logged.
            state = *prev;
        } else {
            result<dataset> parsed =
                entry.error ? result<dataset>(make_error("{}: {}", entry.origin, *entry.error))
                            : parse_dataset(entry.document, entry.origin);
            if (parsed && prev && prev->good && *prev->good == *parsed) {
                // New bytes, same dataset (a touched file, a row published again unchanged):
                // keeping the loaded object keeps the snapshot version.
                state.good = prev->good;
                if (prev->error) {
                    logger()->info("{}: dataset '{}' is valid again", entry.origin,
                                   parsed->dataset_id);
                }
            } else if (parsed) {
                logger()->info("{}: {} dataset '{}' ({}, {})", entry.origin,
                               prev && prev->good ? "reloaded" : "loaded", parsed->dataset_id,
                               to_string(parsed->type), to_string(parsed->status));
                state.good = std::make_shared<const dataset>(std::move(parsed).value());
            } else {
                state.good = prev ? prev->good : nullptr;
                state.error = parsed.error().message;
                _file_errors.inc();
                if (state.good) {
                    logger()->error("{}; keeping the previous version of dataset '{}'",
                                    *state.error, state.good->dataset_id);
                } else {
                    logger()->error("{}; skipped", *state.error);
                }
            }
        }
        if (state.error) {
            summary.errors.push_back({entry.origin, *state.error});
            if (state.good) {
                ++summary.kept_previous;
            }
        }
        next.emplace(std::move(entry.key), std::move(state));
    }
    for (const auto& [key, state] : _entries) {
        if (!next.contains(key) && state.good) {
            logger()->info("{}: removed; dataset '{}' is gone", state.good->origin,
                           state.good->dataset_id);
        }
    }
    _entries = std::move(next);

    // Settings that cannot be used keep their previous value (the source keeps it); each
    // distinct problem is logged and counted once.
    std::vector<std::string> setting_errors;
    for (const auto& e : listing->setting_errors) {
        if (std::find(_setting_errors.begin(), _setting_errors.end(), e.message) ==
            _setting_errors.end()) {
            logger()->error("{}", e.message);
            _file_errors.inc();
        }
        setting_errors.push_back(e.message);
        summary.errors.push_back({e.origin, e.message});
    }
    _setting_errors = std::move(setting_errors);

    std::vector<snapshot::dataset_ptr> candidates;
    for (const auto& [key, state] : _entries) {
        if (state.good) {
            candidates.push_back(state.good);
        }
    }
    summary.files = listing->entries.size();
    // Unchanged entries keep their dataset object, so pointer equality means "nothing changed".
    bool system_changed = !same_system_settings(listing->system, _system);
    if (!_loaded || candidates != _published || system_changed) {
        if (system_changed && _loaded) {
            logger()->info(
                "system settings changed (maxEventSize {}, "
                "defaultDedupPeriodInSeconds {}, defaultDatasetId '{}', "
                "encryptionSecretKey {})",
                listing->system.max_event_size, listing->system.default_dedup_period_seconds,
                listing->system.default_dataset_id,
                listing->system.encryption_secret_key.empty() ? "unset" : "set");
        }
        _published = candidates;
        _system = listing->system;
        publish_locked(std::move(candidates), summary);
        _loaded = true;
    }
    summary.conflicts = _conflicts;
    summary.version = _version.load(std::memory_order_relaxed);
    summary.datasets = current()->size();
    summary.result = summary.errors.empty() && summary.conflicts.empty()
                         ? reload_summary::outcome::ok
                         : reload_summary::outcome::partial;
    _broken_gauge.set(static_cast<double>(summary.errors.size()));
    record(summary);
    return summary;
}

void registry::publish_locked(std::vector<snapshot::dataset_ptr> candidates,
                              reload_summary& summary) {
    std::vector<snapshot::conflict> conflicts;
    auto snap = snapshot::build(std::move(candidates), _version.load(std::memory_order_relaxed) + 1,
                                &conflicts, _system);
    for (const auto& c : conflicts) {
        switch (c.what) {
            case snapshot::conflict::kind::duplicate_dataset_id:
                logger()->error(
                    "{}: dataset '{}' left out: dataset_id '{}' is already loaded "
                    "from {}",
                    c.origin, c.dataset_id, c.key, c.by_origin);
                break;
            case snapshot::conflict::kind::duplicate_alias:
                logger()->error(
                    "{}: dataset '{}' left out: alias '{}' is already used by "
                    "dataset '{}' ({})",
                    c.origin, c.dataset_id, c.key, c.by_dataset_id, c.by_origin);
                break;
            case snapshot::conflict::kind::alias_shadows_dataset_id:
                logger()->error(
                    "{}: alias '{}' of dataset '{}' is the dataset_id of {}: API "
                    "requests for '{}' go to '{}' (alias first)",
                    c.by_origin, c.key, c.by_dataset_id, c.origin, c.key, c.by_dataset_id);
                break;
        }
    }
    _conflicts = std::move(conflicts);
    {
        std::lock_guard lock(_current_mutex);
        _current = snap;
    }
    // After the pointer: a reader that sees the new version also finds the new snapshot.
    _version.store(snap->version(), std::memory_order_release);
    _loaded_gauge.set(static_cast<double>(snap->size()));
    _version_gauge.set(static_cast<double>(snap->version()));
    summary.changed = true;
    logger()->info(
        "dataset snapshot version {}: {} datasets from {} {}s in {} ({} broken, {} "
        "conflicts)",
        snap->version(), snap->size(), summary.files, _source->entry_noun(), _source->describe(),
        summary.errors.size(), _conflicts.size());

    std::vector<change_callback> callbacks;
    {
        std::lock_guard lock(_callbacks_mutex);
        callbacks = _callbacks;
    }
    for (const auto& callback : callbacks) {
        try {
            callback(*snap);
        } catch (const std::exception& e) {
            logger()->error("dataset change callback failed: {}", e.what());
        } catch (...) {
            logger()->error("dataset change callback failed with an unknown exception");
        }
    }
}

void registry::record(const reload_summary& summary) {
    switch (summary.result) {
        case reload_summary::outcome::ok:
            _reloads_ok.inc();
            break;
        case reload_summary::outcome::partial:
            _reloads_partial.inc();
            break;
        case reload_summary::outcome::failed:
            _reloads_failed.inc();
            break;
    }
    _last_summary = summary;
    _reload_count.fetch_add(1, std::memory_order_relaxed);
}

status registry::start_watching() {
    return _source->start_watching([this] { reload(); });
}

void registry::stop() {
    _source->stop();
}

}  // namespace obsrv::dataset
