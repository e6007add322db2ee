#!/usr/bin/env python3
"""Tests of the flame-graph tooling (tools/flamegraph): stack collapsing, SVG, top table.

Stdlib only. Run from the repository root with
    python3 -m unittest discover -s tests/tools -p 'test_*.py'
or directly: python3 tests/tools/test_flamegraph.py
"""

import io
import os
import re
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET
from collections import Counter

TOOLS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "..", "..", "tools", "flamegraph"))
sys.path.insert(0, TOOLS)

import flamegraph_svg  # noqa: E402
import stackcollapse  # noqa: E402

SVG_NS = {"s": "http://www.w3.org/2000/svg"}

# A `perf script` excerpt as perf 6.1 prints a `perf record -e cpu-clock -g` profile of
# obsrvd. The first two io-0 samples differ only in addresses and offsets, so they must
# fold into one stack with count 2. The third sample is of another event (page-faults) and
# is dropped unless all events are asked for.
PERF_SCRIPT = """\
io-0 31356 14654.257405:    1001001 cpu-clock: 
\t           1baac simdjson::icelake::dom_parser_implementation::stage2+0x182c (/usr/lib/x86_64-linux-gnu/libsimdjson.so.14.0.0)
\t           89285 simdjson::dom::parser::parse_into_document+0x145 (/work/main/build/profile/src/app/obsrvd)
\t           862e4 obsrv::ingress::request_validator::parse+0x54 (/work/main/build/profile/src/app/obsrvd)
\t           755c2 obsrv::ingress::gateway_handler::ingest_v2+0xc2 (/work/main/build/profile/src/app/obsrvd)
\t           9697d obsrv::ingress::server_worker::run+0x31d (/work/main/build/profile/src/app/obsrvd)
\t           7aabf std::thread::_State_impl<std::thread::_Invoker<std::tuple<obsrv::ingress::http_server::start()::{lambda()#1}> > >::_M_run+0x3f (/work/main/build/profile/src/app/obsrvd)
\t           d44a3 [unknown] (/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30)

io-0 31356 14654.258405:    1001001 cpu-clock: 
\t           1bb02 simdjson::icelake::dom_parser_implementation::stage2+0x1902 (/usr/lib/x86_64-linux-gnu/libsimdjson.so.14.0.0)
\t           89285 simdjson::dom::parser::parse_into_document+0x145 (/work/main/build/profile/src/app/obsrvd)
\t           862e4 obsrv::ingress::request_validator::parse+0x54 (/work/main/build/profile/src/app/obsrvd)
\t           755c2 obsrv::ingress::gateway_handler::ingest_v2+0xc2 (/work/main/build/profile/src/app/obsrvd)
\t           9697d obsrv::ingress::server_worker::run+0x31d (/work/main/build/profile/src/app/obsrvd)
\t           7aabf std::thread::_State_impl<std::thread::_Invoker<std::tuple<obsrv::ingress::http_server::start()::{lambda()#1}> > >::_M_run+0x3f (/work/main/build/profile/src/app/obsrvd)
\t           d44a3 [unknown] (/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30)

io-0 31356 14654.258500:          1 page-faults: 
\t           1bb02 simdjson::icelake::dom_parser_implementation::stage2+0x1902 (/usr/lib/x86_64-linux-gnu/libsimdjson.so.14.0.0)

rdk:broker1 31355 14654.255225:    1001001 cpu-clock: 
\tffffffff82200809 _raw_spin_unlock_irqrestore+0x19 ([kernel.kallsyms])
\tffffffff8200e45b tcp_sendmsg+0x2b ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe+0x76 ([kernel.kallsyms])
\t          10ac4d __libc_sendmsg+0x4d (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t     513905c0000 [unknown] ([unknown])

rdk:broker1 31355 14654.257218:    1001001 cpu-clock: 
\t          14c9ef [unknown] (/usr/lib/x86_64-linux-gnu/librdkafka.so.1)
\t22646965227b2c7d [unknown] ([unknown])

kafka mon 31360/31361 [001] 14654.260000:    1001001 cpu-clock: 
\t           4a1b0 obsrv::kafka::(anonymous namespace)::poll_once+0x10 (/work/main/build/profile/src/app/obsrvd (deleted))
\t           4a2c0 obsrv::kafka::monitor::run()::{lambda()#2}::operator()+0x20 (/work/main/build/profile/src/app/obsrvd (deleted))
"""

IO0_STACK = (
    "io-0;[libstdc++.so.6.0.30];"
    "std::thread::_State_impl<std::thread::_Invoker<std::tuple<obsrv::ingress::http_server::"
    "start()::{lambda()#1}> > >::_M_run;"
    "obsrv::ingress::server_worker::run;obsrv::ingress::gateway_handler::ingest_v2;"
    "obsrv::ingress::request_validator::parse;simdjson::dom::parser::parse_into_document;"
    "simdjson::icelake::dom_parser_implementation::stage2"
)


def collapse_text(text, **kwargs):
    return stackcollapse.collapse(io.StringIO(text), **kwargs)


def frames_of(svg_text):
    """{frame name: [(x, width), ...]} of the frame groups of a rendered SVG."""
    root = ET.fromstring(svg_text)
    out = {}
    for g in root.find(".//s:g[@id='frames']", SVG_NS).findall("s:g", SVG_NS):
        title = g.find("s:title", SVG_NS).text
        name = re.sub(r" \([^(]*\)$", "", title)
        rect = g.find("s:rect", SVG_NS)
        out.setdefault(name, []).append((float(rect.get("x")), float(rect.get("width"))))
    return out


class StackCollapseTest(unittest.TestCase):
    def test_realistic_excerpt(self):
        stacks = collapse_text(PERF_SCRIPT)
        self.assertEqual(stacks, Counter({
            # Two samples, different leaf offsets and addresses: one stack.
            IO0_STACK: 2,
            # Root first, kernel frames marked, an unresolvable frame without a DSO.
            "rdk:broker1;[unknown];__libc_sendmsg;entry_SYSCALL_64_after_hwframe_[k];"
            "tcp_sendmsg_[k];_raw_spin_unlock_irqrestore_[k]": 1,
            # A stripped library: its DSO name in brackets.
            "rdk:broker1;[unknown];[librdkafka.so.1]": 1,
            # A comm with a space; "(deleted)" inside the DSO; parentheses in the symbols.
            "kafka_mon;obsrv::kafka::monitor::run()::{lambda()#2}::operator();"
            "obsrv::kafka::(anonymous namespace)::poll_once": 1,
        }))

    def test_folded_text_format(self):
        text = stackcollapse.format_folded(collapse_text(PERF_SCRIPT))
        lines = text.splitlines()
        self.assertIn(IO0_STACK + " 2", lines)
        self.assertEqual(len(lines), 4)
        for line in lines:
            stack, count = line.rsplit(" ", 1)
            self.assertTrue(count.isdigit())
            self.assertNotRegex(stack, r"\+0x[0-9a-f]+")

    def test_events(self):
        skipped = Counter()
        stacks = collapse_text(PERF_SCRIPT, skipped=skipped)
        self.assertEqual(sum(stacks.values()), 5)
        self.assertEqual(skipped, Counter({"page-faults": 1}))
        # Only the named event.
        faults = collapse_text(PERF_SCRIPT, event="page-faults")
        self.assertEqual(faults, Counter(
            {"io-0;simdjson::icelake::dom_parser_implementation::stage2": 1}))
        # Everything.
        self.assertEqual(sum(collapse_text(PERF_SCRIPT, all_events=True).values()), 6)

    def test_header_parsing(self):
        self.assertEqual(
            stackcollapse.parse_header_line("io-0 31356 14654.257405:    1001001 cpu-clock: "),
            ("io-0", 31356, None, "cpu-clock", 1001001))
        self.assertEqual(
            stackcollapse.parse_header_line(
                "kafka 2 x 7/8 [001] 5.25: 1 sched:sched_switch: prev_comm=a: b prev_pid=7"),
            ("kafka 2 x", 7, 8, "sched:sched_switch", 1))
        self.assertEqual(
            stackcollapse.parse_header_line("rdk:mock 12 1.5: 250000 cpu-clock:u: ")[3],
            "cpu-clock:u")

    def test_frame_parsing(self):
        f = stackcollapse.parse_frame_line(
            "\t  7aabf std::map<int, std::pair<a, b> >::operator[](int const&)+0x3f "
            "(/x/obsrvd)")
        self.assertEqual(f.symbol, "std::map<int, std::pair<a, b> >::operator[](int const&)")
        self.assertEqual(f.dso, "/x/obsrvd")
        self.assertFalse(f.is_kernel)
        k = stackcollapse.parse_frame_line("\tffffffff81e2c38f ____sys_sendmsg+0x32f "
                                           "([kernel.kallsyms])")
        self.assertEqual(k.name(), "____sys_sendmsg_[k]")
        self.assertEqual(k.name(annotate_kernel=False), "____sys_sendmsg")
        # Unresolved kernel address: still kernel.
        u = stackcollapse.parse_frame_line("\tffffffff81000000 [unknown] ([unknown])")
        self.assertEqual(u.name(), "[unknown]_[k]")
        # vdso is user space; a separator inside a name must not split the frame.
        self.assertEqual(stackcollapse.parse_frame_line(
            "\t  56 __vdso_clock_gettime+0x56 ([vdso])").name(), "__vdso_clock_gettime")
        self.assertEqual(stackcollapse.parse_frame_line(
            "\t  56 [unknown] ([vdso])").name(), "[vdso]")
        self.assertEqual(stackcollapse.parse_frame_line("\t  10 a;b+0x1 (/x)").name(), "a:b")
        # --call-graph dwarf: inlined frames, and an all-ones end marker that is dropped.
        inl = stackcollapse.parse_frame_line("\t  7aabe _M_invoke<0>+0x3e (inlined)")
        self.assertEqual((inl.symbol, inl.dso, inl.inlined), ("_M_invoke<0>", "", True))
        self.assertEqual(inl.name(annotate_inline=True), "_M_invoke<0>_[i]")
        stacks = collapse_text(
            "rdk:broker1 7 1.0: 1 cpu-clock: \n"
            "\t  10aae7 __recvmsg_syscall+0x57 (inlined)\n"
            "\t  10aae7 __libc_recvmsg+0x57 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
            "\t   508f5 [unknown] (/usr/lib/x86_64-linux-gnu/librdkafka.so.1)\n"
            "\tffffffffffffffff [unknown] ([unknown])\n\n")
        self.assertEqual(stacks, Counter(
            {"rdk:broker1;[librdkafka.so.1];__libc_recvmsg;__recvmsg_syscall": 1}))

    def test_cli(self):
        script = os.path.join(TOOLS, "stackcollapse.py")
        res = subprocess.run([sys.executable, script], input=PERF_SCRIPT, text=True,
                             capture_output=True, check=True)
        self.assertIn(IO0_STACK + " 2\n", res.stdout)
        self.assertIn("page-faults", res.stderr)   # told which samples were left out


class SvgTest(unittest.TestCase):
    def test_valid_xml_with_frames(self):
        stacks = collapse_text(PERF_SCRIPT)
        svg = flamegraph_svg.render_svg(stacks, title="obsrvd <test>", subtitle="a & b")
        root = ET.fromstring(svg)
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        frames = frames_of(svg)
        for name in ("all", "io-0", "rdk:broker1", "[librdkafka.so.1]",
                     "obsrv::ingress::request_validator::parse",
                     "tcp_sendmsg_[k]",
                     "simdjson::icelake::dom_parser_implementation::stage2"):
            self.assertIn(name, frames)
        self.assertEqual(root.find("s:text[@id='title']", SVG_NS).text, "obsrvd <test>")
        self.assertEqual(root.find("s:text[@id='subtitle']", SVG_NS).text, "a & b")
        # Interactive parts, self-contained.
        script = root.find("s:script", SVG_NS)
        self.assertIsNotNone(script)
        self.assertIn("addEventListener", script.text)
        self.assertIsNotNone(root.find(".//{http://www.w3.org/1999/xhtml}input"))
        self.assertNotIn("href", svg)
        self.assertNotIn("@import", svg)

    def test_long_subtitle_wraps(self):
        words = " ".join(f"setting{i}=value{i};" for i in range(40))
        svg = flamegraph_svg.render_svg(Counter({"T;a": 1}), subtitle=words, width=600)
        lines = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
                 if t.get("class") == "subtitle"]
        self.assertGreater(len(lines), 1)
        self.assertEqual(" ".join(lines), words)
        for line in lines:
            self.assertLessEqual(len(line) * 12 * flamegraph_svg.CHAR_WIDTH, 600 - 20)

    def test_tooltips(self):
        svg = flamegraph_svg.render_svg(Counter({"T;a;b": 3, "T;a;c": 1}))
        titles = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}title")]
        self.assertIn("all (4 samples, 100.00%)", titles)
        self.assertIn("b (3 samples, 75.00%)", titles)
        self.assertIn("c (1 sample, 25.00%)", titles)

    def test_widths_proportional(self):
        svg = flamegraph_svg.render_svg(Counter({"T;a;b": 3, "T;a;c": 1}), width=1000)
        frames = frames_of(svg)
        (bx, bw), = frames["b"]
        (cx, cw), = frames["c"]
        self.assertAlmostEqual(bw / cw, 3.0, places=6)
        self.assertAlmostEqual(frames["a"][0][1], bw + cw, places=3)
        self.assertAlmostEqual(frames["all"][0][1], 1000 - 2 * 10, places=3)
        self.assertAlmostEqual(cx, bx + bw, places=3)   # c follows b

    def test_escaping(self):
        name = "operator<<&(std::ostream&, obsrv::x<int> const&)"
        svg = flamegraph_svg.render_svg(Counter({"io-0;" + name: 1, "io-0;b\x01x": 1}))
        self.assertIn("&lt;&lt;&amp;", svg)
        self.assertNotIn("operator<<&", svg)
        frames = frames_of(svg)   # parses, and the name comes back intact
        self.assertIn(name, frames)
        self.assertIn("b?x", frames)   # a control byte cannot break the XML

    def test_labels_fit(self):
        self.assertEqual(flamegraph_svg.fit_label("abcdef", 1000, 12), "abcdef")
        cut = flamegraph_svg.fit_label("obsrv::ingress::server_worker::run", 80, 12)
        self.assertTrue(cut.endswith(".."))
        self.assertLessEqual(len(cut) * 12 * flamegraph_svg.CHAR_WIDTH, 80 - 6)
        self.assertEqual(flamegraph_svg.fit_label("abcdef", 10, 12), "")

    def test_colours_by_kind_and_deterministic(self):
        kind = flamegraph_svg.frame_kind
        self.assertEqual(kind("tcp_sendmsg_[k]"), "kernel")
        self.assertEqual(kind("obsrv::ingress::server_worker::run"), "obsrv")
        self.assertEqual(kind("obsrv::x<std::string>::f"), "obsrv")
        self.assertEqual(kind("std::thread::_State_impl<obsrv::x::y()::{lambda()#1}>::_M_run"),
                         "library")
        self.assertEqual(kind("simdjson::dom::parser::parse_into_document"), "library")
        self.assertEqual(kind("[librdkafka.so.1]"), "unknown")
        self.assertEqual(kind("io-0", depth=1), "thread")
        colour = flamegraph_svg.frame_color
        self.assertEqual(colour("tcp_ack_[k]", "kernel"), colour("tcp_ack_[k]", "kernel"))
        stacks = collapse_text(PERF_SCRIPT)
        self.assertEqual(flamegraph_svg.render_svg(stacks), flamegraph_svg.render_svg(stacks))

        def fills(svg):
            root = ET.fromstring(svg)
            return {re.sub(r" \([^(]*\)$", "", g.find("s:title", SVG_NS).text):
                    g.find("s:rect", SVG_NS).get("fill")
                    for g in root.find(".//s:g[@id='frames']", SVG_NS).findall("s:g", SVG_NS)}

        f = fills(flamegraph_svg.render_svg(stacks))
        self.assertEqual(len({f["tcp_sendmsg_[k]"], f["obsrv::ingress::server_worker::run"],
                              f["simdjson::dom::parser::parse_into_document"]}), 3)

    def test_cli(self):
        script = os.path.join(TOOLS, "flamegraph_svg.py")
        res = subprocess.run([sys.executable, script, "--title", "T", "-"],
                             input="T;a;b 3\nT;a;c 1\n", text=True, capture_output=True,
                             check=True)
        self.assertIn("b", frames_of(res.stdout))
        top = subprocess.run([sys.executable, script, "--top", "5", "-"],
                             input="T;a;b 3\nT;a;c 1\n", text=True, capture_output=True,
                             check=True)
        self.assertIn("by self time", top.stdout)


class TopTableTest(unittest.TestCase):
    STACKS = Counter({
        "io-0;main;parse;stage2": 2,
        "io-0;main;walk;walk;walk": 3,     # recursion: walk counts once per stack
        "rdk:broker1;main;send_[k]": 1,
    })

    def test_self_and_total(self):
        self_c, total_c, n = flamegraph_svg.top_functions(self.STACKS)
        self.assertEqual(n, 6)
        self.assertEqual(self_c, Counter({"walk": 3, "stage2": 2, "send_[k]": 1}))
        self.assertEqual(total_c, Counter({"main": 6, "walk": 3, "parse": 2, "stage2": 2,
                                           "send_[k]": 1}))
        self.assertNotIn("io-0", total_c)   # threads are not functions

    def test_table_text(self):
        text = flamegraph_svg.format_top_table(self.STACKS, n=3)
        self_part, rest = text.split("by total time", 1)
        total_part, threads = rest.split("Samples by thread", 1)
        self.assertRegex(self_part, r"\n\s+1\s+3\s+50\.00%\s+walk\n")
        self.assertRegex(self_part, r"\n\s+2\s+2\s+33\.33%\s+stage2\n")
        self.assertRegex(total_part, r"\n\s+1\s+6\s+100\.00%\s+main\n")
        self.assertRegex(total_part, r"\n\s+2\s+3\s+50\.00%\s+walk\n")
        self.assertNotIn("send_[k]", total_part)   # n=3: parse/stage2 tie, then cut
        self.assertRegex(threads, r"\n\s+1\s+5\s+83\.33%\s+io-0\n")


if __name__ == "__main__":
    unittest.main()
