#include "app/shutdown_watchdog.h"

#include <signal.h>
#include <unistd.h>

#include "common/log.h"
#include "common/thread_name.h"

namespace obsrv::app {

void shutdown_watchdog::default_exit(int status) {
    log::flush();
    ::_exit(status);
}

shutdown_watchdog::shutdown_watchdog(signal_waiter& signals, std::chrono::milliseconds limit,
                                     exit_function exit)
    : _thread([this, &signals, limit, exit = std::move(exit)] {
          set_thread_name("shutdown-wd");
          auto logger = log::get("obsrvd");
          auto deadline = std::chrono::steady_clock::now() + limit;
          while (!_done.load()) {
              if (std::chrono::steady_clock::now() >= deadline) {
                  logger->error("shutdown took longer than {} ms (shutdown.timeout_ms); exiting",
                                limit.count());
                  exit(k_exit_timeout);
                  return;
              }
              auto sig = signals.wait(std::chrono::milliseconds(50));
              if (sig && (*sig == SIGINT || *sig == SIGTERM)) {
                  logger->warn("second signal ({}) during shutdown; exiting now", strsignal(*sig));
                  exit(128 + *sig);
                  return;
              }
          }
      }) {}

shutdown_watchdog::~shutdown_watchdog() {
    _done = true;
    _thread.join();
}

}  // namespace obsrv::app
