// redis_dedup_store against a real redis-server: verdicts, Obsrv's key format and db, TTL,
// release, sharing between store instances, outages and the undo of failed batches, threads.

#include "pipeline/redis_dedup_store.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "redis/client.h"
#include "redis_server.h"
#include "test_env.h"

namespace {

using namespace std::chrono_literals;
using obsrv::pipeline::dedup_probe;
using obsrv::pipeline::dedup_verdict;
using obsrv::pipeline::redis_dedup_store;
using obsrv::pipeline::redis_dedup_store_options;
using obsrv::testing::redis_server;
using obsrv::testing::scaled;
using obsrv::testing::wait_until;

constexpr int64_t k_hour_ms = 3'600'000;
constexpr int64_t k_now = 1'700'000'000'000;
constexpr auto U = dedup_verdict::unique;
constexpr auto D = dedup_verdict::duplicate;

class redis_dedup_store_test : public ::testing::Test {
  protected:
    void SetUp() override {
        auto server = redis_server::launch();
        if (!server) {
            GTEST_SKIP() << server.error().message;
        }
        _server = std::move(*server);
    }

    redis_dedup_store_options options() const {
        redis_dedup_store_options o;
        o.host = _server->host();
        o.port = _server->port();
        o.command_timeout = scaled(500ms);
        o.reconnect_backoff = 50ms;
        return o;
    }

    /// A plain client on the store's db, to look at what the store wrote.
    obsrv::redis::client inspector() const {
        obsrv::redis::client_options o;
        o.host = _server->host();
        o.port = _server->port();
        o.db = 2;
        return obsrv::redis::client(o);
    }

    static std::vector<dedup_verdict> reserve_ok(redis_dedup_store& store,
                                                 const std::vector<dedup_probe>& probes) {
        std::vector<dedup_verdict> verdicts(probes.size());
        auto s = store.reserve(probes, verdicts, k_now);
        EXPECT_TRUE(s) << s.error().message;
        return verdicts;
    }

    std::unique_ptr<redis_server> _server;
};

dedup_probe probe(std::string_view key, std::string_view dataset = "telemetry",
                  int64_t period_ms = k_hour_ms) {
    return dedup_probe{dataset, key, period_ms, {}};
}

TEST_F(redis_dedup_store_test, a_new_key_is_unique_and_its_copy_a_duplicate) {
    redis_dedup_store store(options());
    EXPECT_EQ(reserve_ok(store, {probe("e1")}), std::vector{U});
    EXPECT_EQ(reserve_ok(store, {probe("e1")}), std::vector{D});
    store.commit(std::vector{probe("e1")}, k_now);
    EXPECT_EQ(reserve_ok(store, {probe("e1")}), std::vector{D}) << "commit keeps the key";
    EXPECT_EQ(store.stats().reserved, 1u);
    EXPECT_EQ(store.stats().duplicates, 2u);
    EXPECT_TRUE(store.healthy());

    // Obsrv's key, value and db, with the dataset's period as TTL.
    auto c = inspector();
    auto value = c.command({"GET", "telemetry:e1"});
    ASSERT_TRUE(value);
    EXPECT_EQ(value->type, obsrv::redis::reply_type::string);
    EXPECT_EQ(value->text, "") << "no origin: the empty value Obsrv writes";
    auto ttl = c.command({"TTL", "telemetry:e1"});
    ASSERT_TRUE(ttl);
    EXPECT_GT(ttl->integer, 3590);
    EXPECT_LE(ttl->integer, 3600);
}

TEST_F(redis_dedup_store_test, a_reservation_left_by_a_killed_pipeline_is_its_own_events) {
    // A pipeline reserved e1 for the event at ingest/2/40, index 3, and died before delivery
    // (no commit, no release). Processed again from the uncommitted offset, the same event has
    // the same origin: unique. Another copy of e1 (another origin, or none) is a duplicate.
    auto with_origin = [](std::string_view origin) {
        auto p = probe("e1");
        p.origin = origin;
        return p;
    };
    {
        redis_dedup_store killed(options());
        EXPECT_EQ(reserve_ok(killed, {with_origin("ingest/2/40/3")}), std::vector{U});
    }
    redis_dedup_store restarted(options());
    EXPECT_EQ(reserve_ok(restarted, {with_origin("ingest/2/40/3")}), std::vector{U});
    EXPECT_EQ(reserve_ok(restarted, {with_origin("ingest/2/41/0")}), std::vector{D});
    EXPECT_EQ(reserve_ok(restarted, {probe("e1")}), std::vector{D}) << "no origin never matches";
    auto value = inspector().command({"GET", "telemetry:e1"});
    ASSERT_TRUE(value);
    EXPECT_EQ(value->text, "ingest/2/40/3");
}

TEST_F(redis_dedup_store_test, the_second_copy_in_one_batch_is_a_duplicate) {
    redis_dedup_store store(options());
    EXPECT_EQ(reserve_ok(store, {probe("a"), probe("b"), probe("a"), probe("b"), probe("c")}),
              (std::vector{U, U, D, D, U}));
}

TEST_F(redis_dedup_store_test, keys_written_by_obsrv_are_duplicates) {
    auto c = inspector();
    ASSERT_TRUE(c.command({"SETEX", "telemetry:from-obsrv", "3600", ""}));
    redis_dedup_store store(options());
    EXPECT_EQ(reserve_ok(store, {probe("from-obsrv")}), std::vector{D});
}

TEST_F(redis_dedup_store_test, the_ttl_is_the_period_rounded_up_to_seconds) {
    EXPECT_EQ(redis_dedup_store::ttl_seconds(0), 1);
    EXPECT_EQ(redis_dedup_store::ttl_seconds(1), 1);
    EXPECT_EQ(redis_dedup_store::ttl_seconds(1000), 1);
    EXPECT_EQ(redis_dedup_store::ttl_seconds(1001), 2);
    EXPECT_EQ(redis_dedup_store::ttl_seconds(604'800'000), 604'800);

    redis_dedup_store store(options());
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(reserve_ok(store, {probe("short", "telemetry", 1000)}), std::vector{U});
    ASSERT_EQ(reserve_ok(store, {probe("short", "telemetry", 1000)}), std::vector{D});
    auto c = inspector();
    ASSERT_TRUE(wait_until(
        [&] {
            auto exists = c.command({"EXISTS", "telemetry:short"});
            return exists && exists->integer == 0;
        },
        3s));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
    EXPECT_EQ(reserve_ok(store, {probe("short", "telemetry", 1000)}), std::vector{U})
        << "past its period the key is new again";
}

TEST_F(redis_dedup_store_test, release_frees_the_keys) {
    redis_dedup_store store(options());
    const std::vector batch{probe("r1"), probe("r2")};
    ASSERT_EQ(reserve_ok(store, batch), (std::vector{U, U}));
    store.release(batch);
    EXPECT_EQ(reserve_ok(store, batch), (std::vector{U, U}))
        << "the reprocessed event is not its own duplicate";
    EXPECT_EQ(store.stats().released, 2u);
    EXPECT_EQ(store.pending_releases(), 0u);
}

TEST_F(redis_dedup_store_test, two_stores_share_their_reservations) {
    // As two pipeline processes would.
    redis_dedup_store first(options());
    redis_dedup_store second(options());
    EXPECT_EQ(reserve_ok(first, {probe("shared")}), std::vector{U});
    EXPECT_EQ(reserve_ok(second, {probe("shared"), probe("only-second")}), (std::vector{D, U}));
    EXPECT_EQ(reserve_ok(first, {probe("only-second")}), std::vector{D});
}

TEST_F(redis_dedup_store_test, datasets_are_kept_apart) {
    redis_dedup_store store(options());
    EXPECT_EQ(reserve_ok(store, {probe("k", "d1"), probe("k", "d2"), probe("k", "d1")}),
              (std::vector{U, U, D}));
    // "<dataset>:<key>" is Obsrv's format; the dataset id cannot contain ':' in Obsrv either.
    EXPECT_EQ(redis_dedup_store::redis_key(probe("k", "d1")), "d1:k");
}

TEST_F(redis_dedup_store_test, a_down_server_is_an_error_and_the_store_recovers) {
    redis_dedup_store store(options());
    ASSERT_EQ(reserve_ok(store, {probe("before")}), std::vector{U});
    _server->stop();

    std::vector<dedup_verdict> verdicts(1);
    const std::vector batch{probe("during")};
    auto s = store.reserve(batch, verdicts, k_now);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("redis"), std::string::npos) << s.error().message;
    EXPECT_FALSE(store.healthy());
    EXPECT_EQ(store.pending_releases(), 0u) << "nothing was sent, so there is nothing to undo";

    ASSERT_TRUE(_server->start());
    ASSERT_TRUE(wait_until([&] { return static_cast<bool>(store.reserve(batch, verdicts, k_now)); },
                           scaled(3s)));
    EXPECT_EQ(verdicts[0], U);
    EXPECT_TRUE(store.healthy());
    EXPECT_GE(store.stats().failed_batches, 1u);
}

TEST_F(redis_dedup_store_test, a_batch_that_timed_out_is_undone_before_the_retry) {
    redis_dedup_store_options o = options();
    o.command_timeout = 200ms;
    redis_dedup_store store(o);
    ASSERT_TRUE(store.ping());
    const std::vector batch{probe("t1"), probe("t2")};
    std::vector<dedup_verdict> verdicts(batch.size());

    // The SETs reach the hung server and run once it resumes, after the store gave up.
    _server->pause();
    ASSERT_FALSE(store.reserve(batch, verdicts, k_now));
    EXPECT_EQ(store.pending_releases(), 2u);
    _server->resume();
    auto c = inspector();
    ASSERT_TRUE(wait_until(
        [&] {
            auto n = c.command({"EXISTS", "telemetry:t1", "telemetry:t2"});
            return n && n->integer == 2;
        },
        scaled(2s)));

    // The retry finds its own keys free: the queued DELs go out ahead of its SETs.
    EXPECT_EQ(reserve_ok(store, batch), (std::vector{U, U}));
    EXPECT_EQ(store.pending_releases(), 0u);
    EXPECT_EQ(reserve_ok(store, batch), (std::vector{D, D}));
}

TEST_F(redis_dedup_store_test, an_error_reply_fails_the_batch_and_reserves_nothing) {
    redis_dedup_store store(options());
    auto admin = inspector();
    ASSERT_TRUE(admin.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
    ASSERT_TRUE(admin.command({"CONFIG", "SET", "maxmemory", "1"}));

    const std::vector batch{probe("oom1"), probe("oom2")};
    std::vector<dedup_verdict> verdicts(batch.size());
    auto s = store.reserve(batch, verdicts, k_now);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("OOM"), std::string::npos) << s.error().message;

    ASSERT_TRUE(admin.command({"CONFIG", "SET", "maxmemory", "0"}));
    EXPECT_EQ(reserve_ok(store, batch), (std::vector{U, U}));
}

TEST_F(redis_dedup_store_test, mismatched_spans_are_an_error) {
    redis_dedup_store store(options());
    const std::vector batch{probe("x"), probe("y")};
    std::vector<dedup_verdict> verdicts(1);
    EXPECT_FALSE(store.reserve(batch, verdicts, k_now));
}

TEST_F(redis_dedup_store_test, threads_sharing_a_store_see_each_key_unique_once) {
    redis_dedup_store store(options());
    constexpr int k_keys = 2000;
    constexpr int k_batch = 100;
    std::vector<std::string> keys;
    for (int i = 0; i < k_keys; ++i) {
        keys.push_back("mid-" + std::to_string(i));
    }
    std::atomic<int> unique{0};
    std::atomic<int> duplicate{0};
    std::atomic<int> errors{0};
    auto worker = [&](bool reversed) {
        for (int first = 0; first < k_keys; first += k_batch) {
            std::vector<dedup_probe> batch;
            for (int i = first; i < first + k_batch; ++i) {
                batch.push_back(probe(keys[reversed ? k_keys - 1 - i : i]));
            }
            std::vector<dedup_verdict> verdicts(batch.size());
            if (!store.reserve(batch, verdicts, k_now)) {
                ++errors;
                continue;
            }
            for (dedup_verdict v : verdicts) {
                ++(v == U ? unique : duplicate);
            }
        }
    };
    std::thread a(worker, false);
    std::thread b(worker, true);
    a.join();
    b.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(unique.load(), k_keys);
    EXPECT_EQ(duplicate.load(), k_keys);
}

}  // namespace
