#pragma once

// Picks the simdjson kernel that validates requests fastest on this CPU.
// simdjson chooses by instruction set, and its AVX-512 ("icelake") kernel is
// not the fastest everywhere: on one AMD EPYC VM this project ran on, parsing
// a 40 KB request took ~34 µs with it and ~27 µs with the AVX2 ("haswell")
// one; on another, stage 1 of the same request (what json_checker runs) took
// 2.4 µs with icelake and 8.7 µs with haswell. Timed once at start-up, before
// any parser is allocated (simdjson parsers bind to the active kernel when
// they allocate).

#include <string>

namespace obsrv::ingress {

/// Times json_checker::check with every kernel this CPU supports, makes the fastest
/// the active one and returns its name. Call before starting threads.
std::string select_fastest_json_kernel();

}  // namespace obsrv::ingress
