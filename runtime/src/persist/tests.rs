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
    heap.pager.commit().expect("commit");
    assert!(
        heap.pager.file_pages() < 400,
        "{} pages",
        heap.pager.file_pages()
    );
}
