#pragma once

// The dataset source obsrvd's configuration asks for (datasets.source): the directory or
// Obsrv's PostgreSQL tables, with the settings each one takes.

#include <memory>

#include "common/result.h"
#include "common/settings.h"
#include "dataset/source.h"

namespace obsrv::app {

/// Fails, naming the key, when a setting cannot be used (an unreadable password file).
result<std::unique_ptr<dataset::source>> make_dataset_source(const datasets_settings& config);

}  // namespace obsrv::app
