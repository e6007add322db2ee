#pragma once

// Where the tests find the source tree and the built binaries, plus small
// helpers for integration tests: temp dirs, free ports, polling.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace obsrv::testing {

/// The repository root (OBSRV_SOURCE_DIR, set by CTest).
std::string source_dir();
/// The build tree (OBSRV_BINARY_DIR, set by CTest).
std::string binary_dir();
/// Path of a built executable: binary_dir()/src/app/<name>.
std::string app_binary(const std::string& name);

/// A fresh directory under $TMPDIR (not removed: CTest output may point into it).
std::string make_temp_dir(const std::string& prefix);

/// A loopback TCP port that was free a moment ago.
uint16_t free_port();

/// Polls `condition` every 20 ms until true or the timeout passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

/// Whole-file read; empty when missing.
std::string read_file(const std::string& path);

/// Whether an executable is on PATH.
bool have_program(const std::string& name);

/// Stretches timeouts under sanitizers, like librdkafka's tmout_multip().
std::chrono::milliseconds scaled(std::chrono::milliseconds timeout);

}  // namespace obsrv::testing
