//! The native loop (SPEC §11): the hook a machine-code compiler plugs into.
//!
//! The runtime does not depend on a code generator. A compiler (the `walia-jit` crate,
//! Cranelift) registers itself with [`install`]; the executor then lowers each batchable
//! plan to a typed [`ir::NPlan`], asks the compiler for one function per plan (cached per
//! VM), and calls it a column page (or a chunk of a range) at a time from
//! `pipe/native.rs`. Whatever the function cannot decide exactly — an overflow, a division by
//! zero, a type error, a nil or deleted row it was not given — makes it return
//! [`BAIL`] without any effect, and the executor runs that page in the batch kernels,
//! which in turn hand it to the interpreter: the results and diagnostics are always the
//! interpreter's (DESIGN decision 6).

pub mod interval;
pub mod ir;

use std::sync::OnceLock;

/// The page or chunk is done; the accumulators, counters and outputs are written.
pub const OK: u32 = 0;
/// The function cannot decide this page: nothing was written.
pub const BAIL: u32 = 1;
/// A `take` or `take_while` ended the pipeline at `end_at`; everything before is written.
pub const CLOSED: u32 = 2;

/// The one argument of a compiled function: its inputs, and (written only when it
/// returns [`OK`] or [`CLOSED`]) its results. The layout is part of the ABI the code
/// generator uses: offsets are fixed by `#[repr(C)]` and read from [`NativeArgs::OFFSETS`].
#[repr(C)]
#[derive(Debug)]
pub struct NativeArgs {
    /// Per plan field: the first value of its column page (row slot 0), or null for a
    /// field that is only written. Read only: an update's values go to `stored`.
    pub cols: *const *const u64,
    /// The deletion bitmap of the page (bit set: deleted); null when no row in range is.
    pub dead: *const u8,
    /// Eight words, one bit per slot `first..end` ([`presence_masks`]): the code bails
    /// unless every field it reads is present in those slots (a column page's presence
    /// bitmap is the [`BITMAP_BEFORE_VALUES`] bytes before its first value). Null: no check
    /// (a range, or a driver that checked).
    pub present: *const u64,
    /// Rows `first..end` of the page (slots), or indices `first..end` of a range chunk.
    pub first: u64,
    pub end: u64,
    /// A range's number at index 0.
    pub start: i64,
    /// Not 0: run the range chunk's proved copy, whose proved Int operations skip their
    /// overflow checks (the driver showed none can overflow: [`interval`]).
    pub proved: u64,
    /// The run's constants, by slot ([`ir::NExpr::Const`]).
    pub consts: *const u64,
    /// Each plan stage's take/skip count.
    pub counts: *mut i64,
    /// Output: element bits ([`ir::Sink::Values`]) or row slots ([`ir::Sink::Rows`]), in
    /// order.
    pub out: *mut u64,
    /// An update: the value to store at each written row's slot ...
    pub stored: *mut u64,
    /// ... and 1 at the slot of each row written.
    pub written: *mut u8,
    /// Accumulators: an Int sum, a Float sum, and how many elements came out.
    pub acc_int: i64,
    pub acc_float: f64,
    pub count: u64,
    /// Results: outputs written, and where a closed pipeline stopped (the first slot or
    /// index not read).
    pub emitted: u64,
    pub end_at: u64,
    /// Set by a host function that could not compute its result.
    pub failed: u32,
}

/// Byte offsets of [`NativeArgs`]'s fields, for the code generator.
#[derive(Clone, Copy, Debug)]
pub struct ArgOffsets {
    pub cols: i32,
    pub dead: i32,
    pub present: i32,
    pub first: i32,
    pub end: i32,
    pub start: i32,
    pub proved: i32,
    pub consts: i32,
    pub counts: i32,
    pub out: i32,
    pub stored: i32,
    pub written: i32,
    pub acc_int: i32,
    pub acc_float: i32,
    pub count: i32,
    pub emitted: i32,
    pub end_at: i32,
    pub failed: i32,
}

impl NativeArgs {
    /// Arguments with every pointer null and every count 0, to fill in.
    pub fn empty() -> NativeArgs {
        NativeArgs {
            cols: std::ptr::null(),
            dead: std::ptr::null(),
            present: std::ptr::null(),
            first: 0,
            end: 0,
            start: 0,
            proved: 0,
            consts: std::ptr::null(),
            counts: std::ptr::null_mut(),
            out: std::ptr::null_mut(),
            stored: std::ptr::null_mut(),
            written: std::ptr::null_mut(),
            acc_int: 0,
            acc_float: 0.0,
            count: 0,
            emitted: 0,
            end_at: 0,
            failed: 0,
        }
    }

    pub const OFFSETS: ArgOffsets = ArgOffsets {
        cols: std::mem::offset_of!(NativeArgs, cols) as i32,
        dead: std::mem::offset_of!(NativeArgs, dead) as i32,
        present: std::mem::offset_of!(NativeArgs, present) as i32,
        first: std::mem::offset_of!(NativeArgs, first) as i32,
        end: std::mem::offset_of!(NativeArgs, end) as i32,
        start: std::mem::offset_of!(NativeArgs, start) as i32,
        proved: std::mem::offset_of!(NativeArgs, proved) as i32,
        consts: std::mem::offset_of!(NativeArgs, consts) as i32,
        counts: std::mem::offset_of!(NativeArgs, counts) as i32,
        out: std::mem::offset_of!(NativeArgs, out) as i32,
        stored: std::mem::offset_of!(NativeArgs, stored) as i32,
        written: std::mem::offset_of!(NativeArgs, written) as i32,
        acc_int: std::mem::offset_of!(NativeArgs, acc_int) as i32,
        acc_float: std::mem::offset_of!(NativeArgs, acc_float) as i32,
        count: std::mem::offset_of!(NativeArgs, count) as i32,
        emitted: std::mem::offset_of!(NativeArgs, emitted) as i32,
        end_at: std::mem::offset_of!(NativeArgs, end_at) as i32,
        failed: std::mem::offset_of!(NativeArgs, failed) as i32,
    };
}

/// How far a column page's presence bitmap (64 bytes) lies before its first value.
pub const BITMAP_BEFORE_VALUES: i32 = 64;
const _: () = assert!(
    walia_store::column_page::VALUES_AT - walia_store::column_page::BITMAP_AT
        == BITMAP_BEFORE_VALUES as usize
);

/// The masks of slots `first..end` in the eight words of a presence bitmap.
pub fn presence_masks(first: usize, end: usize) -> [u64; 8] {
    let mut masks = [0u64; 8];
    for (w, m) in masks.iter_mut().enumerate() {
        let lo = first.clamp(64 * w, 64 * w + 64) - 64 * w;
        let hi = end.clamp(64 * w, 64 * w + 64) - 64 * w;
        if hi > lo {
            let ones = if hi - lo == 64 {
                u64::MAX
            } else {
                (1u64 << (hi - lo)) - 1
            };
            *m = ones << lo;
        }
    }
    masks
}

/// A compiled pipeline function.
pub type PipeFn = unsafe extern "C" fn(*mut NativeArgs) -> u32;

/// Machine code for one plan; dropping it frees the code.
pub trait NativeCode {
    /// The function. Calling it is sound when every pointer in the arguments is valid for
    /// the rows `first..end` as [`NativeArgs`] describes (the driver guarantees it).
    fn entry(&self) -> PipeFn;
}

/// A code generator for plans.
pub trait NativeCompiler: Sync {
    /// Compile `plan`, or say why not.
    fn compile(&self, plan: &ir::NPlan) -> Result<Box<dyn NativeCode>, String>;
    /// Its name in `--explain` (e.g. "Cranelift").
    fn name(&self) -> &'static str;
}

static COMPILER: OnceLock<&'static dyn NativeCompiler> = OnceLock::new();

/// Register the process's native compiler (the first call wins).
pub fn install(compiler: &'static dyn NativeCompiler) {
    let _ = COMPILER.set(compiler);
}

/// The registered compiler, if any.
pub fn compiler() -> Option<&'static dyn NativeCompiler> {
    COMPILER.get().copied()
}

#[cfg(test)]
mod tests {
    use super::presence_masks;

    #[test]
    fn presence_masks_cover_exactly_the_slots_given() {
        for (first, end) in [
            (0, 500),
            (0, 0),
            (3, 4),
            (63, 65),
            (64, 128),
            (1, 499),
            (499, 500),
        ] {
            let masks = presence_masks(first, end);
            for slot in 0..512 {
                let set = masks[slot / 64] >> (slot % 64) & 1 == 1;
                assert_eq!(
                    set,
                    (first..end).contains(&slot),
                    "{first}..{end}: slot {slot}"
                );
            }
        }
    }
}
