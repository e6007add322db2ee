#!/usr/bin/env python3
"""CPU time per event by thread, from /proc/<pid>/task/<tid>/schedstat (nanoseconds on CPU).

The pinned throughput ratio moves with this VM's speed; the CPU each thread spends per event
says where the gateway's cost differs from the raw producer's (its io-0 worker against the
producer's own thread; librdkafka's broker thread and the embedded broker against theirs).

  thread-cpu.py snapshot PID... > FILE          every thread's name and CPU nanoseconds so far
  thread-cpu.py window LEAD SPAN A B PID...      sleep LEAD s, snapshot into A, sleep SPAN s,
                                                 snapshot into B (one process: the window does not
                                                 drift by an interpreter start-up per snapshot)
  thread-cpu.py per-event A B EVENTS_PER_SECOND  JSON {thread name: ns per event} between two
                                                 snapshots taken while events flowed at that rate
"""
import json
import os
import sys
import time


def snapshot(pids):
    threads = {}
    for pid in pids:
        task_dir = f"/proc/{pid}/task"
        try:
            tids = os.listdir(task_dir)
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"{task_dir}/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"{task_dir}/{tid}/schedstat") as f:
                    ns = int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
            threads[f"{pid}/{tid}"] = {"name": name, "ns": ns}
    return {"time": time.monotonic(), "threads": threads}


def per_event(before, after, events_per_second):
    """{thread name: ns per event, "total": ...}, or {} when there is nothing to divide or a
    process seen in `before` had exited by `after` (its CPU time would silently go missing)."""
    pids_after = {key.split("/")[0] for key in after["threads"]}
    if any(key.split("/")[0] not in pids_after for key in before["threads"]):
        return {}
    events = events_per_second * (after["time"] - before["time"])
    by_name = {}
    for key, t in after["threads"].items():
        spent = t["ns"] - before["threads"].get(key, {"ns": 0})["ns"]
        if spent > 0:
            by_name[t["name"]] = by_name.get(t["name"], 0) + spent
    total = sum(by_name.values())
    if events <= 0 or total <= 0:
        return {}
    result = {name: ns / events for name, ns in sorted(by_name.items(), key=lambda x: -x[1])
              if ns / total >= 0.005}
    result["total"] = total / events
    return result


def main(argv):
    if len(argv) >= 2 and argv[1] == "snapshot":
        json.dump(snapshot(argv[2:]), sys.stdout)
        return 0
    if len(argv) >= 7 and argv[1] == "window":
        time.sleep(float(argv[2]))
        first = snapshot(argv[6:])
        time.sleep(float(argv[3]))
        second = snapshot(argv[6:])
        for path, snap in ((argv[4], first), (argv[5], second)):
            with open(path, "w") as f:
                json.dump(snap, f)
        return 0
    if len(argv) == 5 and argv[1] == "per-event":
        with open(argv[2]) as a, open(argv[3]) as b:
            json.dump(per_event(json.load(a), json.load(b), float(argv[4])), sys.stdout)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
