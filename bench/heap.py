#!/usr/bin/env python3
"""Heap (.wld) benchmarks for the persistent-heap issue (standard library only).

Measures, with the release binary:
  1. commit cost of one small changed global: syncs and pages per commit (from the
     binary's WALIA_HEAP_STATS counters, cross-checked with `strace -c` when available),
     and time per commit with --durability async and immediate, on an empty heap and on
     a heap holding 10,000 other globals;
  2. start-up: `walia -e 'print 1;'` on a heap with 10,000 globals vs an empty heap;
  3. memory: peak RSS of `print 1;` on a ~1 GB heap vs an empty heap.
Prints a markdown table for docs/BENCHMARKS.md. Usage: python3 bench/heap.py [--no-build]
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALIA = os.path.join(ROOT, "target", "release", "walia")


def run(args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("WALIA_HEAP", None)
    if env:
        e.update(env)
    p = subprocess.run(args, capture_output=True, text=True, env=e, cwd=cwd)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    return p


def timed(args, runs=15):
    best = []
    for _ in range(runs):
        t = time.perf_counter()
        run(args)
        best.append(time.perf_counter() - t)
    return min(best), statistics.median(best)


def peak_rss_kb(args):
    p = run(["/usr/bin/time", "-f", "%M"] + args)
    return int(p.stderr.strip().splitlines()[-1])


def stats(args):
    p = run(args, env={"WALIA_HEAP_STATS": "1"})
    m = re.search(r"(\d+) commits, (\d+) syncs, (\d+) pages written", p.stderr)
    return tuple(int(x) for x in m.groups())


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    d = tempfile.mkdtemp(prefix="walia-heap-bench-")
    rows = []
    try:
        empty = os.path.join(d, "empty.wld")
        many = os.path.join(d, "many.wld")
        run([WALIA, "--heap", empty, "-e", "var x = 0;"])
        decls = os.path.join(d, "decls.wal")
        with open(decls, "w") as f:
            for i in range(10000):
                f.write(f"var g{i} = {i};\n")
        run([WALIA, "--heap", many, "run", decls])
        run([WALIA, "--heap", many, "-e", "var x = 0;"])

        # 1. commit cost
        n_async, n_imm = 20000, 300
        loop = "for (i in 0..{n}) {{ x = i; {cp} }}"
        for heap, label in ((empty, "empty heap"), (many, "10,000 globals")):
            for mode, n in (("async", n_async), ("immediate", n_imm)):
                base = [WALIA, "--heap", heap, "--durability", mode, "-e"]
                with_cp, _ = timed(base + [loop.format(n=n, cp="checkpoint();")], runs=5)
                without, _ = timed(base + [loop.format(n=n, cp="")], runs=5)
                per = (with_cp - without) / n * 1e6
                commits, syncs, pages = stats(base + [loop.format(n=n, cp="checkpoint();")])
                rows.append((f"commit, one small global changed ({label}, {mode})",
                             f"{per:.1f} µs/commit, {syncs / commits:.2f} syncs, "
                             f"{pages / commits:.2f} pages written per commit"))
        if shutil.which("strace"):
            p = subprocess.run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync,msync", WALIA,
                                "--heap", empty, "-e", loop.format(n=100, cp="checkpoint();")],
                               capture_output=True, text=True)
            calls = sum(int(l.split()[3]) for l in p.stderr.splitlines()
                        if l.strip().endswith(("fsync", "fdatasync", "msync")) and len(l.split()) >= 5)
            rows.append(("strace: fsync+fdatasync+msync calls for 100 checkpoints + end of run",
                         f"{calls} (immediate)"))

        # 2. start-up with 10,000 globals
        e_min, e_med = timed([WALIA, "--heap", empty, "-e", "print 1;"], runs=30)
        m_min, m_med = timed([WALIA, "--heap", many, "-e", "print 1;"], runs=30)
        rows.append(("`print 1;` on an empty heap", f"{e_min * 1000:.2f} ms (median {e_med * 1000:.2f})"))
        rows.append(("`print 1;` on a heap of 10,000 globals",
                     f"{m_min * 1000:.2f} ms (median {m_med * 1000:.2f}); "
                     f"+{(m_min - e_min) * 1000:.2f} ms (target < 10 ms)"))

        # 3. memory of a ~1 GB heap
        huge = os.path.join(d, "huge.wld")
        build = os.path.join(d, "huge.wal")
        with open(build, "w") as f:
            f.write('var base = "0123456789abcdef"; for (i in 0..16) { base = base + base; }\n')
            for i in range(1000):
                f.write(f'var s{i} = base + "{i}";\n')
        run([WALIA, "--heap", huge, "--durability", "async", "run", build])
        size = os.path.getsize(huge)
        rss_empty = peak_rss_kb([WALIA, "--heap", empty, "-e", "print 1;"])
        rss_huge = peak_rss_kb([WALIA, "--heap", huge, "-e", "print 1;"])
        rss_one = peak_rss_kb([WALIA, "--heap", huge, "-e", "print len(s500);"])
        rows.append((f"peak RSS, `print 1;`, {size / 2**30:.2f} GiB heap",
                     f"{rss_huge / 1024:.1f} MiB (empty heap: {rss_empty / 1024:.1f} MiB)"))
        rows.append(("peak RSS, reading one 1 MiB global of it", f"{rss_one / 1024:.1f} MiB"))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("| measurement | result |")
    print("|---|---|")
    for a, b in rows:
        print(f"| {a} | {b} |")


if __name__ == "__main__":
    main()
