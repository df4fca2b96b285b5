//! Table builtins (SPEC §7): `db_*` functions and the methods of `db.T`.

use crate::check::*;
use walia_runtime::api::{Pipeline, Stage, TableId};
use walia_runtime::{RtError, RtResult, Value, Vm};

const T: &[&str] = &["Table"];

pub fn install(vm: &mut Vm) {
    vm.set_global("db", Value::Db);
    global(vm, "db_insert", 2, 2, db_insert);
    global(vm, "db_find_sql", 2, 2, db_find);
    global(vm, "db_update", 2, 2, db_update);
    global(vm, "db_delete_sql", 2, 2, db_delete);
    global(vm, "db_tables", 0, 0, db_tables);
    global(vm, "db_drop", 1, 1, db_drop);
    global(vm, "db_import", 2, 3, crate::table_io::db_import);
    global(vm, "db_export", 2, 3, crate::table_io::db_export);
    method(vm, T, "insert", 2, 2, insert);
    method(vm, T, "get", 2, 2, get);
    method(vm, T, "delete", 2, 2, delete);
    method(vm, T, "count", 1, 1, count);
    method(vm, T, "length", 1, 1, count);
    method(vm, T, "columns", 1, 1, columns);
    method(vm, T, "clear", 1, 1, clear);
    method(vm, T, "drop", 1, 1, drop_method);
    method(vm, T, "find", 2, 2, find);
}

/// The table a method was called on.
fn receiver(a: &[Value]) -> RtResult<TableId> {
    match arg(a, 0) {
        Value::Table(t) => Ok(*t),
        other => Err(RtError::new(format!(
            "expected a table, got {}",
            other.type_name()
        ))),
    }
}

/// `db_insert(T, record)`, or as a stage `source |> db_insert(T)`: a stream that inserts
/// each element into `T` and passes it on.
fn db_insert(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let source = arg(a, 0);
    if matches!(
        source,
        Value::Stream(_) | Value::List(_) | Value::Range(_) | Value::File(_) | Value::Table(_)
    ) && matches!(arg(a, 1), Value::Str(_) | Value::Table(_))
    {
        return Pipeline::with_stage(source, Stage::DbInsert(arg(a, 1).clone()));
    }
    let t = vm.table_arg(source, true)?;
    vm.table_insert(t, arg(a, 1))
}

fn insert(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_insert(t, arg(a, 1))
}

fn db_find(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    vm.table_get(t, arg(a, 1))
}

fn get(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_get(t, arg(a, 1))
}

fn db_update(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    vm.table_update(t, arg(a, 1))
}

fn db_delete(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    Ok(Value::Bool(vm.table_delete(t, arg(a, 1))?))
}

fn delete(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Bool(vm.table_delete(t, arg(a, 1))?))
}

fn db_tables(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    let names = vm.table_names()?;
    Ok(Value::list(names.into_iter().map(Value::str).collect()))
}

/// `db_drop(T)` (a table or its name): the table and its pages go (at the next commit);
/// `false` when there is no such table, so a script can drop what it may have made.
fn db_drop(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = match arg(a, 0) {
        Value::Str(name) => match vm.find_table(name.as_str())? {
            Some(Value::Table(t)) => t,
            _ => return Ok(Value::Bool(false)),
        },
        other => vm.table_arg(other, false)?,
    };
    Ok(Value::Bool(vm.table_drop(t)?))
}

/// `db.T.drop()`: as `db_drop(T)`.
fn drop_method(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Bool(vm.table_drop(t)?))
}

fn count(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Int(vm.table_count(t)? as i64))
}

fn columns(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    let cols = vm.table_columns(t)?;
    Ok(Value::list(cols.iter().map(|c| Value::str(&**c)).collect()))
}

fn clear(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_clear(t)?;
    Ok(Value::Nil)
}

/// `db.T.find(pred)`: the rows for which `pred(row)` is truthy, in scan order.
fn find(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    receiver(a)?;
    let pred = expect_fn(a, 1, "find")?.clone();
    let mut run = walia_runtime::api::PipeRun::new(arg(a, 0), false)?;
    let mut out = Vec::new();
    while let Some(row) = run.next(vm)? {
        if vm
            .call_value(&pred, std::slice::from_ref(&row))?
            .is_truthy()
        {
            out.push(row);
        }
    }
    Ok(Value::list(out))
}
