#include "common/log.h"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "common/json_writer.h"
#include "common/thread_name.h"

namespace obsrv::log {
namespace {

// %N: the thread name (io-0, rdk:broker1, admin, ...).
class thread_name_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg&, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const auto& name = current_thread_name();
        dest.append(name.data(), name.data() + name.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<thread_name_flag>();
    }
};

// %J: the message as a quoted, escaped JSON string.
class json_message_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        std::string quoted;
        append_json_string(quoted, std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(quoted.data(), quoted.data() + quoted.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }
};

constexpr const char* k_plain_pattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%-5!l%$ [%n] [%N] %v";
constexpr const char* k_json_pattern =
    R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","thread":"%N","msg":%J})";

struct state {
    std::mutex mutex;
    std::shared_ptr<spdlog::sinks::dist_sink_mt> sinks =
        std::make_shared<spdlog::sinks::dist_sink_mt>();
    spdlog::level::level_enum level = spdlog::level::info;
    bool configured = false;
};

state& global() {
    static state s;
    return s;
}

std::unique_ptr<spdlog::formatter> make_formatter(std::string_view format) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc,
                                                                 std::string("\n"));
    formatter->add_flag<thread_name_flag>('N');
    formatter->add_flag<json_message_flag>('J');
    formatter->set_pattern(format == "json" ? k_json_pattern : k_plain_pattern);
    return formatter;
}

void configure_defaults_locked(state& s) {
    if (!s.configured) {
        s.sinks->set_sinks({std::make_shared<spdlog::sinks::stderr_color_sink_mt>()});
        s.sinks->set_formatter(make_formatter("plain"));
        s.configured = true;
    }
}

}  // namespace

status setup(const options& opts, spdlog::sink_ptr sink) {
    auto level = spdlog::level::from_str(opts.level == "warn" ? "warning" : opts.level);
    if (level == spdlog::level::off && opts.level != "off") {
        return make_error("log: unknown level '{}'", opts.level);
    }
    if (opts.format != "plain" && opts.format != "json") {
        return make_error("log: unknown format '{}'", opts.format);
    }
    auto& s = global();
    std::lock_guard lock(s.mutex);
    if (!sink) {
        sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
    s.sinks->set_sinks({sink});
    s.sinks->set_formatter(make_formatter(opts.format));
    s.level = level;
    s.configured = true;
    spdlog::apply_all(
        [level](const std::shared_ptr<spdlog::logger>& logger) { logger->set_level(level); });
    return {};
}

std::shared_ptr<spdlog::logger> get(std::string_view module) {
    auto& s = global();
    std::lock_guard lock(s.mutex);
    configure_defaults_locked(s);
    std::string name(module);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto logger = std::make_shared<spdlog::logger>(name, s.sinks);
    logger->set_level(s.level);
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
    return logger;
}

void flush() {
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { logger->flush(); });
}

}  // namespace obsrv::log
