#include "app/allocator.h"

#include <cstdlib>

#include <fmt/format.h>

#if defined(OBSRV_USE_MIMALLOC)
#include <mimalloc.h>
#endif

namespace obsrv::app {

bool mimalloc_active() {
#if defined(OBSRV_USE_MIMALLOC)
    // A block from plain calloc() lies in mimalloc's heap only if mimalloc
    // interposed malloc for the whole process.
    void* probe = std::calloc(1, 64);
    bool ours = mi_is_in_heap_region(probe);
    std::free(probe);
    return ours;
#else
    return false;
#endif
}

std::string allocator_description() {
#if defined(OBSRV_USE_MIMALLOC)
    int v = mi_version();
    if (mimalloc_active()) {
        return fmt::format("mimalloc {}.{}.{}", v / 100, (v / 10) % 10, v % 10);
    }
    return fmt::format("system malloc (mimalloc {}.{}.{} linked but not interposed)", v / 100,
                       (v / 10) % 10, v % 10);
#else
    return "system malloc";
#endif
}

}  // namespace obsrv::app
