#include "pipeline/dedup_window.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace {

using obsrv::pipeline::dedup_key;
using obsrv::pipeline::dedup_verdict;
using obsrv::pipeline::dedup_window;
using obsrv::pipeline::make_dedup_key;

constexpr int64_t k_hour_ms = 3'600'000;
constexpr int64_t k_t0 = 1'700'000'000'000;

dedup_key key(std::string_view text, std::string_view dataset = "telemetry") {
    return make_dedup_key(dataset, text);
}

std::string temp_path(const char* name) {
    return (std::filesystem::temp_directory_path() /
            (std::string(name) + "-" + std::to_string(::getpid())))
        .string();
}

TEST(dedup_window, a_key_seen_within_the_period_is_a_duplicate_and_passes_after_it) {
    dedup_window w;
    EXPECT_EQ(w.check_and_reserve(key("e1"), k_t0, k_hour_ms), dedup_verdict::unique);
    w.commit(key("e1"));
    EXPECT_EQ(w.check_and_reserve(key("e1"), k_t0 + k_hour_ms - 1, k_hour_ms),
              dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("e1"), k_t0 + k_hour_ms, k_hour_ms), dedup_verdict::unique)
        << "the window is the dataset's dedup period, not forever";
    EXPECT_EQ(w.stats().duplicates, 1u);
    EXPECT_EQ(w.stats().reserved, 2u);
}

TEST(dedup_window, a_duplicate_right_behind_an_undelivered_event_is_caught) {
    dedup_window w;
    ASSERT_EQ(w.check_and_reserve(key("batch-dup"), k_t0, k_hour_ms), dedup_verdict::unique);
    // Same batch, the first copy's delivery still pending.
    EXPECT_EQ(w.check_and_reserve(key("batch-dup"), k_t0, k_hour_ms), dedup_verdict::duplicate);
}

TEST(dedup_window, a_failed_delivery_releases_the_key_so_the_retry_is_not_a_duplicate) {
    dedup_window w;
    ASSERT_EQ(w.check_and_reserve(key("retry"), k_t0, k_hour_ms), dedup_verdict::unique);
    w.release(key("retry"));
    EXPECT_EQ(w.check_and_reserve(key("retry"), k_t0 + 10, k_hour_ms), dedup_verdict::unique);
    EXPECT_EQ(w.stats().released, 1u);
}

TEST(dedup_window, release_after_commit_keeps_the_delivered_key) {
    dedup_window w;
    ASSERT_EQ(w.check_and_reserve(key("kept"), k_t0, k_hour_ms), dedup_verdict::unique);
    w.commit(key("kept"));
    w.release(key("kept"));
    EXPECT_EQ(w.check_and_reserve(key("kept"), k_t0 + 1, k_hour_ms), dedup_verdict::duplicate);
}

TEST(dedup_window, the_same_key_value_in_two_datasets_is_two_keys) {
    dedup_window w;
    EXPECT_EQ(w.check_and_reserve(key("x", "d1"), k_t0, k_hour_ms), dedup_verdict::unique);
    EXPECT_EQ(w.check_and_reserve(key("x", "d2"), k_t0, k_hour_ms), dedup_verdict::unique);
    EXPECT_NE(make_dedup_key("d1", "x"), make_dedup_key("d2", "x"));
    // The boundary between dataset and key matters: ("ab","c") is not ("a","bc").
    EXPECT_NE(make_dedup_key("ab", "c"), make_dedup_key("a", "bc"));
}

TEST(dedup_window, each_dataset_keeps_its_own_period) {
    dedup_window w;
    w.check_and_reserve(key("k", "short"), k_t0, 1000);
    w.check_and_reserve(key("k", "long"), k_t0, 10 * k_hour_ms);
    EXPECT_EQ(w.check_and_reserve(key("k", "short"), k_t0 + 1000, 1000), dedup_verdict::unique);
    EXPECT_EQ(w.check_and_reserve(key("k", "long"), k_t0 + 1000, 10 * k_hour_ms),
              dedup_verdict::duplicate);
}

TEST(dedup_window, expire_drops_what_left_the_window_in_expiry_order) {
    dedup_window w;
    for (int i = 0; i < 100; ++i) {
        // Periods out of insertion order: expiry is by time, not by age.
        w.check_and_reserve(key(std::to_string(i)), k_t0, (i % 2 == 0) ? 1000 : 5000);
        w.commit(key(std::to_string(i)));
    }
    EXPECT_EQ(w.expire(k_t0 + 999), 0u);
    EXPECT_EQ(w.expire(k_t0 + 1000), 50u);
    EXPECT_EQ(w.size(), 50u);
    EXPECT_EQ(w.check_and_reserve(key("1"), k_t0 + 1000, 5000), dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("0"), k_t0 + 1000, 5000), dedup_verdict::unique);
    EXPECT_EQ(w.expire(k_t0 + 5000), 50u);
    EXPECT_EQ(w.size(), 1u);  // "0", reserved at +1000 until +6000
}

TEST(dedup_window, a_full_window_evicts_the_entries_closest_to_expiry) {
    dedup_window w({.max_entries = 3});
    w.check_and_reserve(key("soon"), k_t0, 1000);
    w.check_and_reserve(key("late"), k_t0, 9000);
    w.check_and_reserve(key("mid"), k_t0, 5000);
    w.check_and_reserve(key("new"), k_t0 + 1, 9000);
    EXPECT_EQ(w.size(), 3u);
    EXPECT_EQ(w.stats().evicted, 1u);
    EXPECT_EQ(w.check_and_reserve(key("late"), k_t0 + 2, 9000), dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("mid"), k_t0 + 2, 9000), dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("soon"), k_t0 + 2, 9000), dedup_verdict::unique)
        << "the evicted key passes again (counted in stats().evicted)";
}

TEST(dedup_window, memory_stays_bounded_under_churn) {
    dedup_window w({.max_entries = 1000});
    for (int i = 0; i < 200'000; ++i) {
        auto k = key(std::to_string(i));
        ASSERT_EQ(w.check_and_reserve(k, k_t0 + i, k_hour_ms), dedup_verdict::unique);
        if (i % 3 == 0) {
            w.release(k);  // leaves a stale heap item behind
        } else {
            w.commit(k);
        }
    }
    EXPECT_LE(w.size(), 1000u);
    EXPECT_GT(w.stats().evicted, 0u);
    // The most recent keys are all still known.
    EXPECT_EQ(w.check_and_reserve(key("199999"), k_t0 + 200'000, k_hour_ms),
              dedup_verdict::duplicate);
}

TEST(dedup_window, a_snapshot_restores_the_delivered_keys_still_in_their_window) {
    const std::string path = temp_path("dedup-snapshot");
    {
        dedup_window w;
        w.check_and_reserve(key("delivered"), k_t0, k_hour_ms);
        w.commit(key("delivered"));
        w.check_and_reserve(key("in-flight"), k_t0, k_hour_ms);  // never delivered
        w.check_and_reserve(key("short"), k_t0, 10);
        w.commit(key("short"));
        auto saved = w.save(path, k_t0 + 5);
        ASSERT_TRUE(saved) << saved.error().message;
        EXPECT_EQ(*saved, 2u);  // delivered + short (not yet expired at +5)
    }
    dedup_window restarted;
    auto loaded = restarted.load(path, k_t0 + 100);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(*loaded, 1u) << "'short' expired while the process was down";
    EXPECT_EQ(restarted.check_and_reserve(key("delivered"), k_t0 + 100, k_hour_ms),
              dedup_verdict::duplicate);
    EXPECT_EQ(restarted.check_and_reserve(key("in-flight"), k_t0 + 100, k_hour_ms),
              dedup_verdict::unique)
        << "an event never delivered is processed again after a restart";
    std::filesystem::remove(path);
}

TEST(dedup_window, keys_sharing_a_slot_stay_found_when_their_neighbours_go) {
    // Keys whose low 64 bits are equal start probing at the same slot: releasing and expiring
    // some of them in the middle of the run must not hide the ones behind.
    dedup_window w;
    auto colliding = [](uint64_t i) { return dedup_key{0x5eedULL, i}; };
    for (uint64_t i = 0; i < 64; ++i) {
        ASSERT_EQ(w.check_and_reserve(colliding(i), k_t0, i % 4 == 0 ? 1000 : k_hour_ms),
                  dedup_verdict::unique);
        if (i % 3 != 0) {
            w.commit(colliding(i));
        }
    }
    for (uint64_t i = 0; i < 64; i += 3) {
        w.release(colliding(i));  // the reserved ones go
    }
    w.expire(k_t0 + 1000);  // and the short-lived ones
    for (uint64_t i = 0; i < 64; ++i) {
        const bool gone = i % 3 == 0 || i % 4 == 0;
        EXPECT_EQ(w.check_and_reserve(colliding(i), k_t0 + 1000, k_hour_ms),
                  gone ? dedup_verdict::unique : dedup_verdict::duplicate)
            << "key " << i;
    }
}

TEST(dedup_window, restored_keys_are_evicted_with_the_others_by_expiry) {
    const std::string path = temp_path("dedup-restore-evict");
    {
        dedup_window w;
        w.check_and_reserve(key("restored-late"), k_t0, 9000);
        w.check_and_reserve(key("restored-soon"), k_t0, 1000);
        w.commit(key("restored-late"));
        w.commit(key("restored-soon"));
        ASSERT_TRUE(w.save(path, k_t0));
    }
    dedup_window w({.max_entries = 3});
    ASSERT_EQ(*w.load(path, k_t0), 2u);
    w.check_and_reserve(key("new-mid"), k_t0, 5000);
    w.check_and_reserve(key("newest"), k_t0 + 1, 9000);  // full: evicts the closest to expiry
    EXPECT_EQ(w.stats().evicted, 1u);
    EXPECT_EQ(w.check_and_reserve(key("restored-late"), k_t0 + 2, 9000), dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("new-mid"), k_t0 + 2, 9000), dedup_verdict::duplicate);
    EXPECT_EQ(w.check_and_reserve(key("restored-soon"), k_t0 + 2, 9000), dedup_verdict::unique);
    std::filesystem::remove(path);
}

TEST(dedup_window, a_missing_snapshot_is_empty_and_a_damaged_one_is_an_error) {
    dedup_window w;
    auto none = w.load(temp_path("dedup-no-such-file"), k_t0);
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, 0u);

    const std::string path = temp_path("dedup-damaged");
    {
        dedup_window source;
        source.check_and_reserve(key("a"), k_t0, k_hour_ms);
        source.commit(key("a"));
        ASSERT_TRUE(source.save(path, k_t0));
    }
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(30);
        f.put('\x5a');  // flip a byte inside the record
    }
    w.check_and_reserve(key("mine"), k_t0, k_hour_ms);
    auto damaged = w.load(path, k_t0);
    ASSERT_FALSE(damaged);
    EXPECT_NE(damaged.error().message.find("not a valid snapshot"), std::string::npos);
    EXPECT_EQ(w.size(), 1u) << "a damaged snapshot leaves the window as it was";
    std::filesystem::remove(path);
}

}  // namespace
