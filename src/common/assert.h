#pragma once

// Invariant checks. Client input must never reach these: bad input is an error
// value, a broken invariant is a bug.
//   OBSRV_ASSERT(cond, fmt...)          debug builds only
//   OBSRV_RELEASE_ASSERT(cond, fmt...)  always; logs with a backtrace and traps

#include <fmt/format.h>

namespace obsrv::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line,
                                const std::string& msg);
}

#define OBSRV_RELEASE_ASSERT(cond, ...)                                    \
    do {                                                                   \
        if (__builtin_expect(!(cond), 0)) {                                \
            ::obsrv::detail::assert_failed(#cond, __FILE__, __LINE__,      \
                                           ::fmt::format("" __VA_ARGS__)); \
        }                                                                  \
    } while (0)

#ifdef NDEBUG
#define OBSRV_ASSERT(cond, ...) \
    do {                        \
        (void)sizeof(cond);     \
    } while (0)
#else
#define OBSRV_ASSERT(cond, ...) OBSRV_RELEASE_ASSERT(cond, __VA_ARGS__)
#endif
