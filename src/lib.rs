//! Walia: a persistent, pipe-based scripting language.
//!
//! This crate is the embedding API. An [`Engine`] compiles and runs Walia source, evaluates
//! expressions into Rust values, reads and writes globals, calls script functions, registers
//! Rust functions, and enforces limits on untrusted scripts. The `walia` command-line tool
//! is built on it.
//!
//! ```
//! use walia::Engine;
//! let mut engine = Engine::new();
//! engine.register_fn("double", |x: i64| x * 2);
//! engine.run("var answer = double(21);").unwrap();
//! assert_eq!(engine.get::<i64>("answer"), Some(42));
//! assert_eq!(engine.eval::<String>("\"n=\" + answer").unwrap(), "n=42");
//! ```

#![warn(missing_docs)]

mod convert;
mod error;
mod explain;
mod persist;
pub mod resume;
pub mod table_view;
mod tables;

pub use convert::{FromValue, IntoValue, NativeFunction, NativeResultOrErr};
pub use error::{Error, exit_code};
pub use tables::{ImportOptions, Imported, RowView, TableInfo};
pub use walia_runtime::api::Durability;
pub use walia_runtime::api::Limits;
pub use walia_runtime::api::ProgressSink;
/// Stop the script running in this process (from any thread, e.g. a Ctrl-C handler): it
/// fails at its next limit poll, every few thousand operations or pipeline batch, with
/// the runtime error "interrupted", and its uncommitted changes roll back.
pub use walia_runtime::api::interrupt;
pub use walia_runtime::{RtError, Value};

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;
use walia_lang::resolve::parse_and_resolve;
use walia_runtime::api::{Proto, SourceFile, Vm, compile};

/// A Walia interpreter instance: globals, builtins, limits and output.
pub struct Engine {
    vm: Vm,
}

/// The outcome of running `test` blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestSummary {
    /// Tests whose block ran to the end.
    pub passed: usize,
    /// Tests that raised an error (a failed `assert` included).
    pub failed: usize,
    /// One rendered diagnostic per failed test.
    pub failures: Vec<String>,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl Engine {
    /// An engine with every builtin installed, printing to standard output.
    pub fn new() -> Engine {
        Engine::with_output(Box::new(std::io::BufWriter::new(std::io::stdout())))
    }

    /// An engine whose `print` writes to `out` (a `Vec<u8>`, a file, a socket...).
    pub fn with_output(out: Box<dyn Write>) -> Engine {
        let mut vm = Vm::new(out);
        walia_stdlib::install(&mut vm);
        Engine { vm }
    }

    /// Compile pipelines in SPEC §11's subset to machine code (Cranelift) in every engine of
    /// this process, as the `walia` binary does. Without it an engine runs them in batch
    /// kernels, with the same results. Needs the `engine-jit` feature, which links the
    /// code generator into the embedding program.
    #[cfg(feature = "engine-jit")]
    pub fn enable_native_loop() {
        walia_jit::install();
    }

    /// Replace where `print` writes.
    pub fn set_output(&mut self, out: Box<dyn Write>) {
        self.vm.out = out;
    }

    /// Limits for every later run: operations, memory and wall-clock time.
    pub fn set_limits(&mut self, limits: Limits) {
        self.vm.limits = limits;
    }

    /// The maximum depth of (non-tail) Walia calls; deeper is the error `stack overflow`.
    pub fn set_max_depth(&mut self, depth: usize) {
        self.vm.max_depth = depth;
    }

    /// Tell the engine how much Rust stack the thread running scripts has. Builtins that
    /// call back into Walia code (pipeline stages, `sort_by`, `reduce`) use Rust stack for
    /// each level of nesting, so recursion through them is limited to what fits
    /// (one level per 16 KB; the default assumes an 8 MB thread and allows 200 levels).
    /// The `walia` command runs scripts on a 4 GB thread.
    pub fn set_stack_size(&mut self, bytes: usize) {
        self.vm.max_native_depth = (bytes / walia_runtime::api::STACK_PER_NATIVE_LEVEL)
            .saturating_sub(16)
            .max(1);
    }

    /// Turn progress output (an import's progress bar on a terminal) off or on.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.vm.quiet = quiet;
    }

    /// Where checkpointed pipes report their progress while they run (the `walia`
    /// command installs a progress line when stderr is a terminal); `None` turns it off.
    pub fn set_progress(&mut self, sink: Option<Box<dyn ProgressSink>>) {
        self.vm.progress = sink;
    }

    /// Run pipelines through stage kernels where they allow it (the default; off is
    /// `--no-jit`: everything in the interpreter, with the same results).
    pub fn set_jit(&mut self, on: bool) {
        self.vm.jit = on;
    }

    /// Write each pipeline's plan to stderr when it first runs (`--explain`).
    pub fn set_explain(&mut self, on: bool) {
        self.vm.explain = on;
    }

    /// The list `args()` returns to scripts.
    pub fn set_args(&mut self, args: Vec<String>) {
        self.vm.args = args;
    }

    /// Compile `source` (named `name` in diagnostics) without running it: every syntax and
    /// name error is reported.
    pub fn check(&mut self, name: &str, source: &str) -> Result<(), Error> {
        self.compile(name, source).map(|_| ())
    }

    fn compile(&mut self, name: &str, source: &str) -> Result<Rc<Proto>, Error> {
        // A UTF-8 byte order mark (editors on Windows add one) is not part of the script.
        let source = strip_bom(source);
        let defined: HashSet<String> = self
            .vm
            .names
            .iter()
            .filter(|(slot, _)| {
                self.vm
                    .global_slots()
                    .get(*slot as usize)
                    .is_some_and(|v| !matches!(v, Value::Undefined))
            })
            .map(|(_, n)| n.to_string())
            .collect();
        let stored: HashSet<String> = self
            .vm
            .heap()
            .map(|h| h.stored_names().into_iter().collect())
            .unwrap_or_default();
        let known = |n: &str| defined.contains(n) || stored.contains(n);
        let (program, diagnostics) = parse_and_resolve(source, &mut self.vm.names, &known);
        if !diagnostics.is_empty() {
            return Err(Error::Compile {
                file: name.to_string(),
                source: source.to_string(),
                diagnostics,
            });
        }
        let file = Rc::new(SourceFile {
            name: name.to_string(),
            text: source.to_string(),
        });
        Ok(compile(&program, file).script)
    }

    /// Run a script. Returns the value of its final statement.
    pub fn run(&mut self, source: &str) -> Result<Value, Error> {
        self.run_named("<script>", source)
    }

    /// Run a script whose diagnostics name it `name`.
    pub fn run_named(&mut self, name: &str, source: &str) -> Result<Value, Error> {
        let proto = self.compile(name, source)?;
        self.vm.tests.clear();
        let result = self.vm.run_script(proto);
        let _ = self.vm.out.flush();
        self.finish_run(result)
    }

    /// Read and run a script file.
    pub fn run_file(&mut self, path: impl AsRef<Path>) -> Result<Value, Error> {
        let path = path.as_ref();
        let source = read_source(path)?;
        self.run_named(&path.display().to_string(), &source)
    }

    /// Evaluate one expression and convert its value.
    pub fn eval<T: FromValue>(&mut self, expr: &str) -> Result<T, Error> {
        let v = self.run_named("<eval>", expr)?;
        convert_result(v)
    }

    /// Run the `test` blocks registered by the last run, in order.
    pub fn run_tests(&mut self) -> TestSummary {
        let tests = std::mem::take(&mut self.vm.tests);
        let mut summary = TestSummary::default();
        for (name, f) in tests {
            self.vm.limits.start();
            match self.vm.call_value(&f, &[]) {
                Ok(_) => summary.passed += 1,
                Err(e) => {
                    summary.failed += 1;
                    summary
                        .failures
                        .push(format!("test \"{name}\" failed:\n{}", e.render(false)));
                }
            }
        }
        let _ = self.vm.out.flush();
        summary
    }

    /// A global's value converted to `T`, if it is defined and has that type.
    pub fn get<T: FromValue>(&mut self, name: &str) -> Option<T> {
        T::from_value(&self.get_value(name)?)
    }

    /// A global's value, loaded from the heap on first use (`None` also when a stored global
    /// cannot be loaded: [`Engine::try_get_value`] says why).
    pub fn get_value(&mut self, name: &str) -> Option<Value> {
        self.vm.global_or_stored(name).ok().flatten()
    }

    /// Like [`Engine::get_value`], but a stored global that cannot be loaded (a damaged
    /// heap) is an error rather than `None`.
    pub fn try_get_value(&mut self, name: &str) -> Result<Option<Value>, Error> {
        self.vm.global_or_stored(name).map_err(Error::Runtime)
    }

    /// Define or replace a global.
    pub fn set(&mut self, name: &str, value: impl IntoValue) {
        self.vm.set_global(name, value.into_value());
    }

    /// The names of every defined global (builtins included), sorted.
    pub fn globals(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .vm
            .names
            .iter()
            .filter(|(_, n)| self.vm.has_global(n))
            .map(|(_, n)| n.to_string())
            .collect();
        if let Some(heap) = self.vm.heap() {
            names.extend(heap.stored_names());
        }
        names.sort();
        names.dedup();
        names
    }

    /// Call a script function (any global callable) with arguments.
    pub fn call<T: FromValue>(&mut self, name: &str, args: Vec<Value>) -> Result<T, Error> {
        let f = self
            .get_value(name)
            .ok_or_else(|| Error::Runtime(RtError::new(format!("undefined function '{name}'"))))?;
        self.vm.limits.start();
        let v = self.vm.call_value(&f, &args).map_err(Error::Runtime)?;
        let _ = self.vm.out.flush();
        convert_result(v)
    }

    /// Register a Rust function as a global. Arguments are converted from Walia values
    /// (a wrong type is a runtime error in the script, naming the function and argument);
    /// return a value, or a `Result` whose `Err` becomes a runtime error.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.register_fn("greet", |name: String| format!("hello, {name}"));
    /// engine.register_fn("safe_div", |a: f64, b: f64| {
    ///     if b == 0.0 { Err("division by zero") } else { Ok(a / b) }
    /// });
    /// assert_eq!(engine.eval::<String>("greet(\"Ann\")").unwrap(), "hello, Ann");
    /// assert!(engine.eval::<f64>("safe_div(1, 0)").is_err());
    /// ```
    pub fn register_fn<Args, F: NativeFunction<Args>>(&mut self, name: &str, f: F) {
        let v = f.into_native(name.into());
        self.vm.set_global(name, v);
    }

    /// Register a raw builtin: any number of arguments in `min..=max`, full access to the VM.
    pub fn register_raw(
        &mut self,
        name: &str,
        min_args: usize,
        max_args: usize,
        f: impl Fn(&mut Vm, &[Value]) -> Result<Value, RtError> + 'static,
    ) {
        self.vm
            .set_global(name, Value::native(name, min_args, max_args, f));
    }

    /// The underlying VM, for advanced embedding.
    pub fn vm(&mut self) -> &mut Vm {
        &mut self.vm
    }

    /// `///` documentation of a global function or class, for `:help`.
    pub fn doc(&mut self, name: &str) -> Option<String> {
        match self.get_value(name)? {
            Value::Function(c) => c.proto.doc.clone(),
            Value::Class(c) => c.doc.clone(),
            _ => None,
        }
    }
}

fn convert_result<T: FromValue>(v: Value) -> Result<T, Error> {
    T::from_value(&v).ok_or_else(|| {
        Error::Runtime(RtError::new(format!(
            "expected {} but the result is {}",
            T::TYPE,
            v.type_name()
        )))
    })
}

/// `text` without a leading UTF-8 byte order mark.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Read a script file as UTF-8 (a leading byte order mark dropped).
pub fn read_source(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        message: format!("cannot read '{}': {e}", path.display()),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Io {
        message: format!(
            "cannot read '{}': not valid UTF-8 (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ),
    })?;
    Ok(match strip_bom(&text).len() {
        n if n == text.len() => text,
        _ => strip_bom(&text).to_string(),
    })
}
