#!/usr/bin/env python3
"""Tests of tools/bench/thread-cpu.py (CPU time per event by thread, for gateway-bench).

Stdlib only; run with python3 -m unittest discover -s tests/tools -p 'test_*.py'.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SCRIPT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                       "tools", "bench", "thread-cpu.py"))
spec = importlib.util.spec_from_file_location("thread_cpu", SCRIPT)
thread_cpu = importlib.util.module_from_spec(spec)
spec.loader.exec_module(thread_cpu)


def snap(t, **threads):
    """A snapshot at time t of threads given as name_tid=ns."""
    return {"time": t, "threads": {f"1/{key.rsplit('_', 1)[1]}": {"name": key.rsplit("_", 1)[0],
                                                                  "ns": ns}
                                   for key, ns in threads.items()}}


class PerEventTest(unittest.TestCase):
    def test_threads_of_one_name_add_up_and_divide_by_the_events_in_the_window(self):
        before = snap(10.0, io_1=1_000, io_2=0, broker_3=5_000)
        after = snap(12.0, io_1=301_000, io_2=100_000, broker_3=1_005_000)
        # 1000 events/s over 2 s = 2000 events
        result = thread_cpu.per_event(before, after, 1000.0)
        self.assertAlmostEqual(result["io"], 400_000 / 2000)
        self.assertAlmostEqual(result["broker"], 1_000_000 / 2000)
        self.assertAlmostEqual(result["total"], 1_400_000 / 2000)
        self.assertEqual(list(result)[0], "broker", "largest first")

    def test_a_thread_born_inside_the_window_counts_from_zero(self):
        result = thread_cpu.per_event(snap(0.0), snap(1.0, late_7=50_000), 100.0)
        self.assertAlmostEqual(result["late"], 500.0)

    def test_no_events_or_no_cpu_gives_nothing(self):
        self.assertEqual(thread_cpu.per_event(snap(0.0, a_1=0), snap(1.0, a_1=10), 0.0), {})
        self.assertEqual(thread_cpu.per_event(snap(0.0, a_1=5), snap(1.0, a_1=5), 10.0), {})

    def test_a_process_that_exited_inside_the_window_gives_nothing(self):
        # The raw producer finishing before the second snapshot must not pass for a cheap run.
        before = {"time": 0.0, "threads": {"1/1": {"name": "gw", "ns": 0},
                                           "2/2": {"name": "raw", "ns": 0}}}
        after = {"time": 1.0, "threads": {"1/1": {"name": "gw", "ns": 1_000}}}
        self.assertEqual(thread_cpu.per_event(before, after, 10.0), {})


class SnapshotTest(unittest.TestCase):
    def test_sees_this_process_threads_with_growing_cpu_time(self):
        stop = threading.Event()

        def spin():
            while not stop.is_set():
                sum(range(1000))

        worker = threading.Thread(target=spin, name="spinner")
        worker.start()
        try:
            first = thread_cpu.snapshot([os.getpid()])
            while True:
                second = thread_cpu.snapshot([os.getpid()])
                key = f"{os.getpid()}/{worker.native_id}"
                if second["threads"][key]["ns"] > first["threads"][key]["ns"]:
                    break
        finally:
            stop.set()
            worker.join()
        self.assertIn(key, first["threads"])
        self.assertGreater(second["time"], first["time"])
        # a process that is gone is skipped, not an error
        self.assertEqual(thread_cpu.snapshot([2**22 + 12345])["threads"], {})


class WindowTest(unittest.TestCase):
    def test_snapshots_are_a_span_apart_after_the_lead(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = os.path.join(d, "a"), os.path.join(d, "b")
            started = time.monotonic()
            subprocess.run([sys.executable, SCRIPT, "window", "0.2", "0.3", a, b,
                            str(os.getpid())], check=True)
            first, second = json.load(open(a)), json.load(open(b))
        self.assertGreaterEqual(first["time"] - started, 0.2)
        self.assertGreaterEqual(second["time"] - first["time"], 0.3)
        # Generous: a loaded CI machine may oversleep.
        self.assertLess(second["time"] - first["time"], 0.3 + 1.0)
        self.assertIn(f"{os.getpid()}/{os.getpid()}", second["threads"])


if __name__ == "__main__":
    unittest.main()
