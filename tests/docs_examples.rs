//! The code blocks of `README.md`, `docs/language.md` and `docs/reference.md` run as tests,
//! so the documentation cannot go stale. Run with `cargo test --release --test docs_examples`.
//!
//! Every fenced block of those files is run or skipped according to its tag (the first word of
//! its info string); a block without a tag, or with a tag not listed here, fails the test.
//!
//! - ` ```walia ` — a Walia program. It is written to `example.wal` (or the name given by a
//!   `file=NAME` attribute: ` ```walia file=report.wal `) in a fresh temporary directory and
//!   run with `walia run --memory FILE`, once as is and once with `WALIA_JIT=0` (every
//!   pipeline in the interpreter). Each run must exit 0 with nothing on stderr. When the block
//!   contains `test "..."` blocks it is also run with `walia test --memory FILE`, which must
//!   exit 0 with nothing on stderr.
//!   The expected stdout, when the block shows it, is given in one of two ways (not both):
//!   - comments `// -> TEXT`: each one is one line of output (the text after `// -> `, trailing
//!     spaces removed), in order; a comment on a line of its own continues the output of the
//!     statement above (`for (u in db.User) print u.name;` then `// -> Ann` and `// -> Bob`);
//!   - a ` ```output ` block right after the program (only blank lines between): the exact
//!     stdout.
//!
//!   Without either, stdout is not checked. (`// -> ` is found anywhere in a line, so a
//!   program must not contain it in a string.)
//! - ` ```output ` — the expected stdout of the ` ```walia ` block just before it.
//! - ` ```console ` — `walia` commands, each on a line starting with `$ `, followed by the
//!   exact output they print. All the commands of one block run in one fresh temporary
//!   directory, in order (so a heap file, `walia.wld` there, carries over from one to the
//!   next), with `WALIA_HEAP` and `WALIA_JIT` removed. Each must exit 0. The lines under a
//!   command are its stdout, and its stderr must be empty; a command ending in `>/dev/null`
//!   discards stdout and the lines are its stderr (as for `--explain` plans). Only plain
//!   `walia ARGS` invocations are allowed: no quotes, pipes, variables, absolute paths or `..`
//!   (anything else belongs in an `sh` block).
//! - ` ```sh `, ` ```rust `, ` ```text ` — skipped, for the reasons in `SKIPPED_TAGS`.
//!
//! Every program and console block's directory starts with a copy of the files of
//! `examples/data` (`app.log`, `orders.csv`), so examples can read them by their bare names,
//! and with the files of the earlier ` ```walia file=NAME ` blocks of the same document.
//!
//! A failure names the document and line of the block's opening fence and, when an output
//! differs, the document line of the first documented output line that differs. All failures
//! are collected and reported together.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The documents whose blocks run, relative to the repository root.
const DOCS: &[&str] = &["README.md", "docs/language.md", "docs/reference.md"];

/// Tags whose blocks are skipped, and why.
const SKIPPED_TAGS: &[(&str, &str)] = &[
    (
        "sh",
        "shell commands that are not run here: cargo, python3, command synopses",
    ),
    (
        "rust",
        "Rust embedding snippets (not compiled here: they use `?` outside a function); every \
         Engine call they show is compiled and run by examples/embed.rs, examples/tables.rs \
         and tests/embed.rs",
    ),
    ("text", "not code: layouts and other plain text"),
];

/// Wall-clock limit for one `walia` process; it is killed when it runs longer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many lines of an output are shown in a failure report.
const MAX_SHOWN_LINES: usize = 40;

/// One fenced code block.
#[derive(Debug)]
struct Block {
    /// Line number (from 1) of the opening fence.
    line: usize,
    /// Line number of the closing fence.
    end_line: usize,
    /// The first word of the info string (empty when there is none).
    tag: String,
    /// `key=value` words after the tag.
    attrs: Vec<(String, String)>,
    /// The lines between the fences, without the fence's indentation.
    body: Vec<String>,
}

impl Block {
    fn text(&self) -> String {
        let mut s = self.body.join("\n");
        s.push('\n');
        s
    }

    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits a Markdown document into its fenced code blocks (opened and closed by lines of
/// three backticks, possibly indented).
fn parse_blocks(text: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(Block, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim_start();
        let indent = raw.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split([' ', ',']).filter(|w| !w.is_empty());
                    let tag = words.next().unwrap_or("").to_owned();
                    let mut attrs = Vec::new();
                    for word in words {
                        let (k, v) = word.split_once('=').ok_or_else(|| {
                            format!("line {line_no}: info word {word:?} is not key=value")
                        })?;
                        attrs.push((k.to_owned(), v.to_owned()));
                    }
                    let block = Block {
                        line: line_no,
                        end_line: 0,
                        tag,
                        attrs,
                        body: Vec::new(),
                    };
                    open = Some((block, indent));
                }
            }
            Some((mut block, fence_indent)) => {
                if trimmed.trim_end() == "```" {
                    block.end_line = line_no;
                    blocks.push(block);
                } else {
                    let strip = indent.min(fence_indent);
                    block.body.push(raw[strip..].to_owned());
                    open = Some((block, fence_indent));
                }
            }
        }
    }
    if let Some((block, _)) = open {
        return Err(format!(
            "line {}: the code block is never closed",
            block.line
        ));
    }
    Ok(blocks)
}

/// An output as a document shows it.
#[derive(Debug, PartialEq, Eq)]
struct Documented {
    /// The exact text, each line ending in `\n`.
    text: String,
    /// For each line of `text`, its line number in the document.
    lines: Vec<usize>,
}

impl Documented {
    /// The lines of a block from `first_line` (its document line) on, as they are.
    fn verbatim(text: String, first_line: usize) -> Documented {
        let lines = (first_line..first_line + text.lines().count()).collect();
        Documented { text, lines }
    }
}

/// The output a Walia program shows with `// -> TEXT` comments, one line each, or `None`
/// when it has none. `first_line` is the document line of the block's first line.
fn arrow_output(body: &[String], first_line: usize) -> Option<Documented> {
    let mut out = Documented {
        text: String::new(),
        lines: Vec::new(),
    };
    for (i, line) in body.iter().enumerate() {
        if let Some(pos) = line.find("// ->") {
            let rest = &line[pos + "// ->".len()..];
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            out.text.push_str(rest.trim_end());
            out.text.push('\n');
            out.lines.push(first_line + i);
        }
    }
    (!out.lines.is_empty()).then_some(out)
}

/// True when the program has a `test "..."` block.
fn has_test_blocks(body: &[String]) -> bool {
    body.iter().any(|l| l.trim_start().starts_with("test \""))
}

/// Which pipeline execution a program run uses.
#[derive(Clone, Copy)]
enum Exec {
    /// `WALIA_JIT` removed: stage kernels and native loops where they apply.
    Default,
    /// `WALIA_JIT=0`: every pipeline in the interpreter.
    Interpreter,
}

/// What one `walia` process did.
struct Ran {
    stdout: String,
    stderr: String,
    /// `None` when killed by a signal or by the timeout.
    code: Option<i32>,
    timed_out: bool,
}

/// Runs `walia ARGS` in `dir` (stdin empty, `WALIA_HEAP` removed), with a timeout.
fn run_walia(dir: &Path, args: &[&str], exec: Exec) -> Result<Ran, String> {
    // Output goes to files outside `dir`, so the program's directory holds only its own files.
    let capture = tempfile::tempdir().map_err(|e| format!("cannot create temp dir: {e}"))?;
    let out_path = capture.path().join("stdout");
    let err_path = capture.path().join("stderr");
    let out = fs::File::create(&out_path).map_err(|e| format!("cannot create file: {e}"))?;
    let err = fs::File::create(&err_path).map_err(|e| format!("cannot create file: {e}"))?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_walia"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    match exec {
        Exec::Default => cmd.env_remove("WALIA_JIT"),
        Exec::Interpreter => cmd.env("WALIA_JIT", "0"),
    };
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", env!("CARGO_BIN_EXE_walia")))?;
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > TIMEOUT => {
                timed_out = true;
                let _ = child.kill();
                break child
                    .wait()
                    .map_err(|e| format!("cannot wait for walia: {e}"))?;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("cannot wait for walia: {e}")),
        }
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    Ok(Ran {
        stdout: read(&out_path),
        stderr: read(&err_path),
        code: status.code(),
        timed_out,
    })
}

/// `text` for a report, cut to `MAX_SHOWN_LINES` lines.
fn shown(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut s = String::new();
    for line in lines.iter().take(MAX_SHOWN_LINES) {
        let _ = writeln!(s, "    |{line}");
    }
    if lines.len() > MAX_SHOWN_LINES {
        let _ = writeln!(s, "    ... ({} more lines)", lines.len() - MAX_SHOWN_LINES);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        s.push_str("    (no newline at the end)\n");
    }
    if text.is_empty() {
        s.push_str("    (empty)\n");
    }
    s
}

/// The line (from 1) where two outputs first differ.
fn first_difference(expected: &str, actual: &str) -> usize {
    let mut e = expected.split_inclusive('\n');
    let mut a = actual.split_inclusive('\n');
    let mut n = 1;
    loop {
        match (e.next(), a.next()) {
            (None, None) => return n,
            (x, y) if x != y => return n,
            _ => n += 1,
        }
    }
}

/// Which output stream of a run is compared with the documented text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// stdout is compared (when a text is given) and stderr must be empty.
    Stdout,
    /// stderr is compared and stdout is ignored (a console command ending in `>/dev/null`).
    Stderr,
}

/// `text` with each `compiled in T ms` replaced by the documented line's time when the
/// documented line is the same apart from the time.
fn any_compile_time(text: &str, want: Option<&Documented>) -> String {
    let strip = |line: &str| -> Option<String> {
        let at = line.find("compiled in ")? + "compiled in ".len();
        let end = at + line[at..].find(" ms")?;
        Some(format!("{}{}", &line[..at], &line[end..]))
    };
    let documented: Vec<&str> = want.map_or(Vec::new(), |w| w.text.lines().collect());
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        match (documented.get(i), strip(line)) {
            (Some(d), Some(bare)) if strip(d).as_deref() == Some(bare.as_str()) => out.push_str(d),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Checks a run: exit 0, the documented text (when given) on the `shown` stream, and an empty
/// stderr unless stderr is the documented one. Returns a report when something differs.
/// `doc` names the document, for the line where the documented output differs.
fn check_run(
    what: &str,
    doc: &str,
    ran: &Ran,
    shown_stream: Shown,
    want: Option<&Documented>,
) -> Option<String> {
    let mut problems = Vec::new();
    let mut detail = String::new();
    if ran.timed_out {
        problems.push(format!("timed out after {TIMEOUT:?}"));
    } else if ran.code != Some(0) {
        problems.push(format!("exit code {:?}, expected 0", ran.code));
    }
    let (name, got) = match shown_stream {
        Shown::Stdout => ("stdout", ran.stdout.clone()),
        // A plan's compile time differs from run to run: any time matches the documented one.
        Shown::Stderr => ("stderr", any_compile_time(&ran.stderr, want)),
    };
    let got = &got;
    if let Some(documented) = want.filter(|want| want.text != *got) {
        let want = documented.text.as_str();
        let n = first_difference(want, got);
        let place = match documented.lines.get(n - 1) {
            Some(line) => format!("{doc}:{line}"),
            None => "after the documented output ends".to_owned(),
        };
        problems.push(format!(
            "{name} differs from the documented output at its line {n} ({place})"
        ));
        let _ = write!(
            detail,
            "  documented {name}:\n{}  actual {name}:\n{}",
            shown(want),
            shown(got)
        );
    }
    if shown_stream == Shown::Stdout && !ran.stderr.is_empty() {
        problems.push("stderr is not empty".to_owned());
    }
    if problems.is_empty() {
        return None;
    }
    let mut report = format!("{what}: {}\n{detail}", problems.join("; "));
    if want.is_none() || shown_stream == Shown::Stderr {
        let _ = write!(report, "  stdout:\n{}", shown(&ran.stdout));
    }
    if shown_stream == Shown::Stdout {
        let _ = write!(report, "  stderr:\n{}", shown(&ran.stderr));
    }
    Some(report)
}

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory holding the files of `examples/data` and `saved`.
fn fresh_dir(saved: &[(String, String)]) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create temp dir: {e}"))?;
    let data = root().join("examples").join("data");
    let entries =
        fs::read_dir(&data).map_err(|e| format!("cannot read {}: {e}", data.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", data.display()))?
            .path();
        if path.is_file() {
            let name = path.file_name().expect("a file has a name");
            fs::copy(&path, dir.path().join(name))
                .map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    for (name, text) in saved {
        fs::write(dir.path().join(name), text).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    Ok(dir)
}

/// A file name given by `file=NAME`: a plain name, so the file stays in its directory.
fn check_file_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        Ok(())
    } else {
        Err(format!("file={name:?} must be a plain file name"))
    }
}

/// Runs a ` ```walia ` block; returns the failure reports.
fn run_program(
    doc: &str,
    block: &Block,
    expected: Option<&Documented>,
    saved: &[(String, String)],
) -> Vec<String> {
    let at = format!("{doc}:{}", block.line);
    let name = block.attr("file").unwrap_or("example.wal");
    let source = block.text();
    let mut runs: Vec<(&str, Vec<&str>, Exec)> = vec![
        (
            "walia run --memory",
            vec!["run", "--memory", name],
            Exec::Default,
        ),
        (
            "walia run --memory, WALIA_JIT=0",
            vec!["run", "--memory", name],
            Exec::Interpreter,
        ),
    ];
    if has_test_blocks(&block.body) {
        runs.push((
            "walia test --memory",
            vec!["test", "--memory", name],
            Exec::Default,
        ));
    }
    let mut failures = Vec::new();
    for (label, args, exec) in runs {
        let outcome = fresh_dir(saved).and_then(|dir| {
            fs::write(dir.path().join(name), &source)
                .map_err(|e| format!("cannot write {name}: {e}"))?;
            run_walia(dir.path(), &args, exec)
        });
        // `walia test` adds its summary line: only its exit code is checked.
        let want = if args[0] == "run" { expected } else { None };
        match outcome {
            Err(e) => failures.push(format!("{at} (walia block, {label}): {e}")),
            Ok(ran) => {
                let what = format!(
                    "{at} (walia block, {label}; line 1 of {name} is {doc}:{})",
                    block.line + 1
                );
                failures.extend(check_run(&what, doc, &ran, Shown::Stdout, want));
            }
        }
    }
    failures
}

/// One command of a ` ```console ` block.
struct ConsoleCommand {
    /// Line number in the document.
    line: usize,
    /// The arguments after `walia`.
    args: Vec<String>,
    /// True when the command ends in `>/dev/null`: the expected text is stderr.
    stderr_only: bool,
    expected: String,
}

/// Splits a console block into its commands and checks that each is a plain `walia`
/// invocation.
fn parse_console(block: &Block) -> Result<Vec<ConsoleCommand>, String> {
    let mut commands: Vec<ConsoleCommand> = Vec::new();
    for (i, line) in block.body.iter().enumerate() {
        let line_no = block.line + 1 + i;
        if let Some(command) = line.strip_prefix("$ ") {
            let mut words: Vec<&str> = command.split_whitespace().collect();
            let mut stderr_only = false;
            if words.last() == Some(&">/dev/null") {
                words.pop();
                stderr_only = true;
            } else if words.ends_with(&[">", "/dev/null"]) {
                words.truncate(words.len() - 2);
                stderr_only = true;
            }
            if words.first() != Some(&"walia") {
                return Err(format!(
                    "line {line_no}: only `walia ...` commands run in a console block \
                     (tag the block `sh` to skip it)"
                ));
            }
            for word in &words[1..] {
                let unsafe_word = word.starts_with('/')
                    || word.starts_with('~')
                    || word.contains("..")
                    || word.contains(|c: char| "'\"`$|&;<>*?(){}\\".contains(c));
                if unsafe_word {
                    return Err(format!(
                        "line {line_no}: {word:?} is not allowed in a console command \
                         (plain arguments and relative paths only)"
                    ));
                }
            }
            commands.push(ConsoleCommand {
                line: line_no,
                args: words[1..].iter().map(|w| (*w).to_owned()).collect(),
                stderr_only,
                expected: String::new(),
            });
        } else if let Some(last) = commands.last_mut() {
            last.expected.push_str(line);
            last.expected.push('\n');
        } else if !line.trim().is_empty() {
            return Err(format!(
                "line {line_no}: a console block starts with a `$ walia ...` command"
            ));
        }
    }
    if commands.is_empty() {
        return Err("the console block has no command".to_owned());
    }
    for command in &mut commands {
        // Blank lines at the end of a command's output are layout, not output.
        while command.expected.ends_with("\n\n") {
            command.expected.pop();
        }
        if command.expected.trim().is_empty() {
            command.expected.clear();
        }
    }
    Ok(commands)
}

/// Runs a ` ```console ` block; returns the failure reports.
fn run_console(doc: &str, block: &Block, saved: &[(String, String)]) -> Vec<String> {
    let commands = match parse_console(block) {
        Ok(commands) => commands,
        Err(e) => return vec![format!("{doc}:{} (console block): {e}", block.line)],
    };
    let dir = match fresh_dir(saved) {
        Ok(dir) => dir,
        Err(e) => return vec![format!("{doc}:{} (console block): {e}", block.line)],
    };
    let mut failures = Vec::new();
    for command in commands {
        let what = format!(
            "{doc}:{} (console block, line {}: walia {})",
            block.line,
            command.line,
            command.args.join(" ")
        );
        let args: Vec<&str> = command.args.iter().map(String::as_str).collect();
        match run_walia(dir.path(), &args, Exec::Default) {
            Err(e) => failures.push(format!("{what}: {e}")),
            Ok(ran) => {
                let stream = if command.stderr_only {
                    Shown::Stderr
                } else {
                    Shown::Stdout
                };
                let documented = Documented::verbatim(command.expected, command.line + 1);
                let report = check_run(&what, doc, &ran, stream, Some(&documented));
                failures.extend(report);
            }
        }
    }
    failures
}

/// What one document's blocks gave.
#[derive(Default)]
struct Tally {
    programs: usize,
    consoles: usize,
    outputs: usize,
    skipped: Vec<(String, usize)>,
    failures: Vec<String>,
}

/// Runs or skips every block of one document.
fn run_document(doc: &str) -> Tally {
    let mut tally = Tally::default();
    let path = root().join(doc);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            tally.failures.push(format!("cannot read {doc}: {e}"));
            return tally;
        }
    };
    let blocks = match parse_blocks(&text) {
        Ok(blocks) => blocks,
        Err(e) => {
            tally.failures.push(format!("{doc}: {e}"));
            return tally;
        }
    };
    let source_lines: Vec<&str> = text.lines().collect();
    // Files saved by `walia file=NAME` blocks, for the later blocks of this document.
    let mut saved: Vec<(String, String)> = Vec::new();
    // Output blocks already used as the expected stdout of the program before them.
    let mut consumed = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let at = format!("{doc}:{}", block.line);
        let allowed_attrs: &[&str] = if block.tag == "walia" { &["file"] } else { &[] };
        if let Some((k, _)) = block
            .attrs
            .iter()
            .find(|(k, _)| !allowed_attrs.contains(&k.as_str()))
        {
            tally.failures.push(format!(
                "{at}: unknown attribute {k:?} for a {:?} block",
                block.tag
            ));
            continue;
        }
        match block.tag.as_str() {
            "walia" => {
                tally.programs += 1;
                // An `output` block right after this one (only blank lines between).
                let next_output = blocks.get(i + 1).filter(|next| {
                    next.tag == "output"
                        && source_lines[block.end_line..next.line - 1]
                            .iter()
                            .all(|l| l.trim().is_empty())
                });
                let arrows = arrow_output(&block.body, block.line + 1);
                let expected = match (next_output, arrows) {
                    (Some(_), Some(_)) => {
                        tally.failures.push(format!(
                            "{at}: the program has `// ->` comments and an output block; \
                             give its output one way"
                        ));
                        continue;
                    }
                    (Some(next), None) => {
                        consumed.push(i + 1);
                        Some(Documented::verbatim(next.text(), next.line + 1))
                    }
                    (None, arrows) => arrows,
                };
                if let Err(e) = block.attr("file").map_or(Ok(()), check_file_name) {
                    tally.failures.push(format!("{at}: {e}"));
                    continue;
                }
                tally
                    .failures
                    .extend(run_program(doc, block, expected.as_ref(), &saved));
                if let Some(name) = block.attr("file") {
                    saved.push((name.to_owned(), block.text()));
                }
            }
            "output" => {
                if consumed.contains(&i) {
                    tally.outputs += 1;
                } else {
                    tally.failures.push(format!(
                        "{at}: an output block must follow a walia block (only blank lines \
                         between)"
                    ));
                }
            }
            "console" => {
                tally.consoles += 1;
                tally.failures.extend(run_console(doc, block, &saved));
            }
            tag => {
                if SKIPPED_TAGS.iter().any(|(t, _)| *t == tag) {
                    match tally.skipped.iter_mut().find(|(t, _)| t == tag) {
                        Some((_, n)) => *n += 1,
                        None => tally.skipped.push((tag.to_owned(), 1)),
                    }
                } else if tag.is_empty() {
                    tally.failures.push(format!(
                        "{at}: a code block without a tag; tag it walia, output, console, \
                         sh, rust or text (see tests/docs_examples.rs)"
                    ));
                } else {
                    tally.failures.push(format!(
                        "{at}: unknown tag {tag:?}; use walia, output, console, sh, rust or \
                         text (see tests/docs_examples.rs)"
                    ));
                }
            }
        }
    }
    if tally.programs == 0 {
        tally.failures.push(format!(
            "{doc}: no walia block found (is the parser broken?)"
        ));
    }
    tally
}

#[test]
fn documented_examples_run() {
    let start = Instant::now();
    let mut failures = Vec::new();
    let mut summary = String::new();
    for doc in DOCS {
        let tally = run_document(doc);
        let skipped: usize = tally.skipped.iter().map(|(_, n)| n).sum();
        let by_tag: Vec<String> = tally
            .skipped
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let _ = writeln!(
            summary,
            "{doc}: {} walia blocks run ({} with an output block), {} console blocks run, \
             {skipped} skipped by tag ({})",
            tally.programs,
            tally.outputs,
            tally.consoles,
            if by_tag.is_empty() {
                "none".to_owned()
            } else {
                by_tag.join(", ")
            }
        );
        failures.extend(tally.failures);
    }
    println!("{summary}docs examples: {:.2?}", start.elapsed());
    for (tag, why) in SKIPPED_TAGS {
        println!("  skipped tag {tag}: {why}");
    }
    assert!(
        failures.is_empty(),
        "{} documentation example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn blocks_and_their_tags_are_parsed() {
    let doc = "text\n```walia file=a.wal\nprint 1; // -> 1\n```\n\n  ```output\n  1\n  ```\n```\nx\n```\n";
    let blocks = parse_blocks(doc).expect("parses");
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0].tag, "walia");
    assert_eq!(blocks[0].line, 2);
    assert_eq!(blocks[0].end_line, 4);
    assert_eq!(blocks[0].attr("file"), Some("a.wal"));
    assert_eq!(blocks[1].tag, "output");
    assert_eq!(blocks[1].body, vec!["1".to_owned()]);
    assert_eq!(blocks[2].tag, "");
    assert!(parse_blocks("```walia\nprint 1;\n").is_err());
}

#[test]
fn arrow_comments_give_the_output() {
    let body: Vec<String> = [
        "print 1;    // -> 1",
        "for (x in [2, 3]) print x;  // in order:",
        "// -> 2",
        "  // -> 3  ",
        "print \"\";  // ->",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let documented = arrow_output(&body, 10).expect("has arrows");
    assert_eq!(documented.text, "1\n2\n3\n\n");
    assert_eq!(documented.lines, vec![10, 12, 13, 14]);
    assert_eq!(arrow_output(&["print 1; // 1".to_owned()], 1), None);
}

#[test]
fn console_commands_are_plain_walia_invocations() {
    let block = |body: &str| Block {
        line: 1,
        end_line: 0,
        tag: "console".to_owned(),
        attrs: Vec::new(),
        body: body.lines().map(str::to_owned).collect(),
    };
    let commands = parse_console(&block(
        "$ walia a.wal\nrun 1\n\n$ walia --explain a.wal >/dev/null\npipe 1:1\n",
    ))
    .expect("parses");
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].args, vec!["a.wal"]);
    assert_eq!(commands[0].expected, "run 1\n");
    assert!(!commands[0].stderr_only);
    assert!(commands[1].stderr_only);
    assert_eq!(commands[1].expected, "pipe 1:1\n");
    for bad in [
        "$ cargo run",
        "$ walia -e 'print 1;'",
        "$ walia /tmp/x.wal",
        "$ walia ../x.wal",
        "$ walia a.wal | head",
        "output first\n$ walia a.wal",
    ] {
        assert!(
            parse_console(&block(bad)).is_err(),
            "{bad:?} must be refused"
        );
    }
}
