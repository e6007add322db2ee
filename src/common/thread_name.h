#pragma once

// Names threads so that `top -H`, perf and flame graphs show who is who
// (`io-0`, `rdk-main`, `pipe-3`, `admin`). Linux limits names to 15 bytes.

#include <string>
#include <string_view>

namespace obsrv {

/// Names the calling thread; longer names are truncated to 15 bytes.
void set_thread_name(std::string_view name);

/// The calling thread's name, cached after the first call.
const std::string& current_thread_name();

}  // namespace obsrv
