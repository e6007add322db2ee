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
# The ratio: the pipeline's events/s over the reference's, for the same inputs and the same
# number and sizes of outputs to the same topics. The reference is the Kafka work alone
# (consume, produce those bytes, commit), so the ratio is the share of that limit the pipeline
# keeps once its processing is added; 1 would mean processing costs nothing.
#
# --enrich: the same with the denormalizer and the transformer at work instead of `skipped`.
# The script writes two datasets into its temp datasets dir (both roles and the reference read
# them, with datasets.encryption_secret_key set):
#   telemetry-enriched  the telemetry dataset (schema, dedup, timestamp) plus a denorm field
#                       (actor.id -> user_profile, from bench-users) and two transformations:
#                       mask actor.id, encrypt context.did (AES, the secret key);
#   bench-users         a master dataset (data_key id) whose topic the script fills with one
#                       record per user before anything runs: user-000000 .. for the first
#                       --hit-share of the --users users the load generator draws from
#                       (obsrv-loadgen --actors), so that share of the lookups finds a record.
# Each pipeline process loads bench-users into its in-memory master store (the cache indexer)
# before it consumes `ingest` (pipeline.master_data.load_timeout_ms), outside the timed window;
# the reference loads the same records through the same indexer code. Before timing, one
# `ingest` message copied to ingest-check goes through an obsrvd pipeline, and every event it
# routes to telemetry-enriched is checked (user_profile present as the hit share says,
# actor.id masked, context.did decrypted with openssl); each timed run is checked for the same
# denorm and transformer statuses and all master records loaded. The denormalized, transformed
# outputs are larger than the plain ones and the reference produces them at those sizes too,
# so the enriched ratio again compares the pipeline with the Kafka work of the very same
# outputs. Its distance from the plain ratio is what the lookups, the masking and the
# encryption (and carrying the larger events through the chain) cost relative to that Kafka
# work, not an absolute cost: the two invocations' references differ.
#
# The embedded broker keeps about 5 MB (compressed) per partition: `ingest` gets --partitions
# partitions so that the N messages fit (checked: the run stops if any was dropped). Output
# topics overflow and drop their oldest messages; that costs the broker the same in both runs
# and does not affect delivery.
#
# usage: tools/bench/pipeline-bench.sh [--messages N] [--events E] [--event-size B]
#          [--duplicate-share S] [--partitions P] [--runs R] [--commit-interval-ms MS]
#          [--enrich [--users U] [--hit-share H]] [--pin split|none] [--out FILE]
#   --users U      --enrich: distinct actor ids in the events (default 10000)
#   --hit-share H  --enrich: share of those users with a master record (default 1: every
#                  lookup finds one; 0.9: about one event in ten gets ERR_DENORM_1016)
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
enrich=0
users=10000
hit_share=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --event-size) event_size=$2; shift 2 ;;
    --duplicate-share) duplicate_share=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --commit-interval-ms) commit_interval_ms=$2; shift 2 ;;
    --enrich) enrich=1; shift ;;
    --users) users=$2; shift 2 ;;
    --hit-share) hit_share=$2; shift 2 ;;
    --pin) pin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "pipeline-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$pin" == split || "$pin" == none ]] || { echo "pipeline-bench: --pin split|none" >&2; exit 2; }
python3 -c "import sys; u, h = int(sys.argv[1]), float(sys.argv[2]); sys.exit(not (1 <= u <= 1000000 and 0 <= h <= 1))" \
  "$users" "$hit_share" 2>/dev/null ||
  { echo "pipeline-bench: --users 1..1000000, --hit-share 0..1" >&2; exit 2; }
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
# Settings every obsrvd and the reference get; the dataset the load generator posts to.
dataset=telemetry
topics=ingest,raw,unique,denorm,transform,failed,system.events,telemetry
common=()
loadgen_extra=()
if [[ $enrich -eq 1 ]]; then
  dataset=telemetry-enriched
  secret_key=0123456789abcdef0123456789abcdef  # 32 bytes: AES-256
  mkdir "$work/datasets"
  python3 - config/datasets/telemetry.json "$work/datasets" <<'PY'
import json, sys
base, out = sys.argv[1], sys.argv[2]
d = json.load(open(base))
d["id"] = d["dataset_id"] = "telemetry-enriched"
d["name"] = "Telemetry events, denormalized and transformed (pipeline-bench.sh --enrich)"
d.pop("alias", None)
d["router_config"] = {"topic": "telemetry-enriched"}
d["denorm_config"] = {"redis_db_host": "localhost", "redis_db_port": 6379, "denorm_fields": [
    {"denorm_key": "actor.id", "denorm_out_field": "user_profile", "dataset_id": "bench-users",
     "redis_db": 5}]}
d["transformations_config"] = [
    {"field_key": "actor.id", "mode": "Strict",
     "transformation_function": {"type": "mask", "expr": "actor.id", "datatype": "string",
                                 "category": "pii"}},
    {"field_key": "context.did", "mode": "Strict",
     "transformation_function": {"type": "encrypt", "expr": "context.did", "datatype": "string",
                                 "category": "pii"}}]
json.dump(d, open(f"{out}/telemetry-enriched.json", "w"), indent=2)
master = {
    "id": "bench-users", "dataset_id": "bench-users", "name": "Users (master data of the bench)",
    "type": "master", "status": "Live", "api_version": "v2",
    "router_config": {"topic": "bench-users"},
    "dataset_config": {
        "indexing_config": {"olap_store_enabled": False, "lakehouse_enabled": False,
                            "cache_enabled": True},
        "keys_config": {"data_key": "id", "timestamp_key": "obsrv_meta.syncts"},
        "cache_config": {"redis_db_host": "localhost", "redis_db_port": 6379, "redis_db": 5}}}
json.dump(master, open(f"{out}/bench-users.json", "w"), indent=2)
PY
  topics+=,telemetry-enriched,bench-users,transform.failed,masterdata.stats,masterdata.failed,ingest-check
  common=(--set datasets.dir="$work/datasets" --set datasets.encryption_secret_key="$secret_key")
  loadgen_extra=(--actors "$users")
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
  --set kafka.topics.names="$topics" "${common[@]}" \
  --set datasets.watch=false --set log.level=warn >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$host_gateway/health" >/dev/null && [[ -s "$work/bootstrap" ]] && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$host_gateway/health" >/dev/null || { cat "$work/host.log" >&2; exit 1; }
bootstrap=$(cat "$work/bootstrap")

echo "== preload: $messages requests of $events events (~$event_size B) through the gateway" >&2
"$bin/tools/loadgen/obsrv-loadgen" --url "http://127.0.0.1:$host_gateway/v2/data/in/$dataset" \
  -n "$messages" -c 8 --events-per-request "$events" --event-size "$event_size" "${loadgen_extra[@]}" \
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
# commit, the process's CPU seconds between them, the produced counts per topic, the denorm and
# transformer statuses per dataset and the master records the cache indexer stored.
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
    stages = {f"{d}/{st}/{status}": int(float(v)) for d, st, status, v in re.findall(
        r'^obsrv_pipeline_events_total{dataset="([^"]+)",stage="(denorm|transformer)",'
        r'status="([^"]+)"} (\S+)$', text, re.M) if float(v)}
    stages["master_records"] = int(val("obsrv_master_data_records_total"))
    return (val("obsrv_pipeline_consumed_messages_total"),
            val("obsrv_pipeline_committed_offsets_total"), val("process_cpu_seconds_total"), produced,
            stages)
start = time.monotonic()
first = None
cpu_first = 0
deadline = start + 600
while time.monotonic() < deadline:
    s = scrape()
    now = time.monotonic() - start
    if s:
        consumed, committed, cpu, produced, stages = s
        if first is None and consumed > 0:
            first, cpu_first = now, cpu
        if committed >= n:
            print(json.dumps({"first_message": first, "committed": now, "consumed": consumed,
                              "cpu_seconds": cpu - cpu_first, "produced": produced,
                              "outputs": sum(produced.values()), "stages": stages}))
            sys.exit(0)
    time.sleep(0.02)
sys.exit("pipeline-bench: the pipeline did not commit all of ingest within 600 s")
PY

# obsrvd --roles pipeline against the broker host, in the background ($pipe_pid): $1 group,
# $2 log file, then extra --set arguments.
start_pipeline() {
  local group=$1 log=$2
  shift 2
  "${bench_cpu[@]}" "$bin/src/app/obsrvd" --config config/obsrvd.yaml --roles pipeline \
    --set kafka.brokers="$bootstrap" --set kafka.topics.create_on_start=false \
    --set admin.port=$pipe_admin --set pipeline.workers=1 \
    --set pipeline.group="$group" --set pipeline.commit_interval_ms="$commit_interval_ms" \
    --set kafka.admin_timeout_ms=1000 --set datasets.watch=false "${common[@]}" "$@" \
    >"$log" 2>&1 &
  pipe_pid=$!
}

master_records=0
if [[ $enrich -eq 1 ]]; then
  master_records=$(python3 -c "import sys; print(round(float(sys.argv[1]) * int(sys.argv[2])))" \
    "$hit_share" "$users")
  echo "== master data: $master_records of $users users to bench-users" >&2
  if [[ $master_records -gt 0 ]]; then
    python3 - "$master_records" <<'PY' | kcat -P -b "$bootstrap" -t bench-users
import json, sys
segments = ["gold", "silver", "bronze", "trial"]
regions = ["north", "south", "east", "west", "central"]
for k in range(int(sys.argv[1])):
    print(json.dumps({"id": f"user-{k:06}", "name": f"User {k}", "email": f"user{k}@example.org",
                      "segment": segments[k % 4], "region": regions[k % 5],
                      "signup_ts": 1600000000000 + k * 60000,
                      "preferences": {"lang": "en", "newsletter": k % 3 == 0}},
                     separators=(",", ":")))
PY
  fi
  stored=0
  for p in $(seq 0 $((partitions - 1))); do
    stored=$((stored + $(kcat -Q -b "$bootstrap" -t "bench-users:$p:-1" | awk '{print $NF}')))
  done
  [[ $stored -eq $master_records ]] ||
    { echo "pipeline-bench: bench-users holds $stored records, not $master_records" >&2; exit 1; }

  echo "== check: one ingest message through an obsrvd pipeline (entry topic ingest-check)" >&2
  for p in $(seq 0 $((partitions - 1))); do
    if [[ $(kcat -Q -b "$bootstrap" -t "ingest:$p:-1" | awk '{print $NF}') -gt 0 ]]; then
      kcat -C -b "$bootstrap" -t ingest -p "$p" -o beginning -c 1 -q |
        kcat -P -b "$bootstrap" -t ingest-check
      break
    fi
  done
  start_pipeline "pipeline-bench-check-$$" "$work/check.log" \
    --set pipeline.entry_topics=ingest-check --set log.level=info
  "${host_cpu[@]}" python3 "$work/poll.py" "$pipe_admin" 1 >"$work/check.json" ||
    { cat "$work/check.log" >&2; exit 1; }
  kill -TERM "$pipe_pid"
  wait "$pipe_pid" || true
  pipe_pid=""
  grep -o "master data of \[bench-users\] loaded in [0-9]* ms" "$work/check.log" >&2 || true
  kcat -C -b "$bootstrap" -t telemetry-enriched -o beginning -e -q >"$work/check-routed.jsonl"
  python3 - "$work/check-routed.jsonl" "$secret_key" "$hit_share" <<'PY'
import json, re, subprocess, sys
path, key, hit_share = sys.argv[1], sys.argv[2], float(sys.argv[3])
def fail(why):
    sys.exit(f"pipeline-bench: check: {why}: the pipeline does not denormalize and transform "
             f"as configured (routed events in {path})")
events = [json.loads(line) for line in open(path) if line.strip()]
if not events:
    fail("nothing was routed to telemetry-enriched")
found = 0
for e in events:
    flags = e.get("obsrv_meta", {}).get("flags", {})
    if flags.get("transformer") != "success":
        fail(f"transformer flag {flags.get('transformer')!r}")
    masked = e.get("actor", {}).get("id", "")
    if "*" not in masked or re.fullmatch(r"user-\d{6}", masked):
        fail(f"actor.id {masked!r} is not masked")
    did = e.get("context", {}).get("did", "")
    clear = subprocess.run(["openssl", "enc", "-d", "-aes-256-ecb", "-K", key.encode().hex(),
                            "-base64", "-A"], input=did.encode(), capture_output=True)
    if clear.returncode != 0 or not re.fullmatch(rb"[0-9a-f]{16}", clear.stdout):
        fail(f"context.did {did!r} does not decrypt to a device id with the secret key")
    profile = e.get("user_profile")
    if profile is not None:
        found += 1
        visible = masked.split("*")
        if (flags.get("denorm") != "success" or len(profile.get("id", "")) != len(masked) or
                not profile["id"].startswith(visible[0]) or not profile["id"].endswith(visible[-1])):
            fail(f"user_profile {profile} does not belong to actor {masked!r} (denorm "
                 f"{flags.get('denorm')!r})")
    elif flags.get("denorm") != "failed":
        fail(f"no user_profile, denorm flag {flags.get('denorm')!r}")
if hit_share == 1 and found != len(events):
    fail(f"{len(events) - found} of {len(events)} events without user_profile (--hit-share 1)")
if hit_share == 0 and found:
    fail(f"{found} events with user_profile (--hit-share 0)")
sample = json.dumps({k: events[0][k] for k in ("actor", "context", "user_profile") if k in events[0]})
print(f"check: {len(events)} routed events: {found} with user_profile, actor.id masked, "
      f"context.did decrypts with the key; e.g. {sample[:400]}", file=sys.stderr)
PY
fi

for run in $(seq 1 "$runs"); do
  echo "== run $run/$runs: pipeline (obsrvd --roles pipeline, 1 worker)" >&2
  start_pipeline "pipeline-bench-$$-$run" "$work/pipeline-$run.log" --set log.level=error
  "${host_cpu[@]}" python3 "$work/poll.py" "$pipe_admin" "$messages" >"$work/pipeline-$run.json" ||
    { cat "$work/pipeline-$run.log" >&2; exit 1; }
  kill -TERM "$pipe_pid"
  wait "$pipe_pid" || true
  pipe_pid=""

  echo "== run $run/$runs: reference (obsrv-raw-pipe: consume, produce the same outputs, commit)" >&2
  "${bench_cpu[@]}" "$bin/tools/raw_pipe/obsrv-raw-pipe" -b "$bootstrap" -c config/obsrvd.yaml \
    -e "$events" --commit-interval-ms "$commit_interval_ms" --json "$work/raw-$run.json" "${common[@]}" \
    >"$work/raw-$run.log" 2>&1 || { cat "$work/raw-$run.log" >&2; exit 1; }
done

python3 - "$work" "$runs" "$messages" "$events" "$pin" "$out" "$enrich" "$users" "$hit_share" \
  "$master_records" <<'PY'
import json, os, statistics, subprocess, sys
work, runs, messages, events, pin, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
enrich, users, hit_share, master_records = sys.argv[7] == "1", int(sys.argv[8]), float(sys.argv[9]), int(sys.argv[10])
rows = []
stages = None
for r in range(1, runs + 1):
    p = json.load(open(f"{work}/pipeline-{r}.json"))
    raw = json.load(open(f"{work}/raw-{r}.json"))
    if raw["messages"] != messages:
        sys.exit(f"pipeline-bench: the reference read {raw['messages']} messages, not {messages}")
    if raw["master_records"] != master_records:
        sys.exit(f"pipeline-bench: the reference loaded {raw['master_records']} master records, "
                 f"not {master_records}")
    expected = raw["outputs_by_topic"]
    produced = {t: int(v) for t, v in p["produced"].items() if v}
    if produced != expected:
        sys.exit(f"pipeline-bench: run {r}: the pipeline produced {produced}, the chain computes {expected}")
    if enrich:
        # Every run denormalizes and transforms the same events alike, with all master records.
        s = {k: v for k, v in p["stages"].items() if k.startswith("telemetry-enriched/")}
        if p["stages"]["master_records"] != master_records:
            sys.exit(f"pipeline-bench: run {r}: the cache indexer stored "
                     f"{p['stages']['master_records']} master records, not {master_records}")
        denormalized = sum(v for k, v in s.items() if k.split("/")[1] == "denorm")
        if s.get("telemetry-enriched/transformer/success", 0) != denormalized or denormalized == 0:
            sys.exit(f"pipeline-bench: run {r}: denorm and transformer statuses {s}")
        if stages is not None and s != stages:
            sys.exit(f"pipeline-bench: run {r}: statuses {s} differ from run 1's {stages}")
        stages = s
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
raw1 = json.load(open(f"{work}/raw-1.json"))
result = {"machine": {"nproc": os.cpu_count(), "pin": pin},
          "commit": subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                   text=True).stdout.strip(),
          "messages": messages, "events_per_message": events,
          "outputs_by_topic": raw1["outputs_by_topic"], "input_bytes": raw1["input_bytes"],
          "output_bytes": raw1["output_bytes"],
          "runs": rows, "ratio_min": min(ratios), "ratio_median": statistics.median(ratios),
          "ratio_max": max(ratios)}
if enrich:
    hits = stages.get("telemetry-enriched/denorm/success", 0)
    result["enrich"] = {"users": users, "hit_share": hit_share, "master_records": master_records,
                        "lookup_hits": hits, "lookups": sum(v for k, v in stages.items()
                                                            if k.split("/")[1] == "denorm"),
                        "statuses": stages}
    print(f"enriched: denorm actor.id over {master_records:,} of {users:,} users "
          f"({hits:,} of {result['enrich']['lookups']:,} lookups found a record), mask actor.id, "
          f"encrypt context.did")
print(f"{messages} messages x {events} events; outputs per run: {rows[0]['raw']['outputs']:,} "
      f"({', '.join(f'{t} {n:,}' for t, n in result['outputs_by_topic'].items())})")
print(f"bytes per run: input {raw1['input_bytes'] / 1e6:,.1f} MB, outputs {raw1['output_bytes'] / 1e6:,.1f} MB "
      f"({raw1['output_bytes'] / raw1['outputs']:,.0f} B per output)")
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
