#include "common/spsc_ring.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace obsrv {
namespace {

// Longer than any small-string buffer, so a lost or doubled move shows up as a leak or a
// double free under ASan rather than passing silently.
std::string long_string(uint64_t i) {
    return "payload-" + std::to_string(i) + "-" + std::string(40, 'x');
}

// Every constructor adds to live, the destructor subtracts: after each step live must equal
// the number of objects the test can account for, so a missed or doubled destroy shows up.
struct counted {
    static inline int live = 0;
    static inline int destroyed_twice = 0;
    static constexpr uint32_t k_alive = 0xA11CE;
    static constexpr uint32_t k_dead = 0xDEAD;

    int value = -1;
    uint32_t state = k_alive;

    counted() { ++live; }
    explicit counted(int v) : value(v) { ++live; }
    counted(const counted& o) : value(o.value) { ++live; }
    counted(counted&& o) noexcept : value(o.value) {
        o.value = -1;
        ++live;
    }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&& o) noexcept {
        value = o.value;
        o.value = -1;
        return *this;
    }
    ~counted() {
        if (state != k_alive) {
            ++destroyed_twice;
        }
        state = k_dead;
        --live;
    }
};

class SpscRingCounted : public ::testing::Test {
  protected:
    void SetUp() override {
        counted::live = 0;
        counted::destroyed_twice = 0;
    }
    void TearDown() override {
        EXPECT_EQ(counted::live, 0);
        EXPECT_EQ(counted::destroyed_twice, 0);
    }
};

TEST(SpscRing, RoundUpCapacity) {
    using ring = spsc_ring<int>;
    EXPECT_EQ(ring::round_up_capacity(0), 1u);
    EXPECT_EQ(ring::round_up_capacity(1), 1u);
    EXPECT_EQ(ring::round_up_capacity(2), 2u);
    EXPECT_EQ(ring::round_up_capacity(3), 4u);
    EXPECT_EQ(ring::round_up_capacity(16), 16u);
    EXPECT_EQ(ring::round_up_capacity(17), 32u);
    EXPECT_EQ(ring::round_up_capacity(1000), 1024u);
    EXPECT_EQ(ring::round_up_capacity(1024), 1024u);
    EXPECT_EQ(ring::round_up_capacity(1025), 2048u);
    static_assert(ring::round_up_capacity(100) == 128);
}

TEST(SpscRing, PowerOfTwoCapacityHoldsExactlyThatMany) {
    for (size_t cap : {size_t{1}, size_t{2}, size_t{8}, size_t{1024}}) {
        spsc_ring<uint64_t> ring(cap);
        EXPECT_EQ(ring.capacity(), cap);
        for (uint64_t i = 0; i < cap; ++i) {
            ASSERT_TRUE(ring.try_push(i)) << "cap " << cap << " i " << i;
        }
        EXPECT_FALSE(ring.try_push(uint64_t{99})) << "cap " << cap;
        EXPECT_EQ(ring.size_approx(), cap);
    }
}

TEST(SpscRingDeathTest, RejectsCapacityThatIsNotAPowerOfTwo) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(spsc_ring<int>{0}, "power of two");
    EXPECT_DEATH(spsc_ring<int>{3}, "power of two");
    EXPECT_DEATH(spsc_ring<int>{1000}, "power of two");
}

TEST(SpscRing, EmptyRingPopsNothing) {
    spsc_ring<uint64_t> ring(4);
    EXPECT_TRUE(ring.empty_approx());
    uint64_t out = 77;
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_EQ(out, 77u);
    EXPECT_FALSE(ring.try_pop().has_value());
    std::array<uint64_t, 4> batch{7, 7, 7, 7};
    EXPECT_EQ(ring.pop_batch(batch), 0u);
    EXPECT_EQ(batch, (std::array<uint64_t, 4>{7, 7, 7, 7}));
    int calls = 0;
    EXPECT_EQ(ring.consume([&](uint64_t&&) { ++calls; }), 0u);
    EXPECT_EQ(calls, 0);

    // Emptied again after traffic, not just freshly constructed.
    ASSERT_TRUE(ring.try_push(uint64_t{1}));
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_TRUE(ring.empty_approx());
}

TEST(SpscRing, FullRingRejectsPushAndLeavesValueUntouched) {
    spsc_ring<std::string> ring(4);
    for (uint64_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ring.try_push(long_string(i)));
    }
    std::string keep = long_string(100);
    EXPECT_FALSE(ring.try_push(std::move(keep)));
    EXPECT_EQ(keep, long_string(100));  // NOLINT(bugprone-use-after-move): rejected push
    const std::string copy = long_string(101);
    EXPECT_FALSE(ring.try_push(copy));
    EXPECT_FALSE(ring.try_emplace("x"));
    std::array<std::string, 2> batch{long_string(102), long_string(103)};
    EXPECT_EQ(ring.try_push_batch(batch), 0u);
    EXPECT_EQ(batch[0], long_string(102));
    EXPECT_EQ(batch[1], long_string(103));

    // One pop makes exactly one slot.
    auto first = ring.try_pop();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, long_string(0));
    EXPECT_TRUE(ring.try_push(std::move(keep)));
    EXPECT_FALSE(ring.try_push(copy));
}

TEST(SpscRing, FifoAcrossManyWraparounds) {
    // Varying fill levels so that every slot is written at every offset many times.
    spsc_ring<uint64_t> ring(8);
    uint64_t next_in = 0;
    uint64_t next_out = 0;
    for (int round = 0; round < 5000; ++round) {
        const int pushes = 1 + round % 8;
        for (int i = 0; i < pushes; ++i) {
            if (ring.try_push(next_in)) {
                ++next_in;
            }
        }
        const int pops = 1 + (round * 7) % 8;
        for (int i = 0; i < pops; ++i) {
            uint64_t v = 0;
            if (!ring.try_pop(v)) {
                break;
            }
            ASSERT_EQ(v, next_out);
            ++next_out;
        }
    }
    EXPECT_GT(next_out, 8u * 1000);  // many trips around the ring
    uint64_t v = 0;
    while (ring.try_pop(v)) {
        ASSERT_EQ(v, next_out++);
    }
    EXPECT_EQ(next_out, next_in);
}

TEST(SpscRing, MatchesDequeModelUnderRandomMixedOperations) {
    spsc_ring<uint64_t> ring(16);
    std::deque<uint64_t> model;
    std::mt19937_64 rng(42);
    uint64_t next = 0;
    for (int step = 0; step < 200000; ++step) {
        const auto op = rng() % 7;
        const size_t k = 1 + rng() % 20;  // sometimes more than the ring holds
        switch (op) {
            case 0: {
                const bool ok = ring.try_push(next);
                ASSERT_EQ(ok, model.size() < 16);
                if (ok) {
                    model.push_back(next++);
                }
                break;
            }
            case 1: {
                const bool ok = ring.try_emplace(next);
                ASSERT_EQ(ok, model.size() < 16);
                if (ok) {
                    model.push_back(next++);
                }
                break;
            }
            case 2: {
                std::vector<uint64_t> items(k);
                for (size_t i = 0; i < k; ++i) {
                    items[i] = next + i;
                }
                const size_t n = ring.try_push_batch(items);
                ASSERT_EQ(n, std::min(k, 16 - model.size()));
                for (size_t i = 0; i < n; ++i) {
                    model.push_back(next++);
                }
                break;
            }
            case 3: {
                uint64_t v = 0;
                const bool ok = ring.try_pop(v);
                ASSERT_EQ(ok, !model.empty());
                if (ok) {
                    ASSERT_EQ(v, model.front());
                    model.pop_front();
                }
                break;
            }
            case 4: {
                auto v = ring.try_pop();
                ASSERT_EQ(v.has_value(), !model.empty());
                if (v) {
                    ASSERT_EQ(*v, model.front());
                    model.pop_front();
                }
                break;
            }
            case 5: {
                std::vector<uint64_t> out(k);
                const size_t n = ring.pop_batch(out);
                ASSERT_EQ(n, std::min(k, model.size()));
                for (size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(out[i], model.front());
                    model.pop_front();
                }
                break;
            }
            default: {
                const size_t expected_n = std::min(k, model.size());
                const size_t n = ring.consume(
                    [&](uint64_t&& v) {
                        ASSERT_FALSE(model.empty());
                        ASSERT_EQ(v, model.front());
                        model.pop_front();
                    },
                    k);
                ASSERT_FALSE(HasFatalFailure());
                ASSERT_EQ(n, expected_n);
                break;
            }
        }
        ASSERT_EQ(ring.size_approx(), model.size()) << "step " << step;
    }
}

TEST(SpscRing, TryPushBatchPartialFillMovesOnlyWhatFits) {
    spsc_ring<std::string> ring(8);
    for (uint64_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(ring.try_push(long_string(i)));
    }
    std::vector<std::string> items;
    for (uint64_t i = 0; i < 10; ++i) {
        items.push_back(long_string(100 + i));
    }
    ASSERT_EQ(ring.try_push_batch(items), 5u);
    EXPECT_EQ(ring.size_approx(), 8u);
    for (uint64_t i = 5; i < 10; ++i) {
        EXPECT_EQ(items[i], long_string(100 + i)) << "item " << i << " should be untouched";
    }
    for (uint64_t i = 0; i < 3; ++i) {
        EXPECT_EQ(ring.try_pop(), long_string(i));
    }
    for (uint64_t i = 0; i < 5; ++i) {
        EXPECT_EQ(ring.try_pop(), long_string(100 + i));
    }
    EXPECT_FALSE(ring.try_pop().has_value());
}

TEST(SpscRing, TryPushBatchSeesSpaceFreedSinceTheRingWasLastFull) {
    // The producer's cached head is stale (it saw a full ring); a batch must look again
    // before deciding how much fits.
    spsc_ring<uint64_t> ring(8);
    for (uint64_t i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_push(i));
    }
    ASSERT_FALSE(ring.try_push(uint64_t{8}));
    std::array<uint64_t, 4> drained{};
    ASSERT_EQ(ring.pop_batch(drained), 4u);
    std::array<uint64_t, 6> more{8, 9, 10, 11, 12, 13};
    EXPECT_EQ(ring.try_push_batch(more), 4u);
    std::array<uint64_t, 16> out{};
    ASSERT_EQ(ring.pop_batch(out), 8u);
    for (uint64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(out[i], 4 + i);
    }
}

TEST(SpscRing, PopBatchRespectsSpanSizeAndOrder) {
    spsc_ring<uint64_t> ring(16);
    for (uint64_t i = 0; i < 10; ++i) {
        ASSERT_TRUE(ring.try_push(i));
    }
    std::array<uint64_t, 6> out{};
    out.fill(999);
    ASSERT_EQ(ring.pop_batch(std::span<uint64_t>(out).first(4)), 4u);
    EXPECT_EQ(out, (std::array<uint64_t, 6>{0, 1, 2, 3, 999, 999}));
    EXPECT_EQ(ring.size_approx(), 6u);

    std::array<uint64_t, 16> rest{};
    ASSERT_EQ(ring.pop_batch(rest), 6u);
    for (uint64_t i = 0; i < 6; ++i) {
        EXPECT_EQ(rest[i], 4 + i);
    }
    EXPECT_EQ(ring.pop_batch(rest), 0u);
    EXPECT_EQ(ring.pop_batch(std::span<uint64_t>()), 0u);
}

TEST(SpscRing, ConsumeRespectsMaxAndOrder) {
    spsc_ring<uint64_t> ring(16);
    for (uint64_t i = 0; i < 10; ++i) {
        ASSERT_TRUE(ring.try_push(i));
    }
    std::vector<uint64_t> seen;
    auto collect = [&](uint64_t&& v) { seen.push_back(v); };
    EXPECT_EQ(ring.consume(collect, 0), 0u);
    EXPECT_TRUE(seen.empty());
    EXPECT_EQ(ring.consume(collect, 3), 3u);
    EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2}));
    EXPECT_EQ(ring.size_approx(), 7u);
    EXPECT_EQ(ring.consume(collect), 7u);
    EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(ring.consume(collect), 0u);
    EXPECT_TRUE(ring.empty_approx());
}

TEST(SpscRing, ConsumeHandsOverOwnership) {
    spsc_ring<std::unique_ptr<int>> ring(4);
    ASSERT_TRUE(ring.try_emplace(std::make_unique<int>(1)));
    ASSERT_TRUE(ring.try_emplace(std::make_unique<int>(2)));
    std::vector<std::unique_ptr<int>> taken;
    EXPECT_EQ(ring.consume([&](std::unique_ptr<int>&& p) { taken.push_back(std::move(p)); }), 2u);
    ASSERT_EQ(taken.size(), 2u);
    EXPECT_EQ(*taken[0], 1);
    EXPECT_EQ(*taken[1], 2);
}

TEST(SpscRing, StringsThroughEveryOperation) {
    spsc_ring<std::string> ring(8);
    const std::string copied = long_string(0);
    ASSERT_TRUE(ring.try_push(copied));
    EXPECT_EQ(copied, long_string(0));
    ASSERT_TRUE(ring.try_push(long_string(1)));
    ASSERT_TRUE(ring.try_emplace(size_t{50}, 'z'));
    std::array<std::string, 3> batch{long_string(3), long_string(4), long_string(5)};
    ASSERT_EQ(ring.try_push_batch(batch), 3u);

    std::string out;
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, long_string(0));
    EXPECT_EQ(ring.try_pop(), long_string(1));
    std::array<std::string, 2> popped;
    ASSERT_EQ(ring.pop_batch(popped), 2u);
    EXPECT_EQ(popped[0], std::string(50, 'z'));
    EXPECT_EQ(popped[1], long_string(3));
    std::vector<std::string> rest;
    EXPECT_EQ(ring.consume([&](std::string&& s) { rest.push_back(std::move(s)); }), 2u);
    EXPECT_EQ(rest, (std::vector<std::string>{long_string(4), long_string(5)}));

    // Left behind on purpose: the destructor must free these (LeakSanitizer checks).
    ASSERT_TRUE(ring.try_push(long_string(6)));
    ASSERT_TRUE(ring.try_push(long_string(7)));
}

TEST(SpscRing, UniquePtrsThroughEveryOperation) {
    spsc_ring<std::unique_ptr<int>> ring(8);
    auto p = std::make_unique<int>(0);
    ASSERT_TRUE(ring.try_push(std::move(p)));
    EXPECT_EQ(p, nullptr);
    ASSERT_TRUE(ring.try_emplace(new int(1)));
    std::array<std::unique_ptr<int>, 2> batch{std::make_unique<int>(2), std::make_unique<int>(3)};
    ASSERT_EQ(ring.try_push_batch(batch), 2u);
    EXPECT_EQ(batch[0], nullptr);
    EXPECT_EQ(batch[1], nullptr);

    std::unique_ptr<int> out = std::make_unique<int>(-1);  // replaced, so freed by the pop
    ASSERT_TRUE(ring.try_pop(out));
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(*out, 0);
    auto one = ring.try_pop();
    ASSERT_TRUE(one.has_value() && *one);
    EXPECT_EQ(**one, 1);
    std::array<std::unique_ptr<int>, 4> popped;
    ASSERT_EQ(ring.pop_batch(popped), 2u);
    EXPECT_EQ(*popped[0], 2);
    EXPECT_EQ(*popped[1], 3);
    EXPECT_EQ(popped[2], nullptr);

    // Full ring: the rejected pointer stays with the caller.
    for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_push(std::make_unique<int>(10 + i)));
    }
    auto rejected = std::make_unique<int>(99);
    EXPECT_FALSE(ring.try_push(std::move(rejected)));
    ASSERT_NE(rejected, nullptr);  // NOLINT(bugprone-use-after-move): rejected push
    EXPECT_EQ(*rejected, 99);
    // The eight left in the ring are freed by its destructor (LeakSanitizer checks).
}

TEST_F(SpscRingCounted, EveryElementIsDestroyedExactlyOnce) {
    {
        spsc_ring<counted> ring(8);
        EXPECT_EQ(counted::live, 0);  // raw storage, nothing constructed up front

        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(ring.try_emplace(i));
        }
        EXPECT_EQ(counted::live, 3);
        {
            const counted c(3);
            ASSERT_TRUE(ring.try_push(c));
            ASSERT_TRUE(ring.try_push(counted(4)));
        }
        std::array<counted, 3> batch{counted(5), counted(6), counted(7)};
        ASSERT_EQ(ring.try_push_batch(batch), 3u);
        EXPECT_EQ(counted::live, 8 + 3);  // ring + moved-from batch
        EXPECT_FALSE(ring.try_emplace(8));
        EXPECT_EQ(counted::live, 8 + 3);  // a rejected emplace constructs nothing

        counted out;
        ASSERT_TRUE(ring.try_pop(out));
        EXPECT_EQ(out.value, 0);
        EXPECT_EQ(counted::live, 7 + 3 + 1);
        {
            auto opt = ring.try_pop();
            ASSERT_TRUE(opt.has_value());
            EXPECT_EQ(opt->value, 1);
            EXPECT_EQ(counted::live, 6 + 3 + 1 + 1);
        }
        std::array<counted, 2> popped;
        ASSERT_EQ(ring.pop_batch(popped), 2u);
        EXPECT_EQ(popped[1].value, 3);
        EXPECT_EQ(counted::live, 4 + 3 + 1 + 2);
        EXPECT_EQ(ring.consume([](counted&& c) { EXPECT_EQ(c.value, 4); }, 1), 1u);
        EXPECT_EQ(counted::live, 3 + 3 + 1 + 2);

        // Wrap around, then leave three queued for the destructor.
        for (int i = 0; i < 5; ++i) {
            ASSERT_TRUE(ring.try_emplace(100 + i));
        }
        EXPECT_EQ(ring.consume([](counted&&) {}, 5), 5u);
        EXPECT_EQ(ring.size_approx(), 3u);
        EXPECT_EQ(counted::live, 3 + 3 + 1 + 2);
    }
    // TearDown checks that live is back to zero and nothing was destroyed twice.
}

TEST_F(SpscRingCounted, ThrowingConsumerLeavesTheRingConsistent) {
    spsc_ring<counted> ring(8);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(ring.try_emplace(i));
    }
    int calls = 0;
    auto throw_on_third = [&](counted&&) {
        if (++calls == 3) {
            throw std::runtime_error("boom");
        }
    };
    EXPECT_THROW(ring.consume(throw_on_third), std::runtime_error);
    // The element handed to the throwing call counts as consumed, the rest stay queued.
    EXPECT_EQ(ring.size_approx(), 2u);
    EXPECT_EQ(counted::live, 2);
    auto next = ring.try_pop();
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->value, 3);
}

TEST(SpscRing, SizeApprox) {
    spsc_ring<uint64_t> ring(8);
    EXPECT_EQ(ring.size_approx(), 0u);
    EXPECT_TRUE(ring.empty_approx());
    for (uint64_t i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_push(i));
        EXPECT_EQ(ring.size_approx(), i + 1);
        EXPECT_FALSE(ring.empty_approx());
    }
    std::array<uint64_t, 3> out{};
    ASSERT_EQ(ring.pop_batch(out), 3u);
    EXPECT_EQ(ring.size_approx(), 5u);
    std::array<uint64_t, 3> in{8, 9, 10};
    ASSERT_EQ(ring.try_push_batch(in), 3u);  // across the wrap point
    EXPECT_EQ(ring.size_approx(), 8u);
    EXPECT_EQ(ring.consume([](uint64_t&&) {}), 8u);
    EXPECT_EQ(ring.size_approx(), 0u);
    EXPECT_TRUE(ring.empty_approx());
}

// ---- two-thread stress ------------------------------------------------------------------

// Sized for about a second per case: ASan costs ~3x here, TSan ~10x, both on 2 cores.
#if defined(__SANITIZE_THREAD__)
constexpr uint64_t k_stress_items = 2'000'000;
constexpr uint64_t k_stress_owned_items = 200'000;
#elif defined(__SANITIZE_ADDRESS__)
constexpr uint64_t k_stress_items = 5'000'000;
constexpr uint64_t k_stress_owned_items = 300'000;
#else
constexpr uint64_t k_stress_items = 10'000'000;
constexpr uint64_t k_stress_owned_items = 1'000'000;
#endif

// The producer sends make(0..count) with a random mix of single pushes and batches of 1..16;
// the consumer receives with a random mix of try_pop, try_pop(), pop_batch and consume and
// checks that it sees exactly value 0..count in order. A small ring keeps both sides hitting
// the full and empty edges constantly. A ring that loses an index update would leave one side
// spinning forever, so both give up after a generous deadline and the test fails instead of
// hanging until the CTest timeout.
template <typename T, typename Make, typename Value>
void run_stress(uint64_t count, size_t capacity, Make make, Value value_of) {
    spsc_ring<T> ring(capacity);
    std::atomic<bool> producer_done{false};
    std::atomic<bool> give_up{false};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto wait_a_little = [&] {
        std::this_thread::yield();
        if (std::chrono::steady_clock::now() > deadline) {
            give_up.store(true, std::memory_order_relaxed);
        }
        return !give_up.load(std::memory_order_relaxed);
    };

    std::thread producer([&] {
        std::mt19937 rng(1);
        std::vector<T> batch;
        uint64_t next = 0;
        while (next < count && !give_up.load(std::memory_order_relaxed)) {
            const uint64_t k = std::min<uint64_t>(1 + rng() % 16, count - next);
            if (rng() % 2 == 0) {
                for (uint64_t i = 0; i < k; ++i) {
                    T v = make(next);
                    while (!ring.try_push(std::move(v)) && wait_a_little()) {
                    }
                    ++next;
                }
            } else {
                batch.clear();
                for (uint64_t i = 0; i < k; ++i) {
                    batch.push_back(make(next + i));
                }
                std::span<T> rest(batch);
                while (!rest.empty()) {
                    rest = rest.subspan(ring.try_push_batch(rest));
                    if (!rest.empty() && !wait_a_little()) {
                        break;
                    }
                }
                next += k;
            }
        }
        producer_done.store(true, std::memory_order_release);
    });

    uint64_t received = 0;
    uint64_t expected = 0;
    uint64_t first_bad_index = UINT64_MAX;
    uint64_t first_bad_value = 0;
    std::thread consumer([&] {
        std::mt19937 rng(2);
        std::vector<T> out(16);
        auto check = [&](const T& v) {
            const uint64_t got = value_of(v);
            if (got != expected && first_bad_index == UINT64_MAX) {
                first_bad_index = received;
                first_bad_value = got;
            }
            expected = got + 1;  // resynchronise so one fault is reported once
            ++received;
        };
        while (true) {
            // Read before popping: if the producer was already done and the pop still finds
            // nothing, nothing more can arrive.
            const bool done = producer_done.load(std::memory_order_acquire);
            size_t got = 0;
            const size_t k = 1 + rng() % 16;
            switch (rng() % 4) {
                case 0: {
                    T v{};
                    if (ring.try_pop(v)) {
                        check(v);
                        got = 1;
                    }
                    break;
                }
                case 1: {
                    if (auto v = ring.try_pop()) {
                        check(*v);
                        got = 1;
                    }
                    break;
                }
                case 2: {
                    got = ring.pop_batch(std::span<T>(out).first(k));
                    for (size_t i = 0; i < got; ++i) {
                        check(out[i]);
                    }
                    break;
                }
                default:
                    got = ring.consume([&](T&& v) { check(v); }, k);
                    break;
            }
            if (got == 0 && (done || !wait_a_little())) {
                break;
            }
        }
    });

    producer.join();
    consumer.join();
    ASSERT_FALSE(give_up.load()) << "no completion after 60 s; received " << received;
    EXPECT_EQ(first_bad_index, UINT64_MAX)
        << "item #" << first_bad_index << " had value " << first_bad_value;
    EXPECT_EQ(received, count);
    EXPECT_EQ(expected, count);
    EXPECT_TRUE(ring.empty_approx());
}

TEST(SpscRingStress, TwoThreadsMixedSinglesAndBatches) {
    run_stress<uint64_t>(
        k_stress_items, 64, [](uint64_t i) { return i; }, [](const uint64_t& v) { return v; });
}

TEST(SpscRingStress, TwoThreadsUniquePtrOwnershipTransfer) {
    run_stress<std::unique_ptr<uint64_t>>(
        k_stress_owned_items, 32, [](uint64_t i) { return std::make_unique<uint64_t>(i); },
        [](const std::unique_ptr<uint64_t>& p) { return p ? *p : UINT64_MAX; });
}

}  // namespace
}  // namespace obsrv
