//! Deep stored structures: chains 10,000 links long of closures, subclasses, classes
//! capturing classes, lists in lists and maps in maps are stored by one run, read back and
//! used by the next, and pass `walia verify` — on a 2 MiB host thread through the embedding
//! API, and through the `walia` command.

use std::path::Path;
use std::process::Command;
use walia::{Durability, Engine};

use crate::{SMALL_STACK, on_small_thread};

const BUILD: &str = r#"
var N = N or 10000;
var f = x => x;
for (i in 0..N) { var g = f; f = x => g(x) + 1; }
class Base { fun depth() { 0 } }
var sub = Base;
for (i in 0..N) {
  var prev = sub;
  class Next < prev { fun depth() { super.depth() + 1 } }
  sub = Next;
}
var holder = Base;
for (i in 0..N) {
  var inner = holder;
  class Holder { fun depth() { inner().depth() + 1 } }
  holder = Holder;
}
var lists = [];
var cur = lists;
for (i in 0..N) { var next = []; cur.add(next); cur = next; }
var maps = {};
var m = maps;
for (i in 0..N) { var next = {}; m["k"] = next; m = next; }
cur = nil;
m = nil;
"built"
"#;

const USE: &str = r#"
var n = 0; var c = lists;
while (c.length() > 0) { c = c[0]; n += 1; }
var k = 0; var d = maps;
while (d.has("k")) { d = d["k"]; k += 1; }
var summary = str([f(0), sub().depth(), holder().depth(), n, k]);
summary
"#;

const WANT: &str = "[10000, 10000, 10000, 10000, 10000]";

fn run_on_heap(heap: &Path, src: &'static str) -> Result<String, String> {
    let heap = heap.to_path_buf();
    on_small_thread(move || {
        let mut e = Engine::with_output(Box::new(std::io::sink()));
        e.set_stack_size(SMALL_STACK);
        e.open_heap(&heap, Durability::Immediate)
            .map_err(|e| e.to_string())?;
        e.eval::<String>(src).map_err(|e| e.to_string())
    })
}

fn verify(heap: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_walia"))
        .arg("verify")
        .arg(heap)
        .output()
        .expect("walia verify");
    assert!(
        out.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deep_chains_store_and_load_through_the_embedding_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let heap = dir.path().join("deep.wld");
    assert_eq!(run_on_heap(&heap, BUILD), Ok("built".to_string()));
    verify(&heap);
    assert_eq!(run_on_heap(&heap, USE), Ok(WANT.to_string()));
    verify(&heap);
}

/// The issue's case (1,500 links: past the old limit of 1,000) through the command.
#[test]
fn deep_chains_store_and_load_through_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let heap = dir.path().join("deep.wld");
    let run = |src: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_walia"))
            .arg("--heap")
            .arg(&heap)
            .arg("-e")
            .arg(src)
            .env_remove("WALIA_HEAP")
            .output()
            .expect("walia");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&format!("var N = 1500;\n{BUILD}"));
    verify(&heap);
    assert_eq!(
        run(&format!("{USE};\nprint summary;")),
        "[1500, 1500, 1500, 1500, 1500]\n"
    );
    verify(&heap);
}
