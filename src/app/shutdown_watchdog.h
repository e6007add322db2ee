#pragma once

// Bounds obsrvd's stop sequence: while it lives, a thread ends the process if
// the stop outlasts `limit` (exit status 3) or a second SIGINT/SIGTERM
// arrives (exit status 128+signal), so an operator never waits on a stuck
// flush. Destroying it (stop finished) disarms it.

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "app/signals.h"

namespace obsrv::app {

class shutdown_watchdog {
  public:
    static constexpr int k_exit_timeout = 3;
    /// Ends the process; tests pass a recorder instead.
    using exit_function = std::function<void(int status)>;

    shutdown_watchdog(signal_waiter& signals, std::chrono::milliseconds limit,
                      exit_function exit = default_exit);
    ~shutdown_watchdog();

    shutdown_watchdog(const shutdown_watchdog&) = delete;
    shutdown_watchdog& operator=(const shutdown_watchdog&) = delete;

    /// Flushes the logs and calls _exit(status).
    static void default_exit(int status);

  private:
    std::atomic<bool> _done{false};
    std::thread _thread;
};

}  // namespace obsrv::app
