#!/usr/bin/env bash
# End-to-end gateway benchmark on the embedded broker, in one run:
#   1. the gateway at full load (obsrv-loadgen, closed loop),
#   2. the raw librdkafka producer replaying the very Kafka messages the
#      gateway wrote, with the same producer settings and instance count
#      (the limit), on the same broker,
#   3. the gateway at half its measured maximum (open loop) for latency,
#   4. optionally the nginx + lua-resty-kafka peer on the same broker and load
#      (tools/bench/nginx-peer.sh, --peer),
#   5. optionally the gateway while Kafka is unreachable (RSS).
# Prints a table with the ratio gateway / raw and each side's CPU time per event by thread
# (tools/bench/thread-cpu.py), and writes JSON.
#
# usage: tools/bench/gateway-bench.sh [--duration S] [--pairs N] [--connections N] [--workers N]
#          [--pin server|none] [--events N] [--event-size B] [--gzip] [--peer] [--broker-down]
#          [--out FILE]
#   --pairs N     run steps 1 and 2 N times in turn (gateway, raw, gateway, raw, ...) and
#                 report the median of the N per-pair ratios: this VM's speed drifts over
#                 seconds, and a pair measured back to back shares most of the drift
#   --pin server  obsrvd (gateway + embedded broker) and the raw producer on CPU 1,
#                 the load generator on CPU 0 (default; the issue's setting)
#   --pin none    only the load generator is pinned (CPU 0); the server and the raw
#                 producer may use both cores
#   --gzip        the load generator sends its bodies gzip-compressed (Content-Encoding: gzip);
#                 the raw producer replays the decoded messages as always, so the ratio shows
#                 what decoding costs
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10
pairs=1
connections=64
workers=1
pin=server
events=100
event_size=400
broker_down=0
peer=0
gzip=()
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --event-size) event_size=$2; shift 2 ;;
    --broker-down) broker_down=1; shift ;;
    --peer) peer=1; shift ;;
    --gzip) gzip=(--gzip); shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "gateway-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$pin" == server || "$pin" == none ]] || { echo "gateway-bench: --pin server|none" >&2; exit 2; }
if [[ ${#gzip[@]} -gt 0 && $peer -eq 1 ]]; then
  echo "gateway-bench: --gzip with --peer would load the peer with plain bodies" >&2
  exit 2
fi
if [[ $(nproc) -lt 2 ]]; then
  echo "gateway-bench: needs 2 CPUs (load generator and server on different cores)" >&2
  exit 2
fi

scripts/build.sh release >/dev/null
bin=build/release
work=$(mktemp -d /tmp/gateway-bench.XXXXXX)
server_cpu=()
[[ "$pin" == server ]] && server_cpu=(taskset -c 1)
admin_port=19380
gateway_port=13380
obsrvd_pid=""
cleanup() {
  [[ -n "$obsrvd_pid" ]] && kill -TERM "$obsrvd_pid" 2>/dev/null && wait "$obsrvd_pid" 2>/dev/null
  true
}
trap cleanup EXIT

start_obsrvd() {  # extra --set arguments
  "${server_cpu[@]}" "$bin/src/app/obsrvd" --config config/obsrvd.yaml --roles gateway \
    --set admin.port=$admin_port --set gateway.port=$gateway_port \
    --set gateway.workers="$workers" --set kafka.embedded.bootstrap_file="$work/bootstrap" \
    --set log.level=warn "$@" >"$work/obsrvd.log" 2>&1 &
  obsrvd_pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$gateway_port/health" >/dev/null && return 0
    sleep 0.2
  done
  echo "gateway-bench: obsrvd did not start; log:" >&2
  cat "$work/obsrvd.log" >&2
  exit 1
}
stop_obsrvd() {
  kill -TERM "$obsrvd_pid"
  wait "$obsrvd_pid" || true
  obsrvd_pid=""
}

loadgen_base=("$bin/tools/loadgen/obsrv-loadgen" --url "http://127.0.0.1:$gateway_port/v2/data/in/telemetry"
  --events-per-request "$events" --event-size "$event_size" --cpu 0 --quiet ${gzip[@]+"${gzip[@]}"})
loadgen=("${loadgen_base[@]}" -c "$connections")

gw_span=$(awk -v d="$duration" 'BEGIN { print d * 0.8 }')
raw_lead=$(awk -v d="$duration" 'BEGIN { print d * 0.25 }')
raw_span=$(awk -v d="$duration" 'BEGIN { print d * 0.5 }')
for pair in $(seq 1 "$pairs"); do
  echo "== gateway at full load ($duration s, $connections connections, $workers worker(s), pin=$pin, pair $pair/$pairs)" >&2
  [[ -n "$obsrvd_pid" ]] || start_obsrvd
  # CPU per thread inside the measured window (after the 2-s warm-up; 80% of it, so the
  # sampler's own start-up cannot push the second snapshot past the load).
  tools/bench/thread-cpu.py window 2 "$gw_span" "$work/cpu.gw.a.$pair" "$work/cpu.gw.b.$pair" \
    "$obsrvd_pid" &
  sampler=$!
  "${loadgen[@]}" -d "${duration}s" --warmup 2s --json "$work/full.$pair.json" >/dev/null
  wait "$sampler"

  if [[ $pair -eq 1 ]]; then
    # The exact messages the gateway produced, for the raw producer to replay.
    kcat -C -b "$(cat "$work/bootstrap")" -t ingest -p 0 -o -300 -c 256 -e -q >"$work/messages.ndjson"
  fi

  echo "== raw librdkafka producer replaying those messages (pair $pair/$pairs)" >&2
  "${server_cpu[@]}" "$bin/tools/raw_producer/obsrv-raw-producer" -b "$(cat "$work/bootstrap")" \
    -m "$work/messages.ndjson" -d "$duration" -p "$workers" -e "$events" -c config/obsrvd.yaml \
    --json "$work/raw.$pair.json" >/dev/null &
  raw_pid=$!
  # The raw producer's threads and obsrvd's (the embedded broker), from a quarter into its run
  # to three quarters of it (plus the sampler's start-up, ~0.3 s under pyenv), so both
  # snapshots fall inside the run whatever --duration is; a window that misses the producer
  # prints no CPU line rather than a wrong one.
  tools/bench/thread-cpu.py window "$raw_lead" "$raw_span" "$work/cpu.raw.a.$pair" \
    "$work/cpu.raw.b.$pair" "$raw_pid" "$obsrvd_pid" &
  sampler=$!
  wait "$sampler"
  wait "$raw_pid"
  for side in gw raw; do
    eps=$(python3 -c "import json;print(json.load(open('$work/$([[ $side == gw ]] && echo full || echo raw).$pair.json'))['events_per_second'])")
    tools/bench/thread-cpu.py per-event "$work/cpu.$side.a.$pair" "$work/cpu.$side.b.$pair" "$eps" \
      >"$work/cpu.$side.$pair.json"
  done
done
# The pair with the median ratio stands for the run (its gateway figures drive the half load).
python3 - "$work" "$pairs" <<'PY'
import json, shutil, sys
work, pairs = sys.argv[1], int(sys.argv[2])
ratios = []
for k in range(1, pairs + 1):
    g = json.load(open(f"{work}/full.{k}.json"))["events_per_second"]
    r = json.load(open(f"{work}/raw.{k}.json"))["events_per_second"]
    ratios.append((g / r if r else 0.0, k))
ratios.sort()
median = ratios[len(ratios) // 2][1]
shutil.copy(f"{work}/full.{median}.json", f"{work}/full.json")
shutil.copy(f"{work}/raw.{median}.json", f"{work}/raw.json")
for side in ("gw", "raw"):
    shutil.copy(f"{work}/cpu.{side}.{median}.json", f"{work}/cpu.{side}.json")
json.dump([r for r, _ in sorted(ratios, key=lambda x: x[1])], open(f"{work}/pair_ratios.json", "w"))
PY

half_rate=$(python3 -c "import json;print(max(1,int(json.load(open('$work/full.json'))['requests_per_second']/2)))")
echo "== gateway at half load ($half_rate req/s, open loop)" >&2
"${loadgen[@]}" -d "${duration}s" --warmup 2s --rate "$half_rate" --json "$work/half.json" >/dev/null

if [[ $peer -eq 1 ]]; then
  echo "== nginx + lua-resty-kafka peer, same broker and load (ack after the broker, like persisted)" >&2
  tools/bench/nginx-peer.sh --bootstrap "$(cat "$work/bootstrap")" --duration "$duration" \
    --connections "$connections" --workers "$workers" --pin "$pin" --mode sync \
    --out "$work/peer.json" >"$work/peer.log" 2>&1 || { cat "$work/peer.log" >&2; exit 1; }
fi
stop_obsrvd

if [[ $broker_down -eq 1 ]]; then
  echo "== gateway with Kafka unreachable (RSS)" >&2
  # Requests are held (not rejected up front) until gateway.max_inflight_bytes, so memory
  # is what that bound keeps it at: 128 connections x 32 pipelined x 40 KB ask for 160 MB.
  start_obsrvd --set kafka.brokers=127.0.0.1:1 --set kafka.topics.create_on_start=false \
    --set gateway.reject_when_brokers_down=false --set kafka.producer.message.timeout.ms=10000
  "${loadgen_base[@]}" -c 128 --pipeline 32 -d 20s --timeout 60s --json "$work/down.json" \
    >/dev/null 2>&1 &
  lg=$!
  max_rss=0
  while kill -0 "$lg" 2>/dev/null; do
    rss=$(awk '/VmRSS/{print $2}' "/proc/$obsrvd_pid/status")
    [[ $rss -gt $max_rss ]] && max_rss=$rss
    sleep 0.5
  done
  echo "$max_rss" >"$work/down_rss_kb"
  stop_obsrvd
fi

python3 - "$work" "$pin" "$workers" "$out" "${#gzip[@]}" <<'PY'
import json, os, sys, subprocess
work, pin, workers, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
gzip = sys.argv[5] != "0"
full = json.load(open(f"{work}/full.json"))
raw = json.load(open(f"{work}/raw.json"))
half = json.load(open(f"{work}/half.json"))
gw_eps, raw_eps = full["events_per_second"], raw["events_per_second"]
result = {
    "machine": {"nproc": os.cpu_count(), "pin": pin, "gateway_workers": workers},
    "content_encoding": "gzip" if gzip else "identity",
    "commit": subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True).stdout.strip(),
    "gateway": {"events_per_second": gw_eps, "requests_per_second": full["requests_per_second"],
                "megabytes_per_second": full["megabytes_per_second"],
                "latency_ms": full["latency_ms"], "status_counts": full["status_counts"]},
    "raw_producer": raw,
    "ratio_events": gw_eps / raw_eps if raw_eps else None,
    "pair_ratios": json.load(open(f"{work}/pair_ratios.json")),
    # CPU nanoseconds per event by thread name (the median pair), from schedstat
    "cpu_ns_per_event": {"gateway": json.load(open(f"{work}/cpu.gw.json")),
                         "raw_producer": json.load(open(f"{work}/cpu.raw.json"))},
    "half_load": {"requests_per_second": half["requests_per_second"],
                  "latency_ms": half["latency_ms"]},
}
if os.path.exists(f"{work}/peer.json"):
    peer = json.load(open(f"{work}/peer.json"))
    result["peer"] = peer
    result["ratio_gateway_to_peer"] = gw_eps / peer["events_per_second"]
if os.path.exists(f"{work}/down_rss_kb"):
    down = json.load(open(f"{work}/down.json"))
    result["kafka_down"] = {"max_rss_mb": int(open(f"{work}/down_rss_kb").read()) / 1024,
                            "status_counts": down["status_counts"]}
print(f"{'figure':<38}{'value':>16}")
print(f"{'gateway events/s':<38}{gw_eps:>16,.0f}")
print(f"{'gateway MB/s (request bytes)':<38}{full['megabytes_per_second']:>16,.1f}"
      + ("  (gzip-compressed bodies)" if gzip else ""))
print(f"{'gateway p50 / p99 ms (full load)':<38}{full['latency_ms']['p50']:>8.2f} / {full['latency_ms']['p99']:.2f}")
print(f"{'raw producer events/s (same messages)':<38}{raw_eps:>16,.0f}")
print(f"{'raw producer MB/s':<38}{raw['megabytes_per_second']:>16,.1f}")
print(f"{'ratio gateway / raw':<38}{result['ratio_events']:>16.2f}")
if len(result["pair_ratios"]) > 1:
    pr = sorted(result["pair_ratios"])
    print(f"{'  median of pairs; all pairs':<38}{' '.join(f'{r:.2f}' for r in pr):>16}")
for side, label in (("gateway", "gateway run"), ("raw_producer", "raw run")):
    cpu = result["cpu_ns_per_event"][side]
    if not cpu:
        print(f"  CPU ns/event, {label}: not measured (a process left the sampling window)")
        continue
    threads = " ".join(f"{k} {v:.0f}" for k, v in cpu.items() if k != "total")
    print(f"  CPU ns/event, {label}: total {cpu['total']:.0f} ({threads})")
if "peer" in result:
    print(f"{'nginx+lua-resty-kafka peer events/s':<38}{result['peer']['events_per_second']:>16,.0f}")
    print(f"{'ratio gateway / peer':<38}{result['ratio_gateway_to_peer']:>16.1f}")
print(f"{'half load req/s':<38}{half['requests_per_second']:>16,.0f}")
print(f"{'half load p50 / p99 / p999 ms':<38}{half['latency_ms']['p50']:>8.2f} / {half['latency_ms']['p99']:.2f} / {half['latency_ms']['p999']:.2f}")
if "kafka_down" in result:
    print(f"{'Kafka down: max RSS MB':<38}{result['kafka_down']['max_rss_mb']:>16,.1f}")
    print(f"{'Kafka down: responses':<38}{json.dumps(result['kafka_down']['status_counts']):>16}")
if out:
    json.dump(result, open(out, "w"), indent=2)
    print(f"results written to {out}")
PY
