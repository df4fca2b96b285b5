#!/usr/bin/env python3
"""A/B timing of two walia binaries on the benchmark programs (standard library only).

    python3 bench/ab.py OLD_BINARY NEW_BINARY                 # all 13 programs
    python3 bench/ab.py OLD NEW richards fannkuch --rounds 4 --copies 3

Why copies: on the development machine, two copies of the same binary file (identical
bytes, same name length) can differ by 7% in run time, consistently, run after run,
while most copies agree. The slowness follows the file (a rename keeps it; the cause is
not known). A comparison of one build against another therefore measures that draw as
well as the change. This script copies each binary --copies times into a fresh temp directory,
runs every copy of both once per round, interleaved (a, b, a, b, ...), and reports per
program the median and the best three CPU times (user + system) of each side over all
copies and rounds, and the ratio of the medians. Build both binaries the same way (the
same profile), and copy the old one away before rebuilding.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
GENERAL = ("binary_trees", "nbody", "spectral_norm", "fannkuch", "mandelbrot",
           "word_freq", "richards", "csv_lines")
OLD_FIVE = ("fib", "loop", "records", "strings", "closures")


def program_path(name):
    for d in (os.path.join(BENCH_DIR, "general"), BENCH_DIR):
        p = os.path.join(d, name + ".wal")
        if os.path.exists(p):
            return p
    sys.exit(f"ab.py: no program {name}.wal in bench/ or bench/general/")


def cpu_time(binary, program, cwd):
    """User + system CPU seconds of one `walia run --memory PROGRAM`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([binary, "run", "--memory", program], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"ab.py: {binary} failed on {program}:\n{done.stderr.decode()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("programs", nargs="*", help="names (default: all 13)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--copies", type=int, default=3)
    args = ap.parse_args()
    names = args.programs or list(GENERAL + OLD_FIVE)

    with tempfile.TemporaryDirectory(prefix="walia-ab-") as tmp:
        copies = {"old": [], "new": []}
        for side, src in (("old", args.old), ("new", args.new)):
            for i in range(args.copies):
                dst = os.path.join(tmp, f"{side}{i}")
                shutil.copy2(src, dst)
                copies[side].append(dst)
        print("| program | old median s | old best 3 | new median s | new best 3 | new/old |")
        print("|---|---:|---|---:|---|---:|")
        for name in names:
            program = program_path(name)
            times = {"old": [], "new": []}
            for _ in range(args.rounds):
                for i in range(args.copies):
                    for side in ("old", "new"):
                        times[side].append(cpu_time(copies[side][i], program, tmp))
            med = {s: statistics.median(t) for s, t in times.items()}
            best = {s: " ".join(f"{x:.3f}" for x in sorted(t)[:3]) for s, t in times.items()}
            print(f"| {name} | {med['old']:.3f} | {best['old']} | {med['new']:.3f} | "
                  f"{best['new']} | {med['new'] / med['old']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
