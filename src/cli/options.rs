//! The option groups commands declare. Each command flattens only the groups it honours,
//! so `walia import --help` lists no `--memory` and `walia import --memory` is a usage
//! error rather than an option silently ignored.

use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use walia::{Durability, Engine, Limits};

/// Which heap a script sees.
#[derive(Args, Clone, Default)]
pub struct HeapChoice {
    /// Heap file holding the persistent state (default: $WALIA_HEAP, else ./walia.wld).
    #[arg(long, value_name = "PATH")]
    pub heap: Option<PathBuf>,

    /// Run on an empty in-memory heap; touch no file.
    #[arg(long)]
    pub memory: bool,
}

/// How a run's changes reach the heap.
#[derive(Args, Clone, Default)]
pub struct WriteMode {
    /// Run a report against a heap without growing it: read the heap's last commit without
    /// taking the write lock (a writer may run meanwhile). The run sees the stored globals
    /// and tables; nothing it changes is committed, and table writes are errors.
    #[arg(long)]
    pub read_only: bool,

    #[command(flatten)]
    pub durability: DurabilityChoice,
}

/// When a commit reaches the disk.
#[derive(Args, Clone, Default)]
pub struct DurabilityChoice {
    /// Commit durability: immediate (default; fsync before a commit returns), batched
    /// (fsync every 64 commits or 100 ms) or async (no fsync: survives a process crash,
    /// not a power loss).
    #[arg(long, value_name = "MODE", value_parser = ["immediate", "batched", "async"])]
    pub durability: Option<String>,
}

/// How scripts execute, and the limits that stop them.
#[derive(Args, Clone, Default)]
pub struct Execution {
    /// Run every pipeline in the interpreter: no stage kernels or native loop (also
    /// WALIA_JIT=0).
    #[arg(long)]
    pub no_jit: bool,

    /// Write each pipeline's plan to stderr as it first runs: source, stages, terminal,
    /// and `compiled` or `not compiled: REASON`.
    #[arg(long)]
    pub explain: bool,

    /// Maximum depth of Walia calls before "stack overflow" [default: 100000].
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,

    /// Stop the script with a runtime error (exit 70) when the process would use more
    /// than SIZE of memory: bytes, or a number with K, M, G or T (powers of 1024): 300M, 2G.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// Reading data files and showing progress.
#[derive(Args, Clone, Default)]
pub struct DataInput {
    /// No progress output (the import progress bar, a checkpointed pipe's progress line).
    #[arg(long)]
    pub quiet: bool,

    /// Longest line or record that lines(), read_csv(), read_jsonl() and imports accept
    /// (default 64M; a file without line ends is one long line).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_record: Option<u64>,
}

/// Everything a script run honours: `walia FILE`, `walia run` and `walia test`.
#[derive(Args, Clone, Default)]
pub struct RunOptions {
    #[command(flatten)]
    pub heap: HeapChoice,
    #[command(flatten)]
    pub write: WriteMode,
    #[command(flatten)]
    pub execution: Execution,
    #[command(flatten)]
    pub input: DataInput,
}

/// `--color`: when diagnostics use ANSI colours.
#[derive(ValueEnum, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal and NO_COLOR is unset or empty.
    #[default]
    Auto,
    /// Always colour, even when NO_COLOR is set (an explicit option wins, as no-color.org
    /// asks).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether diagnostics on stderr get colours.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Default call depth before "stack overflow".
const DEFAULT_MAX_DEPTH: usize = 100_000;

impl Execution {
    /// Apply these options to an engine.
    pub fn configure(&self, engine: &mut Engine) {
        engine.set_max_depth(self.max_depth.unwrap_or(DEFAULT_MAX_DEPTH));
        if self.no_jit {
            engine.set_jit(false);
        }
        engine.set_explain(self.explain);
    }
}

impl DataInput {
    /// Apply these options to an engine, with the memory ceiling of `execution` (the two
    /// live in one `Limits`).
    pub fn configure(&self, engine: &mut Engine, max_memory: Option<u64>) {
        engine.set_quiet(self.quiet);
        let mut limits = Limits::default();
        limits.max_memory = max_memory;
        limits.max_record = self.max_record;
        engine.set_limits(limits);
    }
}

impl DurabilityChoice {
    pub fn mode(&self) -> Durability {
        self.durability
            .as_deref()
            .and_then(Durability::parse)
            .unwrap_or_default()
    }
}

impl HeapChoice {
    /// The heap file: --heap, else $WALIA_HEAP, else ./walia.wld.
    pub fn path(&self) -> PathBuf {
        self.heap.clone().unwrap_or_else(default_heap_path)
    }
}

/// $WALIA_HEAP, else ./walia.wld.
pub fn default_heap_path() -> PathBuf {
    std::env::var_os("WALIA_HEAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("walia.wld"))
}

/// `300M`, `2G`, `64KiB`, `1000`: a size in bytes (suffixes are powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
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
