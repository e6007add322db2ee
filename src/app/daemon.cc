#include "app/daemon.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "app/dataset_source.h"
#include "common/build_info.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/process_metrics.h"

namespace obsrv::app {
namespace {

constexpr auto k_monitor_interval = std::chrono::seconds(5);
constexpr const char* k_prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* k_json_content_type = "application/json";

http::response json_response(int status, std::string body) {
    http::response r;
    r.status = status;
    r.content_type = k_json_content_type;
    r.body = std::move(body);
    return r;
}

std::chrono::milliseconds admin_timeout(const settings& s) {
    return std::chrono::milliseconds(s.kafka.admin_timeout_ms);
}

}  // namespace

daemon::daemon(settings config, std::vector<role> roles)
    : _config(std::move(config)), _roles(std::move(roles)) {}

daemon::~daemon() {
    stop();
}

bool daemon::has_role(role r) const {
    return std::find(_roles.begin(), _roles.end(), r) != _roles.end();
}

status daemon::start() {
    static const auto logger = log::get("obsrvd");
    metrics::register_process_metrics(_metrics);
    _metrics
        .add_gauge("obsrv_build_info", "Build of the running obsrvd (value is always 1)",
                   {{"version", build_info::version}, {"commit", build_info::git_commit}})
        .set(1);

    if (auto st = start_kafka(); !st) {
        return st;
    }
    if (has_role(role::gateway) || has_role(role::pipeline)) {
        if (auto st = start_datasets(); !st) {
            return st;
        }
    }
    if (has_role(role::pipeline)) {
        if (auto st = start_pipeline(); !st) {
            return st;
        }
    }
    if (has_role(role::gateway)) {
        if (auto st = start_gateway(); !st) {
            return st;
        }
    }

    http::admin_server::options admin_options;
    admin_options.bind_address = _config.admin.bind;
    admin_options.port = static_cast<uint16_t>(_config.admin.port);
    admin_options.on_error = [](std::string_view message) {
        static const auto admin_logger = log::get("admin");
        admin_logger->warn("{}", message);
    };
    _admin = std::make_unique<http::admin_server>(std::move(admin_options));
    register_admin_routes();
    if (auto st = _admin->start(); !st) {
        return make_error("admin endpoint on {}:{} (admin.port): {}", _config.admin.bind,
                          _config.admin.port, st.error().message);
    }

    // Written last: a client that finds the file finds a broker with its topics,
    // and a second obsrvd that fails to start never overwrites the first one's.
    if (_embedded) {
        if (auto st = _embedded->write_bootstrap_file(_config.kafka.embedded.bootstrap_file); !st) {
            return st;
        }
        _bootstrap_file_written = true;
    }

    logger->info("obsrvd {} (commit {}) ready: roles [{}]", build_info::version,
                 build_info::git_commit, describe(_roles));
    logger->info("admin endpoint http://{}:{}/metrics /health /ready",
                 _config.admin.bind == "0.0.0.0" ? "127.0.0.1" : _config.admin.bind,
                 _admin->port());
    if (_embedded) {
        logger->info("embedded Kafka at {} (bootstrap in {}): `kcat -b $(cat {}) -L`", _bootstrap,
                     _config.kafka.embedded.bootstrap_file, _config.kafka.embedded.bootstrap_file);
    }
    if (_gateway) {
        std::string host = _config.gateway.bind == "0.0.0.0" ? "127.0.0.1" : _config.gateway.bind;
        auto snapshot = _datasets->current();
        for (const auto& ds : snapshot->datasets()) {
            if (ds->is_live()) {
                logger->info("send data: POST http://{}:{}/v2/data/in/{}", host, _gateway->port(),
                             ds->dataset_id);
            }
        }
        if (snapshot->empty()) {
            logger->warn("no datasets in {} (datasets.source {}): every ingest request gets 404",
                         _datasets->describe(), _config.datasets.source);
        }
    } else {
        logger->info("send data: produce Obsrv envelopes to topic 'ingest' at {}", _bootstrap);
    }
    return {};
}

status daemon::start_kafka() {
    static const auto logger = log::get("kafka");
    const auto& kafka = _config.kafka;
    if (kafka.use_embedded()) {
        auto cluster =
            kafka::embedded_cluster::start(static_cast<int>(kafka.embedded.broker_count));
        if (!cluster) {
            return cluster.error();
        }
        _embedded = std::move(*cluster);
        _bootstrap = _embedded->bootstrap();
        logger->info(
            "embedded Kafka started: {} broker(s) at {}; in-memory log bounded to about 5 MB or "
            "100k message sets per partition (for one machine, demos and tests)",
            _embedded->broker_count(), _bootstrap);
        _topic_creator = std::make_unique<kafka::embedded_topic_creator>(*_embedded);
    } else {
        _bootstrap = kafka.brokers;
        logger->info("Kafka brokers: {}", _bootstrap);
    }

    auto client = kafka::make_metadata_client(_bootstrap, kafka.client_id + "-admin");
    if (!client) {
        return client.error();
    }
    _metadata_client = std::move(*client);
    if (!_topic_creator) {
        _topic_creator = std::make_unique<kafka::admin_api_topic_creator>(_metadata_client.get(),
                                                                          admin_timeout(_config));
    }

    _monitor = std::make_unique<kafka::broker_monitor>(_metadata_client.get(), k_monitor_interval,
                                                       admin_timeout(_config), _metrics);
    if (kafka.topics.create_on_start) {
        // Runs after the first successful Metadata request, at start-up or
        // later if the cluster is down now, until every topic is in place.
        _monitor->add_hook([this] {
            auto report = apply_topics();
            return report && report->ok();
        });
    } else {
        _topics_ready = true;
    }
    _monitor->start();
    if (!_monitor->current().reachable) {
        logger->warn("brokers not reachable yet ({}); /ready answers 503 until they are",
                     _monitor->current().error);
    }
    return {};
}

status daemon::start_datasets() {
    static const auto logger = log::get("datasets");
    auto source = make_dataset_source(_config.datasets);
    if (!source) {
        return std::move(source).error();
    }
    _datasets = std::make_unique<dataset::registry>(std::move(source).value(), _metrics);
    // A database may come up together with obsrvd: keep trying for a while, then give up
    // loudly rather than serve without datasets (the pipeline would fail every event).
    const bool postgres = _config.datasets.source == "postgres";
    const auto patience =
        std::chrono::milliseconds(postgres ? _config.datasets.postgres.startup_timeout_ms : 0);
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (bool told = false;; told = true) {
        auto st = _datasets->load();
        if (st) {
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            if (patience.count() > 0) {
                return make_error("{} (gave up after {} ms: datasets.postgres.startup_timeout_ms)",
                                  st.error().message, patience.count());
            }
            return st;
        }
        if (!told) {
            logger->warn(
                "datasets not loaded yet; retrying for up to {} ms "
                "(datasets.postgres.startup_timeout_ms)",
                patience.count());
        }
        std::this_thread::sleep_for(
            std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(1), deadline - now));
    }
    auto snapshot = _datasets->current();
    logger->info("{} dataset(s) loaded from {}", snapshot->size(), _datasets->describe());
    if (_config.datasets.watch) {
        if (auto st = _datasets->start_watching(); !st) {
            return st;
        }
    }
    return {};
}

status daemon::start_gateway() {
    _gateway = std::make_unique<ingress::gateway>(
        _config, _bootstrap, *_datasets, _metrics,
        [monitor = _monitor.get()] { return monitor->reachable(); },
        [this] { return readiness(); });
    return _gateway->start();
}

status daemon::start_pipeline() {
    auto role =
        pipeline_role::start(_config, _bootstrap, *_datasets, _topic_creator.get(), _metrics);
    if (!role) {
        return std::move(role).error();
    }
    _pipeline = std::move(role).value();
    return {};
}

void daemon::reload() {
    static const auto logger = log::get("obsrvd");
    if (!_datasets) {
        logger->info("SIGHUP: nothing to reload in the roles running");
        return;
    }
    auto summary = _datasets->reload();
    logger->info("SIGHUP: datasets reloaded: {}", summary.message);
}

result<kafka::apply_report> daemon::apply_topics() {
    static const auto logger = log::get("kafka");
    std::lock_guard lock(_apply_mutex);
    auto specs = kafka::configured_topics(_config.kafka.topics);
    auto report =
        kafka::apply_topics(_metadata_client.get(), *_topic_creator, specs, admin_timeout(_config));
    if (!report) {
        logger->warn("topics not applied: {}", report.error().message);
        return report;
    }
    for (const auto& outcome : report->outcomes) {
        switch (outcome.action) {
            case kafka::apply_action::created:
                logger->info("topic {} created ({} partitions)", outcome.topic,
                             outcome.expected_partitions);
                break;
            case kafka::apply_action::partition_mismatch:
                logger->warn("topic {} {}", outcome.topic, outcome.message);
                break;
            case kafka::apply_action::failed:
                logger->error("topic {} not created: {}", outcome.topic, outcome.message);
                break;
            case kafka::apply_action::exists:
                break;
        }
    }
    logger->info("topics: {} created, {} existed, {} with another partition count, {} failed",
                 report->count(kafka::apply_action::created),
                 report->count(kafka::apply_action::exists),
                 report->count(kafka::apply_action::partition_mismatch),
                 report->count(kafka::apply_action::failed));
    if (report->ok()) {
        _topics_ready = true;
    }
    return report;
}

std::pair<int, std::string> daemon::readiness() const {
    auto kafka_state = _monitor->current();
    auto age = std::chrono::steady_clock::now() - kafka_state.checked_at;
    bool kafka_fresh = age < 3 * k_monitor_interval;
    bool kafka_ok = kafka_state.reachable && kafka_fresh;
    bool topics_ok = _topics_ready.load();
    // With the gateway, datasets are what requests are routed by.
    bool datasets_ok = !_gateway || (_datasets && !_datasets->current()->empty());
    bool ready = kafka_ok && topics_ok && datasets_ok;

    json_writer w;
    w.begin_object()
        .key("status")
        .value(ready ? "ready" : "not_ready")
        .key("checks")
        .begin_object();
    w.key("kafka").begin_object().key("ok").value(kafka_ok);
    if (!kafka_state.reachable) {
        w.key("detail").value(kafka_state.error);
    } else if (!kafka_fresh) {
        w.key("detail").value("no recent metadata check");
    }
    w.end_object();
    w.key("topics").begin_object().key("ok").value(topics_ok);
    if (!topics_ok) {
        w.key("detail").value("configured topics not all created yet");
    }
    w.end_object();
    if (_gateway) {
        w.key("datasets").begin_object().key("ok").value(datasets_ok);
        if (!datasets_ok) {
            w.key("detail").value("no dataset loaded from " + _datasets->describe());
        }
        w.end_object();
    }
    w.end_object().end_object();
    return {ready ? 200 : 503, w.take()};
}

void daemon::register_admin_routes() {
    auto& requests = _metrics;
    auto counted = [&requests](std::string route, http::handler inner) {
        return [&requests, route = std::move(route),
                inner = std::move(inner)](const http::request& request) {
            auto response = inner(request);
            requests
                .add_counter("obsrv_admin_http_requests_total",
                             "Requests to the admin endpoint by route and status code",
                             {{"route", route}, {"code", std::to_string(response.status)}})
                .inc();
            return response;
        };
    };

    _admin->route("GET", "/metrics", counted("/metrics", [this](const http::request&) {
                      http::response r;
                      r.content_type = k_prometheus_content_type;
                      r.body = _metrics.render();
                      return r;
                  }));
    _admin->route("GET", "/health", counted("/health", [](const http::request&) {
                      return json_response(200, R"({"status":"ok"})");
                  }));
    _admin->route("GET", "/ready", counted("/ready", [this](const http::request&) {
                      auto [status, body] = readiness();
                      return json_response(status, std::move(body));
                  }));

    // Control endpoints for obsrvctl: the embedded broker lacks the Admin API,
    // so topic creation and the group list come from here.
    _admin->route("GET", "/admin/kafka", counted("/admin/kafka", [this](const http::request&) {
                      json_writer w;
                      w.begin_object()
                          .key("mode")
                          .value(_embedded ? "embedded" : "external")
                          .key("bootstrap")
                          .value(_bootstrap);
                      if (_embedded) {
                          w.key("bootstrap_file").value(_config.kafka.embedded.bootstrap_file);
                      }
                      w.end_object();
                      return json_response(200, w.take());
                  }));
    _admin->route("GET", "/admin/topics", counted("/admin/topics", [this](const http::request&) {
                      json_writer w;
                      w.begin_object()
                          .key("configs_enforced_by_broker")
                          .value(!_embedded)
                          .key("topics")
                          .begin_array();
                      for (const auto& spec : kafka::configured_topics(_config.kafka.topics)) {
                          w.begin_object()
                              .key("name")
                              .value(spec.name)
                              .key("partitions")
                              .value(spec.partitions)
                              .key("replication_factor")
                              .value(spec.replication_factor)
                              .key("retention_ms")
                              .value(spec.retention_ms)
                              .key("max_message_bytes")
                              .value(spec.max_message_bytes)
                              .end_object();
                      }
                      w.end_array().end_object();
                      return json_response(200, w.take());
                  }));
    _admin->route("POST", "/admin/topics/apply",
                  counted("/admin/topics/apply", [this](const http::request&) {
                      auto report = apply_topics();
                      if (!report) {
                          json_writer w;
                          w.begin_object().key("error").value(report.error().message).end_object();
                          return json_response(503, w.take());
                      }
                      return json_response(report->ok() ? 200 : 500, report->to_json());
                  }));
    _admin->route("GET", "/admin/groups", counted("/admin/groups", [this](const http::request&) {
                      // The consumer groups of the running roles (the embedded broker cannot
                      // list groups itself).
                      json_writer w;
                      w.begin_object().key("groups").begin_array();
                      if (_pipeline) {
                          w.value(_pipeline->group());
                          if (auto indexer = _pipeline->indexer_group(); !indexer.empty()) {
                              w.value(indexer);
                          }
                      }
                      w.end_array().end_object();
                      return json_response(200, w.take());
                  }));
}

void daemon::stop(std::chrono::steady_clock::time_point deadline) {
    static const auto logger = log::get("obsrvd");
    if (_gateway) {
        _gateway->stop(deadline);
        _gateway.reset();
    }
    // The dataset watcher stops before the pipeline goes: its reload callbacks rebuild the
    // pipeline's catalog.
    if (_datasets) {
        _datasets->stop();
    }
    if (_pipeline) {
        _pipeline->stop();
        _pipeline.reset();
    }
    if (_admin) {
        _admin->stop();
        _admin.reset();
    }
    if (_monitor) {
        _monitor->stop();
        _monitor.reset();
    }
    _topic_creator.reset();
    _metadata_client.reset();
    if (_bootstrap_file_written) {
        // Only our own address: another instance may have taken the file over.
        std::ifstream in(_config.kafka.embedded.bootstrap_file);
        std::string line;
        if (std::getline(in, line) && line == _bootstrap) {
            std::remove(_config.kafka.embedded.bootstrap_file.c_str());
        }
        _bootstrap_file_written = false;
    }
    if (_embedded) {
        _embedded.reset();
        logger->info("embedded Kafka stopped");
    }
}

}  // namespace obsrv::app
