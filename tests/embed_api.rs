//! The embedding API's conversions and handles: tuple arguments, compile-once scripts,
//! number, map and serde conversions, `Display`, and typed `get` errors.

use std::collections::{BTreeMap, HashMap};
use walia::{Engine, Value};

fn engine() -> Engine {
    Engine::with_output(Box::new(std::io::sink()))
}

#[test]
fn call_takes_tuples_arrays_and_vecs() {
    let mut e = engine();
    e.run("fun add(a, b) { a + b } fun none() { 7 } fun three(a, b, c) { [a, b, c] }")
        .expect("run");
    assert_eq!(e.call::<i64>("add", (1, 2)).expect("tuple"), 3);
    assert_eq!(e.call::<f64>("add", (1, 0.5)).expect("mixed"), 1.5);
    assert_eq!(e.call::<String>("add", ("a", "b")).expect("strings"), "ab");
    assert_eq!(e.call::<i64>("none", ()).expect("unit"), 7);
    assert_eq!(e.call::<i64>("add", [20, 22]).expect("array"), 42);
    assert_eq!(
        e.call::<i64>("add", vec![Value::Int(2), Value::Int(3)])
            .expect("vec"),
        5
    );
    assert_eq!(
        e.call::<Vec<String>>("three", ("x", 'y', String::from("z")))
            .expect("three"),
        ["x", "y", "z"]
    );
    let err = e.call::<i64>("add", (1,)).unwrap_err();
    assert!(err.to_string().contains("expects 2 arguments"), "{err}");
}

#[test]
fn a_compiled_script_runs_many_times() {
    let mut e = engine();
    e.run("var hits = 0;").expect("run");
    let bump = e.compile("hits += 1; hits * 10").expect("compile");
    for i in 1..=5 {
        let v = e.run_compiled(&bump).expect("run compiled");
        assert_eq!(v.to_string(), (i * 10).to_string());
    }
    assert_eq!(e.get::<i64>("hits").expect("hits"), 5);
    let Err(err) = e.compile("var = ;") else {
        panic!("expected a syntax error");
    };
    assert_eq!(err.exit_code(), walia::exit_code::COMPILE);
}

#[test]
fn typed_get_reports_missing_and_wrong_types() {
    let mut e = engine();
    e.run("var name = \"Ann\"; var n = 5000000000; var nothing = nil;")
        .expect("run");
    assert_eq!(e.get::<String>("name").expect("name"), "Ann");
    let wrong = e.get::<i64>("name").unwrap_err();
    assert_eq!(wrong.to_string(), "global 'name' is String, expected Int");
    let missing = e.get::<i64>("nope").unwrap_err();
    assert_eq!(missing.to_string(), "undefined global 'nope'");
    assert_eq!(e.get::<Option<i64>>("nope").expect("optional"), None);
    assert_eq!(e.get::<Option<i64>>("nothing").expect("nil"), None);
    let narrow = e.get::<i32>("n").unwrap_err();
    assert_eq!(
        narrow.to_string(),
        "global 'n' is Int 5000000000, expected Int (i32)"
    );
    assert_eq!(e.get::<u64>("n").expect("u64"), 5_000_000_000);
}

#[test]
fn numbers_of_every_width_convert_both_ways() {
    let mut e = engine();
    e.register_fn("scale", |x: i32, k: f32| (x as f32 * k) as f64);
    e.register_fn("small", |x: u8| u32::from(x) + 1);
    assert_eq!(e.eval::<f64>("scale(4, 0.5)").expect("scale"), 2.0);
    assert_eq!(e.eval::<u32>("small(255)").expect("small"), 256);
    let err = e.eval::<i64>("small(256)").unwrap_err().to_string();
    assert!(
        err.contains("'small' expects Int (u8) for argument 1, got Int 256"),
        "{err}"
    );
    let err = e.eval::<i64>("small(-1)").unwrap_err().to_string();
    assert!(err.contains("got Int -1"), "{err}");
    e.set("big", u64::MAX);
    assert_eq!(e.eval::<String>("type_of(big)").expect("type"), "Float");
    e.set("count", 3usize);
    assert_eq!(e.eval::<usize>("count + 1").expect("usize"), 4);
    e.set("letter", 'q');
    assert_eq!(e.eval::<char>("letter").expect("char"), 'q');
    assert!(e.eval::<char>("\"qq\"").is_err());
}

#[test]
fn maps_convert_to_and_from_hash_and_btree_maps() {
    let mut e = engine();
    let mut ages = BTreeMap::new();
    ages.insert("Ann".to_string(), 34);
    ages.insert("Bob".to_string(), 27);
    e.set("ages", ages.clone());
    assert_eq!(
        e.eval::<String>("str(ages)").expect("print"),
        "{\"Ann\": 34, \"Bob\": 27}"
    );
    assert_eq!(e.eval::<i64>("ages.Bob").expect("field"), 27);
    let back: BTreeMap<String, i64> = e.get("ages").expect("back");
    assert_eq!(back, ages);
    let by_id: HashMap<i64, String> = e.eval("({1: \"one\", 2: \"two\"})").expect("int keys");
    assert_eq!(by_id[&2], "two");
    let nested: HashMap<String, Vec<Option<bool>>> =
        e.eval("({a: [true, nil], b: []})").expect("nested");
    assert_eq!(nested["a"], vec![Some(true), None]);
    assert!(e.eval::<HashMap<String, i64>>("({a: \"x\"})").is_err());
    assert!(e.eval::<HashMap<String, i64>>("[1]").is_err());
    e.register_fn("histogram", |words: Vec<String>| {
        let mut counts = BTreeMap::new();
        for w in words {
            *counts.entry(w).or_insert(0i64) += 1;
        }
        counts
    });
    assert_eq!(
        e.eval::<String>("str(histogram([\"a\", \"b\", \"a\"]))")
            .expect("histogram"),
        "{\"a\": 2, \"b\": 1}"
    );
}

#[test]
fn values_display_as_print_shows_them() {
    let mut e = engine();
    let v = e.eval::<Value>("[1, \"two\", {k: 3.0}]").expect("eval");
    assert_eq!(v.to_string(), "[1, \"two\", {\"k\": 3.0}]");
    let s = e.eval::<Value>("\"raw text\"").expect("eval");
    assert_eq!(format!("<{s}>"), "<raw text>");
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Order {
    id: u32,
    customer: String,
    lines: Vec<Line>,
    note: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Line {
    sku: String,
    qty: i64,
    price: f64,
}

#[test]
fn serde_types_convert_both_ways() {
    let mut e = engine();
    let order = Order {
        id: 7,
        customer: "Ann".into(),
        lines: vec![
            Line {
                sku: "pen".into(),
                qty: 2,
                price: 1.5,
            },
            Line {
                sku: "ink".into(),
                qty: 1,
                price: 3.0,
            },
        ],
        note: None,
    };
    e.set("order", walia::to_value(&order).expect("to_value"));
    assert_eq!(
        e.eval::<f64>("order.lines |> map(l => l.qty * l.price) |> sum()")
            .expect("total"),
        6.0
    );
    e.run("order.note = \"gift\"; order.lines[0].qty = 3;")
        .expect("edit");
    let back: Order = walia::from_value(&e.get::<Value>("order").expect("get")).expect("back");
    assert_eq!(back.note.as_deref(), Some("gift"));
    assert_eq!(back.lines[0].qty, 3);
    assert_eq!(back.customer, "Ann");
    let bad = e.eval::<Value>("({id: \"x\"})").expect("eval");
    let err = walia::from_value::<Order>(&bad).unwrap_err().to_string();
    assert!(err.starts_with("cannot convert: "), "{err}");
    let f = e.eval::<Value>("x => x").expect("eval");
    assert!(walia::from_value::<String>(&f).is_err());
    assert!(walia::to_value(&f64::NAN).is_ok_and(|v| v.to_string() == "nil"));
}

#[test]
fn a_copied_value_prints_as_the_script_prints_it() {
    let mut e = engine();
    e.run(
        "class P { var x; var tag = \"a\\\"b\\n\"; }
         db_insert(\"t\", {id: 1, name: \"Ann\", score: 2.5});
         var cyc = [1]; cyc.push(cyc);",
    )
    .expect("setup");
    for expr in [
        "nil",
        "[1, 2.0, -0.0, 1e300, 0.1 + 0.2, 1e308 * 10.0, -1e308 * 10.0, 1e308 * 10.0 * 0.0]",
        "({\"k\": [true, nil], 3: \"x\", false: {}})",
        "\"tab\\there\"",
        "[\"quote\\\" and \\\\ and \\u{7}\"]",
        "P(1)",
        "[P([P(2)])]",
        "db.t.get(1)",
        "db.t",
        "0..10",
        "len",
        "P",
        "cyc",
        "[1, 2] |> map(x => x)",
    ] {
        let copied = e.eval::<Value>(expr).expect(expr);
        let printed = e.eval::<String>(&format!("str({expr})")).expect(expr);
        assert_eq!(copied.to_string(), printed, "{expr}");
    }
    let row = e.eval::<Value>("db.t.get(1)").expect("row");
    assert_eq!(row.type_name(), "Row");
    assert_eq!(e.eval::<Value>("P(1)").expect("p").type_name(), "Instance");
    assert_eq!(e.eval::<Value>("len").expect("len").type_name(), "Function");
    // Given back, a row or an instance is a map of its fields.
    e.set("back", row);
    assert_eq!(
        e.eval::<String>("type_of(back) + \" \" + back.name")
            .expect("back"),
        "Map Ann"
    );
}
