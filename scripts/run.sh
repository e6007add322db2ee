#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds Release and
# runs obsrvd with every built role and the embedded Kafka.
# Extra arguments go to obsrvd (e.g. --set admin.port=9181).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
exec build/release/src/app/obsrvd --config config/obsrvd.yaml --roles all "$@"
