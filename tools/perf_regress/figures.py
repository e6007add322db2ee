"""Figures of a perf regression run and how they are derived from raw measurements.

A figure is one number we care about (e.g. request validation bytes/s) together with a
reference measured in the same run (e.g. a plain simdjson parse of the same bodies, or a
calibration workload). Runs on different days or machines are compared by the ratio
figure / reference, never by the absolute value: the ratio cancels CPU frequency, a busy
neighbour, a different machine of the same class.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MicroSpec:
    """A figure from Google Benchmark output."""

    name: str
    binary: str
    benchmark: str
    metric: str  # "items_per_second", "bytes_per_second" or a user counter
    reference_binary: str
    reference_benchmark: str
    reference_metric: str
    what: str


# The micro-benchmark figures. References: the library doing the same job (simdjson parse
# for validation, a mutex queue for the ring) where one exists, else a calibration workload
# of the same kind (perf/calibration_bench.cc: scalar for parsing code, copy for copying).
MICRO_SPECS: tuple[MicroSpec, ...] = (
    MicroSpec("ingest.validate.object", "ingest_bench", "BM_Validate/0", "bytes_per_second",
              "ingest_bench", "BM_ParseBaseline/0", "bytes_per_second",
              "request validation vs simdjson parse, data as object"),
    MicroSpec("ingest.validate.array", "ingest_bench", "BM_Validate/1", "bytes_per_second",
              "ingest_bench", "BM_ParseBaseline/1", "bytes_per_second",
              "request validation vs simdjson parse, data as array"),
    MicroSpec("ingest.check.array", "ingest_bench", "BM_Check/1", "bytes_per_second",
              "ingest_bench", "BM_ParseBaseline/1", "bytes_per_second",
              "JSON check without a DOM (stage 1 + grammar walk) vs simdjson parse"),
    MicroSpec("ingest.validate_and_build.array", "ingest_bench", "BM_ValidateAndBuild/1",
              "bytes_per_second", "ingest_bench", "BM_ParseBaseline/1", "bytes_per_second",
              "validation + Kafka message building vs simdjson parse"),
    MicroSpec("ingest.build.array", "ingest_bench", "BM_Build/1", "bytes_per_second",
              "calibration_bench", "calibration_copy", "bytes_per_second",
              "Kafka message building vs memcpy"),
    MicroSpec("ingest.render_success", "ingest_bench", "BM_RenderSuccess", "req/s",
              "calibration_bench", "calibration_scalar", "items_per_second",
              "200 response rendering vs scalar calibration"),
    MicroSpec("http.parse_head.gateway", "http_parser_bench", "parse_head/gateway",
              "items_per_second", "calibration_bench", "calibration_scalar", "items_per_second",
              "HTTP head parsing (gateway request) vs scalar calibration"),
    MicroSpec("http.parse_head.browser", "http_parser_bench", "parse_head/browser",
              "items_per_second", "calibration_bench", "calibration_scalar", "items_per_second",
              "HTTP head parsing (browser request) vs scalar calibration"),
    MicroSpec("http.parse_head.trickled", "http_parser_bench", "parse_head_trickled",
              "items_per_second", "calibration_bench", "calibration_scalar", "items_per_second",
              "HTTP head arriving in 16-byte reads vs scalar calibration"),
    MicroSpec("http.chunked_decode", "http_parser_bench", "chunked_decode/string",
              "bytes_per_second", "calibration_bench", "calibration_copy", "bytes_per_second",
              "chunked body decoding vs memcpy"),
    MicroSpec("ring.single_thread", "spsc_ring_bench", "BM_ring_single_thread_round_trip",
              "items_per_second", "spsc_ring_bench", "BM_mutex_single_thread_round_trip",
              "items_per_second", "SPSC ring push+pop vs mutex deque"),
    MicroSpec("ring.two_thread_batch16", "spsc_ring_bench",
              "BM_ring_two_thread_batch16/real_time", "items_per_second", "spsc_ring_bench",
              "BM_mutex_two_thread_batch16/real_time", "items_per_second",
              "SPSC ring across two threads, batches of 16, vs mutex deque"),
)

MICRO_BINARIES: tuple[str, ...] = tuple(
    sorted({s.binary for s in MICRO_SPECS} | {s.reference_binary for s in MICRO_SPECS}))


@dataclass
class Figure:
    name: str
    unit: str
    value: float  # median of the per-round values
    reference_name: str
    reference_value: float  # median of the per-round reference values
    ratio: float  # median of the per-round ratios
    spread: float  # interquartile range / median of the per-round ratios
    samples: list[float] = field(default_factory=list)  # per-round ratios
    direction: str = "higher"  # "higher" or "lower" is better
    gating: bool = True  # False: shown, never fails a comparison
    what: str = ""

    def to_json(self) -> dict:
        return {
            "name": self.name, "unit": self.unit, "value": self.value,
            "reference_name": self.reference_name, "reference_value": self.reference_value,
            "ratio": self.ratio, "spread": self.spread, "samples": self.samples,
            "direction": self.direction, "gating": self.gating, "what": self.what,
        }

    @staticmethod
    def from_json(d: dict) -> "Figure":
        return Figure(d["name"], d["unit"], d["value"], d["reference_name"],
                      d["reference_value"], d["ratio"], d.get("spread", 0.0),
                      list(d.get("samples", [])), d.get("direction", "higher"),
                      d.get("gating", True), d.get("what", ""))


def relative_spread(values: list[float]) -> float:
    """Interquartile range over the median: how much rounds disagree, robust to the one
    round a busy neighbour spoilt (max - min would let that round decide)."""
    if len(values) < 2:
        return 0.0
    mid = statistics.median(values)
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q3 - q1) / mid if mid else 0.0


def make_figure(name: str, unit: str, values: list[float], reference_name: str,
                references: list[float], *, direction: str = "higher", gating: bool = True,
                what: str = "") -> Figure:
    """Pairs round i's value with round i's reference; the figure is the median ratio."""
    if not values or len(values) != len(references):
        raise ValueError(f"{name}: {len(values)} values for {len(references)} references")
    ratios = [v / r if r else 0.0 for v, r in zip(values, references)]
    return Figure(name, unit, statistics.median(values), reference_name,
                  statistics.median(references), statistics.median(ratios),
                  relative_spread(ratios), ratios, direction, gating, what)


def gbench_metric(doc: dict, benchmark: str, metric: str) -> float:
    """The metric of one benchmark in one Google Benchmark JSON document (one round): the
    median over the round's in-process repetitions, aggregates ignored."""
    values = []
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        if b.get("name") == benchmark or b.get("run_name") == benchmark:
            if b.get("error_occurred"):
                raise ValueError(f"{benchmark}: {b.get('error_message', 'error')}")
            if metric not in b:
                raise KeyError(f"{benchmark}: no metric {metric}")
            values.append(float(b[metric]))
    if not values:
        raise KeyError(f"benchmark {benchmark} not found")
    return statistics.median(values)


def micro_figures(rounds: list[dict[str, dict]],
                  specs: tuple[MicroSpec, ...] = MICRO_SPECS) -> list[Figure]:
    """rounds[i][binary] is that binary's JSON output in round i."""
    figures = []
    for s in specs:
        values = [gbench_metric(r[s.binary], s.benchmark, s.metric) for r in rounds]
        refs = [gbench_metric(r[s.reference_binary], s.reference_benchmark, s.reference_metric)
                for r in rounds]
        unit = "bytes/s" if s.metric == "bytes_per_second" else "items/s"
        figures.append(make_figure(s.name, unit, values,
                                   f"{s.reference_binary}:{s.reference_benchmark}", refs,
                                   what=s.what))
    return figures


def e2e_figures(runs: list[dict]) -> list[Figure]:
    """Figures from tools/bench/gateway-bench.sh --out results, one per round."""
    gw = [r["gateway"]["events_per_second"] for r in runs]
    raw = [r["raw_producer"]["events_per_second"] for r in runs]
    figures = [make_figure("e2e.gateway_events_per_second", "events/s", gw,
                           "raw librdkafka producer, same messages, same broker", raw,
                           what="gateway throughput vs the raw producer (the limit)")]
    # Latency has no reference of its own; it is reported, not gated.
    p99 = [r["half_load"]["latency_ms"]["p99"] for r in runs]
    figures.append(make_figure("e2e.half_load_p99_ms", "ms", p99, "none", [1.0] * len(p99),
                               direction="lower", gating=False,
                               what="p99 latency at half the maximum load (ack=persisted)"))
    return figures
