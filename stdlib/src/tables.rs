//! @group Tables
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

/// @builtin db_insert(T, record) -> Row | Stream
///
/// Inserts `record` (a Map, or an instance whose fields are set) into the table `T` (the
/// table or its name) and returns the new row. A table that does not exist is created, its
/// columns and their types taken from the record; a new field adds a column (`nil` in the
/// older rows). A field named `id` is the primary key (unique). As a pipeline stage,
/// `source |> db_insert(T)` inserts each element and passes it on (a stream: finish it with
/// `run()`, `count()`...).
///
/// Errors: a column's type does not match (the message names the table, the column, the
/// expected and the actual type); a duplicate `id` (`constraint violation: User.id = 2
/// already exists`); `record` is not a Map or instance; the heap is read-only.
///
/// ```walia
/// print db_insert("User", {id: 1, name: "Ann", age: 31});   // -> User {id: 1, name: "Ann", age: 31}
/// print [2, 3] |> map(n => {id: n, name: "u" + str(n), age: 20 + n}) |> db_insert("User") |> count();   // -> 2
/// ```
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

/// @builtin db.T.insert(record) -> Row
///
/// `db_insert(T, record)` as a method of the table: inserts the Map or instance `record`
/// and returns the new row.
///
/// Errors: as `db_insert`.
///
/// ```walia
/// db_insert("Item", {id: 1, label: "pen"});
/// print db.Item.insert({id: 2, label: "ink"}).label;   // -> ink
/// ```
fn insert(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_insert(t, arg(a, 1))
}

/// @builtin db_find_sql(T, id) -> Row | nil
///
/// The row of table `T` (the table or its name) whose primary key `id` is `id`, or `nil`
/// when there is none; found through the key's index (O(log n)). The row is live: reading
/// a field reads the heap, assigning one writes the table.
///
/// Errors: `T` names no table; the table has no `id` column.
///
/// ```walia
/// db_insert("User", {id: 7, name: "Ann"});
/// print db_find_sql("User", 7).name;   // -> Ann
/// print db_find_sql("User", 8);        // -> nil
/// ```
fn db_find(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    vm.table_get(t, arg(a, 1))
}

/// @builtin db.T.get(id) -> Row | nil
///
/// `db_find_sql(T, id)` as a method: the row whose `id` is `id`, or `nil`.
///
/// Errors: as `db_find_sql`.
///
/// ```walia
/// db_insert("City", {id: 1, name: "Oslo"});
/// print db.City.get(1).name;   // -> Oslo
/// ```
fn get(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_get(t, arg(a, 1))
}

/// @builtin db_update(T, record) -> Row
///
/// Replaces the row of table `T` whose `id` is `record.id` with `record` (a Map or
/// instance) and returns it. The whole row is replaced: a column `record` lacks becomes
/// `nil` (to change one field, assign it on the row: `row.age = 32`). A new field adds a
/// column.
///
/// Errors: `record` has no `id`, or no row has that `id`; a type mismatch, as in
/// `db_insert`.
///
/// ```walia
/// db_insert("User", {id: 1, name: "Ann", age: 31});
/// print db_update("User", {id: 1, name: "Ann", age: 32}).age;   // -> 32
/// ```
fn db_update(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    vm.table_update(t, arg(a, 1))
}

/// @builtin db_delete_sql(T, id) -> Bool
///
/// Deletes the row of table `T` whose `id` is `id`: `true` when there was one, `false`
/// otherwise.
///
/// Errors: `T` names no table; the table has no `id` column; the heap is read-only.
///
/// ```walia
/// db_insert("User", {id: 1, name: "Ann"});
/// print db_delete_sql("User", 1);   // -> true
/// print db_delete_sql("User", 1);   // -> false
/// ```
fn db_delete(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = vm.table_arg(arg(a, 0), false)?;
    Ok(Value::Bool(vm.table_delete(t, arg(a, 1))?))
}

/// @builtin db.T.delete(id) -> Bool
///
/// `db_delete_sql(T, id)` as a method: deletes the row whose `id` is `id`; `true` when there
/// was one.
///
/// Errors: as `db_delete_sql`.
///
/// ```walia
/// db_insert("Tag", {id: 1, name: "x"});
/// print db.Tag.delete(1);   // -> true
/// ```
fn delete(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Bool(vm.table_delete(t, arg(a, 1))?))
}

/// @builtin db_tables() -> List
///
/// The names of the heap's tables, as Strings, in the order they were created.
///
/// ```walia
/// db_insert("B", {id: 1});
/// db_insert("A", {id: 1});
/// print db_tables();   // -> ["B", "A"]
/// ```
fn db_tables(vm: &mut Vm, _: &[Value]) -> RtResult<Value> {
    let names = vm.table_names()?;
    Ok(Value::list(names.into_iter().map(Value::str).collect()))
}

/// @builtin db_drop(T) -> Bool
///
/// Drops the table `T` (the table or its name): its rows and pages go (at the next commit).
/// `false` when there is no such table, so a script can drop what it may have made.
///
/// Errors: `T` is neither a table nor a String; the heap is read-only.
///
/// ```walia
/// db_insert("Tmp", {id: 1});
/// print db_drop("Tmp");   // -> true
/// print db_drop("Tmp");   // -> false
/// ```
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

/// @builtin db.T.drop() -> Bool
///
/// `db_drop(T)` as a method: drops the table; `true` when it existed.
///
/// Errors: as `db_drop`.
///
/// ```walia
/// db_insert("Old", {id: 1});
/// print db.Old.drop();   // -> true
/// ```
fn drop_method(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Bool(vm.table_drop(t)?))
}

/// @builtin db.T.count() -> Int
/// @builtin db.T.length() -> Int
///
/// The number of rows in the table (without reading them). `len(db.T)` is the same.
///
/// ```walia
/// db_insert("Row3", {id: 1});
/// db_insert("Row3", {id: 2});
/// print [db.Row3.count(), db.Row3.length()];   // -> [2, 2]
/// ```
fn count(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    Ok(Value::Int(vm.table_count(t)? as i64))
}

/// @builtin db.T.columns() -> List
///
/// The table's column names, as Strings, in their order (the primary key `id` first when the
/// first record had it first).
///
/// ```walia
/// db_insert("Pet", {id: 1, name: "Rex", kind: "dog"});
/// print db.Pet.columns();   // -> ["id", "name", "kind"]
/// ```
fn columns(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    let cols = vm.table_columns(t)?;
    Ok(Value::list(cols.iter().map(|c| Value::str(&**c)).collect()))
}

/// @builtin db.T.clear() -> nil
///
/// Deletes every row of the table; the table and its columns stay.
///
/// Errors: the heap is read-only.
///
/// ```walia
/// db_insert("Queue", {id: 1});
/// db.Queue.clear();
/// print db.Queue.count();   // -> 0
/// ```
fn clear(vm: &mut Vm, a: &[Value]) -> RtResult<Value> {
    let t = receiver(a)?;
    vm.table_clear(t)?;
    Ok(Value::Nil)
}

/// @builtin db.T.find(pred) -> List
///
/// The rows for which `pred(row)` is truthy, as a List, in the table's order. For large
/// tables a pipeline (`db.T |> filter(pred)`) streams the rows instead of collecting them.
///
/// Errors: `pred` is not a Function; `pred` fails.
///
/// ```walia
/// db_insert("User", {id: 1, name: "Ann", age: 31});
/// db_insert("User", {id: 2, name: "Bob", age: 17});
/// print db.User.find(u => u.age >= 18) |> map(u => u.name) |> collect();   // -> ["Ann"]
/// ```
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
