#!/usr/bin/env bash
# Configures and builds one variant into build/<variant>:
#   release   Release, mimalloc (default)
#   asan      Debug with AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan      Debug with ThreadSanitizer
#   profile   RelWithDebInfo with frame pointers (perf, flame graphs)
# Extra arguments go to cmake (e.g. -DOBSRV_BUILD_PERF=OFF). OBSRV_BUILD_TARGETS="a b" builds
# only those targets (e.g. obsrvd for a profile) instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."

variant=${1:-release}
shift || true
case "$variant" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  # -g1: function names and line tables, all a sanitizer report needs; full -g makes the
  # compile and link of the ASan suite markedly slower.
  asan)    args=(-DCMAKE_BUILD_TYPE=Debug -DOBSRV_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1
                 -DCMAKE_C_FLAGS_DEBUG=-g1) ;;
  tsan)    args=(-DCMAKE_BUILD_TYPE=Debug -DOBSRV_TSAN=ON) ;;
  profile) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBSRV_FRAME_POINTERS=ON) ;;
  *) echo "build: unknown variant '$variant' (release|asan|tsan|profile)" >&2; exit 2 ;;
esac

cmake -S . -B "build/$variant" -G Ninja "${args[@]}" "$@" >/dev/null
targets=()
for t in ${OBSRV_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "build/$variant" "${targets[@]}"
