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

/// `drop_global(name)`: the global leaves the heap (at the next commit, like any change),
/// with the cursor of the checkpointed pipe of that name; what only it reached becomes
/// free space in the heap. True when there was something to drop.
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

/// Commit everything so far; durable even if the run fails later.
fn checkpoint(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "checkpoint")?;
    vm.commit().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// `db_transaction_commit()`: a commit point like `checkpoint()`.
fn commit(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_commit")?;
    vm.commit().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// True when an earlier run committed state to this heap.
fn warm_boot(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    Ok(Value::Bool(vm.heap().is_some_and(|h| h.warm)))
}

/// Mark a point that `db_transaction_rollback()` returns to.
fn begin(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_begin")?;
    vm.savepoint().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}

/// Restore globals to the last `db_transaction_begin()` (or, without one, the last commit).
fn rollback(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    outside_checkpointed_pipe(vm, "db_transaction_rollback")?;
    vm.rollback_to_savepoint().map_err(heap_rt_error)?;
    Ok(Value::Nil)
}
