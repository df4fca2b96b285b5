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
//! assert_eq!(engine.get::<i64>("answer").unwrap(), 42);
//! assert_eq!(engine.eval::<String>("\"n=\" + answer").unwrap(), "n=42");
//! ```

#![warn(missing_docs)]

mod convert;
mod entered;
mod error;
mod explain;
mod members;
mod modules;
mod persist;
pub mod reference;
pub mod resume;
#[cfg(feature = "serde")]
mod serde_values;
pub mod table_view;
mod tables;
mod value;

pub use convert::{FromValue, IntoArgs, IntoValue, NativeFunction, NativeResultOrErr};
pub use error::{Error, exit_code};
#[cfg(feature = "serde")]
pub use serde_values::{from_value, to_value};
pub use tables::{ImportOptions, Imported, RowView, TableInfo, check_import_file};
pub use value::Value;
pub use walia_runtime::RtError;
pub use walia_runtime::api::Durability;
/// A heap file (or custom storage) opened by Rust code, for [`Engine::attach_heap`].
pub use walia_runtime::api::Heap;
pub use walia_runtime::api::Limits;
pub use walia_runtime::api::ProgressSink;
/// Stop the script running in this process (from any thread, e.g. a Ctrl-C handler): it
/// fails at its next limit poll, every few thousand operations or pipeline batch, with
/// the runtime error "interrupted", and its uncommitted changes roll back.
pub use walia_runtime::api::interrupt;

use entered::{Entered, StateSlot};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use walia_lang::ParseMode;
use walia_runtime::Value as Live;
use walia_runtime::api::{Proto, Vm};

/// A Walia interpreter instance: globals, builtins, limits and output.
pub struct Engine {
    /// Reached only through [`Engine::enter`].
    vm: Vm,
    /// Scripts compiled by [`Engine::compile`], by [`Script`] index.
    scripts: Vec<Rc<Proto>>,
    /// Tells this engine's [`Script`]s from another's.
    id: u64,
    /// Files imported so far (canonical paths): each is loaded once per engine.
    imported: HashSet<std::path::PathBuf>,
    /// `imported` before the latest compilation: a run that fails rolls its globals back,
    /// the imported files' included, so it goes back to this set too.
    imported_before: HashSet<std::path::PathBuf>,
    /// Whether a run that ends well commits (see [`Engine::set_commit_at_end`]).
    commit_at_end: bool,
    /// Declared after `vm` so that it is dropped after the VM: [`Drop for Engine`]
    /// installs the registries, the VM's objects drop with them installed, then the slot
    /// takes them back.
    state: StateSlot,
}

/// A script compiled once by [`Engine::compile`], run with [`Engine::run_compiled`]. It
/// names the compiled code, which the engine keeps; running it in another engine is an
/// error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Script {
    engine: u64,
    index: usize,
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

impl Drop for Engine {
    fn drop(&mut self) {
        // The VM (dropped next, as the first field) frees its objects and detaches its
        // heap with this engine's registries installed; the slot, dropped last, takes them
        // back.
        self.state.install();
    }
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
    pub fn with_output(out: Box<dyn Write + Send>) -> Engine {
        let mut state = StateSlot::new();
        state.install();
        let mut vm = Vm::new(out);
        walia_stdlib::install(&mut vm);
        // (Dropping the slot on unwind takes the registries back too.)
        state.uninstall();
        static ENGINES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Engine {
            vm,
            scripts: Vec::new(),
            imported: HashSet::new(),
            imported_before: HashSet::new(),
            commit_at_end: true,
            id: ENGINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            state,
        }
    }

    /// The VM, with this engine's registries installed until the guard drops.
    pub(crate) fn enter(&mut self) -> Entered<'_> {
        Entered::new(&mut self.vm, &mut self.state)
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
    pub fn set_output(&mut self, out: Box<dyn Write + Send>) {
        self.enter().out = out;
    }

    /// Limits for every later run: operations, memory and wall-clock time.
    pub fn set_limits(&mut self, limits: Limits) {
        self.enter().limits = limits;
    }

    /// The maximum depth of (non-tail) Walia calls; deeper is the error `stack overflow`.
    pub fn set_max_depth(&mut self, depth: usize) {
        self.enter().max_depth = depth;
    }

    /// Tell the engine how much Rust stack the thread running scripts has. Builtins that
    /// call back into Walia code (pipeline stages, `sort_by`, `reduce`) use Rust stack for
    /// each level of nesting, so recursion through them is limited to what fits
    /// (one level per 16 KB; the default assumes an 8 MB thread and allows 200 levels).
    /// The `walia` command runs scripts on a 4 GB thread.
    pub fn set_stack_size(&mut self, bytes: usize) {
        self.enter().max_native_depth = (bytes / walia_runtime::api::STACK_PER_NATIVE_LEVEL)
            .saturating_sub(16)
            .max(1);
    }

    /// Turn progress output (an import's progress bar on a terminal) off or on.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.enter().quiet = quiet;
    }

    /// Where checkpointed pipes report their progress while they run (the `walia`
    /// command installs a progress line when stderr is a terminal); `None` turns it off.
    pub fn set_progress(&mut self, sink: Option<Box<dyn ProgressSink + Send>>) {
        self.enter().progress = sink.map(|s| s as Box<dyn ProgressSink>);
    }

    /// Run pipelines through stage kernels where they allow it (the default; off is
    /// `--no-jit`: everything in the interpreter, with the same results).
    pub fn set_jit(&mut self, on: bool) {
        self.enter().jit = on;
    }

    /// Write each pipeline's plan to stderr when it first runs (`--explain`).
    pub fn set_explain(&mut self, on: bool) {
        self.enter().explain = on;
    }

    /// The list `args()` returns to scripts.
    pub fn set_args(&mut self, args: Vec<String>) {
        self.enter().args = args;
    }

    /// Compile `source` (named `name` in diagnostics) without running it: every syntax and
    /// name error is reported.
    pub fn check(&mut self, name: &str, source: &str) -> Result<(), Error> {
        self.compile_source(name, source, ParseMode::Script)
            .map(|_| ())
    }

    /// Compile a script once, to run it many times with [`Engine::run_compiled`] without
    /// parsing it again. Names resolve against this engine's globals, so run it only in
    /// the engine that compiled it.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.run("var hits = 0;").unwrap();
    /// let bump = engine.compile("hits += 1; hits").unwrap();
    /// for _ in 0..3 {
    ///     engine.run_compiled(&bump).unwrap();
    /// }
    /// assert_eq!(engine.get::<i64>("hits").unwrap(), 3);
    /// ```
    pub fn compile(&mut self, source: &str) -> Result<Script, Error> {
        self.compile_named("<script>", source)
    }

    /// [`Engine::compile`], with diagnostics naming the script `name`.
    pub fn compile_named(&mut self, name: &str, source: &str) -> Result<Script, Error> {
        let proto = self.compile_source(name, source, ParseMode::Script)?;
        self.scripts.push(proto);
        Ok(Script {
            engine: self.id,
            index: self.scripts.len() - 1,
        })
    }

    /// Run a script compiled by [`Engine::compile`]. Returns the value of its final
    /// statement.
    pub fn run_compiled(&mut self, script: &Script) -> Result<Value, Error> {
        let proto = (script.engine == self.id)
            .then(|| self.scripts.get(script.index).cloned())
            .flatten()
            .ok_or_else(|| {
                Error::Runtime(RtError::new(
                    "this script was compiled by another engine: compile it in this one",
                ))
            })?;
        self.run_proto(proto)
    }

    fn compile_source(
        &mut self,
        name: &str,
        source: &str,
        mode: ParseMode,
    ) -> Result<Rc<Proto>, Error> {
        // A UTF-8 byte order mark (editors on Windows add one) is not part of the script.
        let source = strip_bom(source);
        let mut imported = std::mem::take(&mut self.imported);
        self.imported_before = imported.clone();
        let mut vm = self.enter();
        let defined: HashSet<String> = vm
            .names
            .iter()
            .filter(|(slot, _)| {
                vm.global_slots()
                    .get(*slot as usize)
                    .is_some_and(|v| !matches!(v, Live::Undefined))
            })
            .map(|(_, n)| n.to_string())
            .collect();
        let stored: HashSet<String> = vm
            .heap()
            .map(|h| h.stored_names().into_iter().collect())
            .unwrap_or_default();
        let known = |n: &str| defined.contains(n) || stored.contains(n);
        let compiled = modules::compile(name, source, mode, &mut vm.names, &known, &mut imported);
        drop(vm);
        self.imported = imported;
        compiled
    }

    /// Run a script. Returns the value of its final statement.
    pub fn run(&mut self, source: &str) -> Result<Value, Error> {
        self.run_named("<script>", source)
    }

    /// Run a script whose diagnostics name it `name`.
    pub fn run_named(&mut self, name: &str, source: &str) -> Result<Value, Error> {
        let v = self.run_live(name, source)?;
        Ok(self.detached(v))
    }

    /// Run a script and keep its value in the engine's form.
    pub(crate) fn run_live(&mut self, name: &str, source: &str) -> Result<Live, Error> {
        let proto = self.compile_source(name, source, ParseMode::Script)?;
        self.run_proto_live(proto)
    }

    fn run_proto(&mut self, proto: Rc<Proto>) -> Result<Value, Error> {
        let v = self.run_proto_live(proto)?;
        Ok(self.detached(v))
    }

    fn run_proto_live(&mut self, proto: Rc<Proto>) -> Result<Live, Error> {
        let result = {
            let mut vm = self.enter();
            vm.tests.clear();
            let result = vm.run_script(proto);
            let _ = vm.out.flush();
            result
        };
        self.finish_run(result)
    }

    /// A plain-data copy of `v` (dropped with this engine's registries installed).
    pub(crate) fn detached(&mut self, v: Live) -> Value {
        let _vm = self.enter();
        value::detach(&v)
    }

    /// Read and run a script file.
    pub fn run_file(&mut self, path: impl AsRef<Path>) -> Result<Value, Error> {
        let path = path.as_ref();
        let source = read_source(path)?;
        self.run_named(&path.display().to_string(), &source)
    }

    /// Evaluate one expression and convert its value (see [`Engine::eval_named`]).
    pub fn eval<T: FromValue>(&mut self, expr: &str) -> Result<T, Error> {
        convert_result(self.eval_named("<eval>", expr)?)
    }

    /// Evaluate `input` as the REPL reads it: as one expression (optionally followed by `;`)
    /// when the whole text is one, so `{a: 1}` is a map where a script would read a block;
    /// otherwise as a script, whose final statement gives the value. Diagnostics name it
    /// `name`.
    pub fn eval_named(&mut self, name: &str, input: &str) -> Result<Value, Error> {
        let v = self.eval_live(name, input)?;
        Ok(self.detached(v))
    }

    /// [`Engine::eval_named`], keeping the value in the engine's form.
    pub(crate) fn eval_live(&mut self, name: &str, input: &str) -> Result<Live, Error> {
        let proto = self.compile_source(name, input, ParseMode::Input)?;
        self.run_proto_live(proto)
    }

    /// Run the `test` blocks registered by the last run, in order.
    pub fn run_tests(&mut self) -> TestSummary {
        let mut vm = self.enter();
        let tests = std::mem::take(&mut vm.tests);
        let mut summary = TestSummary::default();
        for (name, f) in tests {
            vm.limits.start();
            match vm.call_value(&f, &[]) {
                Ok(_) => summary.passed += 1,
                // A test that ends the process would hide the others' results: like
                // pytest's SystemExit, it fails.
                Err(e) if let Some(code) = e.exit_code() => {
                    summary.failed += 1;
                    summary
                        .failures
                        .push(format!("test \"{name}\" failed: it called exit({code})\n"));
                }
                Err(e) => {
                    summary.failed += 1;
                    summary
                        .failures
                        .push(format!("test \"{name}\" failed:\n{}", e.render(false)));
                }
            }
        }
        let _ = vm.out.flush();
        summary
    }

    /// A global's value converted to `T`. A global that is not defined, or holds another
    /// type, is an error saying so; ask for `Option<T>` to read an undefined global (or
    /// `nil`) as `None`.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.run("var name = \"Ann\";").unwrap();
    /// assert_eq!(engine.get::<String>("name").unwrap(), "Ann");
    /// assert_eq!(engine.get::<Option<i64>>("missing").unwrap(), None);
    /// let wrong = engine.get::<i64>("name").unwrap_err();
    /// assert_eq!(wrong.to_string(), "global 'name' is String, expected Int");
    /// ```
    pub fn get<T: FromValue>(&mut self, name: &str) -> Result<T, Error> {
        let Some(value) = self.try_get_value(name)? else {
            return T::from_missing()
                .ok_or_else(|| Error::Runtime(RtError::new(format!("undefined global '{name}'"))));
        };
        T::from_value(&value).ok_or_else(|| {
            Error::Runtime(RtError::new(format!(
                "global '{name}' is {}, expected {}",
                convert::described(&value),
                T::TYPE
            )))
        })
    }

    /// A global's value, loaded from the heap on first use (`None` also when a stored global
    /// cannot be loaded: [`Engine::try_get_value`] says why).
    pub fn get_value(&mut self, name: &str) -> Option<Value> {
        self.try_get_value(name).ok().flatten()
    }

    /// Like [`Engine::get_value`], but a stored global that cannot be loaded (a damaged
    /// heap) is an error rather than `None`.
    pub fn try_get_value(&mut self, name: &str) -> Result<Option<Value>, Error> {
        let mut vm = self.enter();
        let live = vm.global_or_stored(name).map_err(Error::Runtime)?;
        Ok(live.as_ref().map(value::detach))
    }

    /// Define or replace a global (a copy of `value`: changing it afterwards changes
    /// nothing in the engine).
    pub fn set(&mut self, name: &str, value: impl IntoValue) {
        let value = value.into_value();
        let mut vm = self.enter();
        let live = value::attach(value);
        vm.set_global(name, live);
    }

    /// The names of every defined global (builtins included), sorted.
    pub fn globals(&mut self) -> Vec<String> {
        let vm = self.enter();
        let mut names: Vec<String> = vm
            .names
            .iter()
            .filter(|(_, n)| vm.has_global(n))
            .map(|(_, n)| n.to_string())
            .collect();
        if let Some(heap) = vm.heap() {
            names.extend(heap.stored_names());
        }
        names.sort();
        names.dedup();
        names
    }

    /// Call a script function (any global callable). The arguments are a tuple of Rust
    /// values, `()`, an array or a `Vec` of values.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.run("fun add(a, b) { a + b }").unwrap();
    /// assert_eq!(engine.call::<i64>("add", (1, 2)).unwrap(), 3);
    /// assert_eq!(engine.call::<String>("add", ("a", "b")).unwrap(), "ab");
    /// ```
    pub fn call<T: FromValue>(&mut self, name: &str, args: impl IntoArgs) -> Result<T, Error> {
        let args = args.into_args();
        let mut vm = self.enter();
        let f = vm
            .global_or_stored(name)
            .map_err(Error::Runtime)?
            .ok_or_else(|| Error::Runtime(RtError::new(format!("undefined function '{name}'"))))?;
        let args: Vec<Live> = args.into_iter().map(value::attach).collect();
        vm.limits.start();
        let result = vm.call_value(&f, &args);
        let _ = vm.out.flush();
        let v = value::detach(&result.map_err(Error::Runtime)?);
        drop(vm);
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
        let mut vm = self.enter();
        let v = f.into_native(name.into());
        vm.set_global(name, v);
    }

    /// Register a Rust function taking any number of arguments in `min_args..=max_args`
    /// (a call with another count is the usual arity error), as copies of Walia values;
    /// an `Err` becomes a runtime error in the script.
    ///
    /// ```
    /// let mut engine = walia::Engine::new();
    /// engine.register_variadic("count_args", 0, 8, |args| {
    ///     Ok::<_, String>(walia::Value::Int(args.len() as i64))
    /// });
    /// assert_eq!(engine.eval::<i64>("count_args(1, \"two\", [3])").unwrap(), 3);
    /// ```
    pub fn register_variadic<E: std::fmt::Display>(
        &mut self,
        name: &str,
        min_args: usize,
        max_args: usize,
        f: impl Fn(&[Value]) -> Result<Value, E> + Send + 'static,
    ) {
        let mut vm = self.enter();
        let native = Live::native(name, min_args, max_args, move |_vm, args: &[Live]| {
            let args: Vec<Value> = args.iter().map(value::detach).collect();
            f(&args)
                .map(value::attach)
                .map_err(|e| RtError::new(e.to_string()))
        });
        vm.set_global(name, native);
    }

    /// `///` documentation of a global function or class, for `:help`.
    pub fn doc(&mut self, name: &str) -> Option<String> {
        let mut vm = self.enter();
        match vm.global_or_stored(name).ok()?? {
            Live::Function(c) => c.proto.doc.clone(),
            Live::Class(c) => c.doc.clone(),
            _ => None,
        }
    }
}

fn convert_result<T: FromValue>(v: Value) -> Result<T, Error> {
    T::from_value(&v).ok_or_else(|| {
        Error::Runtime(RtError::new(format!(
            "expected {} but the result is {}",
            T::TYPE,
            convert::described(&v)
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
