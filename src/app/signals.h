#pragma once

// Signal handling without async-signal-unsafe handlers: the main thread blocks
// SIGINT, SIGTERM and SIGHUP before any other thread exists (threads inherit
// the mask, so librdkafka's threads never see them) and waits for them here.

#include <chrono>
#include <optional>

namespace obsrv::app {

class signal_waiter {
  public:
    /// Blocks the signals in the calling thread; call before starting threads.
    signal_waiter();

    /// The next signal, or nullopt after `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout);
};

}  // namespace obsrv::app
