//! The instruction dispatch loop of [`Vm`].

use crate::bytecode::{BinKind, Op, Proto, ProtoKind};
use crate::error::{RtError, RtResult};
use crate::objects::new_cell;
use crate::ops;
use crate::pipe::PipeRun;
use crate::value::*;
use crate::vm::counted::{self, Got, Next};
use crate::vm::hot::Hot;
use crate::vm::members::{cached_method, cached_store};
use crate::vm::numeric::{self, Num, with_binary};
use crate::vm::stack::{
    copy_of, discard, pop_scalar, push_copy, push_moved, store_float, store_int, store_value,
    take_top, truncate_stack,
};
use crate::vm::{Called, Vm};
use std::rc::Rc;

/// How many backward jumps and calls run between polls of the limits.
pub(crate) const POLL_EVERY: u32 = 4096;

impl Vm {
    pub(crate) fn dispatch(&mut self, stop: usize) -> RtResult<Value> {
        let mut proto: Rc<Proto> = match self.frames.last() {
            Some(f) => f.closure.proto.clone(),
            None => return Err(RtError::new("no frame")),
        };
        let mut ip: usize;
        let mut base: usize;

        macro_rules! load_frame {
            () => {{
                let f = self.frames.last().ok_or_else(|| RtError::new("no frame"))?;
                // Recursion and loops of calls re-enter the same function: skip the two
                // reference-count writes (a serial chain of read-modify-writes on one
                // counter, call after call).
                if !Rc::ptr_eq(&proto, &f.closure.proto) {
                    proto = f.closure.proto.clone();
                }
                ip = f.ip;
                base = f.base;
            }};
        }
        // Count a backward jump or a call; every `POLL_EVERY` of them, check the limits.
        macro_rules! poll {
            () => {
                self.poll_budget -= 1;
                if self.poll_budget == 0 {
                    self.poll_budget = POLL_EVERY;
                    tri!(self.check_limits());
                }
            };
        }
        macro_rules! save_ip {
            () => {
                if let Some(f) = self.frames.last_mut() {
                    f.ip = ip;
                }
            };
        }
        // Fail with `e` located at the current instruction.
        macro_rules! throw {
            ($e:expr) => {{
                save_ip!();
                return Err(self.locate($e));
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => throw!(e),
                }
            };
        }
        // `Vec::push` inlines to a capacity compare, the value written in parts straight into
        // its slot, and the new length. (`extend(once_with(..))` was outlined at most sites
        // of this function, a call of 17 instructions per push.)
        macro_rules! push {
            ($e:expr) => {{ self.stack.push($e) }};
        }
        macro_rules! pop {
            () => {
                take_top(&mut self.stack)
            };
        }
        macro_rules! binary {
            ($f:expr) => {{
                let b = pop!();
                let a = pop!();
                let r = tri!($f(&a, &b));
                push!(r);
            }};
        }
        // After a call pushed its frame: if the caller's next instruction is `Return` (and the
        // caller is not an `init`, which returns its instance), the call is in tail
        // position and the caller's frame is dropped, so tail recursion runs in constant space.
        macro_rules! tail_collapse {
            () => {
                if proto.kind != ProtoKind::Init && matches!(proto.code.get(ip), Some(Op::Return)) {
                    self.collapse_tail_frame();
                }
            };
        }
        // Int-on-Int fast path for the two values on top of the stack: the result is written
        // in place of the lower one (payload only when it is already an Int), avoiding the
        // store-forwarding stall of popping freshly pushed values as whole `Value`s.
        // Numbers on numbers for the two values on top of the stack: the result is
        // written in place of the lower one (payload only when the type is unchanged),
        // avoiding the store-forwarding stall of popping freshly pushed values whole.
        macro_rules! num_fast2 {
            ($kind:expr) => {{
                let n = self.stack.len();
                if n >= 2
                    && with_binary!($kind, &self.stack[n - 2], &self.stack[n - 1], |r| r
                        .store(&mut self.stack[n - 2]))
                {
                    pop_scalar(&mut self.stack);
                    continue;
                }
            }};
        }
        // `a op b` on two operands that stay where they are (locals, constants): the
        // numeric fast path, else the general operator; the result is pushed.
        macro_rules! bin_push {
            ($kind:expr, $a:expr, $b:expr) => {{
                if with_binary!($kind, $a, $b, |r| r.push(&mut self.stack)) {
                    continue;
                }
                let r = tri!(ops::binary($kind, $a, $b));
                push!(r);
            }};
        }
        // Is `a op b` true (a fused compare-and-jump)?
        macro_rules! holds {
            ($kind:expr, $a:expr, $b:expr) => {{
                match numeric::binary($kind, $a, $b) {
                    Some(r) => r.truthy(),
                    None => tri!(ops::binary($kind, $a, $b)).is_truthy(),
                }
            }};
        }
        // `e op b` with `e` on top of the stack: the result replaces it.
        macro_rules! bin_top {
            ($kind:expr, $b:expr) => {{
                let n = self.stack.len();
                if n > 0
                    && with_binary!($kind, &self.stack[n - 1], $b, |r| r
                        .store(&mut self.stack[n - 1]))
                {
                    continue;
                }
                let a = pop!();
                let r = tri!(ops::binary($kind, &a, $b));
                push!(r);
            }};
        }
        // `dst = a op b;` into a local.
        macro_rules! set_bin {
            ($kind:expr, $d:expr, $a:expr, $b:expr) => {{
                if !with_binary!($kind, $a, $b, |r| r
                    .store(&mut self.stack[base + $d as usize]))
                {
                    let r = tri!(ops::binary($kind, $a, $b));
                    discard(std::mem::replace(&mut self.stack[base + $d as usize], r));
                }
            }};
        }
        // `dst = e op b;` with `e` on top of the stack, popped.
        macro_rules! set_bin_top {
            ($kind:expr, $d:expr, $b:expr) => {{
                let n = self.stack.len();
                let at = base + $d as usize;
                if with_binary!($kind, &self.stack[n - 1], $b, |r| r
                    .store(&mut self.stack[at]))
                {
                    pop_scalar(&mut self.stack);
                    continue;
                }
                let a = pop!();
                let r = tri!(ops::binary($kind, &a, $b));
                store_value(&mut self.stack[at], r);
            }};
        }
        // A fused call instruction's fast path: enter `callee` with its slot 0 and `argc`
        // arguments on top of the stack, skipping the plain call instruction that follows
        // (diagnostics of the call point at that instruction, so `ip` moves past it first).
        macro_rules! enter_skipping_call {
            ($callee:expr, $argc:expr) => {{
                poll!();
                ip += 1;
                save_ip!();
                let callee_at = self.stack.len() - $argc - 1;
                tri!(self.push_frame($callee, $argc, callee_at));
                tail_collapse!();
                load_frame!();
            }};
        }
        // `local op k` by the general operator (the Int fast path did not apply).
        macro_rules! bin_lk_generic {
            ($kind:expr, $x:expr, $k:expr) => {{
                let r = tri!(ops::binary(
                    $kind,
                    &self.stack[base + $x as usize],
                    &Value::Int($k as i64)
                ));
                push!(r);
            }};
        }
        macro_rules! fused2 {
            ($kind:expr) => {{
                num_fast2!($kind);
                binary!(|a, b| ops::binary($kind, a, b));
            }};
        }

        // Push field `site` of instance `$inst` when the site's cache knows where it is
        // (true), matching on what the field holds once: the number's payload, or the
        // pointer with its count raised, is written straight into the new top slot.
        macro_rules! push_cached_field {
            ($inst:expr, $site:expr) => {{
                match proto.sites.field($site) {
                    None => false,
                    Some(cache) => {
                        let fields = $inst.fields.borrow();
                        match fields.cached(cache) {
                            None => false,
                            Some(Value::Float(f)) => {
                                let f = *f;
                                drop(fields);
                                push!(Value::Float(f));
                                true
                            }
                            Some(Value::Int(n)) => {
                                let n = *n;
                                drop(fields);
                                push!(Value::Int(n));
                                true
                            }
                            Some(Value::Instance(x)) => {
                                let x = x.clone();
                                drop(fields);
                                push!(Value::Instance(x));
                                true
                            }
                            Some(Value::Nil) => {
                                drop(fields);
                                push!(Value::Nil);
                                true
                            }
                            Some(v) => {
                                let v = copy_of(v);
                                drop(fields);
                                push_moved(&mut self.stack, v);
                                true
                            }
                        }
                    }
                }
            }};
        }

        // Leave the current frame with `result`: back to the caller's frame, or out of the
        // loop when the frame at depth `stop` returns.
        macro_rules! do_return {
            ($result:expr) => {{
                let mut result = $result;
                let depth = self.frames.len();
                if depth == 0 {
                    return Ok(result);
                }
                if proto.kind == ProtoKind::Init {
                    result = match &self.stack[base] {
                        Value::Cell(c) => c.value.borrow().clone(),
                        v => v.clone(),
                    };
                }
                // Truncate rather than pop: the frame is dropped in place, never moved
                // (its ip was just written; a whole-frame load would stall).
                self.frames.truncate(depth - 1);
                truncate_stack(&mut self.stack, base);
                if self.frames.len() <= stop {
                    return Ok(result);
                }
                push!(result);
                load_frame!();
            }};
        }
        // `do_return!` for a number or Bool: pushed in the caller from its payload, never
        // moved as a whole value (which stalls right after it was written in parts).
        macro_rules! return_num {
            ($n:expr) => {{
                let n: Num = $n;
                let depth = self.frames.len();
                if depth == 0 || proto.kind == ProtoKind::Init {
                    do_return!(n.value());
                } else {
                    self.frames.truncate(depth - 1);
                    truncate_stack(&mut self.stack, base);
                    if self.frames.len() <= stop {
                        return Ok(n.value());
                    }
                    n.push(&mut self.stack);
                    load_frame!();
                }
            }};
        }

        // A `for` loop's next value, straight into the loop variable when the body starts
        // by binding it (else pushed), then on to the body.
        macro_rules! bind_loop_var {
            ($v:expr) => {{
                let v = $v;
                if let Some(Op::DefineLocal(d)) = proto.code.get(ip) {
                    store_value(&mut self.stack[base + *d as usize], v);
                    ip += 1;
                    continue;
                }
                push!(v);
                continue;
            }};
        }

        load_frame!();
        loop {
            // Matched through a reference: each arm reads only its own operands. A copy of
            // the whole instruction is decoded into registers before the jump, for every
            // instruction, and crowds the loop's own state out of registers.
            let Some(op) = proto.code.get(ip) else {
                throw!(RtError::new("internal error: ran off the end of the code"));
            };
            ip += 1;
            match *op {
                Op::Const(k) => {
                    let v = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    push!(v);
                }
                Op::SmallInt(i) => push!(Value::Int(i as i64)),
                Op::Nil => push!(Value::Nil),
                Op::True => push!(Value::Bool(true)),
                Op::False => push!(Value::Bool(false)),
                Op::Pop => {
                    if let Some(v) = self.stack.pop() {
                        discard(v);
                    }
                }
                // Instructions outside loops: out of line (see `vm/cold.rs`).
                Op::Fused(..)
                | Op::DeclareGlobal(..)
                | Op::BitNot
                | Op::Closure(..)
                | Op::MakeMap(..)
                | Op::MakeShapedMap(..)
                | Op::MakeRange
                | Op::Class(..)
                | Op::Print
                | Op::IterInit(..)
                | Op::InRange
                | Op::NoMatch
                | Op::Test(..)
                | Op::Unpack(..)
                | Op::Pick(..)
                | Op::IterInitPairs(..)
                | Op::SplitPair
                | Op::AssertSource(..) => {
                    save_ip!();
                    tri!(self.run_cold(*op, &proto, base));
                }
                Op::Dup => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    push!(v);
                }
                Op::Dup2 => {
                    let n = self.stack.len();
                    if n >= 2 {
                        let a = self.stack[n - 2].clone();
                        let b = self.stack[n - 1].clone();
                        push!(a);
                        push!(b);
                    }
                }
                Op::GetLocal(s) => match self.stack[base + s as usize] {
                    // Numbers by payload: one match, the value built in its new slot.
                    Value::Int(i) => push!(Value::Int(i)),
                    Value::Float(f) => push!(Value::Float(f)),
                    ref v => {
                        let v = copy_of(v);
                        push_moved(&mut self.stack, v);
                    }
                },
                Op::BinLL(kind, x, y) => {
                    bin_push!(
                        kind,
                        &self.stack[base + x as usize],
                        &self.stack[base + y as usize]
                    )
                }
                Op::BinLK(kind, x, k) => {
                    if let Value::Int(a) = self.stack[base + x as usize]
                        && let Some(r) = numeric::int_binary(kind, a, k as i64)
                    {
                        r.push(&mut self.stack);
                        continue;
                    }
                    bin_lk_generic!(kind, x, k);
                }
                Op::BinLN(kind, x, k) => {
                    bin_push!(kind, &self.stack[base + x as usize], number(&proto, k))
                }
                Op::BinNL(kind, k, x) => {
                    bin_push!(kind, number(&proto, k), &self.stack[base + x as usize])
                }
                Op::SetLocal(s) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    self.stack[base + s as usize] = v;
                }
                Op::JumpUnlessLL(kind, x, y, t) => {
                    let yes = holds!(
                        kind,
                        &self.stack[base + x as usize],
                        &self.stack[base + y as usize]
                    );
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::BinTK(kind, k) => {
                    let n = self.stack.len();
                    if let Some(Value::Int(a)) = self.stack.last()
                        && let Some(r) = numeric::int_binary(kind, *a, k as i64)
                    {
                        r.store(&mut self.stack[n - 1]);
                        continue;
                    }
                    bin_top!(kind, &Value::Int(k as i64));
                }
                Op::BinTN(kind, k) => bin_top!(kind, number(&proto, k)),
                Op::BinTL(kind, y) => {
                    let n = self.stack.len();
                    if n > 0
                        && with_binary!(
                            kind,
                            &self.stack[n - 1],
                            &self.stack[base + y as usize],
                            |r| r.store(&mut self.stack[n - 1])
                        )
                    {
                        continue;
                    }
                    let a = pop!();
                    let r = tri!(ops::binary(kind, &a, &self.stack[base + y as usize]));
                    push!(r);
                }
                Op::BinLT(kind, x) => {
                    let n = self.stack.len();
                    if n > 0
                        && with_binary!(
                            kind,
                            &self.stack[base + x as usize],
                            &self.stack[n - 1],
                            |r| r.store(&mut self.stack[n - 1])
                        )
                    {
                        continue;
                    }
                    let b = pop!();
                    let r = tri!(ops::binary(kind, &self.stack[base + x as usize], &b));
                    push!(r);
                }
                Op::BinNT(kind, k) => {
                    let n = self.stack.len();
                    let c = number(&proto, k);
                    if n > 0
                        && with_binary!(kind, c, &self.stack[n - 1], |r| r
                            .store(&mut self.stack[n - 1]))
                    {
                        continue;
                    }
                    let b = pop!();
                    let r = tri!(ops::binary(kind, c, &b));
                    push!(r);
                }
                Op::JumpUnlessTK(kind, k, t) => {
                    let yes = match self.stack.last() {
                        Some(Value::Int(a)) => ops::int_compare(kind, *a, k as i64),
                        Some(a) => holds!(kind, a, &Value::Int(k as i64)),
                        None => false,
                    };
                    pop_scalar(&mut self.stack);
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessTN(kind, k, t) => {
                    let yes = match self.stack.last() {
                        Some(a) => holds!(kind, a, number(&proto, k)),
                        None => false,
                    };
                    pop_scalar(&mut self.stack);
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessTT(kind, t) => {
                    let n = self.stack.len();
                    let yes = holds!(kind, &self.stack[n - 2], &self.stack[n - 1]);
                    pop_scalar(&mut self.stack);
                    pop_scalar(&mut self.stack);
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessTL(kind, x, t) => {
                    let n = self.stack.len();
                    let yes = holds!(kind, &self.stack[n - 1], &self.stack[base + x as usize]);
                    pop_scalar(&mut self.stack);
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessNil(is_eq, t) => {
                    let is_nil = matches!(self.stack.last(), Some(Value::Nil));
                    pop_scalar(&mut self.stack);
                    if is_nil != is_eq {
                        ip = t as usize;
                    }
                }
                Op::BinTG(kind, g) => {
                    let n = self.stack.len();
                    if n > 0
                        && let Some(b) = self.globals.get(g as usize)
                        && with_binary!(kind, &self.stack[n - 1], b, |r| r
                            .store(&mut self.stack[n - 1]))
                    {
                        ip += 2;
                    }
                }
                Op::JumpUnlessTG(kind, g) => {
                    let n = self.stack.len();
                    if n > 0
                        && let Some(b) = self.globals.get(g as usize)
                        && let Some(r) = numeric::binary(kind, &self.stack[n - 1], b)
                        && let Some(Op::JumpUnlessTT(_, t)) = proto.code.get(ip + 1)
                    {
                        pop_scalar(&mut self.stack);
                        ip = if r.truthy() { ip + 2 } else { *t as usize };
                    }
                }
                Op::JumpUnlessFieldNil(x, site) => {
                    if let Value::Instance(i) = &self.stack[base + x as usize]
                        && let Some(cache) = proto.sites.field(site)
                        && let Some(is_nil) = i
                            .fields
                            .borrow()
                            .cached(cache)
                            .map(|v| matches!(v, Value::Nil))
                        && let Some(&Op::JumpUnlessNil(is_eq, t)) = proto.code.get(ip + 1)
                    {
                        ip = if is_nil == is_eq { ip + 2 } else { t as usize };
                    }
                }
                Op::JumpUnlessNilL(x, is_eq, t) => {
                    if matches!(self.stack[base + x as usize], Value::Nil) != is_eq {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessLK(kind, x, k, t) => {
                    let yes = match &self.stack[base + x as usize] {
                        Value::Int(a) => ops::int_compare(kind, *a, k as i64),
                        a => holds!(kind, a, &Value::Int(k as i64)),
                    };
                    if !yes {
                        ip = t as usize;
                    }
                }
                Op::JumpUnlessLN(kind, x, k, t) => {
                    if !holds!(kind, &self.stack[base + x as usize], number(&proto, k)) {
                        ip = t as usize;
                    }
                }
                Op::SetBinLL(kind, d, x, y) => set_bin!(
                    kind,
                    d,
                    &self.stack[base + x as usize],
                    &self.stack[base + y as usize]
                ),
                Op::SetBinLK(kind, d, x, k) => {
                    if let Value::Int(a) = self.stack[base + x as usize]
                        && let Some(r) = numeric::int_binary(kind, a, k as i64)
                    {
                        r.store(&mut self.stack[base + d as usize]);
                        continue;
                    }
                    set_bin!(
                        kind,
                        d,
                        &self.stack[base + x as usize],
                        &Value::Int(k as i64)
                    )
                }
                Op::SetBinLN(kind, d, x, k) => {
                    set_bin!(kind, d, &self.stack[base + x as usize], number(&proto, k))
                }
                Op::SetBinNL(kind, d, k, x) => {
                    set_bin!(kind, d, number(&proto, k), &self.stack[base + x as usize])
                }
                Op::SetBinTL(kind, d, y) => set_bin_top!(kind, d, &self.stack[base + y as usize]),
                Op::SetBinTN(kind, d, k) => set_bin_top!(kind, d, number(&proto, k)),
                Op::SetBinTT(kind, d) => {
                    let n = self.stack.len();
                    let at = base + d as usize;
                    if with_binary!(kind, &self.stack[n - 2], &self.stack[n - 1], |r| r
                        .store(&mut self.stack[at]))
                    {
                        pop_scalar(&mut self.stack);
                        pop_scalar(&mut self.stack);
                        continue;
                    }
                    let b = pop!();
                    let a = pop!();
                    let r = tri!(ops::binary(kind, &a, &b));
                    store_value(&mut self.stack[at], r);
                }
                Op::LoadConst(d, k) => {
                    let slot = &mut self.stack[base + d as usize];
                    match proto.consts.get(k as usize) {
                        Some(Value::Float(f)) => store_float(slot, *f),
                        Some(Value::Int(i)) => store_int(slot, *i),
                        v => store_value(slot, v.map(copy_of).unwrap_or_default()),
                    }
                }
                Op::CopyLocal(d, s) => {
                    // Numbers by payload: one match on the source.
                    match self.stack[base + s as usize] {
                        Value::Int(i) => store_int(&mut self.stack[base + d as usize], i),
                        Value::Float(f) => store_float(&mut self.stack[base + d as usize], f),
                        ref v => {
                            let v = copy_of(v);
                            store_value(&mut self.stack[base + d as usize], v);
                        }
                    }
                }
                Op::LoadIndexLL(d, o, i) => {
                    let (obj, idx) = (
                        &self.stack[base + o as usize],
                        &self.stack[base + i as usize],
                    );
                    let v = match counted::list_get(obj, idx) {
                        Some(Got::Num(n)) => {
                            n.store(&mut self.stack[base + d as usize]);
                            continue;
                        }
                        Some(Got::Value(v)) => v,
                        None => tri!(crate::index::get_index(obj, idx)),
                    };
                    store_value(&mut self.stack[base + d as usize], v);
                }
                Op::DefineLocal(s) => {
                    let v = pop!();
                    store_value(&mut self.stack[base + s as usize], v);
                }
                Op::DefineCell(s) => {
                    let v = pop!();
                    self.stack[base + s as usize] = new_cell(v);
                }
                Op::GetCell(s) => {
                    let v = match &self.stack[base + s as usize] {
                        Value::Cell(c) => c.value.borrow().clone(),
                        other => other.clone(),
                    };
                    push!(v);
                }
                Op::SetCell(s) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    match &self.stack[base + s as usize] {
                        Value::Cell(c) => c.set(v),
                        _ => self.stack[base + s as usize] = new_cell(v),
                    }
                }
                Op::GetUpval(i) => {
                    let v = match self
                        .frames
                        .last()
                        .and_then(|f| f.closure.upvalues.get(i as usize))
                    {
                        Some(Value::Cell(c)) => c.value.borrow().clone(),
                        Some(Value::Int(n)) => Value::Int(*n),
                        Some(v) => v.clone(),
                        None => Value::Nil,
                    };
                    push!(v);
                }
                Op::SetUpval(i) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    // Assigned variables are always captured as cells.
                    match self
                        .frames
                        .last()
                        .and_then(|f| f.closure.upvalues.get(i as usize))
                    {
                        Some(Value::Cell(c)) => c.set(v),
                        _ => throw!(RtError::new(
                            "internal error: assigned capture without a cell"
                        )),
                    }
                }
                Op::GetGlobal(g) => match self.globals.get(g as usize) {
                    Some(Value::Undefined) | None => {
                        let v = tri!(self.missing_global(g));
                        push!(v);
                    }
                    Some(v) => push_copy(&mut self.stack, v),
                },
                Op::SetGlobal(g) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    self.store_global(g, v);
                }
                Op::DefineGlobal(g) => {
                    self.global_assigned(g as usize);
                    // A number into a global that holds one: the payload only.
                    if let Some(slot) = self.globals.get_mut(g as usize) {
                        match self.stack.last() {
                            Some(Value::Float(f)) => {
                                store_float(slot, *f);
                                pop_scalar(&mut self.stack);
                                continue;
                            }
                            Some(Value::Int(i)) => {
                                store_int(slot, *i);
                                pop_scalar(&mut self.stack);
                                continue;
                            }
                            _ => {}
                        }
                    }
                    let v = pop!();
                    self.store_global(g, v);
                }
                Op::Add => fused2!(BinKind::Add),
                Op::Sub => fused2!(BinKind::Sub),
                Op::Mul => fused2!(BinKind::Mul),
                Op::Div => fused2!(BinKind::Div),
                Op::Mod => fused2!(BinKind::Mod),
                Op::Bin(kind) => fused2!(kind),
                Op::Neg => {
                    let a = pop!();
                    let r = tri!(ops::negate(&a));
                    push!(r);
                }
                Op::Not => {
                    let a = pop!();
                    push!(Value::Bool(!a.is_truthy()));
                }
                Op::Eq => fused2!(BinKind::Eq),
                Op::Ne => fused2!(BinKind::Ne),
                Op::Lt => fused2!(BinKind::Lt),
                Op::Le => fused2!(BinKind::Le),
                Op::Gt => fused2!(BinKind::Gt),
                Op::Ge => fused2!(BinKind::Ge),
                Op::AddToLocal(s) => {
                    let (n, at) = (self.stack.len(), base + s as usize);
                    if with_binary!(BinKind::Add, &self.stack[at], &self.stack[n - 1], |r| r
                        .store(&mut self.stack[at]))
                    {
                        pop_scalar(&mut self.stack);
                        continue;
                    }
                    let rhs = pop!();
                    let slot = &mut self.stack[base + s as usize];
                    match (&*slot, &rhs) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                            Some(r) => store_int(slot, r),
                            None => throw!(RtError::new("integer overflow in '+'")),
                        },
                        _ => tri!(ops::add_assign(slot, &rhs)),
                    }
                }
                Op::AddAssignLocal(s) => {
                    let rhs = pop!();
                    let slot = &mut self.stack[base + s as usize];
                    match (&*slot, &rhs) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                            Some(r) => *slot = Value::Int(r),
                            None => throw!(RtError::new("integer overflow in '+'")),
                        },
                        _ => tri!(ops::add_assign(slot, &rhs)),
                    }
                    let v = slot.clone();
                    push!(v);
                }
                Op::AddAssignGlobal(g) => {
                    let rhs = pop!();
                    if matches!(self.globals.get(g as usize), Some(Value::Undefined) | None) {
                        tri!(self.missing_global(g));
                    }
                    self.global_assigned(g as usize);
                    let Some(slot) = self.globals.get_mut(g as usize) else {
                        throw!(RtError::new("internal error: bad global"));
                    };
                    tri!(ops::add_assign(slot, &rhs));
                    let v = slot.clone();
                    push!(v);
                }
                Op::AddSetLocal(s, keep) => {
                    let n = self.stack.len();
                    if !keep
                        && let Some(r) =
                            numeric::binary(BinKind::Add, &self.stack[n - 2], &self.stack[n - 1])
                    {
                        r.store(&mut self.stack[base + s as usize]);
                        pop_scalar(&mut self.stack);
                        pop_scalar(&mut self.stack);
                        continue;
                    }
                    let rhs = pop!();
                    let lhs = pop!();
                    let at = base + s as usize;
                    tri!(super::concat::add_set(&mut self.stack[at], lhs, &rhs));
                    discard(rhs);
                    if keep {
                        let v = self.stack[at].clone();
                        push!(v);
                    }
                }
                Op::AddSetGlobal(g, keep) => {
                    let rhs = pop!();
                    let lhs = pop!();
                    self.global_assigned(g as usize);
                    let Some(slot) = self.globals.get_mut(g as usize) else {
                        throw!(RtError::new("internal error: bad global"));
                    };
                    tri!(super::concat::add_set(slot, lhs, &rhs));
                    let v = keep.then(|| slot.clone());
                    discard(rhs);
                    if let Some(v) = v {
                        push!(v);
                    }
                }
                Op::Jump(t) => ip = t as usize,
                Op::Loop(t) => {
                    ip = t as usize;
                    poll!();
                }
                Op::LoopIfLL(kind, x, y, t) => {
                    if holds!(
                        kind,
                        &self.stack[base + x as usize],
                        &self.stack[base + y as usize]
                    ) {
                        ip = t as usize;
                        poll!();
                    }
                }
                Op::LoopIfLK(kind, x, k, t) => {
                    let yes = match &self.stack[base + x as usize] {
                        Value::Int(a) => ops::int_compare(kind, *a, k as i64),
                        a => holds!(kind, a, &Value::Int(k as i64)),
                    };
                    if yes {
                        ip = t as usize;
                        poll!();
                    }
                }
                Op::LoopIfLN(kind, x, k, t) => {
                    if holds!(kind, &self.stack[base + x as usize], number(&proto, k)) {
                        ip = t as usize;
                        poll!();
                    }
                }
                Op::ForNext(s, d, body) => {
                    poll!();
                    let at = base + s as usize;
                    // A range's next Int, straight into the variable; anything else (the
                    // end, a list, an iterator) steps through the loop's `IterNext`.
                    if let [Value::Int(i), Value::Int(end)] = &mut self.stack[at..at + 2]
                        && *i < *end
                    {
                        let v = *i;
                        *i += 1;
                        store_int(&mut self.stack[base + d as usize], v);
                        ip = body as usize;
                    } else {
                        ip = body as usize - 2;
                    }
                }
                Op::JumpIfFalse(t) => {
                    // Tested in place: the condition was usually just written in parts.
                    if self.stack.last().is_some_and(|v| !v.is_truthy()) {
                        ip = t as usize;
                    }
                    pop_scalar(&mut self.stack);
                }
                Op::JumpIfTrue(t) => {
                    if self.stack.last().is_some_and(Value::is_truthy) {
                        ip = t as usize;
                    }
                    pop_scalar(&mut self.stack);
                }
                Op::JumpIfFalseKeep(t) => {
                    if self.stack.last().is_some_and(|v| !v.is_truthy()) {
                        ip = t as usize;
                    } else {
                        self.stack.pop();
                    }
                }
                Op::JumpIfTrueKeep(t) => {
                    if self.stack.last().is_some_and(|v| v.is_truthy()) {
                        ip = t as usize;
                    } else {
                        self.stack.pop();
                    }
                }
                Op::BinLKCallGlobal(kind, x, k, g) => {
                    // Recursion: the hot tier runs from this instruction on, for as long
                    // as it can (see `crate::vm::hot`).
                    let (at, depth, entry) = (ip - 1, self.frames.len(), proto.clone());
                    ip = at;
                    save_ip!();
                    match self.run_hot(stop) {
                        Ok(Hot::Done(v)) => return Ok(v),
                        Ok(Hot::Slow) => {}
                        Err(e) => return Err(self.locate(e)),
                    }
                    load_frame!();
                    if ip != at || self.frames.len() != depth || !Rc::ptr_eq(&proto, &entry) {
                        // It stopped elsewhere: the loop runs that instruction.
                        continue;
                    }
                    // It stopped right here (an operand is not an Int, or the limits are
                    // due): this instruction runs in full.
                    ip += 1;
                    let int = match &self.stack[base + x as usize] {
                        Value::Int(a) => ops::int_arith(kind, *a, k as i64),
                        _ => None,
                    };
                    let callee = match (int, self.globals.get(g as usize)) {
                        (Some(_), Some(Value::Function(c))) => Some(c.clone()),
                        _ => None,
                    };
                    push!(Value::Nil);
                    if let (Some(arg), Some(callee)) = (int, callee) {
                        push!(Value::Int(arg));
                        // Past the `BinLK`; the call skips the `CallGlobal`.
                        ip += 1;
                        enter_skipping_call!(callee, 1);
                    }
                }
                Op::CallLocal0(s) => {
                    let Value::Function(c) = &self.stack[base + s as usize] else {
                        let v = self.stack[base + s as usize].clone();
                        push!(v);
                        continue;
                    };
                    let callee = c.clone();
                    push!(Value::Nil);
                    enter_skipping_call!(callee, 0);
                }
                Op::Call(argc) => {
                    poll!();
                    save_ip!();
                    if let Called::Frame = tri!(self.call(argc as usize)) {
                        tail_collapse!();
                        load_frame!();
                    }
                }
                Op::CallGlobal(g, argc) => {
                    poll!();
                    save_ip!();
                    let argc = argc as usize;
                    // The compiler put the callee's slot 0 (a nil) under the arguments.
                    let callee_at = self.stack.len() - argc - 1;
                    let called = match self.globals.get(g as usize) {
                        Some(Value::Function(c)) => {
                            let c = c.clone();
                            tri!(self.push_frame(c, argc, callee_at));
                            Called::Frame
                        }
                        Some(Value::Native(n)) => {
                            let n = n.clone();
                            tri!(self.call_native(&n, callee_at + 1, callee_at));
                            Called::Done
                        }
                        Some(Value::Undefined) | None => {
                            let v = tri!(self.missing_global(g));
                            self.stack[callee_at] = v;
                            tri!(self.call(argc))
                        }
                        Some(other) => {
                            self.stack[callee_at] = other.clone();
                            tri!(self.call(argc))
                        }
                    };
                    if let Called::Frame = called {
                        tail_collapse!();
                        load_frame!();
                    }
                }
                Op::Return => match self.stack.last().and_then(Num::of) {
                    Some(n) => {
                        pop_scalar(&mut self.stack);
                        return_num!(n);
                    }
                    None => {
                        let result = take_top(&mut self.stack);
                        do_return!(result);
                    }
                },
                Op::ReturnLocal(s) => match Num::of(&self.stack[base + s as usize]) {
                    Some(n) => return_num!(n),
                    None => {
                        let result = copy_of(&self.stack[base + s as usize]);
                        do_return!(result);
                    }
                },
                Op::MakeList(n) => {
                    let at = self.stack.len() - n as usize;
                    let items: Vec<Value> = self.stack.drain(at..).collect();
                    push!(Value::list(items));
                }
                Op::GetLocalField(s, k, site) => {
                    if let Value::Instance(i) = &self.stack[base + s as usize]
                        && push_cached_field!(i, site)
                    {
                        continue;
                    }
                    let name = const_name(&proto, k);
                    if let Value::Row(r) = self.stack[base + s as usize]
                        && let Some(Value::Str(key)) = proto.consts.get(k as usize)
                    {
                        // A table scan's inner loop: the field's value goes straight onto
                        // the stack.
                        push!(Value::Nil);
                        let at = self.stack.len() - 1;
                        let found = {
                            let (reader, stack) = (&mut self.row_reader, &mut self.stack);
                            reader.read_const_into(r, key, &mut stack[at])
                        };
                        if !tri!(found) {
                            // Not a column: a method of the table's class, or the error.
                            self.stack.pop();
                            let v = tri!(self.get_field(&Value::Row(r), name));
                            push!(v);
                        }
                        continue;
                    }
                    let found = match &self.stack[base + s as usize] {
                        Value::Map(m) => m.entries.borrow().get(&KeyRef::Str(name)).cloned(),
                        _ => None,
                    };
                    let v = match found {
                        Some(v) => v,
                        None => {
                            let obj = self.stack[base + s as usize].clone();
                            tri!(self.get_field_at(&obj, name, proto.sites.field(site)))
                        }
                    };
                    push!(v);
                }
                Op::GetField(k, site) => {
                    let obj = pop!();
                    if let Value::Instance(i) = &obj
                        && push_cached_field!(i, site)
                    {
                        discard(obj);
                        continue;
                    }
                    let name = const_name(&proto, k);
                    let v = tri!(self.get_field_at(&obj, name, proto.sites.field(site)));
                    push!(v);
                }
                Op::SetField(k, site) => {
                    let v = pop!();
                    let obj = pop!();
                    let v = match &obj {
                        Value::Instance(i) => {
                            match cached_store(&proto.sites, site, i, copy_of(&v)) {
                                Ok(()) => {
                                    push!(v);
                                    continue;
                                }
                                Err(_) => v,
                            }
                        }
                        _ => v,
                    };
                    let name = const_name(&proto, k);
                    // A row column may convert what it stores (Int into Float): the
                    // assignment's value is what was stored.
                    let stored = match &obj {
                        Value::Row(_) => tri!(self.set_field(&obj, name, v)),
                        _ => {
                            let site = proto.sites.field(site);
                            tri!(self.set_field_at(&obj, name, v.clone(), site));
                            v
                        }
                    };
                    push!(stored);
                }
                Op::SetLocalField(s, k, site, keep) => {
                    // A number into a field the site's cache knows: its payload, in place.
                    if let Value::Instance(i) = &self.stack[base + s as usize]
                        && let Some(cache) = proto.sites.field(site)
                        && let Some(n) = self.stack.last().and_then(Num::of)
                        && {
                            let mut fields = i.fields.borrow_mut();
                            fields.cached_mut(cache).map(|slot| n.store(slot)).is_some()
                        }
                    {
                        if !keep {
                            pop_scalar(&mut self.stack);
                        }
                        continue;
                    }
                    let v = match self.stack.last() {
                        Some(top) if keep => copy_of(top),
                        _ => pop!(),
                    };
                    let at = base + s as usize;
                    let v = match &self.stack[at] {
                        Value::Instance(i) => match cached_store(&proto.sites, site, i, v) {
                            Ok(()) => continue,
                            Err(v) => v,
                        },
                        _ => v,
                    };
                    let name = const_name(&proto, k);
                    let obj = self.stack[at].clone();
                    let stored = match &obj {
                        Value::Row(_) => tri!(self.set_field(&obj, name, v)),
                        _ => {
                            let site = proto.sites.field(site);
                            tri!(self.set_field_at(&obj, name, v.clone(), site));
                            v
                        }
                    };
                    if keep {
                        // The stored value is the assignment's (a row column may convert it).
                        if let Some(top) = self.stack.last_mut() {
                            *top = stored;
                        }
                    }
                }
                Op::Invoke(k, argc, site) => {
                    poll!();
                    save_ip!();
                    let at = self.stack.len() - argc as usize - 1;
                    let called = match &self.stack[at] {
                        Value::Instance(i) => match cached_method(&proto.sites, site, i) {
                            Some(method) => {
                                tri!(self.push_frame(method, argc as usize, at));
                                Called::Frame
                            }
                            None => tri!(self.invoke(
                                const_name(&proto, k),
                                argc as usize,
                                proto.sites.invoke(site)
                            )),
                        },
                        receiver => {
                            let tag = std::mem::discriminant(receiver);
                            let invoke_site = proto.sites.invoke(site);
                            let called = invoke_site.and_then(|s| {
                                s.builtin.with_method(tag, |n| self.call_native(n, at, at))
                            });
                            match called {
                                Some(done) => {
                                    tri!(done);
                                    Called::Done
                                }
                                None => tri!(self.invoke(
                                    const_name(&proto, k),
                                    argc as usize,
                                    invoke_site
                                )),
                            }
                        }
                    };
                    if let Called::Frame = called {
                        tail_collapse!();
                        load_frame!();
                    }
                }
                Op::GetIndex => tri!(self.index_pair()),
                Op::SetIndex(keep) => tri!(self.store_index_top(keep)),
                Op::GetSuper(k) => {
                    let this = pop!();
                    let name = const_name(&proto, k);
                    let m = tri!(self.super_method(name));
                    push!(Value::bound(this, m));
                }
                Op::InvokeSuper(k, argc) => {
                    save_ip!();
                    let name = const_name(&proto, k);
                    let m = tri!(self.super_method(name));
                    let callee_at = self.stack.len() - argc as usize - 1;
                    let this = self.stack[callee_at].clone();
                    self.stack[callee_at] = Value::bound(this, m);
                    if let Called::Frame = tri!(self.call(argc as usize)) {
                        tail_collapse!();
                        load_frame!();
                    }
                }
                Op::IterInitRange(s) => {
                    let at = base + s as usize;
                    let n = self.stack.len();
                    let (ends, slots) = (n - 2, at..at + 2);
                    let [lo, hi] = [&self.stack[ends], &self.stack[ends + 1]];
                    let (lo, hi) = (lo.clone(), hi.clone());
                    tri!(counted::start_range(&lo, &hi, &mut self.stack[slots]));
                    truncate_stack(&mut self.stack, ends);
                }
                Op::IterNext(s, exit) => {
                    let at = base + s as usize;
                    match counted::next(&mut self.stack[at..at + 2]) {
                        Next::Int(i) => {
                            if let Some(Op::DefineLocal(d)) = proto.code.get(ip) {
                                store_int(&mut self.stack[base + *d as usize], i);
                                ip += 1;
                                continue;
                            }
                            push!(Value::Int(i));
                            continue;
                        }
                        Next::Element(v) => bind_loop_var!(v),
                        Next::Done => {
                            ip = exit as usize;
                            continue;
                        }
                        Next::Iterator => {}
                    }
                    // A plain source (no stages) steps without the VM: no clone of the
                    // iterator handle, no re-entry. Limits are polled by the loop's back-edge.
                    let row = match &self.stack[base + s as usize] {
                        Value::Iter(it) => match it.try_borrow_mut() {
                            Ok(mut run) => run.next_row(),
                            Err(_) => crate::pipe::RowStep::Other,
                        },
                        _ => crate::pipe::RowStep::Other,
                    };
                    if let crate::pipe::RowStep::Row(r) = row {
                        // The loop body starts by binding the row: store it in the loop
                        // variable's slot directly, in parts.
                        if let Some(Op::DefineLocal(v)) = proto.code.get(ip) {
                            let slot = &mut self.stack[base + *v as usize];
                            if let Value::Row(old) = slot {
                                *old = r;
                            } else {
                                discard(std::mem::replace(slot, Value::Row(r)));
                            }
                            ip += 1;
                            continue;
                        }
                        push!(Value::Row(r));
                        continue;
                    }
                    let plain = match &self.stack[base + s as usize] {
                        Value::Iter(it) => {
                            it.try_borrow_mut().ok().and_then(|mut r| r.next_plain())
                        }
                        _ => None,
                    };
                    match plain {
                        Some(Ok(Some(v))) => bind_loop_var!(v),
                        Some(Err(e)) => throw!(e),
                        Some(Ok(None)) => {
                            self.stack[base + s as usize] = Value::Nil;
                            ip = exit as usize;
                            continue;
                        }
                        None => {}
                    }
                    let Value::Iter(it) = self.stack[base + s as usize].clone() else {
                        throw!(RtError::new("internal error: no iterator"));
                    };
                    save_ip!();
                    let next = match it.try_borrow_mut() {
                        Ok(mut run) => PipeRun::next(&mut run, self),
                        Err(_) => Err(RtError::new("iterator is already running")),
                    };
                    match tri!(next) {
                        Some(v) => push!(v),
                        None => {
                            self.stack[base + s as usize] = Value::Nil;
                            ip = exit as usize;
                        }
                    }
                }
                Op::MarkStack(s) => {
                    let height = self.stack.len() as i64;
                    self.stack[base + s as usize] = Value::Int(height);
                }
                Op::CutStack(s) => {
                    if let Value::Int(h) = self.stack[base + s as usize] {
                        let h = h as usize;
                        if h < self.stack.len() {
                            self.stack.truncate(h);
                        }
                    }
                }
                Op::GetIndexLL(o, i) => {
                    let (obj, idx) = (
                        &self.stack[base + o as usize],
                        &self.stack[base + i as usize],
                    );
                    match counted::list_get(obj, idx) {
                        Some(Got::Num(n)) => {
                            n.push(&mut self.stack);
                            continue;
                        }
                        Some(Got::Value(v)) => {
                            push!(v);
                            continue;
                        }
                        None => {}
                    }
                    let v = tri!(crate::index::get_index(obj, idx));
                    push!(v);
                }
                Op::GetIndexL(o) => {
                    let n = self.stack.len();
                    match counted::list_get(&self.stack[base + o as usize], &self.stack[n - 1]) {
                        Some(Got::Num(v)) => {
                            v.store(&mut self.stack[n - 1]);
                            continue;
                        }
                        Some(Got::Value(v)) => {
                            store_value(&mut self.stack[n - 1], v);
                            continue;
                        }
                        None => {}
                    }
                    let idx = pop!();
                    let v = tri!(crate::index::get_index(
                        &self.stack[base + o as usize],
                        &idx
                    ));
                    push!(v);
                }
                // Out of line: an arm this size here moved the code of all the others.
                Op::GetIndexTL(i) => tri!(self.index_top(base + i as usize)),
                Op::SetIndexLL(o, i) | Op::StoreIndexLL(o, i) => {
                    let n = self.stack.len();
                    let (obj, idx) = (
                        &self.stack[base + o as usize],
                        &self.stack[base + i as usize],
                    );
                    if !counted::list_store(obj, idx, &self.stack[n - 1]) {
                        let v = copy_of(&self.stack[n - 1]);
                        tri!(crate::index::set_index(obj, idx, v));
                    }
                    // An assignment expression keeps the value as its result.
                    if matches!(proto.code[ip - 1], Op::StoreIndexLL(..)) {
                        pop_scalar(&mut self.stack);
                    }
                }
                Op::StoreIndexLLL(o, i, v) => {
                    let (obj, idx, v) = (
                        &self.stack[base + o as usize],
                        &self.stack[base + i as usize],
                        &self.stack[base + v as usize],
                    );
                    if !counted::list_store(obj, idx, v) {
                        tri!(crate::index::set_index(obj, idx, copy_of(v)));
                    }
                }
                Op::SetIndexL(o) | Op::StoreIndexL(o) => {
                    let v = pop!();
                    let idx = pop!();
                    let keep = matches!(proto.code[ip - 1], Op::SetIndexL(_)).then(|| v.clone());
                    let obj = &self.stack[base + o as usize];
                    if let Err(v) = counted::list_set(obj, &idx, v) {
                        tri!(crate::index::set_index(obj, &idx, v));
                    }
                    discard(idx);
                    if let Some(v) = keep {
                        push!(v);
                    }
                }
                Op::IterNextPair(s, exit) => {
                    // Out of line, all of it: an arm here moves the code of every other.
                    save_ip!();
                    ip = tri!(self.step_pair(&proto.code, base, s, ip, exit));
                }
            }
        }
    }
}

/// The numeric constant `consts[k]` of a fused instruction.
#[inline(always)]
fn number(proto: &Proto, k: u32) -> &Value {
    numeric::constant(&proto.consts, k)
}

pub(crate) fn const_name(proto: &Proto, k: u32) -> &str {
    match proto.consts.get(k as usize) {
        Some(Value::Str(s)) => s.as_str(),
        _ => "?",
    }
}
