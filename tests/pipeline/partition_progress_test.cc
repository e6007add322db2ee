#include "pipeline/partition_progress.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace obsrv::pipeline {
namespace {

TEST(partition_progress, nothing_committable_before_the_first_finish) {
    partition_progress p;
    EXPECT_EQ(p.committable(), -1);
    EXPECT_EQ(p.last_started(), -1);
    p.start(10);
    EXPECT_EQ(p.committable(), -1);
    EXPECT_EQ(p.pending(), 1u);
}

TEST(partition_progress, out_of_order_finishes_wait_for_the_oldest) {
    partition_progress p;
    auto t10 = p.start(10);
    auto t11 = p.start(11);
    auto t12 = p.start(12);
    auto t13 = p.start(13);
    EXPECT_FALSE(p.finish(t11));
    EXPECT_FALSE(p.finish(t13));
    EXPECT_EQ(p.committable(), -1);
    EXPECT_TRUE(p.finish(t10));
    EXPECT_EQ(p.committable(), 12) << "12 holds back 13";
    EXPECT_EQ(p.pending(), 2u);
    EXPECT_TRUE(p.finish(t12));
    EXPECT_EQ(p.committable(), 14);
    EXPECT_EQ(p.pending(), 0u);
}

TEST(partition_progress, gaps_in_offsets_commit_past_the_last_finished) {
    partition_progress p;
    auto a = p.start(5);
    auto b = p.start(9);  // 6..8 compacted away or transaction markers
    EXPECT_TRUE(p.finish(a));
    EXPECT_EQ(p.committable(), 6);
    EXPECT_TRUE(p.finish(b));
    EXPECT_EQ(p.committable(), 10);
}

TEST(partition_progress, random_completion_order_matches_a_reference) {
    std::mt19937 rng(42);
    partition_progress p;
    std::vector<partition_progress::ticket> open;
    std::vector<int64_t> open_offsets;
    std::vector<bool> done(5000, false);
    int64_t next = 0;
    int64_t expected = 0;  // offsets below it are all done
    for (int round = 0; round < 20000; ++round) {
        if (next < 5000 && (open.empty() || rng() % 2 == 0)) {
            open.push_back(p.start(next));
            open_offsets.push_back(next);
            ++next;
        } else if (!open.empty()) {
            const size_t i = rng() % open.size();
            p.finish(open[i]);
            done[static_cast<size_t>(open_offsets[i])] = true;
            open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
            open_offsets.erase(open_offsets.begin() + static_cast<std::ptrdiff_t>(i));
        }
        while (expected < next && done[static_cast<size_t>(expected)]) {
            ++expected;
        }
        ASSERT_EQ(p.committable(), expected == 0 ? -1 : expected) << "round " << round;
    }
}

}  // namespace
}  // namespace obsrv::pipeline
