use super::*;
use crate::value::{InstanceFields, Value};

fn names(fields: &InstanceFields) -> Vec<String> {
    fields.keys().map(|k| k.to_string()).collect()
}

fn rc(s: &str) -> Rc<str> {
    Rc::from(s)
}

#[test]
fn an_instruction_stays_twelve_bytes() {
    assert_eq!(std::mem::size_of::<crate::bytecode::Op>(), 12);
}

#[test]
fn instances_built_the_same_way_share_shapes_and_keep_insertion_order() {
    let (_, root) = Shape::for_class(&[rc("x"), rc("y")]);
    let mut a = InstanceFields::blank(&root);
    let mut b = InstanceFields::blank(&root);
    for f in [&mut a, &mut b] {
        f.insert(rc("z"), Value::Int(1));
        f.insert(rc("x"), Value::Int(2));
        f.insert(rc("w"), Value::Int(3));
    }
    assert_eq!(names(&a), ["x", "y", "z", "w"]);
    let (Some(sa), Some(sb)) = (a.shape(), b.shape()) else {
        panic!("both should be in slots");
    };
    assert!(Rc::ptr_eq(sa, sb));
    assert!(matches!(a.get("x"), Some(Value::Int(2))));
    assert!(matches!(a.get("y"), Some(Value::Nil)));
    assert!(a.get("v").is_none());
}

#[test]
fn ten_thousand_fields_go_to_a_map_in_order() {
    let (_, root) = Shape::for_class(&[rc("first")]);
    let mut f = InstanceFields::blank(&root);
    let started = std::time::Instant::now();
    for i in 0..10_000 {
        f.insert(format!("k{i}").into(), Value::Int(i));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(f.shape().is_none(), "past the limit the fields are a map");
    assert_eq!(f.len(), 10_001);
    let keys = names(&f);
    assert_eq!(keys[0], "first");
    assert_eq!(keys[1], "k0");
    assert_eq!(keys[10_000], "k9999");
    assert!(matches!(f.get("k5000"), Some(Value::Int(5000))));
    f.insert(rc("k5000"), Value::Int(-1));
    assert!(matches!(f.get("k5000"), Some(Value::Int(-1))));
    assert_eq!(f.len(), 10_001);
}

#[test]
fn distinct_fields_added_to_many_instances_make_few_shapes() {
    let (_, root) = Shape::for_class(&[rc("x")]);
    let mut in_slots = 0;
    for i in 0..1000 {
        let mut f = InstanceFields::blank(&root);
        f.insert(format!("only{i}").into(), Value::Int(i));
        assert!(matches!(f.get(&format!("only{i}")), Some(Value::Int(n)) if *n == i));
        assert_eq!(f.len(), 2);
        if f.shape().is_some() {
            in_slots += 1;
        }
    }
    assert_eq!(in_slots, MAX_TRANSITIONS);
    assert_eq!(root.transitions.borrow().len(), MAX_TRANSITIONS);
}

#[test]
fn loaded_fields_take_the_class_layout_only_when_they_match_it() {
    let (empty, root) = Shape::for_class(&[rc("x"), rc("y")]);
    let same = InstanceFields::from_pairs(
        &empty,
        &root,
        vec![(rc("x"), Value::Int(1)), (rc("y"), Value::Int(2))],
    );
    assert!(same.shape().is_some_and(|s| Rc::ptr_eq(s, &root)));
    let other = InstanceFields::from_pairs(
        &empty,
        &root,
        vec![(rc("y"), Value::Int(2)), (rc("x"), Value::Int(1))],
    );
    assert_eq!(names(&other), ["y", "x"]);
    assert!(other.shape().is_some_and(|s| !Rc::ptr_eq(s, &root)));
}

#[test]
fn a_field_site_hits_only_the_shape_it_learned() {
    let (_, root) = Shape::for_class(&[rc("x"), rc("y")]);
    let mut a = InstanceFields::blank(&root);
    a.insert(rc("y"), Value::Int(5));
    let site = FieldSite::default();
    assert!(a.cached(&site).is_none(), "an empty site never hits");
    if let Some(shape) = a.shape() {
        site.learn(shape, "y");
    }
    assert!(matches!(a.cached(&site), Some(Value::Int(5))));
    let mut b = InstanceFields::blank(&root);
    b.insert(rc("z"), Value::Int(1));
    assert!(b.cached(&site).is_none(), "another shape misses");
    assert!(a.store_cached(&site, Value::Int(6)).is_ok());
    assert!(matches!(a.get("y"), Some(Value::Int(6))));
}

#[test]
fn a_field_site_remembers_several_shapes() {
    let (_, root) = Shape::for_class(&[rc("x")]);
    let site = FieldSite::default();
    let mut seen = Vec::new();
    for extra in ["a", "b", "c", "d"] {
        let mut f = InstanceFields::blank(&root);
        f.insert(rc(extra), Value::Int(1));
        f.insert(rc("y"), Value::Int(2));
        if let Some(shape) = f.shape() {
            site.learn(shape, "y");
        }
        seen.push(f);
    }
    assert!(
        seen.iter()
            .all(|f| matches!(f.cached(&site), Some(Value::Int(2))))
    );
    let mut fifth = InstanceFields::blank(&root);
    fifth.insert(rc("y"), Value::Int(3));
    if let Some(shape) = fifth.shape() {
        site.learn(shape, "y");
    }
    assert!(matches!(fifth.cached(&site), Some(Value::Int(3))));
    let still_known = seen.iter().filter(|f| f.cached(&site).is_some()).count();
    assert_eq!(still_known, WAYS - 1, "the oldest shape made room");
}

#[test]
fn a_field_site_remembers_the_shape_adding_its_field_leads_to() {
    let (_, root) = Shape::for_class(&[rc("x")]);
    let site = FieldSite::default();
    let mut a = InstanceFields::blank(&root);
    assert!(a.store_cached(&site, Value::Int(1)).is_err());
    a.insert(rc("y"), Value::Int(1));
    if let Some(after) = a.shape() {
        site.learn_growth(&root, after);
    }
    let mut b = InstanceFields::blank(&root);
    assert!(b.store_cached(&site, Value::Int(7)).is_ok());
    assert_eq!(names(&b), ["x", "y"]);
    assert!(matches!(b.get("y"), Some(Value::Int(7))));
    assert!(Rc::ptr_eq(
        a.shape().unwrap_or(&root),
        b.shape().unwrap_or(&root)
    ));
    assert!(!Rc::ptr_eq(b.shape().unwrap_or(&root), &root));
}
