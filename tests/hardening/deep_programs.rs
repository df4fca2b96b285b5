//! Deep legal programs on a small host thread (2 MiB, the `std::thread` and tokio default):
//! long `else if` chains, chained lambdas, long operator chains and deep recursion compile
//! and run, or fail with a clean error, through `Engine::check` and `Engine::run`; they
//! never overflow the host's stack.

use walia::{Engine, Error};

use crate::{SMALL_STACK, on_small_thread};

fn engine() -> Engine {
    let mut e = Engine::with_output(Box::new(std::io::sink()));
    e.set_stack_size(SMALL_STACK);
    e
}

fn else_if_expression(arms: usize) -> String {
    let chain: Vec<String> = (0..arms).map(|i| format!("if (x == {i}) {i}")).collect();
    format!(
        "var x = {}; var r = {} else -1; r",
        arms - 1,
        chain.join(" else ")
    )
}

fn else_if_statement(arms: usize) -> String {
    let chain: Vec<String> = (0..arms)
        .map(|i| format!("if (x == {i}) {{ r = {i}; }}"))
        .collect();
    format!(
        "var x = {}; var r = 0; {} else {{ r = -1; }} r",
        arms - 1,
        chain.join(" else ")
    )
}

#[test]
fn long_else_if_chains_compile_and_run() {
    let got = on_small_thread(|| {
        let mut results = Vec::new();
        for src in [else_if_expression(4990), else_if_statement(4990)] {
            let mut e = engine();
            let checked = e.check("<deep>", &src).map_err(|e| e.to_string());
            let ran = e.eval::<i64>(&src).map_err(|e| e.to_string());
            results.push((checked, ran));
        }
        results
    });
    assert_eq!(got, vec![(Ok(()), Ok(4989)), (Ok(()), Ok(4989))]);
}

#[test]
fn chained_lambdas_beyond_the_nesting_limit_are_a_compile_error() {
    let src = {
        let params: Vec<String> = (0..4080).map(|i| format!("a{i}")).collect();
        format!("var f = {} => 1;", params.join(" => "))
    };
    let (checked, ran) = on_small_thread(move || {
        let mut e = engine();
        let checked = e.check("<deep>", &src).map_err(|e| e.to_string());
        let ran = e.run(&src).map(|_| ()).map_err(|e| e.to_string());
        (checked, ran)
    });
    for r in [checked, ran] {
        let err = r.expect_err("4080 nested lambdas");
        assert!(err.contains("nesting too deep"), "{err}");
    }
}

#[test]
fn chained_lambdas_within_the_limit_run() {
    let got = on_small_thread(|| {
        let params: Vec<String> = (0..250).map(|i| format!("a{i}")).collect();
        let calls: String = (0..250).map(|i| format!("({i})")).collect();
        let src = format!("var f = {} => a0 + a249; f{calls}", params.join(" => "));
        engine().eval::<i64>(&src).map_err(|e| e.to_string())
    });
    assert_eq!(got, Ok(249));
}

#[test]
fn operator_chains_within_the_depth_limit_run() {
    let got = on_small_thread(|| {
        let mut out = Vec::new();
        for (op, want) in [("+", 4900), ("*", 1), (" - ", -4898), ("==", 0)] {
            let terms = vec!["1"; 4900].join(op);
            let src = format!("var r = {terms}; if (r == true) 1 else if (r == false) 0 else r");
            let mut e = engine();
            let checked = e.check("<deep>", &src).map_err(|e| e.to_string());
            let ran = e.eval::<i64>(&src).map_err(|e| e.to_string());
            out.push((checked, ran, want));
        }
        out
    });
    for (checked, ran, want) in got {
        assert_eq!(checked, Ok(()));
        assert_eq!(ran, Ok(want));
    }
}

#[test]
fn long_operator_chains_do_not_crash() {
    let got = on_small_thread(|| {
        let mut out = Vec::new();
        for op in ["+", "*", " and ", "=="] {
            let src = format!("var r = {}; r", vec!["1"; 100_000].join(op));
            let mut e = engine();
            let checked = e.check("<deep>", &src).is_ok();
            let ran = match e.eval::<i64>(&src) {
                Ok(v) => Ok(v),
                Err(Error::Compile { diagnostics, .. }) => Err(diagnostics[0].message.clone()),
                Err(other) => Err(other.to_string()),
            };
            out.push((checked, ran));
        }
        out
    });
    for (checked, ran) in got {
        match ran {
            Ok(_) => assert!(checked),
            Err(msg) => assert!(!checked && msg.contains("too deep"), "{msg}"),
        }
    }
}

#[test]
fn nesting_beyond_the_limit_is_a_compile_error() {
    let got = on_small_thread(|| {
        let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        let blocks = format!("{}1{}", "{".repeat(300), "}".repeat(300));
        let mut e = engine();
        [src, blocks].map(|s| {
            let c = e.check("<deep>", &s).map_err(|e| e.to_string());
            let r = e.run(&s).map(|_| ()).map_err(|e| e.to_string());
            (c, r)
        })
    });
    for (c, r) in got {
        for res in [c, r] {
            let err = res.expect_err("too deep");
            assert!(err.contains("nesting too deep"), "{err}");
        }
    }
}

#[test]
fn deep_recursion_is_a_clean_runtime_error() {
    let got = on_small_thread(|| {
        let mut e = engine();
        let src = "fun f(n) { if (n == 0) 0 else 1 + f(n - 1) } f(1000000)";
        e.run(src).map(|_| ()).map_err(|e| e.to_string())
    });
    let err = got.expect_err("stack overflow");
    assert!(err.contains("stack overflow"), "{err}");
}

#[test]
fn closures_chained_ten_thousand_deep_run() {
    let got = on_small_thread(|| {
        let mut e = engine();
        let src = "var f = x => x; for (i in 0..10000) { var g = f; f = x => g(x) + 1; } f(0)";
        e.eval::<i64>(src).map_err(|e| e.to_string())
    });
    assert_eq!(got, Ok(10000));
}

const DEEP_DATA: &str = r#"
fun deep_list(n) { var l = []; for (i in 0..n) { l = [l]; } l }
fun deep_map(n) { var m = {}; for (i in 0..n) { m = {k: m}; } m }
var a = deep_list(10000);
var b = deep_list(10000);
var ma = deep_map(10000);
var mb = deep_map(10000);
"#;

#[test]
fn deep_data_prints_and_compares_on_a_small_thread() {
    let got = on_small_thread(|| {
        let mut e = engine();
        e.run(DEEP_DATA).map(|_| ()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for expr in [
            "len(str(a))",
            "len(str(ma))",
            "len(str(a + [1]))",
            "a == b",
            "ma == mb",
            "a != b",
            "[a] == [b]",
            "len(str(deep_list(400)))",
            "deep_list(900) == deep_list(900)",
            "deep_map(900) == deep_map(900)",
        ] {
            out.push(
                e.eval::<walia::Value>(expr)
                    .map(|v| match v {
                        walia::Value::Int(i) => i.to_string(),
                        walia::Value::Bool(b) => b.to_string(),
                        _ => "other".to_string(),
                    })
                    .map_err(|e| e.to_string()),
            );
        }
        Ok::<_, String>(out)
    });
    let got = got.expect("build the data");
    // Printing stops at 500 levels with `...`; `==` beyond 1,000 levels is an error.
    for printed in &got[..3] {
        let n: usize = printed
            .as_ref()
            .expect("printed")
            .parse()
            .expect("a length");
        assert!((1000..4000).contains(&n), "{n}");
    }
    for compared in &got[3..7] {
        let err = compared.as_ref().expect_err("too deep to compare");
        assert!(err.contains("nested more than 1000 levels"), "{err}");
    }
    assert_eq!(got[7], Ok("802".to_string()));
    assert_eq!(got[8], Ok("true".to_string()));
    assert_eq!(got[9], Ok("true".to_string()));
}

#[test]
fn else_if_chains_in_tail_position_and_with_functions_in_late_arms() {
    let got = on_small_thread(|| {
        let arms = |n: usize, arm: &dyn Fn(usize) -> String| {
            (0..n).map(arm).collect::<Vec<_>>().join(" else ")
        };
        let sources = [
            // A function body (tail position: each arm returns).
            format!(
                "fun f(x) {{ {} else -1 }} f(4989)",
                arms(4990, &|i| format!("if (x == {i}) {i}"))
            ),
            format!(
                "fun f(x) {{ {} else {{ return -1; }} }} f(4989)",
                arms(4990, &|i| format!("if (x == {i}) {{ return {i}; }}"))
            ),
            // An `else if` chain is not nesting: a lambda in a late arm is fine.
            format!(
                "var x = 299; {} else -1",
                arms(300, &|i| format!("if (x == {i}) (() => {i})()"))
            ),
            format!(
                "var x = 299; var r = 0; {} r",
                arms(300, &|i| format!("if (x == {i}) {{ r = (() => {i})(); }}"))
            ),
            // Compound assignment of a long operator chain.
            format!("var y = 0; y += {}; y", vec!["1"; 4900].join(" + ")),
            format!(
                "fun g() {{ var y = 0; y += {}; y }} g()",
                vec!["1"; 4900].join(" + ")
            ),
        ];
        sources
            .iter()
            .map(|src| {
                let mut e = engine();
                e.check("<deep>", src).map_err(|e| e.to_string())?;
                e.eval::<i64>(src).map_err(|e| e.to_string())
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        got,
        vec![Ok(4989), Ok(4989), Ok(299), Ok(299), Ok(4900), Ok(4900)]
    );
}

#[test]
fn recursion_through_builtins_is_a_clean_runtime_error() {
    let got = on_small_thread(|| {
        let mut e = engine();
        let src =
            "fun f(n) { if (n == 0) 0 else [n] |> map(x => f(x - 1) + 1) |> sum() } f(100000)";
        e.run(src).map(|_| ()).map_err(|e| e.to_string())
    });
    let err = got.expect_err("stack overflow");
    assert!(err.contains("stack overflow"), "{err}");
}
