#!/usr/bin/env bash
# Peer benchmark: nginx + lua-resty-kafka doing the gateway's work (parse the Obsrv v2 ingest
# body, validate it, build the Obsrv Kafka message, produce it to topic "ingest", answer in
# Obsrv's format) on the same embedded broker and with the same load generator as
# tools/bench/gateway-bench.sh, so the figures compare.
#   --mode sync   answer after the broker acknowledged the Produce request (required_acks -1),
#                 comparable to the gateway's gateway.ack=persisted (its default)
#   --mode async  answer once the message is in lua-resty-kafka's ring buffer, flushed in
#                 batches by a timer; comparable to gateway.ack=enqueued
# Everything comes from Debian 12 packages: nginx, libnginx-mod-http-lua, lua-nginx-kafka
# (lua-resty-kafka 0.07), lua-cjson; the handler is tools/bench/peer/ingest.lua. Messages are
# sent uncompressed (0.07 has no snappy; the gateway sends snappy). 0.07 only writes the old
# MessageSet formats, which the embedded broker (librdkafka's mock cluster) refuses with any
# api_version; tools/bench/peer/kafka_recordbatch.lua makes it write record batches (Produce
# v3) instead, see there.
#
# Steps: install the packages if missing, start obsrvd for its embedded broker (unless
# --bootstrap), start nginx, check one request end to end (200 and the message in Kafka),
# run obsrv-loadgen, check the messages in Kafka against the 200s, print a table, write JSON.
#
# usage: tools/bench/nginx-peer.sh [--duration S] [--connections N] [--workers N]
#          [--mode sync|async] [--pin server|none] [--bootstrap HOST:PORT] [--port N]
#          [--flush-ms N] [--out FILE]
#   --workers N   nginx worker processes (1 = one core, like the gateway's gateway.workers=1)
#   --pin server  nginx and obsrvd (embedded broker) on CPU 1, the load generator on CPU 0
#                 (default, as gateway-bench.sh)
#   --pin none    only the load generator is pinned (CPU 0)
#   --bootstrap   use this already running broker (topic "ingest" must exist) instead of
#                 starting obsrvd
#   --port        nginx's port (13392)
#   --flush-ms    async: lua-resty-kafka's flush_time (10, like the gateway's linger.ms=10;
#                 0.07's default of 1000 ms drains a backlog of fewer than batch_num=200
#                 messages at about one 1 MB batch per partition per second)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10
connections=64
workers=1
mode=sync
pin=server
bootstrap=""
port=13392
flush_ms=10
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --flush-ms) flush_ms=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "nginx-peer: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$mode" == sync || "$mode" == async ]] || { echo "nginx-peer: --mode sync|async" >&2; exit 2; }
[[ "$pin" == server || "$pin" == none ]] || { echo "nginx-peer: --pin server|none" >&2; exit 2; }
if [[ $(nproc) -lt 2 ]]; then
  echo "nginx-peer: needs 2 CPUs (load generator and server on different cores)" >&2
  exit 2
fi

# ---- packages (apt-get only when one is missing; apt-get update only if that fails) ----------
packages=(nginx libnginx-mod-http-lua lua-nginx-kafka lua-cjson)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "== installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y "${missing[@]}" >&2; then
    apt-get update >&2
    apt-get install -y "${missing[@]}" >&2
  fi
fi
module_dir=/usr/lib/nginx/modules
for m in ndk_http_module.so ngx_http_lua_module.so; do
  [[ -f "$module_dir/$m" ]] || { echo "nginx-peer: $module_dir/$m missing" >&2; exit 1; }
done
dpkg -L lua-nginx-kafka | grep -q '/usr/share/lua/5.1/nginx/kafka/producer.lua$' ||
  { echo "nginx-peer: lua-nginx-kafka does not provide nginx/kafka/producer.lua" >&2; exit 1; }

bin=build/release
if [[ ! -x $bin/tools/loadgen/obsrv-loadgen || ( -z "$bootstrap" && ! -x $bin/src/app/obsrvd ) ]]
then
  scripts/build.sh release >/dev/null
fi

work=$(mktemp -d /tmp/nginx-peer.XXXXXX)
chmod 755 "$work"   # nginx workers run as nobody: they read the Lua files copied here
server_cpu=()
[[ "$pin" == server ]] && server_cpu=(taskset -c 1)
admin_port=19391
gateway_port=13391
obsrvd_pid=""
nginx_pid=""
sampler_pid=""
loadgen_pid=""
stop_pid() {  # pid signal: signal it, wait up to 10 s, then SIGKILL
  local pid=$1 sig=$2
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  [[ -n "$loadgen_pid" ]] && stop_pid "$loadgen_pid" TERM
  [[ -n "$sampler_pid" ]] && stop_pid "$sampler_pid" TERM
  [[ -n "$nginx_pid" ]] && stop_pid "$nginx_pid" QUIT   # graceful: async buffers flush
  [[ -n "$obsrvd_pid" ]] && stop_pid "$obsrvd_pid" TERM
  true
}
trap cleanup EXIT

# ---- broker ----------------------------------------------------------------------------------
if [[ -z "$bootstrap" ]]; then
  echo "== obsrvd embedded broker (pin=$pin)" >&2
  "${server_cpu[@]}" "$bin/src/app/obsrvd" --config config/obsrvd.yaml --roles gateway \
    --set admin.port=$admin_port --set gateway.port=$gateway_port \
    --set kafka.embedded.bootstrap_file="$work/bootstrap" \
    --set log.level=warn >"$work/obsrvd.log" 2>&1 &
  obsrvd_pid=$!
  for _ in $(seq 1 100); do
    if [[ -s "$work/bootstrap" ]] && curl -sf "http://127.0.0.1:$gateway_port/health" >/dev/null
    then
      break
    fi
    kill -0 "$obsrvd_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [[ ! -s "$work/bootstrap" ]]; then
    echo "nginx-peer: obsrvd did not start; log:" >&2
    cat "$work/obsrvd.log" >&2
    exit 1
  fi
  bootstrap=$(cat "$work/bootstrap")
fi
partitions=$(kcat -L -b "$bootstrap" -t ingest -m 10 2>/dev/null | grep -c '^ *partition ' || true)
if [[ "$partitions" -lt 1 ]]; then
  echo "nginx-peer: topic ingest not found on $bootstrap" >&2
  exit 1
fi

# Sum of the high watermarks of topic ingest (messages ever appended).
kafka_end_offsets() {
  local args=()
  for ((p = 0; p < partitions; p++)); do args+=(-t "ingest:$p:-1"); done
  kcat -Q -b "$bootstrap" "${args[@]}" | awk '/offset/{s += $NF} END {print s + 0}'
}

# ---- nginx -----------------------------------------------------------------------------------
mkdir -p "$work/lua"
cp tools/bench/peer/ingest.lua tools/bench/peer/kafka_recordbatch.lua "$work/lua/"
chmod 644 "$work/lua/"*.lua
sed -e "s#@PREFIX@#$work#g" \
    -e "s#@NDK_MODULE@#$module_dir/ndk_http_module.so#" \
    -e "s#@LUA_MODULE@#$module_dir/ngx_http_lua_module.so#" \
    -e "s#@WORKERS@#$workers#" \
    -e "s#@PEER_DIR@#$work/lua#" \
    -e "s#@BROKERS@#$bootstrap#" \
    -e "s#@MODE@#$mode#" \
    -e "s#@TOPIC@#ingest#" \
    -e "s#@KEEPALIVE_SIZE@#$((connections + 16))#" \
    -e "s#@PORT@#$port#" \
    -e "s#@FLUSH_MS@#$flush_ms#" \
    tools/bench/peer/nginx.conf.template >"$work/nginx.conf"
nginx -t -q -p "$work" -c "$work/nginx.conf" -e "$work/error.log"
echo "== nginx ($workers worker(s), mode=$mode, port $port, broker $bootstrap)" >&2
"${server_cpu[@]}" nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" \
  -g 'daemon off;' >"$work/nginx.out" 2>&1 &
nginx_pid=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "http://127.0.0.1:$port/health" >/dev/null; then
  echo "nginx-peer: nginx did not start; log:" >&2
  cat "$work/nginx.out" "$work/error.log" >&2
  exit 1
fi

# ---- one request end to end ------------------------------------------------------------------
url="http://127.0.0.1:$port/v2/data/in/telemetry"
check_msgid="nginx-peer-check-$$-$RANDOM"
cat >"$work/check.json" <<EOF
{"id":"api.data.in","ver":"v2","ts":"2025-06-03T10:00:00Z","params":{"msgid":"$check_msgid"},
 "data":[{"eid":"INTERACT","ets":1748944800123,"mid":"$check_msgid-0","edata":{"duration":1.5}},
         {"eid":"IMPRESSION","ets":1748944800124,"mid":"$check_msgid-1"}]}
EOF
code=$(curl -s -o "$work/check.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$work/check.json" "$url")
if [[ "$code" != 200 ]] || ! grep -q '"status":"SUCCESS"' "$work/check.out"; then
  echo "nginx-peer: check request answered $code: $(cat "$work/check.out")" >&2
  tail -20 "$work/error.log" >&2
  exit 1
fi
found=""
for _ in $(seq 1 30); do   # async: the flush timer runs every second
  # check.crcs: the record batches' CRC-32C must be right (kafka_recordbatch.lua)
  if { kcat -C -b "$bootstrap" -t ingest -o -1 -e -q -X check.crcs=true 2>"$work/kcat.err" ||
      true; } | grep -F "\"msgid\":\"$check_msgid\"" >"$work/check.kafka"; then
    found=1
    break
  fi
  sleep 0.2
done
if [[ -z "$found" ]]; then
  echo "nginx-peer: the check message is not in topic ingest; kcat said:" >&2
  cat "$work/kcat.err" >&2
  exit 1
fi
python3 - "$work/check.kafka" "$check_msgid" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
msgid = sys.argv[2]
assert m["dataset"] == "telemetry" and m["msgid"] == msgid and m["id"] == msgid, m
assert len(m["events"]) == 2 and m["events"][0]["mid"] == msgid + "-0", m
assert m["obsrv_meta"]["source"] == {"connector": "api", "connectorInstance": "api"}, m
assert isinstance(m["obsrv_meta"]["syncts"], int), m
PY
code=$(curl -s -o "$work/bad.out" -w '%{http_code}' --data-binary '{"id":' "$url")
if [[ "$code" != 400 ]] || ! grep -q 'DATA_INGESTION_INVALID_INPUT' "$work/bad.out"; then
  echo "nginx-peer: invalid JSON answered $code: $(cat "$work/bad.out")" >&2
  exit 1
fi
echo "== end-to-end check passed (200, message in Kafka with a valid CRC, 400 on bad JSON)" >&2

# ---- load ------------------------------------------------------------------------------------
stats() { curl -sf "http://127.0.0.1:$port/peer/stats"; }
stats >"$work/stats_before.json"
kafka_end_offsets >"$work/offsets_before"

nginx_pids() { echo "$nginx_pid"; pgrep -P "$nginx_pid" || true; }
cpu_seconds() {  # pids...: user+system CPU seconds, summed
  local t=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  python3 -c "import os,sys;print(int(sys.argv[1])/os.sysconf('SC_CLK_TCK'))" "$t"
}
# shellcheck disable=SC2046 # one argument per nginx process
nginx_cpu_0=$(cpu_seconds $(nginx_pids))
broker_cpu_0=$(cpu_seconds $obsrvd_pid)
(   # peak RSS of nginx (master + workers), in KB
  max=0
  while true; do
    sum=0
    for p in $(nginx_pids); do
      rss=$(awk '/VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
      sum=$((sum + ${rss:-0}))
    done
    [[ $sum -gt $max ]] && max=$sum && echo "$max" >"$work/max_rss_kb"
    sleep 0.5
  done
) &
sampler_pid=$!

echo "== load ($duration s + 2 s warm-up, $connections connections, pin=$pin)" >&2
# In the background so that an interrupted run stops it too (cleanup).
"$bin/tools/loadgen/obsrv-loadgen" --url "$url" -c "$connections" -d "${duration}s" \
  --warmup 2s --cpu 0 --quiet --json "$work/run.json" >"$work/loadgen.out" 2>&1 &
loadgen_pid=$!
if ! wait "$loadgen_pid"; then
  loadgen_pid=""
  echo "nginx-peer: obsrv-loadgen failed:" >&2
  cat "$work/loadgen.out" >&2
  exit 1
fi
loadgen_pid=""
load_end=$(date +%s.%N)
# shellcheck disable=SC2046 # one argument per nginx process
nginx_cpu_1=$(cpu_seconds $(nginx_pids))
broker_cpu_1=$(cpu_seconds $obsrvd_pid)
stop_pid "$sampler_pid" TERM
sampler_pid=""

# Wait until Kafka holds every message answered 200 (async: the ring buffer drains; requests
# still in flight when the load generator stopped finish too), or nothing moved for 2 s.
# drain: seconds from the end of the load until that was seen (resolution ~0.2 s, the time a
# kcat query takes; 0 when it already held at the first look).
before=$(cat "$work/offsets_before")
accepted_200() {
  stats >"$work/stats_now.json"
  python3 -c "import json,sys;a=json.load(open(sys.argv[1]));b=json.load(open(sys.argv[2]));print(a.get('status_200',0)-b.get('status_200',0))" \
    "$work/stats_now.json" "$work/stats_before.json"
}
last=""
still=0
drain=null
first=1
for _ in $(seq 1 300); do
  accepted=$(accepted_200)
  stored=$(( $(kafka_end_offsets) - before ))
  state="$accepted $stored"
  if [[ $stored -ge $accepted ]]; then
    if [[ $first -eq 1 ]]; then
      drain=0
    else
      drain=$(python3 -c "import time,sys;print(round(time.time()-float(sys.argv[1]),2))" "$load_end")
    fi
    break
  fi
  first=0
  if [[ "$state" == "$last" ]]; then
    still=$((still + 1))
    [[ $still -ge 10 ]] && break
  else
    still=0
  fi
  last=$state
  sleep 0.2
done
sleep 0.5   # late duplicates (retries) would show up here
accepted=$(accepted_200)
stored=$(( $(kafka_end_offsets) - before ))
stats >"$work/stats_final.json"
# shellcheck disable=SC2046 # one argument per nginx process
nginx_cpu_2=$(cpu_seconds $(nginx_pids))
broker_cpu_2=$(cpu_seconds $obsrvd_pid)
echo "$nginx_cpu_0 $nginx_cpu_1 $nginx_cpu_2 $broker_cpu_0 $broker_cpu_1 $broker_cpu_2" >"$work/cpu"
errors=$(grep -c -E '\[(error|crit|alert|emerg)\]' "$work/error.log" || true)

python3 - "$work" "$mode" "$pin" "$workers" "$connections" "$accepted" "$stored" "$drain" \
  "$errors" "$flush_ms" "$out" <<'PY'
import json, os, sys
(work, mode, pin, workers, connections, accepted, stored, drain, errors, flush_ms,
 out) = sys.argv[1:12]
run = json.load(open(f"{work}/run.json"))
final = json.load(open(f"{work}/stats_final.json"))
before = json.load(open(f"{work}/stats_before.json"))
rss = int(open(f"{work}/max_rss_kb").read()) if os.path.exists(f"{work}/max_rss_kb") else 0
c = [float(x) for x in open(f"{work}/cpu").read().split()]
cpu = {"nginx_load": round(c[1] - c[0], 2), "nginx_drain": round(c[2] - c[1], 2)}
if c[3] or c[4]:
    cpu.update({"broker_load": round(c[4] - c[3], 2), "broker_drain": round(c[5] - c[4], 2)})
result = {
    "peer": "nginx+lua-resty-kafka",
    "mode": mode,
    "events_per_second": run["events_per_second"],
    "requests_per_second": run["requests_per_second"],
    "megabytes_per_second": run["megabytes_per_second"],
    "latency_ms": run["latency_ms"],
    "status_counts": run["status_counts"],
    "compression": "none",
    "machine": {"nproc": os.cpu_count(), "pin": pin, "nginx_workers": int(workers),
                "connections": int(connections)},
    "produce": {"api": "Produce v3, record batch v2 (kafka_recordbatch.lua)",
                "required_acks": -1,
                **({"flush_time_ms": int(flush_ms), "batch_num": 200, "batch_size": 1048576,
                    "max_buffering": 50000} if mode == "async" else
                   {"one_produce_request_per_http_request": True})},
    # Whole run (warm-up included): 200s answered vs messages appended to topic ingest.
    "kafka_check": {"accepted_200": int(accepted), "messages_in_kafka": int(stored),
                    "missing": int(accepted) - int(stored),
                    "seconds_to_drain_after_load": json.loads(drain),
                    "kafka_errors": final.get("kafka_errors", 0) - before.get("kafka_errors", 0),
                    "async_lost": final.get("async_lost", 0) - before.get("async_lost", 0)},
    # CPU seconds used during the load (warm-up included) and while Kafka caught up after it;
    # the broker figure is obsrvd's (embedded broker, idle gateway), absent with --bootstrap.
    "cpu_seconds": cpu,
    "nginx_max_rss_mb": round(rss / 1024, 1),
    "nginx_error_log_errors": int(errors),
}
lat = run["latency_ms"]
print(f"{'figure':<40}{'value':>18}")
print(f"{'peer':<40}{'nginx+lua-resty-kafka':>18}")
print(f"{'mode / compression':<40}{mode + ' / none':>18}")
print(f"{'events/s':<40}{run['events_per_second']:>18,.0f}")
print(f"{'requests/s':<40}{run['requests_per_second']:>18,.0f}")
print(f"{'MB/s (request bytes)':<40}{run['megabytes_per_second']:>18,.1f}")
print(f"{'p50 / p99 / p999 ms':<40}{lat['p50']:>8.2f} / {lat['p99']:.2f} / {lat['p999']:.2f}")
print(f"{'responses by status':<40}{json.dumps(run['status_counts']):>18}")
kc = result["kafka_check"]
print(f"{'200s / messages in Kafka (whole run)':<40}{kc['accepted_200']:>9,} / {kc['messages_in_kafka']:,}")
d = kc['seconds_to_drain_after_load']
print(f"{'s until Kafka had them after the load':<40}{'never' if d is None else f'{d:.2f}':>18}")
b = cpu.get('broker_load')
print(f"{'CPU s nginx / broker during load':<40}{cpu['nginx_load']:>9.1f} / {'n/a' if b is None else f'{b:.1f}'}")
print(f"{'nginx peak RSS MB':<40}{result['nginx_max_rss_mb']:>18,.1f}")
print(f"{'nginx error log errors':<40}{errors:>18}")
if out:
    json.dump(result, open(out, "w"), indent=2)
    print(f"results written to {out}")
PY
echo "(work files: $work)" >&2
