//! The `walia` command: run scripts, run their tests, check them, or start the REPL.

mod admin;
mod cli;
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

use clap::{CommandFactory, Parser, Subcommand};
use cli::options::{
    ColorChoice, DataInput, DurabilityChoice, Execution, HeapChoice, RunOptions, default_heap_path,
};
use cli::run::{
    Mode, Script, check_file, close, new_engine, report, resume, run_script, start_repl,
    with_lock_hint,
};
use std::io::IsTerminal;
use std::path::PathBuf;
use walia::{Engine, exit_code};

#[derive(Parser)]
#[command(
    name = "walia",
    version,
    about = "Walia: a persistent, pipe-based scripting language",
    long_about = "Walia: a persistent, pipe-based scripting language.\n\n\
        With no FILE and no -e, starts the REPL (or, when standard input is not a terminal, \
        runs the script read from it). `walia FILE` is the same as `walia run FILE`.",
    after_help = "Options written before a COMMAND apply to it (`walia --heap data.wld run \
        report.wal`); `walia COMMAND --help` lists the options each command takes.\n\
        Run a report against a data heap without growing it: \
        walia run --read-only --heap data.wld report.wal"
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
    opts: RunOptions,

    /// When diagnostics are coloured: auto (stderr is a terminal and NO_COLOR is unset or
    /// empty), always (even with NO_COLOR) or never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        value_enum,
        default_value_t,
        hide_possible_values = true
    )]
    color: ColorChoice,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script (its test blocks are skipped), or -e CODE. `walia run HEAP.wld`
    /// warm-boots that heap instead, as `walia resume` does. With --read-only it runs
    /// against the heap's last commit and commits nothing: the way to run a report.
    Run {
        /// Run CODE instead of a file; the arguments after it go to args().
        #[arg(short = 'e', value_name = "CODE")]
        eval: Option<String>,
        /// The script file ("-" reads standard input).
        #[arg(required_unless_present = "eval")]
        file: Option<String>,
        /// Arguments passed to the script (read with args()).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
        #[command(flatten)]
        opts: RunOptions,
    },
    /// Warm boot: resume every checkpointed pipe of the heap whose pass was interrupted,
    /// from the code stored in the heap (no script), printing `NAME: RESULT` for each.
    Resume {
        /// The heap file.
        heap: PathBuf,
        #[command(flatten)]
        durability: DurabilityChoice,
        #[command(flatten)]
        execution: Execution,
        #[command(flatten)]
        input: DataInput,
    },
    /// Run a script's top-level statements, then each `test` block; prints
    /// "N passed, N failed" last and exits 70 if any test failed. Uses an in-memory heap
    /// unless --heap is given.
    Test {
        /// The script file.
        file: String,
        #[command(flatten)]
        opts: RunOptions,
    },
    /// Parse and resolve a script without running it; reports every error, prints nothing
    /// on success. Globals stored in the heap count as declared (a missing heap is not
    /// created).
    Check {
        /// The script file.
        file: String,
        #[command(flatten)]
        heap: HeapChoice,
    },
    /// List a heap's globals (type and stored size), tables (rows, typed columns, size),
    /// the cursors of checkpointed pipes (state, position/total, checkpoints, resumes,
    /// definition) and file and commit statistics. Reads the last commit without taking the lock, so
    /// it never blocks a running writer.
    Inspect {
        /// The heap file (default: --heap, $WALIA_HEAP, else ./walia.wld).
        heap: Option<PathBuf>,
        /// The heap file, as an option.
        #[arg(long = "heap", value_name = "PATH", conflicts_with = "heap")]
        heap_option: Option<PathBuf>,
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
        #[command(flatten)]
        durability: DurabilityChoice,
        #[command(flatten)]
        input: DataInput,
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
        #[command(flatten)]
        execution: Execution,
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
        #[command(flatten)]
        durability: DurabilityChoice,
    },
    /// Rewrite a heap without its free pages, so the file shrinks to what is live. Takes
    /// the write lock; atomic (the new file replaces the old one in one rename, so a crash
    /// leaves one or the other). Shows a progress bar on a terminal.
    Compact {
        /// The heap file.
        heap: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Print a shell completion script: `walia completions bash > ~/.local/share/bash-completion/completions/walia`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the language reference (markdown: operators and every builtin), or the entry
    /// of one builtin: `walia doc round`. docs/reference.md is this output.
    Doc {
        /// A builtin's name.
        name: Option<String>,
    },
    /// Print the man page (roff) of walia, or of one command (walia-run):
    /// `walia man > ~/.local/share/man/man1/walia.1`.
    Man {
        /// The command whose page to print.
        command: Option<String>,
    },
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
    let argv = cli::argv::options_after_command(std::env::args_os().collect(), &Cli::command());
    let cli = match Cli::try_parse_from(argv) {
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
    let color = cli.color.enabled();
    match cli.command {
        Some(Command::Inspect {
            heap,
            heap_option,
            json,
        }) => {
            let path = heap.or(heap_option).unwrap_or_else(default_heap_path);
            admin::inspect(&path, json, color)
        }
        Some(Command::Verify { heap }) => admin::verify(&heap, color),
        Some(Command::Show {
            heap,
            table,
            limit,
            all,
            filter,
            execution,
        }) => {
            let mut engine = new_engine(stack, &execution, &DataInput::default());
            let limit = (!all).then_some(limit);
            let shown = show::show(&mut engine, &heap, &table, limit, filter.as_deref());
            close(&mut engine, report(shown, color), color)
        }
        Some(Command::Drop {
            heap,
            names,
            durability,
        }) => {
            let mut engine = new_engine(stack, &Execution::default(), &DataInput::default());
            let dropped = maintain::drop_names(&mut engine, &heap, &names, durability.mode());
            close(&mut engine, report(dropped, color), color)
        }
        Some(Command::Compact { heap, quiet }) => report(maintain::compact(&heap, quiet), color),
        Some(Command::Check { file, heap }) => check_file(&file, &heap, color),
        Some(Command::Completions { shell }) => cli::docs::completions(shell, Cli::command()),
        Some(Command::Doc { name }) => cli::docs::reference(name.as_deref()),
        Some(Command::Man { command }) => cli::docs::man(Cli::command(), command.as_deref()),
        Some(Command::Resume {
            heap,
            durability,
            execution,
            input,
        }) => {
            let mut engine = new_engine(stack, &execution, &input);
            resume(&mut engine, &heap, &durability, color)
        }
        Some(Command::Import {
            heap,
            table,
            file,
            skip_bad,
            durability,
            input,
            delimiter,
        }) => {
            // An input that cannot be read is reported before the heap is opened (and
            // created): a mistyped file name leaves no new heap behind.
            if let Err(e) = walia::check_import_file(&file) {
                return report(Err(e), color);
            }
            let mut engine = new_engine(stack, &Execution::default(), &input);
            if let Err(e) = engine.open_heap(&heap, durability.mode()) {
                return report(Err(with_lock_hint(e, false)), color);
            }
            let options = walia::ImportOptions {
                skip_bad,
                progress: !input.quiet,
                max_record: input.max_record,
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
            close(&mut engine, report(result, color), color)
        }
        Some(Command::Export {
            heap,
            table,
            file,
            delimiter,
        }) => {
            let mut engine = Engine::new();
            // An export reads the last commit like `inspect`: it never blocks a writer.
            let result = engine.open_heap_read_only(&heap).and_then(|()| {
                let n = engine.export_table_with(&table, &file, delimiter)?;
                println!("exported {} of {table}", rows(n));
                Ok(())
            });
            report(result, color)
        }
        Some(Command::Run {
            eval,
            file,
            args,
            opts,
        }) => {
            let script = match (eval, file) {
                (Some(code), first) => Script::Code {
                    code,
                    args: first.into_iter().chain(args).collect(),
                },
                (None, file) => Script::File {
                    file: file.unwrap_or_else(|| "-".to_string()),
                    args,
                },
            };
            run_script(stack, script, &opts, Mode::Run, color)
        }
        Some(Command::Test { file, opts }) => {
            let script = Script::File { file, args: vec![] };
            run_script(stack, script, &opts, Mode::Test, color)
        }
        None => {
            let script = if let Some(code) = cli.eval {
                Script::Code {
                    code,
                    args: cli.file.into_iter().chain(cli.args).collect(),
                }
            } else if let Some(file) = cli.file {
                Script::File {
                    file,
                    args: cli.args,
                }
            } else if std::io::stdin().is_terminal() {
                return start_repl(stack, &cli.opts, color);
            } else {
                Script::File {
                    file: "-".to_string(),
                    args: cli.args,
                }
            };
            run_script(stack, script, &cli.opts, Mode::Run, color)
        }
    }
}

/// "1 row", "2 rows".
fn rows(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}
