#include "common/log.h"

#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/thread_name.h"

namespace obsrv::log {
namespace {

using ::testing::HasSubstr;

struct captured {
    std::ostringstream stream;
    spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
};

TEST(log, json_lines_are_valid_json_with_escaped_message) {
    captured out;
    ASSERT_TRUE(setup({"info", "json"}, out.sink));
    set_thread_name("log-test");
    get("unit")->info("a \"quoted\" word\nand a second line \\ done");
    flush();
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    auto line = out.stream.str();
    ASSERT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    std::string_view msg, level, logger, thread, ts;
    ASSERT_EQ(doc["msg"].get(msg), simdjson::SUCCESS);
    EXPECT_EQ(msg, "a \"quoted\" word\nand a second line \\ done");
    ASSERT_EQ(doc["level"].get(level), simdjson::SUCCESS);
    EXPECT_EQ(level, "info");
    ASSERT_EQ(doc["logger"].get(logger), simdjson::SUCCESS);
    EXPECT_EQ(logger, "unit");
    ASSERT_EQ(doc["thread"].get(thread), simdjson::SUCCESS);
    EXPECT_EQ(thread, "log-test");
    ASSERT_EQ(doc["ts"].get(ts), simdjson::SUCCESS);
    EXPECT_EQ(ts.back(), 'Z') << "UTC timestamps";
}

TEST(log, plain_lines_carry_level_module_and_thread) {
    captured out;
    ASSERT_TRUE(setup({"info", "plain"}, out.sink));
    std::thread([] {
        set_thread_name("worker-7");
        get("kafka")->warn("broker down");
    }).join();
    flush();
    auto line = out.stream.str();
    EXPECT_THAT(line, HasSubstr("warn"));
    EXPECT_THAT(line, HasSubstr("[kafka]"));
    EXPECT_THAT(line, HasSubstr("[worker-7]"));
    EXPECT_THAT(line, HasSubstr("broker down"));
}

TEST(log, level_filters_and_applies_to_existing_loggers) {
    captured out;
    auto logger = get("levels");  // created before the level changes
    ASSERT_TRUE(setup({"warn", "plain"}, out.sink));
    logger->info("hidden");
    logger->warn("shown");
    flush();
    EXPECT_THAT(out.stream.str(), ::testing::Not(HasSubstr("hidden")));
    EXPECT_THAT(out.stream.str(), HasSubstr("shown"));
}

TEST(log, bad_options_are_refused) {
    EXPECT_FALSE(setup({"loud", "plain"}));
    EXPECT_FALSE(setup({"info", "xml"}));
}

}  // namespace
}  // namespace obsrv::log
