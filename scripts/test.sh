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
build() {
  local variant=$1
  shift
  echo "== $variant: build ($SECONDS s so far)" >&2
  scripts/build.sh "$variant" "$@"
}
run_tests() {
  echo "== $1: test ($SECONDS s so far)" >&2
  ctest --test-dir "build/$1" --output-on-failure -j "$jobs"
}

build release
if [[ $quick -eq 1 ]]; then
  run_tests release
else
  # The Release tests mostly wait on sockets and brokers: the ASan build runs meanwhile at the
  # lowest CPU priority, so that it takes only the time they leave idle and does not slow them.
  # The benchmarks are built (and so checked) by the Release suite; no test runs them.
  asan_log=build/asan-build.log
  mkdir -p build
  nice -n 19 scripts/build.sh asan -DOBSRV_BUILD_PERF=OFF >"$asan_log" 2>&1 &
  asan_build=$!
  release_status=0
  run_tests release || release_status=$?
  echo "== asan: build, started with the release tests ($SECONDS s so far)" >&2
  asan_status=0
  wait "$asan_build" || asan_status=$?
  if [[ $asan_status -ne 0 ]]; then
    cat "$asan_log" >&2
    echo "== asan: build failed" >&2
    exit "$asan_status"
  fi
  [[ $release_status -eq 0 ]] || exit "$release_status"
  run_tests asan
fi
if [[ $tsan -eq 1 ]]; then
  build tsan -DOBSRV_BUILD_PERF=OFF
  run_tests tsan
fi
echo "== all tests passed in $SECONDS s" >&2
