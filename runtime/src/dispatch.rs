//! The instruction dispatch loop of [`Vm`].

use crate::bytecode::{Op, Proto, ProtoKind};
use crate::error::{RtError, RtResult};
use crate::ops;
use crate::pipe::{PipeRun, iter_value};
use crate::print::display;
use crate::value::*;
use crate::vm::{Called, Vm, new_cell};
use indexmap::IndexMap;
use std::rc::Rc;

/// How many backward jumps and calls run between polls of the limits.
const POLL_EVERY: u32 = 4096;

impl Vm {
    pub(crate) fn dispatch(&mut self, stop: usize) -> RtResult<Value> {
        let mut proto: Rc<Proto>;
        let mut ip: usize;
        let mut base: usize;
        let mut budget = POLL_EVERY;

        macro_rules! load_frame {
            () => {{
                let f = self.frames.last().ok_or_else(|| RtError::new("no frame"))?;
                proto = f.closure.proto.clone();
                ip = f.ip;
                base = f.base;
            }};
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
        macro_rules! pop {
            () => {
                self.stack.pop().unwrap_or_default()
            };
        }
        macro_rules! binary {
            ($f:expr) => {{
                let b = pop!();
                let a = pop!();
                let r = tri!($f(&a, &b));
                self.stack.push(r);
            }};
        }
        macro_rules! compare {
            ($name:expr, $test:expr) => {{
                let b = pop!();
                let a = pop!();
                let r = match (&a, &b) {
                    (Value::Int(x), Value::Int(y)) => $test(x.cmp(y)),
                    _ => match tri!(ops::compare($name, &a, &b)) {
                        Some(o) => $test(o),
                        None => false,
                    },
                };
                self.stack.push(Value::Bool(r));
            }};
        }

        load_frame!();
        loop {
            let Some(op) = proto.code.get(ip).copied() else {
                throw!(RtError::new("internal error: ran off the end of the code"));
            };
            ip += 1;
            match op {
                Op::Const(k) => {
                    let v = proto.consts.get(k as usize).cloned().unwrap_or_default();
                    self.stack.push(v);
                }
                Op::SmallInt(i) => self.stack.push(Value::Int(i as i64)),
                Op::Nil => self.stack.push(Value::Nil),
                Op::True => self.stack.push(Value::Bool(true)),
                Op::False => self.stack.push(Value::Bool(false)),
                Op::Pop => {
                    self.stack.pop();
                }
                Op::Dup => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    self.stack.push(v);
                }
                Op::Dup2 => {
                    let n = self.stack.len();
                    if n >= 2 {
                        let a = self.stack[n - 2].clone();
                        let b = self.stack[n - 1].clone();
                        self.stack.push(a);
                        self.stack.push(b);
                    }
                }
                Op::GetLocal(s) => {
                    let v = match &self.stack[base + s as usize] {
                        Value::Int(i) => Value::Int(*i),
                        other => other.clone(),
                    };
                    self.stack.push(v);
                }
                Op::BinLL(kind, x, y) => {
                    let r = tri!(ops::binary(
                        kind,
                        &self.stack[base + x as usize],
                        &self.stack[base + y as usize]
                    ));
                    self.stack.push(r);
                }
                Op::BinLK(kind, x, k) => {
                    let r = tri!(ops::binary(
                        kind,
                        &self.stack[base + x as usize],
                        &Value::Int(k as i64)
                    ));
                    self.stack.push(r);
                }
                Op::SetLocal(s) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    self.stack[base + s as usize] = v;
                }
                Op::DefineLocal(s) => {
                    let v = pop!();
                    self.stack[base + s as usize] = v;
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
                    self.stack.push(v);
                }
                Op::SetCell(s) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    match &self.stack[base + s as usize] {
                        Value::Cell(c) => *c.value.borrow_mut() = v,
                        _ => self.stack[base + s as usize] = new_cell(v),
                    }
                }
                Op::GetUpval(i) => {
                    let v = match self.frames.last() {
                        Some(f) => f
                            .closure
                            .upvalues
                            .get(i as usize)
                            .map(|c| c.value.borrow().clone())
                            .unwrap_or_default(),
                        None => Value::Nil,
                    };
                    self.stack.push(v);
                }
                Op::SetUpval(i) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    if let Some(c) = self
                        .frames
                        .last()
                        .and_then(|f| f.closure.upvalues.get(i as usize))
                    {
                        *c.value.borrow_mut() = v;
                    }
                }
                Op::GetGlobal(g) => match self.globals.get(g as usize) {
                    Some(Value::Undefined) | None => {
                        let name = self.names.name(g).to_string();
                        throw!(RtError::new(format!("'{name}' is not defined yet")));
                    }
                    Some(v) => {
                        let v = v.clone();
                        self.stack.push(v);
                    }
                },
                Op::SetGlobal(g) => {
                    let v = self.stack.last().cloned().unwrap_or_default();
                    self.store_global(g, v);
                }
                Op::DefineGlobal(g) => {
                    let v = pop!();
                    self.store_global(g, v);
                }
                Op::DeclareGlobal(g) => {
                    if matches!(self.globals.get(g as usize), Some(Value::Undefined) | None) {
                        self.store_global(g, Value::Nil);
                    }
                }
                Op::Add => {
                    let b = pop!();
                    let a = pop!();
                    let r = match (&a, &b) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                            Some(r) => Value::Int(r),
                            None => throw!(RtError::new("integer overflow in '+'")),
                        },
                        _ => tri!(ops::add(&a, &b)),
                    };
                    self.stack.push(r);
                }
                Op::Sub => {
                    let b = pop!();
                    let a = pop!();
                    let r = match (&a, &b) {
                        (Value::Int(x), Value::Int(y)) => match x.checked_sub(*y) {
                            Some(r) => Value::Int(r),
                            None => throw!(RtError::new("integer overflow in '-'")),
                        },
                        _ => tri!(ops::arith('-', &a, &b)),
                    };
                    self.stack.push(r);
                }
                Op::Mul => binary!(|a, b| ops::arith('*', a, b)),
                Op::Div => binary!(|a, b| ops::arith('/', a, b)),
                Op::Mod => binary!(|a, b| ops::arith('%', a, b)),
                Op::Neg => {
                    let a = pop!();
                    let r = tri!(ops::negate(&a));
                    self.stack.push(r);
                }
                Op::Not => {
                    let a = pop!();
                    self.stack.push(Value::Bool(!a.is_truthy()));
                }
                Op::Eq => {
                    let b = pop!();
                    let a = pop!();
                    self.stack.push(Value::Bool(ops::equal(&a, &b)));
                }
                Op::Ne => {
                    let b = pop!();
                    let a = pop!();
                    self.stack.push(Value::Bool(!ops::equal(&a, &b)));
                }
                Op::Lt => compare!("<", |o| o == std::cmp::Ordering::Less),
                Op::Le => compare!("<=", |o| o != std::cmp::Ordering::Greater),
                Op::Gt => compare!(">", |o| o == std::cmp::Ordering::Greater),
                Op::Ge => compare!(">=", |o| o != std::cmp::Ordering::Less),
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
                    self.stack.push(v);
                }
                Op::AddAssignGlobal(g) => {
                    let rhs = pop!();
                    let Some(slot) = self.globals.get_mut(g as usize) else {
                        throw!(RtError::new("internal error: bad global"));
                    };
                    if matches!(slot, Value::Undefined) {
                        let name = self.names.name(g).to_string();
                        throw!(RtError::new(format!("'{name}' is not defined yet")));
                    }
                    tri!(ops::add_assign(slot, &rhs));
                    let v = slot.clone();
                    self.stack.push(v);
                }
                Op::Jump(t) => ip = t as usize,
                Op::Loop(t) => {
                    ip = t as usize;
                    budget -= 1;
                    if budget == 0 {
                        budget = POLL_EVERY;
                        tri!(self.check_limits());
                    }
                }
                Op::JumpIfFalse(t) => {
                    if !pop!().is_truthy() {
                        ip = t as usize;
                    }
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
                Op::Call(argc) => {
                    budget -= 1;
                    if budget == 0 {
                        budget = POLL_EVERY;
                        tri!(self.check_limits());
                    }
                    save_ip!();
                    match tri!(self.call(argc as usize)) {
                        Called::Frame => load_frame!(),
                        Called::Done => {}
                    }
                }
                Op::TailCall(argc) => {
                    budget -= 1;
                    if budget == 0 {
                        budget = POLL_EVERY;
                        tri!(self.check_limits());
                    }
                    let argc = argc as usize;
                    let callee_at = self.stack.len() - argc - 1;
                    let is_plain_closure = matches!(
                        &self.stack[callee_at],
                        Value::Function(c) if c.proto.kind != ProtoKind::Init
                    );
                    if is_plain_closure {
                        // Replace the current frame: move callee and arguments down to its base.
                        self.stack.drain(base..callee_at);
                        let Some(Value::Function(c)) = self.stack.get(base).cloned() else {
                            throw!(RtError::new("internal error: tail call"));
                        };
                        self.frames.pop();
                        if let Err(e) = self.push_frame(c, argc, base) {
                            // Report the error at the call site of the replaced frame.
                            return Err(self.locate(e));
                        }
                        load_frame!();
                    } else {
                        save_ip!();
                        match tri!(self.call(argc)) {
                            Called::Frame => load_frame!(),
                            Called::Done => {}
                        }
                    }
                }
                Op::Return => {
                    let mut result = pop!();
                    let Some(frame) = self.frames.pop() else {
                        return Ok(result);
                    };
                    if frame.closure.proto.kind == ProtoKind::Init {
                        result = match &self.stack[frame.base] {
                            Value::Cell(c) => c.value.borrow().clone(),
                            v => v.clone(),
                        };
                    }
                    self.stack.truncate(frame.base);
                    if self.frames.len() <= stop {
                        return Ok(result);
                    }
                    self.stack.push(result);
                    load_frame!();
                }
                Op::Closure(i) => {
                    let Some(p) = proto.protos.get(i as usize).cloned() else {
                        throw!(RtError::new("internal error: bad function index"));
                    };
                    let Some(frame) = self.frames.last() else {
                        throw!(RtError::new("no frame"));
                    };
                    let home = frame.closure.home.clone();
                    let v = self.make_closure(p, frame, home);
                    self.stack.push(v);
                }
                Op::MakeList(n) => {
                    let at = self.stack.len() - n as usize;
                    let items: Vec<Value> = self.stack.drain(at..).collect();
                    self.stack.push(Value::list(items));
                }
                Op::MakeMap(n) => {
                    let at = self.stack.len() - 2 * n as usize;
                    let mut map = IndexMap::with_capacity(n as usize);
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
                        throw!(e);
                    }
                    self.stack.push(Value::map(map));
                }
                Op::MakeRange => {
                    let b = pop!();
                    let a = pop!();
                    match (&a, &b) {
                        (Value::Int(x), Value::Int(y)) => self.stack.push(Value::range(*x, *y)),
                        _ => throw!(RtError::new(format!(
                            "a range needs two Ints, not {} and {}",
                            a.type_name(),
                            b.type_name()
                        ))),
                    }
                }
                Op::GetField(k) => {
                    let obj = pop!();
                    let name = const_name(&proto, k);
                    let v = tri!(self.get_field(&obj, name));
                    self.stack.push(v);
                }
                Op::SetField(k) => {
                    let v = pop!();
                    let obj = pop!();
                    let name = const_name(&proto, k);
                    tri!(self.set_field(&obj, name, v.clone()));
                    self.stack.push(v);
                }
                Op::Invoke(k, argc) => {
                    budget -= 1;
                    if budget == 0 {
                        budget = POLL_EVERY;
                        tri!(self.check_limits());
                    }
                    save_ip!();
                    let name = const_name(&proto, k);
                    match tri!(self.invoke(name, argc as usize)) {
                        Called::Frame => load_frame!(),
                        Called::Done => {}
                    }
                }
                Op::GetIndex => {
                    let idx = pop!();
                    let obj = pop!();
                    let v = tri!(crate::index::get_index(&obj, &idx));
                    self.stack.push(v);
                }
                Op::SetIndex => {
                    let v = pop!();
                    let idx = pop!();
                    let obj = pop!();
                    tri!(crate::index::set_index(&obj, &idx, v.clone()));
                    self.stack.push(v);
                }
                Op::GetSuper(k) => {
                    let this = pop!();
                    let name = const_name(&proto, k);
                    let m = tri!(self.super_method(name));
                    self.stack.push(Value::bound(this, m));
                }
                Op::InvokeSuper(k, argc) => {
                    save_ip!();
                    let name = const_name(&proto, k);
                    let m = tri!(self.super_method(name));
                    let callee_at = self.stack.len() - argc as usize - 1;
                    let this = self.stack[callee_at].clone();
                    self.stack[callee_at] = Value::bound(this, m);
                    match tri!(self.call(argc as usize)) {
                        Called::Frame => load_frame!(),
                        Called::Done => {}
                    }
                }
                Op::Class(i) => {
                    let frame_idx = self.frames.len() - 1;
                    let v = tri!(self.build_class(i as usize, frame_idx));
                    self.stack.push(v);
                }
                Op::Print => {
                    let v = pop!();
                    let text = display(&v);
                    if writeln!(self.out, "{text}").is_err() {
                        throw!(RtError::new("cannot write to standard output"));
                    }
                }
                Op::IterInit(s) => {
                    let v = pop!();
                    let run = tri!(iter_value(self, &v));
                    self.stack[base + s as usize] =
                        Value::Iter(Rc::new(std::cell::RefCell::new(run)));
                }
                Op::IterNext(s, exit) => {
                    let Value::Iter(it) = self.stack[base + s as usize].clone() else {
                        throw!(RtError::new("internal error: no iterator"));
                    };
                    save_ip!();
                    let next = match it.try_borrow_mut() {
                        Ok(mut run) => PipeRun::next(&mut run, self),
                        Err(_) => Err(RtError::new("iterator is already running")),
                    };
                    match tri!(next) {
                        Some(v) => self.stack.push(v),
                        None => {
                            self.stack[base + s as usize] = Value::Nil;
                            ip = exit as usize;
                        }
                    }
                }
                Op::InRange => {
                    let hi = pop!();
                    let lo = pop!();
                    let x = pop!();
                    let inside = match (ops::compare("..", &lo, &x), ops::compare("..", &x, &hi)) {
                        (Ok(Some(a)), Ok(Some(b))) => {
                            a != std::cmp::Ordering::Greater && b == std::cmp::Ordering::Less
                        }
                        _ => false,
                    };
                    self.stack.push(Value::Bool(inside));
                }
                Op::NoMatch => {
                    let v = pop!();
                    throw!(RtError::new(format!(
                        "no match arm for {}",
                        crate::print::repr(&v)
                    )));
                }
                Op::Test(k) => {
                    let f = pop!();
                    let name = const_name(&proto, k).to_string();
                    self.tests.push((name, f));
                }
            }
        }
    }

    fn store_global(&mut self, g: u32, v: Value) {
        let g = g as usize;
        if g >= self.globals.len() {
            self.globals.resize(g + 1, Value::Undefined);
        }
        self.globals[g] = v;
    }

    /// `super.name` from the running method: look in its home class's superclass.
    fn super_method(&self, name: &str) -> RtResult<Value> {
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
}

fn const_name(proto: &Proto, k: u32) -> &str {
    match proto.consts.get(k as usize) {
        Some(Value::Str(s)) => s.as_str(),
        _ => "?",
    }
}

use std::io::Write as _;
