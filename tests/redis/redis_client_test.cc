// redis::client against a real redis-server (tests/support/redis_server.h): pipelining, reply
// mapping, error replies, db selection, reconnect and back-off, timeouts on a hung server.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "redis/client.h"
#include "redis_server.h"
#include "test_env.h"

namespace {

using namespace std::chrono_literals;
using obsrv::redis::client;
using obsrv::redis::client_options;
using obsrv::redis::pipeline;
using obsrv::redis::reply;
using obsrv::redis::reply_type;
using obsrv::testing::redis_server;
using obsrv::testing::scaled;

class redis_client_test : public ::testing::Test {
  protected:
    void SetUp() override {
        auto server = redis_server::launch();
        if (!server) {
            GTEST_SKIP() << server.error().message;
        }
        _server = std::move(*server);
    }

    client_options options(int db = 0) const {
        client_options o;
        o.host = _server->host();
        o.port = _server->port();
        o.db = db;
        o.command_timeout = scaled(500ms);
        o.reconnect_backoff = 200ms;
        return o;
    }

    std::unique_ptr<redis_server> _server;
};

TEST_F(redis_client_test, a_pipeline_gets_one_reply_per_command_in_order) {
    client c(options());
    pipeline p;
    p.add({"SET", "k", "v1"});
    p.add({"GET", "k"});
    p.add({"GET", "missing"});
    p.begin(3).arg("INCRBY").arg("n");  // incomplete on purpose: completed just below
    ASSERT_FALSE(p.complete());
    p.arg(int64_t{41});
    p.add({"INCR", "n"});
    p.add({"RPUSH", "list", "a", "b"});
    p.add({"LRANGE", "list", "0", "-1"});
    ASSERT_TRUE(p.complete());
    ASSERT_EQ(p.size(), 7u);

    auto replies = c.execute(p);
    ASSERT_TRUE(replies) << replies.error().message;
    ASSERT_EQ(replies->size(), 7u);
    const auto& r = *replies;
    EXPECT_TRUE(r[0].is_ok());
    EXPECT_EQ(r[1].type, reply_type::string);
    EXPECT_EQ(r[1].text, "v1");
    EXPECT_TRUE(r[2].is_nil());
    EXPECT_EQ(r[3].type, reply_type::integer);
    EXPECT_EQ(r[3].integer, 41);
    EXPECT_EQ(r[4].integer, 42);
    EXPECT_EQ(r[5].integer, 2);
    ASSERT_EQ(r[6].type, reply_type::array);
    ASSERT_EQ(r[6].elements.size(), 2u);
    EXPECT_EQ(r[6].elements[1].text, "b");
    EXPECT_TRUE(c.healthy());
    EXPECT_EQ(c.connects(), 1u);
}

TEST_F(redis_client_test, a_large_pipeline_and_binary_arguments_round_trip) {
    client c(options());
    pipeline p;
    constexpr int k_commands = 20'000;
    for (int i = 0; i < k_commands; ++i) {
        p.begin(3).arg("SET").arg_parts({"ds:", std::to_string(i)}).arg(int64_t{i});
    }
    const std::string binary("a\r\n$3\0b", 7);
    p.add({"SET", binary, binary});
    p.add({"GET", binary});
    std::vector<reply> replies;
    auto s = c.execute(p, replies);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(replies.size(), static_cast<size_t>(k_commands + 2));
    EXPECT_TRUE(replies[k_commands - 1].is_ok());
    EXPECT_EQ(replies.back().text, binary);

    auto last = c.command({"GET", "ds:19999"});
    ASSERT_TRUE(last);
    EXPECT_EQ(last->text, "19999");
}

TEST_F(redis_client_test, an_error_reply_fails_only_its_command) {
    client c(options());
    pipeline p;
    p.add({"SET", "text", "abc"});
    p.add({"INCR", "text"});
    p.add({"NOSUCHCOMMAND"});
    p.add({"GET", "text"});
    auto replies = c.execute(p);
    ASSERT_TRUE(replies) << replies.error().message;
    EXPECT_TRUE((*replies)[1].is_error());
    EXPECT_NE((*replies)[1].text.find("ERR"), std::string::npos);
    EXPECT_TRUE((*replies)[2].is_error());
    EXPECT_EQ((*replies)[3].text, "abc");

    auto single = c.command({"INCR", "text"});
    ASSERT_FALSE(single);
    EXPECT_NE(single.error().message.find("not an integer"), std::string::npos)
        << single.error().message;
    EXPECT_TRUE(c.healthy()) << "an error reply is not a connection failure";
    EXPECT_EQ(c.connects(), 1u);
}

TEST_F(redis_client_test, an_incomplete_pipeline_is_refused_without_sending) {
    client c(options());
    pipeline p;
    p.begin(3).arg("SET").arg("k");
    auto replies = c.execute(p);
    ASSERT_FALSE(replies);
    EXPECT_FALSE(c.last_call_wrote());
    EXPECT_EQ(c.connects(), 0u);
}

TEST_F(redis_client_test, each_client_works_in_its_selected_db) {
    client db5(options(5));
    client db0(options(0));
    ASSERT_TRUE(db5.command({"SET", "k", "five"}));
    auto in0 = db0.command({"GET", "k"});
    ASSERT_TRUE(in0);
    EXPECT_TRUE(in0->is_nil());
    auto in5 = db5.command({"GET", "k"});
    ASSERT_TRUE(in5);
    EXPECT_EQ(in5->text, "five");

    // After a reconnect the db is selected again.
    _server->stop();
    ASSERT_TRUE(_server->start());
    auto again = db5.command({"SET", "k2", "x"});
    ASSERT_TRUE(again) << again.error().message;
    auto size0 = db0.command({"DBSIZE"});
    ASSERT_TRUE(size0);
    EXPECT_EQ(size0->integer, 0);
}

TEST_F(redis_client_test, a_bad_db_is_a_connect_error) {
    client c(options(99));
    auto s = c.connect();
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("SELECT 99"), std::string::npos) << s.error().message;
    EXPECT_FALSE(c.healthy());
}

TEST_F(redis_client_test, the_next_call_after_a_server_restart_reconnects) {
    client c(options());
    ASSERT_TRUE(c.ping());
    EXPECT_TRUE(c.healthy());
    _server->stop();
    ASSERT_TRUE(_server->start());
    // The connection the old server closed is noticed before sending: no failed call.
    auto s = c.ping();
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(c.connects(), 2u);
    EXPECT_TRUE(c.healthy());
}

TEST_F(redis_client_test, a_down_server_fails_fast_within_the_back_off_then_recovers) {
    client c(options());
    ASSERT_TRUE(c.ping());
    _server->stop();

    auto first = c.ping();  // refused: the one immediate reconnect
    ASSERT_FALSE(first);
    EXPECT_FALSE(c.healthy());
    auto second = c.ping();  // refused again: now the back-off starts
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("refused"), std::string::npos) << second.error().message;

    const auto before = std::chrono::steady_clock::now();
    auto third = c.ping();
    const auto took = std::chrono::steady_clock::now() - before;
    ASSERT_FALSE(third);
    EXPECT_NE(third.error().message.find("next connect attempt"), std::string::npos)
        << third.error().message;
    EXPECT_FALSE(c.last_call_wrote());
    EXPECT_LT(took, 20ms) << "no connect attempt within the back-off";
    const uint64_t connects = c.connects();

    ASSERT_TRUE(_server->start());
    ASSERT_TRUE(
        obsrv::testing::wait_until([&] { return static_cast<bool>(c.ping()); }, scaled(3s)));
    EXPECT_EQ(c.connects(), connects + 1);
    EXPECT_TRUE(c.healthy());
}

TEST_F(redis_client_test, a_hung_server_times_out_and_the_client_recovers_when_it_resumes) {
    client_options o = options();
    o.command_timeout = 200ms;
    client c(o);
    ASSERT_TRUE(c.command({"SET", "k", "v"}));

    _server->pause();
    const auto before = std::chrono::steady_clock::now();
    auto r = c.command({"GET", "k"});
    const auto took = std::chrono::steady_clock::now() - before;
    _server->resume();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("timed out after 200 ms"), std::string::npos)
        << r.error().message;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 2s);
    EXPECT_FALSE(c.healthy());

    // A new connection: the late reply on the old one cannot be mistaken for this one's.
    auto after = c.command({"GET", "k"});
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->text, "v");
    EXPECT_EQ(c.connects(), 2u);
}

}  // namespace
