//! Running Walia code from the command line: scripts, `-e`, tests, `check`, warm boot and
//! the REPL, each on the heap its options choose.

use super::argv::{ArgumentsOf, stray_option_warnings};
use super::options::{DataInput, DurabilityChoice, Execution, HeapChoice, RunOptions};
use crate::{Cli, progress, repl};
use clap::CommandFactory;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use walia::{Engine, Error, exit_code};

/// An engine set up with the options of a command that runs Walia code.
pub fn new_engine(stack: usize, execution: &Execution, input: &DataInput) -> Engine {
    let mut engine = Engine::new();
    execution.configure(&mut engine);
    input.configure(&mut engine, execution.max_memory);
    // A progress line only where someone watches it: a terminal, without --quiet.
    if !input.quiet && std::io::stderr().is_terminal() {
        let (line, stdout) = progress::install();
        engine.set_progress(Some(Box::new(line)));
        engine.set_output(Box::new(std::io::BufWriter::new(stdout)));
    }
    engine.set_stack_size(stack);
    engine
}

/// What a script run executes.
pub enum Script {
    /// A file ("-": standard input), and the arguments after its name.
    File { file: String, args: Vec<String> },
    /// `-e CODE`, and the arguments after it.
    Code { code: String, args: Vec<String> },
}

#[derive(PartialEq, Eq, Clone, Copy)]
pub enum Mode {
    Run,
    Test,
}

/// How a script run uses its heap.
enum HeapUse {
    Memory,
    /// The last commit, without the lock; nothing committed.
    ReadOnly(PathBuf),
    /// The write lock, creating the file when missing.
    Write(PathBuf),
}

impl HeapUse {
    fn of(opts: &RunOptions, mode: Mode) -> HeapUse {
        let heap = &opts.heap;
        // `walia test` uses an in-memory heap unless --heap is given.
        if heap.memory || (mode == Mode::Test && heap.heap.is_none()) {
            HeapUse::Memory
        } else if opts.write.read_only {
            HeapUse::ReadOnly(heap.path())
        } else {
            HeapUse::Write(heap.path())
        }
    }
}

pub fn run_script(stack: usize, script: Script, opts: &RunOptions, mode: Mode, color: bool) -> i32 {
    let (name, text, args) = match script {
        // `walia run HEAP.wld` (or `walia HEAP.wld`) is a warm boot of that heap.
        Script::File { file, .. } if mode == Mode::Run && file.ends_with(".wld") => {
            let mut engine = new_engine(stack, &opts.execution, &opts.input);
            return resume(
                &mut engine,
                &PathBuf::from(file),
                &opts.write.durability,
                color,
            );
        }
        Script::File { file, args } => {
            warn_about_stray_options(&args, ArgumentsOf::File);
            // A script that cannot be read is reported before any heap is opened: a
            // mistyped name must not leave a new ./walia.wld behind.
            match load(&file) {
                Ok((name, text)) => (name, text, args),
                Err(e) => return report(Err(e), color),
            }
        }
        Script::Code { code, args } => {
            warn_about_stray_options(&args, ArgumentsOf::Code);
            ("<-e>".to_string(), code, args)
        }
    };
    let heap = HeapUse::of(opts, mode);
    // A run creates its heap file only once the script compiles: a syntax error must not
    // leave a new walia.wld behind. (With no heap there are no stored globals, so compiling
    // without one finds exactly the errors the run would.)
    if let HeapUse::Write(path) = &heap
        && !path.exists()
        && let Err(e) = Engine::new().check(&name, &text)
    {
        return report(Err(e), color);
    }
    let mut engine = new_engine(stack, &opts.execution, &opts.input);
    engine.set_args(args);
    if let Err(e) = open(&mut engine, &heap, &opts.write.durability) {
        return report(Err(e), color);
    }
    // A run on an in-memory heap ends with the process: its last commit could never be read.
    if mode == Mode::Run && matches!(heap, HeapUse::Memory) {
        engine.set_commit_at_end(false);
    }
    let code = match mode {
        Mode::Run => report(engine.run_named(&name, &text).map(|_| ()), color),
        Mode::Test => run_tests(&mut engine, &name, &text, color),
    };
    close(&mut engine, code, color)
}

fn warn_about_stray_options(args: &[String], of: ArgumentsOf) {
    // A `--` (which clap consumes when it comes right after FILE) says the user knows where
    // walia's options end.
    if std::env::args_os().any(|word| word == "--") {
        return;
    }
    for warning in stray_option_warnings(args, &Cli::command(), of) {
        eprintln!("{warning}");
    }
}

/// Open the heap a script run uses, warning when its newest commit was damaged.
fn open(engine: &mut Engine, heap: &HeapUse, durability: &DurabilityChoice) -> Result<(), Error> {
    match heap {
        HeapUse::Memory => engine.open_memory_heap(),
        HeapUse::ReadOnly(path) => engine.open_heap_read_only(path),
        HeapUse::Write(path) => engine
            .open_heap(path, durability.mode())
            .map_err(|e| with_lock_hint(e, true)),
    }?;
    warn_if_fell_back(engine, heap_name(heap).as_deref());
    Ok(())
}

fn heap_name(heap: &HeapUse) -> Option<String> {
    match heap {
        HeapUse::Memory => None,
        HeapUse::ReadOnly(path) | HeapUse::Write(path) => Some(path.display().to_string()),
    }
}

fn warn_if_fell_back(engine: &mut Engine, heap: Option<&str>) {
    if let (Some(seq), Some(heap)) = (engine.heap_fell_back(), heap) {
        eprintln!(
            "warning: heap '{heap}': the newest commit is damaged; using commit {seq} (walia verify tells more)"
        );
    }
}

/// The store's words for a heap another process holds for writing.
const LOCKED_BY_ANOTHER: &str = "is locked by another writer";

/// Say what to do about a heap another process is writing: wait, or (for a run, which can
/// be a reader) read its last commit with --read-only.
pub fn with_lock_hint(e: Error, reading_helps: bool) -> Error {
    match e {
        Error::Io { message } if message.contains(LOCKED_BY_ANOTHER) => {
            let hint = if reading_helps {
                "wait for that process to finish, or run against the heap's last commit with \
                 --read-only (no lock needed; nothing is committed)"
            } else {
                "wait for that process to finish: this command needs the write lock"
            };
            Error::Io {
                message: format!("{message}\nhint: {hint}"),
            }
        }
        e => e,
    }
}

/// Close the heap (syncing a batched one); a failure there overrides `code`.
pub fn close(engine: &mut Engine, code: i32, color: bool) -> i32 {
    match engine.close_heap() {
        Ok(()) => code,
        Err(e) => report(Err(e), color),
    }
}

/// Warm boot: finish every interrupted checkpointed pipe of `heap`.
pub fn resume(engine: &mut Engine, heap: &Path, durability: &DurabilityChoice, color: bool) -> i32 {
    if !heap.exists() {
        eprintln!("error: cannot open heap '{}': no such file", heap.display());
        return exit_code::IO;
    }
    let use_heap = HeapUse::Write(heap.to_path_buf());
    if let Err(e) = open(engine, &use_heap, durability) {
        return report(Err(e), color);
    }
    let code = match walia::resume::warm_boot(engine) {
        Ok(_) => exit_code::OK,
        Err(e) => report(Err(e), color),
    };
    close(engine, code, color)
}

/// The REPL, on the heap the options name (created when missing: its state persists).
pub fn start_repl(stack: usize, opts: &RunOptions, color: bool) -> i32 {
    let mut engine = new_engine(stack, &opts.execution, &opts.input);
    let heap = HeapUse::of(opts, Mode::Run);
    if let Err(e) = open(&mut engine, &heap, &opts.write.durability) {
        return report(Err(e), color);
    }
    let heap = (!opts.heap.memory).then(|| opts.heap.path());
    repl::run(engine, heap, color)
}

/// `check` reads the stored global names (without locking) so they count as declared; it
/// never creates a heap.
pub fn check_file(file: &str, heap: &HeapChoice, color: bool) -> i32 {
    let (name, text) = match load(file) {
        Ok(loaded) => loaded,
        Err(e) => return report(Err(e), color),
    };
    let mut engine = Engine::new();
    let path = heap.path();
    if !heap.memory
        && path.exists()
        && let Err(e) = engine.open_heap_read_only(&path)
    {
        return report(Err(e), color);
    }
    report(engine.check(&name, &text), color)
}

/// Print an error's diagnostics and give the exit code.
pub fn report(result: Result<(), Error>, color: bool) -> i32 {
    match result {
        Ok(()) => exit_code::OK,
        Err(e) => {
            eprint!("{}", e.render(color));
            e.exit_code()
        }
    }
}

fn load(file: &str) -> Result<(String, String), Error> {
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Io {
                message: format!("cannot read standard input: {e}"),
            })?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Io {
            message: "standard input is not valid UTF-8".to_string(),
        })?;
        return Ok(("<stdin>".to_string(), text));
    }
    let path = std::path::Path::new(file);
    let text = walia::read_source(path).map_err(|e| match (e, command_like(file)) {
        (Error::Io { message }, Some(cmd)) if !path.exists() => Error::Io {
            message: format!("{message}\nhint: did you mean the command `walia {cmd}`?"),
        },
        (e, _) => e,
    })?;
    Ok((file.to_string(), text))
}

/// The subcommand a missing script's name is a near miss of (`walia tset`).
fn command_like(file: &str) -> Option<String> {
    if file.contains(['/', '.']) {
        return None;
    }
    let cli = Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    walia_lang::diagnostic::did_you_mean(file, names.iter().copied())
}

fn run_tests(engine: &mut Engine, name: &str, text: &str, color: bool) -> i32 {
    if let Err(e) = engine.run_named(name, text) {
        // The script does not compile or its top-level statements fail: no test can run.
        eprint!("{}", e.render(color));
        return e.exit_code();
    }
    let summary = engine.run_tests();
    for f in &summary.failures {
        eprint!("{f}");
    }
    println!("{} passed, {} failed", summary.passed, summary.failed);
    if summary.failed > 0 {
        exit_code::RUNTIME
    } else {
        exit_code::OK
    }
}
