//! The `walia` command: run scripts, run their tests, check them, or start the REPL.

mod admin;
mod listing;
mod maintain;
mod progress;
mod repl;
mod show;

/// glibc's malloc serves a non-main thread (scripts run on one, for its large stack) from
/// an arena it grows with an mprotect call per step; mimalloc is much faster for the many
/// small objects a script allocates.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use walia::{Durability, Engine, Error, Limits, exit_code};

#[derive(Parser)]
#[command(
    name = "walia",
    version,
    about = "Walia: a persistent, pipe-based scripting language",
    long_about = "Walia: a persistent, pipe-based scripting language.\n\n\
        With no FILE and no -e, starts the REPL (or, when standard input is not a terminal, \
        runs the script read from it). `walia FILE` is the same as `walia run FILE`."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Run CODE instead of a file; the remaining arguments go to args().
    #[arg(short = 'e', value_name = "CODE")]
    eval: Option<String>,

    /// Script to run ("-" reads it from standard input).
    file: Option<String>,

    /// Arguments passed to the script (read with args()).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,

    #[command(flatten)]
    opts: Options,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script (its test blocks are skipped). `walia run HEAP.wld` warm-boots that
    /// heap instead, as `walia resume` does.
    Run {
        /// The script file ("-" reads standard input).
        file: String,
        /// Arguments passed to the script (read with args()).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Warm boot: resume every checkpointed pipe of the heap whose pass was interrupted,
    /// from the code stored in the heap (no script), printing `NAME: RESULT` for each.
    Resume {
        /// The heap file.
        heap: PathBuf,
    },
    /// Run a script's top-level statements, then each `test` block; prints
    /// "N passed, N failed" last and exits 70 if any test failed.
    Test {
        /// The script file.
        file: String,
    },
    /// Parse and resolve a script without running it; reports every error, prints nothing
    /// on success. Globals stored in the heap count as declared.
    Check {
        /// The script file.
        file: String,
    },
    /// List a heap's globals (type and stored size), tables (rows, typed columns, size),
    /// the cursors of checkpointed pipes (state, position/total, checkpoints, resumes,
    /// definition) and file and commit statistics. Reads the last commit without taking the lock, so
    /// it never blocks a running writer.
    Inspect {
        /// The heap file (default: --heap, $WALIA_HEAP, else ./walia.wld).
        heap: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check every checksum and structure of a heap, and that every checkpointed pipe's
    /// cursor can be read and resumed; exits 74 when anything is damaged.
    Verify {
        /// The heap file.
        heap: PathBuf,
    },
    /// Import a CSV file (header row), TSV file or JSON Lines file (by its extension:
    /// .csv, .tsv, .jsonl) into a table, creating the table when missing. All-or-nothing:
    /// a bad line is reported with its line number and nothing is imported, unless
    /// --skip-bad. Shows a progress bar on a terminal.
    Import {
        /// The heap file (created when missing).
        heap: PathBuf,
        /// The table.
        table: String,
        /// The file to read.
        file: String,
        /// Skip bad lines (reporting how many) instead of importing nothing.
        #[arg(long)]
        skip_bad: bool,
        /// The character between fields: ';', '|', 'tab' or '\t'... (default: a comma, a
        /// tab for .tsv files).
        #[arg(long, value_name = "CHAR", value_parser = walia_stdlib::parse_delimiter)]
        delimiter: Option<u8>,
    },
    /// Export a table as CSV (header row, RFC 4180 quoting), TSV or JSON Lines, by the
    /// file's extension.
    Export {
        /// The heap file.
        heap: PathBuf,
        /// The table.
        table: String,
        /// The file to write.
        file: String,
        /// The character between fields (default: a comma, a tab for .tsv files).
        #[arg(long, value_name = "CHAR", value_parser = walia_stdlib::parse_delimiter)]
        delimiter: Option<u8>,
    },
    /// Print a table's rows as an aligned text table (header, then a row per line), then
    /// how many rows there are. Reads the last commit without taking the lock, like
    /// `inspect`: it never blocks a writer and never changes the file.
    Show {
        /// The heap file.
        heap: PathBuf,
        /// The table.
        table: String,
        /// Rows to print.
        #[arg(long, value_name = "N", default_value_t = walia::table_view::DEFAULT_LIMIT)]
        limit: usize,
        /// Print every row.
        #[arg(long)]
        all: bool,
        /// Only the rows for which this Walia expression is true. Columns are variables
        /// of the same name and `row` is the row: --where 'age > 30 and city == "Oslo"'.
        #[arg(long = "where", value_name = "EXPR")]
        filter: Option<String>,
    },
    /// Drop globals (with the checkpoint cursor of the same name) or tables (db.NAME) from
    /// a heap, in one commit. Their pages become free space that later writes reuse;
    /// `walia compact` gives it back to the file system.
    Drop {
        /// The heap file.
        heap: PathBuf,
        /// A global's name, or db.TABLE.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
    },
    /// Rewrite a heap without its free pages, so the file shrinks to what is live. Takes
    /// the write lock; atomic (the new file replaces the old one in one rename, so a crash
    /// leaves one or the other). Shows a progress bar on a terminal.
    Compact {
        /// The heap file.
        heap: PathBuf,
    },
}

/// Options every command accepts.
#[derive(Args, Clone, Default)]
struct Options {
    /// Heap file holding the persistent state (default: $WALIA_HEAP, else ./walia.wld,
    /// created when missing). `walia test` uses an in-memory heap unless this is given.
    #[arg(long, global = true, value_name = "PATH")]
    heap: Option<PathBuf>,

    /// Run on an empty in-memory heap; touch no file.
    #[arg(long, global = true)]
    memory: bool,

    /// Read the heap's last commit without taking the write lock (a writer may run
    /// meanwhile): the run sees the stored globals and tables, and nothing it changes is
    /// committed. Table writes are errors.
    #[arg(long, global = true)]
    read_only: bool,

    /// Commit durability: immediate (default; fsync before a commit returns), batched
    /// (fsync every 64 commits or 100 ms) or async (no fsync: survives a process crash,
    /// not a power loss).
    #[arg(long, global = true, value_name = "MODE", value_parser = ["immediate", "batched", "async"])]
    durability: Option<String>,

    /// Run every pipeline in the interpreter: no stage kernels or native loop (also
    /// WALIA_JIT=0).
    #[arg(long, global = true)]
    no_jit: bool,

    /// Write each pipeline's plan to stderr as it first runs: source, stages, terminal,
    /// and `compiled` or `not compiled: REASON`.
    #[arg(long, global = true)]
    explain: bool,

    /// No progress output (the import progress bar, a checkpointed pipe's progress line).
    #[arg(long, global = true)]
    quiet: bool,

    /// Maximum depth of Walia calls before "stack overflow".
    #[arg(long, global = true, value_name = "N", default_value_t = 100_000)]
    max_depth: usize,

    /// Stop the script with a runtime error (exit 70) when the process would use more
    /// than SIZE of memory: bytes, or a number with K, M, G or T (powers of 1024): 300M, 2G.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,

    /// Longest line or record that lines(), read_csv(), read_jsonl() and imports accept
    /// (default 64M; a file without line ends is one long line).
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    max_record: Option<u64>,
}

/// `300M`, `2G`, `64KiB`, `1000`: a size in bytes (suffixes are powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("'{text}' is not a size (like 300M, 2G or 1000000)")),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (like 300M, 2G or 1000000)"))?;
    n.checked_mul(1 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("'{text}' is not a size between 1 byte and 16 EiB"))
}

fn main() {
    // The binary's own unit tests (the REPL's) do not link the code generator.
    #[cfg(all(feature = "jit", not(test)))]
    walia_jit::install();
    // Walia calls never recurse on the Rust stack, but dropping a deeply nested value and
    // builtins that call back into scripts do; a large reserved (not committed) stack keeps
    // those safe.
    let worker = std::thread::Builder::new()
        .stack_size(SCRIPT_STACK)
        .spawn(|| run_cli(SCRIPT_STACK))
        .or_else(|_| {
            // Address space is limited (ulimit -v): fall back to a modest stack.
            std::thread::Builder::new()
                .stack_size(FALLBACK_STACK)
                .spawn(|| run_cli(FALLBACK_STACK))
        });
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => exit_code::RUNTIME,
        Err(e) => {
            eprintln!("error: cannot start the interpreter thread: {e}");
            exit_code::IO
        }
    };
    std::process::exit(code);
}

/// Stack of the thread that runs scripts (virtual memory; pages are touched only as used).
const SCRIPT_STACK: usize = 4 << 30;
const FALLBACK_STACK: usize = 64 << 20;

fn run_cli(stack: usize) -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::OK
            };
        }
    };
    let color = std::io::stderr().is_terminal();
    let mut engine = Engine::new();
    engine.set_max_depth(cli.opts.max_depth);
    engine.set_quiet(cli.opts.quiet);
    // A progress line only where someone watches it: a terminal, without --quiet.
    if !cli.opts.quiet && std::io::stderr().is_terminal() {
        let (line, stdout) = progress::install();
        engine.set_progress(Some(Box::new(line)));
        engine.set_output(Box::new(std::io::BufWriter::new(stdout)));
    }
    if cli.opts.no_jit {
        engine.set_jit(false);
    }
    engine.set_explain(cli.opts.explain);
    engine.set_stack_size(stack);
    let mut limits = Limits::default();
    limits.max_memory = cli.opts.max_memory;
    limits.max_record = cli.opts.max_record;
    engine.set_limits(limits);
    let mut opts = cli.opts.clone();
    // `walia run HEAP.wld` (or `walia HEAP.wld`) is a warm boot of that heap.
    let script = match &cli.command {
        Some(Command::Run { file, .. }) => Some(file.as_str()),
        None if cli.eval.is_none() => cli.file.as_deref(),
        _ => None,
    };
    // A script that cannot be read is reported before any heap is opened: a mistyped name
    // must not leave a new ./walia.wld behind.
    let script_to_read = match &cli.command {
        Some(Command::Test { file }) => Some(file.as_str()),
        _ => script,
    };
    if let Some(file) = script_to_read.filter(|f| *f != "-" && !f.ends_with(".wld"))
        && let Err(e) = load(file)
    {
        return report(Err(e), color);
    }
    let warm_boot = match &cli.command {
        Some(Command::Resume { heap }) => Some(heap.clone()),
        _ => script.filter(|f| f.ends_with(".wld")).map(PathBuf::from),
    };
    if let Some(heap) = &warm_boot {
        if !heap.exists() {
            eprintln!("error: cannot open heap '{}': no such file", heap.display());
            return exit_code::IO;
        }
        opts.heap = Some(heap.clone());
        opts.memory = false;
    }
    if let Some(Command::Import { heap, .. } | Command::Export { heap, .. }) = &cli.command {
        opts.heap = Some(heap.clone());
        opts.memory = false;
    }
    let code = match cli.command {
        Some(Command::Show {
            heap,
            table,
            limit,
            all,
            filter,
        }) => {
            let limit = (!all).then_some(limit);
            let shown = show::show(&mut engine, &heap, &table, limit, filter.as_deref());
            let code = report(shown, color);
            return match engine.close_heap() {
                Ok(()) => code,
                Err(e) => report(Err(e), color),
            };
        }
        Some(Command::Drop { heap, names }) => {
            let durability = open_durability(&opts);
            let code = report(
                maintain::drop_names(&mut engine, &heap, &names, durability),
                color,
            );
            return match engine.close_heap() {
                Ok(()) => code,
                Err(e) => report(Err(e), color),
            };
        }
        Some(Command::Compact { heap }) => {
            return report(maintain::compact(&heap, opts.quiet), color);
        }
        Some(Command::Inspect { heap, json }) => {
            let path = heap.unwrap_or_else(|| heap_path(&opts));
            return admin::inspect(&path, json, color);
        }
        Some(Command::Verify { heap }) => return admin::verify(&heap, color),
        Some(Command::Check { file }) => {
            if let Err(e) = open_heap_for_check(&mut engine, &opts) {
                return report(Err(e), color);
            }
            return check_file(&mut engine, &file, color);
        }
        Some(Command::Test { .. }) if opts.heap.is_none() => engine.open_memory_heap(),
        // An export reads the last commit like `inspect`: it never blocks a writer.
        Some(Command::Export { .. }) => engine.open_heap_read_only(heap_path(&opts)),
        _ if opts.read_only && !opts.memory => engine.open_heap_read_only(heap_path(&opts)),
        _ => open_heap(&mut engine, &opts),
    };
    if let Err(e) = code {
        return report(Err(e), color);
    }
    if let Some(seq) = engine.heap_fell_back() {
        eprintln!(
            "warning: heap '{}': the newest commit is damaged; using commit {seq} (walia verify tells more)",
            heap_path(&opts).display()
        );
    }
    let code = if warm_boot.is_some() {
        match walia::resume::warm_boot(&mut engine) {
            Ok(_) => exit_code::OK,
            Err(e) => report(Err(e), color),
        }
    } else {
        dispatch(cli, &mut engine, color)
    };
    match engine.close_heap() {
        Ok(()) => code,
        Err(e) => report(Err(e), color),
    }
}

/// The heap path: --heap, else $WALIA_HEAP, else ./walia.wld.
fn heap_path(opts: &Options) -> PathBuf {
    opts.heap
        .clone()
        .or_else(|| std::env::var_os("WALIA_HEAP").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("walia.wld"))
}

fn open_heap(engine: &mut Engine, opts: &Options) -> Result<(), Error> {
    if opts.memory {
        return engine.open_memory_heap();
    }
    engine.open_heap(heap_path(opts), open_durability(opts))
}

/// --durability, else immediate.
fn open_durability(opts: &Options) -> Durability {
    opts.durability
        .as_deref()
        .and_then(Durability::parse)
        .unwrap_or_default()
}

/// `check` reads the stored global names (without locking) so they count as declared.
fn open_heap_for_check(engine: &mut Engine, opts: &Options) -> Result<(), Error> {
    let path = heap_path(opts);
    if opts.memory || !path.exists() {
        return Ok(());
    }
    engine.open_heap_read_only(path)
}

/// "1 row", "2 rows".
fn rows(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

fn dispatch(cli: Cli, engine: &mut Engine, color: bool) -> i32 {
    match cli.command {
        Some(Command::Run { file, args }) => run_file(engine, &file, args, color),
        Some(Command::Test { file }) => run_tests(engine, &file, color),
        Some(
            Command::Check { .. }
            | Command::Inspect { .. }
            | Command::Verify { .. }
            | Command::Resume { .. }
            | Command::Show { .. }
            | Command::Drop { .. }
            | Command::Compact { .. },
        ) => exit_code::OK,
        Some(Command::Import {
            table,
            file,
            skip_bad,
            delimiter,
            ..
        }) => {
            let options = walia::ImportOptions {
                skip_bad,
                progress: !cli.opts.quiet,
                max_record: cli.opts.max_record,
                delimiter,
            };
            let result = engine
                .import_table(&table, &file, options)
                .and_then(|done| {
                    engine.commit()?;
                    let skipped = match done.skipped {
                        0 => String::new(),
                        n => format!(" (skipped {n} bad line{})", if n == 1 { "" } else { "s" }),
                    };
                    println!("imported {} into {table}{skipped}", rows(done.rows));
                    for warning in done.skipped_warnings(&file) {
                        eprintln!("{warning}");
                    }
                    Ok(())
                });
            report(result, color)
        }
        Some(Command::Export {
            table,
            file,
            delimiter,
            ..
        }) => {
            let result = engine.export_table_with(&table, &file, delimiter).map(|n| {
                println!("exported {} of {table}", rows(n));
            });
            report(result, color)
        }
        None => {
            if let Some(code) = cli.eval {
                let mut args = cli.args;
                if let Some(f) = cli.file {
                    args.insert(0, f);
                }
                engine.set_args(args);
                report(engine.run_named("<-e>", &code).map(|_| ()), color)
            } else if let Some(file) = cli.file {
                run_file(engine, &file, cli.args, color)
            } else if std::io::stdin().is_terminal() {
                let heap = (!cli.opts.memory).then(|| heap_path(&cli.opts));
                repl::run(std::mem::take(engine), heap)
            } else {
                run_file(engine, "-", cli.args, color)
            }
        }
    }
}

/// Print an error's diagnostics and give the exit code.
fn report(result: Result<(), Error>, color: bool) -> i32 {
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
    use clap::CommandFactory;
    if file.contains(['/', '.']) {
        return None;
    }
    let cli = Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    walia_lang::diagnostic::did_you_mean(file, names.iter().copied())
}

fn run_file(engine: &mut Engine, file: &str, args: Vec<String>, color: bool) -> i32 {
    engine.set_args(args);
    let result = load(file).and_then(|(name, text)| engine.run_named(&name, &text).map(|_| ()));
    report(result, color)
}

fn check_file(engine: &mut Engine, file: &str, color: bool) -> i32 {
    let result = load(file).and_then(|(name, text)| engine.check(&name, &text));
    report(result, color)
}

fn run_tests(engine: &mut Engine, file: &str, color: bool) -> i32 {
    let ran = load(file).and_then(|(name, text)| engine.run_named(&name, &text).map(|_| ()));
    if let Err(e) = ran {
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
