#!/usr/bin/env python3
"""General-purpose benchmark set of issue 21 (Python 3, standard library only).

Measures, in one run, the eight programs of bench/general/ (binary_trees,
nbody, spectral_norm, fannkuch, mandelbrot, word_freq, richards, csv_lines)
and the five workloads of bench/run.py (fib, loop, records, strings,
closures), each in Walia, Lua 5.4 and Python 3. Rounds are interleaved: in
every round each program runs once per language (walia, lua, python), so drift
in machine load affects all three alike. Times are whole-process wall time;
the table gives medians over the rounds (with --cpu, the child's user + system
CPU time instead, steadier on a busy machine). Every run's output is checked against
the expected output (bench/general/NAME.out, or run.py's value for the five),
so the three languages agree. Also the peak RSS of binary_trees in Walia and
Lua. With --extra, also nine shapes the interpreter was not tuned on (queens,
matmul, sieve, collatz, lcs, bfs, intloop, strmethods, recur), outside the geometric
means. See bench/README.md.
"""

import argparse
import math
import os
import re
import resource
import subprocess
import sys
import time

import run as base  # bench/run.py: lua install, build, run_once, Result, report helpers

BENCH_DIR = base.BENCH_DIR
ROOT = base.ROOT
GENERAL_DIR = os.path.join(BENCH_DIR, "general")

NEW_PROGRAMS = ("binary_trees", "nbody", "spectral_norm", "fannkuch", "mandelbrot",
                "word_freq", "richards", "csv_lines")
OLD_PROGRAMS = tuple(base.WORKLOADS)  # fib, loop, records, strings, closures
ALL_PROGRAMS = NEW_PROGRAMS + OLD_PROGRAMS
# Shapes the interpreter was not tuned on (run with --extra): a check against fitting the
# thirteen. Reported with the same targets, outside the geometric means.
EXTRA_PROGRAMS = ("queens", "matmul", "sieve", "collatz", "lcs", "bfs", "intloop",
                  "strmethods", "recur")

LUA_TARGET = 2.0      # walia/lua at most this
PY_TARGET = 1.0       # walia/python below this
GEOMEAN_TARGET = 1.5  # geometric mean of walia/lua
RSS_PROGRAM = "binary_trees"
RSS_TARGET = 1.5      # walia peak RSS at most this times Lua's

LANGS = base.LANGS


def expected_output(name):
    if name in base.WORKLOADS:
        return base.WORKLOADS[name]
    with open(os.path.join(GENERAL_DIR, name + ".out"), encoding="utf-8") as f:
        return f.read().strip()


def program_dir(name):
    return GENERAL_DIR if name in NEW_PROGRAMS + EXTRA_PROGRAMS else BENCH_DIR


def commands(name, walia, lua, python):
    d = program_dir(name)
    cmds = {"python": [python, os.path.join(d, name + ".py")]}
    if walia:
        cmds["walia"] = [walia, "run", "--memory", os.path.join(d, name + ".wal")]
    if lua:
        cmds["lua"] = [lua, os.path.join(d, name + ".lua")]
    return cmds


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_rounds(names, walia, lua, args):
    """Interleaved rounds; returns {name: {lang: Result}} holding wall times, or the
    children's CPU times with --cpu."""
    python = args.python or sys.executable
    cmds = {name: commands(name, walia, lua, python) for name in names}
    results = {name: {lang: base.Result() for lang in cmds[name]} for name in names}
    expected = {name: expected_output(name) for name in names}
    for rnd in range(args.rounds):
        base.info("== round %d/%d" % (rnd + 1, args.rounds))
        for name in names:
            line = []
            for lang in LANGS:
                res = results[name].get(lang)
                if res is None or res.error:
                    continue
                cpu0 = children_cpu()
                dt, out, err = base.run_once(cmds[name][lang], args.timeout)
                if args.cpu:
                    dt = children_cpu() - cpu0
                if err:
                    res.error = err
                    base.loud("%s/%s failed in round %d: %s" % (name, lang, rnd + 1, err))
                    continue
                if out != expected[name]:
                    res.error = "wrong output"
                    base.loud("MISMATCH %s/%s printed %r, expected %r"
                              % (name, lang, out[:300], expected[name][:300]))
                    continue
                res.times.append(dt)
                line.append("%s %.3fs" % (lang, dt))
            base.info("  %-14s %s" % (name, "  ".join(line)))
    return results


def peak_rss(cmd, timeout):
    """Peak RSS in bytes of one run of cmd, or None (reported loudly)."""
    if os.path.exists("/usr/bin/time"):
        full = ["/usr/bin/time", "-v"] + cmd
    else:
        # A fresh Python child: its RUSAGE_CHILDREN ru_maxrss covers only cmd.
        probe = ("import resource,subprocess,sys;r=subprocess.run(sys.argv[1:]);"
                 "sys.stderr.write('\\nRUSAGE_MAXRSS_KB %d\\n' % "
                 "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
                 "sys.exit(r.returncode)")
        full = [sys.executable, "-c", probe] + cmd
    try:
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=BENCH_DIR)
    except subprocess.TimeoutExpired:
        base.loud("peak RSS: `%s` timed out after %ss" % (" ".join(cmd), timeout))
        return None
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        base.loud("peak RSS: `%s` failed (exit %d)" % (" ".join(cmd), p.returncode))
        return None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err) or \
        re.search(r"RUSAGE_MAXRSS_KB (\d+)", err)
    if not m:
        base.loud("peak RSS: no figure in the output of `%s`" % " ".join(full))
        return None
    return int(m.group(1)) * 1024


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def medians(res):
    return {lang: (res[lang].median() if lang in res and not res[lang].error else None)
            for lang in LANGS}


def yes_no(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def print_report(names, results, rss, args):
    print()
    print("## General-purpose benchmarks (median of %d interleaved rounds, %s)"
          % (args.rounds, "CPU time, user + system" if args.cpu else "wall time"))
    print()
    print("| program | walia s | lua s | python s | walia/lua | walia/python | meets |")
    print("|---|---:|---:|---:|---:|---:|---|")
    lua_ratios = {}
    for name in names:
        med = medians(results[name])
        rl = base.ratio(med["walia"], med["lua"])
        rp = base.ratio(med["walia"], med["python"])
        lua_ratios[name] = rl
        ok = None if rl is None or rp is None else (rl <= LUA_TARGET and rp < PY_TARGET)
        failed = [l for l in LANGS if l in results[name] and results[name][l].error]
        verdict = yes_no(ok) if not failed else "**FAIL** (%s)" % ", ".join(failed)
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            name, base.fmt_s(med["walia"]), base.fmt_s(med["lua"]), base.fmt_s(med["python"]),
            base.fmt_ratio(rl), base.fmt_ratio(rp), verdict))
    print()
    print("Meets: at most %.1fx Lua and below %.1fx Python." % (LUA_TARGET, PY_TARGET))
    print()
    for label, group in (("the eight new programs", NEW_PROGRAMS),
                         ("all thirteen programs", ALL_PROGRAMS)):
        chosen = [n for n in group if n in names]
        if not chosen:
            continue
        g = geomean([lua_ratios[n] for n in chosen])
        missing = [n for n in chosen if lua_ratios[n] is None]
        note = " (without %s)" % ", ".join(missing) if missing else ""
        print("- geometric mean of walia/lua over %s%s: %s (target ≤ %.1fx: %s)" % (
            label if len(chosen) == len(group) else "%d of %s" % (len(chosen), label), note,
            base.fmt_ratio(g), GEOMEAN_TARGET, yes_no(None if g is None else g <= GEOMEAN_TARGET)))
    if rss is not None:
        w, l = rss.get("walia"), rss.get("lua")
        r = base.ratio(w, l)
        print("- peak RSS of %s: walia %s, lua %s, ratio %s (target ≤ %.1fx: %s)" % (
            RSS_PROGRAM, "—" if w is None else "%.1f MB" % (w / 1e6),
            "—" if l is None else "%.1f MB" % (l / 1e6), base.fmt_ratio(r), RSS_TARGET,
            yes_no(None if r is None else r <= RSS_TARGET)))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds (default 5, minimum 1)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    choices=ALL_PROGRAMS + EXTRA_PROGRAMS,
                    help="run only this program (repeatable): %s"
                    % ", ".join(ALL_PROGRAMS + EXTRA_PROGRAMS))
    ap.add_argument("--extra", action="store_true",
                    help="also run the extra shapes: %s" % ", ".join(EXTRA_PROGRAMS))
    ap.add_argument("--walia", metavar="PATH",
                    help="walia binary (default target/release/walia; no build)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `cargo build --release` first")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak RSS measurement")
    ap.add_argument("--cpu", action="store_true",
                    help="time each run by its user + system CPU time instead of wall time")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="per-run timeout in seconds (default 600)")
    ap.add_argument("--python", metavar="PATH",
                    help="python interpreter for the peers (default: the one running this script)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")

    pool = ALL_PROGRAMS + (EXTRA_PROGRAMS if args.extra or args.only else ())
    names = [n for n in pool if not args.only or n in args.only]
    lua = base.ensure_lua()
    walia = args.walia or os.path.join(ROOT, "target", "release", "walia")
    if not args.no_build and not args.walia:
        base.build_walia()
    if not (os.path.isfile(walia) and os.access(walia, os.X_OK)):
        base.loud("walia binary not found at %s: Walia columns will be empty" % walia)
        walia = None
    base.info("walia:  %s\nlua:    %s\npython: %s\nrounds: %d (interleaved walia/lua/python)"
              % (walia, lua, args.python or sys.executable, args.rounds))

    t0 = time.perf_counter()
    results = run_rounds(names, walia, lua, args)

    rss = None
    if not args.no_rss and RSS_PROGRAM in names:
        base.info("== peak RSS of %s" % RSS_PROGRAM)
        cmds = commands(RSS_PROGRAM, walia, lua, args.python or sys.executable)
        rss = {lang: peak_rss(cmds[lang], args.timeout) for lang in ("walia", "lua")
               if lang in cmds}
    base.info("total %.1f s" % (time.perf_counter() - t0))

    print_report(names, results, rss, args)
    return base.report_problems(base.problems)


if __name__ == "__main__":
    sys.exit(main())
