#include "app/ctl_commands.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <set>

#include <simdjson.h>

#include "common/http_client.h"
#include "common/json_writer.h"
#include "kafka/client.h"
#include "kafka/group_offsets.h"
#include "kafka/topic_admin.h"

namespace obsrv::app::ctl {
namespace {

constexpr auto k_admin_probe_timeout = std::chrono::milliseconds(1500);

result<std::string> read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line) || line.empty()) {
        return make_error("cannot read '{}'", path);
    }
    return line;
}

/// GET or POST on obsrvd's admin endpoint, parsed as JSON into `doc`.
status admin_json(const context& ctx, std::string_view method, std::string_view path,
                  simdjson::dom::parser& parser, simdjson::dom::element& doc, int* status_code,
                  std::chrono::milliseconds timeout) {
    auto response =
        http::send_request(method, ctx.admin_host, ctx.admin_port, path, {}, {}, timeout);
    if (!response) {
        return make_error("obsrvd admin endpoint {}:{}: {}", ctx.admin_host, ctx.admin_port,
                          response.error().message);
    }
    if (status_code) {
        *status_code = response->status;
    }
    if (parser.parse(response->body).get(doc) != simdjson::SUCCESS) {
        return make_error("obsrvd admin endpoint {}:{}{}: answered {} with a body that is not JSON",
                          ctx.admin_host, ctx.admin_port, path, response->status);
    }
    return {};
}

std::string pad(std::string_view text, size_t width) {
    std::string out(text);
    if (out.size() < width) {
        out.append(width - out.size(), ' ');
    }
    return out;
}

/// Prints rows as aligned columns.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += i + 1 == row.size() ? row[i] : pad(row[i], widths[i] + 2);
        }
        out << line << '\n';
    }
}

result<kafka::client_ptr> metadata_client(const context& ctx) {
    return kafka::make_metadata_client(ctx.brokers, "obsrvctl");
}

struct configured_topic {
    int partitions = 0;
    int replication_factor = 0;
    int64_t retention_ms = 0;
    int64_t max_message_bytes = 0;
};

}  // namespace

result<context> resolve(const settings& config, const cli_options& options) {
    context ctx;
    ctx.config = config;
    ctx.timeout = options.timeout;
    ctx.json = options.json;

    bool from_embedded_file = false;
    if (options.brokers) {
        ctx.brokers = *options.brokers;
    } else if (options.bootstrap_file) {
        auto line = read_first_line(*options.bootstrap_file);
        if (!line) {
            return make_error("--bootstrap-file: {}", line.error().message);
        }
        ctx.brokers = *line;
    } else if (!config.kafka.use_embedded()) {
        ctx.brokers = config.kafka.brokers;
    } else {
        auto line = read_first_line(config.kafka.embedded.bootstrap_file);
        if (!line) {
            return make_error(
                "{} (kafka.embedded.bootstrap_file): is obsrvd running with the embedded "
                "broker? Otherwise pass --brokers",
                line.error().message);
        }
        ctx.brokers = *line;
        from_embedded_file = true;
    }

    if (options.admin) {
        auto endpoint = http::parse_endpoint(*options.admin);
        if (!endpoint) {
            return make_error("--admin: {}", endpoint.error().message);
        }
        ctx.admin_host = endpoint->host;
        ctx.admin_port = endpoint->port;
    } else {
        ctx.admin_host = config.admin.bind == "0.0.0.0" ? "127.0.0.1" : config.admin.bind;
        ctx.admin_port = static_cast<uint16_t>(config.admin.port);
    }

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (admin_json(ctx, "GET", "/admin/kafka", parser, doc, nullptr, k_admin_probe_timeout)) {
        ctx.admin_reachable = true;
        std::string_view mode;
        std::string_view bootstrap;
        if (doc["mode"].get(mode) == simdjson::SUCCESS &&
            doc["bootstrap"].get(bootstrap) == simdjson::SUCCESS) {
            ctx.embedded = mode == "embedded" && bootstrap == ctx.brokers;
        }
    }
    if (from_embedded_file) {
        ctx.embedded = true;
    }
    return ctx;
}

int topics_list(const context& ctx, std::ostream& out, std::ostream& err) {
    auto client = metadata_client(ctx);
    if (!client) {
        err << "obsrvctl: " << client.error().message << '\n';
        return 1;
    }
    auto topics = kafka::list_topics(client->get(), ctx.timeout);
    if (!topics) {
        err << "obsrvctl: " << ctx.brokers << ": " << topics.error().message << '\n';
        return 1;
    }

    // What the configuration asks for, to mark differences.
    std::map<std::string, configured_topic> configured;
    for (const auto& spec : kafka::configured_topics(ctx.config.kafka.topics)) {
        configured[spec.name] = {spec.partitions, spec.replication_factor, spec.retention_ms,
                                 spec.max_message_bytes};
    }
    // Topic configs: from the brokers when they can tell (real clusters), else
    // the values obsrvd was configured with (the embedded broker keeps none).
    kafka::topic_configs broker_configs;
    bool configs_from_broker = false;
    if (ctx.embedded) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        if (ctx.admin_reachable &&
            admin_json(ctx, "GET", "/admin/topics", parser, doc, nullptr, ctx.timeout)) {
            configured.clear();
            simdjson::dom::array items;
            if (doc["topics"].get(items) == simdjson::SUCCESS) {
                for (auto item : items) {
                    std::string_view name;
                    int64_t partitions = 0, replication = 0, retention = 0, max_message = 0;
                    if (item["name"].get(name) || item["partitions"].get(partitions) ||
                        item["replication_factor"].get(replication) ||
                        item["retention_ms"].get(retention) ||
                        item["max_message_bytes"].get(max_message)) {
                        continue;
                    }
                    configured[std::string(name)] = {static_cast<int>(partitions),
                                                     static_cast<int>(replication), retention,
                                                     max_message};
                }
            }
        }
    } else {
        std::vector<std::string> names;
        for (const auto& t : *topics) {
            names.push_back(t.name);
        }
        auto described = kafka::describe_topic_configs(client->get(), names, ctx.timeout);
        if (described) {
            broker_configs = std::move(*described);
            configs_from_broker = true;
        } else {
            err << "obsrvctl: topic configs unavailable: " << described.error().message << '\n';
        }
    }

    struct row {
        std::string name;
        int partitions = 0;
        int replication = 0;
        std::string retention;
        std::string max_message;
        std::string status;
    };
    std::vector<row> rows;
    std::set<std::string> seen;
    for (const auto& t : *topics) {
        seen.insert(t.name);
        row r{t.name, t.partitions, t.replication_factor, "-", "-", "ok"};
        auto conf = configured.find(t.name);
        if (configs_from_broker) {
            auto& c = broker_configs[t.name];
            r.retention = c.contains("retention.ms") ? c["retention.ms"] : "-";
            r.max_message = c.contains("max.message.bytes") ? c["max.message.bytes"] : "-";
        } else if (conf != configured.end()) {
            r.retention = std::to_string(conf->second.retention_ms) + "*";
            r.max_message = std::to_string(conf->second.max_message_bytes) + "*";
        }
        if (!t.error.empty()) {
            r.status = "error: " + t.error;
        } else if (conf == configured.end()) {
            r.status = "not configured";
        } else if (conf->second.partitions != t.partitions) {
            r.status = fmt::format("partitions differ (configured {})", conf->second.partitions);
        }
        rows.push_back(std::move(r));
    }
    for (const auto& [name, conf] : configured) {
        if (!seen.contains(name)) {
            rows.push_back(row{name, 0, 0, "-", "-", "missing"});
        }
    }

    if (ctx.json) {
        json_writer w;
        w.begin_object()
            .key("brokers")
            .value(ctx.brokers)
            .key("embedded")
            .value(ctx.embedded)
            .key("configs_from_broker")
            .value(configs_from_broker)
            .key("topics")
            .begin_array();
        for (const auto& r : rows) {
            auto number_or_null = [&w](const std::string& text) {
                std::string digits = text;
                if (!digits.empty() && digits.back() == '*') {
                    digits.pop_back();
                }
                if (digits.empty() || digits == "-") {
                    w.null();
                } else {
                    w.raw(digits);
                }
            };
            w.begin_object().key("name").value(r.name).key("partitions").value(r.partitions);
            w.key("replication_factor").value(r.replication).key("retention_ms");
            number_or_null(r.retention);
            w.key("max_message_bytes");
            number_or_null(r.max_message);
            w.key("status").value(r.status).end_object();
        }
        w.end_array().end_object();
        out << w.str() << '\n';
        return 0;
    }
    std::vector<std::vector<std::string>> table = {
        {"TOPIC", "PARTITIONS", "REPLICATION", "RETENTION.MS", "MAX.MESSAGE.BYTES", "STATUS"}};
    for (const auto& r : rows) {
        table.push_back({r.name, std::to_string(r.partitions), std::to_string(r.replication),
                         r.retention, r.max_message, r.status});
    }
    print_table(out, table);
    if (!configs_from_broker) {
        out << "* configured value; the embedded broker does not store topic configs (it keeps "
               "about 5 MB or 100k message sets per partition in memory)\n";
    }
    return 0;
}

int topics_apply(const context& ctx, std::ostream& out, std::ostream& err) {
    kafka::apply_report report;
    if (ctx.embedded) {
        if (!ctx.admin_reachable) {
            err << "obsrvctl: the embedded broker has no Admin API, so topics are created by "
                   "obsrvd; its admin endpoint "
                << ctx.admin_host << ':' << ctx.admin_port
                << " is not reachable (pass --admin HOST:PORT)\n";
            return 1;
        }
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        int code = 0;
        if (auto st = admin_json(ctx, "POST", "/admin/topics/apply", parser, doc, &code,
                                 ctx.timeout + std::chrono::seconds(5));
            !st) {
            err << "obsrvctl: " << st.error().message << '\n';
            return 1;
        }
        std::string_view message;
        if (doc["error"].get(message) == simdjson::SUCCESS) {
            err << "obsrvctl: topics not applied: " << message << '\n';
            return 1;
        }
        simdjson::dom::array items;
        if (doc["topics"].get(items) != simdjson::SUCCESS) {
            err << "obsrvctl: unexpected answer from obsrvd (HTTP " << code << ")\n";
            return 1;
        }
        for (auto item : items) {
            kafka::topic_outcome o;
            std::string_view topic, action, text;
            int64_t expected = 0, actual = 0;
            if (item["topic"].get(topic) || item["action"].get(action) ||
                item["expected_partitions"].get(expected) ||
                item["actual_partitions"].get(actual) || item["message"].get(text)) {
                err << "obsrvctl: unexpected topic entry from obsrvd\n";
                return 1;
            }
            o.topic = topic;
            o.action = action == "created"              ? kafka::apply_action::created
                       : action == "exists"             ? kafka::apply_action::exists
                       : action == "partition_mismatch" ? kafka::apply_action::partition_mismatch
                                                        : kafka::apply_action::failed;
            o.expected_partitions = static_cast<int>(expected);
            o.actual_partitions = static_cast<int>(actual);
            o.message = text;
            report.outcomes.push_back(std::move(o));
        }
    } else {
        auto client = metadata_client(ctx);
        if (!client) {
            err << "obsrvctl: " << client.error().message << '\n';
            return 1;
        }
        kafka::admin_api_topic_creator creator(client->get(), ctx.timeout);
        auto specs = kafka::configured_topics(ctx.config.kafka.topics);
        auto applied = kafka::apply_topics(client->get(), creator, specs, ctx.timeout);
        if (!applied) {
            err << "obsrvctl: " << applied.error().message << '\n';
            return 1;
        }
        report = std::move(*applied);
    }

    if (ctx.json) {
        out << report.to_json() << '\n';
    } else {
        std::vector<std::vector<std::string>> table = {{"TOPIC", "ACTION", "PARTITIONS", "NOTE"}};
        for (const auto& o : report.outcomes) {
            table.push_back({o.topic, std::string(kafka::to_string(o.action)),
                             std::to_string(o.actual_partitions), o.message});
        }
        print_table(out, table);
        out << fmt::format(
            "{} topics: {} created, {} existed, {} with another partition count, "
            "{} failed\n",
            report.outcomes.size(), report.count(kafka::apply_action::created),
            report.count(kafka::apply_action::exists),
            report.count(kafka::apply_action::partition_mismatch),
            report.count(kafka::apply_action::failed));
    }
    return report.ok() ? 0 : 1;
}

int groups(const context& ctx, const std::vector<std::string>& names, std::ostream& out,
           std::ostream& err) {
    std::set<std::string> group_names(names.begin(), names.end());
    if (ctx.admin_reachable) {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        simdjson::dom::array items;
        if (admin_json(ctx, "GET", "/admin/groups", parser, doc, nullptr, ctx.timeout) &&
            doc["groups"].get(items) == simdjson::SUCCESS) {
            for (auto item : items) {
                std::string_view name;
                if (item.get(name) == simdjson::SUCCESS) {
                    group_names.emplace(name);
                }
            }
        }
    }
    auto client = metadata_client(ctx);
    if (!client) {
        err << "obsrvctl: " << client.error().message << '\n';
        return 1;
    }
    if (!ctx.embedded) {
        auto listed = kafka::list_groups(client->get(), ctx.timeout);
        if (listed) {
            group_names.insert(listed->begin(), listed->end());
        } else {
            err << "obsrvctl: " << listed.error().message << '\n';
        }
    }
    auto topics = kafka::list_topics(client->get(), ctx.timeout);
    if (!topics) {
        err << "obsrvctl: " << ctx.brokers << ": " << topics.error().message << '\n';
        return 1;
    }

    std::vector<kafka::group_progress> progress;
    int status = 0;
    for (const auto& name : group_names) {
        auto p = kafka::describe_group(ctx.brokers, name, *topics, ctx.timeout);
        if (!p) {
            err << "obsrvctl: " << p.error().message << '\n';
            status = 1;
            continue;
        }
        progress.push_back(std::move(*p));
    }

    if (ctx.json) {
        json_writer w;
        w.begin_object().key("groups").begin_array();
        for (const auto& p : progress) {
            w.raw(p.to_json());
        }
        w.end_array().end_object();
        out << w.str() << '\n';
        return status;
    }
    if (group_names.empty()) {
        out << "no consumer groups known";
        if (ctx.embedded) {
            out << " (the embedded broker cannot list groups; the running roles report theirs "
                   "and --group NAME adds any other)";
        }
        out << '\n';
        return status;
    }
    std::vector<std::vector<std::string>> table = {
        {"GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"}};
    for (const auto& p : progress) {
        if (p.partitions.empty()) {
            table.push_back({p.group, "-", "-", "-", "-", "no committed offsets"});
        }
        for (const auto& part : p.partitions) {
            table.push_back({p.group, part.topic, std::to_string(part.partition),
                             std::to_string(part.committed), std::to_string(part.end),
                             std::to_string(part.lag)});
        }
    }
    print_table(out, table);
    for (const auto& p : progress) {
        out << fmt::format("group {}: total lag {}\n", p.group, p.total_lag);
    }
    return status;
}

}  // namespace obsrv::app::ctl
