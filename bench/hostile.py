#!/usr/bin/env python3
"""Linear time on hostile data (standard library only).

Times workloads that used to be quadratic or interpreted, each printed as the median of
`--rounds` runs (wall-clock time of the whole `walia -e` process):

  map_string_keys   1,000,000 short sequential string keys ("k0" ... "k999999") into a map
                    (the old Fx hash put them in a few hundred buckets: 17.7 s)
  map_int_keys      the same with Int keys, for comparison
  group_by_strings  2,000,000 groups keyed by such strings (unfinished after 60 s before)
  remove_oldest     100,000 keys removed in insertion order (27 s before)
  remove_newest     the same in reverse order (0.05 s before)
  bare_sum          0..10,000,000 |> sum()              (106 ns/element before)
  mapped_sum        0..10,000,000 |> map(x => x) |> sum()

Targets: remove_oldest within 3x of remove_newest, map_string_keys within 3x of
map_int_keys, bare_sum no slower than mapped_sum (with a 2x margin for noise).

Usage: python3 bench/hostile.py [--walia PATH] [--rounds N] [--build]
  --build   run `cargo build --release --bin walia` first
Exit status 1 when a run fails or prints the wrong result; a missed target does not change it.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = {
    "map_string_keys": (
        'var m = Map(); for (i in 0..1000000) m["k" + str(i)] = i; print m.length();',
        "1000000",
    ),
    "map_int_keys": (
        "var m = Map(); for (i in 0..1000000) m[i] = i; print m.length();",
        "1000000",
    ),
    "group_by_strings": (
        'print len(0..2000000 |> group_by(i => "k" + str(i)));',
        "2000000",
    ),
    "remove_oldest": (
        "var m = Map(); for (i in 0..100000) m[i] = i;"
        " for (i in 0..100000) m.remove(i); print m.length();",
        "0",
    ),
    "remove_newest": (
        "var m = Map(); for (i in 0..100000) m[i] = i;"
        " for (i in 0..100000) m.remove(99999 - i); print m.length();",
        "0",
    ),
    "bare_sum": ("print 0..10000000 |> sum();", "49999995000000"),
    "mapped_sum": ("print 0..10000000 |> map(x => x) |> sum();", "49999995000000"),
}

TARGETS = [
    ("remove_oldest", "remove_newest", 3.0),
    ("map_string_keys", "map_int_keys", 3.0),
    ("bare_sum", "mapped_sum", 2.0),
]


def run(walia, code):
    start = time.perf_counter()
    out = subprocess.run(
        [walia, "--memory", "-e", code], capture_output=True, text=True, timeout=600
    )
    return time.perf_counter() - start, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walia", default=os.path.join(ROOT, "target", "release", "walia"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", action="store_true")
    args = ap.parse_args()
    if args.build:
        subprocess.run(["cargo", "build", "--release", "--bin", "walia"], cwd=ROOT, check=True)
    failed = False
    medians = {}
    print("| workload | median (s) | min (s) |")
    print("|---|---|---|")
    for name, (code, expected) in WORKLOADS.items():
        times = []
        for _ in range(args.rounds):
            t, out = run(args.walia, code)
            if out.returncode != 0 or out.stdout.strip() != expected:
                print(f"!!! {name}: exit {out.returncode}, printed {out.stdout.strip()!r}, "
                      f"expected {expected!r}\n{out.stderr}", file=sys.stderr)
                failed = True
                break
            times.append(t)
        if times:
            medians[name] = statistics.median(times)
            print(f"| {name} | {medians[name]:.3f} | {min(times):.3f} |")
    for slow, fast, factor in TARGETS:
        if slow in medians and fast in medians:
            ratio = medians[slow] / max(medians[fast], 1e-9)
            verdict = "ok" if ratio <= factor else "MISSED"
            print(f"target {slow} <= {factor}x {fast}: {ratio:.2f}x {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
