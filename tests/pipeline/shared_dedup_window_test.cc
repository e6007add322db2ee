// shared_dedup_window: the dedup_store semantics of the in-process window (as the Redis store's
// tests check them), periodic expiry, the snapshot passthrough, and threads sharing one window.

#include "pipeline/shared_dedup_window.h"

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace {

using obsrv::pipeline::dedup_probe;
using obsrv::pipeline::dedup_verdict;
using obsrv::pipeline::shared_dedup_window;

constexpr int64_t k_hour_ms = 3'600'000;
constexpr int64_t k_t0 = 1'700'000'000'000;
constexpr auto U = dedup_verdict::unique;
constexpr auto D = dedup_verdict::duplicate;

dedup_probe probe(std::string_view key, std::string_view dataset = "telemetry",
                  int64_t period_ms = k_hour_ms) {
    return dedup_probe{dataset, key, period_ms, {}};
}

std::vector<dedup_verdict> reserve_ok(shared_dedup_window& w, const std::vector<dedup_probe>& p,
                                      int64_t now_ms = k_t0) {
    std::vector<dedup_verdict> verdicts(p.size());
    auto s = w.reserve(p, verdicts, now_ms);
    EXPECT_TRUE(s) << s.error().message;
    return verdicts;
}

TEST(shared_dedup_window, a_new_key_is_unique_and_its_copy_a_duplicate) {
    shared_dedup_window w;
    EXPECT_EQ(reserve_ok(w, {probe("e1")}), std::vector{U});
    EXPECT_EQ(reserve_ok(w, {probe("e1")}), std::vector{D});
    w.commit(std::vector{probe("e1")}, k_t0);
    EXPECT_EQ(reserve_ok(w, {probe("e1")}), std::vector{D});
    EXPECT_EQ(w.stats().reserved, 1u);
    EXPECT_EQ(w.stats().duplicates, 2u);
    EXPECT_EQ(w.stats().committed, 1u);
}

TEST(shared_dedup_window, the_second_copy_in_one_batch_is_a_duplicate) {
    shared_dedup_window w;
    EXPECT_EQ(reserve_ok(w, {probe("a"), probe("b"), probe("a"), probe("b"), probe("c")}),
              (std::vector{U, U, D, D, U}));
}

TEST(shared_dedup_window, a_key_lives_for_its_period) {
    shared_dedup_window w;
    ASSERT_EQ(reserve_ok(w, {probe("short", "telemetry", 1000)}), std::vector{U});
    w.commit(std::vector{probe("short", "telemetry", 1000)}, k_t0);
    EXPECT_EQ(reserve_ok(w, {probe("short", "telemetry", 1000)}, k_t0 + 999), std::vector{D});
    EXPECT_EQ(reserve_ok(w, {probe("short", "telemetry", 1000)}, k_t0 + 1000), std::vector{U});
}

TEST(shared_dedup_window, release_frees_reserved_keys_but_not_delivered_ones) {
    shared_dedup_window w;
    const std::vector batch{probe("r1"), probe("r2")};
    ASSERT_EQ(reserve_ok(w, batch), (std::vector{U, U}));
    w.commit(std::vector{probe("r2")}, k_t0);
    w.release(batch);
    EXPECT_EQ(reserve_ok(w, batch), (std::vector{U, D}));
    EXPECT_EQ(w.stats().released, 1u);
}

TEST(shared_dedup_window, datasets_are_kept_apart) {
    shared_dedup_window w;
    EXPECT_EQ(reserve_ok(w, {probe("k", "d1"), probe("k", "d2"), probe("k", "d1")}),
              (std::vector{U, U, D}));
}

TEST(shared_dedup_window, expired_entries_are_dropped_periodically) {
    shared_dedup_window w({.window = {}, .expire_interval_ms = 1000});
    std::vector<dedup_probe> batch;
    std::vector<std::string> keys;
    for (int i = 0; i < 100; ++i) {
        keys.push_back("k" + std::to_string(i));
    }
    for (const auto& k : keys) {
        batch.push_back(probe(k, "telemetry", 500));
    }
    reserve_ok(w, batch, k_t0);
    EXPECT_EQ(w.size(), 100u);
    // Within the interval nothing is swept, even though the keys expired.
    reserve_ok(w, {probe("other")}, k_t0 + 600);
    EXPECT_EQ(w.size(), 101u);
    reserve_ok(w, {probe("other2")}, k_t0 + 1000);
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(w.stats().expired, 100u);
    EXPECT_EQ(w.expire(k_t0 + 2 * k_hour_ms), 2u);
}

TEST(shared_dedup_window, save_and_load_pass_through_to_the_window) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("shared-dedup-" + std::to_string(::getpid())))
            .string();
    {
        shared_dedup_window w;
        const std::vector batch{probe("kept"), probe("undelivered")};
        ASSERT_EQ(reserve_ok(w, batch), (std::vector{U, U}));
        w.commit(std::vector{probe("kept")}, k_t0);
        auto saved = w.save(path, k_t0);
        ASSERT_TRUE(saved) << saved.error().message;
        EXPECT_EQ(*saved, 1u);
    }
    shared_dedup_window restored;
    auto loaded = restored.load(path, k_t0 + 10);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(*loaded, 1u);
    EXPECT_EQ(reserve_ok(restored, {probe("kept"), probe("undelivered")}, k_t0 + 10),
              (std::vector{D, U}));
    std::filesystem::remove(path);
}

TEST(shared_dedup_window, mismatched_spans_are_an_error) {
    shared_dedup_window w;
    const std::vector batch{probe("x"), probe("y")};
    std::vector<dedup_verdict> verdicts(1);
    EXPECT_FALSE(w.reserve(batch, verdicts, k_t0));
}

TEST(shared_dedup_window, threads_sharing_a_window_see_each_key_unique_once) {
    shared_dedup_window w;
    constexpr int k_keys = 20'000;
    constexpr int k_batch = 300;  // above the inline key buffer, to cover both paths
    std::vector<std::string> keys;
    for (int i = 0; i < k_keys; ++i) {
        keys.push_back("mid-" + std::to_string(i));
    }
    std::atomic<int> unique{0};
    std::atomic<int> duplicate{0};
    auto worker = [&](bool reversed) {
        for (int first = 0; first < k_keys; first += k_batch) {
            std::vector<dedup_probe> batch;
            for (int i = first; i < std::min(first + k_batch, k_keys); ++i) {
                batch.push_back(probe(keys[reversed ? k_keys - 1 - i : i]));
            }
            std::vector<dedup_verdict> verdicts(batch.size());
            ASSERT_TRUE(w.reserve(batch, verdicts, k_t0));
            for (dedup_verdict v : verdicts) {
                ++(v == U ? unique : duplicate);
            }
            w.commit(batch, k_t0);
        }
    };
    std::thread a(worker, false);
    std::thread b(worker, true);
    a.join();
    b.join();
    EXPECT_EQ(unique.load(), k_keys);
    EXPECT_EQ(duplicate.load(), k_keys);
    EXPECT_EQ(w.size(), static_cast<size_t>(k_keys));
}

}  // namespace
