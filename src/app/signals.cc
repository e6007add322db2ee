#include "app/signals.h"

#include <cerrno>
#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace obsrv::app {
namespace {

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

signal_waiter::signal_waiter() {
    sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::optional<int> signal_waiter::wait(std::chrono::milliseconds timeout) {
    sigset_t set = handled_signals();
    timespec ts{};
    ts.tv_sec = timeout.count() / 1000;
    ts.tv_nsec = (timeout.count() % 1000) * 1'000'000;
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig < 0) {
        return std::nullopt;  // EAGAIN (timeout) or EINTR
    }
    return sig;
}

}  // namespace obsrv::app
