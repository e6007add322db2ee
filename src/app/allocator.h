#pragma once

// Which allocator serves malloc in this process. The executables link
// mimalloc first so that it interposes malloc/free for all code, librdkafka
// included; sanitizer builds use the sanitizer's allocator instead.

#include <string>

namespace obsrv::app {

/// True when malloc() is served by mimalloc.
bool mimalloc_active();

/// "mimalloc 2.0.9" or "system malloc".
std::string allocator_description();

}  // namespace obsrv::app
