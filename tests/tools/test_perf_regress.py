"""Tests of tools/perf_regress: figures from Google Benchmark output, comparison by ratios,
and the --compare command's exit status."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from perf_regress.compare import compare, format_table, regressions  # noqa: E402
from perf_regress.figures import (MicroSpec, e2e_figures, gbench_metric,  # noqa: E402
                                  make_figure, micro_figures)
from perf_regress.machine import machine_class  # noqa: E402


def gbench_doc(values: dict) -> dict:
    """A Google Benchmark JSON document with one iteration entry per benchmark."""
    return {"context": {}, "benchmarks": [
        {"name": name, "run_name": name, "run_type": "iteration", **metrics}
        for name, metrics in values.items()] + [
        # Aggregates must be ignored: only per-round iterations count.
        {"name": name + "_mean", "run_name": name, "run_type": "aggregate",
         **{k: v * 1000 for k, v in metrics.items()}}
        for name, metrics in values.items()]}


SPEC = (MicroSpec("x.parse", "a_bench", "BM_x", "bytes_per_second", "cal_bench", "cal",
                  "items_per_second", "x vs calibration"),)


def fig(name, ratios, direction="higher", gating=True):
    return make_figure(name, "items/s", [r * 10 for r in ratios], "ref", [10.0] * len(ratios),
                       direction=direction, gating=gating)


class FiguresTest(unittest.TestCase):
    def test_figure_is_the_median_of_per_round_ratios_not_a_ratio_of_medians(self):
        # Round-paired: a slow round slows value and reference alike.
        f = make_figure("f", "items/s", [100, 50, 110], "r", [10, 5, 10])
        self.assertEqual(f.samples, [10.0, 10.0, 11.0])
        self.assertEqual(f.ratio, 10.0)
        self.assertEqual(f.value, 100)
        self.assertAlmostEqual(f.spread, 0.05)  # interquartile range 10..10.5 over 10

    def test_micro_figures_read_iterations_and_pair_rounds(self):
        rounds = [
            {"a_bench": gbench_doc({"BM_x": {"bytes_per_second": 200.0}}),
             "cal_bench": gbench_doc({"cal": {"items_per_second": 100.0}})},
            {"a_bench": gbench_doc({"BM_x": {"bytes_per_second": 100.0}}),
             "cal_bench": gbench_doc({"cal": {"items_per_second": 50.0}})},
        ]
        [f] = micro_figures(rounds, SPEC)
        self.assertEqual(f.name, "x.parse")
        self.assertEqual(f.unit, "bytes/s")
        self.assertEqual(f.samples, [2.0, 2.0])
        self.assertEqual(f.spread, 0.0)
        self.assertEqual(f.reference_name, "cal_bench:cal")

    def test_a_round_is_the_median_of_its_in_process_repetitions(self):
        doc = {"benchmarks": [
            {"name": "BM_x", "run_type": "iteration", "repetition_index": i, "items_per_second": v}
            for i, v in enumerate([5.0, 100.0, 7.0])] + [
            {"name": "BM_x_mean", "run_name": "BM_x", "run_type": "aggregate",
             "items_per_second": 37.3}]}
        self.assertEqual(gbench_metric(doc, "BM_x", "items_per_second"), 7.0)

    def test_missing_benchmark_or_metric_is_an_error(self):
        doc = gbench_doc({"BM_x": {"bytes_per_second": 1.0}})
        with self.assertRaises(KeyError):
            gbench_metric(doc, "BM_y", "bytes_per_second")
        with self.assertRaises(KeyError):
            gbench_metric(doc, "BM_x", "items_per_second")

    def test_e2e_figures_ratio_to_raw_producer_and_latency_is_informational(self):
        runs = [{"gateway": {"events_per_second": 600.0},
                 "raw_producer": {"events_per_second": 1000.0},
                 "half_load": {"latency_ms": {"p99": 12.0}}},
                {"gateway": {"events_per_second": 700.0},
                 "raw_producer": {"events_per_second": 1000.0},
                 "half_load": {"latency_ms": {"p99": 14.0}}}]
        gw, lat = e2e_figures(runs)
        self.assertAlmostEqual(gw.ratio, 0.65)
        self.assertTrue(gw.gating)
        self.assertEqual(lat.direction, "lower")
        self.assertFalse(lat.gating)

    def test_machine_class_names_cpu_count_and_model(self):
        self.assertEqual(machine_class(2, "AMD EPYC"), "2cpu-amd-epyc")
        self.assertEqual(machine_class(8, "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"),
                         "8cpu-intel-r-xeon-r")


class CompareTest(unittest.TestCase):
    def test_same_ratios_do_not_regress(self):
        rows = compare([fig("a", [1.0, 1.0])], [fig("a", [1.0, 1.0])], 0.10)
        self.assertEqual([r.verdict for r in rows], ["ok"])
        self.assertEqual(regressions(rows), [])

    def test_worse_beyond_threshold_regresses_and_within_does_not(self):
        rows = compare([fig("a", [1.0]), fig("b", [1.0])], [fig("a", [0.85]), fig("b", [0.95])],
                       0.10)
        self.assertEqual({r.name: r.verdict for r in rows}, {"a": "REGRESSED", "b": "ok"})
        self.assertAlmostEqual(rows[0].change, -0.15)

    def test_direction_lower_is_better(self):
        rows = compare([fig("lat", [10.0], direction="lower")],
                       [fig("lat", [13.0], direction="lower")], 0.10)
        self.assertEqual(rows[0].verdict, "REGRESSED")
        self.assertAlmostEqual(rows[0].change, -0.3)

    def test_a_noisy_figure_needs_a_change_beyond_its_spread(self):
        noisy_base = fig("n", [0.6, 1.0, 1.4])  # interquartile range 0.8..1.2: 40%
        rows = compare([noisy_base], [fig("n", [0.8, 0.8, 0.8])], 0.10)
        self.assertEqual(rows[0].verdict, "ok")
        self.assertAlmostEqual(rows[0].allowed, 0.4)

    def test_one_spoilt_round_does_not_widen_the_tolerance(self):
        base = fig("s", [1.0, 1.0, 1.0, 1.0, 0.3])  # one round disturbed
        self.assertEqual(base.spread, 0.0)
        rows = compare([base], [fig("s", [0.8] * 5)], 0.10)
        self.assertEqual(rows[0].verdict, "REGRESSED")

    def test_improvement_new_missing_and_informational(self):
        rows = compare([fig("up", [1.0]), fig("gone", [1.0]), fig("i", [1.0], gating=False)],
                       [fig("up", [1.5]), fig("fresh", [1.0]), fig("i", [0.1], gating=False)],
                       0.10)
        self.assertEqual({r.name: r.verdict for r in rows},
                         {"up": "improved", "gone": "missing", "fresh": "new", "i": "info"})
        self.assertEqual(regressions(rows), [])

    def test_table_lists_every_figure_with_its_change(self):
        table = format_table(compare([fig("a", [1.0])], [fig("a", [0.5])], 0.10))
        self.assertIn("figure", table.splitlines()[0])
        self.assertIn("-50.0%", table)
        self.assertIn("REGRESSED", table)


class CompareCommandTest(unittest.TestCase):
    def write(self, directory, name, figures):
        path = os.path.join(directory, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"kind": "obsrv-perf-regress", "schema": 1,
                       "figures": [x.to_json() for x in figures]}, f)
        return path

    def run_compare(self, a, b):
        return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "perf-regress"),
                               "--compare", a, b], capture_output=True, text=True, check=False)

    def test_exit_status_says_whether_something_regressed(self):
        with tempfile.TemporaryDirectory() as d:
            base = self.write(d, "base.json", [fig("a", [1.0]), fig("b", [2.0])])
            same = self.write(d, "same.json", [fig("a", [1.02]), fig("b", [1.95])])
            slow = self.write(d, "slow.json", [fig("a", [0.7]), fig("b", [2.0])])
            ok = self.run_compare(base, same)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn("no regression", ok.stdout)
            bad = self.run_compare(base, slow)
            self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
            self.assertIn("1 figure(s) regressed: a", bad.stdout)

    def test_a_file_that_is_not_a_result_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as d:
            base = self.write(d, "base.json", [fig("a", [1.0])])
            other = os.path.join(d, "other.json")
            with open(other, "w", encoding="utf-8") as f:
                json.dump({"benchmarks": []}, f)
            r = self.run_compare(base, other)
            self.assertEqual(r.returncode, 2)
            self.assertIn("not a perf-regress results file", r.stderr)


if __name__ == "__main__":
    unittest.main()
