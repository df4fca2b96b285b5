//! Unit tests of the REPL's plain functions (no terminal).

use super::input::{Completeness, classify, is_command, scan, strip_prompts};
use super::session::{Reply, Session};
use std::io::Write;
use std::sync::{Arc, Mutex};
use walia::Engine;

use Completeness::{Complete, Incomplete};

/// A `print` destination the test can read back.
#[derive(Clone, Default)]
pub(super) struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

pub(super) fn session() -> (Session, Captured) {
    let out = Captured::default();
    let engine = Engine::with_output(Box::new(out.clone()));
    (Session::new(engine, false), out)
}

fn out(r: Reply) -> String {
    match r {
        Reply::Out(s) => s,
        other => panic!("expected output, got {other:?}"),
    }
}

fn err(r: Reply) -> String {
    match r {
        Reply::Err(s) => s,
        other => panic!("expected an error, got {other:?}"),
    }
}

// ---- complete / incomplete -------------------------------------------------------------

#[test]
fn complete_inputs() {
    for src in [
        "1 + 2",
        "1 + 2;",
        "var x = 1;",
        "var x",
        "print \"(\";",
        "fun f(a) { return a; }",
        "if (x) print 1;",
        "\"a\" + \"[\"",
        "x // (",
        "/* { */ 1",
        "",
        "   ",
        ":help",
        ".exit",
        ":help len",
    ] {
        assert_eq!(classify(src), Complete, "{src:?}");
    }
}

#[test]
fn incomplete_inputs() {
    for src in [
        "fun f(a) {",
        "[1, 2,",
        "foo(1,",
        "{",
        "if (x)",
        "while (true)",
        "var x =",
        "1 +",
        "x |>",
        "\"unterminated (",
        "/* open comment",
        "match x {",
        "class C {\n  var a;",
        "/// Doc of the next function.",
        "/// Two lines\n...    /// of doc.",
    ] {
        assert_eq!(classify(src), Incomplete, "{src:?}");
    }
}

#[test]
fn errors_not_at_the_end_are_complete() {
    // The error is in the middle: run it to show the diagnostic.
    assert_eq!(classify("var 5 = 3;"), Complete);
    assert_eq!(classify("1 + * 2"), Complete);
    // Too many closers: complete (the parser reports them).
    assert_eq!(classify("f())"), Complete);
}

#[test]
fn strings_and_comments_hide_brackets() {
    assert_eq!(scan("\"(\" + \"[{\"").depth, 0);
    assert_eq!(scan("\"\\\"(\"").depth, 0);
    assert_eq!(scan("// ((\n(").depth, 1);
    assert_eq!(scan("/* ( */ [").depth, 1);
    assert!(scan("\"abc").in_string);
    assert!(scan("/* abc").in_comment);
    assert_eq!(classify("print \"a{b\";"), Complete);
    // A multi-line string stays open until its quote.
    assert_eq!(classify("var s = \"line one"), Incomplete);
    assert_eq!(classify("var s = \"line one\n...    two\""), Complete);
}

#[test]
fn continuation_prompts_are_stripped() {
    assert_eq!(
        strip_prompts("fun f() {\n...    return 1;\n...    }"),
        "fun f() {\nreturn 1;\n}"
    );
    assert_eq!(strip_prompts("[1,\n...2]"), "[1,\n2]");
    // Only continuation lines carry a prompt.
    assert_eq!(strip_prompts("x"), "x");
    assert_eq!(classify("fun f() {\n...    return 1;"), Incomplete);
    assert_eq!(classify("fun f() {\n...    return 1;\n...    }"), Complete);
}

#[test]
fn two_blank_lines_force_a_run() {
    assert_eq!(classify("fun f() {\n...    "), Incomplete);
    assert_eq!(classify("fun f() {\n...    \n...    "), Complete);
    // ...but not inside a string, where blank lines are content.
    assert_eq!(classify("var s = \"a\n\n"), Incomplete);
}

#[test]
fn commands_are_recognised() {
    assert!(is_command(":globals"));
    assert!(is_command("  .state "));
    assert!(is_command(".help len"));
    assert!(!is_command(".5"));
    assert!(!is_command("x.y"));
    assert!(is_command(".quit"));
    assert!(is_command(".tables"));
}

#[test]
fn habits_from_other_shells_are_understood() {
    let (mut s, _) = session();
    for quit in [
        "exit", "quit", "exit()", "quit()", " exit; ", ".quit", ".q", ":q",
    ] {
        assert_eq!(s.handle(quit), Reply::Quit, "{quit}");
    }
    assert!(out(s.handle("help")).starts_with("Commands:"));
    assert!(
        out(s.handle(".tables")).contains("table"),
        "{:?}",
        s.handle(".tables")
    );
    assert_eq!(s.handle(".globals"), s.handle(":globals"));
    // A global of the user's by that name is theirs.
    assert_eq!(s.handle("var quit = 5;"), Reply::Nothing);
    assert_eq!(out(s.handle("quit")), "5");
    assert!(err(s.handle(".nosuch")).contains("unknown command '.nosuch'"));
    // Called directly with nothing, the command is unknown (no panic).
    assert!(err(s.command("")).contains("unknown command"));
}

// ---- running inputs --------------------------------------------------------------------

#[test]
fn expression_results_are_printed() {
    let (mut s, _) = session();
    assert_eq!(out(s.handle("1 + 2")), "3");
    assert_eq!(out(s.handle("1 + 2;")), "3");
    assert_eq!(out(s.handle("\"hi\"")), "\"hi\"");
    assert_eq!(out(s.handle("[1, \"a\", nil]")), "[1, \"a\", nil]");
    assert_eq!(out(s.handle("7 / 2")), "3.5");
    assert_eq!(s.handle("nil"), Reply::Nothing);
    assert_eq!(s.handle(""), Reply::Nothing);
}

#[test]
fn globals_persist_between_inputs() {
    let (mut s, _) = session();
    assert_eq!(s.handle("var x = 1;"), Reply::Nothing);
    assert_eq!(out(s.handle("x + 1")), "2");
    s.handle("fun double(n) { return n * 2; }");
    assert_eq!(out(s.handle("double(x + 20)")), "42");
}

#[test]
fn print_goes_to_the_engine_output() {
    let (mut s, captured) = session();
    assert_eq!(s.handle("print \"hello\";"), Reply::Nothing);
    assert_eq!(captured.take(), "hello\n");
}

#[test]
fn multi_line_input_runs_as_one() {
    let (mut s, _) = session();
    let buffer = "fun add(a, b) {\n...    return a + b;\n...    }";
    assert_eq!(classify(buffer), Complete);
    assert_eq!(s.handle(buffer), Reply::Nothing);
    assert_eq!(out(s.handle("add(2,\n...    3)")), "5");
}

#[test]
fn errors_do_not_end_the_session() {
    let (mut s, _) = session();
    s.handle("var x = 10;");
    let compile = err(s.handle("undefined_name + 1"));
    assert!(compile.contains("undefined_name"), "{compile}");
    assert!(compile.contains("<repl>"), "{compile}");
    let runtime = err(s.handle("1 / 0"));
    assert!(runtime.contains("zero"), "{runtime}");
    let syntax = err(s.handle("var = ;"));
    assert!(!syntax.is_empty());
    // The session goes on, with its globals.
    assert_eq!(out(s.handle("x * 2")), "20");
}

#[test]
fn a_failed_input_keeps_earlier_definitions() {
    let (mut s, _) = session();
    s.handle("var a = 5;");
    err(s.handle("a = a + nope;"));
    assert_eq!(out(s.handle("a")), "5");
}

// ---- commands --------------------------------------------------------------------------

#[test]
fn help_lists_the_commands() {
    let (mut s, _) = session();
    let help = out(s.handle(":help"));
    for c in [
        ":help", ":globals", ":tables", ":cursors", ":explain", ":quit", ".exit", ".help",
        ".clear", ".state",
    ] {
        assert!(help.contains(c), "{c} missing from {help}");
    }
    assert_eq!(out(s.handle(".help")), help);
}

#[test]
fn help_name_shows_doc_comments_and_kinds() {
    let (mut s, _) = session();
    s.handle("/// Squares a number.\n...    fun sq(n) { return n * n; }");
    assert_eq!(out(s.handle(":help sq")), "Squares a number.");
    s.handle("/// A point.\nclass Point { var x; }");
    assert_eq!(out(s.handle(".help Point")), "A point.");
    s.handle("var count = 3;");
    assert_eq!(
        out(s.handle(":help count")),
        "count is a global Int (no /// documentation)"
    );
    // A builtin shows its reference entry: forms, text, example.
    let len = out(s.handle(":help len"));
    assert!(len.starts_with("len(x) -> Int\n\n"), "{len}");
    assert!(len.contains("\nExample:\n    "), "{len}");
    // A global the user defined over a builtin's name is the user's.
    s.handle("var len = 7;");
    assert_eq!(
        out(s.handle(":help len")),
        "len is a global Int (no /// documentation)"
    );
    assert_eq!(out(s.handle(":help while")), "while is a keyword");
    let missing = err(s.handle(":help nothing_here"));
    assert!(
        missing.starts_with("no such name 'nothing_here'"),
        "{missing}"
    );
}

#[test]
fn globals_and_state_list_only_user_globals() {
    let (mut s, _) = session();
    assert_eq!(out(s.handle(":globals")), "(no globals defined yet)");
    s.handle("var x = 41;");
    s.handle("var name = \"Ann\";");
    s.handle("fun f() { return 1; }");
    assert_eq!(
        out(s.handle(":globals")),
        "f: Function\nname: String\nx: Int"
    );
    assert_eq!(
        out(s.handle(".state")),
        "f = <fun f>\nname = \"Ann\"\nx = 41"
    );
    // Builtins are not listed, unless the user replaces one.
    assert!(!out(s.handle(":globals")).contains("len"));
    s.handle("var len = 3;");
    assert!(out(s.handle(":globals")).contains("len: Int"));
}

#[test]
fn exit_with_a_code_commits_and_leaves_the_repl() {
    let (mut s, _) = session();
    assert_eq!(s.handle("var kept = 1; exit(3); kept = 2;"), Reply::Exit(3));
    assert_eq!(out(s.handle("kept")), "1");
    assert_eq!(s.handle("exit(0)"), Reply::Exit(0));
    assert!(err(s.handle("exit(999)")).contains("from 0 to 255"));
}

#[test]
fn quit_clear_and_unknown_commands() {
    let (mut s, _) = session();
    assert_eq!(s.handle(":quit"), Reply::Quit);
    assert_eq!(s.handle(".exit"), Reply::Quit);
    assert_eq!(s.handle(".clear"), Reply::Clear);
    // `.clear` on a continuation line abandons the whole buffer.
    assert_eq!(s.handle("fun f() {\n...    .clear"), Reply::Clear);
    assert_eq!(classify("fun f() {\n...    .clear"), Complete);
    assert!(err(s.handle(":frobnicate")).contains("unknown command"));
}

#[test]
fn tables_command_lists_tables() {
    let (mut s, _) = session();
    assert!(out(s.handle(":tables")).starts_with("no tables"));
    s.handle("@sql class User { var id; var name; }");
    s.handle("db.User.insert({id: 1, name: \"Ann\"});");
    assert_eq!(out(s.handle(":tables")), "User  1 row  id Int, name String");
    // The counts line up; the columns start in one place.
    s.handle("for (i in 0..1500) db_insert(\"events\", {at: i});");
    assert_eq!(
        out(s.handle(":tables")),
        "User       1 row   id Int, name String\nevents  1500 rows  at Int"
    );
}

#[test]
fn cursors_command_lists_checkpointed_pipes() {
    let (mut s, _) = session();
    s.engine_mut().open_memory_heap().unwrap();
    assert!(out(s.handle(":cursors")).starts_with("no checkpointed pipes"));
    s.handle("var r = (1..11) |> checkpoint_at(4, \"r\");");
    let text = out(s.handle(":cursors"));
    assert!(text.starts_with("no checkpointed pipes"), "{text}");
    assert_eq!(out(s.handle("r.sum()")), "55");
    s.handle("var longer_name = [1, 2, 3] |> checkpoint_at(2, \"longer_name\");");
    s.handle("longer_name.take(1).count()");
    let text = out(s.handle(":cursors"));
    let lines: Vec<&str> = text.lines().collect();
    // Sorted by name, the columns aligned.
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("longer_name  finished       1/3  every 2  1 checkpoint "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("r            finished     10/10  every 4  3 checkpoints"),
        "{text}"
    );
    assert!(out(s.handle(":help")).contains(":cursors"));
}

/// An error inside a checkpointed pipe at the prompt rolls back to its last checkpoint and
/// says so; the next call in the same session resumes the pass, and each element's effect
/// (here, adding to a global) is applied once.
#[test]
fn an_error_in_a_checkpointed_pipe_at_the_prompt_resumes_in_the_session() {
    let (mut s, _) = session();
    s.engine_mut().open_memory_heap().unwrap();
    s.handle("var fail = true;");
    s.handle("var seen = 0;");
    s.handle(
        "var up = (1..21) |> map(x => { if (fail and x == 13) error(\"boom\"); seen = seen + 1; x }) |> checkpoint_at(5);",
    );
    let e = err(s.handle("up.sum()"));
    assert!(
        e.contains("boom") && e.contains("rolled back to commit") && e.contains("position 10"),
        "{e}"
    );
    assert_eq!(out(s.handle("up.position()")), "10");
    assert_eq!(out(s.handle("seen")), "10");
    s.handle("fail = false;");
    assert_eq!(out(s.handle("up.sum()")), "210");
    assert_eq!(out(s.handle("seen")), "20");
    assert_eq!(out(s.handle("up.status()[\"resumes\"]")), "1");
}

#[test]
fn explain_shows_a_plan_without_running_it() {
    let (mut s, _) = session();
    s.handle("var hits = 0;");
    let plan = out(s.handle(":explain (0..10) |> filter(x => x > 3) |> sum()"));
    // This test binary links no code generator: the batch kernels are the tier.
    assert_eq!(
        plan,
        "pipe 1:1\n  source: range\n  stage 1: filter(x => x > 3)\n  terminal: sum()  [batch \
         kernels: no native compiler in this build]\ncompiled"
    );
    let plan = out(s.handle(":explain [1, 2] |> each(x => hits = hits + 1) |> count()"));
    assert!(
        plan.ends_with("not compiled: stage 1 (each): each runs a function for its side effects"),
        "{plan}"
    );
    // Nothing ran: the `each` did not count anything.
    assert_eq!(out(s.handle("hits")), "0");
    let usage = err(s.handle(":explain 1 + 2"));
    assert!(usage.contains("explain expects a pipeline"), "{usage}");
}

#[test]
fn help_of_a_misspelled_name_suggests_one() {
    let (mut s, _) = session();
    s.handle("var zebra_stripes = 1;");
    assert_eq!(
        err(s.handle(":help zebra_stripe")),
        "no such name 'zebra_stripe' (did you mean 'zebra_stripes'?)"
    );
}

#[test]
fn help_knows_methods_and_commands_and_says_where_to_look() {
    let (mut s, _) = session();
    // A documented builtin shows its reference entry (push is l.add's alias).
    let push = out(s.handle(":help push"));
    assert!(
        push.starts_with("l.add(x) -> nil\nl.push(x) -> nil"),
        "{push}"
    );
    let upper = out(s.handle(":help upper"));
    assert!(upper.starts_with("upper(s) -> String\n"), "{upper}");
    assert_eq!(
        out(s.handle(":help tables")),
        ":tables          tables: rows, columns and their types"
    );
    assert_eq!(
        err(s.handle(":help lenght")),
        "no such name 'lenght' (did you mean 'length'?)"
    );
    assert_eq!(
        err(s.handle(":help wihle")),
        "no such name 'wihle' (did you mean 'while'?)"
    );
    assert_eq!(
        err(s.handle(":help qqqqqqqqqq")),
        "no such name 'qqqqqqqqqq' (:globals lists your globals, :tables your tables, :help \
         the commands)"
    );
}

// ---- what values look like -------------------------------------------------------------

/// An input that is one expression is read as one, so a `{` that starts it is a map (it
/// was read as a block: "expected ';', found ':'"); statements still run as statements.
#[test]
fn an_input_that_is_one_expression_is_read_as_one() {
    let (mut s, captured) = session();
    assert_eq!(
        out(s.handle("{a: 1, b: [1, 2]}")),
        "{\"a\": 1, \"b\": [1, 2]}"
    );
    assert_eq!(out(s.handle("{a: 1};")), "{\"a\": 1}");
    assert_eq!(out(s.handle("{}")), "{}");
    assert_eq!(out(s.handle("{a: 1}.keys()")), "[\"a\"]");
    assert_eq!(s.handle("{ var x = 1; print x; }"), Reply::Nothing);
    assert_eq!(captured.take(), "1\n");
    assert_eq!(out(s.handle("var y = 2; y * 3")), "6");
    // A broken map is reported as one.
    let e = err(s.handle("{a: 1, b: }"));
    assert!(e.contains("expected expression, found '}'"), "{e}");
    // An open map waits for more, as an open block does.
    assert_eq!(classify("{a: 1} |>"), Incomplete);
}

#[test]
fn engine_eval_reads_an_expression_first() {
    let mut engine = Engine::with_output(Box::new(Captured::default()));
    let v: walia::Value = engine.eval("{a: 1, b: [1, 2]}").unwrap();
    assert_eq!(v.repr(), "{\"a\": 1, \"b\": [1, 2]}");
    assert_eq!(engine.eval::<i64>("{a: 41}[\"a\"] + 1").unwrap(), 42);
    // Several statements still work, the last one's value returned.
    assert_eq!(engine.eval::<i64>("var z = 2; z + 1").unwrap(), 3);
    // A script keeps reading `{` at the start of a statement as a block.
    assert!(engine.run("{a: 1}").is_err());
    assert_eq!(engine.run("{}").unwrap(), walia::Value::Nil);
}

/// A stream says what it is and how to run it (it printed `<stream>`); `print` keeps the
/// SPEC's `<stream>`.
#[test]
fn a_stream_says_what_it_is_and_how_to_run_it() {
    let (mut s, captured) = session();
    assert_eq!(
        out(s.handle("[1, 2] |> filter(x => x > 1)")),
        "<stream: list |> filter; lazy — end it with |> collect()>"
    );
    s.handle("db_insert(\"logs\", {n: 1});");
    assert_eq!(
        out(s.handle("db.logs |> map(r => r.n) |> take(5)")),
        "<stream: table logs |> map |> take; lazy — end it with |> collect()>"
    );
    s.handle("var st = (0..3) |> map(x => x);");
    assert_eq!(
        out(s.handle("st")),
        "<stream: range |> map; lazy — end it with |> collect()>"
    );
    s.handle("print st;");
    assert_eq!(captured.take(), "<stream>\n");
    assert_eq!(out(s.handle("[st]")), "[<stream>]");
}

/// A table shows its first rows as an aligned grid and its row count (it showed
/// `<table users (N rows)>`).
#[test]
fn a_table_shows_its_first_rows() {
    let (mut s, captured) = session();
    s.handle("@sql class User { var id; var name; var score; }");
    assert_eq!(
        out(s.handle("db.User")),
        "id  name  score\n--  ----  -----\n(0 rows)"
    );
    s.handle("for (i in 1..13) db.User.insert({id: i, name: \"u\" + str(i), score: i / 2});");
    let shown = out(s.handle("db.User"));
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2 + 10 + 1, "{shown}");
    assert_eq!(lines[0], "id  name  score");
    assert_eq!(lines[2], " 1  u1      0.5");
    assert_eq!(lines[11], "10  u10     5.0");
    assert_eq!(lines[12], "(showing 10 of 12 rows)");
    // Inside a container, and for print, a table keeps its short form.
    assert_eq!(out(s.handle("[db.User]")), "[<table User (12 rows)>]");
    s.handle("print db.User;");
    assert_eq!(captured.take(), "<table User (12 rows)>\n");
}

#[test]
fn explain_of_a_pipe_without_a_terminal_says_it_is_lazy() {
    let (mut s, _) = session();
    let plan = out(s.handle(":explain (0..10) |> filter(x => x > 3) |> map(x => x * 2)"));
    assert_eq!(
        plan,
        "pipe 1:1\n  source: range\n  stage 1: filter(x => x > 3)\n  stage 2: map(x => x * 2)\n  \
         no terminal: the pipe is lazy and runs nothing until a terminal ends it \
         (|> collect(), |> count(), |> run()...)"
    );
    // A function of the user's named like a stage is a terminal like any other function.
    s.handle("fun take(xs, n) { return n; }");
    let plan = out(s.handle(":explain [1, 2] |> take(1)"));
    assert!(plan.contains("terminal: take()"), "{plan}");
}
