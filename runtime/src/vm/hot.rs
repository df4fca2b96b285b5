//! The hot tier of the dispatch loop: a small loop over the instructions of Int-only
//! recursion and arithmetic (calls of global functions with one computed argument, the
//! `Nil` a call puts under its arguments, returns, compare-and-branch on locals). Being small, it keeps the instruction pointer,
//! the frame base and the code in registers, which the full dispatch loop cannot. Any
//! other instruction, and any operand that is not an Int, hands control back to the full
//! loop at that instruction, so every slow path and every diagnostic is the full loop's.

use crate::bytecode::{BinKind, Op, Proto, ProtoKind};
use crate::error::RtResult;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::vm::stack::{pop_scalar, truncate_stack};
use std::rc::Rc;

/// How the hot tier stopped.
pub(crate) enum Hot {
    /// At an instruction it does not run: the current frame's `ip` points at it.
    Slow,
    /// The frame at depth `stop` returned this value.
    Done(Value),
}

impl Vm {
    /// Run from the current frame's `ip` until an instruction the hot tier does not run.
    /// Never inlined: inside the full loop it would lose what it is for.
    #[inline(never)]
    pub(crate) fn run_hot(&mut self, stop: usize) -> RtResult<Hot> {
        let Some(f) = self.frames.last() else {
            return Ok(Hot::Slow);
        };
        let mut proto: Rc<Proto> = f.closure.proto.clone();
        let mut ip = f.ip;
        let mut base = f.base;
        'frame: loop {
            let code: &[Op] = &proto.code;
            loop {
                let Some(op) = code.get(ip) else {
                    break 'frame;
                };
                match *op {
                    Op::JumpUnlessLK(kind, x, k, t) => match self.stack.get(base + x as usize) {
                        Some(Value::Int(a)) => {
                            ip = if ops::int_compare(kind, *a, k as i64) {
                                ip + 1
                            } else {
                                t as usize
                            };
                        }
                        _ => break 'frame,
                    },
                    Op::Add | Op::Sub | Op::Mul => {
                        let kind = match *op {
                            Op::Add => BinKind::Add,
                            Op::Sub => BinKind::Sub,
                            _ => BinKind::Mul,
                        };
                        let n = self.stack.len();
                        let r = match (n >= 2).then(|| (&self.stack[n - 2], &self.stack[n - 1])) {
                            Some((Value::Int(a), Value::Int(b))) => ops::int_arith(kind, *a, *b),
                            _ => None,
                        };
                        let Some(r) = r else { break 'frame };
                        pop_scalar(&mut self.stack);
                        if let Some(Value::Int(slot)) = self.stack.last_mut() {
                            *slot = r;
                        }
                        ip += 1;
                    }
                    Op::Nil => {
                        self.stack.extend(std::iter::once_with(|| Value::Nil));
                        ip += 1;
                    }
                    Op::ReturnLocal(_) | Op::Return => {
                        let at = match *op {
                            Op::ReturnLocal(s) => base + s as usize,
                            _ => self.stack.len().wrapping_sub(1),
                        };
                        let Some(Value::Int(result)) = self.stack.get(at) else {
                            break 'frame;
                        };
                        if proto.kind == ProtoKind::Init {
                            break 'frame;
                        }
                        let result = *result;
                        let depth = self.frames.len();
                        self.frames.truncate(depth - 1);
                        truncate_stack(&mut self.stack, base);
                        if self.frames.len() <= stop || self.frames.is_empty() {
                            return Ok(Hot::Done(Value::Int(result)));
                        }
                        self.stack
                            .extend(std::iter::once_with(|| Value::Int(result)));
                        let f = &self.frames[self.frames.len() - 1];
                        if !Rc::ptr_eq(&proto, &f.closure.proto) {
                            proto = f.closure.proto.clone();
                        }
                        ip = f.ip;
                        base = f.base;
                        continue 'frame;
                    }
                    Op::BinLKCallGlobal(kind, x, k, g) => {
                        let arg = match self.stack.get(base + x as usize) {
                            Some(Value::Int(a)) => ops::int_arith(kind, *a, k as i64),
                            _ => None,
                        };
                        let (Some(arg), Some(Value::Function(callee))) =
                            (arg, self.globals.get(g as usize))
                        else {
                            break 'frame;
                        };
                        // The full loop reports a wrong arity or the depth limit, wraps
                        // captured parameters, and polls the limits when the budget is out.
                        if callee.proto.arity != 1
                            || callee.proto.has_cell_params
                            || self.frames.len() > self.max_depth
                            || self.poll_budget <= 1
                        {
                            break 'frame;
                        }
                        self.poll_budget -= 1;
                        let callee = callee.clone();
                        // Past the `BinLK` and `CallGlobal` this instruction stands for.
                        if let Some(f) = self.frames.last_mut() {
                            f.ip = ip + 3;
                        }
                        let callee_at = self.stack.len();
                        self.stack.extend(std::iter::once_with(|| Value::Nil));
                        self.stack.extend(std::iter::once_with(|| Value::Int(arg)));
                        let top = callee_at + callee.proto.num_slots as usize;
                        if top > self.stack.len() {
                            self.stack.resize(top, Value::Nil);
                        }
                        let tail = matches!(code.get(ip + 3), Some(Op::Return))
                            && proto.kind != ProtoKind::Init;
                        // Recursion re-enters the running function: no reference-count
                        // writes on its prototype.
                        if !Rc::ptr_eq(&proto, &callee.proto) {
                            proto = callee.proto.clone();
                        }
                        self.frames
                            .extend(std::iter::once_with(|| crate::vm::Frame {
                                closure: callee,
                                ip: 0,
                                base: callee_at,
                            }));
                        if tail {
                            self.collapse_tail_frame();
                        }
                        ip = 0;
                        base = self.frames.last().map_or(callee_at, |f| f.base);
                        continue 'frame;
                    }
                    _ => break 'frame,
                }
            }
        }
        if let Some(f) = self.frames.last_mut() {
            f.ip = ip;
        }
        Ok(Hot::Slow)
    }
}
