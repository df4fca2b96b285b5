//! The function body: the row loops (plain, skipping deleted rows, and a range's proved
//! copy, unrolled), each row's stages, and the sink.

use super::expr::consts_of;
use super::mem;
use cranelift_codegen::ir::GlobalValue;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    Block, BlockArg, FuncRef, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use walia_runtime::api::native::interval::{elem_after, proved, sum_proved};
use walia_runtime::api::native::ir::{IntOp, NExpr, NPlan, NSource, NStage, Sink, Ty};
use walia_runtime::api::native::{BAIL, BITMAP_BEFORE_VALUES, CLOSED, NativeArgs, OK};

pub(super) struct Gen<'a, 'b> {
    pub(super) b: &'a mut FunctionBuilder<'b>,
    pub(super) funcs: &'a HashMap<&'static str, FuncRef>,
    pub(super) bail: Block,
    /// The row (slot or index) being run.
    pub(super) row: Variable,
    pub(super) cols: HashMap<u16, Value>,
    pub(super) consts: HashMap<u16, Value>,
    /// Wide constants (by bits) loaded once at entry (see `wide_constants`).
    pub(super) hoisted: HashMap<u64, Value>,
    /// The element flowing through the stages, and its type.
    pub(super) elem: Option<(Value, Ty)>,
    /// Emitting a range's proved copy: proved Int operations skip their checks.
    pub(super) unchecked: bool,
    /// (In the proved copy) the element is proved: its bound is known before the chunk.
    pub(super) elem_proved: bool,
    /// The row's place in an unrolled turn (0 outside one): which Int sum it adds to.
    pub(super) lane: usize,
}

/// The accumulators and counters kept in variables across rows.
struct State {
    acc_int: Variable,
    /// More Int sums for the rows of an unrolled turn but the first (the proved copy
    /// adds unchecked, so order does not matter): one dependency chain per row of a turn.
    /// Added to `acc_int` at the end.
    acc_lanes: Vec<Variable>,
    acc_float: Variable,
    count: Variable,
    emitted: Variable,
    /// Set by a `take` that reached its count: close after this row.
    closing: Variable,
    counts: Vec<(u16, Variable)>,
}

/// Rows per turn of an unrolled loop.
const UNROLL: i64 = 4;

const O: walia_runtime::api::native::ArgOffsets = NativeArgs::OFFSETS;

impl<'a, 'b> Gen<'a, 'b> {
    pub(super) fn build(
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
            acc_lanes: (1..UNROLL).map(|_| var(b, types::I64, zero)).collect(),
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
        // The fields read must be present in every row given: else the page bails (the
        // kernels take nils). Checked here, not by the driver, so that the first access
        // to the page's memory overlaps with the loop.
        let entry = if is_table && !cols.is_empty() {
            let present = load(b, ptr, O.present);
            let check = b.create_block();
            let checked = b.create_block();
            b.ins().brif(present, check, &[], checked, &[]);
            b.switch_to_block(check);
            let masks: Vec<Value> = (0..8)
                .map(|w| b.ins().load(types::I64, mem(), present, 8 * w))
                .collect();
            let mut all = b.ins().iconst(types::I64, -1);
            let mut bases: Vec<(u16, Value)> = cols.iter().map(|(f, v)| (*f, *v)).collect();
            bases.sort_by_key(|(f, _)| *f);
            for (_, base) in bases {
                for (w, mask) in masks.iter().enumerate() {
                    let off = 8 * w as i32 - BITMAP_BEFORE_VALUES;
                    let word = b.ins().load(types::I64, mem(), base, off);
                    let outside = b.ins().bnot(*mask);
                    let fine = b.ins().bor(word, outside);
                    all = b.ins().band(all, fine);
                }
            }
            let ok = b.ins().icmp_imm_s(IntCC::Equal, all, -1);
            b.ins().brif(ok, checked, &[], bail, &[]);
            b.switch_to_block(checked);
            checked
        } else {
            entry
        };
        let mut g = Gen {
            b,
            funcs,
            bail,
            row,
            cols,
            consts,
            hoisted,
            elem: None,
            unchecked: false,
            elem_proved: false,
            lane: 0,
        };
        // Two copies of the loop: one that skips deleted rows, and one for the common page
        // with nothing deleted (the driver passes a null bitmap), which tests nothing.
        let copy = |g: &mut Gen, dead: Option<Value>, unroll: i64| {
            let ends = (done, close);
            g.row_loop(
                plan,
                &st,
                dead,
                (end, start),
                ends,
                (out, stored, written),
                unroll,
            )
        };
        let plain = copy(&mut g, None, 1);
        if is_table {
            let with_dead = copy(&mut g, Some(dead), 1);
            g.b.switch_to_block(entry);
            let none = g.b.ins().icmp_imm_s(IntCC::Equal, dead, 0);
            g.b.ins().brif(none, plain, &[], with_dead, &[]);
        } else if worth_proving(plan) {
            // A range: a second copy whose proved operations run unchecked, for the
            // chunks the driver showed cannot overflow (runtime/src/native/interval.rs).
            g.unchecked = true;
            let fast = copy(&mut g, None, UNROLL);
            g.unchecked = false;
            g.b.switch_to_block(entry);
            let flag = g.b.ins().load(types::I64, mem(), args, O.proved);
            g.b.ins().brif(flag, fast, &[], plain, &[]);
        } else {
            g.b.switch_to_block(entry);
            g.b.ins().jump(plain, &[]);
        }
        let b = g.b;

        // Results are stored only here: a bail leaves the argument block as it was.
        let store_state = |b: &mut FunctionBuilder| {
            let mut sum = b.use_var(st.acc_int);
            for lane in &st.acc_lanes {
                let part = b.use_var(*lane);
                sum = b.ins().iadd(sum, part);
            }
            b.def_var(st.acc_int, sum);
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
    /// deleted row is skipped when `dead` is given): the loop's first block. With
    /// `unroll` > 1, rows go `unroll` at a time while that many are left (one loop-count
    /// test for all of them), and the rest one at a time.
    #[allow(clippy::too_many_arguments)]
    fn row_loop(
        &mut self,
        plan: &NPlan,
        st: &State,
        dead: Option<Value>,
        (end, start): (Value, Value),
        (done, close): (Block, Block),
        (out, stored, written): (Value, Value, Value),
        unroll: i64,
    ) -> Block {
        let header = self.b.create_block();
        let body = self.b.create_block();
        let next_row = self.b.create_block();
        let single = self.b.create_block();
        let ptrs = (out, stored, written);
        self.b.switch_to_block(header);
        if unroll > 1 {
            let group = self.b.create_block();
            let i = self.b.use_var(self.row);
            let room = self.b.ins().iadd_imm_s(i, unroll);
            let fits = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, room, end);
            self.b.ins().brif(fits, group, &[], single, &[]);
            self.b.switch_to_block(group);
            let first = self.b.use_var(self.row);
            for k in 0..unroll {
                let i = self.b.ins().iadd_imm_s(first, k);
                self.b.def_var(self.row, i);
                let next = self.b.create_block();
                self.lane = k as usize;
                self.row_body(plan, st, dead, start, close, ptrs, next);
                self.b.switch_to_block(next);
            }
            self.lane = 0;
            let i = self.b.ins().iadd_imm_s(first, unroll);
            self.b.def_var(self.row, i);
            let room = self.b.ins().iadd_imm_s(i, unroll);
            let fits = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, room, end);
            self.b.ins().brif(fits, group, &[], single, &[]);
        } else {
            self.b.ins().jump(single, &[]);
        }
        self.b.switch_to_block(single);
        let i = self.b.use_var(self.row);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(more, body, &[], done, &[]);

        self.b.switch_to_block(body);
        self.row_body(plan, st, dead, start, close, ptrs, next_row);

        // The test sits at the bottom: one branch per row.
        self.b.switch_to_block(next_row);
        let i = self.b.use_var(self.row);
        let i = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(self.row, i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(more, body, &[], done, &[]);
        header
    }

    /// Emit the work of the current row (stages and sink; nothing for a deleted row),
    /// ending with a jump to `next_row`.
    #[allow(clippy::too_many_arguments)]
    fn row_body(
        &mut self,
        plan: &NPlan,
        st: &State,
        dead: Option<Value>,
        start: Value,
        close: Block,
        (out, stored, written): (Value, Value, Value),
        next_row: Block,
    ) {
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
        self.elem_proved = self.unchecked && plan.source == NSource::Range;
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
    }

    /// Continue in a fresh block (after a terminator, for code that follows it).
    pub(super) fn fresh(&mut self) {
        let blk = self.b.create_block();
        self.b.switch_to_block(blk);
    }

    /// Bail when `cond` (an I8) holds.
    pub(super) fn bail_if(&mut self, cond: Value) {
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
                    self.elem_proved = self.unchecked && elem_after(s, self.elem_proved);
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
                    self.elem_proved = self.unchecked && elem_after(s, self.elem_proved);
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
            Sink::SumInt | Sink::SumIntBounded => {
                let Some((v, _)) = self.elem else { return };
                if sink == Sink::SumInt && self.unchecked && self.elem_proved {
                    let acc = match self.lane {
                        0 => st.acc_int,
                        k => st.acc_lanes[k - 1],
                    };
                    let sum = self.b.use_var(acc);
                    let sum = self.b.ins().iadd(sum, v);
                    self.b.def_var(acc, sum);
                    return;
                }
                let acc = self.b.use_var(st.acc_int);
                if sink == Sink::SumIntBounded {
                    // The sum before stays within ±2^62, so the wrapping add leaves that
                    // range whenever the true sum does, overflowing or not: one test,
                    // `sum + 2^62` (unsigned) below 2^63, decides both.
                    let sum = self.b.ins().iadd(acc, v);
                    let shifted = self.b.ins().iadd_imm_s(sum, 1i64 << 62);
                    let high = self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThanOrEqual,
                        shifted,
                        i64::MIN,
                    );
                    self.bail_if(high);
                    self.b.def_var(st.acc_int, sum);
                    return;
                }
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
}

/// Has a range plan anything the proved copy would run unchecked: an Int sum of a proved
/// element, or a proved `+ - *`, negation or absolute value in some stage?
fn worth_proving(plan: &NPlan) -> bool {
    fn has(e: &NExpr, elem_proved: bool) -> bool {
        let op = matches!(
            e,
            NExpr::Int(IntOp::Add | IntOp::Sub | IntOp::Mul, ..) | NExpr::INeg(_) | NExpr::IAbs(_)
        );
        if op && proved(e, elem_proved) {
            return true;
        }
        let mut any = false;
        e.children(&mut |c| any = any || has(c, elem_proved));
        any
    }
    if plan.source != NSource::Range {
        return false;
    }
    let mut elem_proved = true;
    for s in &plan.stages {
        let found = match s {
            NStage::Filter(e) | NStage::Map(e) | NStage::TakeWhile(e) => has(e, elem_proved),
            NStage::Set { value, .. } => has(value, elem_proved),
            NStage::Take { .. } | NStage::Skip { .. } => false,
        };
        if found {
            return true;
        }
        elem_proved = elem_after(s, elem_proved);
    }
    sum_proved(plan)
}
