//! The instructions of the dispatch loop that do not run in inner loops (closures and
//! classes made, map literals, `print`, destructuring, tests...): one call out of line
//! each, which keeps the loop's own function smaller, and its state in registers.

use crate::bytecode::{Op, Proto};
use crate::error::{RtError, RtResult};
use crate::ops;
use crate::pipe::PipeRun;
use crate::print::display;
use crate::value::*;
use crate::vm::Vm;
use crate::vm::counted;
use crate::vm::dispatch::const_name;
use crate::vm::stack::take_top;
use std::io::Write as _;
use std::rc::Rc;

impl Vm {
    /// Run one of the instructions listed in the dispatch loop's cold arm.
    #[inline(never)]
    pub(crate) fn run_cold(&mut self, op: Op, proto: &Proto, base: usize) -> RtResult<()> {
        match op {
            Op::Fused(enter) => {
                if enter {
                    self.fused += 1;
                } else {
                    self.fused = self.fused.saturating_sub(1);
                }
            }
            Op::DeclareGlobal(g) => {
                self.declare_global(g)?;
            }
            Op::BitNot => {
                let a = take_top(&mut self.stack);
                let r = ops::bit_not(&a)?;
                self.stack.push(r);
            }
            Op::Closure(i) => {
                let Some(p) = proto.protos.get(i as usize).cloned() else {
                    return Err(RtError::new("internal error: bad function index"));
                };
                let Some(frame) = self.frames.last() else {
                    return Err(RtError::new("no frame"));
                };
                let home = frame.closure.home.clone();
                let v = self.make_closure(p, frame, home);
                self.stack.push(v);
            }
            Op::MakeMap(n) => {
                let at = self.stack.len() - 2 * n as usize;
                let mut map = new_entries(n as usize);
                let mut it = self.stack.drain(at..);
                let mut bad = None;
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    match MapKey::from_value(&k) {
                        Ok(k) => {
                            map.insert(k, v);
                        }
                        Err(e) => bad = Some(e),
                    }
                }
                drop(it);
                if let Some(e) = bad {
                    return Err(e);
                }
                self.stack.push(Value::map(map));
            }
            Op::MakeShapedMap(i) => {
                let Some(keys) = proto.shapes.get(i as usize) else {
                    return Err(RtError::new("internal error: bad map shape"));
                };
                let at = self.stack.len() - keys.len();
                let values: Vec<Value> = self.stack.drain(at..).collect();
                self.stack
                    .push(Value::map(Entries::shaped(keys.clone(), values)));
            }
            Op::MakeRange => {
                let b = take_top(&mut self.stack);
                let a = take_top(&mut self.stack);
                match (&a, &b) {
                    (Value::Int(x), Value::Int(y)) => self.stack.push(Value::range(*x, *y)),
                    _ => {
                        return Err(RtError::new(format!(
                            "a range needs two Ints, not {} and {}",
                            a.type_name(),
                            b.type_name()
                        )));
                    }
                }
            }
            Op::Class(i) => {
                let frame_idx = self.frames.len() - 1;
                let v = self.build_class(i as usize, frame_idx)?;
                self.stack.push(v);
            }
            Op::Print => {
                let v = take_top(&mut self.stack);
                let text = display(&v);
                if let Some(e) = crate::limits::take_pending() {
                    return Err(e);
                }
                if writeln!(self.out, "{text}").is_err() {
                    return Err(RtError::new("cannot write to standard output"));
                }
            }
            Op::IterInit(s) => {
                let v = take_top(&mut self.stack);
                let at = base + s as usize;
                counted::start(v, &mut self.stack[at..at + 2])?;
            }
            Op::InRange => {
                let hi = take_top(&mut self.stack);
                let lo = take_top(&mut self.stack);
                let x = take_top(&mut self.stack);
                let inside = match (ops::compare("..", &lo, &x), ops::compare("..", &x, &hi)) {
                    (Ok(Some(a)), Ok(Some(b))) => {
                        a != std::cmp::Ordering::Greater && b == std::cmp::Ordering::Less
                    }
                    _ => false,
                };
                self.stack.push(Value::Bool(inside));
            }
            Op::NoMatch => {
                let v = take_top(&mut self.stack);
                return Err(RtError::new(format!(
                    "no match arm for {}",
                    crate::print::repr(&v)
                )));
            }
            Op::Test(k) => {
                let f = take_top(&mut self.stack);
                let name = const_name(proto, k).to_string();
                self.tests.push((name, f));
            }
            Op::Unpack(n) => {
                let v = take_top(&mut self.stack);
                let copy = super::destructure::unpack(&v, n)?;
                self.stack.push(copy);
            }
            Op::Pick(depth, i) => {
                let v = super::destructure::pick(&self.stack, depth, i);
                self.stack.push(v);
            }
            Op::IterInitPairs(s) => {
                let at = base + s as usize;
                let state = match take_top(&mut self.stack) {
                    Value::Map(m) => [super::destructure::flat_entries(&m), Value::Int(0)],
                    other => {
                        let run = PipeRun::new(&other, true)?;
                        [
                            Value::Iter(Rc::new(std::cell::RefCell::new(run))),
                            Value::Nil,
                        ]
                    }
                };
                let [first, second] = state;
                self.stack[at] = first;
                self.stack[at + 1] = second;
            }
            Op::SplitPair => {
                let pair = take_top(&mut self.stack);
                let (x, y) = super::destructure::pair_of(&pair)?;
                self.stack.push(x);
                self.stack.push(y);
            }
            Op::AssertSource(g, k) => {
                if super::destructure::is_builtin_assert(self.globals.get(g as usize)) {
                    self.assert_source = Some(const_name(proto, k).into());
                }
            }
            _ => return Err(RtError::new("internal error: not a cold instruction")),
        }
        Ok(())
    }
}
