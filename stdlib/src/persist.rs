//! @group Persistence
//! Persistence builtins (SPEC §6): commit points, explicit transactions, warm boot, and
//! dropping a global from the heap.

use crate::check::*;
use walia_runtime::api::heap_rt_error;
use walia_runtime::{RtError, RtResult, Value, Vm};

pub fn install(vm: &mut Vm) {
    global(vm, "checkpoint", 0, 0, checkpoint);
    global(vm, "walia_is_warm_boot", 0, 0, warm_boot);
    global(vm, "db_transaction_begin", 0, 0, begin);
    global(vm, "db_transaction_commit", 0, 0, commit);
    global(vm, "db_transaction_rollback", 0, 0, rollback);
    global(vm, "drop_global", 1, 1, drop_global);
}

/// @builtin drop_global(name) -> Bool
///
/// Removes the global `name` from the heap (at the next commit, like any change), with the
/// cursor of the checkpointed pipe of that name; what only it reached becomes free space in
/// the heap. Returns `true` when there was something to drop, `false` otherwise. The name
/// can be declared again later.
///
/// Errors: `name` is not a String; the heap is read-only.
///
/// ```walia
/// var scratch = [1, 2, 3];
/// print drop_global("scratch");   // -> true
/// print drop_global("scratch");   // -> false
/// ```
fn drop_global(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let name = expect_str(a, 0, "drop_global")?.as_str().to_string();
    Ok(Value::Bool(vm.drop_global(&name)?))
}

/// A commit point inside a stage of a checkpointed pipe would make part of an element
/// durable without moving the cursor: a resume would apply it twice.
fn outside_checkpointed_pipe(vm: &Vm, fname: &str) -> RtResult<()> {
    if vm.checkpointed_running() {
        return Err(RtError::new(format!(
            "'{fname}' cannot be called inside a stage of a checkpointed pipe: the pipe \
             commits at its own checkpoints"
        )));
    }
    Ok(())
}

/// @builtin checkpoint() -> nil
///
/// Commits everything the run has changed so far (globals, tables, cursors): it is durable
/// even if the run fails later, which then rolls back only to here. Without a heap file
/// (`--memory`) it commits to the in-memory heap. Checkpointed pipes commit at their own
/// intervals instead (`checkpoint_at`).
///
/// Errors: called inside a stage of a checkpointed pipe (a commit there would make part of
/// an element durable without moving the pipe's cursor); the heap cannot be written.
///
/// ```walia
/// var processed = 0;
/// for (batch in 0..3) {
///   processed = processed + 100;
///   checkpoint();
/// }
/// print processed;   // -> 300
/// ```
fn checkpoint(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "checkpoint")?;
    vm.commit().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// @builtin db_transaction_commit() -> nil
///
/// A commit point, like `checkpoint()`: everything changed so far becomes durable, and a
/// later `db_transaction_rollback()` returns to here.
///
/// Errors: called inside a stage of a checkpointed pipe; the heap cannot be written.
///
/// ```walia
/// var balance = 100;
/// db_transaction_begin();
/// balance = balance - 30;
/// db_transaction_commit();
/// print balance;   // -> 70
/// ```
fn commit(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_commit")?;
    vm.commit().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// @builtin walia_is_warm_boot() -> Bool
///
/// `true` when the run found an existing heap with state in it (an earlier run committed to
/// it), `false` on a fresh heap, with `--memory`, or without a heap.
///
/// ```walia
/// print walia_is_warm_boot();   // -> false
/// ```
fn warm_boot(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(vm.heap().is_some_and(|h| h.warm)))
}

/// @builtin db_transaction_begin() -> nil
///
/// Marks a point that `db_transaction_rollback()` returns to: the changes made after it
/// (globals and tables) can be undone without failing the run. Transactions do not nest: a
/// second `begin` moves the mark.
///
/// Errors: called inside a stage of a checkpointed pipe; the heap cannot be used.
///
/// ```walia
/// var stock = 10;
/// db_transaction_begin();
/// stock = stock - 99;
/// if (stock < 0) db_transaction_rollback();
/// print stock;   // -> 10
/// ```
fn begin(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_begin")?;
    vm.savepoint().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// @builtin db_transaction_rollback() -> nil
///
/// Undoes the changes made since the last `db_transaction_begin()` (or, without one, since
/// the last commit): globals and tables go back to what they held there, and the run goes
/// on. A global first declared after that point is undefined again.
///
/// Errors: called inside a stage of a checkpointed pipe; the heap cannot be used.
///
/// ```walia
/// var name = "Ann";
/// db_transaction_begin();
/// name = "Bob";
/// db_transaction_rollback();
/// print name;   // -> Ann
/// ```
fn rollback(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_rollback")?;
    vm.rollback_to_savepoint().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}
