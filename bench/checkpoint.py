#!/usr/bin/env python3
"""Checkpointed pipes (`checkpoint_at`): what a checkpoint costs, and how fast a pass resumes.
Standard library only.

One run, every measurement interleaved round by round (median of `--rounds`, default 5, with
the minimum in brackets). Each timed run works on a fresh copy of a heap holding a users(id,
rank) table of `--rows` rows (default 10,000,000) and a global list `big` of 1,000,000 Ints.
Times are the pass itself (clock() around the terminal call in the script), so heap open and
the end-of-run commit are outside them; the whole process's wall time is shown too.

  a. db.users |> map(u => u.rank = u.rank + 1) |> checkpoint_at(100000) |> run()
     vs the same pipe without checkpoint_at, in `async` durability: target <= 1.1x;
     in `immediate`: target <= 2x.
  b. the same two with `var first = big[0];` (the 1M-element global loaded, not changed):
     target <= 1.1x the run without that global.
  c. resume: a checkpointed pass is killed (SIGKILL) part-way; `walia resume HEAP` continues
     it; status()["last_resume_ms"] (heap open to the first element of the resumed pass):
     target < 1 ms (aim 0.3 ms). Page cache warm.
  d. bytes written per checkpoint (WALIA_HEAP_STATS pages / commits).

Usage: python3 bench/checkpoint.py [--quick] [--rows N] [--rounds N] [--walia PATH]
  --quick   1,000,000 rows (checkpoint_at(10000)), 3 rounds
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PLAIN = "db.users |> map(u => u.rank = u.rank + 1)"


def script(every, loaded):
    pipe = PLAIN + (f' |> checkpoint_at({every}, "up")' if every else "")
    pre = "var first = big[0];\n" if loaded else ""
    return (
        pre
        + f"var p = {pipe};\n"
        + "var t = clock();\nvar n = p.run();\nprint clock() - t;\nprint n;\n"
    )


def run(walia, heap, durability, text, stats=False):
    path = heap + ".wal"
    with open(path, "w") as f:
        f.write(text)
    env = dict(os.environ)
    if stats:
        env["WALIA_HEAP_STATS"] = "1"
    t = time.perf_counter()
    p = subprocess.run(
        [walia, "run", "--quiet", "--heap", heap, "--durability", durability, path],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"walia failed ({p.returncode}):\n{p.stderr}")
    lines = p.stdout.split()
    return float(lines[0]), wall, int(lines[1]), p.stderr


def make_base(walia, d, rows):
    csv = os.path.join(d, "users.csv")
    with open(csv, "w") as f:
        f.write("id,rank\n")
        for i in range(rows):
            f.write(f"{i},0\n")
    base = os.path.join(d, "base.wld")
    subprocess.run([walia, "import", "--quiet", base, "users", csv], check=True,
                   stdout=subprocess.DEVNULL)
    big = os.path.join(d, "big.wal")
    with open(big, "w") as f:
        f.write("var big = []; for (i in 0..1000000) big.add(i);\n")
    subprocess.run([walia, "run", "--heap", base, big], check=True)
    os.remove(csv)
    return base


def fresh(base, d, name):
    path = os.path.join(d, name + ".wld")
    shutil.copyfile(base, path)
    return path


def med(xs):
    return f"{statistics.median(xs):.3f} s [{min(xs):.3f}]"


def resume_once(walia, base, d, rows, every, wall):
    """Kill a checkpointed pass part-way, resume it, and read last_resume_ms."""
    heap = fresh(base, d, "resume")
    path = heap + ".wal"
    with open(path, "w") as f:
        f.write(f'var p = {PLAIN} |> checkpoint_at({every}, "up");\nprint p.run();\n')
    # Kill about half-way through the pass (the process also opens the heap first).
    for delay in (wall * 0.5, wall * 0.3, wall * 0.7, wall * 0.15, wall * 0.85):
        shutil.copyfile(base, heap)
        child = subprocess.Popen([walia, "run", "--quiet", "--heap", heap, "--durability",
                                  "async", path], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if child.poll() is not None:
            continue
        child.send_signal(signal.SIGKILL)
        child.wait()
        out = subprocess.run([walia, "resume", heap], capture_output=True, text=True)
        if out.returncode != 0 or not out.stdout.startswith("up: "):
            continue
        if int(out.stdout.split()[1]) != rows:
            sys.exit(f"resumed pass returned {out.stdout!r}, expected up: {rows}")
        st = os.path.join(d, "st.wal")
        with open(st, "w") as f:
            f.write('var p = ' + PLAIN + f' |> checkpoint_at({every}, "up");\n'
                    'print p.status()["last_resume_ms"];\n'
                    'print db.users |> filter(u => u.rank != 1) |> count();\n')
        s = subprocess.run([walia, "run", "--heap", heap, st], capture_output=True,
                           text=True, check=True).stdout.split()
        if s[1] != "0":
            sys.exit(f"{s[1]} rows not updated exactly once after the resume")
        return float(s[0])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--walia", default=os.path.join(ROOT, "target", "release", "walia"))
    a = ap.parse_args()
    rows = a.rows or (1_000_000 if a.quick else 10_000_000)
    rounds = a.rounds or (3 if a.quick else 5)
    every = 10_000 if rows <= 1_000_000 else 100_000
    d = tempfile.mkdtemp(prefix="walia-ckpt-")
    try:
        print(f"rows {rows}, checkpoint_at({every}), {rounds} rounds; making the heap...")
        base = make_base(a.walia, d, rows)
        cases = [
            ("async, no checkpoint", "async", 0, False),
            ("async, checkpoint_at", "async", every, False),
            ("immediate, no checkpoint", "immediate", 0, False),
            ("immediate, checkpoint_at", "immediate", every, False),
            ("async, big loaded, no checkpoint", "async", 0, True),
            ("async, big loaded, checkpoint_at", "async", every, True),
        ]
        times = {c[0]: [] for c in cases}
        walls = {c[0]: [] for c in cases}
        stats = {}
        for r in range(rounds):
            for name, dur, ev, loaded in cases:
                heap = fresh(base, d, "run")
                t, wall, n, err = run(a.walia, heap, dur, script(ev, loaded), stats=(r == 0))
                if n != rows:
                    sys.exit(f"{name}: run() returned {n}, expected {rows}")
                times[name].append(t)
                walls[name].append(wall)
                if r == 0:
                    stats[name] = err.strip()
        for name, *_ in cases:
            print(f"  {name:36} pass {med(times[name])}   process {med(walls[name])}")

        def ratio(x, y):
            return statistics.median(times[x]) / statistics.median(times[y])

        r1 = ratio("async, checkpoint_at", "async, no checkpoint")
        r2 = ratio("immediate, checkpoint_at", "async, no checkpoint")
        r3 = ratio("async, big loaded, checkpoint_at", "async, checkpoint_at")
        print(f"a. checkpoint_at / none, async: {r1:.2f}x (target <= 1.1x)")
        print(f"   checkpoint_at immediate / none async: {r2:.2f}x (target <= 2x)")
        print(f"b. with a loaded 1M-element global / without: {r3:.2f}x (target <= 1.1x)")
        wall = statistics.median(walls["async, checkpoint_at"])
        ms = resume_once(a.walia, base, d, rows, every, wall)
        print(f"c. last_resume_ms: {ms} (target < 1 ms)")
        for name in ("async, checkpoint_at", "immediate, checkpoint_at"):
            print(f"d. {name}: {stats.get(name, '')}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
