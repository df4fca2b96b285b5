//! The REPL on a real terminal (a pseudo-terminal whose screen a vt100 emulator keeps, see
//! tests/terminal): results, multi-line input, errors, commands, tab completion, history
//! across two sessions, and what each kind of value looks like at the prompt.

#![cfg(unix)]

mod terminal;

use std::time::Duration;
use terminal::{CTRL_C, CTRL_D, ENTER, TAB, Terminal, UP};

/// A temporary directory (the REPL's $HOME and the place of its ./walia.wld) and the
/// history file in it.
fn home() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("history");
    (dir, history)
}

/// The REPL started in `dir`, its first prompt on the screen (`None`: no pseudo-terminal,
/// skip the test).
fn repl(dir: &std::path::Path, history: &std::path::Path) -> Option<Terminal> {
    let t = Terminal::start(dir, history, &[])?;
    t.wait_for("the prompt", |sc| sc.contains("walia>"));
    Some(t)
}

#[test]
fn repl_in_a_terminal() {
    let (dir, history) = home();
    let Some(mut t) = repl(dir.path(), &history) else {
        return;
    };

    // A result, with a global kept between inputs.
    t.line("var x = 40;");
    t.line("x + 2");
    t.wait_line("42");

    // Multi-line input: the continuation prompt appears, then the whole input runs.
    t.line("fun add(a, b) {");
    t.wait_for("the continuation prompt", |sc| {
        sc.lines().any(|l| l.starts_with("..."))
    });
    t.line("return a + b;");
    t.line("}");
    t.line("add(x, 5)");
    t.wait_line("45");

    // Ctrl-C while an input runs stops it, rolls it back and returns to the prompt.
    t.line("var spins = 0;");
    t.type_text("while (true) { spins = spins + 1; }");
    t.type_text(ENTER);
    std::thread::sleep(Duration::from_millis(300));
    t.press(CTRL_C);
    // The terminal echoes the key as `^C` before the message.
    t.wait_for("\"interrupted\"", |sc| {
        sc.lines().any(|l| l.ends_with("interrupted"))
    });
    t.line("spins");
    t.wait_line("0");
    // ... and a second Ctrl-C at an empty prompt does not leave.
    t.press(CTRL_C);
    t.line("x + 3");
    t.wait_line("43");

    // An error shows a diagnostic; the session goes on.
    t.line("x + nope_name");
    t.wait_for("a diagnostic", |sc| {
        sc.lines()
            .any(|l| l.contains("nope_name") && !l.starts_with("walia> "))
    });
    t.line("x * 3");
    t.wait_line("120");

    // :help NAME shows the doc comment.
    t.line("/// Adds one to n.");
    t.line("fun inc(n) { return n + 1; }");
    t.line(":help inc");
    t.wait_line("Adds one to n.");

    // :globals lists the user's globals with their types, not the builtins.
    t.line(":globals");
    let screen = t.wait_line("x: Int");
    assert!(screen.lines().any(|l| l == "add: Function"), "{screen}");
    assert!(!screen.lines().any(|l| l.starts_with("len:")), "{screen}");

    // :cursors lists the checkpointed pipes.
    t.line("var r = (1..11) |> checkpoint_at(4, \"r\");");
    t.line("r.sum()");
    t.wait_line("55");
    t.line(":cursors");
    t.wait_for("the cursor listing", |sc| {
        sc.lines()
            .any(|l| l.starts_with("r  finished") && l.contains("10/10"))
    });

    // Tab completes a global.
    t.line("var counter_total = 5;");
    t.type_text("counter_t");
    t.type_text(TAB);
    t.wait_line("walia> counter_total");
    t.press(ENTER);
    t.wait_line("5");

    // Ctrl-D ends the session and leaves the history behind.
    t.type_text(CTRL_D);
    assert_eq!(t.wait_exit(), Some(0));
    let saved = std::fs::read_to_string(&history).expect("history file written");
    assert!(saved.contains("var x = 40;"), "{saved}");

    // A second session recalls the first one's inputs.
    let Some(mut t) = repl(dir.path(), &history) else {
        return;
    };
    t.type_text(UP);
    t.wait_line("walia> counter_total");
    t.type_text(UP);
    t.wait_line("walia> var counter_total = 5;");
    t.press(CTRL_C);
    // Each input was committed to ./walia.wld: the second session sees the first's state.
    t.line("add(x, counter_total)");
    t.wait_line("45");
    t.line(":help inc");
    t.wait_line("Adds one to n.");
    t.type_text(":quit");
    t.type_text(ENTER);
    assert_eq!(t.wait_exit(), Some(0));
}

/// An input that is one expression is read as one: a `{` that starts it opens a map, not
/// a block (it used to fail with "expected ';', found ':'").
#[test]
fn a_map_literal_at_the_prompt_is_printed() {
    let (dir, history) = home();
    let Some(t) = repl(dir.path(), &history) else {
        return;
    };
    t.line("{a: 1, b: [1, 2]}");
    t.wait_line("{\"a\": 1, \"b\": [1, 2]}");
    t.line("{a: 1}.keys()");
    t.wait_line("[\"a\"]");
    // Statements still run as statements.
    t.line("{ var inner = 2; print inner * 21; }");
    t.wait_line("42");
}

/// Tab after `db.` lists the tables, after `db.TABLE.` its methods and columns, after a
/// global holding a list the list's methods (each used to list nothing).
#[test]
fn tab_completes_tables_columns_and_methods() {
    let (dir, history) = home();
    let Some(t) = repl(dir.path(), &history) else {
        return;
    };
    t.line("@sql class Person { var id; var nickname; }");
    t.line("db.Person.insert({id: 1, nickname: \"Al\"});");
    t.line("var numbers = [3, 1, 2];");

    // One candidate: completed in place.
    t.type_text("db.Pe");
    t.type_text(TAB);
    t.wait_line("walia> db.Person");
    t.type_text(".nick");
    t.type_text(TAB);
    t.wait_line("walia> db.Person.nickname");
    t.press(CTRL_C);

    // Several: listed (rustyline shows the list on the second Tab).
    t.type_text("numbers.so");
    t.type_text(TAB);
    t.type_text(TAB);
    t.wait_for("the list's sort methods", |sc| {
        sc.lines()
            .any(|l| l.contains("sort") && l.contains("sort_by"))
    });
    t.press(CTRL_C);
    t.type_text("numbers.rev");
    t.type_text(TAB);
    t.wait_line("walia> numbers.reverse");
    t.type_text("()");
    t.press(ENTER);
    t.wait_line("[2, 1, 3]");
}

/// The history file holds each input as written: a multi-line input without the
/// continuation prompts (they used to be stored inside the entry); recalled, it shows
/// them again and runs the same.
#[test]
fn history_holds_multi_line_inputs_without_prompts() {
    let (dir, history) = home();
    let Some(mut t) = repl(dir.path(), &history) else {
        return;
    };
    t.line("fun twice(n) {");
    t.line("  return n * 2;");
    t.line("}");
    t.type_text(CTRL_D);
    assert_eq!(t.wait_exit(), Some(0));
    let saved = std::fs::read_to_string(&history).expect("history file written");
    // rustyline's file format: one entry a line, newlines inside an entry as `\n`.
    assert!(
        saved
            .lines()
            .any(|l| l == "fun twice(n) {\\n  return n * 2;\\n}"),
        "{saved}"
    );
    assert!(!saved.contains("..."), "{saved}");

    let Some(mut t) = repl(dir.path(), &history) else {
        return;
    };
    t.type_text(UP);
    t.wait_line("...      return n * 2;");
    t.line("");
    t.line("twice(21)");
    t.wait_line("42");
    t.type_text(CTRL_D);
    assert_eq!(t.wait_exit(), Some(0));
}

/// `:tables` aligns its columns; `:help` of an unknown name suggests a close one, and
/// knows methods and commands.
#[test]
fn tables_and_help_commands() {
    let (dir, history) = home();
    let Some(t) = repl(dir.path(), &history) else {
        return;
    };
    t.line("for (i in 0..1200) db_insert(\"events\", {id: i, kind: \"k\"});");
    t.line("db_insert(\"t\", {name: \"x\"});");
    t.line(":tables");
    t.wait_line("events  1200 rows  id Int, kind String");
    t.wait_line("t          1 row   name String");
    t.line(":help lenght");
    t.wait_line("no such name 'lenght' (did you mean 'length'?)");
    t.line(":help push");
    t.wait_line("l.push(x) -> nil");
}

/// A stream says what it is and how to run it; `:explain` of a pipe with no terminal says
/// so (it used to show its last stage as the terminal); a table shows its first rows.
#[test]
fn streams_pipes_and_tables_at_the_prompt() {
    let (dir, history) = home();
    let Some(t) = repl(dir.path(), &history) else {
        return;
    };
    t.line("[1, 2, 3] |> filter(x => x > 1) |> map(x => x * 10)");
    t.wait_line("<stream: list |> filter |> map; lazy — end it with |> collect()>");
    t.line(":explain (0..10) |> filter(x => x > 3) |> map(x => x * 2)");
    let screen = t.wait_line("  stage 2: map(x => x * 2)");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("  no terminal: the pipe is lazy")),
        "{screen}"
    );
    assert!(!screen.contains("terminal: map"), "{screen}");

    t.line("@sql class Item { var id; var label; var price; }");
    t.line("for (i in 1..26) db.Item.insert({id: i, label: \"item \" + str(i), price: i * 0.5});");
    t.line("db.Item");
    t.wait_line("id  label    price");
    t.wait_line(" 1  item 1     0.5");
    let screen = t.wait_line("(showing 10 of 25 rows)");
    assert!(
        screen.lines().any(|l| l == "10  item 10    5.0"),
        "{screen}"
    );
    assert!(!screen.lines().any(|l| l.contains("item 11")), "{screen}");
}

#[test]
fn a_checkpointed_pipe_shows_a_progress_line_on_a_terminal() {
    let (dir, history) = home();
    // Runs about two seconds whatever the build's speed: take_while ends the pass.
    let script = "var deadline = clock() + 2;\n\
        var slow = (0..100000000) |> map(x => x % 7) |> checkpoint_at(100000, \"slow\")\n\
            |> take_while(x => clock() < deadline);\n\
        print(\"counted \" + str(slow.count() > 0));\n";
    std::fs::write(dir.path().join("slow.wal"), script).expect("write script");
    let Some(t) = Terminal::start(dir.path(), &history, &["--heap", "p.wld", "slow.wal"]) else {
        return;
    };
    // The line: the name, position/total, the rate and the time left.
    let screen = t.wait_for("the progress line", |sc| {
        sc.lines().any(|l| {
            l.starts_with("slow [")
                && l.contains("/100,000,000")
                && l.contains("/s")
                && l.contains("ETA")
        })
    });
    assert!(!screen.contains("counted"), "{screen}");
    // When the pass ends the line is cleared and the output follows.
    let screen = t.wait_line("counted true");
    assert!(!screen.contains("slow ["), "{screen}");

    // --quiet: no line at any time.
    let Some(t) = Terminal::start(
        dir.path(),
        &history,
        &["--quiet", "--heap", "q.wld", "slow.wal"],
    ) else {
        return;
    };
    t.wait_for("the end of the quiet run", |sc| {
        assert!(
            !sc.contains("slow ["),
            "a progress line despite --quiet:\n{sc}"
        );
        sc.lines().any(|l| l == "counted true")
    });
}
