#pragma once

// Picks the simdjson kernel that parses fastest on this CPU. simdjson
// chooses by instruction set, and its AVX-512 ("icelake") kernel is not the
// fastest everywhere: on the AMD EPYC VMs this project runs on, parsing a
// 40 KB request takes ~34 µs with it and ~27 µs with the AVX2 ("haswell")
// one. Timed once at start-up, before any parser is allocated (simdjson
// parsers bind to the active kernel when they allocate).

#include <string>

namespace obsrv::ingress {

/// Times DOM parsing with every kernel this CPU supports, makes the fastest
/// the active one and returns its name. Call before starting threads.
std::string select_fastest_json_kernel();

}  // namespace obsrv::ingress
