//! Bytecode: the instruction set and compiled function prototypes.

use crate::value::{MapKey, Value};
use std::rc::Rc;
use std::sync::Arc;
use walia_lang::ast::{Capture, Span};

pub use crate::error::SourceFile;

/// One instruction. The VM is a stack machine; operands are slots, constant indices or
/// absolute jump targets. Twelve bytes each; the fused `*LL`/`*LK` forms do the work of
/// three or four plain instructions on locals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Const(u32),
    SmallInt(i32),
    Nil,
    True,
    False,
    Pop,
    /// Entering (`true`) or leaving a `fused { ... }` expression: every pipeline a
    /// terminal runs inside must be in the native subset (SPEC §8, §11).
    Fused(bool),
    Dup,
    GetLocal(u16),
    SetLocal(u16),
    /// Pop into a slot (a declaration).
    DefineLocal(u16),
    /// Pop into a fresh cell stored in the slot (a captured variable's declaration).
    DefineCell(u16),
    GetCell(u16),
    SetCell(u16),
    GetUpval(u16),
    SetUpval(u16),
    GetGlobal(u32),
    SetGlobal(u32),
    DefineGlobal(u32),
    /// Make a global that was never set read as nil (`var x;` and `var x = x or 0`).
    DeclareGlobal(u32),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// Any other binary operator (`~/`, `&`, `|`, `^`, `<<`, `>>`), by the general rules.
    Bin(BinKind),
    Neg,
    Not,
    /// `~x`.
    BitNot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Jump(u32),
    /// A backward jump: also where limits are polled.
    Loop(u32),
    JumpIfFalse(u32),
    /// Pop the top and jump if it is truthy: a condition under `!` (`if (!seen[i])`).
    JumpIfTrue(u32),
    /// Jump if the top is falsy (keep it), else pop it: `and`.
    JumpIfFalseKeep(u32),
    /// Jump if the top is truthy (keep it), else pop it: `or`.
    JumpIfTrueKeep(u32),
    /// Call the value below the arguments. When the next instruction is `Return`, the
    /// callee's frame replaces the caller's (a tail call); so do `Invoke` and `InvokeSuper`.
    Call(u16),
    /// Call the function in a global slot with the `argc` values on top of the stack. The
    /// compiler put a `Nil` under them for the callee's slot 0 (no clone of the callee:
    /// the common `f(x)` of a top-level `fun`).
    CallGlobal(u32, u16),
    /// The `Nil` under the one argument of a `CallGlobal(g, 1)` computed by the `BinLK`
    /// right after it (`fib(n - 1)`): with an Int operand it pushes the callee's slot 0
    /// and the argument and makes the call itself, skipping the `BinLK` and the
    /// `CallGlobal`; otherwise it is a plain `Nil`.
    BinLKCallGlobal(BinKind, u16, i32, u32),
    /// `GetLocal(s)` followed by `Call(0)`: when the local holds a function it calls it
    /// without copying it to the stack, skipping the `Call`; otherwise a plain `GetLocal`.
    CallLocal0(u16),
    Return,
    /// `return local;` (never in an `init`): `GetLocal(slot)` then `Return`.
    ReturnLocal(u16),
    Closure(u32),
    MakeList(u32),
    MakeMap(u32),
    /// Pop the values of a map literal whose keys are the distinct constants `shapes[i]`.
    MakeShapedMap(u32),
    MakeRange,
    /// `obj.name`: the name constant and the site's field cache (`Proto::sites`).
    GetField(u32, u16),
    /// `local.name` (the commonest field read, `u => u.age > 18`) without pushing the object.
    GetLocalField(u16, u32, u16),
    SetField(u32, u16),
    /// `local.name = v` with `v` on top: slot, name, the site's cache, and whether the
    /// value stays on the stack (false for a statement: the `Pop` merged in).
    SetLocalField(u16, u32, u16, bool),
    /// `obj.name(args)` without creating a bound method: name, argc, the site's method cache.
    Invoke(u32, u16, u16),
    GetIndex,
    /// `o[i] = v` with the three on top of the stack; whether the value stays (false for a
    /// statement: the `Pop` merged in).
    SetIndex(bool),
    /// `local[e]`: the index on top of the stack, the indexed value in a local.
    GetIndexL(u16),
    /// `e[local]`: the indexed value on top of the stack (replaced by the element), the
    /// index in a local.
    GetIndexTL(u16),
    /// `local[local]`.
    GetIndexLL(u16, u16),
    /// `local[i] = v`: the index and the value on top of the stack; leaves the value.
    SetIndexL(u16),
    /// `local[i] = v;` as a statement: like `SetIndexL` without pushing the value.
    StoreIndexL(u16),
    /// `o[i] = v` on plain locals `o` and `i`, with the value on top: leaves the value.
    SetIndexLL(u16, u16),
    /// `o[i] = v;` as a statement: like `SetIndexLL` without pushing the value.
    StoreIndexLL(u16, u16),
    /// `o[i] = v;` with all three plain locals (object, index, value), as a statement.
    StoreIndexLLL(u16, u16, u16),
    /// `super.name`: the receiver is on the stack.
    GetSuper(u32),
    InvokeSuper(u32, u16),
    /// Build a class from `classes[i]`; the superclass (if any) is on the stack.
    Class(u32),
    Print,
    /// Pop an iterable and start a loop over it in slots s and s + 1: a range or a list
    /// is counted there; anything else gets an iterator.
    IterInit(u16),
    /// `for (x in a..b)`: pop the two ends (Ints) and count in slots s and s + 1, with no
    /// range or iterator object.
    IterInitRange(u16),
    /// Push the next element of the loop in slots s and s + 1, or jump when it is done.
    IterNext(u16, u32),
    /// The back edge of a `for` loop whose variable is the plain local d: step the loop
    /// in slots s and s + 1, store the element in d and jump to the body at t; fall
    /// through when it is done. A loop that is not counted goes back to its `IterNext`
    /// (at t - 2), which steps iterators. One dispatch per iteration instead of three.
    ForNext(u16, u16, u32),
    /// Pop hi, lo, subject; push whether lo <= subject < hi (false for non-numbers).
    InRange,
    /// Raise "no match arm for X" with the value on top.
    NoMatch,
    /// `slot += top`, leaving the result on the stack. A string in the slot that nothing
    /// else references is appended to in place (amortized O(1) `s += x`).
    AddAssignLocal(u16),
    /// `slot += top;` as a statement: like `AddAssignLocal` without pushing the result.
    AddToLocal(u16),
    AddAssignGlobal(u32),
    /// `x = x + e` on a local: pop e's value and x's value read before it, store the sum
    /// (in place when x holds the only reference to a string or list; see `vm/concat.rs`)
    /// and, when the flag is set, push it (as an expression; a statement does not).
    AddSetLocal(u16, bool),
    /// `x = x + e` on a global, like `AddSetLocal`.
    AddSetGlobal(u32, bool),
    Dup2,
    /// `a op b` on two local slots (neither a cell): one dispatch instead of three.
    BinLL(BinKind, u16, u16),
    /// `a op k` on a local slot and a small Int constant.
    BinLK(BinKind, u16, i32),
    /// `if (a op b)`: jump when the comparison of two locals is false.
    JumpUnlessLL(BinKind, u16, u16, u32),
    /// `if (a op k)`: jump when the comparison of a local and a small Int is false.
    JumpUnlessLK(BinKind, u16, i32, u32),
    /// `e op k`: the value on top of the stack and a small Int constant (`u.score * 2`).
    BinTK(BinKind, i32),
    /// `if (e op k)`: pop the top value and jump when its comparison with a small Int is
    /// false (`if (u.age > 18)`).
    JumpUnlessTK(BinKind, i32, u32),
    /// `dst = a op b;` on locals, as a statement.
    SetBinLL(BinKind, u16, u16, u16),
    /// `dst = a op k;` on locals and a small Int, as a statement (also `dst += k;`).
    SetBinLK(BinKind, u16, u16, i32),
    /// `a op k` on a local and the numeric constant `consts[k]` (a Float, or an Int too
    /// large for the `LK` forms).
    BinLN(BinKind, u16, u32),
    /// `k op a`: a numeric constant and a local (`2.0 * x`, `1 - p`).
    BinNL(BinKind, u32, u16),
    /// `e op k`: the value on top of the stack and a numeric constant.
    BinTN(BinKind, u32),
    /// `k op e`: a numeric constant and the value on top of the stack (`1.0 / (i + j)`).
    BinNT(BinKind, u32),
    /// `e op a`: the value on top of the stack and a local (`x * x + c`).
    BinTL(BinKind, u16),
    /// `a op e`: a local and the value on top of the stack (`dx * b.mass`), when `e`
    /// cannot assign the local, so reading it after `e` is the same.
    BinLT(BinKind, u16),
    /// `if (a op k)` with a local and a numeric constant.
    JumpUnlessLN(BinKind, u16, u32, u32),
    /// The back edge of `while (a op b)` on plain locals: the condition tested again at
    /// the bottom, jumping to the body's start when it holds (the top test is only for
    /// entering the loop and for `continue`). Polls the limits like `Loop`.
    LoopIfLL(BinKind, u16, u16, u32),
    /// `LoopIfLL` against a small Int.
    LoopIfLK(BinKind, u16, i32, u32),
    /// `LoopIfLL` against the numeric constant `consts[k]`.
    LoopIfLN(BinKind, u16, u32, u32),
    /// `if (e op k)` with the value on top and a numeric constant.
    JumpUnlessTN(BinKind, u32, u32),
    /// `if (a op b)` for any operands: pops both, jumps to the target unless `a op b` holds.
    JumpUnlessTT(BinKind, u32),
    /// `if (e op a)` with `e` on top of the stack (popped) and `a` a plain local
    /// (`while (d * d <= n)`, `if (node.id == id)`).
    JumpUnlessTL(BinKind, u16, u32),
    /// `if (e == nil)` (true) or `if (e != nil)` (false): pops `e`, jumps unless it holds.
    JumpUnlessNil(bool, u32),
    /// `top op global` on two numbers: the result replaces the top and the `GetGlobal`
    /// and operator instructions that follow are skipped. Anything else (not numbers, an
    /// undefined global) runs them, so their errors and locations are theirs.
    BinTG(BinKind, u32),
    /// `if (top op global)` on two numbers: pops the top and skips the `GetGlobal` and
    /// `JumpUnlessTT` that follow, or takes that jump. Anything else runs them.
    JumpUnlessTG(BinKind, u32),
    /// `if (o.f == nil)` / `!= nil` with `o` a plain local (slot, field site): the field
    /// is tested where it is when the site's cache knows it, and the `JumpUnlessNil` after
    /// the `GetLocalField` that follows is taken or skipped. Anything else runs those two.
    JumpUnlessFieldNil(u16, u16),
    /// `JumpUnlessNil` of a plain local, tested in its slot.
    JumpUnlessNilL(u16, bool, u32),
    /// `dst = a op k;` on locals and a numeric constant, as a statement.
    SetBinLN(BinKind, u16, u16, u32),
    /// `dst = k op a;` with a numeric constant and a local.
    SetBinNL(BinKind, u16, u32, u16),
    /// `dst = e op a;`: pops `e`, the value on top of the stack.
    SetBinTL(BinKind, u16, u16),
    /// `dst = e op k;` with a numeric constant: pops `e`.
    SetBinTN(BinKind, u16, u32),
    /// `dst = a op b;` on the two values on top of the stack: pops both.
    SetBinTT(BinKind, u16),
    /// `dst = k;` with the constant `consts[k]`.
    LoadConst(u16, u32),
    /// `dst = src;` from one plain local to another.
    CopyLocal(u16, u16),
    /// `dst = o[i];` on plain locals.
    LoadIndexLL(u16, u16, u16),
    /// Store the current stack height in a slot (a loop's entry).
    MarkStack(u16),
    /// Cut the stack back to the height stored in a slot (`break`/`continue`).
    CutStack(u16),
    /// Pop a test closure and register it under the name `consts[i]`.
    Test(u32),
    /// Destructuring: pop a value that must be a List of exactly n elements and push a copy
    /// of it (the targets are assigned from the copy, so `[xs[1], xs[0]] = xs` swaps).
    Unpack(u32),
    /// Push element i of the List `depth` values below the top (pushed by `Unpack`).
    Pick(u16, u32),
    /// `IterInit` for `for (a, b in x)`. A Map's entries are read at once (its keys and
    /// values, flat, stepped two at a time); anything else iterates as it is.
    IterInitPairs(u16),
    /// `IterNext` for `for (a, b in x)`: a Map's next key and value pushed (and the
    /// `SplitPair` after it skipped), else the next element, for `SplitPair`.
    IterNextPair(u16, u32),
    /// Pop a List of exactly two and push its elements (the errors of `Unpack(2)`).
    SplitPair,
    /// Right before calling the global `g` as `assert(cond)`: when `g` holds the builtin
    /// `assert`, hand it the condition's source text `consts[k]` for its failure message.
    AssertSource(u32, u32),
}

/// The operator of a fused `BinLL`/`BinLK` instruction: the AST's operator.
pub use walia_lang::ast::BinOp as BinKind;

/// What kind of code a prototype is (the AST's function kinds).
pub use walia_lang::ast::FunKind as ProtoKind;

/// A compiled function.
#[derive(Clone, Debug)]
pub struct Proto {
    /// Declared name; `None` for lambdas, anonymous functions and scripts.
    pub name: Option<Rc<str>>,
    pub kind: ProtoKind,
    pub arity: u16,
    pub num_slots: u32,
    /// Slot → holds a cell.
    pub cell_slots: Vec<bool>,
    /// Some parameter (or `this`) is captured: calls must wrap it in a cell.
    pub has_cell_params: bool,
    pub captures: Vec<Capture>,
    /// Names of the captured variables, in upvalue order.
    pub capture_names: Vec<Rc<str>>,
    pub code: Vec<Op>,
    /// The source span of each instruction, for error messages.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    /// The key lists of map literals with constant keys (see `Op::MakeShapedMap`).
    pub shapes: Vec<Rc<[MapKey]>>,
    pub protos: Vec<Rc<Proto>>,
    pub classes: Vec<ClassDesc>,
    pub source: Arc<SourceFile>,
    /// The declaration's span in `source` (its text is the function's source).
    pub span: Span,
    pub doc: Option<String>,
    /// The body as a stage kernel (lambdas), or why it is not one.
    pub kernel: crate::kernel::Kernel,
    /// The inline caches of the field and method sites.
    pub sites: crate::shape::SiteCaches,
}

impl Proto {
    /// What a call stack shows for this function.
    pub fn display_name(&self) -> String {
        match (&self.name, self.kind) {
            (_, ProtoKind::Script) => "script".to_string(),
            (_, ProtoKind::Test) => "test".to_string(),
            (Some(n), _) => n.to_string(),
            (None, _) => "<fun>".to_string(),
        }
    }
}

/// What the `Class` instruction needs to build a class.
#[derive(Clone, Debug)]
pub struct ClassDesc {
    pub name: Rc<str>,
    pub has_super: bool,
    /// This class's own declared fields, in order.
    pub fields: Vec<Rc<str>>,
    /// Index into `protos` of the hidden defaults method, if any field has a default.
    pub defaults: Option<u32>,
    /// (name, index into `protos`).
    pub methods: Vec<(Rc<str>, u32)>,
    pub sql: bool,
    pub doc: Option<String>,
    /// The whole declaration.
    pub span: Span,
    /// Declared at the top level (a global): classes are identified by name only then.
    pub global: bool,
}
