#include "app/shutdown_watchdog.h"

#include <atomic>
#include <signal.h>
#include <thread>

#include <gtest/gtest.h>

#include "test_env.h"

namespace obsrv::app {
namespace {

// One waiter for the whole binary, created before any test thread so that the
// signals stay blocked everywhere (as in obsrvd's main).
signal_waiter& waiter() {
    static signal_waiter w;
    return w;
}

TEST(shutdown_watchdog, exits_with_status_3_when_stop_outlasts_the_limit) {
    std::atomic<int> status{-1};
    auto started = std::chrono::steady_clock::now();
    {
        shutdown_watchdog watchdog(waiter(), std::chrono::milliseconds(150),
                                   [&](int s) { status = s; });
        ASSERT_TRUE(
            testing::wait_until([&] { return status.load() != -1; }, std::chrono::seconds(5)));
    }
    EXPECT_EQ(status.load(), shutdown_watchdog::k_exit_timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
}

TEST(shutdown_watchdog, second_signal_exits_at_once) {
    std::atomic<int> status{-1};
    {
        shutdown_watchdog watchdog(waiter(), std::chrono::seconds(30), [&](int s) { status = s; });
        ::kill(::getpid(), SIGTERM);
        ASSERT_TRUE(
            testing::wait_until([&] { return status.load() != -1; }, std::chrono::seconds(5)));
    }
    EXPECT_EQ(status.load(), 128 + SIGTERM);
}

TEST(shutdown_watchdog, disarmed_when_stop_finishes_in_time) {
    std::atomic<int> status{-1};
    {
        shutdown_watchdog watchdog(waiter(), std::chrono::milliseconds(300),
                                   [&](int s) { status = s; });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(status.load(), -1);
}

}  // namespace
}  // namespace obsrv::app

int main(int argc, char** argv) {
    obsrv::app::waiter();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
