#!/usr/bin/env python3
"""Walia benchmark runner (Python 3, standard library only).

Runs each workload for walia, lua5.4 and python3 interleaved (round-robin,
one run of each language per round), checks that all three print the same
result, takes medians and prints a markdown table with the performance
targets. Also measures `walia -e` startup time and the peak RSS of the
alloc workload. See bench/README.md.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)

# name -> expected printed result (all three implementations must print it)
WORKLOADS = {
    "fib": "832040",
    "loop": "1249999975000000",
    "records": "788199048",
    "strings": "5888890",
    "closures": "999999000000",
}
ALLOC_EXPECTED = "4500003500000"

# Workloads whose target includes "<= 2.0x Lua"; every workload must be < 1.0x Python.
LUA_TARGET = {"fib": 2.0, "loop": 2.0, "closures": 2.0}
PY_TARGET = 1.0
STARTUP_TARGET_MS = 10.0
STARTUP_RUNS = 20
RSS_TARGET_BYTES = 50 * 1000 * 1000  # 50 MB

LANGS = ("walia", "lua", "python")

problems = []  # loud messages repeated at the end


def loud(msg):
    problems.append(msg)
    print("!!! " + msg, file=sys.stderr, flush=True)


def info(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- setup


def ensure_lua():
    lua = shutil.which("lua5.4")
    if lua:
        return lua
    info("lua5.4 not found: installing it with `apt-get install -y lua5.4` ...")
    prefix = []
    if hasattr(os, "geteuid") and os.geteuid() != 0 and shutil.which("sudo"):
        prefix = ["sudo"]
    cmd = prefix + ["apt-get", "install", "-y", "lua5.4"]
    if subprocess.run(cmd).returncode != 0:
        info("apt-get install failed; running `apt-get update` and retrying ...")
        subprocess.run(prefix + ["apt-get", "update"])
        subprocess.run(cmd)
    lua = shutil.which("lua5.4")
    if not lua:
        loud("could not install lua5.4: Lua columns will be empty")
    return lua


def build_walia():
    info("building walia: cargo build --release (in %s) ..." % ROOT)
    r = subprocess.run(["cargo", "build", "--release"], cwd=ROOT)
    if r.returncode != 0:
        loud("cargo build --release failed (exit %d)" % r.returncode)
        return False
    return True


# ---------------------------------------------------------------- running


class Result:
    def __init__(self):
        self.times = []
        self.outputs = set()
        self.error = None  # first failure message; no further runs after one

    def median(self):
        return statistics.median(self.times) if self.times else None


def run_once(cmd, timeout):
    """Run cmd, return (seconds, stdout stripped, error message or None)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=BENCH_DIR)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ss" % timeout
    except OSError as e:
        return None, "", "could not start: %s" % e
    dt = time.perf_counter() - t0
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        tail = " | ".join(err[-5:]) if err else "(no stderr)"
        return dt, out, "exit %d: %s" % (p.returncode, tail)
    return dt, out, None


def commands(name, walia, lua, args):
    cmds = {}
    if walia:
        cmds["walia"] = [walia, "run", "--memory", os.path.join(BENCH_DIR, name + ".wal")]
    if lua:
        lua_file = name + ".lua"
        if name == "strings" and args.lua_quadratic_strings:
            lua_file = "strings_quadratic.lua"
        cmds["lua"] = [lua, os.path.join(BENCH_DIR, lua_file)]
    cmds["python"] = [sys.executable if args.python is None else args.python,
                      os.path.join(BENCH_DIR, name + ".py")]
    return cmds


def bench_workload(name, walia, lua, args):
    cmds = commands(name, walia, lua, args)
    results = {lang: Result() for lang in cmds}
    for rnd in range(args.rounds):
        for lang in LANGS:  # interleaved: walia, lua, python, walia, lua, ...
            if lang not in cmds or results[lang].error:
                continue
            dt, out, err = run_once(cmds[lang], args.timeout)
            res = results[lang]
            if err:
                res.error = err
                loud("%s/%s failed in round %d: %s" % (name, lang, rnd + 1, err))
                continue
            res.times.append(dt)
            res.outputs.add(out)
        info("  %-9s round %d/%d: %s" % (name, rnd + 1, args.rounds, "  ".join(
            "%s %.3fs" % (l, results[l].times[-1]) for l in LANGS
            if l in results and results[l].times and len(results[l].times) == rnd + 1)))
    # result checks
    expected = WORKLOADS[name]
    ok = True
    for lang, res in results.items():
        if len(res.outputs) > 1:
            loud("MISMATCH %s/%s: output differs between rounds: %s"
                 % (name, lang, sorted(res.outputs)))
            ok = False
        for out in res.outputs:
            if out != expected:
                loud("MISMATCH %s/%s printed %r, expected %r" % (name, lang, out[:200], expected))
                ok = False
    return results, ok


def measure_startup(walia, timeout):
    forms = [[walia, "-e", "print 1;", "--memory"], [walia, "--memory", "-e", "print 1;"]]
    for cmd in forms:
        dt, out, err = run_once(cmd, timeout)
        if err is None and out == "1":
            break
    else:
        loud("startup: `%s` failed: %s (output %r)" % (" ".join(forms[0]), err, out[:200]))
        return None, None
    times = []
    for _ in range(STARTUP_RUNS):
        dt, out, err = run_once(cmd, timeout)
        if err or out != "1":
            loud("startup run failed: %s (output %r)" % (err, out[:200]))
            return None, cmd
        times.append(dt * 1000.0)
    return statistics.median(times), cmd


def measure_alloc(walia, timeout):
    """Return (peak RSS bytes, seconds, method) for the alloc workload."""
    cmd = [walia, "run", "--memory", os.path.join(BENCH_DIR, "alloc.wal")]
    if os.path.exists("/usr/bin/time"):
        full = ["/usr/bin/time", "-v"] + cmd
        method = "/usr/bin/time -v"
    else:
        # A fresh Python child: its RUSAGE_CHILDREN ru_maxrss covers only walia
        # (the delta against nothing), unaffected by earlier benchmark runs.
        probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
                 "r=subprocess.run(sys.argv[1:]);"
                 "sys.stderr.write('\\nRUSAGE_MAXRSS_KB %d ELAPSED %f\\n' % ("
                 "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
                 "time.perf_counter()-t));sys.exit(r.returncode)")
        full = [sys.executable, "-c", probe] + cmd
        method = "getrusage(RUSAGE_CHILDREN).ru_maxrss"
    t0 = time.perf_counter()
    try:
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=BENCH_DIR)
    except subprocess.TimeoutExpired:
        loud("alloc: timed out after %ss" % timeout)
        return None, None, method
    dt = time.perf_counter() - t0
    out = p.stdout.decode("utf-8", "replace").strip()
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err) or \
        re.search(r"RUSAGE_MAXRSS_KB (\d+)", err)
    rss = int(m.group(1)) * 1024 if m else None
    if sys.platform == "darwin" and m and "RUSAGE" in m.group(0):
        rss //= 1024  # macOS reports ru_maxrss in bytes
    if p.returncode != 0 or "exited with non-zero status" in err:
        tail = " | ".join(l for l in err.strip().splitlines()
                          if not l.startswith("\t"))[-400:]
        loud("alloc: walia failed (exit %d): %s" % (p.returncode, tail))
        return rss, None, method
    if out != ALLOC_EXPECTED:
        loud("MISMATCH alloc/walia printed %r, expected %r" % (out[:200], ALLOC_EXPECTED))
    return rss, dt, method


# ---------------------------------------------------------------- report


def fmt_s(x):
    return "—" if x is None else "%.3f" % x


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "—" if r is None else "%.2fx" % r


def mark(ok):
    return "n/a" if ok is None else ("PASS" if ok else "**FAIL**")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `cargo build --release` first")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds per workload (default 5, minimum 1)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    choices=sorted(WORKLOADS) + ["alloc", "startup"],
                    help="run only this workload (repeatable): %s, alloc, startup"
                    % ", ".join(WORKLOADS))
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="per-run timeout in seconds (default 600)")
    ap.add_argument("--walia", metavar="PATH",
                    help="walia binary (default: target/release/walia; implies nothing about --no-build)")
    ap.add_argument("--python", metavar="PATH", help="python interpreter for the peers "
                    "(default: the one running this script)")
    ap.add_argument("--lua-quadratic-strings", action="store_true",
                    help="use strings_quadratic.lua (s = s .. i, very slow) as the Lua strings peer")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")

    selected = args.only or (list(WORKLOADS) + ["alloc", "startup"])
    lua = ensure_lua()

    walia = args.walia or os.path.join(ROOT, "target", "release", "walia")
    if not args.no_build and not args.walia:
        build_walia()
    if not (os.path.isfile(walia) and os.access(walia, os.X_OK)):
        loud("walia binary not found at %s: Walia columns will be empty" % walia)
        walia = None

    info("walia: %s\nlua:   %s\npython: %s\nrounds: %d (interleaved walia/lua/python)"
         % (walia, lua, args.python or sys.executable, args.rounds))

    rows = []
    for name in WORKLOADS:
        if name not in selected:
            continue
        info("== %s" % name)
        results, ok = bench_workload(name, walia, lua, args)
        rows.append((name, results, ok))

    startup = startup_cmd = None
    if walia and "startup" in selected:
        info("== startup (%d runs)" % STARTUP_RUNS)
        startup, startup_cmd = measure_startup(walia, args.timeout)

    rss = alloc_time = None
    rss_method = None
    if walia and "alloc" in selected:
        info("== alloc (peak RSS)")
        rss, alloc_time, rss_method = measure_alloc(walia, args.timeout)

    # ---- table
    print()
    print("## Walia benchmarks (median of %d interleaved rounds)" % args.rounds)
    print()
    if rows:
        print("| workload | walia s | lua s | python s | walia/lua | walia/python | result | targets |")
        print("|---|---:|---:|---:|---:|---:|---|---|")
        for name, results, ok in rows:
            med = {l: (results[l].median() if l in results and not results[l].error else None)
                   for l in LANGS}
            rl = ratio(med["walia"], med["lua"])
            rp = ratio(med["walia"], med["python"])
            targets = []
            wrong = results.get("walia") is not None and \
                results["walia"].outputs - {WORKLOADS[name]}
            if wrong:  # a wrong answer cannot pass a speed target
                rl = rp = None
            if name in LUA_TARGET:
                targets.append("≤%.1fx Lua: %s" % (LUA_TARGET[name],
                               mark(None if rl is None else rl <= LUA_TARGET[name])))
            targets.append("<%.1fx Python: %s" % (PY_TARGET, mark(None if rp is None else rp < PY_TARGET)))
            failed = [l for l in LANGS if l in results and results[l].error]
            res = "ok" if ok and not failed else "**MISMATCH**" if not ok else \
                "**ERROR** (%s)" % ", ".join(failed)
            label = name + (" (lua: s..i)" if name == "strings" and args.lua_quadratic_strings else "")
            if wrong:
                targets = ["**FAIL** (wrong result)"]
            elif "walia" in results and results["walia"].error:
                targets = ["**FAIL** (walia error)"]
            print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, fmt_s(med["walia"]), fmt_s(med["lua"]), fmt_s(med["python"]),
                fmt_ratio(rl), fmt_ratio(rp), res, "; ".join(targets)))
        print()
    if "startup" in selected:
        print("| measurement | value | target | |")
        print("|---|---:|---|---|")
        print("| startup `%s` (median of %d) | %s | < %.0f ms | %s |" % (
            "walia -e 'print 1;' --memory" if not startup_cmd or startup_cmd[1] == "-e"
            else "walia --memory -e 'print 1;'", STARTUP_RUNS,
            "—" if startup is None else "%.2f ms" % startup, STARTUP_TARGET_MS,
            mark(None if startup is None else startup < STARTUP_TARGET_MS)))
    if "alloc" in selected:
        if "startup" not in selected:
            print("| measurement | value | target | |")
            print("|---|---:|---|---|")
        how = "not run" if rss_method is None else "%s; run took %s s" % (
            rss_method, fmt_s(alloc_time))
        print("| alloc peak RSS (%s) | %s | < %d MB | %s |" % (
            how,
            "—" if rss is None else "%.1f MB" % (rss / 1e6), RSS_TARGET_BYTES // 1000000,
            mark(None if rss is None or alloc_time is None else rss < RSS_TARGET_BYTES)))
    print()
    return report_problems(problems)


def report_problems(found):
    """Print the runs that failed, if any; the exit status: 1 when there were some."""
    if not found:
        return 0
    print("### Problems")
    print()
    for p in found:
        print("- " + p)
    print()
    return 1


if __name__ == "__main__":
    sys.exit(main())
