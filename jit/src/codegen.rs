//! Lowering a typed plan to one Cranelift function `fn(*mut NativeArgs) -> u32`.
//!
//! The function loops over rows `first..end` (a table page's slots, or a range chunk's
//! indices). Each row runs every stage in order with its values in registers; a filter
//! that fails jumps to the next row; the sink adds to accumulators kept in registers. The
//! accumulators, counters and outputs are stored back only on `OK` or `CLOSED`: a `BAIL`
//! (anything the interpreter would report as an error, decided exactly) returns before
//! any store, so the caller can rerun the page elsewhere as if nothing had happened.
//! No trapping instruction is ever emitted: divisions and remainders get a checked,
//! non-zero, non-`-1` divisor, and Float-to-Int conversions are range-checked and
//! saturating.

use crate::shims;
use cranelift_codegen::ir::GlobalValue;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Type, UserFuncName, Value, types,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{DataDescription, Linkage, Module, default_libcall_names};
use std::collections::HashMap;
use walia_runtime::api::native::ir::{
    Cmp, FloatOp, IntOp, NExpr, NPlan, NSource, NStage, Rounding, Shim, Sink, Ty,
};
use walia_runtime::api::native::{
    BAIL, CLOSED, NativeArgs, NativeCode, NativeCompiler, OK, PipeFn,
};

pub struct Cranelift;

pub static CRANELIFT: Cranelift = Cranelift;

impl NativeCompiler for Cranelift {
    fn compile(&self, plan: &NPlan) -> Result<Box<dyn NativeCode>, String> {
        // Cranelift reports most problems as errors, but a few (an unresolved symbol)
        // as panics; none may take the script down.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compile(plan))) {
            Ok(r) => r.map(|c| Box::new(c) as Box<dyn NativeCode>),
            Err(_) => Err("the code generator failed on this plan".into()),
        }
    }

    fn name(&self) -> &'static str {
        "Cranelift"
    }
}

/// A compiled function and the module that owns its memory.
struct Code {
    module: Option<JITModule>,
    entry: PipeFn,
}

impl NativeCode for Code {
    fn entry(&self) -> PipeFn {
        self.entry
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the function pointer dies with `self`; the runtime holds a `Code`
            // (through an `Rc`) for as long as it may call `entry`.
            unsafe { m.free_memory() };
        }
    }
}

fn err(e: impl std::fmt::Display) -> String {
    format!("Cranelift: {e}")
}

fn compile(plan: &NPlan) -> Result<Code, String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for s in shims::ALL {
        let (name, _, addr) = shims::shim(s);
        jb.symbol(name, addr);
    }
    jb.symbol(shims::FLOORED_MOD, shims::floored_mod as *const u8);
    // Frees the module's memory on every way out but success (an error, a panic).
    let mut owned = Owned(Some(JITModule::new(jb)));
    let Some(module) = owned.0.as_mut() else {
        return Err("no module".into());
    };
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    sig.returns.push(AbiParam::new(types::I32));
    let id = module
        .declare_function("walia_pipe", Linkage::Export, &sig)
        .map_err(err)?;
    let mut ctx = module.make_context();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, id.as_u32());
    // Host functions this plan may call.
    let mut imports: HashMap<&'static str, usize> = HashMap::new();
    for s in shims::ALL {
        let (name, arity, _) = shims::shim(s);
        imports.insert(name, arity);
    }
    imports.insert(shims::FLOORED_MOD, 2);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let mut funcs: HashMap<&'static str, FuncRef> = HashMap::new();
        for (name, arity) in &imports {
            let mut s = module.make_signature();
            for _ in 0..*arity {
                s.params.push(AbiParam::new(types::F64));
            }
            s.returns.push(AbiParam::new(types::F64));
            let f = module
                .declare_function(name, Linkage::Import, &s)
                .map_err(err)?;
            funcs.insert(name, module.declare_func_in_func(f, b.func));
        }
        // Constants an instruction cannot take as an immediate (Floats, wide Ints) are read
        // once into registers from a data object: as constant-pool operands next to the
        // code they made the loop several times slower.
        let wide = wide_constants(plan);
        let table = if wide.is_empty() {
            None
        } else {
            let id = module.declare_anonymous_data(false, false).map_err(err)?;
            let mut data = DataDescription::new();
            data.define(wide.iter().flat_map(|w| w.to_le_bytes()).collect());
            data.set_align(8);
            module.define_data(id, &data).map_err(err)?;
            Some(module.declare_data_in_func(id, b.func))
        };
        Gen::build(&mut b, plan, ptr, &funcs, (&wide, table));
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    let dump = std::env::var_os("WALIA_JIT_DUMP").is_some();
    if dump {
        ctx.set_disasm(true);
    }
    module.define_function(id, &mut ctx).map_err(err)?;
    if dump && let Some(code) = ctx.compiled_code() {
        // A developer's aid: the machine code of each compiled plan, on stderr.
        eprintln!("{plan:?}\n{}", code.vcode.as_deref().unwrap_or(""));
    }
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(err)?;
    let raw = module.get_finalized_function(id);
    // SAFETY: `raw` is the function just defined with the signature
    // `fn(pointer) -> i32` in the platform's C calling convention, which is `PipeFn`.
    let entry = unsafe { std::mem::transmute::<*const u8, PipeFn>(raw) };
    Ok(Code {
        module: owned.0.take(),
        entry,
    })
}

/// A module not yet handed to a [`Code`].
struct Owned(Option<JITModule>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            // SAFETY: no function of this module was handed out (that happens only
            // together with taking the module out of here).
            unsafe { m.free_memory() };
        }
    }
}

/// Loads and stores of the argument block and of validated pages: aligned, never
/// trapping (the driver checked every pointer).
fn mem() -> MemFlagsData {
    MemFlagsData::trusted()
}

fn clif(t: Ty) -> Type {
    match t {
        Ty::Int => types::I64,
        Ty::Float => types::F64,
        Ty::Bool => types::I8,
    }
}

struct Gen<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    funcs: &'a HashMap<&'static str, FuncRef>,
    bail: Block,
    /// The row (slot or index) being run.
    row: Variable,
    cols: HashMap<u16, Value>,
    consts: HashMap<u16, Value>,
    /// Wide constants (by bits) loaded once at entry (see `wide_constants`).
    hoisted: HashMap<u64, Value>,
    /// The element flowing through the stages, and its type.
    elem: Option<(Value, Ty)>,
}

/// The accumulators and counters kept in variables across rows.
struct State {
    acc_int: Variable,
    acc_float: Variable,
    count: Variable,
    emitted: Variable,
    /// Set by a `take` that reached its count: close after this row.
    closing: Variable,
    counts: Vec<(u16, Variable)>,
}

const O: walia_runtime::api::native::ArgOffsets = NativeArgs::OFFSETS;

impl<'a, 'b> Gen<'a, 'b> {
    fn build(
        b: &'a mut FunctionBuilder<'b>,
        plan: &NPlan,
        ptr: Type,
        funcs: &'a HashMap<&'static str, FuncRef>,
        (wide, table): (&[u64], Option<GlobalValue>),
    ) {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let args = b.block_params(entry)[0];
        let load = |b: &mut FunctionBuilder, t: Type, off: i32| b.ins().load(t, mem(), args, off);
        let cols_at = load(b, ptr, O.cols);
        let dead = load(b, ptr, O.dead);
        let first = load(b, types::I64, O.first);
        let end = load(b, types::I64, O.end);
        let start = load(b, types::I64, O.start);
        let consts_at = load(b, ptr, O.consts);
        let counts_at = load(b, ptr, O.counts);
        let out = load(b, ptr, O.out);
        let stored = load(b, ptr, O.stored);
        let written = load(b, ptr, O.written);
        let var = |b: &mut FunctionBuilder, t: Type, init: Value| {
            let v = b.declare_var(t);
            b.def_var(v, init);
            v
        };
        let zero = b.ins().iconst(types::I64, 0);
        let no = b.ins().iconst(types::I8, 0);
        let acc_int0 = load(b, types::I64, O.acc_int);
        let acc_float0 = load(b, types::F64, O.acc_float);
        let count0 = load(b, types::I64, O.count);
        let mut counts = Vec::new();
        for s in &plan.stages {
            if let NStage::Take { slot, .. } | NStage::Skip { slot, .. } = s {
                let c = b.ins().load(types::I64, mem(), counts_at, 8 * *slot as i32);
                counts.push((*slot, var(b, types::I64, c)));
            }
        }
        let st = State {
            acc_int: var(b, types::I64, acc_int0),
            acc_float: var(b, types::F64, acc_float0),
            count: var(b, types::I64, count0),
            emitted: var(b, types::I64, zero),
            closing: var(b, types::I8, no),
            counts,
        };
        // Column pointers and constants, loaded once.
        let mut fields = Vec::new();
        let mut slots = Vec::new();
        for s in &plan.stages {
            let mut visit = |e: &NExpr| {
                e.fields(&mut |f| fields.push(f));
                consts_of(e, &mut slots);
            };
            match s {
                NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => visit(e),
                NStage::Set { value, .. } => visit(value),
                NStage::Take { .. } | NStage::Skip { .. } => {}
            }
        }
        let mut cols = HashMap::new();
        for f in fields {
            let p = b.ins().load(ptr, mem(), cols_at, 8 * f as i32);
            cols.insert(f, p);
        }
        let mut consts = HashMap::new();
        for (slot, ty) in slots {
            let bits = b.ins().load(types::I64, mem(), consts_at, 8 * slot as i32);
            let v = match ty {
                Ty::Int => bits,
                Ty::Float => b.ins().bitcast(types::F64, MemFlagsData::new(), bits),
                Ty::Bool => b.ins().ireduce(types::I8, bits),
            };
            consts.insert(slot, v);
        }
        let mut hoisted = HashMap::new();
        if let Some(gv) = table {
            let at = b.ins().symbol_value(ptr, gv);
            for (k, bits) in wide.iter().enumerate() {
                let v = b.ins().load(types::I64, mem(), at, 8 * k as i32);
                hoisted.insert(*bits, v);
            }
        }
        let row = var(b, types::I64, first);
        let done = b.create_block();
        let close = b.create_block();
        b.append_block_param(close, types::I64);
        let bail = b.create_block();
        let is_table = matches!(plan.source, NSource::Table(_));
        let mut g = Gen {
            b,
            funcs,
            bail,
            row,
            cols,
            consts,
            hoisted,
            elem: None,
        };
        // Two copies of the loop: one that skips deleted rows, and one for the common page
        // with nothing deleted (the driver passes a null bitmap), which tests nothing.
        let plain = g.row_loop(
            plan,
            &st,
            None,
            (end, start),
            (done, close),
            (out, stored, written),
        );
        if is_table {
            let with_dead = g.row_loop(
                plan,
                &st,
                Some(dead),
                (end, start),
                (done, close),
                (out, stored, written),
            );
            g.b.switch_to_block(entry);
            let none = g.b.ins().icmp_imm_s(IntCC::Equal, dead, 0);
            g.b.ins().brif(none, plain, &[], with_dead, &[]);
        } else {
            g.b.switch_to_block(entry);
            g.b.ins().jump(plain, &[]);
        }
        let b = g.b;

        // Results are stored only here: a bail leaves the argument block as it was.
        let store_state = |b: &mut FunctionBuilder| {
            for (slot, v) in &st.counts {
                let c = b.use_var(*v);
                b.ins().store(mem(), c, counts_at, 8 * *slot as i32);
            }
            for (v, off) in [
                (st.acc_int, O.acc_int),
                (st.acc_float, O.acc_float),
                (st.count, O.count),
                (st.emitted, O.emitted),
            ] {
                let x = b.use_var(v);
                b.ins().store(mem(), x, args, off);
            }
        };
        // Both ends go through `commit` (the status and where the rows ended).
        let commit = b.create_block();
        b.append_block_param(commit, types::I32);
        b.append_block_param(commit, types::I64);
        b.switch_to_block(done);
        let ok = b.ins().iconst(types::I32, OK as i64);
        b.ins()
            .jump(commit, &[BlockArg::Value(ok), BlockArg::Value(end)]);
        b.switch_to_block(close);
        let at = b.block_params(close)[0];
        let closed = b.ins().iconst(types::I32, CLOSED as i64);
        b.ins()
            .jump(commit, &[BlockArg::Value(closed), BlockArg::Value(at)]);

        b.switch_to_block(commit);
        let (status, at) = (b.block_params(commit)[0], b.block_params(commit)[1]);
        store_state(b);
        b.ins().store(mem(), at, args, O.end_at);
        b.ins().return_(&[status]);

        b.switch_to_block(bail);
        let bailed = b.ins().iconst(types::I32, BAIL as i64);
        b.ins().return_(&[bailed]);
    }

    /// Emit a loop over rows `row..end` that runs the stages and the sink on each (a
    /// deleted row is skipped when `dead` is given): the loop's first block.
    fn row_loop(
        &mut self,
        plan: &NPlan,
        st: &State,
        dead: Option<Value>,
        (end, start): (Value, Value),
        (done, close): (Block, Block),
        (out, stored, written): (Value, Value, Value),
    ) -> Block {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let next_row = self.b.create_block();
        self.b.switch_to_block(header);
        let i = self.b.use_var(self.row);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(more, body, &[], done, &[]);

        self.b.switch_to_block(body);
        let i = self.b.use_var(self.row);
        if let Some(dead) = dead {
            let byte_at = self.b.ins().ushr_imm_u(i, 3);
            let addr = self.b.ins().iadd(dead, byte_at);
            let byte = self.b.ins().uload8(types::I64, mem(), addr, 0);
            let shift = self.b.ins().band_imm_u(i, 7);
            let bit = self.b.ins().ushr(byte, shift);
            let bit = self.b.ins().band_imm_u(bit, 1);
            let live = self.b.create_block();
            self.b.ins().brif(bit, next_row, &[], live, &[]);
            self.b.switch_to_block(live);
        }
        self.elem = match plan.source {
            NSource::Range => Some((self.b.ins().iadd(start, i), Ty::Int)),
            NSource::Table(_) => None,
        };
        // A row that a stage drops ends here too: a `take` that reached its count on it
        // still closes the pipeline after it.
        let row_end = if plan.stages.iter().any(|s| matches!(s, NStage::Take { .. })) {
            self.b.create_block()
        } else {
            next_row
        };
        self.stages(plan, st, row_end, close, out, stored, written);
        if row_end != next_row {
            self.b.ins().jump(row_end, &[]);
            self.b.switch_to_block(row_end);
            let closing = self.b.use_var(st.closing);
            let i = self.b.use_var(self.row);
            let after = self.b.ins().iadd_imm_s(i, 1);
            self.b
                .ins()
                .brif(closing, close, &[BlockArg::Value(after)], next_row, &[]);
        } else {
            self.b.ins().jump(next_row, &[]);
        }

        // The test sits at the bottom: one branch per row.
        self.b.switch_to_block(next_row);
        let i = self.b.use_var(self.row);
        let i = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(self.row, i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(more, body, &[], done, &[]);
        header
    }

    /// Continue in a fresh block (after a terminator, for code that follows it).
    fn fresh(&mut self) {
        let blk = self.b.create_block();
        self.b.switch_to_block(blk);
    }

    /// Bail when `cond` (an I8) holds.
    fn bail_if(&mut self, cond: Value) {
        let ok = self.b.create_block();
        self.b.ins().brif(cond, self.bail, &[], ok, &[]);
        self.b.switch_to_block(ok);
    }

    #[allow(clippy::too_many_arguments)]
    fn stages(
        &mut self,
        plan: &NPlan,
        st: &State,
        next_row: Block,
        close: Block,
        out: Value,
        stored: Value,
        written: Value,
    ) {
        let count_var = |slot: u16| st.counts.iter().find(|(s, _)| *s == slot).map(|(_, v)| *v);
        for s in &plan.stages {
            match s {
                NStage::Filter(e) => {
                    let keep = self.expr(e);
                    let cont = self.b.create_block();
                    self.b.ins().brif(keep, cont, &[], next_row, &[]);
                    self.b.switch_to_block(cont);
                }
                NStage::TakeWhile(e) => {
                    let keep = self.expr(e);
                    let cont = self.b.create_block();
                    // The row that fails is read, and ends the pipeline.
                    let i = self.b.use_var(self.row);
                    let after = self.b.ins().iadd_imm_s(i, 1);
                    self.b
                        .ins()
                        .brif(keep, cont, &[], close, &[BlockArg::Value(after)]);
                    self.b.switch_to_block(cont);
                }
                NStage::Map(e) => {
                    let v = self.expr(e);
                    self.elem = Some((v, e.ty()));
                }
                NStage::Set { value, .. } => {
                    let v = self.expr(value);
                    let ty = value.ty();
                    let bits = self.bits(v, ty);
                    let i = self.b.use_var(self.row);
                    let off = self.b.ins().ishl_imm_u(i, 3);
                    let at = self.b.ins().iadd(stored, off);
                    self.b.ins().store(mem(), bits, at, 0);
                    let flag_at = self.b.ins().iadd(written, i);
                    let one = self.b.ins().iconst(types::I8, 1);
                    self.b.ins().store(mem(), one, flag_at, 0);
                    self.elem = Some((v, ty));
                }
                NStage::Take { slot, n } => {
                    let Some(var) = count_var(*slot) else {
                        continue;
                    };
                    let c = self.b.use_var(var);
                    // Already at its count: the pipeline ended before this row, which
                    // is not read.
                    let full = self
                        .b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, c, *n);
                    let room = self.b.create_block();
                    let ended = self.b.create_block();
                    self.b.ins().brif(full, ended, &[], room, &[]);
                    self.b.switch_to_block(ended);
                    let i = self.b.use_var(self.row);
                    self.b.ins().jump(close, &[BlockArg::Value(i)]);
                    self.b.switch_to_block(room);
                    let c2 = self.b.ins().iadd_imm_s(c, 1);
                    self.b.def_var(var, c2);
                    let last = self.b.ins().icmp_imm_s(IntCC::Equal, c2, *n);
                    let was = self.b.use_var(st.closing);
                    let now = self.b.ins().bor(was, last);
                    self.b.def_var(st.closing, now);
                }
                NStage::Skip { slot, n } => {
                    let Some(var) = count_var(*slot) else {
                        continue;
                    };
                    let c = self.b.use_var(var);
                    let skipping = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, c, *n);
                    let c2 = self.b.ins().iadd_imm_s(c, 1);
                    let c3 = self.b.ins().select(skipping, c2, c);
                    self.b.def_var(var, c3);
                    let cont = self.b.create_block();
                    self.b.ins().brif(skipping, next_row, &[], cont, &[]);
                    self.b.switch_to_block(cont);
                }
            }
        }
        self.sink(plan, st, out);
    }

    fn sink(&mut self, plan: &NPlan, st: &State, out: Value) {
        // Without a stage that drops elements, every row read comes out: the driver adds
        // the rows read to the count instead.
        if plan.drops() {
            let n = self.b.use_var(st.count);
            let n = self.b.ins().iadd_imm_s(n, 1);
            self.b.def_var(st.count, n);
        }
        let sink = plan.sink;
        let emit = |g: &mut Gen, bits: Value| {
            let k = g.b.use_var(st.emitted);
            let off = g.b.ins().ishl_imm_u(k, 3);
            let at = g.b.ins().iadd(out, off);
            g.b.ins().store(mem(), bits, at, 0);
            let k = g.b.ins().iadd_imm_s(k, 1);
            g.b.def_var(st.emitted, k);
        };
        match sink {
            Sink::Count => {}
            Sink::SumInt => {
                let Some((v, _)) = self.elem else { return };
                let acc = self.b.use_var(st.acc_int);
                let (sum, over) = self.b.ins().sadd_overflow(acc, v);
                self.bail_if(over);
                self.b.def_var(st.acc_int, sum);
            }
            Sink::SumFloat => {
                let Some((v, ty)) = self.elem else { return };
                let v = self.float(v, ty);
                let acc = self.b.use_var(st.acc_float);
                let sum = self.b.ins().fadd(acc, v);
                self.b.def_var(st.acc_float, sum);
            }
            Sink::Values(_) => {
                let Some((v, ty)) = self.elem else { return };
                let bits = self.bits(v, ty);
                emit(self, bits);
            }
            Sink::Rows => {
                let i = self.b.use_var(self.row);
                emit(self, i);
            }
        }
    }

    /// A value's 64 stored bits (as in a column page).
    fn bits(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Int => v,
            Ty::Float => self.b.ins().bitcast(types::I64, MemFlagsData::new(), v),
            Ty::Bool => self.b.ins().uextend(types::I64, v),
        }
    }

    fn float(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Int => self.b.ins().fcvt_from_sint(types::F64, v),
            _ => v,
        }
    }

    fn truthy(&mut self, v: Value, ty: Ty) -> Value {
        match ty {
            Ty::Bool => v,
            _ => self.b.ins().iconst(types::I8, 1),
        }
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Value {
        let f = self.funcs[name];
        let c = self.b.ins().call(f, args);
        self.b.inst_results(c)[0]
    }

    fn expr(&mut self, e: &NExpr) -> Value {
        match e {
            NExpr::Field(f, ty) => {
                let base = self.cols[f];
                let i = self.b.use_var(self.row);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let at = self.b.ins().iadd(base, off);
                match ty {
                    Ty::Bool => {
                        let raw = self.b.ins().load(types::I64, mem(), at, 0);
                        self.b.ins().icmp_imm_s(IntCC::NotEqual, raw, 0)
                    }
                    t => self.b.ins().load(clif(*t), mem(), at, 0),
                }
            }
            NExpr::Elem(ty) => match self.elem {
                Some((v, _)) => v,
                None => self.zero(*ty),
            },
            NExpr::Const(slot, _) => self.consts[slot],
            NExpr::Lit(bits, ty) => match ty {
                Ty::Float => {
                    let raw = self.int_const(*bits as i64);
                    self.b.ins().bitcast(types::F64, MemFlagsData::new(), raw)
                }
                Ty::Int => self.int_const(*bits as i64),
                Ty::Bool => self.b.ins().iconst(types::I8, (*bits != 0) as i64),
            },
            NExpr::Fail(ty) => {
                self.b.ins().jump(self.bail, &[]);
                self.fresh();
                self.zero(*ty)
            }
            NExpr::IntToFloat(x) => {
                let v = self.expr(x);
                self.b.ins().fcvt_from_sint(types::F64, v)
            }
            NExpr::INeg(x) => {
                let v = self.expr(x);
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, v, i64::MIN);
                self.bail_if(min);
                self.b.ins().ineg(v)
            }
            NExpr::FNeg(x) => {
                let v = self.expr(x);
                self.b.ins().fneg(v)
            }
            NExpr::Int(op, x, y) => {
                // Arithmetic with a literal checks the operand's range instead of the
                // overflow flag: one compare, and the plain (2-operand) instruction.
                let lit = |e: &NExpr| match e {
                    NExpr::Lit(bits, Ty::Int) => Some(*bits as i64),
                    _ => None,
                };
                let known = match (op, lit(x), lit(y)) {
                    (_, _, Some(c)) => Some((&**x, c)),
                    (IntOp::Add | IntOp::Mul, Some(c), None) => Some((&**y, c)),
                    _ => None,
                };
                if let Some((other, c)) = known
                    && let Some((lo, hi)) = safe_range(*op, c)
                {
                    let v = self.expr(other);
                    let lo = self.int_const(lo.wrapping_neg());
                    let shifted = self.b.ins().iadd(v, lo);
                    let width = self.int_const(hi.wrapping_sub(lo_of(*op, c)));
                    let out = self
                        .b
                        .ins()
                        .icmp(IntCC::UnsignedGreaterThan, shifted, width);
                    self.bail_if(out);
                    return match op {
                        IntOp::Add => self.b.ins().iadd_imm_s(v, c),
                        IntOp::Sub => self.b.ins().iadd_imm_s(v, c.wrapping_neg()),
                        _ => self.b.ins().imul_imm_s(v, c),
                    };
                }
                let (a, c) = (self.expr(x), self.expr(y));
                self.int_op(*op, a, c)
            }
            NExpr::Float(op, x, y) => {
                let (a, c) = (self.expr(x), self.expr(y));
                match op {
                    FloatOp::Add => self.b.ins().fadd(a, c),
                    FloatOp::Sub => self.b.ins().fsub(a, c),
                    FloatOp::Mul => self.b.ins().fmul(a, c),
                    FloatOp::Quot => self.b.ins().fdiv(a, c),
                    FloatOp::Div | FloatOp::Mod => {
                        let z = self.b.ins().f64const(0.0);
                        let is_zero = self.b.ins().fcmp(FloatCC::Equal, c, z);
                        self.bail_if(is_zero);
                        if *op == FloatOp::Div {
                            self.b.ins().fdiv(a, c)
                        } else {
                            self.call(shims::FLOORED_MOD, &[a, c])
                        }
                    }
                }
            }
            NExpr::IntDiv(x, y) => {
                let (a, c) = (self.expr(x), self.expr(y));
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.bail_if(is_zero);
                let fa = self.b.ins().fcvt_from_sint(types::F64, a);
                let fc = self.b.ins().fcvt_from_sint(types::F64, c);
                self.b.ins().fdiv(fa, fc)
            }
            NExpr::ICmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().icmp(int_cc(*c), a, d)
            }
            NExpr::FCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().fcmp(float_cc(*c), a, d)
            }
            NExpr::IFCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                // Exact only while the Int converts exactly: |a| <= 2^53.
                let shifted = self.b.ins().iadd_imm_s(a, 1i64 << 53);
                let far = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThan, shifted, 1i64 << 54);
                self.bail_if(far);
                let fa = self.b.ins().fcvt_from_sint(types::F64, a);
                self.b.ins().fcmp(float_cc(*c), fa, d)
            }
            NExpr::BCmp(c, x, y) => {
                let (a, d) = (self.expr(x), self.expr(y));
                self.b.ins().icmp(int_cc(*c), a, d)
            }
            NExpr::Truthy(x) => {
                let v = self.expr(x);
                self.truthy(v, x.ty())
            }
            NExpr::Not(x) => {
                let v = self.expr(x);
                let t = self.truthy(v, x.ty());
                self.b.ins().icmp_imm_s(IntCC::Equal, t, 0)
            }
            NExpr::And(x, y) | NExpr::Or(x, y) => {
                let ty = x.ty();
                let a = self.expr(x);
                let t = self.truthy(a, ty);
                let rhs = self.b.create_block();
                let join = self.b.create_block();
                self.b.append_block_param(join, clif(ty));
                if matches!(e, NExpr::And(..)) {
                    self.b.ins().brif(t, rhs, &[], join, &[BlockArg::Value(a)]);
                } else {
                    self.b.ins().brif(t, join, &[BlockArg::Value(a)], rhs, &[]);
                }
                self.b.switch_to_block(rhs);
                let c = self.expr(y);
                self.b.ins().jump(join, &[BlockArg::Value(c)]);
                self.b.switch_to_block(join);
                self.b.block_params(join)[0]
            }
            NExpr::If(c, x, y) => {
                let ty = x.ty();
                let cond = self.expr(c);
                let cond = self.truthy(cond, c.ty());
                let (yes, no, join) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.append_block_param(join, clif(ty));
                self.b.ins().brif(cond, yes, &[], no, &[]);
                for (blk, arm) in [(yes, x), (no, y)] {
                    self.b.switch_to_block(blk);
                    let v = self.expr(arm);
                    self.b.ins().jump(join, &[BlockArg::Value(v)]);
                }
                self.b.switch_to_block(join);
                self.b.block_params(join)[0]
            }
            NExpr::IAbs(x) => {
                let v = self.expr(x);
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, v, i64::MIN);
                self.bail_if(min);
                self.b.ins().iabs(v)
            }
            NExpr::FAbs(x) => {
                let v = self.expr(x);
                self.b.ins().fabs(v)
            }
            NExpr::Sqrt(x) => {
                let v = self.expr(x);
                self.b.ins().sqrt(v)
            }
            NExpr::ToInt(r, x) => {
                let v = self.expr(x);
                let y = match r {
                    Rounding::Floor => self.b.ins().floor(v),
                    Rounding::Ceil => self.b.ins().ceil(v),
                    Rounding::Trunc => self.b.ins().trunc(v),
                    Rounding::Round => self.call(shims::shim(Shim::Round).0, &[v]),
                };
                // NaN, the infinities and anything outside [-2^63, 2^63) fail.
                let lo = self.b.ins().f64const(-9_223_372_036_854_775_808.0);
                let hi = self.b.ins().f64const(9_223_372_036_854_775_808.0);
                let above = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, y, lo);
                let below = self.b.ins().fcmp(FloatCC::LessThan, y, hi);
                let inside = self.b.ins().band(above, below);
                let outside = self.b.ins().icmp_imm_s(IntCC::Equal, inside, 0);
                self.bail_if(outside);
                self.b.ins().fcvt_to_sint_sat(types::I64, y)
            }
            NExpr::Call(s, args) => {
                let vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
                self.call(shims::shim(*s).0, &vals)
            }
            NExpr::Extreme(min, args) => {
                let ty = e.ty();
                let vals: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
                let mut best = vals[0];
                for v in &vals[1..] {
                    let v = *v;
                    let take = match ty {
                        Ty::Int => {
                            let cc = if *min {
                                IntCC::SignedLessThan
                            } else {
                                IntCC::SignedGreaterThan
                            };
                            self.b.ins().icmp(cc, v, best)
                        }
                        _ => {
                            // A NaN wins from the first one on; ties keep the first.
                            let cc = if *min {
                                FloatCC::LessThan
                            } else {
                                FloatCC::GreaterThan
                            };
                            let better = self.b.ins().fcmp(cc, v, best);
                            let v_nan = self.b.ins().fcmp(FloatCC::Unordered, v, v);
                            let best_num = self.b.ins().fcmp(FloatCC::Ordered, best, best);
                            let either = self.b.ins().bor(better, v_nan);
                            self.b.ins().band(either, best_num)
                        }
                    };
                    best = self.b.ins().select(take, v, best);
                }
                best
            }
        }
    }

    fn int_op(&mut self, op: IntOp, a: Value, c: Value) -> Value {
        match op {
            IntOp::Add | IntOp::Sub | IntOp::Mul => {
                let (r, over) = match op {
                    IntOp::Add => self.b.ins().sadd_overflow(a, c),
                    IntOp::Sub => self.b.ins().ssub_overflow(a, c),
                    _ => self.b.ins().smul_overflow(a, c),
                };
                self.bail_if(over);
                r
            }
            IntOp::Mod => {
                let is_zero = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.bail_if(is_zero);
                // x % -1 is 0; srem would trap on i64::MIN % -1, so divide by 1 instead.
                let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, c, -1);
                let one = self.b.ins().iconst(types::I64, 1);
                let d = self.b.ins().select(minus_one, one, c);
                let r = self.b.ins().srem(a, d);
                // The divisor's sign: r + c when r is not 0 and the signs differ.
                let nonzero = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let x = self.b.ins().bxor(r, c);
                let differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0);
                let fix = self.b.ins().band(nonzero, differ);
                let fixed = self.b.ins().iadd(r, c);
                self.b.ins().select(fix, fixed, r)
            }
        }
    }

    /// An Int constant: an immediate when it fits in 32 bits, else the register it was
    /// loaded into at entry.
    fn int_const(&mut self, v: i64) -> Value {
        match self.hoisted.get(&(v as u64)) {
            Some(r) if i32::try_from(v).is_err() => *r,
            _ => self.b.ins().iconst(types::I64, v),
        }
    }

    fn zero(&mut self, ty: Ty) -> Value {
        match ty {
            Ty::Float => self.b.ins().f64const(0.0),
            t => self.b.ins().iconst(clif(t), 0),
        }
    }
}

/// The operands `x` for which `x op c` (with the literal `c` on the right, or either side
/// for `+` and `*`) does not overflow: `[lo, hi]`, or `None` when the operation is not
/// handled this way.
fn safe_range(op: IntOp, c: i64) -> Option<(i64, i64)> {
    let (min, max, c128) = (i64::MIN as i128, i64::MAX as i128, c as i128);
    let (lo, hi) = match op {
        IntOp::Add => (min - c128, max - c128),
        IntOp::Sub => (min + c128, max + c128),
        IntOp::Mul if c > 0 => (ceil_div(min, c128), floor_div(max, c128)),
        IntOp::Mul if c < -1 => (ceil_div(max, c128), floor_div(min, c128)),
        _ => return None,
    };
    Some((lo.max(min) as i64, hi.min(max) as i64))
}

/// The low end of [`safe_range`] (which exists when this is called).
fn lo_of(op: IntOp, c: i64) -> i64 {
    safe_range(op, c).map_or(0, |(lo, _)| lo)
}

/// The constants of `plan` that do not fit an instruction's 32-bit immediate: Float
/// literals' bits, wide Int literals, and the bounds of literal range checks.
fn wide_constants(plan: &NPlan) -> Vec<u64> {
    fn walk(e: &NExpr, out: &mut Vec<u64>) {
        let mut add = |v: i64| {
            if i32::try_from(v).is_err() && !out.contains(&(v as u64)) {
                out.push(v as u64);
            }
        };
        match e {
            NExpr::Lit(bits, Ty::Float | Ty::Int) => add(*bits as i64),
            NExpr::Int(op, x, y) => {
                let lit = |e: &NExpr| match e {
                    NExpr::Lit(bits, Ty::Int) => Some(*bits as i64),
                    _ => None,
                };
                let c = match (op, lit(x), lit(y)) {
                    (_, _, Some(c)) => Some(c),
                    (IntOp::Add | IntOp::Mul, Some(c), None) => Some(c),
                    _ => None,
                };
                if let Some((lo, hi)) = c.and_then(|c| safe_range(*op, c)) {
                    add(lo.wrapping_neg());
                    add(hi.wrapping_sub(lo));
                }
            }
            _ => {}
        }
        e.children(&mut |c| walk(c, out));
    }
    let mut out = Vec::new();
    for s in &plan.stages {
        match s {
            NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => walk(e, &mut out),
            NStage::Set { value, .. } => walk(value, &mut out),
            NStage::Take { .. } | NStage::Skip { .. } => {}
        }
    }
    out
}

/// `a / b` rounded down.
fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// `a / b` rounded up.
fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) == (b < 0)) {
        q + 1
    } else {
        q
    }
}

fn int_cc(c: Cmp) -> IntCC {
    match c {
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Gt => IntCC::SignedGreaterThan,
        Cmp::Ge => IntCC::SignedGreaterThanOrEqual,
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
    }
}

fn float_cc(c: Cmp) -> FloatCC {
    match c {
        Cmp::Lt => FloatCC::LessThan,
        Cmp::Le => FloatCC::LessThanOrEqual,
        Cmp::Gt => FloatCC::GreaterThan,
        Cmp::Ge => FloatCC::GreaterThanOrEqual,
        Cmp::Eq => FloatCC::Equal,
        // NaN != NaN, as in Rust.
        Cmp::Ne => FloatCC::NotEqual,
    }
}

/// The constant slots an expression reads, with their types.
fn consts_of(e: &NExpr, out: &mut Vec<(u16, Ty)>) {
    if let NExpr::Const(slot, t) = e
        && !out.iter().any(|(x, _)| x == slot)
    {
        out.push((*slot, *t));
    }
    e.children(&mut |c| consts_of(c, out));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `safe_range` must contain exactly the operands that do not overflow.
    #[test]
    fn literal_ranges_are_exact() {
        let cs = [
            1,
            2,
            3,
            7,
            1000,
            -2,
            -3,
            -7,
            -1000,
            i64::MAX,
            i64::MIN,
            1 << 31,
            -(1 << 31),
        ];
        let mut xs = vec![0, 1, -1, i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1];
        for c in cs {
            for d in [-2i64, -1, 0, 1, 2] {
                for base in [
                    i64::MAX / c.max(1),
                    i64::MIN / c.max(1),
                    i64::MAX / c,
                    i64::MIN / c,
                ] {
                    xs.push(base.saturating_add(d));
                }
                xs.push(i64::MIN.wrapping_sub(c).wrapping_add(d));
                xs.push(i64::MAX.wrapping_sub(c).wrapping_add(d));
                xs.push(i64::MIN.wrapping_add(c).wrapping_add(d));
                xs.push(i64::MAX.wrapping_add(c).wrapping_add(d));
            }
        }
        for c in cs.iter().chain(&[0, -1]) {
            for (op, f) in [
                (IntOp::Add, i64::checked_add as fn(i64, i64) -> Option<i64>),
                (IntOp::Sub, i64::checked_sub),
                (IntOp::Mul, i64::checked_mul),
            ] {
                let Some((lo, hi)) = safe_range(op, *c) else {
                    assert!(matches!(op, IntOp::Mul) && (*c == 0 || *c == -1));
                    continue;
                };
                for x in &xs {
                    let inside = (lo..=hi).contains(x);
                    assert_eq!(inside, f(*x, *c).is_some(), "{op:?} {x} {c}: [{lo}, {hi}]");
                }
            }
        }
    }
}
