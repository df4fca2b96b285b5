//! Running a program in every tier and comparing what the tiers did.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Wall-clock limit for one run of the binary.
const TIMEOUT: Duration = Duration::from_secs(30);
/// At most this many lines of each output are shown in a report.
const SHOWN_LINES: usize = 30;

// ---------------------------------------------------------------------------------------
// Running a program in every tier
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tier {
    Interpreter,
    Kernels,
    Native,
    Bail,
}

impl Tier {
    const ALL: [Tier; 4] = [Tier::Interpreter, Tier::Kernels, Tier::Native, Tier::Bail];

    fn label(self, bail: u32) -> String {
        match self {
            Tier::Interpreter => "interpreter (WALIA_JIT=0)".into(),
            Tier::Kernels => "kernels (WALIA_JIT=kernels)".into(),
            Tier::Native => "native (WALIA_JIT unset)".into(),
            Tier::Bail => format!("native, WALIA_JIT_BAIL={bail} --explain"),
        }
    }

    fn apply(self, cmd: &mut Command, bail: u32) {
        cmd.env_remove("WALIA_JIT").env_remove("WALIA_JIT_BAIL");
        match self {
            Tier::Interpreter => {
                cmd.env("WALIA_JIT", "0");
            }
            Tier::Kernels => {
                cmd.env("WALIA_JIT", "kernels");
            }
            Tier::Native => {}
            Tier::Bail => {
                cmd.env("WALIA_JIT_BAIL", bail.to_string());
            }
        }
    }
}

/// A program: an optional setup script (run once, committed to a heap file that each tier
/// then gets a copy of), the main script, and an optional script run after it on the same
/// heap. Without a setup the main script runs with `--memory`.
#[derive(Clone, Debug)]
pub(crate) struct Program {
    pub(crate) setup: Option<String>,
    pub(crate) main: String,
    pub(crate) after: Option<String>,
    /// `WALIA_JIT_BAIL` of the bailing tier.
    pub(crate) bail: u32,
}

impl Program {
    pub(crate) fn memory(main: impl Into<String>) -> Program {
        Program {
            setup: None,
            main: main.into(),
            after: None,
            bail: 3,
        }
    }

    /// The whole program as one text, for reports.
    pub(crate) fn shown(&self) -> String {
        let mut s = String::new();
        if let Some(setup) = &self.setup {
            let _ = write!(
                s,
                "---- setup.wal (walia run --heap h.wld, committed; each tier gets a copy)\n{setup}"
            );
            s.push_str("---- main.wal (walia run --heap h.wld)\n");
        } else {
            s.push_str("---- main.wal (walia run --memory)\n");
        }
        s.push_str(&self.main);
        if let Some(after) = &self.after {
            let _ = write!(s, "---- after.wal (walia run --heap h.wld)\n{after}");
        }
        s
    }
}

/// What one run of the binary did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RunOut {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: Option<i32>,
}

/// What `--explain` said, over a number of runs.
#[derive(Default, Debug)]
pub(crate) struct Stats {
    pub(crate) pipelines: u64,
    pub(crate) native: u64,
    pub(crate) kernels: u64,
    pub(crate) interpreted: u64,
    pub(crate) failed_runs: u64,
    /// Heap files whose page or byte counts differ between tiers (not a mismatch).
    pub(crate) page_counts_differ: u64,
    pub(crate) reasons: BTreeMap<String, u64>,
}

impl Stats {
    pub(crate) fn add(&mut self, other: &Stats) {
        self.pipelines += other.pipelines;
        self.native += other.native;
        self.kernels += other.kernels;
        self.interpreted += other.interpreted;
        self.failed_runs += other.failed_runs;
        self.page_counts_differ += other.page_counts_differ;
        for (k, v) in &other.reasons {
            *self.reasons.entry(k.clone()).or_default() += v;
        }
    }
}

/// `walia inspect --json`'s report without the commit time and, unless `sizes`, without
/// what may differ between two heaps of the same contents (page and byte counts).
fn heap_summary(json: &str, sizes: bool) -> String {
    fn strip(v: &mut serde_json::Value, keys: &[&str]) {
        match v {
            serde_json::Value::Object(m) => {
                for k in keys {
                    m.remove(*k);
                }
                m.values_mut().for_each(|v| strip(v, keys));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| strip(v, keys)),
            _ => {}
        }
    }
    let keys: &[&str] = if sizes {
        &["commit_time_ms"]
    } else {
        &[
            "commit_time_ms",
            "file_pages",
            "used_pages",
            "free_pages",
            "pages",
            "bytes",
        ]
    };
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(mut v) => {
            strip(&mut v, keys);
            v.to_string()
        }
        Err(_) => json.to_string(),
    }
}

/// Removes the plans `--explain` writes (a `pipe L:C` line up to its `compiled` or
/// `not compiled: ...` line) from stderr, counting them into `stats`.
fn strip_explain(stderr: &str, stats: &mut Stats) -> String {
    let mut out = String::new();
    let mut in_plan = false;
    for line in stderr.split_inclusive('\n') {
        let l = line.trim_end_matches('\n');
        if !in_plan
            && l.strip_prefix("pipe ").is_some_and(|loc| {
                loc.split(':').count() == 2 && loc.chars().all(|c| c.is_ascii_digit() || c == ':')
            })
        {
            in_plan = true;
            stats.pipelines += 1;
            continue;
        }
        if !in_plan {
            out.push_str(line);
            continue;
        }
        // The terminal's line ends with the tier: `[native loop: ...]` or
        // `[batch kernels: REASON]`.
        let tier = l
            .strip_prefix("  terminal: ")
            .and_then(|t| t.split_once("  ["))
            .map(|(_, tier)| tier.trim_end_matches(']'));
        if tier.is_some_and(|t| t.starts_with("native loop")) {
            stats.native += 1;
        } else if let Some(why) = tier.and_then(|t| t.strip_prefix("batch kernels: ")) {
            stats.kernels += 1;
            *stats.reasons.entry(format!("kernels: {why}")).or_default() += 1;
        } else if l == "compiled" {
            in_plan = false;
        } else if let Some(why) = l.strip_prefix("not compiled: ") {
            stats.interpreted += 1;
            // Numbers in reasons ("stage 2: ...") would split the histogram.
            let why: String = why.chars().filter(|c| !c.is_ascii_digit()).collect();
            *stats
                .reasons
                .entry(format!("interpreter: {why}"))
                .or_default() += 1;
            in_plan = false;
        }
    }
    out
}

fn spawn(dir: &Path, (tier, bail): (Tier, u32), args: &[&str], out_name: &str) -> Child {
    let stdout = std::fs::File::create(dir.join(format!("{out_name}.stdout"))).expect("stdout");
    let stderr = std::fs::File::create(dir.join(format!("{out_name}.stderr"))).expect("stderr");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    tier.apply(&mut cmd, bail);
    cmd.spawn().expect("start walia")
}

/// Waits for `child` (killing it after the timeout) and reads what it wrote.
fn finish(mut child: Child, dir: &Path, out_name: &str, started: Instant) -> RunOut {
    let status = loop {
        match child.try_wait().expect("wait for walia") {
            Some(status) => break Some(status),
            None if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let read = |ext: &str| {
        let bytes = std::fs::read(dir.join(format!("{out_name}.{ext}"))).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut stderr = read("stderr");
    if status.is_none() {
        stderr.push_str("\n[killed: timed out]\n");
    }
    RunOut {
        stdout: read("stdout"),
        stderr,
        code: status.and_then(|s| s.code()),
    }
}

/// Runs `args` in every tier at once, each in its own directory.
fn run_all(dirs: &[std::path::PathBuf], bail: u32, args: &[&str], name: &str) -> Vec<RunOut> {
    let started = Instant::now();
    let children: Vec<Child> = Tier::ALL
        .iter()
        .zip(dirs)
        .map(|(tier, dir)| {
            let mut args = args.to_vec();
            if *tier == Tier::Bail && args.first() == Some(&"run") {
                args.insert(1, "--explain");
            }
            spawn(dir, (*tier, bail), &args, name)
        })
        .collect();
    children
        .into_iter()
        .zip(dirs)
        .map(|(child, dir)| finish(child, dir, name, started))
        .collect()
}

/// Every tier's outputs of one program: `[main, after, inspect]` per tier (`after` and
/// `inspect` with a setup only), in `Tier::ALL` order.
pub(crate) struct Outcome {
    pub(crate) runs: Vec<Vec<RunOut>>,
    pub(crate) stats: Stats,
    pub(crate) setup_failed: Option<RunOut>,
}

pub(crate) fn run_program(p: &Program) -> Outcome {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dirs: Vec<_> = Tier::ALL
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let d = tmp.path().join(format!("t{i}"));
            std::fs::create_dir(&d).expect("tier dir");
            d
        })
        .collect();
    let mut stats = Stats::default();
    if let Some(setup) = &p.setup {
        let base = tmp.path().join("setup");
        std::fs::create_dir(&base).expect("setup dir");
        std::fs::write(base.join("setup.wal"), setup).expect("write setup");
        let child = spawn(
            &base,
            (Tier::Interpreter, p.bail),
            &["run", "--heap", "h.wld", "setup.wal"],
            "setup",
        );
        let out = finish(child, &base, "setup", Instant::now());
        if out.code != Some(0) {
            return Outcome {
                runs: Vec::new(),
                stats,
                setup_failed: Some(out),
            };
        }
        for d in &dirs {
            std::fs::copy(base.join("h.wld"), d.join("h.wld")).expect("copy heap");
        }
    }
    let heap_args: &[&str] = if p.setup.is_some() {
        &["--heap", "h.wld"]
    } else {
        &["--memory"]
    };
    for d in &dirs {
        std::fs::write(d.join("main.wal"), &p.main).expect("write script");
        if let Some(after) = &p.after {
            std::fs::write(d.join("after.wal"), after).expect("write script");
        }
    }
    let mut args = vec!["run"];
    args.extend_from_slice(heap_args);
    args.push("main.wal");
    let mains = run_all(&dirs, p.bail, &args, "main");
    let afters = p.after.as_ref().map(|_| {
        let mut args = vec!["run"];
        args.extend_from_slice(heap_args);
        args.push("after.wal");
        run_all(&dirs, p.bail, &args, "after")
    });
    // The heap's globals, tables (rows, column names and types) and cursors.
    let inspects = p.setup.as_ref().map(|_| {
        let mut outs = run_all(&dirs, p.bail, &["inspect", "--json", "h.wld"], "inspect");
        let raw: Vec<String> = outs.iter().map(|o| heap_summary(&o.stdout, true)).collect();
        for o in &mut outs {
            o.stdout = heap_summary(&o.stdout, false);
        }
        if raw.iter().any(|r| *r != raw[0]) {
            stats.page_counts_differ += 1;
        }
        outs
    });
    let mut runs = Vec::new();
    for (i, tier) in Tier::ALL.iter().enumerate() {
        let mut per = vec![mains[i].clone()];
        if let Some(a) = &afters {
            per.push(a[i].clone());
        }
        if let Some(a) = &inspects {
            per.push(a[i].clone());
        }
        if *tier == Tier::Bail {
            for r in &mut per {
                r.stderr = strip_explain(&r.stderr, &mut stats);
            }
        }
        runs.push(per);
    }
    if runs[0][0].code != Some(0) {
        stats.failed_runs += 1;
        let first = runs[0][0].stderr.lines().next().unwrap_or("");
        let msg = first.split_once("error: ").map_or(first, |(_, m)| m);
        let msg: String = msg.chars().filter(|c| !c.is_ascii_digit()).collect();
        *stats.reasons.entry(format!("error: {msg}")).or_default() += 1;
    }
    Outcome {
        runs,
        stats,
        setup_failed: None,
    }
}

impl Outcome {
    /// The tiers that disagree with the interpreter.
    pub(crate) fn mismatches(&self) -> Vec<Tier> {
        Tier::ALL
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, _)| self.runs[*i] != self.runs[0])
            .map(|(_, t)| *t)
            .collect()
    }

    pub(crate) fn report(&self, p: &Program) -> String {
        let mut s = String::new();
        let _ = write!(s, "{}", p.shown());
        if let Some(out) = &self.setup_failed {
            let _ = write!(s, "setup failed:\n{}", shown_run(out));
            return s;
        }
        let names = [
            "main.wal",
            "after.wal",
            "walia inspect --json h.wld (normalized)",
        ];
        for (k, name) in names.iter().enumerate().take(self.runs[0].len()) {
            let reference = &self.runs[0][k];
            let _ = write!(
                s,
                "==== {name}, {}:\n{}",
                Tier::Interpreter.label(p.bail),
                shown_run(reference)
            );
            for (i, tier) in Tier::ALL.iter().enumerate().skip(1) {
                let r = &self.runs[i][k];
                if r == reference {
                    let _ = writeln!(s, "==== {name}, {}: same", tier.label(p.bail));
                } else {
                    let _ = write!(
                        s,
                        "==== {name}, {}: DIFFERS{}\n{}",
                        tier.label(p.bail),
                        first_difference(reference, r),
                        shown_run(r)
                    );
                }
            }
        }
        s
    }
}

pub(crate) fn shown_text(text: &str) -> String {
    let mut s = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for l in lines.iter().take(SHOWN_LINES) {
        let _ = writeln!(s, "    |{l}");
    }
    if lines.len() > SHOWN_LINES {
        let _ = writeln!(s, "    ... ({} more lines)", lines.len() - SHOWN_LINES);
    }
    s
}

pub(crate) fn shown_run(r: &RunOut) -> String {
    format!(
        "  exit {:?}\n  stdout:\n{}  stderr:\n{}",
        r.code,
        shown_text(&r.stdout),
        shown_text(&r.stderr)
    )
}

pub(crate) fn first_difference(a: &RunOut, b: &RunOut) -> String {
    if a.code != b.code {
        return format!(" (exit {:?} vs {:?})", a.code, b.code);
    }
    for (what, x, y) in [
        ("stdout", &a.stdout, &b.stdout),
        ("stderr", &a.stderr, &b.stderr),
    ] {
        let (xs, ys): (Vec<&str>, Vec<&str>) = (x.lines().collect(), y.lines().collect());
        for i in 0..xs.len().max(ys.len()) {
            if xs.get(i) != ys.get(i) {
                return format!(
                    " ({what} line {}: {:?} vs {:?})",
                    i + 1,
                    xs.get(i).unwrap_or(&"(end)"),
                    ys.get(i).unwrap_or(&"(end)")
                );
            }
        }
    }
    String::new()
}
