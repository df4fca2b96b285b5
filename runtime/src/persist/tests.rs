//! Tests of value persistence against an in-memory heap.

/// Saving a list of many small maps writes about one page per few dozen maps.
#[test]
fn saving_many_objects_stays_compact() {
    use super::Persist;
    use super::save::Saver;
    use crate::value::{MapKey, Value, new_entries};
    let mut heap = Persist::new(walia_store::Heap::in_memory().expect("heap"));
    let items: Vec<Value> = (0..5000)
        .map(|i| {
            let mut e = new_entries(2);
            e.insert(
                MapKey::Str(std::rc::Rc::new(crate::value::Str::new("a".into()))),
                Value::Int(i),
            );
            Value::map(e)
        })
        .collect();
    let big = Value::list(items);
    let mut saver = Saver::new(&mut heap);
    saver.global("big", &big).expect("save");
    saver.finish().expect("save");
    heap.pager.commit().expect("commit");
    assert!(
        heap.pager.file_pages() < 400,
        "{} pages",
        heap.pager.file_pages()
    );
}

/// A heap whose global `g` refers to object 1, with the given object records.
fn heap_with(records: &[(u64, Vec<u8>)]) -> crate::vm::Vm {
    use walia_store::codec::Writer;
    use walia_store::{global_key, object_key};
    let mut heap = walia_store::Heap::in_memory().expect("heap");
    for (id, bytes) in records {
        heap.put(&object_key(*id), bytes).expect("put");
    }
    let mut w = Writer::default();
    w.reference(1);
    heap.put(&global_key("g"), &w.buf).expect("put");
    heap.note_stored("g");
    let mut vm = crate::vm::Vm::new(Box::new(std::io::sink()));
    vm.attach_heap(heap);
    vm
}

fn function_record(captured: u64) -> Vec<u8> {
    use walia_store::codec::{Writer, kind};
    let mut w = Writer::kind(kind::FUNCTION);
    w.opt_str(None);
    w.opt_str(None);
    w.str("x => y");
    w.int(1);
    w.str("y");
    w.reference(captured);
    w.nil();
    w.buf
}

fn class_record(superclass: u64) -> Vec<u8> {
    use walia_store::codec::{Writer, kind};
    let mut w = Writer::kind(kind::CLASS);
    w.str("C");
    w.reference(superclass);
    w.bool(false);
    w.bool(false);
    w.opt_str(None);
    w.str("class C < S { }");
    w.int(0);
    w.buf
}

/// A cycle of immutable links cannot come from a script: loading it is a corrupt heap, not
/// a hang or a stack overflow.
#[test]
fn immutable_cycles_are_corruption() {
    let cases = [
        vec![(1, function_record(1))],
        vec![
            (1, function_record(2)),
            (2, function_record(3)),
            (3, function_record(1)),
        ],
        vec![(1, class_record(2)), (2, class_record(1))],
    ];
    for records in cases {
        let mut vm = heap_with(&records);
        let err = vm.global_or_stored("g").expect_err("a cycle");
        assert!(
            err.to_string()
                .contains("links to itself through immutable references"),
            "{err}"
        );
    }
}

/// The same records without the cycle load: a chain of 20,000 captured closures (each
/// record its own object) is no deeper to load than one.
#[test]
fn long_immutable_chains_load() {
    let n = 20_000;
    let mut records: Vec<(u64, Vec<u8>)> = (1..n).map(|id| (id, function_record(id + 1))).collect();
    let mut w = walia_store::codec::Writer::kind(walia_store::codec::kind::LIST);
    w.int(0);
    records.push((n, w.buf));
    let mut vm = heap_with(&records);
    let g = vm.global_or_stored("g").expect("load").expect("stored");
    assert_eq!(g.type_name(), "Function");
}

/// One list held by two heaps' globals: a mutation is saved by each heap's commit,
/// whichever committed (and so marked the list clean) first.
#[test]
fn an_object_shared_by_two_heaps_is_saved_by_both() {
    use crate::value::Value;
    let heap = || walia_store::Heap::in_memory().expect("heap");
    let mut a = crate::vm::Vm::new(Box::new(std::io::sink()));
    let mut b = crate::vm::Vm::new(Box::new(std::io::sink()));
    a.attach_heap(heap());
    b.attach_heap(heap());
    let list = Value::list(vec![Value::Int(1)]);
    a.set_global("l", list.clone());
    b.set_global("l", list.clone());
    let records = |vm: &crate::vm::Vm| vm.heap().map(|h| h.stats.records);
    a.commit().expect("commit");
    b.commit().expect("commit");
    assert_eq!((records(&a), records(&b)), (Some(1), Some(1)));
    a.commit().expect("commit");
    assert_eq!(records(&a), Some(0));
    let Value::List(l) = &list else {
        unreachable!()
    };
    l.items.borrow_mut().push(Value::Int(2));
    a.commit().expect("commit");
    b.commit().expect("commit");
    assert_eq!((records(&a), records(&b)), (Some(1), Some(1)));
    // Both clean again; a second change is seen by both as well.
    l.items.borrow_mut().push(Value::Int(3));
    b.commit().expect("commit");
    a.commit().expect("commit");
    assert_eq!((records(&a), records(&b)), (Some(1), Some(1)));
    b.commit().expect("commit");
    assert_eq!(records(&b), Some(0));
}

/// A change the log could not record: the next commit re-encodes every object the heap
/// holds, once, and the change is saved.
#[test]
fn a_lost_log_entry_falls_back_to_every_object() {
    use crate::value::Value;
    let mut vm = crate::vm::Vm::new(Box::new(std::io::sink()));
    vm.attach_heap(walia_store::Heap::in_memory().expect("heap"));
    let inner = Value::list(vec![Value::Int(1)]);
    vm.set_global("l", Value::list(vec![inner.clone(), Value::list(vec![])]));
    vm.commit().expect("commit");
    let records = |vm: &crate::vm::Vm| vm.heap().map(|h| (h.stats.records, h.stats.rewrites));
    assert_eq!(records(&vm), Some((3, 0)));
    let Value::List(l) = &inner else {
        unreachable!()
    };
    super::dirty::with_log_borrowed(|| l.items.borrow_mut().push(Value::Int(2)));
    vm.commit().expect("commit");
    assert_eq!(records(&vm), Some((3, 1)));
    vm.commit().expect("commit");
    assert_eq!(records(&vm), Some((0, 0)));
}

/// A load that fails halfway (a record missing) leaves no half-filled object behind for a
/// later load to reuse or a commit to take for clean.
#[test]
fn a_failed_load_forgets_what_it_built() {
    use walia_store::codec::{Writer, kind};
    let list = |refs: &[u64]| {
        let mut w = Writer::kind(kind::LIST);
        w.int(refs.len() as i64);
        for r in refs {
            w.reference(*r);
        }
        w.buf
    };
    // g -> 1 -> [2, 3]; 2 is an empty list, 3 is missing.
    let mut vm = heap_with(&[(1, list(&[2, 3])), (2, list(&[]))]);
    let err = vm.global_or_stored("g").expect_err("a missing record");
    assert!(err.to_string().contains("missing"), "{err}");
    let heap = vm.heap().expect("heap");
    assert!(heap.objects.is_empty() && heap.ids.is_empty());
}
