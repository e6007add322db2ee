#!/usr/bin/env python3
"""Render folded stacks as an interactive flame graph (one self-contained SVG file).

Input: folded stacks, one "root;frame;...;leaf COUNT" line per stack (stackcollapse.py,
stackcollapse-perf.pl). Output: an SVG with no external resources that works in any
browser:
  - one rectangle per frame, its width proportional to the samples under it, the root
    ("all") at the bottom and each thread (the first frame) above it;
  - labels cut to fit the rectangle ("..");
  - a tooltip (<title>) per frame: "name (N samples, P%)", P of all samples;
  - click a frame to zoom into it (its ancestors stay, dimmed, below it); click the root
    to zoom out;
  - a search box (regular expression; Ctrl-F focuses it) that paints matching frames
    magenta and shows the share of samples under them; `?s=REGEX` in the URL searches at
    load; "Reset" or Escape clears zoom and search;
  - deterministic colours by frame kind: our code (obsrv::) green, libraries yellow,
    kernel (_[k]) orange, unresolved [dso] frames grey, threads blue.

Also computes the top functions by self and by total (inclusive) samples (--top N).

Usage:
    python3 flamegraph_svg.py --title T [--subtitle S] stacks.folded > flamegraph.svg
    python3 flamegraph_svg.py --top 25 stacks.folded > top.txt
"""

from __future__ import annotations

import argparse
import colorsys
import re
import sys
import textwrap
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable
from xml.sax.saxutils import escape, quoteattr

KERNEL_SUFFIX = "_[k]"
# Annotations stackcollapse scripts append (kernel, inline, JIT, waker); shown as colour,
# not in the label.
_ANNOTATION_RE = re.compile(r"_\[[kwij]\]$")
# Characters XML 1.0 does not allow; a stray control byte in a symbol must not make the
# whole file unreadable.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Verdana's average glyph width relative to the font size (as flamegraph.pl estimates it);
# the script uses the same figure, so labels fit the same way before and after a zoom.
CHAR_WIDTH = 0.59


# --------------------------------------------------------------------------- input

def parse_folded(lines: Iterable[str]) -> Counter:
    """Read folded lines into Counter{"a;b;c": count}; repeated stacks add up.

    The count is the last space-separated field, so frames may contain spaces
    ("std::tuple<int> >::_M_run"). Blank, comment and malformed lines are skipped.
    """
    stacks: Counter = Counter()
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        stack, sep, count = line.rpartition(" ")
        if not sep or not stack:
            continue
        try:
            value = int(count)
        except ValueError:
            try:
                value = float(count)
            except ValueError:
                continue
        if value > 0:
            stacks[stack.rstrip()] += value
    return stacks


def read_folded(path: str) -> Counter:
    """parse_folded on a file name, or stdin for '-'."""
    if path == "-":
        return parse_folded(sys.stdin)
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_folded(f)


# --------------------------------------------------------------------------- tree

@dataclass
class Node:
    name: str
    value: float = 0          # samples in this frame and below (inclusive)
    self_value: float = 0     # samples where this frame is the leaf
    children: dict[str, "Node"] = field(default_factory=dict)


def build_tree(stacks: Counter, root_name: str = "all") -> Node:
    """Merge stacks into a tree; equal prefixes share nodes."""
    root = Node(root_name)
    for stack, count in stacks.items():
        node = root
        node.value += count
        for frame in stack.split(";"):
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = Node(frame)
            child.value += count
            node = child
        node.self_value += count
    return root


def tree_depth(node: Node) -> int:
    """Number of levels below node (0 for a leaf)."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in n.children.values())
    return deepest


# --------------------------------------------------------------------------- colours

def frame_kind(name: str, depth: int | None = None) -> str:
    """'root', 'thread', 'kernel', 'obsrv', 'unknown' or 'library'.

    depth is the frame's level in the graph (0 = "all", 1 = the thread name that
    stackcollapse.py puts first); without it only the name decides.
    """
    if depth == 0:
        return "root"
    if depth == 1:
        return "thread"
    if name.endswith(KERNEL_SUFFIX):
        return "kernel"
    # "[librdkafka.so.1]", "[unknown]": perf had no symbol for the address.
    if name.startswith("[") and name.endswith("]"):
        return "unknown"
    # Ours if the function itself is in namespace obsrv: look only at the part before any
    # template arguments or parameters, so std::thread::_State_impl<...obsrv::...> (a
    # library template instantiated for our lambda) stays a library frame.
    head = re.split(r"[<(]", name, maxsplit=1)[0]
    if head.startswith("obsrv::") or "::obsrv::" in head or " obsrv::" in head:
        return "obsrv"
    return "library"


# Hue range (degrees), saturation and lightness range per kind. Light colours so black
# labels stay readable.
_PALETTES = {
    "obsrv":   ((95, 135), 0.55, (0.52, 0.68)),
    "library": ((42, 58), 0.80, (0.55, 0.70)),
    "kernel":  ((18, 32), 0.85, (0.58, 0.70)),
    "unknown": ((0, 20), 0.06, (0.68, 0.80)),
    "thread":  ((200, 225), 0.55, (0.70, 0.80)),
    "root":    ((0, 0), 0.0, (0.80, 0.80)),
}
LEGEND = (("obsrv", "obsrv code"), ("library", "libraries"), ("kernel", "kernel"),
          ("unknown", "no symbol [dso]"), ("thread", "thread"))


def frame_color(name: str, kind: str) -> str:
    """Colour of a frame: its kind picks the palette, a hash of the name the shade.

    crc32 rather than hash(): Python randomises str hashes per process, and the same
    function must get the same colour in every graph.
    """
    (h0, h1), sat, (l0, l1) = _PALETTES[kind]
    v = zlib.crc32(name.encode("utf-8", "replace"))
    a = (v & 0xFFFF) / 0xFFFF
    b = (v >> 16) / 0xFFFF
    r, g, bl = colorsys.hls_to_rgb((h0 + (h1 - h0) * a) / 360.0, l0 + (l1 - l0) * b, sat)
    return f"rgb({round(r * 255)},{round(g * 255)},{round(bl * 255)})"


# --------------------------------------------------------------------------- SVG

def display_name(name: str) -> str:
    """Label text: the frame name without the stackcollapse annotation suffix."""
    return _ANNOTATION_RE.sub("", name)


def fit_label(text: str, width: float, font_size: float) -> str:
    """The label that fits a frame `width` px wide: whole, cut with "..", or empty.

    Mirrors fit() in the embedded script.
    """
    chars = int((width - 6) / (font_size * CHAR_WIDTH))
    if chars < 3:
        return ""
    if len(text) <= chars:
        return text
    return text[:chars - 2] + ".."


def _xml_text(s: str) -> str:
    return escape(_XML_INVALID_RE.sub("?", s))


def _xml_attr(s: str) -> str:
    return quoteattr(_XML_INVALID_RE.sub("?", s))


def _fmt(v: float) -> str:
    """Compact coordinate: up to 4 decimals, no trailing zeros."""
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def _fmt_count(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def tooltip(name: str, value: float, total: float, count_name: str = "samples") -> str:
    """Tooltip text of a frame; the script takes the name back by dropping the last (...)."""
    pct = 100.0 * value / total if total else 0.0
    unit = count_name[:-1] if value == 1 and count_name.endswith("s") else count_name
    return f"{name} ({_fmt_count(value)} {unit}, {pct:.2f}%)"


_CSS = """
text { font-family: Verdana, "DejaVu Sans", sans-serif; font-size: %(fs)spx; fill: #000; }
#title { font-size: %(tfs)spx; text-anchor: middle; }
.subtitle { fill: #555; text-anchor: middle; }
#details, #matched, .legend { fill: #333; }
#matched { text-anchor: end; }
.button { cursor: pointer; fill: #2255aa; text-decoration: underline; }
.hidden { display: none; }
g.f { cursor: pointer; }
g.f text { pointer-events: none; }
g.f:hover rect { stroke: #000; stroke-width: 0.6; }
g.f.parent { opacity: 0.55; }
#searchbox { width: 100%%; box-sizing: border-box; font: 12px Verdana, sans-serif;
             padding: 1px 4px; border: 1px solid #aaa; border-radius: 3px; }
"""

# Runs after the frames are in the DOM (the element is last in the file). Plain ES5 and
# DOM level 2 so that it works in every browser that opens the SVG directly; nothing is
# fetched. Kept free of "]]>" (it sits in a CDATA section).
_SCRIPT = r"""
(function () {
  "use strict";
  var root = document.getElementById("frames");
  var XPAD = +root.getAttribute("data-xpad"), PLOTW = +root.getAttribute("data-plotw");
  var TOTAL = +root.getAttribute("data-total"), FS = +root.getAttribute("data-fs");
  var CHARW = FS * +root.getAttribute("data-charw");
  var UNIT = root.getAttribute("data-unit");
  var frames = Array.prototype.slice.call(root.getElementsByTagName("g"));
  var details = document.getElementById("details");
  var matched = document.getElementById("matched");
  var reset = document.getElementById("reset");
  var box = document.getElementById("searchbox");
  var info = [];   // per frame: x, w, depth (samples), name, original fill
  var zoomed = null, searchRe = null;

  function fit(text, w) {
    var chars = Math.floor((w - 6) / CHARW);
    if (chars < 3) return "";
    return text.length <= chars ? text : text.substring(0, chars - 2) + "..";
  }
  function label(name) { return name.replace(/_\[[kwij]\]$/, ""); }
  function place(i, x, w) {
    var g = frames[i], r = g.getElementsByTagName("rect")[0], t = g.getElementsByTagName("text")[0];
    r.setAttribute("x", x.toFixed(4));
    r.setAttribute("width", Math.max(0, w).toFixed(4));
    t.setAttribute("x", (x + 3).toFixed(4));
    t.textContent = fit(label(info[i].name), w);
  }
  function pct(v) { return (100 * v / TOTAL).toFixed(2) + "%"; }
  function fmt(v) { return v.toLocaleString("en-US", {maximumFractionDigits: 2}); }

  function layout() {
    var zx = 0, zw = TOTAL, zd = 0;
    if (zoomed !== null) { zx = info[zoomed].x; zw = info[zoomed].w; zd = info[zoomed].d; }
    var scale = PLOTW / zw;
    for (var i = 0; i < frames.length; i++) {
      var f = info[i], g = frames[i];
      if (f.d < zd && f.x <= zx && f.x + f.w >= zx + zw) {
        // An ancestor of the zoomed frame: full width, dimmed.
        g.setAttribute("class", "f parent");
        place(i, XPAD, PLOTW);
      } else if (f.d >= zd && f.x >= zx && f.x + f.w <= zx + zw) {
        g.setAttribute("class", "f");
        place(i, XPAD + (f.x - zx) * scale, f.w * scale);
      } else {
        g.setAttribute("class", "f hidden");
      }
    }
    reset.setAttribute("class", zoomed === null && searchRe === null ? "button hidden" : "button");
  }

  function search(text) {
    searchRe = null;
    if (text) {
      try { searchRe = new RegExp(text); } catch (e) { matched.textContent = "bad regex"; return; }
    }
    var spans = [];
    for (var i = 0; i < frames.length; i++) {
      var r = frames[i].getElementsByTagName("rect")[0];
      if (searchRe !== null && searchRe.test(info[i].name)) {
        r.setAttribute("fill", "rgb(230,0,230)");
        spans.push([info[i].x, info[i].x + info[i].w]);
      } else {
        r.setAttribute("fill", info[i].fill);
      }
    }
    // Nested matches (a recursive function) cover the same samples: add up the union of
    // the matched sample ranges, not the frames.
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var sum = 0, end = -1;
    for (var j = 0; j < spans.length; j++) {
      if (spans[j][0] >= end) { sum += spans[j][1] - spans[j][0]; end = spans[j][1]; }
      else if (spans[j][1] > end) { sum += spans[j][1] - end; end = spans[j][1]; }
    }
    matched.textContent = searchRe === null ? "" :
        "Matched: " + pct(sum) + " (" + fmt(sum) + " " + UNIT + ")";
    layout();
  }

  for (var i = 0; i < frames.length; i++) {
    var g = frames[i];
    var title = g.getElementsByTagName("title")[0].textContent;
    info.push({x: +g.getAttribute("data-x"), w: +g.getAttribute("data-w"),
               d: +g.getAttribute("data-d"), name: title.replace(/ \([^(]*\)$/, ""),
               fill: g.getElementsByTagName("rect")[0].getAttribute("fill")});
    (function (i, title) {
      g.addEventListener("click", function () { zoomed = info[i].d === 0 ? null : i; layout(); });
      g.addEventListener("mouseover", function () { details.textContent = title; });
      g.addEventListener("mouseout", function () { details.textContent = " "; });
    })(i, title);
  }
  reset.addEventListener("click", function () {
    zoomed = null;
    if (box) box.value = "";
    search("");
  });
  if (box) box.addEventListener("input", function () { search(box.value); });
  document.addEventListener("keydown", function (e) {
    if (box && (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70))) {
      e.preventDefault(); box.focus(); box.select();
    } else if (e.keyCode === 27) {
      zoomed = null;
      if (box) { box.value = ""; box.blur(); }
      search("");
    }
  });
  var m = /[?&]s=([^&]*)/.exec(window.location.search);
  if (m) {
    var s = decodeURIComponent(m[1].replace(/\+/g, " "));
    if (box) box.value = s;
    search(s);
  }
})();
"""


def render_svg(stacks: Counter, *, title: str = "Flame Graph", subtitle: str = "",
               width: int = 1200, frame_height: int = 16, font_size: float = 12,
               min_width: float = 0.1, inverted: bool = False,
               count_name: str = "samples") -> str:
    """The flame graph of `stacks` as SVG text.

    Frame widths are exactly proportional to their samples: width = samples * (plot width
    / total samples). Frames narrower than min_width px are left out to keep the file
    small (their samples still count in their parents' widths).
    inverted draws an icicle graph (root on top).
    """
    tree = build_tree(stacks)
    total = tree.value
    xpad = 10
    plot_w = width - 2 * xpad
    scale = plot_w / total if total else 0.0
    depth = tree_depth(tree) if total else 0
    # A long subtitle (the run's settings) wraps instead of running off the image; each
    # extra line pushes the legend and the frames down.
    chars = max(20, int(plot_w / (font_size * CHAR_WIDTH)))
    sub_lines = textwrap.wrap(subtitle, chars) or [""]
    extra = (len(sub_lines) - 1) * (font_size + 4)
    top = 76 + extra                # title, subtitle, search box and legend above the frames
    bottom = 34                     # details line below them
    height = top + (depth + 1) * frame_height + bottom

    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n')
    w(f'<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="{width}" '
      f'height="{height}" viewBox="0 0 {width} {height}">\n')
    w(f"<style>{_CSS % {'fs': _fmt(font_size), 'tfs': _fmt(font_size + 5)}}</style>\n")
    w(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fbfbf8"/>\n')
    w(f'<text id="title" x="{width / 2:g}" y="24">{_xml_text(title)}</text>\n')
    for i, line in enumerate(sub_lines):
        ident = ' id="subtitle"' if i == 0 else ""
        y = _fmt(42 + i * (font_size + 4))
        w(f'<text{ident} class="subtitle" x="{width / 2:g}" y="{y}">{_xml_text(line)}</text>\n')
    w(f'<text id="reset" class="button hidden" x="{xpad}" y="24">Reset</text>\n')
    # A real text box (XHTML in foreignObject) for the search; viewers without scripts or
    # foreignObject just show the static graph.
    w(f'<foreignObject x="{width - xpad - 230}" y="6" width="230" height="24">'
      '<input xmlns="http://www.w3.org/1999/xhtml" id="searchbox" type="search" '
      'placeholder="Search (regex), Ctrl-F" autocomplete="off"/></foreignObject>\n')
    x = xpad
    for kind, text in LEGEND:
        w(f'<rect x="{x}" y="{_fmt(52 + extra)}" width="10" height="10" '
          f'fill="{frame_color(kind, kind)}" stroke="#999" stroke-width="0.5"/>')
        w(f'<text class="legend" x="{x + 14}" y="{_fmt(61 + extra)}">{_xml_text(text)}</text>\n')
        x += 24 + int(len(text) * font_size * CHAR_WIDTH)
    w(f'<text id="matched" x="{width - xpad}" y="{height - 12}"> </text>\n')
    w(f'<text id="details" x="{xpad}" y="{height - 12}"> </text>\n')

    w(f'<g id="frames" data-total="{_fmt(total)}" data-xpad="{xpad}" '
      f'data-plotw="{plot_w}" data-fs="{_fmt(font_size)}" data-charw="{CHAR_WIDTH}" '
      f'data-unit={_xml_attr(count_name)}>\n')
    # Depth-first, children in name order (as flamegraph.pl): stable output, and a frame's
    # children sit left to right in a predictable order.
    work = [(tree, 0, 0.0)]
    while work:
        node, d, x0 = work.pop()
        px = xpad + x0 * scale
        pw = node.value * scale
        if pw < min_width and d > 0:
            continue
        y = (top + d * frame_height) if inverted else (top + (depth - d) * frame_height)
        name = node.name
        kind = frame_kind(name, d)
        w(f'<g class="f" data-x="{_fmt(x0)}" data-w="{_fmt(node.value)}" data-d="{d}">'
          f"<title>{_xml_text(tooltip(name, node.value, total, count_name))}</title>"
          f'<rect x="{_fmt(px)}" y="{_fmt(y)}" width="{_fmt(pw)}" height="{frame_height - 1}" '
          f'fill="{frame_color(name, kind)}" rx="2" ry="2"/>'
          f'<text x="{_fmt(px + 3)}" y="{_fmt(y + frame_height - 4.5)}">'
          f"{_xml_text(fit_label(display_name(name), pw, font_size))}</text></g>\n")
        # Push in reverse so that the pops come in name order.
        children = sorted(node.children.values(), key=lambda c: c.name)
        offsets = []
        cx = x0
        for c in children:
            offsets.append((c, d + 1, cx))
            cx += c.value
        work.extend(reversed(offsets))
    w("</g>\n")
    w(f'<script type="text/ecmascript"><![CDATA[{_SCRIPT}]]></script>\n')
    w("</svg>\n")
    return "".join(out)


# --------------------------------------------------------------------------- top table

def top_functions(stacks: Counter, *, skip_root: bool = True) -> tuple[Counter, Counter, float]:
    """(self, total, all samples) per function name.

    self:  samples where the function is the leaf (time spent in its own code).
    total: samples where the function is anywhere on the stack (inclusive time); a function
           appearing several times in one stack (recursion) counts once for that stack.
    skip_root leaves out the first frame of each stack, the thread name stackcollapse.py
    puts there, which is not a function (see thread_samples).
    """
    self_c: Counter = Counter()
    total_c: Counter = Counter()
    all_samples = 0.0
    for stack, count in stacks.items():
        frames = stack.split(";")
        all_samples += count
        if skip_root:
            frames = frames[1:]
        if not frames:
            continue
        self_c[frames[-1]] += count
        for f in set(frames):
            total_c[f] += count
    return self_c, total_c, all_samples


def thread_samples(stacks: Counter) -> Counter:
    """Samples per root frame (the thread name)."""
    threads: Counter = Counter()
    for stack, count in stacks.items():
        threads[stack.split(";", 1)[0]] += count
    return threads


def _table(rows: list[tuple[str, float]], all_samples: float, name_header: str) -> list[str]:
    lines = [f"{'rank':>4}  {'samples':>9}  {'percent':>7}  {name_header}"]
    for i, (name, count) in enumerate(rows, 1):
        pct = 100.0 * count / all_samples if all_samples else 0.0
        lines.append(f"{i:>4}  {_fmt_count(count):>9}  {pct:>6.2f}%  {name}")
    return lines


def format_top_table(stacks: Counter, n: int = 25, *, skip_root: bool = True) -> str:
    """Text report: top n functions by self samples, by total samples, and samples by thread.

    Percentages are of all samples. Ties are ordered by name so the report is stable.
    """
    self_c, total_c, all_samples = top_functions(stacks, skip_root=skip_root)

    def top(c: Counter) -> list[tuple[str, float]]:
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    out = [f"{_fmt_count(all_samples)} samples", ""]
    out.append(f"Top {n} functions by self time (the sampled frame itself):")
    out += _table(top(self_c), all_samples, "function")
    out += ["", f"Top {n} functions by total time (anywhere on the stack, once per stack):"]
    out += _table(top(total_c), all_samples, "function")
    if skip_root:
        out += ["", "Samples by thread:"]
        out += _table(top(thread_samples(stacks)), all_samples, "thread")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Render folded stacks as an interactive SVG flame graph, or (--top) "
                    "a table of the top functions.")
    ap.add_argument("input", nargs="?", default="-", help="folded stacks (default: stdin)")
    ap.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    ap.add_argument("--title", default="Flame Graph")
    ap.add_argument("--subtitle", default="")
    ap.add_argument("--width", type=int, default=1200, help="image width in px")
    ap.add_argument("--frame-height", type=int, default=16, help="frame height in px")
    ap.add_argument("--font-size", type=float, default=12)
    ap.add_argument("--min-width", type=float, default=0.1,
                    help="leave out frames narrower than this many px")
    ap.add_argument("--inverted", action="store_true", help="icicle graph (root on top)")
    ap.add_argument("--count-name", default="samples", help="unit in tooltips")
    ap.add_argument("--top", type=int, metavar="N",
                    help="write the top-N functions table instead of the SVG")
    args = ap.parse_args(argv)

    stacks = read_folded(args.input)
    if not stacks:
        print("flamegraph_svg: no stacks in the input", file=sys.stderr)
        return 1
    if args.top is not None:
        text = format_top_table(stacks, args.top)
    else:
        text = render_svg(stacks, title=args.title, subtitle=args.subtitle, width=args.width,
                          frame_height=args.frame_height, font_size=args.font_size,
                          min_width=args.min_width, inverted=args.inverted,
                          count_name=args.count_name)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
