#include "common/assert.h"

#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <unistd.h>

namespace obsrv::detail {

void assert_failed(const char* expr, const char* file, int line, const std::string& msg) {
    // stderr directly: the logger may be the thing that is broken.
    std::fprintf(stderr, "assertion failed: %s at %s:%d%s%s\n", expr, file, line,
                 msg.empty() ? "" : ": ", msg.c_str());
    void* frames[64];
    int n = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
    std::fflush(stderr);
    __builtin_trap();
}

}  // namespace obsrv::detail
