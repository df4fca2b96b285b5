//! The registry drops a freed object's entry at once (each test runs on its own thread, so
//! it has its own registry).

use super::{Registry, collect, swap_registry, tracked_count};
use crate::value::Value;

fn list_of(items: Vec<Value>) -> Value {
    Value::list(items)
}

#[test]
fn freed_objects_leave_the_registry_at_once() {
    let before = tracked_count();
    let lists: Vec<Value> = (0..1000).map(|i| list_of(vec![Value::Int(i)])).collect();
    assert_eq!(tracked_count(), before + 1000);
    drop(lists);
    assert_eq!(tracked_count(), before);
}

#[test]
fn removing_from_the_middle_keeps_the_other_entries_findable() {
    let before = tracked_count();
    let a = list_of(vec![]);
    let b = list_of(vec![]);
    let c = list_of(vec![]);
    let d = list_of(vec![]);
    // b's entry goes, d's moves into its place: d must still find its own entry later.
    drop(b);
    assert_eq!(tracked_count(), before + 3);
    drop(d);
    assert_eq!(tracked_count(), before + 2);
    drop(a);
    drop(c);
    assert_eq!(tracked_count(), before);
}

#[test]
fn objects_freed_through_the_work_list_leave_the_registry() {
    let before = tracked_count();
    // Deep enough that freeing goes through `drop_iteratively`, not drop glue.
    let mut v = list_of(vec![]);
    for _ in 0..100_000 {
        v = list_of(vec![v]);
    }
    assert_eq!(tracked_count(), before + 100_001);
    drop(v);
    assert_eq!(tracked_count(), before);
}

#[test]
fn survivors_of_a_collection_still_find_their_entries() {
    let before = tracked_count();
    let keep: Vec<Value> = (0..100).map(|_| list_of(vec![])).collect();
    // A cycle for the collection to clear.
    let cyc = list_of(vec![]);
    if let Value::List(l) = &cyc {
        l.items.borrow_mut().push(cyc.clone());
    }
    drop(cyc);
    collect();
    assert_eq!(tracked_count(), before + 100);
    drop(keep);
    assert_eq!(tracked_count(), before);
}

#[test]
fn an_object_freed_under_another_registry_is_left_for_a_sweep() {
    let before = tracked_count();
    let mine = list_of(vec![]);
    let kept = list_of(vec![]);
    let mut other = Registry::new();
    swap_registry(&mut other);
    let theirs = list_of(vec![]);
    // `mine` is not in the installed registry: nothing there may change.
    drop(mine);
    assert_eq!(tracked_count(), 1);
    drop(theirs);
    assert_eq!(tracked_count(), 0);
    swap_registry(&mut other);
    // Its entry is still here, dead, until a collection sweeps it.
    assert_eq!(tracked_count(), before + 2);
    collect();
    assert_eq!(tracked_count(), before + 1);
    drop(kept);
    assert_eq!(tracked_count(), before);
}
