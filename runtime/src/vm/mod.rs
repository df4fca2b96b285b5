//! The virtual machine: a stack machine whose Walia calls live in `frames`, never on the
//! Rust stack. Builtins that call back into Walia code (pipeline stages, `sort_by`) re-enter
//! through [`Vm::call_value`]; that nesting is bounded by [`Vm::max_native_depth`].

mod cold;
mod completion;
mod concat;
mod construct;
mod counted;
mod cursors;
mod destructure;
mod dispatch;
mod drop;
pub(crate) mod heap;
mod hot;
mod members;
mod numeric;
mod progress;
pub(crate) mod stack;
mod tables;

pub use progress::ProgressSink;

use crate::bytecode::{Proto, ProtoKind};
use crate::error::{RtError, RtResult, StackFrame};
use crate::gc::track;
use crate::limits::Limits;
use crate::objects::{assemble_class, new_cell};
use crate::value::*;
use crate::vm::stack::truncate_stack;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;
use walia_lang::ast::Capture;
use walia_lang::resolve::GlobalNames;

/// How deep builtins may re-enter the VM by default (a stage calling a function that runs a
/// pipeline...): each level uses Rust stack, and 200 levels fit an 8 MB main thread.
pub const DEFAULT_NATIVE_DEPTH: usize = 200;

/// Rust stack one level of re-entry may use (measured about 6.5 KB in a release build,
/// doubled for margin; unoptimised builds use far more).
pub const STACK_PER_NATIVE_LEVEL: usize = if cfg!(debug_assertions) {
    128 << 10
} else {
    16 << 10
};

pub const DEFAULT_MAX_DEPTH: usize = 100_000;

pub(crate) struct Frame {
    pub closure: Rc<Closure>,
    pub ip: usize,
    /// Stack index of slot 0 (the callee, or `this` in a method).
    pub base: usize,
}

type MethodEntry = (&'static str, Box<str>, Value);

/// Where `print` writes.
pub type Output = Box<dyn Write>;

pub struct Vm {
    pub(crate) stack: Vec<Value>,
    pub(crate) frames: Vec<Frame>,
    /// Global slots by index. Written only through [`Vm::set_global`] and the VM's own
    /// stores, which note the slot for the next commit (see `vm/heap.rs`).
    pub(crate) globals: Vec<Value>,
    /// Slots assigned since the last commit, once each, and a flag per slot.
    pub(crate) dirty_globals: Vec<u32>,
    pub(crate) global_dirty: Vec<bool>,
    /// The objects those slots held at the last commit (addresses: see `Persist::release`).
    pub(crate) released: Vec<usize>,
    pub names: GlobalNames,
    /// Methods of built-in types, by `type_of` name then method name.
    pub(crate) methods: HashMap<&'static str, HashMap<String, Value, FxBuild>, FxBuild>,
    /// The stack the VM runs on while the main one is lent to a builtin as its arguments
    /// (see `call_native`); empty between builtin calls.
    spare_stack: Vec<Value>,
    /// The height of the stack lent to the builtin running now (tests check it).
    #[cfg(test)]
    lent_height: usize,
    /// Recently used built-in methods: (type, name, method).
    method_cache: RefCell<[Option<MethodEntry>; 64]>,
    pub out: Output,
    pub max_depth: usize,
    /// Backward jumps and calls left before the dispatch loop polls the limits (a field,
    /// not a local of the loop, which has more live values than registers already).
    pub(crate) poll_budget: u32,
    /// How deep builtins may re-enter the VM; see [`DEFAULT_NATIVE_DEPTH`].
    pub max_native_depth: usize,
    pub limits: Limits,
    native_depth: usize,
    /// `test` blocks met while running, in order.
    pub tests: Vec<(String, Value)>,
    /// Command-line arguments for `args()`.
    pub args: Vec<String>,
    /// The source text of the condition of the `assert(cond)` being called (set by
    /// `Op::AssertSource` right before the call; the builtin takes it).
    pub assert_source: Option<Rc<str>>,
    /// The persistent heap, when one is attached (see `vm/heap.rs`).
    /// Shared (not owned outright) so that row and table values, which refer to it weakly,
    /// can read it wherever they are printed or passed.
    pub(crate) heap: Option<crate::persist::HeapRef>,
    /// Builtin functions by name, as registered.
    pub(crate) builtins: HashMap<String, Value, FxBuild>,
    /// The table whose rows were read last, resolved (see `db/reader.rs`).
    pub(crate) row_reader: crate::db::reader::RowReader,
    /// A heap operation has the heap detached (see `Vm::with_heap`).
    pub(crate) heap_busy: bool,
    /// No progress output (`--quiet`): an import's progress bar stays off.
    pub quiet: bool,
    /// File sources by name (`lines`...), for streams loaded from the heap.
    pub(crate) sources: HashMap<String, crate::pipe::files::SourceOpener, FxBuild>,
    /// Run pipeline stages in kernels where they allow it (`--no-jit` / `WALIA_JIT=0`
    /// turns this off: everything runs in the interpreter).
    pub jit: bool,
    /// Compile pipelines to machine code when a native compiler is installed
    /// (`WALIA_JIT=kernels` turns this off: the batch kernels run them).
    pub native: bool,
    /// Compiled pipelines of this VM (see `pipe::native`).
    pub(crate) native_cache: crate::pipe::native::NativeCache,
    /// `--explain`: write each pipeline's plan to stderr when it first runs.
    pub explain: bool,
    /// Depth of `fused { ... }` expressions being evaluated.
    pub(crate) fused: u32,
    /// Pipelines already explained, by where they are (source name, line, column).
    pub(crate) explained: std::collections::HashSet<(String, usize, usize)>,
    /// The cursors of checkpointed pipes this run has used (see `pipe::cursor`).
    pub(crate) cursors: crate::pipe::cursor::Cursors,
    /// When the embedder started opening the attached heap.
    pub heap_opened: Option<std::time::Instant>,
    /// Where the next resumed pass measures its `last_resume_ms` from (warm boot: the
    /// heap's opening), instead of the terminal's call.
    pub resume_clock: Option<std::time::Instant>,
    /// Where checkpointed pipes report their progress (the CLI's progress line on a
    /// terminal); `None`: nowhere, at no cost.
    pub progress: Option<Box<dyn ProgressSink>>,
    /// State that builtins outside the runtime keep per VM (a random generator, a cache
    /// of compiled patterns), one value per type: see [`Vm::extension`].
    extensions: HashMap<std::any::TypeId, Box<dyn std::any::Any + Send>, FxBuild>,
}

pub(crate) enum Called {
    /// A Walia frame was pushed; the loop continues in it.
    Frame,
    /// The call completed; its result is on the stack.
    Done,
}

impl Vm {
    pub fn new(out: Output) -> Vm {
        Vm {
            stack: Vec::with_capacity(1024),
            frames: Vec::with_capacity(64),
            globals: Vec::new(),
            dirty_globals: Vec::new(),
            global_dirty: Vec::new(),
            released: Vec::new(),
            names: GlobalNames::new(),
            methods: HashMap::default(),
            spare_stack: Vec::new(),
            #[cfg(test)]
            lent_height: 0,
            method_cache: RefCell::new(std::array::from_fn(|_| None)),
            out,
            max_depth: DEFAULT_MAX_DEPTH,
            poll_budget: dispatch::POLL_EVERY,
            max_native_depth: DEFAULT_NATIVE_DEPTH,
            limits: Limits::default(),
            native_depth: 0,
            tests: Vec::new(),
            assert_source: None,
            args: Vec::new(),
            heap: None,
            builtins: HashMap::default(),
            row_reader: Default::default(),
            heap_busy: false,
            quiet: false,
            sources: HashMap::default(),
            jit: std::env::var("WALIA_JIT").map_or(true, |v| v != "0"),
            native: std::env::var("WALIA_JIT").map_or(true, |v| v != "0" && v != "kernels"),
            native_cache: Default::default(),
            explain: false,
            fused: 0,
            explained: Default::default(),
            cursors: Default::default(),
            heap_opened: None,
            resume_clock: None,
            progress: None,
            extensions: HashMap::default(),
        }
    }

    /// This VM's value of type `T`, created with `T::default()` on first use. Builtins
    /// keep their state here rather than in a static, so that each engine of a process
    /// has its own.
    pub fn extension<T: std::any::Any + Send + Default>(&mut self) -> &mut T {
        let slot = self
            .extensions
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        if !slot.is::<T>() {
            *slot = Box::new(T::default());
        }
        // The key is T's TypeId, so the box holds a T (made one just above otherwise).
        slot.downcast_mut::<T>()
            .unwrap_or_else(|| unreachable!("extension slot of another type"))
    }

    /// Define (or redefine) a global by name.
    pub fn set_global(&mut self, name: &str, value: Value) {
        if let Value::Native(n) = &value
            && *n.name == *name
        {
            // A builtin under its own name: remembered so a stored reference to it still
            // finds it when a script has since reused the name.
            self.builtins.insert(name.to_string(), value.clone());
        }
        let slot = self.names.intern(name) as usize;
        if self.globals.len() <= slot {
            self.globals.resize(slot + 1, Value::Undefined);
        }
        self.global_assigned(slot);
        self.globals[slot] = value;
    }

    /// Every global slot, by index (read-only: assignments go through
    /// [`Vm::set_global`], which the next commit sees).
    pub fn global_slots(&self) -> &[Value] {
        &self.globals
    }

    /// A global's value, if it has been defined.
    pub fn global(&self, name: &str) -> Option<Value> {
        let slot = self.names.get(name)? as usize;
        match self.globals.get(slot)? {
            Value::Undefined => None,
            v => Some(v.clone()),
        }
    }

    /// Is `name` a global that has a value (a builtin or an earlier definition)?
    pub fn has_global(&self, name: &str) -> bool {
        self.names
            .get(name)
            .and_then(|s| self.globals.get(s as usize))
            .is_some_and(|v| !matches!(v, Value::Undefined))
    }

    /// Register a method for values of a built-in type (`type_of` spelling). The receiver
    /// is passed as the first argument.
    pub fn register_method(&mut self, type_name: &'static str, name: &str, f: Value) {
        *self.method_cache.borrow_mut() = std::array::from_fn(|_| None);
        // A method site may have remembered the method this one replaces.
        crate::shape::methods_changed();
        self.methods
            .entry(type_name)
            .or_default()
            .insert(name.to_string(), f);
    }

    /// A builtin function stored by name: `name` for a global builtin, `Type.name` for a
    /// method of a built-in type.
    /// Register a kind of file source (`lines`, `read_csv`...): how a stream over such a
    /// file reads it, also after the stream is loaded from the heap.
    pub fn register_source(&mut self, name: &str, open: crate::pipe::files::SourceOpener) {
        self.sources.insert(name.to_string(), open);
    }

    /// The opener of a registered file source.
    pub fn source_opener(&self, name: &str) -> Option<crate::pipe::files::SourceOpener> {
        self.sources.get(name).copied()
    }

    pub fn builtin_by_name(&self, name: &str) -> Option<Value> {
        if let Some((ty, method)) = name.split_once('.') {
            return self.methods.get(ty)?.get(method).cloned();
        }
        self.builtins.get(name).cloned()
    }

    pub fn builtin_method(&self, type_name: &'static str, name: &str) -> Option<Value> {
        // A small direct-mapped cache in front of the two hash lookups: method calls on
        // lists and strings sit in hot loops.
        let slot = (type_name.as_ptr() as usize ^ name.as_ptr() as usize ^ name.len()) % 64;
        if let Some((t, n, v)) = &self.method_cache.borrow()[slot]
            && std::ptr::eq(*t, type_name)
            && same_name(n, name)
        {
            return Some(v.clone());
        }
        let found = self.methods.get(type_name)?.get(name).cloned()?;
        self.method_cache.borrow_mut()[slot] = Some((type_name, name.into(), found.clone()));
        Some(found)
    }

    /// Run a compiled script to completion; returns the value of its final statement.
    pub fn run_script(&mut self, proto: Rc<Proto>) -> RtResult<Value> {
        self.limits.start();
        // A `fused` expression that an error left does not reach into the next run.
        self.fused = 0;
        let n = self.names.len();
        if self.globals.len() < n {
            self.globals.resize(n, Value::Undefined);
        }
        let closure = Rc::new(Closure {
            gc: Default::default(),
            proto,
            upvalues: Box::new([]),
            home: None,
        });
        let result = self.call_value(&Value::Function(closure), &[]);
        let _ = self.out.flush();
        if result.is_err() {
            // What the failed run built is garbage now, cycles included: free it before the
            // next run measures memory against its limit (call_value emptied the stack).
            crate::gc::collect();
        }
        result
    }

    /// Call any callable value with arguments, from Rust (builtins, pipelines, embedders).
    pub fn call_value(&mut self, f: &Value, args: &[Value]) -> RtResult<Value> {
        // The script's own entry (depth 0) never counts (SPEC §15: --max-depth counts Walia
        // call frames, not the top-level script); Walia frames are counted in push_frame.
        if self.native_depth > self.max_native_depth {
            return Err(RtError::new("stack overflow"));
        }
        self.native_depth += 1;
        let stop = self.frames.len();
        let height = self.stack.len();
        let called = match f {
            // The common case (a pipeline stage's lambda): straight to a frame. Slot 0 of a
            // plain function is never read, so it holds nil instead of a clone of `f`.
            Value::Function(c) if c.proto.kind == ProtoKind::Function => {
                self.stack.extend(std::iter::once_with(|| Value::Nil));
                self.stack.extend(args.iter().cloned());
                self.push_frame(c.clone(), args.len(), height)
                    .map(|_| Called::Frame)
            }
            _ => {
                self.stack.extend(std::iter::once_with(|| f.clone()));
                self.stack.extend(args.iter().cloned());
                self.call(args.len())
            }
        };
        let result = match called {
            Ok(Called::Done) => Ok(self.stack.pop().unwrap_or_default()),
            Ok(Called::Frame) => self.run(stop),
            Err(e) => Err(self.locate(e)),
        };
        if result.is_err() {
            self.frames.truncate(stop);
        }
        self.stack.truncate(height);
        self.native_depth -= 1;
        result
    }

    /// Call `method` with `receiver` as `this`.
    pub fn call_method(
        &mut self,
        receiver: &Value,
        method: &Value,
        args: &[Value],
    ) -> RtResult<Value> {
        match method {
            Value::Function(c) if c.proto.kind != ProtoKind::Function => {
                let b = Value::bound(receiver.clone(), method.clone());
                self.call_value(&b, args)
            }
            _ => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(receiver.clone());
                all.extend(args.iter().cloned());
                self.call_value(method, &all)
            }
        }
    }

    /// The source and span of the instruction running now (a builtin's call site).
    pub fn current_location(
        &self,
    ) -> Option<(
        std::sync::Arc<crate::bytecode::SourceFile>,
        walia_lang::ast::Span,
    )> {
        let f = self.frames.last()?;
        let proto = &f.closure.proto;
        let at =
            f.ip.saturating_sub(1)
                .min(proto.spans.len().saturating_sub(1));
        Some((proto.source.clone(), proto.spans.get(at).copied()?))
    }

    /// Attach the span and call stack of the current instruction to an error (once).
    pub(crate) fn locate(&self, mut e: RtError) -> RtError {
        if e.is_located() {
            return e;
        }
        for f in self.frames.iter().rev() {
            let proto = &f.closure.proto;
            let at =
                f.ip.saturating_sub(1)
                    .min(proto.spans.len().saturating_sub(1));
            let span = proto.spans.get(at).copied().unwrap_or_default();
            e.stack.push(StackFrame {
                function: proto.display_name(),
                source: proto.source.clone(),
                span,
            });
        }
        e
    }

    #[inline(always)]
    pub(crate) fn push_frame(
        &mut self,
        closure: Rc<Closure>,
        argc: usize,
        base: usize,
    ) -> RtResult<()> {
        let proto = &closure.proto;
        if argc != proto.arity as usize || self.frames.len() > self.max_depth {
            return Err(self.frame_error(&closure, argc));
        }
        // Usually the arguments already fill the parameter slots: only locals need room.
        let top = base + proto.num_slots as usize;
        if top > self.stack.len() {
            // Inline, a few nils (`resize` is an out-of-line call).
            self.stack.reserve(top - self.stack.len());
            while self.stack.len() < top {
                self.stack.extend(std::iter::once_with(|| Value::Nil));
            }
        } else if top < self.stack.len() {
            truncate_stack(&mut self.stack, top);
        }
        if proto.has_cell_params {
            self.wrap_cell_params(&closure, argc, base);
        }
        // `push`, not `extend(once_with(..))`: that was an out-of-line call per frame.
        self.frames.push(Frame {
            closure,
            ip: 0,
            base,
        });
        Ok(())
    }

    /// Why `push_frame` refused a call: the wrong argument count or too deep a stack.
    #[cold]
    #[inline(never)]
    fn frame_error(&self, closure: &Closure, argc: usize) -> RtError {
        let proto = &closure.proto;
        if argc != proto.arity as usize {
            return arity_error(&proto.display_name(), proto.arity as usize, argc);
        }
        RtError::new("stack overflow")
    }

    /// Wrap the captured parameters (and `this`) of a new frame in cells.
    #[inline(never)]
    fn wrap_cell_params(&mut self, closure: &Closure, argc: usize, base: usize) {
        for (slot, is_cell) in closure.proto.cell_slots.iter().enumerate().take(argc + 1) {
            if *is_cell {
                let v = std::mem::take(&mut self.stack[base + slot]);
                self.stack[base + slot] = new_cell(v);
            }
        }
    }

    /// Call the value at `stack[len - argc - 1]` with the `argc` values above it.
    pub(crate) fn call(&mut self, argc: usize) -> RtResult<Called> {
        let callee_at = self.stack.len() - argc - 1;
        let callee = self.stack[callee_at].clone();
        match callee {
            Value::Function(c) => {
                self.push_frame(c, argc, callee_at)?;
                Ok(Called::Frame)
            }
            Value::Native(n) => {
                self.call_native(&n, callee_at + 1, callee_at)?;
                Ok(Called::Done)
            }
            Value::Bound(b) => match &b.method {
                Value::Function(c) => {
                    self.stack[callee_at] = b.receiver.clone();
                    self.push_frame(c.clone(), argc, callee_at)?;
                    Ok(Called::Frame)
                }
                Value::Native(n) => {
                    self.stack[callee_at] = b.receiver.clone();
                    self.call_native(n, callee_at, callee_at)?;
                    Ok(Called::Done)
                }
                _ => Err(RtError::new("bound method is not callable")),
            },
            Value::Class(class) => self.construct(class, argc, callee_at),
            other => Err(RtError::new(format!(
                "cannot call a value of type {}",
                other.type_name()
            ))),
        }
    }

    /// Call a builtin with `stack[args_from..]` as its arguments; the stack is cut back to
    /// `dest` and the result pushed there.
    pub(crate) fn call_native(
        &mut self,
        n: &NativeFn,
        args_from: usize,
        dest: usize,
    ) -> RtResult<()> {
        let argc = self.stack.len() - args_from;
        if argc < n.min_args || argc > n.max_args {
            return Err(native_arity_error(n, argc));
        }
        let result = match n.func {
            // A builtin that never calls back into the VM reads its arguments in place.
            NativeBody::Leaf(f) => f(&self.stack[args_from..]),
            _ => self.call_lent(n, args_from),
        };
        self.finish_native(result, dest)
    }

    /// Run a builtin that may call back into the VM on `stack[args_from..]`.
    #[inline(always)]
    fn call_lent(&mut self, n: &NativeFn, args_from: usize) -> RtResult<Value> {
        // The builtin reads its arguments where they lie: the value stack is lent to it as
        // a slice, and the VM runs on the spare stack meanwhile (a builtin that calls back
        // into Walia code pushes its frames there). Moving the arguments out and back cost
        // more than the rest of a call to `m.get(k)`. A nested builtin call finds the spare
        // taken and starts an empty one.
        let spare = std::mem::take(&mut self.spare_stack);
        let lent = std::mem::replace(&mut self.stack, spare);
        #[cfg(test)]
        {
            self.lent_height = lent.len();
        }
        let result = n.call(self, &lent[args_from..]);
        let mut spare = std::mem::replace(&mut self.stack, lent);
        spare.clear();
        self.spare_stack = spare;
        result
    }

    /// After a builtin returned: the stack cut back to `dest` and its result pushed there,
    /// or the error it ended with (a limit error it recorded wins).
    #[inline(always)]
    fn finish_native(&mut self, mut result: RtResult<Value>, dest: usize) -> RtResult<()> {
        if let Some(e) = crate::limits::take_pending() {
            result = Err(e);
        }
        truncate_stack(&mut self.stack, dest);
        // The value is moved out of the native's result straight onto the stack. (Moved
        // into an `extend(once_with(..))` closure first, it was re-stored a byte off and
        // read back at once: a failed store forward on every builtin call.)
        match result {
            Ok(v) => {
                self.stack.push(v);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) fn make_closure(
        &self,
        proto: Rc<Proto>,
        frame: &Frame,
        home: Option<Rc<Class>>,
    ) -> Value {
        // A slot holds a cell when its variable is ever assigned (the cell is shared);
        // otherwise the value is copied (see `Closure::upvalues`).
        let upvalues: Box<[Value]> = proto
            .captures
            .iter()
            .map(|c| match c {
                Capture::Local(slot) => self
                    .stack
                    .get(frame.base + *slot as usize)
                    .cloned()
                    .unwrap_or_default(),
                Capture::Upvalue(i) => frame
                    .closure
                    .upvalues
                    .get(*i as usize)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        // Only a closure that can reach a container can be part of a cycle.
        let tracked = home.is_some() || upvalues.iter().any(Value::is_container);
        let rc = Rc::new(Closure {
            gc: Default::default(),
            proto,
            upvalues,
            home,
        });
        if tracked {
            track(&rc);
        }
        Value::Function(rc)
    }

    pub(crate) fn build_class(&mut self, idx: usize, frame_idx: usize) -> RtResult<Value> {
        let frame = &self.frames[frame_idx];
        let proto = frame.closure.proto.clone();
        let Some(desc) = proto.classes.get(idx) else {
            return Err(RtError::new("internal error: bad class index"));
        };
        let superclass = if desc.has_super {
            match self.stack.pop() {
                Some(Value::Class(c)) => Some(c),
                Some(other) => {
                    return Err(RtError::new(format!(
                        "superclass of '{}' must be a class, not {}",
                        desc.name,
                        other.type_name()
                    )));
                }
                None => None,
            }
        } else {
            None
        };
        let frame = &self.frames[frame_idx];
        let class = assemble_class(desc, &proto, superclass, |p, class| {
            self.make_closure(p, frame, Some(class))
        });
        if let Value::Class(c) = &class
            && c.sql
        {
            self.declare_sql_table(c)?;
        }
        Ok(class)
    }

    /// After a call in tail position pushed its frame: drop the caller's frame, moving the
    /// callee's slots down to the caller's base, so tail recursion runs in constant space.
    pub(crate) fn collapse_tail_frame(&mut self) {
        let n = self.frames.len();
        if n < 2 {
            return;
        }
        let old_base = self.frames[n - 2].base;
        let new_base = self.frames[n - 1].base;
        // The callee's few slots move down over the caller's, one swap at a time (a
        // `drain` is a call to memmove and another to drop the drained values).
        let moved = self.stack.len() - new_base;
        for i in 0..moved {
            self.stack.swap(old_base + i, new_base + i);
        }
        truncate_stack(&mut self.stack, old_base + moved);
        // The callee's frame takes the caller's place.
        drop(self.frames.swap_remove(n - 2));
        self.frames[n - 2].base = old_base;
    }

    /// A script assignment to global `g`: the next commit writes it.
    pub(crate) fn store_global(&mut self, g: u32, v: Value) {
        self.put_global(g, v, true);
    }

    /// Set global `g`; `assigned` says whether its stored entry may now differ (false for
    /// a value just loaded from the heap).
    pub(crate) fn put_global(&mut self, g: u32, v: Value, assigned: bool) {
        if let Value::Class(new) = &v {
            self.note_class_declared(g, new);
        }
        let g = g as usize;
        if g >= self.globals.len() {
            self.globals.resize(g + 1, Value::Undefined);
        }
        if assigned {
            self.global_assigned(g);
        }
        if let Some(slot) = self.globals.get_mut(g) {
            *slot = v;
        }
    }

    /// `super.name` from the running method: look in its home class's superclass.
    pub(crate) fn super_method(&self, name: &str) -> RtResult<Value> {
        let home = self.frames.last().and_then(|f| f.closure.home.clone());
        let sup = home.and_then(|h| h.superclass.clone());
        let Some(sup) = sup else {
            return Err(RtError::new("'super' used in a class without a superclass"));
        };
        sup.find_method(name).ok_or_else(|| {
            RtError::new(format!(
                "undefined method '{name}' in superclass '{}'",
                sup.name
            ))
        })
    }

    pub(crate) fn check_limits(&mut self) -> RtResult<()> {
        self.limits.poll().map_err(RtError::limit)
    }

    /// The dispatch loop. Runs until the frame at depth `stop` returns.
    fn run(&mut self, stop: usize) -> RtResult<Value> {
        match self.dispatch(stop) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.locate(e)),
        }
    }
}

pub(crate) fn arity_error(name: &str, expected: usize, got: usize) -> RtError {
    RtError::new(format!(
        "'{name}' expects {expected} argument{} but got {got}",
        if expected == 1 { "" } else { "s" }
    ))
}

/// A builtin called with too few or too many arguments. A method's counts are reported
/// without its receiver, as the script wrote the call.
#[cold]
#[inline(never)]
fn native_arity_error(n: &NativeFn, argc: usize) -> RtError {
    let skip = usize::from(n.is_method);
    let (min, max, got) = (
        n.min_args.saturating_sub(skip),
        n.max_args.saturating_sub(skip),
        argc.saturating_sub(skip),
    );
    let expected = if min == max {
        min.to_string()
    } else if n.max_args == usize::MAX {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    };
    RtError::new(format!(
        "'{}' expects {expected} argument{} but got {got}",
        n.name,
        if expected == "1" { "" } else { "s" }
    ))
}

/// Two method names equal: compared in line (they are a few bytes; `==` on strings calls
/// memcmp, once per builtin method call through the cache).
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytecode::SourceFile;
    use walia_lang::resolve::resolve;

    /// Run `src` with a `height()` builtin that reports the height of the VM stack (lent to
    /// it while it runs), a `List.length` that answers 2 and a `replace_length()` builtin
    /// that registers a new `List.length` answering -1; returns the script's value.
    fn run(src: &str) -> Value {
        let (mut program, diags) = walia_lang::parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        let mut vm = Vm::new(Box::new(std::io::sink()));
        let length = Value::native_method("length", 1, 1, |_, _| Ok(Value::Int(2)));
        vm.register_method("List", "length", length);
        vm.set_global(
            "height",
            Value::native("height", 0, 0, |vm, _| {
                Ok(Value::Int(vm.lent_height as i64))
            }),
        );
        vm.set_global(
            "replace_length",
            Value::native("replace_length", 0, 0, |vm, _| {
                let length = Value::native_method("length", 1, 1, |_, _| Ok(Value::Int(-1)));
                vm.register_method("List", "length", length);
                Ok(Value::Nil)
            }),
        );
        let builtins = |n: &str| n == "height" || n == "replace_length";
        let mut names = std::mem::take(&mut vm.names);
        let diags = resolve(&mut program, src, &mut names, &builtins);
        assert!(diags.is_empty(), "{diags:?}");
        vm.names = names;
        let file = std::sync::Arc::new(SourceFile {
            name: "t".into(),
            text: src.into(),
        });
        let proto = crate::compiler::compile(&program, file).script;
        vm.run_script(proto).expect("runs")
    }

    #[test]
    fn a_method_site_sees_a_builtin_method_registered_after_it_was_warm() {
        // The site `l.length()` remembers List.length after its first call; the method
        // registered on the third round must be the one the fourth calls.
        let sum = run("fun f() { var l = [1, 2]; var s = 0;
            for (i in 0..5) { if (i == 3) replace_length(); s = s * 10 + l.length(); }
            return s; } f();");
        assert!(matches!(sum, Value::Int(22189)), "got {sum:?}");
    }

    #[test]
    fn continue_inside_an_expression_leaves_no_values_behind() {
        // Each `continue` abandons a list literal with `i` already pushed.
        let grown = run("fun f() { var i = 0; var h = height();
            while (i < 1000) { i += 1; var l = [i, { if (i > 0) continue; 2 }]; }
            return height() - h; } f();");
        assert!(matches!(grown, Value::Int(0)), "stack grew by {grown:?}");
        let grown = run("fun g() { var h = height();
            for (x in 0..1000) { var l = [x, { if (x >= 0) break; 1 }]; }
            return height() - h; } g();");
        assert!(matches!(grown, Value::Int(0)), "stack grew by {grown:?}");
    }
}
