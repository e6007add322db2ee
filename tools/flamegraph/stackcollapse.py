#!/usr/bin/env python3
"""Collapse `perf script` output into folded stacks.

Reads the text `perf script` prints for a `perf record -g` profile and writes one line per
distinct stack, root first, with the number of samples that had it:

    io-0;obsrv::ingress::server_worker::run;...;simdjson::...::stage2 42

the format of Brendan Gregg's stackcollapse-perf.pl, which flamegraph_svg.py (and
flamegraph.pl, speedscope, inferno) read. The root frame is the thread name (perf's `comm`),
so the graph splits by thread first: io-0, rdk:broker1, rdk:mock, ...

Frame names:
  - `+0x1f` offsets are dropped, so samples at different addresses of one function merge.
  - Kernel frames get the suffix `_[k]` (the convention flamegraph.pl colours by).
  - A frame perf could not symbolise is `[<dso basename>]` when the DSO is known
    (`[librdkafka.so.1]`: a stripped library), else `[unknown]`.
  - C++ names are kept whole: templates, spaces, `(anonymous namespace)`, `{lambda()#1}`.
    Only `;` is replaced (by `:`) because it separates frames in the folded format.

Usage:
    python3 stackcollapse.py [options] [perf.script] > stacks.folded
    perf script | python3 stackcollapse.py > stacks.folded
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, TextIO

# Sample header, e.g.
#   "io-0 31356 14654.257405:    1001001 cpu-clock: "
#   "io-0 31355/31356 [001] 14654.257405: 1001001 cpu-clock:u: "
# The comm may itself contain spaces and digits ("kafka 2 x"), so the first pattern asks
# for the timestamp perf prints by default, which pins the pid field; the second one is for
# output without a time field (perf script -F comm,tid,event,ip,sym,dso).
_HEADER_RES = (
    re.compile(r"^(?P<comm>\S.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+"
               r"(?:\[(?P<cpu>\d+)\]\s+)?(?P<time>\d+\.\d+):\s*(?P<rest>.*)$"),
    re.compile(r"^(?P<comm>\S.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+"
               r"(?:\[(?P<cpu>\d+)\]\s+)?(?P<rest>.*)$"),
)
# "<period> <event>: <tracepoint args>". The event is the first word, up to its last
# colon: a tracepoint ("sched:sched_switch: prev_comm=...") or a modifier ("cpu-clock:u:")
# stays whole, and the word cannot reach into the arguments past the space.
_EVENT_RE = re.compile(r"^(?:(?P<period>\d+)\s+)?(?P<event>\S+):(?:\s|$)")

# Stack line: "<hex address> <symbol>[+0xoff] (<dso>)"; the symbol can be empty.
_FRAME_RE = re.compile(r"^\s+(?P<addr>[0-9a-fA-F]+)\s*(?P<rest>.*)$")
_OFFSET_RE = re.compile(r"\+0x[0-9a-fA-F]+$")

# x86-64 (and arm64) kernels live in the upper canonical half of the address space.
_KERNEL_ADDR_MIN = 0xFFFF800000000000
_END_OF_CHAIN = 0xFFFFFFFFFFFFFFFF
# Bracketed DSO names perf uses for things that are not kernel code.
_USER_PSEUDO_DSOS = {"[unknown]", "[vdso]", "[vsyscall]", "[vectors]", "[heap]", "[stack]",
                     "[anon]", "[uprobes]", "[jit]"}

KERNEL_SUFFIX = "_[k]"
INLINE_SUFFIX = "_[i]"


@dataclass
class Frame:
    """One parsed stack line."""
    addr: int
    symbol: str           # as printed, offset stripped ('' or '[unknown]' if unresolved)
    dso: str              # as printed inside the parentheses ('' if absent)
    inlined: bool = False

    @property
    def is_kernel(self) -> bool:
        if self.dso.startswith("[kernel.") or self.dso.startswith("[guest.kernel."):
            return True
        if self.dso.startswith("[") and self.dso not in _USER_PSEUDO_DSOS:
            return True   # kernel modules print as [xfs], [nf_tables], ...
        # An unresolved frame with no DSO but a kernel address is still kernel code.
        return self.dso in ("", "[unknown]") and self.addr >= _KERNEL_ADDR_MIN

    def name(self, annotate_kernel: bool = True, annotate_inline: bool = False) -> str:
        """Frame name as it appears in the folded output."""
        sym = self.symbol
        if not sym or sym == "[unknown]":
            base = os.path.basename(self.dso.rstrip("/")) if self.dso else ""
            # [unknown] DSO, or a pseudo DSO like [vdso] that is already bracketed.
            if not base or base == "[unknown]":
                sym = "[unknown]"
            elif base.startswith("[") and base.endswith("]"):
                sym = base
            else:
                sym = "[" + base + "]"
        sym = sym.replace(";", ":")
        if annotate_kernel and self.is_kernel:
            sym += KERNEL_SUFFIX
        elif annotate_inline and self.inlined:
            sym += INLINE_SUFFIX
        return sym


@dataclass
class Sample:
    """One perf sample: header fields and the call chain, leaf first (as perf prints it)."""
    comm: str
    pid: int
    tid: int | None
    event: str
    period: int | None
    frames: list[Frame] = field(default_factory=list)


def _split_trailing_group(text: str) -> tuple[str, str | None]:
    """Split "sym (dso)" into ("sym", "dso"), matching the final parenthesised group.

    Parentheses are balanced from the end so that "(/x/obsrvd (deleted))" stays one DSO and
    parentheses inside C++ symbols ("start()::{lambda()#1}") stay in the symbol.
    """
    text = text.rstrip()
    if not text.endswith(")"):
        return text, None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                # A DSO group is separated from the symbol by whitespace (or is the whole
                # rest); "foo()" at the end of a symbol is not a DSO.
                if i == 0 or text[i - 1].isspace():
                    return text[:i].rstrip(), text[i + 1:-1]
                return text, None
    return text, None


def parse_frame_line(line: str) -> Frame | None:
    """Parse one call-chain line of `perf script`; None if it is not one."""
    m = _FRAME_RE.match(line)
    if not m:
        return None
    rest = m.group("rest")
    inlined = False
    sym, dso = _split_trailing_group(rest)
    # Frames of inlined functions (perf shows them with --call-graph dwarf) carry
    # "(inlined)" where the DSO would be: "7aabe _M_invoke<0>+0x3e (inlined)".
    if dso == "inlined":
        inlined = True
        sym, dso = _split_trailing_group(sym)
    sym = _OFFSET_RE.sub("", sym.strip())
    return Frame(addr=int(m.group("addr"), 16), symbol=sym, dso=dso or "", inlined=inlined)


def parse_header_line(line: str) -> tuple[str, int, int | None, str, int | None] | None:
    """Parse a sample header into (comm, pid, tid, event, period); None if it is not one."""
    line = line.rstrip("\n")
    m = _HEADER_RES[0].match(line) or _HEADER_RES[1].match(line)
    if not m:
        return None
    pid = int(m.group("pid"))
    tid = int(m.group("tid")) if m.group("tid") is not None else None
    rest = m.group("rest").strip()
    event, period = "", None
    em = _EVENT_RE.match(rest)
    if em:
        event = em.group("event")
        period = int(em.group("period")) if em.group("period") else None
    return m.group("comm"), pid, tid, event, period


def parse_perf_script(lines: Iterable[str]) -> Iterator[Sample]:
    """Yield the samples of `perf script` text output, in order."""
    sample: Sample | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            if sample is not None:
                yield sample
                sample = None
            continue
        if line.startswith("#"):
            continue   # perf script --header comments
        if not line[0].isspace():
            # A header starts a sample even without a blank line before it (some perf
            # versions omit it for samples without a call chain).
            if sample is not None:
                yield sample
                sample = None
            header = parse_header_line(line)
            if header is not None:
                comm, pid, tid, event, period = header
                sample = Sample(comm=comm, pid=pid, tid=tid, event=event, period=period)
            continue
        if sample is None:
            continue
        frame = parse_frame_line(line)
        # An all-ones address is not a frame but the end marker some unwinds (dwarf) leave
        # at the bottom of the chain; kept, it would show as a fake kernel frame.
        if frame is not None and frame.addr != _END_OF_CHAIN:
            sample.frames.append(frame)
    if sample is not None:
        yield sample


def stack_of(sample: Sample, *, with_pid: bool = False, with_tid: bool = False,
             annotate_kernel: bool = True, annotate_inline: bool = False) -> list[str]:
    """Frames of one sample, root first, with the thread name as the root frame."""
    # Spaces in the root are harmless for the format but awkward in tables; flamegraph.pl
    # tooling replaces them too.
    root = sample.comm.replace(" ", "_").replace(";", ":")
    if with_tid and sample.tid is not None:
        root += f"-{sample.pid}/{sample.tid}"
    elif with_pid or with_tid:
        root += f"-{sample.pid}"
    frames = [f.name(annotate_kernel, annotate_inline) for f in reversed(sample.frames)]
    return [root] + frames


def collapse(lines: Iterable[str], *, event: str | None = None, all_events: bool = False,
             with_pid: bool = False, with_tid: bool = False, annotate_kernel: bool = True,
             annotate_inline: bool = False, weight_by_period: bool = False,
             skipped: Counter | None = None) -> Counter:
    """Collapse `perf script` lines into Counter{"root;...;leaf": samples}.

    A profile can hold several events (perf record -e a -e b); adding up samples of
    different events means nothing, so only one is kept: `event`, or else the first one
    seen (as stackcollapse-perf.pl does). all_events=True keeps them all. Samples of other
    events are counted per event in `skipped` when a Counter is passed.
    weight_by_period adds each sample's period (e.g. ns of cpu-clock) instead of 1.
    """
    stacks: Counter = Counter()
    chosen = event
    for sample in parse_perf_script(lines):
        if not all_events:
            if chosen is None:
                chosen = sample.event
            if sample.event != chosen:
                if skipped is not None:
                    skipped[sample.event] += 1
                continue
        key = ";".join(stack_of(sample, with_pid=with_pid, with_tid=with_tid,
                                annotate_kernel=annotate_kernel,
                                annotate_inline=annotate_inline))
        stacks[key] += (sample.period or 1) if weight_by_period else 1
    return stacks


def format_folded(stacks: Counter) -> str:
    """Folded text, one "stack count" line per stack, sorted by stack for stable diffs."""
    return "".join(f"{stack} {count}\n" for stack, count in sorted(stacks.items()))


def write_folded(stacks: Counter, out: TextIO) -> None:
    out.write(format_folded(stacks))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Collapse `perf script` output into folded stacks (root first).")
    ap.add_argument("input", nargs="?", default="-",
                    help="perf script output (default: stdin)")
    ap.add_argument("-o", "--output", default="-", help="folded output (default: stdout)")
    ap.add_argument("--event", help="keep only samples of this event (default: the first seen)")
    ap.add_argument("--all-events", action="store_true",
                    help="keep the samples of every event (their counts are added up)")
    ap.add_argument("--pid", action="store_true", help="root frame is comm-PID")
    ap.add_argument("--tid", action="store_true", help="root frame is comm-PID/TID")
    ap.add_argument("--no-kernel-suffix", action="store_true",
                    help="do not mark kernel frames with _[k]")
    ap.add_argument("--inline-suffix", action="store_true",
                    help="mark inlined frames with _[i]")
    ap.add_argument("--period", action="store_true",
                    help="weight samples by their period instead of counting them")
    args = ap.parse_args(argv)

    src = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8",
                                                      errors="replace")
    skipped: Counter = Counter()
    try:
        stacks = collapse(src, event=args.event, all_events=args.all_events,
                          with_pid=args.pid, with_tid=args.tid,
                          annotate_kernel=not args.no_kernel_suffix,
                          annotate_inline=args.inline_suffix,
                          weight_by_period=args.period, skipped=skipped)
    finally:
        if src is not sys.stdin:
            src.close()
    if skipped:
        others = ", ".join(f"{e or '?'}: {n}" for e, n in skipped.most_common())
        print(f"stackcollapse: kept one event; skipped samples of other events ({others}); "
              "use --event or --all-events", file=sys.stderr)
    if not stacks:
        print("stackcollapse: no samples with stacks found in the input", file=sys.stderr)
    if args.output == "-":
        write_folded(stacks, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            write_folded(stacks, out)
    return 0 if stacks else 1


if __name__ == "__main__":
    sys.exit(main())
