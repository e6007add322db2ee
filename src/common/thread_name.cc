#include "common/thread_name.h"

#include <pthread.h>
#include <sys/prctl.h>

namespace obsrv {
namespace {
thread_local std::string t_name;
thread_local bool t_known = false;
}  // namespace

void set_thread_name(std::string_view name) {
    std::string truncated(name.substr(0, 15));
    ::pthread_setname_np(::pthread_self(), truncated.c_str());
    t_name = std::move(truncated);
    t_known = true;
}

const std::string& current_thread_name() {
    if (!t_known) {
        char buf[16] = {};
        ::prctl(PR_GET_NAME, buf, 0, 0, 0);
        t_name = buf;
        t_known = true;
    }
    return t_name;
}

}  // namespace obsrv
