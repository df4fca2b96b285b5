#!/usr/bin/env python3
"""Tables against SQLite (standard library only; installs the sqlite3 CLI with apt-get when
it is missing and the machine allows it).

On a users(id, age, score) CSV of N rows (default 10,000,000; `--rows N`), interleaved,
median of `--rounds` (default 3):
  1. import: `walia import` vs sqlite3's `.import` into a table with an INTEGER PRIMARY KEY;
  2. scan: `for (u in db.users) if (u.age > 18) s = s + u.score * 2;` vs
     `SELECT sum(score*2) FROM users WHERE age > 18` (both print the same total), with the
     peak RSS of each;
  3. start-up: `walia run` of `print db.users.count();` on the imported heap.
Prints a markdown table for docs/BENCHMARKS.md. Usage: python3 bench/tables.py [--no-build]
"""

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALIA = os.path.join(ROOT, "target", "release", "walia")
SCAN = "var s = 0.0;\nfor (u in db.users) if (u.age > 18) s = s + u.score * 2;\nprint s;\n"
QUERY = "SELECT sum(score*2) FROM users WHERE age > 18;"


def arg(name, default):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


def ensure_sqlite():
    if shutil.which("sqlite3"):
        return
    subprocess.run(["apt-get", "install", "-y", "-q", "sqlite3"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not shutil.which("sqlite3"):
        sys.exit("sqlite3 is not installed (apt-get install sqlite3)")


def write_csv(path, rows):
    rng = random.Random(1)
    with open(path, "w") as f:
        f.write("id,age,score\n")
        buf = []
        for i in range(1, rows + 1):
            buf.append(f"{i},{rng.randint(1, 90)},{rng.randint(0, 100000) / 100}\n")
            if len(buf) >= 100_000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def measure(args):
    """Wall time and stdout of one run."""
    env = dict(os.environ)
    env.pop("WALIA_HEAP", None)
    t = time.perf_counter()
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=env)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr.decode()}")
    return elapsed, p.stdout.decode().strip()


def peak_rss(args):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, capture_output=True, text=True)
    return int(p.stderr.strip().splitlines()[-1])


def main():
    if "--no-build" not in sys.argv:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    ensure_sqlite()
    rows = arg("--rows", 10_000_000)
    rounds = arg("--rounds", 3)
    tmp = tempfile.mkdtemp(prefix="walia-tables-")
    try:
        csv = os.path.join(tmp, "users.csv")
        print(f"writing {rows:,} rows to {csv} ...", file=sys.stderr)
        write_csv(csv, rows)
        scan = os.path.join(tmp, "scan.wal")
        with open(scan, "w") as f:
            f.write(SCAN)
        imports = {"walia": [], "sqlite": []}
        for r in range(rounds):
            wld, db = os.path.join(tmp, f"u{r}.wld"), os.path.join(tmp, f"u{r}.db")
            imports["sqlite"].append(measure([
                "sqlite3", db,
                "CREATE TABLE users(id INTEGER PRIMARY KEY, age INTEGER, score REAL);",
                ".mode csv", f".import --skip 1 {csv} users"])[0])
            imports["walia"].append(measure([WALIA, "--quiet", "import", wld, "users", csv])[0])
        wld, db = os.path.join(tmp, "u0.wld"), os.path.join(tmp, "u0.db")
        scans = {"walia": [], "sqlite": []}
        totals = {}
        for _ in range(rounds + 2):
            t, out = measure(["sqlite3", db, QUERY])
            scans["sqlite"].append(t)
            totals["sqlite"] = out
            t, out = measure([WALIA, "--heap", wld, "run", scan])
            scans["walia"].append(t)
            totals["walia"] = out
        if abs(float(totals["walia"]) - float(totals["sqlite"])) > 1e-6 * abs(float(totals["sqlite"])):
            sys.exit(f"the totals differ: {totals}")
        rss = {
            "walia": peak_rss([WALIA, "--heap", wld, "run", scan]),
            "sqlite": peak_rss(["sqlite3", db, QUERY]),
            "walia import": peak_rss([WALIA, "--quiet", "import", os.path.join(tmp, "r.wld"), "users", csv]),
        }
        count = []
        for _ in range(15):
            t = time.perf_counter()
            subprocess.run([WALIA, "--heap", wld, "-e", "print db.users.count();"],
                           check=True, capture_output=True)
            count.append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in imports.items()}
        smed = {k: statistics.median(v) for k, v in scans.items()}
        print(f"| measure ({rows:,} rows) | Walia | SQLite | ratio |")
        print("|---|---:|---:|---:|")
        print(f"| import (CSV, integer primary key) | {med['walia']:.2f} s | {med['sqlite']:.2f} s "
              f"| {med['walia'] / med['sqlite']:.2f}x |")
        print(f"| scan `age > 18`, sum `score * 2` | {smed['walia']:.2f} s | {smed['sqlite']:.2f} s "
              f"| {smed['walia'] / smed['sqlite']:.2f}x |")
        print(f"| scan time per row | {smed['walia'] / rows * 1e9:.0f} ns | "
              f"{smed['sqlite'] / rows * 1e9:.0f} ns | |")
        print(f"| peak RSS of the scan | {rss['walia'] / 1024:.1f} MB | {rss['sqlite'] / 1024:.1f} MB | |")
        print(f"| peak RSS of the import | {rss['walia import'] / 1024:.1f} MB | | |")
        print(f"| `print db.users.count();` | {statistics.median(count) * 1000:.1f} ms (min "
              f"{min(count) * 1000:.1f}) | | |")
        sizes = (os.path.getsize(wld), os.path.getsize(db))
        print(f"| file size | {sizes[0] / 2**20:.0f} MiB | {sizes[1] / 2**20:.0f} MiB | |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
