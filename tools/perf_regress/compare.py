"""Comparing two perf regression results by their ratios."""

from __future__ import annotations

from dataclasses import dataclass

from .figures import Figure


@dataclass
class Row:
    name: str
    baseline: float | None
    now: float | None
    change: float | None  # +0.05 = 5% better, -0.12 = 12% worse (direction-aware)
    spread: float
    allowed: float  # the worsening tolerated for this figure
    verdict: str  # ok, REGRESSED, improved, new, missing, info


def change_of(base: Figure, now: Figure) -> float:
    """Relative change of the ratio, positive when better."""
    if base.ratio == 0:
        return 0.0
    rel = now.ratio / base.ratio - 1.0
    return rel if now.direction == "higher" else -rel


def compare(baseline: list[Figure], now: list[Figure], threshold: float) -> list[Row]:
    """A figure regresses when its ratio got worse by more than the threshold, or by more
    than its own measured spread when that is wider (a figure that varies by 30% between
    rounds cannot show a 10% regression)."""
    base_by_name = {f.name: f for f in baseline}
    now_by_name = {f.name: f for f in now}
    rows = []
    for name in list(base_by_name) + [n for n in now_by_name if n not in base_by_name]:
        b, n = base_by_name.get(name), now_by_name.get(name)
        if b is None:
            rows.append(Row(name, None, n.ratio, None, n.spread, threshold, "new"))
            continue
        if n is None:
            rows.append(Row(name, b.ratio, None, None, b.spread, threshold, "missing"))
            continue
        allowed = max(threshold, b.spread, n.spread)
        change = change_of(b, n)
        if not (b.gating and n.gating):
            verdict = "info"
        elif change < -allowed:
            verdict = "REGRESSED"
        elif change > allowed:
            verdict = "improved"
        else:
            verdict = "ok"
        rows.append(Row(name, b.ratio, n.ratio, change, max(b.spread, n.spread), allowed,
                        verdict))
    return rows


def regressions(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.verdict == "REGRESSED"]


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4g}"


def format_table(rows: list[Row]) -> str:
    header = ("figure", "baseline", "now", "change", "spread", "allowed", "verdict")
    lines = [header]
    for r in rows:
        lines.append((r.name, _num(r.baseline), _num(r.now),
                      "-" if r.change is None else f"{r.change * 100:+.1f}%",
                      f"{r.spread * 100:.1f}%", f"{r.allowed * 100:.0f}%", r.verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j])
                             for j, cell in enumerate(line)))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
