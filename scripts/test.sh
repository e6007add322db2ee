#!/usr/bin/env bash
# The tests in one command: installs what is missing, checks formatting,
# then builds and runs the whole suite twice: Release (the shipped binary,
# mimalloc) and Debug with AddressSanitizer + UndefinedBehaviorSanitizer.
#   --quick   Release only
#   --tsan    also a ThreadSanitizer build and run
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
tsan=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --tsan) tsan=1 ;;
    *) echo "test: unknown option '$arg' (--quick, --tsan)" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
scripts/check-format.sh

jobs=$(nproc)
run_suite() {
  local variant=$1
  shift
  echo "== $variant: build ($SECONDS s so far)" >&2
  scripts/build.sh "$variant" "$@"
  echo "== $variant: test ($SECONDS s so far)" >&2
  ctest --test-dir "build/$variant" --output-on-failure -j "$jobs"
}

run_suite release
if [[ $quick -eq 0 ]]; then
  # The benchmarks are built (and so checked) by the Release suite; no test runs them.
  run_suite asan -DOBSRV_BUILD_PERF=OFF
fi
if [[ $tsan -eq 1 ]]; then
  run_suite tsan -DOBSRV_BUILD_PERF=OFF
fi
echo "== all tests passed in $SECONDS s" >&2
