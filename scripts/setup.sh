#!/usr/bin/env bash
# Installs the Debian 12 packages that the build, the tests and obsrvd need.
# Idempotent and fast when everything is present: apt-get runs only for what
# is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git
  # lld links the test binaries 2-3x faster than ld.bfd (the ASan ones carry full debug info)
  lld
  # libraries
  librdkafka-dev liburing-dev libsimdjson-dev libxxhash-dev libmimalloc-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev libabsl-dev libssl-dev
  # Content-Encoding gzip/deflate request bodies
  libdeflate-dev zlib1g-dev
  # PostgreSQL client (datasets.source=postgres)
  libpq-dev
  # time zone database read by abseil (indexTS dataset_tz)
  tzdata
  # tests and operations: kcat checks the embedded broker from outside,
  # promtool (package prometheus) lints /metrics, clang-format checks style,
  # the dataset registry's tests start a PostgreSQL server (initdb, postgres),
  # tools/bench/pipeline-bench.sh --enrich decrypts a routed field with openssl
  kcat prometheus clang-format curl python3 redis-server postgresql openssl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
