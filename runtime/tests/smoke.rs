//! End-to-end checks of compiler + VM without the standard library.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use walia_lang::resolve::{GlobalNames, resolve};
use walia_runtime::api::{SourceFile, Vm, compile};

#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);
impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(src: &str) -> Result<String, String> {
    let (mut program, diags) = walia_lang::parse(src);
    if !diags.is_empty() {
        return Err(format!("parse: {:?}", diags));
    }
    let mut names = GlobalNames::new();
    let diags = resolve(&mut program, src, &mut names, &|_: &str| false);
    if !diags.is_empty() {
        return Err(format!("resolve: {:?}", diags));
    }
    let out = Shared::default();
    let mut vm = Vm::new(Box::new(out.clone()));
    vm.names = names;
    let proto = compile(
        &program,
        std::sync::Arc::new(SourceFile {
            name: "t".into(),
            text: src.into(),
        }),
    )
    .script;
    let r = vm.run_script(proto);
    let text = String::from_utf8_lossy(&out.0.borrow()).to_string();
    match r {
        Ok(_) => Ok(text),
        Err(e) => Err(format!("{text}runtime: {}", e.render(false))),
    }
}

fn ok(src: &str) -> String {
    match run(src) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn arithmetic_and_printing() {
    assert_eq!(
        ok("print 1 + 2 * 3; print 7 / 2; print \"n=\" + 3; print -7 % 3;"),
        "7\n3.5\nn=3\n2\n"
    );
}

#[test]
fn functions_closures_and_tail_calls() {
    let src = "fun fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }
        print fib(20);
        fun counter() { var n = 0; return () => { n += 1; n }; }
        var c = counter(); c(); print c();
        fun loop(n, acc) { if (n == 0) return acc; return loop(n - 1, acc + 1); }
        print loop(1000000, 0);";
    assert_eq!(ok(src), "6765\n2\n1000000\n");
}

#[test]
fn classes_and_super() {
    let src = "class A { var x = 1; fun get() { this.x } }
        class B < A { var y; fun init(y) { this.y = y; } fun get() { super.get() + this.y } }
        var b = B(10); print b.get(); print b;";
    assert_eq!(ok(src), "11\nB {x: 1, y: 10}\n");
}

#[test]
fn loops_match_and_per_iteration_bindings() {
    let src = "var fs = [];
        for (i in 0..3) { fs = fs + [() => i]; }
        for (f in fs) print f();
        var i = 0; while (i < 3) { i += 1; if (i == 2) continue; print i; }
        print match 7 { 1..5 => \"low\", x if x > 5 => \"high\", _ => \"?\" };";
    assert_eq!(ok(src), "0\n1\n2\n1\n3\nhigh\n");
}

#[test]
fn deep_recursion_is_a_clean_error() {
    let e = run("fun f(n) { return 1 + f(n + 1); } f(0);").unwrap_err();
    assert!(e.contains("stack overflow"), "{e}");
}

#[test]
fn string_append_in_place() {
    assert_eq!(
        ok("var s = \"\"; var i = 0; while (i < 100000) { s += \"ab\"; i += 1; } print s == s;"),
        "true\n"
    );
}

#[test]
fn cyclic_garbage_is_collected() {
    // Maps that point at each other, lists that contain themselves, closures that capture
    // themselves, a list holding a closure that captured it by value: all unreachable
    // after each iteration.
    ok("var i = 0;
        while (i < 300000) {
            var a = {};
            var b = {other: a};
            a.other = b;
            var l = [1];
            l[0] = l;
            fun self_ref() { return self_ref; }
            var items = [i];
            var size = () => items;
            items[0] = size;
            i = i + 1;
        }");
    walia_runtime::api::collect();
    let left = walia_runtime::api::tracked_count();
    assert!(left < 1000, "{left} objects survived");
}

#[test]
fn freed_instances_leave_the_collector_nothing_to_sweep() {
    // 40,000 instances made and freed (below the first collection's threshold, so no
    // collection sweeps): their memory goes back at once, and the collector's registry
    // holds none of them.
    ok("class Node { var left; var right; }
        fun tree(d) { if (d == 0) return Node(nil, nil); return Node(tree(d - 1), tree(d - 1)); }
        var i = 0;
        while (i < 5) { tree(12); i = i + 1; }");
    let left = walia_runtime::api::tracked_count();
    assert!(left < 100, "{left} registry entries left");
}

#[test]
fn reachable_cycles_survive_collection() {
    let out = ok("var a = {name: \"a\"};
        var b = {name: \"b\", other: a};
        a.other = b;
        var i = 0;
        while (i < 250000) { var junk = [[i]]; junk[0] = junk; i = i + 1; }
        print a.other.other.name + b.other.other.name;");
    assert_eq!(out, "ab\n");
}
