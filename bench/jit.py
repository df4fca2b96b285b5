#!/usr/bin/env python3
"""Numeric pipelines against hand-written native loops (issue 18: the native loop).
Standard library only, plus `cargo` to build the anchor and `luajit` (installed with apt-get
when missing; its column is empty when that fails).

Generates a users(id, age, score) CSV of `--rows` rows (default 10,000,000; age = id % 90,
score = id % 1000), cached in bench/.data/, imports it with `walia import` into a temporary
heap, and then, in one run with every measurement interleaved round by round (`--rounds`,
default 5), times in-process (clock() around each pass, in ns per row):

  scan         db.users |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum()
  parallel(2)  the scan with `|> parallel(2)` after `db.users`
  update       db.users |> filter(u => u.age > 18) |> map(u => u.score = u.score + 1) |> run()
               on a fresh copy of the heap each round; the first pass (it copies every
               score page) apart from the median of the later passes
  range        0..N |> map(i => i * 2) |> sum()   (N = `--range`, default 50,000,000)
  heavier map  the scan with a map of several Int operations per row (compute-bound,
               where the scan is bound by memory bandwidth), serial and with parallel(2)

each in the default mode and with `--no-jit` (the interpreter; not the heavier map); the anchor
(bench/anchor: Rust loops over the same heap's mapped column pages, built with cargo; its scan
also on two threads, the machine's ceiling for parallel(2)); and LuaJIT for the range
(`for i=0,N-1 do s=s+i*2 end`, os.clock around it). Every process runs one untimed warm-up
pass first (the update's first pass is its own measurement instead), then `--passes` timed
passes (`--slow-passes` under --no-jit, one later pass for the --no-jit update); a round's
figure is the median of its passes, the table shows the median over rounds and [the
fastest pass].

Checks every sum and count against the expected value (so Walia's equal the anchor's and
LuaJIT's) and prints a table with the targets: scan <= 1.5x the anchor and >= 5x faster than
--no-jit; update <= 2x the anchor; range no slower than LuaJIT; parallel(2) >= 1.8x faster
than the serial scan. Exit status 1 on a wrong result or a failed run; a missed target does
not change it.

Usage: python3 bench/jit.py [--walia PATH] [--rows N] [--rounds R] [--quick] [--passes P]
                            [--slow-passes P] [--range N] [--anchor PATH] [--no-luajit]
  --quick   1,000,000 rows, range 5,000,000, 2 rounds, 3 passes (2 under --no-jit)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
DATA = os.path.join(BENCH_DIR, ".data")
ANCHOR_DIR = os.path.join(BENCH_DIR, "anchor")
ANCHOR_PASSES = 7

SCAN = "db.users |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum()"
PAR = "db.users |> parallel(2) |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum()"
UPDATE = "db.users |> filter(u => u.age > 18) |> map(u => u.score = u.score + 1) |> run()"
RANGE = "0..%d |> map(i => i * 2) |> sum()"
# Several operations per row: compute-bound where the scan is bound by memory bandwidth.
HEAVY_MAP = "map(u => ((u.score * 7 + u.age) % 13) * (u.score % 7) + (u.age * u.score) % 11)"
HEAVY = "db.users |> filter(u => u.age > 18) |> " + HEAVY_MAP + " |> sum()"
HEAVY_PAR = "db.users |> parallel(2) |> filter(u => u.age > 18) |> " + HEAVY_MAP + " |> sum()"

# One warm-up pass plus the timed ones; each pass prints its seconds and its result.
WAL = """fun main() {
    for (k in 0..%(passes)d) {
        var t = clock();
        var s = %(pipe)s;
        var dt = clock() - t;
        print dt;
        print s;
    }
}
main();
"""

LUA = """local n, passes = tonumber(arg[1]), tonumber(arg[2])
local function run(n)
  local s = 0
  for i = 0, n - 1 do s = s + i * 2 end
  return s
end
for k = 1, passes do
  local t = os.clock()
  local s = run(n)
  local dt = os.clock() - t
  print(string.format("%.9f", dt))
  print(string.format("%.0f", s))
end
"""

problems = []


def loud(msg):
    problems.append(msg)
    print("!!! " + msg, file=sys.stderr, flush=True)


def info(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs


def expected(rows, n):
    """(scan sum, rows with age > 18, range sum, heavy sum) for `rows` rows and a range
    of n."""
    period = 9000  # lcm(90, 1000): age and score repeat together
    def part(m):
        s = c = h = 0
        for i in range(m):
            age, score = i % 90, i % 1000
            if age > 18:
                s += 2 * score
                c += 1
                h += ((score * 7 + age) % 13) * (score % 7) + (age * score) % 11
        return s, c, h
    full, rest = divmod(rows, period)
    ps, pc, ph = part(period)
    rs, rc, rh = part(rest)
    return full * ps + rs, full * pc + rc, n * (n - 1), full * ph + rh


def csv_path(rows):
    """The cached CSV of `rows` rows (written on first use)."""
    path = os.path.join(DATA, f"users-{rows}.csv")
    if os.path.exists(path):
        return path
    os.makedirs(DATA, exist_ok=True)
    info(f"writing {rows:,} rows to {path} ...")
    tmp = path + ".part"
    with open(tmp, "w") as f:
        f.write("id,age,score\n")
        step = 100_000
        for lo in range(0, rows, step):
            f.write("".join(f"{i},{i % 90},{i % 1000}\n" for i in range(lo, min(rows, lo + step))))
    os.replace(tmp, path)
    return path


def ensure_luajit():
    lj = shutil.which("luajit")
    if lj:
        return lj
    info("luajit not found: installing it with `apt-get install -y luajit` ...")
    prefix = []
    if hasattr(os, "geteuid") and os.geteuid() != 0 and shutil.which("sudo"):
        prefix = ["sudo"]
    cmd = prefix + ["apt-get", "install", "-y", "-q", "luajit"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if subprocess.run(cmd, **quiet).returncode != 0:
            info("apt-get install failed; running `apt-get update` and retrying ...")
            subprocess.run(prefix + ["apt-get", "update", "-q"], **quiet)
            subprocess.run(cmd, **quiet)
    except OSError as e:
        info(f"could not run apt-get: {e}")
    lj = shutil.which("luajit")
    if not lj:
        loud("could not install luajit: the LuaJIT column is empty")
    return lj


def build_anchor():
    target = os.path.join(ANCHOR_DIR, "target")
    info("building the anchor: cargo build --release --manifest-path bench/anchor/Cargo.toml ...")
    try:
        r = subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path",
                            os.path.join(ANCHOR_DIR, "Cargo.toml"), "--target-dir", target])
    except OSError as e:
        loud(f"could not run cargo: {e}: no anchor figures")
        return None
    if r.returncode != 0:
        loud("building the anchor failed: no anchor figures")
        return None
    return os.path.join(target, "release", "anchor")


# ---------------------------------------------------------------- running


class Case:
    """One thing timed per round: a list of per-round figures (ns per row) and every pass."""

    def __init__(self, name):
        self.name = name
        self.rounds = []  # per round: median of that process's timed passes
        self.passes = []  # every timed pass
        self.firsts = []  # update: the first pass of each round
        self.error = None
        self.plan = None  # `--explain`: compiled / not compiled

    def add(self, timed, first=None):
        if first is not None:
            self.firsts.append(first)
        if timed:
            self.rounds.append(statistics.median(timed))
            self.passes.extend(timed)

    def median(self):
        return statistics.median(self.rounds) if self.rounds else None

    def first(self):
        return statistics.median(self.firsts) if self.firsts else None


def run(cmd, timeout):
    """stdout and stderr of cmd, or None (reported) when it fails."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    except OSError as e:
        return None, f"could not start: {e}"
    if p.returncode != 0:
        tail = " | ".join(p.stderr.strip().splitlines()[-5:]) or "(no stderr)"
        return None, f"exit {p.returncode}: {tail}"
    return p.stdout, p.stderr


def plans(stderr):
    """The verdict of each pipeline plan `--explain` wrote: a plan is a `pipe LINE:COL`
    line, indented lines (source, stages, terminal), then one unindented verdict line
    (`compiled`, `not compiled: REASON`)."""
    return [l.strip() for l in stderr.splitlines()
            if l.strip() and not l[0].isspace() and not l.startswith("pipe ")]


def pairs(out):
    """(seconds, result) of each pass the script printed."""
    lines = out.split()
    return [(float(lines[i]), lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--walia", default=os.path.join(ROOT, "target", "release", "walia"))
    ap.add_argument("--rows", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--passes", type=int, help="timed passes per process (default 5, quick 3)")
    ap.add_argument("--slow-passes", type=int,
                    help="timed passes per process under --no-jit (default 3, quick 2)")
    ap.add_argument("--range", type=int, help="N of 0..N (default 50,000,000, quick 5,000,000)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--anchor", help="a built anchor binary (default: build bench/anchor)")
    ap.add_argument("--no-luajit", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    q = a.quick
    rows = a.rows or (1_000_000 if q else 10_000_000)
    rounds = a.rounds or (2 if q else 5)
    passes = a.passes or (3 if q else 5)
    slow = a.slow_passes or (2 if q else 3)
    n = a.range or (5_000_000 if q else 50_000_000)
    walia = os.path.abspath(a.walia)
    if not os.path.exists(walia):
        sys.exit(f"no walia binary at {walia} (build it, or pass --walia PATH)")

    e_scan, e_count, e_range, e_heavy = expected(rows, n)
    want = {"scan": str(e_scan), "update": str(e_count), "range": str(e_range),
            "heavy": str(e_heavy)}
    anchor = os.path.abspath(a.anchor) if a.anchor else build_anchor()
    luajit = None if a.no_luajit else ensure_luajit()
    csv = csv_path(rows)

    d = tempfile.mkdtemp(prefix="walia-jit-")
    try:
        base = os.path.join(d, "base.wld")
        info(f"importing {rows:,} rows ...")
        t = time.perf_counter()
        r = subprocess.run([walia, "import", "--quiet", base, "users", csv],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"walia import failed ({r.returncode}):\n{r.stderr}")
        info(f"  {time.perf_counter() - t:.1f} s, heap {os.path.getsize(base) / 2**20:.0f} MiB")
        upd = os.path.join(d, "update.wld")

        # (name, pipe, result key, --no-jit, updating)
        walia_cases = []
        for nojit in (False, True):
            sfx = " --no-jit" if nojit else ""
            walia_cases += [
                ("scan" + sfx, SCAN, "scan", nojit, False),
                ("parallel(2)" + sfx, PAR, "scan", nojit, False),
                ("update" + sfx, UPDATE, "update", nojit, True),
                ("range" + sfx, RANGE % n, "range", nojit, False),
            ]
        walia_cases += [
            ("heavy", HEAVY, "heavy", False, False),
            ("heavy parallel(2)", HEAVY_PAR, "heavy", False, False),
        ]
        cases = {c[0]: Case(c[0]) for c in walia_cases}
        scripts = {}
        for name, pipe, key, nojit, updating in walia_cases:
            k = (1 if updating else slow) if nojit else passes
            path = os.path.join(d, f"{len(scripts)}.wal")
            with open(path, "w") as f:
                f.write(WAL % {"passes": 1 + k, "pipe": pipe})
            scripts[name] = path
        akeys = ("scan_ns_per_row", "scan2_ns_per_row", "update_first_ns_per_row",
                 "update_ns_per_row", "range_ns_per_iter")
        anchor_cases = {k: Case("anchor " + k) for k in akeys}
        anchor_results = {}
        lj_case = Case("luajit range")
        lua = os.path.join(d, "range.lua")
        with open(lua, "w") as f:
            f.write(LUA)

        for rnd in range(rounds):
            line = []
            if anchor and not anchor_cases[akeys[0]].error:
                out, err = run([anchor, base, "--passes", str(ANCHOR_PASSES), "--range", str(n)],
                               a.timeout)
                if out is None:
                    anchor_cases[akeys[0]].error = err
                    loud(f"anchor failed in round {rnd + 1}: {err}")
                else:
                    for l in out.splitlines():
                        f = l.split()
                        if f and f[0] in anchor_cases:
                            extra = dict(x.split("=", 1) for x in f[2:] if "=" in x)
                            anchor_cases[f[0]].rounds.append(float(f[1]))
                            anchor_cases[f[0]].passes.append(float(extra["min"]))
                            anchor_results[f[0]] = extra
                    line.append(f"anchor scan {anchor_cases[akeys[0]].rounds[-1]:.2f}")
            for name, pipe, key, nojit, updating in walia_cases:
                c = cases[name]
                if c.error:
                    continue
                if updating:
                    shutil.copyfile(base, upd)
                    mode = ["--heap", upd, "--durability", "async"]
                else:
                    mode = ["--heap", base, "--read-only"]
                cmd = [walia, "run", "--quiet"] + mode + (["--no-jit"] if nojit else [])
                if rnd == 0:
                    cmd.append("--explain")
                out, err = run(cmd + [scripts[name]], a.timeout)
                if out is None:
                    c.error = err
                    loud(f"{name} failed in round {rnd + 1}: {err}")
                    continue
                if rnd == 0:
                    c.plan = "; ".join(plans(err)) or "?"
                got = pairs(out)
                bad = {v for _, v in got if v != want[key]}
                if bad:
                    c.error = f"printed {sorted(bad)}, expected {want[key]}"
                    loud(f"MISMATCH {name}: {c.error}")
                    continue
                per = n if key == "range" else rows
                ns = [s * 1e9 / per for s, _ in got]
                if updating:
                    c.add(ns[1:], first=ns[0])
                else:
                    c.add(ns[1:] if len(ns) > 1 else ns)
                line.append(f"{name} {c.rounds[-1] if c.rounds else c.firsts[-1]:.2f}")
            if luajit and not lj_case.error:
                out, err = run([luajit, lua, str(n), str(1 + passes)], a.timeout)
                if out is None:
                    lj_case.error = err
                    loud(f"luajit failed in round {rnd + 1}: {err}")
                else:
                    got = pairs(out)
                    if n * (n - 1) < 2**53 and any(v != want["range"] for _, v in got):
                        lj_case.error = f"printed {sorted({v for _, v in got})}"
                        loud(f"MISMATCH luajit range: {lj_case.error}, expected {want['range']}")
                    else:
                        lj_case.add([s * 1e9 / n for s, _ in got[1:]])
                        line.append(f"luajit {lj_case.rounds[-1]:.2f}")
            info(f"round {rnd + 1}/{rounds} (ns/row): " + ", ".join(line))

        # The anchor's results, against the expected values (and so against Walia's).
        for k, key, field in (("scan_ns_per_row", "scan", "sum"),
                              ("scan2_ns_per_row", "scan", "sum"),
                              ("update_first_ns_per_row", "update", "updated"),
                              ("range_ns_per_iter", "range", "sum")):
            got = anchor_results.get(k, {}).get(field)
            if got is not None and got != want[key]:
                loud(f"MISMATCH anchor {k}: {field}={got}, expected {want[key]}")
                anchor_cases[k].error = "wrong result"
        report(rows, n, rounds, passes, slow, cases, anchor_cases, lj_case, want)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if problems:
        print("\n## Problems\n")
        for p in problems:
            print("- " + p)
        sys.exit(1)


# ---------------------------------------------------------------- the table


def fig(c, first=False):
    if c is None or c.error:
        return None
    return c.first() if first else c.median()


def show(c, first=False):
    if c is None:
        return "—"
    if c.error:
        return "FAIL"
    v = fig(c, first)
    if v is None:
        return "—"
    if first:
        return f"{v:.2f} [{min(c.firsts):.2f}]"
    return f"{v:.2f} [{min(c.passes):.2f}]"


def ratio(x, y):
    return f"{x / y:.2f}x" if x is not None and y else "n/a"


def report(rows, n, rounds, passes, slow, cases, anchor, lj, want):
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n## Native-loop benchmark: {rows:,} rows, range 0..{n:,}; {rounds} rounds, "
          f"{passes} timed passes per process ({slow} under --no-jit); ns per row, "
          f"median [fastest pass]; load average at the end {load}\n")
    print("| pipe | walia | --no-jit | anchor | walia/anchor | LuaJIT |")
    print("|---|---:|---:|---:|---:|---:|")
    A = anchor
    rows_ = [
        ("scan", cases["scan"], cases["scan --no-jit"], A["scan_ns_per_row"], False, None),
        ("scan \\|> parallel(2) (anchor: two threads)", cases["parallel(2)"],
         cases["parallel(2) --no-jit"], A["scan2_ns_per_row"], False, None),
        ("heavier map (compute-bound)", cases["heavy"], None, None, False, None),
        ("heavier map \\|> parallel(2)", cases["heavy parallel(2)"], None, None, False, None),
        ("update, first pass", cases["update"], cases["update --no-jit"],
         A["update_first_ns_per_row"], True, None),
        ("update, later passes", cases["update"], cases["update --no-jit"],
         A["update_ns_per_row"], False, None),
        ("range (ns per element)", cases["range"], cases["range --no-jit"],
         A["range_ns_per_iter"], False, lj),
    ]
    for label, w, nj, an, first, other in rows_:
        print(f"| {label} | {show(w, first)} | {show(nj, first)} | {show(an)} | "
              f"{ratio(fig(w, first), fig(an))} | {show(other) if other else ''} |")

    print("\nPlans (`--explain`, first round):")
    for c in cases.values():
        print(f"- {c.name}: {c.plan or c.error or '?'}")

    print("\nTargets:\n")
    print("| target | figure | met? |")
    print("|---|---:|:--:|")

    def target(label, value, ok):
        met = "n/a" if value is None else ("yes" if ok(value) else "no")
        shown = "n/a" if value is None else f"{value:.2f}x"
        print(f"| {label} | {shown} | {met} |")

    def div(x, y):
        return x / y if x is not None and y else None

    s, s_nj, s_a = fig(cases["scan"]), fig(cases["scan --no-jit"]), fig(anchor["scan_ns_per_row"])
    target("scan: walia / anchor <= 1.5x", div(s, s_a), lambda v: v <= 1.5)
    target("scan: --no-jit / walia >= 5x", div(s_nj, s), lambda v: v >= 5)
    target("update, later passes: walia / anchor <= 2x",
           div(fig(cases["update"]), fig(anchor["update_ns_per_row"])), lambda v: v <= 2)
    target("update, first pass: walia / anchor's first pass <= 2x",
           div(fig(cases["update"], True), fig(anchor["update_first_ns_per_row"])),
           lambda v: v <= 2)
    target("range: walia / LuaJIT <= 1.0x", div(fig(cases["range"]), fig(lj)), lambda v: v <= 1)
    target("parallel(2): serial / parallel >= 1.8x", div(s, fig(cases["parallel(2)"])),
           lambda v: v >= 1.8)
    target("  (the anchor's own gain on two threads, for scale: >= 1.8x)",
           div(s_a, fig(anchor["scan2_ns_per_row"])), lambda v: v >= 1.8)
    target("parallel(2), heavier map: serial / parallel >= 1.8x",
           div(fig(cases["heavy"]), fig(cases["heavy parallel(2)"])), lambda v: v >= 1.8)
    print(f"\nResults checked: scan sum {want['scan']} (walia, --no-jit, parallel(2), anchor), "
          f"update count {want['update']}, range sum {want['range']}, "
          f"heavier map sum {want['heavy']}.")


if __name__ == "__main__":
    main()
