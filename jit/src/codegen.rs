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
//!
//! Here: the module, the compile step and the function's frame; `loops.rs` builds the
//! body (the row loops, stages and sink), `expr.rs` lowers expressions.

use crate::shims;
use cranelift_codegen::Context;
use cranelift_codegen::ir::{AbiParam, FuncRef, MemFlagsData, Type, UserFuncName, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{DataDescription, FuncId, Linkage, Module, default_libcall_names};
use std::collections::HashMap;
use walia_runtime::api::native::ir::{NPlan, Ty};
use walia_runtime::api::native::{NativeCode, NativeCompiler, PipeFn};

mod expr;
mod loops;

use expr::wide_constants;
use loops::Gen;

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
    // Frees the module's memory on every way out but success (an error, a panic).
    let mut owned = Owned(Some(host_module()?));
    let Some(module) = owned.0.as_mut() else {
        return Err("no module".into());
    };
    let (mut ctx, id) = build(module, plan)?;
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

/// The code generator's settings (the same for every target).
fn flags() -> Result<settings::Flags, String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    Ok(settings::Flags::new(flags))
}

/// A module for this machine, with the host functions plans call.
fn host_module() -> Result<JITModule, String> {
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(flags()?)
        .map_err(err)?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for s in shims::ALL {
        let (name, _, addr) = shims::shim(s);
        jb.symbol(name, addr);
    }
    jb.symbol(shims::FLOORED_MOD, shims::floored_mod as *const u8);
    Ok(JITModule::new(jb))
}

/// Declare the plan's function in `module` and build its body (not yet compiled).
fn build(module: &mut JITModule, plan: &NPlan) -> Result<(Context, FuncId), String> {
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
    Ok((ctx, id))
}

/// Lower `plan` for 64-bit ARM Linux, without running it (this machine may not be one):
/// the size of the machine code, or why it could not be made. Checks that every plan the
/// runtime hands over has an aarch64 lowering (`--features aarch64-check`).
#[cfg(feature = "aarch64-check")]
pub fn lower_for_aarch64(plan: &NPlan) -> Result<usize, String> {
    use cranelift_codegen::control::ControlPlane;
    let isa = cranelift_codegen::isa::lookup_by_name("aarch64-unknown-linux-gnu")
        .map_err(err)?
        .finish(flags()?)
        .map_err(err)?;
    let mut owned = Owned(Some(host_module()?));
    let Some(module) = owned.0.as_mut() else {
        return Err("no module".into());
    };
    let (mut ctx, _) = build(module, plan)?;
    let code = ctx
        .compile(&*isa, &mut ControlPlane::default())
        .map_err(|e| format!("Cranelift (aarch64): {:?}", e.inner))?;
    Ok(code.code_buffer().len())
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
