#!/usr/bin/env python3
"""Pipelines against SQLite, CPython and grep (standard library only; installs the sqlite3 CLI
with apt-get when it is missing, like bench/tables.py).

One run, every measurement interleaved round by round (median of `--rounds`, default 5, and
the minimum), wall-clock time of the whole process unless noted:

  a. table pipeline: on a users(id, age, score) table of `--rows` rows (default 10,000,000;
     the CSV of bench/tables.py, imported with `walia import` and sqlite3's `.import`)
       print db.users |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum();
     vs  SELECT sum(score*2) FROM users WHERE age > 18;
     target walia <= 1.0x SQLite (aim 0.5x); peak RSS of walia < 64 MB.
  b. the same pipeline with `|> parallel(2)` after `db.users` vs without: target >= 1.7x faster.
  c. a list of `--list` (default 1,000,000) maps {age, score} built in the script; only the
     pipeline is timed (clock() in Walia, time.perf_counter() in Python around
     `sum(u["score"] * 2 for u in users if u["age"] > 18)`): target walia faster than Python.
  d. print lines(PATH) |> filter(l => contains(l, "ERROR")) |> count();  vs  grep -c ERROR PATH
     over a generated log (default 1024 MB; `--log-mb N` or $PIPES_LOG_MB; ~100-byte lines,
     ~5% ERROR), page cache warmed first: target within 2.0x of grep.

Generated inputs (the CSV and the log) are cached in $TMPDIR/walia-pipes/, keyed by size, and
reused by later runs; the heap and the SQLite database are made afresh in a temporary
directory that is removed at the end.

Usage: python3 bench/pipes.py [--quick] [--build] [--rows N] [--rounds N] [--list N]
                              [--log-mb N] [--walia PATH]
  --quick   1,000,000 rows, 100 MB log, 3 rounds
  --build   run `cargo build --release` first (otherwise only when the binary is missing)

Exit status 1 when two implementations disagree on a result or a required run fails; a
missed target does not change it.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
sys.dont_write_bytecode = True  # no bench/__pycache__ from importing tables.py
from tables import ensure_sqlite, write_csv  # noqa: E402  (same CSV and set-up as tables.py)

CACHE = os.path.join(tempfile.gettempdir(), "walia-pipes")

PIPE = "db.users |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum()"
PIPE_PAR = "db.users |> parallel(2) |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum()"
QUERY = "SELECT sum(score*2) FROM users WHERE age > 18;"

LIST_WAL = """fun main() {
    var users = List();
    for (i in 0..%(n)d) users.push({age: (i * 7919) %% 90, score: (i * 104729) %% 1000});
    var t = clock();
    var s = users |> filter(u => u.age > 18) |> map(u => u.score * 2) |> sum();
    var dt = clock() - t;
    print s;
    print dt;
}
main();
"""
LIST_PY = """import time
def main():
    users = [{"age": (i * 7919) %% 90, "score": (i * 104729) %% 1000} for i in range(%(n)d)]
    t = time.perf_counter()
    s = sum(u["score"] * 2 for u in users if u["age"] > 18)
    dt = time.perf_counter() - t
    print(s)
    print(dt)
main()
"""

LINES_WAL = 'print lines("%s") |> filter(l => contains(l, "ERROR")) |> count();\n'

problems = []


def info(msg):
    print(msg, file=sys.stderr, flush=True)


def loud(msg):
    problems.append(msg)
    info("!!! " + msg)


# ---------------------------------------------------------------- inputs


def cached(name, make):
    """Path of CACHE/name, made by make(tmp_path) first when missing (atomically)."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, name)
    if not os.path.exists(path):
        tmp = path + ".part%d" % os.getpid()
        t = time.perf_counter()
        info("generating %s ..." % path)
        make(tmp)
        os.replace(tmp, path)
        info("  done in %.1f s" % (time.perf_counter() - t))
    return path


SERVICES = ["api", "auth", "billing", "search", "worker", "scheduler", "cache", "mailer"]
MESSAGES = {
    "INFO": ["request served path=/v1/orders/{n} status=200",
             "user login ok user_id={n} method=password",
             "job finished job_id={n} rows={m}",
             "cache refresh keys={n} hit_ratio=0.{m}"],
    "DEBUG": ["sql SELECT * FROM orders WHERE id={n}",
              "span start trace={n} parent={m}",
              "retry budget remaining={m} key=k{n}"],
    "WARN": ["slow query table=orders rows={m} threshold=250ms",
             "queue depth high depth={m} limit=1000"],
    "ERROR": ["payment declined order={n} code=E{m}",
              "upstream timeout host=db-{m}.internal retries=3",
              "unhandled exception in handler id={n}"],
}
LEVELS = ["INFO"] * 60 + ["DEBUG"] * 25 + ["WARN"] * 10 + ["ERROR"] * 5  # ~5% ERROR


def write_log(path, mb):
    """~mb MiB of ~100-byte log lines: timestamp, level, service, message, took=Nms."""
    target = mb * 1024 * 1024
    rng = random.Random(7)
    t_ms = 1_700_000_000_000
    written = 0
    with open(path, "w", encoding="ascii") as f:
        while written < target:
            buf = []
            for _ in range(20_000):
                t_ms += rng.randint(1, 40)
                sec, ms = divmod(t_ms, 1000)
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
                level = LEVELS[rng.randrange(100)]
                msg = rng.choice(MESSAGES[level]).format(n=rng.randrange(1_000_000),
                                                         m=rng.randrange(1000))
                buf.append("%s.%03dZ %-5s [%s-%d] %s took=%dms\n" % (
                    ts, ms, level, rng.choice(SERVICES), rng.randrange(8), msg,
                    rng.randrange(1, 2000)))
            chunk = "".join(buf)
            f.write(chunk)
            written += len(chunk)


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# ---------------------------------------------------------------- running


def run(args, timeout=1800):
    """(seconds, stdout, None, None), or (None, stdout, message, first stderr line)."""
    env = dict(os.environ)
    env.pop("WALIA_HEAP", None)
    t = time.perf_counter()
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout, "timed out"
    dt = time.perf_counter() - t
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0:
        err = [l for l in p.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
        first = err[0].strip() if err else "(no stderr)"
        return None, out, "exit %d: %s" % (p.returncode, first), first
    return dt, out, None, None


def peak_rss_kb(args):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        return None
    return int(p.stderr.strip().splitlines()[-1])


def plan(args):
    """The last line of --explain for a walia command (compiled / not compiled: ...)."""
    p = subprocess.run(args[:1] + ["--explain", "--quiet"] + args[1:], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    lines = [l.strip() for l in p.stderr.splitlines()
             if l.strip().startswith(("compiled", "not compiled"))]
    return lines[0] if lines else ("(exit %d)" % p.returncode)


class Bench:
    """One command measured across rounds."""

    def __init__(self, name, cmd, inner=False):
        self.name, self.cmd, self.inner = name, cmd, inner
        self.times, self.outputs, self.error, self.why = [], set(), None, None
        self.wall, self.own = [], []  # process wall time; time the script measured itself

    def once(self):
        if self.error:
            return
        dt, out, err, why = run(self.cmd)
        lines = out.splitlines()
        if not err and self.inner and len(lines) != 2:
            err = why = "expected two lines (result, seconds), got %r" % out[:200]
        if err:
            self.error, self.why = err, why
            loud("%s failed: %s" % (self.name, err))
            return
        self.wall.append(dt)
        if len(lines) == 2:  # the script prints its result, then the seconds it measured itself
            self.outputs.add(lines[0])
            self.own.append(float(lines[1]))
        else:
            self.outputs.add(out)
        self.times.append(self.own[-1] if self.inner else dt)

    def med(self):
        return statistics.median(self.times) if self.times else None

    def result(self):
        return next(iter(self.outputs)) if len(self.outputs) == 1 else None


def same_number(a, b):
    if a is None or b is None:
        return False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return abs(x - y) <= 1e-9 * max(1.0, abs(y))


def fmt_t(b):
    if b.error or not b.times:
        return "n/a"
    return "%.3f s (min %.3f)" % (b.med(), min(b.times))


def fmt_own(b):
    if b.error or not b.own:
        return "n/a"
    return "%.3f s (min %.3f)" % (statistics.median(b.own), min(b.own))


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1M rows, 100 MB log, 3 rounds")
    ap.add_argument("--build", action="store_true", help="cargo build --release first")
    ap.add_argument("--no-build", action="store_true", help="never build (accepted for symmetry)")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--list", type=int, default=1_000_000)
    ap.add_argument("--log-mb", type=int)
    ap.add_argument("--walia", metavar="PATH")
    a = ap.parse_args()
    rows = a.rows or (1_000_000 if a.quick else 10_000_000)
    rounds = a.rounds or (3 if a.quick else 5)
    log_mb = a.log_mb or int(os.environ.get("PIPES_LOG_MB") or (100 if a.quick else 1024))

    walia = a.walia or os.path.join(ROOT, "target", "release", "walia")
    if not a.walia and not a.no_build and (a.build or not os.path.exists(walia)):
        info("building walia: cargo build --release ...")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    if not os.path.exists(walia):
        sys.exit("no walia binary at %s" % walia)
    ensure_sqlite()

    csv = cached("users-%d.csv" % rows, lambda p: write_csv(p, rows))
    log = cached("app-%dMB.log" % log_mb, lambda p: write_log(p, log_mb))

    tmp = tempfile.mkdtemp(prefix="walia-pipes-")
    try:
        # A private copy: other work may rebuild target/release/walia while this runs.
        shutil.copy2(walia, os.path.join(tmp, "walia"))
        walia = os.path.join(tmp, "walia")
        wld, db = os.path.join(tmp, "users.wld"), os.path.join(tmp, "users.db")
        t = time.perf_counter()
        dt, _, err, _ = run([walia, "--quiet", "import", wld, "users", csv])
        if err:
            sys.exit("walia import failed: %s" % err)
        info("walia import of %s rows: %.2f s" % (f"{rows:,}", dt))
        dt, _, err, _ = run(["sqlite3", db,
                          "CREATE TABLE users(id INTEGER PRIMARY KEY, age INTEGER, score REAL);",
                          ".mode csv", ".import --skip 1 %s users" % csv])
        if err:
            sys.exit("sqlite3 import failed: %s" % err)
        info("sqlite3 import: %.2f s" % dt)

        def script(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        # A block keeps t local (nothing new is committed to the heap); the second line is the
        # pipeline's own time, the process's wall time is measured around it.
        timed = "{ var t = clock(); print %s; print clock() - t; }\n"
        pipe_wal = script("pipe.wal", timed % PIPE)
        par_wal = script("parallel.wal", timed % PIPE_PAR)
        list_wal = script("list.wal", LIST_WAL % {"n": a.list})
        list_py = script("list.py", LIST_PY % {"n": a.list})
        lines_wal = script("lines.wal", LINES_WAL % log.replace("\\", "\\\\").replace('"', '\\"'))

        heap = [walia, "--heap", wld, "run"]
        benches = [
            Bench("sqlite", ["sqlite3", db, QUERY]),
            Bench("walia", heap + [pipe_wal]),
            Bench("walia parallel(2)", heap + [par_wal]),
            Bench("python list", [sys.executable, list_py], inner=True),
            Bench("walia list", [walia, "run", "--memory", list_wal], inner=True),
            Bench("grep", ["grep", "-c", "ERROR", log]),
            Bench("walia lines", [walia, "run", "--memory", lines_wal]),
        ]
        by = {b.name: b for b in benches}

        # Warm-up (untimed): page cache for the log, heap and database; the plans.
        info("warming the page cache (%d MB log) ..." % log_mb)
        warm(log)
        for f in (wld, db):
            warm(f)
        plans = {
            "walia": plan(heap + [pipe_wal]),
            "walia parallel(2)": plan(heap + [par_wal]),
            "walia list": plan([walia, "run", "--memory", list_wal]),
            "walia lines": plan([walia, "run", "--memory", lines_wal]),
        }
        for b in benches:
            run(b.cmd)

        for r in range(rounds):
            for b in benches:  # interleaved: one run of each per round
                b.once()
            info("round %d/%d: %s" % (r + 1, rounds, "  ".join(
                "%s %.3f" % (b.name, b.times[-1]) for b in benches
                if len(b.times) == r + 1)))

        rss_walia = peak_rss_kb(heap + [pipe_wal])
        rss_sqlite = peak_rss_kb(["sqlite3", db, QUERY])
        rss_lines = peak_rss_kb([walia, "run", "--memory", lines_wal])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # ---------------------------------------------------------------- results
    def check(x, y):
        bx, by_ = by[x], by[y]
        if bx.error or by_.error:
            return
        if len(bx.outputs) > 1 or len(by_.outputs) > 1:
            loud("results vary between rounds: %s %s, %s %s"
                 % (x, sorted(bx.outputs), y, sorted(by_.outputs)))
        elif not same_number(bx.result(), by_.result()):
            loud("MISMATCH: %s printed %r, %s printed %r" % (x, bx.result(), y, by_.result()))

    check("walia", "sqlite")
    check("walia parallel(2)", "walia")
    check("walia list", "python list")
    check("walia lines", "grep")

    def ratio(x, y):
        if by[x].error or by[y].error or not by[x].times or not by[y].times:
            return None
        return by[x].med() / by[y].med()

    summary = []  # (measure, walia, peer, value, target, met)

    r = ratio("walia", "sqlite")
    summary.append(("a. table pipeline vs SQLite (%s rows)" % f"{rows:,}", fmt_t(by["walia"]),
                    fmt_t(by["sqlite"]), "n/a" if r is None else "%.2fx" % r,
                    "<= 1.0x (aim 0.5x)", "n/a" if r is None else ("yes" if r <= 1.0 else "no")))
    summary.append(("a. peak RSS of the walia pipeline",
                    "n/a" if rss_walia is None else "%.1f MB" % (rss_walia / 1024),
                    "n/a" if rss_sqlite is None else "%.1f MB" % (rss_sqlite / 1024), "",
                    "< 64 MB", "n/a" if rss_walia is None else
                    ("yes" if rss_walia * 1024 < 64 * 10**6 else "no")))
    summary.append(("a. the walia pipeline alone (clock())", fmt_own(by["walia"]), "", "", "", ""))
    pb, sb = by["walia parallel(2)"], by["walia"]
    for what, key, show in (("process", "wall", fmt_t), ("pipeline alone", "own", fmt_own)):
        label = "b. parallel(2) vs serial, %s (%s rows)" % (what, f"{rows:,}")
        if pb.error:
            summary.append((label, "n/a", show(sb), "n/a (parallel failed: %s)" % pb.why,
                            ">= 1.7x faster", "n/a"))
            continue
        x, y = getattr(sb, key), getattr(pb, key)
        s = statistics.median(x) / statistics.median(y) if x and y else None
        summary.append((label, show(pb), show(sb), "n/a" if s is None else "%.2fx faster" % s,
                        ">= 1.7x faster", "n/a" if s is None else ("yes" if s >= 1.7 else "no")))
    r = ratio("walia list", "python list")
    summary.append(("c. list of %s maps, pipeline only" % f"{a.list:,}", fmt_t(by["walia list"]),
                    fmt_t(by["python list"]), "n/a" if r is None else "%.2fx" % r,
                    "< 1.0x Python", "n/a" if r is None else ("yes" if r < 1.0 else "no")))
    r = ratio("walia lines", "grep")
    summary.append(("d. lines \\|> filter(contains ERROR) \\|> count(), %d MB" % log_mb,
                    fmt_t(by["walia lines"]), fmt_t(by["grep"]),
                    "n/a" if r is None else "%.2fx" % r, "<= 2.0x grep",
                    "n/a" if r is None else ("yes" if r <= 2.0 else "no")))
    summary.append(("d. peak RSS of the lines pipeline",
                    "n/a" if rss_lines is None else "%.1f MB" % (rss_lines / 1024), "", "", "", ""))

    print()
    print("## Pipelines (median of %d interleaved rounds, min in brackets)" % rounds)
    print()
    for name, key in (("a", "walia"), ("b", "walia parallel(2)"), ("c", "walia list"),
                      ("d", "walia lines")):
        print("%s. %-18s plan: %s" % (name, key, plans[key]))
    print("results: table sum %s, list sum %s, ERROR lines %s" % (
        by["sqlite"].result(), by["python list"].result(), by["grep"].result()))
    print()
    print("| measure | Walia | peer | ratio | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    for row in summary:
        print("| " + " | ".join(row) + " |")
    print()
    print("peers: a. sqlite3 %s; c. CPython %s; d. grep (%s)" % (
        subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0],
        sys.version.split()[0],
        subprocess.run(["grep", "--version"], capture_output=True, text=True)
        .stdout.splitlines()[0]))
    if problems:
        print("\nProblems:")
        for p in problems:
            print("- " + p)
    fatal = [p for p in problems if not p.startswith("walia parallel(2) failed")]
    sys.exit(1 if fatal else 0)


if __name__ == "__main__":
    main()
