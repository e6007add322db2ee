#!/usr/bin/env bash
# End-to-end pipeline benchmark on the embedded broker, in one run:
#   1. a broker host: obsrvd --roles gateway (embedded Kafka + the gateway, on CPU 0),
#   2. preload: obsrv-loadgen posts N requests of E events (~B bytes each) to the gateway, which
#      writes N Obsrv messages to `ingest`; the script checks all N are still there,
#   3. the pipeline: obsrvd --roles pipeline against that broker (one worker, on CPU 1), from
#      its first consumed message until every output is delivered and the group's offsets are
#      committed at the end of `ingest` (read from its /metrics every 20 ms),
#   4. the reference: obsrv-raw-pipe (on CPU 1) consumes the same messages and produces the
#      same number and sizes of outputs to the same topics with the same producer settings,
#      committing the same way, with no processing,
# steps 3 and 4 repeated --runs times (each pipeline run on a fresh consumer group and dedup
# window). Prints events/s and outputs/s of both and the ratio pipeline / raw; writes JSON.
#
# The embedded broker keeps about 5 MB (compressed) per partition: `ingest` gets --partitions
# partitions so that the N messages fit (checked: the run stops if any was dropped). Output
# topics overflow and drop their oldest messages; that costs the broker the same in both runs
# and does not affect delivery.
#
# usage: tools/bench/pipeline-bench.sh [--messages N] [--events E] [--event-size B]
#          [--duplicate-share S] [--partitions P] [--runs R] [--commit-interval-ms MS]
#          [--pin split|none] [--out FILE]
#   --pin split  broker host and load generator on CPU 0, the pipeline and the reference on
#                CPU 1 (default)
#   --pin none   nothing pinned
set -euo pipefail
cd "$(dirname "$0")/../.."

messages=2000
events=100
event_size=400
duplicate_share=0
partitions=16
runs=3
commit_interval_ms=100
pin=split
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --event-size) event_size=$2; shift 2 ;;
    --duplicate-share) duplicate_share=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --commit-interval-ms) commit_interval_ms=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "pipeline-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$pin" == split || "$pin" == none ]] || { echo "pipeline-bench: --pin split|none" >&2; exit 2; }
if [[ "$pin" == split && $(nproc) -lt 2 ]]; then
  echo "pipeline-bench: --pin split needs 2 CPUs" >&2
  exit 2
fi

# Only what this bench runs (scripts/build.sh release builds everything).
[[ -f build/release/build.ninja ]] ||
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release --target obsrvd obsrv-loadgen obsrv-raw-pipe >/dev/null
bin=build/release
work=$(mktemp -d /tmp/pipeline-bench.XXXXXX)
host_cpu=()
bench_cpu=()
if [[ "$pin" == split ]]; then
  host_cpu=(taskset -c 0)
  bench_cpu=(taskset -c 1)
fi
host_admin=19580
host_gateway=13580
pipe_admin=19581
host_pid=""
pipe_pid=""
cleanup() {
  [[ -n "$pipe_pid" ]] && kill -TERM "$pipe_pid" 2>/dev/null && wait "$pipe_pid" 2>/dev/null
  [[ -n "$host_pid" ]] && kill -TERM "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
  true
}
trap cleanup EXIT

echo "== broker host (embedded Kafka, $partitions partitions per topic) + gateway" >&2
"${host_cpu[@]}" "$bin/src/app/obsrvd" --config config/obsrvd.yaml --roles gateway \
  --set admin.port=$host_admin --set gateway.port=$host_gateway --set gateway.workers=1 \
  --set kafka.embedded.bootstrap_file="$work/bootstrap" --set kafka.topics.partitions="$partitions" \
  --set kafka.topics.names=ingest,raw,unique,denorm,transform,failed,system.events,telemetry \
  --set datasets.watch=false --set log.level=warn >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$host_gateway/health" >/dev/null && [[ -s "$work/bootstrap" ]] && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$host_gateway/health" >/dev/null || { cat "$work/host.log" >&2; exit 1; }
bootstrap=$(cat "$work/bootstrap")

echo "== preload: $messages requests of $events events (~$event_size B) through the gateway" >&2
"$bin/tools/loadgen/obsrv-loadgen" --url "http://127.0.0.1:$host_gateway/v2/data/in/telemetry" \
  -n "$messages" -c 8 --events-per-request "$events" --event-size "$event_size" \
  --duplicate-share "$duplicate_share" --cpu 0 --quiet --json "$work/preload.json" >/dev/null
python3 - "$work/preload.json" "$messages" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["status_counts"].get("200", 0)
if ok != int(sys.argv[2]):
    sys.exit(f"pipeline-bench: preload: {ok} of {sys.argv[2]} requests answered 200: {r['status_counts']}")
PY
total=0
for p in $(seq 0 $((partitions - 1))); do
  low=$(kcat -Q -b "$bootstrap" -t "ingest:$p:-2" | awk '{print $NF}')
  high=$(kcat -Q -b "$bootstrap" -t "ingest:$p:-1" | awk '{print $NF}')
  if [[ "$low" != 0 ]]; then
    echo "pipeline-bench: the broker dropped messages of ingest/$p (low watermark $low):" \
      "use fewer --messages or more --partitions" >&2
    exit 1
  fi
  total=$((total + high))
done
[[ $total -eq $messages ]] || { echo "pipeline-bench: ingest holds $total messages, not $messages" >&2; exit 1; }

# Polls the pipeline's /metrics until the group's offsets cover all of ingest; prints JSON
# with the times (seconds since the poller started) of the first consumed message and of the
# commit, the process's CPU seconds between them, and the produced counts per topic.
cat >"$work/poll.py" <<'PY'
import json, re, sys, time, urllib.request
port, n = sys.argv[1], int(sys.argv[2])
url = f"http://127.0.0.1:{port}/metrics"
def scrape():
    try:
        text = urllib.request.urlopen(url, timeout=2).read().decode()
    except OSError:
        return None
    val = lambda name: sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))
    produced = {t: float(v) for t, v in re.findall(
        r'^obsrv_pipeline_produced_messages_total{topic="([^"]+)"} (\S+)$', text, re.M)}
    return (val("obsrv_pipeline_consumed_messages_total"),
            val("obsrv_pipeline_committed_offsets_total"), val("process_cpu_seconds_total"), produced)
start = time.monotonic()
first = None
cpu_first = 0
deadline = start + 600
while time.monotonic() < deadline:
    s = scrape()
    now = time.monotonic() - start
    if s:
        consumed, committed, cpu, produced = s
        if first is None and consumed > 0:
            first, cpu_first = now, cpu
        if committed >= n:
            print(json.dumps({"first_message": first, "committed": now, "consumed": consumed,
                              "cpu_seconds": cpu - cpu_first, "produced": produced,
                              "outputs": sum(produced.values())}))
            sys.exit(0)
    time.sleep(0.02)
sys.exit("pipeline-bench: the pipeline did not commit all of ingest within 600 s")
PY

for run in $(seq 1 "$runs"); do
  echo "== run $run/$runs: pipeline (obsrvd --roles pipeline, 1 worker)" >&2
  "${bench_cpu[@]}" "$bin/src/app/obsrvd" --config config/obsrvd.yaml --roles pipeline \
    --set kafka.brokers="$bootstrap" --set kafka.topics.create_on_start=false \
    --set admin.port=$pipe_admin --set pipeline.workers=1 \
    --set pipeline.group="pipeline-bench-$$-$run" --set pipeline.commit_interval_ms="$commit_interval_ms" \
    --set kafka.admin_timeout_ms=1000 --set datasets.watch=false --set log.level=error \
    >"$work/pipeline-$run.log" 2>&1 &
  pipe_pid=$!
  "${host_cpu[@]}" python3 "$work/poll.py" "$pipe_admin" "$messages" >"$work/pipeline-$run.json" ||
    { cat "$work/pipeline-$run.log" >&2; exit 1; }
  kill -TERM "$pipe_pid"
  wait "$pipe_pid" || true
  pipe_pid=""

  echo "== run $run/$runs: reference (obsrv-raw-pipe: consume, produce the same outputs, commit)" >&2
  "${bench_cpu[@]}" "$bin/tools/raw_pipe/obsrv-raw-pipe" -b "$bootstrap" -c config/obsrvd.yaml \
    -e "$events" --commit-interval-ms "$commit_interval_ms" --json "$work/raw-$run.json" \
    >"$work/raw-$run.log" 2>&1 || { cat "$work/raw-$run.log" >&2; exit 1; }
done

python3 - "$work" "$runs" "$messages" "$events" "$pin" "$out" <<'PY'
import json, os, statistics, subprocess, sys
work, runs, messages, events, pin, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
rows = []
for r in range(1, runs + 1):
    p = json.load(open(f"{work}/pipeline-{r}.json"))
    raw = json.load(open(f"{work}/raw-{r}.json"))
    if raw["messages"] != messages:
        sys.exit(f"pipeline-bench: the reference read {raw['messages']} messages, not {messages}")
    expected = raw["outputs_by_topic"]
    produced = {t: int(v) for t, v in p["produced"].items() if v}
    if produced != expected:
        sys.exit(f"pipeline-bench: run {r}: the pipeline produced {produced}, the chain computes {expected}")
    secs = p["committed"] - p["first_message"]
    rows.append({"pipeline": {"seconds": secs, "events_per_second": messages * events / secs,
                              "outputs_per_second": p["outputs"] / secs, "outputs": p["outputs"],
                              "cpu_seconds": p["cpu_seconds"]},
                 "raw": {"seconds": raw["seconds"], "events_per_second": raw["events_per_second"],
                         "outputs_per_second": raw["outputs_per_second"], "outputs": raw["outputs"],
                         "cpu_seconds": raw["cpu_seconds"]},
                 "ratio": (messages * events / secs) / raw["events_per_second"],
                 "cpu_ratio": raw["cpu_seconds"] / p["cpu_seconds"] if p["cpu_seconds"] else None})
ratios = [r["ratio"] for r in rows]
result = {"machine": {"nproc": os.cpu_count(), "pin": pin},
          "commit": subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                   text=True).stdout.strip(),
          "messages": messages, "events_per_message": events,
          "outputs_by_topic": json.load(open(f"{work}/raw-1.json"))["outputs_by_topic"],
          "runs": rows, "ratio_min": min(ratios), "ratio_median": statistics.median(ratios),
          "ratio_max": max(ratios)}
print(f"{messages} messages x {events} events; outputs per run: {rows[0]['raw']['outputs']:,} "
      f"({', '.join(f'{t} {n:,}' for t, n in result['outputs_by_topic'].items())})")
print(f"{'run':<5}{'pipeline events/s':>19}{'outputs/s':>12}{'cpu s':>7}{'raw events/s':>15}"
      f"{'outputs/s':>12}{'cpu s':>7}{'ratio':>7}{'cpu ratio':>11}")
for i, r in enumerate(rows, 1):
    p, w = r["pipeline"], r["raw"]
    print(f"{i:<5}{p['events_per_second']:>19,.0f}{p['outputs_per_second']:>12,.0f}{p['cpu_seconds']:>7.2f}"
          f"{w['events_per_second']:>15,.0f}{w['outputs_per_second']:>12,.0f}{w['cpu_seconds']:>7.2f}"
          f"{r['ratio']:>7.2f}{r['cpu_ratio'] or 0:>11.2f}")
print(f"ratio pipeline / raw (events/s): min {min(ratios):.2f}  median {statistics.median(ratios):.2f}  "
      f"max {max(ratios):.2f}")
print("cpu ratio = raw CPU s / pipeline CPU s for the same work (their processes only; the broker "
      "is not counted)")
if out:
    json.dump(result, open(out, "w"), indent=2)
    print(f"results written to {out}")
PY
