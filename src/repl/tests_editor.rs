//! Unit tests of the rustyline side of the REPL: completion and the history.

use super::editor::{Names, complete};
use super::session::Session;
use super::tests::session;

/// Names for completion without a session: globals, and members by dotted path.
#[derive(Default)]
struct FakeNames {
    globals: Vec<String>,
    members: Vec<(String, Vec<String>)>,
}

impl FakeNames {
    fn new(globals: &[&str]) -> FakeNames {
        FakeNames {
            globals: globals.iter().map(|s| s.to_string()).collect(),
            members: Vec::new(),
        }
    }

    fn with(mut self, path: &str, names: &[&str]) -> FakeNames {
        let names = names.iter().map(|s| s.to_string()).collect();
        self.members.push((path.to_string(), names));
        self
    }
}

impl Names for FakeNames {
    fn globals(&mut self) -> Vec<String> {
        self.globals.clone()
    }

    fn members(&mut self, path: &[&str]) -> Vec<String> {
        let path = path.join(".");
        self.members
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, names)| names.clone())
            .unwrap_or_default()
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn completion_of_keywords_globals_and_commands() {
    let mut names = FakeNames::new(&["len", "counter_total", "count_all", "print_it"]);
    assert_eq!(
        complete("var y = coun", 12, &mut names),
        (8, strings(&["count_all", "counter_total"]))
    );
    assert_eq!(complete("whi", 3, &mut names), (0, strings(&["while"])));
    assert_eq!(
        complete("pri", 3, &mut names),
        (0, strings(&["print", "print_it"]))
    );
    assert_eq!(complete(":gl", 3, &mut names), (0, strings(&[":globals"])));
    assert_eq!(complete(".st", 3, &mut names), (0, strings(&[".state"])));
    assert_eq!(complete(":help le", 8, &mut names), (6, strings(&["len"])));
    // Numbers and an empty word: nothing.
    assert!(complete("12", 2, &mut names).1.is_empty());
    assert!(complete("x = ", 4, &mut names).1.is_empty());
    // The current line of a multi-line buffer.
    assert_eq!(
        complete("fun f() {\n...    le", 19, &mut names),
        (17, strings(&["len"]))
    );
}

/// After `NAME.` the session's members of that path: tables after `db.` (the empty word
/// after `db.` used to end completion early), a table's methods and columns after
/// `db.T.`, a value's methods after `xs.`.
#[test]
fn completion_after_a_dot_offers_members() {
    let mut names = FakeNames::new(&["db", "xs"])
        .with("db", &["logs", "users"])
        .with("db.users", &["age", "count", "filter", "name"])
        .with("xs", &["push", "pop", "sum"]);
    assert_eq!(
        complete("db.", 3, &mut names),
        (3, strings(&["logs", "users"]))
    );
    assert_eq!(
        complete("print db.u", 10, &mut names),
        (9, strings(&["users"]))
    );
    assert_eq!(
        complete("db.users.", 9, &mut names),
        (9, strings(&["age", "count", "filter", "name"]))
    );
    assert_eq!(
        complete("db.users.na", 11, &mut names),
        (9, strings(&["name"]))
    );
    assert_eq!(
        complete("xs.p", 4, &mut names),
        (3, strings(&["push", "pop"]))
    );
    assert_eq!(
        complete("1 + xs.", 7, &mut names),
        (7, strings(&["push", "pop", "sum"]))
    );
    // Members of what is not a chain of names: nothing.
    assert!(complete("f().p", 5, &mut names).1.is_empty());
    assert!(complete("xs[0].p", 7, &mut names).1.is_empty());
    assert!(complete("\"s\".p", 5, &mut names).1.is_empty());
    assert!(complete("0..x", 4, &mut names).1.is_empty());
    assert!(complete("nosuch.p", 8, &mut names).1.is_empty());
    // A position inside a multi-byte character does not panic.
    assert!(complete("é", 1, &mut names).1.is_empty());
}

/// The session's members: a list's methods, the tables, a table's columns and methods, a
/// map's keys, an instance's fields and methods.
#[test]
fn the_session_knows_members_of_globals() {
    let (mut s, _) = session();
    s.handle("var xs = [1, 2];");
    s.handle("var m = {alpha: 1};");
    s.handle("class P { var x; fun norm() { return 1; } }");
    s.handle("var p = P();");
    s.handle("@sql class User { var id; var name; }");
    s.handle("db.User.insert({id: 1, name: \"Ann\"});");
    let members = |s: &mut Session, path: &[&str]| Names::members(s, path);
    let list = members(&mut s, &["xs"]);
    assert!(list.iter().any(|m| m == "push") && list.iter().any(|m| m == "sum"));
    assert_eq!(members(&mut s, &["db"]), strings(&["User"]));
    let table = members(&mut s, &["db", "User"]);
    for m in ["id", "name", "insert", "filter"] {
        assert!(table.iter().any(|t| t == m), "{m} missing: {table:?}");
    }
    let map = members(&mut s, &["m"]);
    assert!(map.iter().any(|m| m == "alpha") && map.iter().any(|m| m == "keys"));
    let instance = members(&mut s, &["p"]);
    assert!(instance.contains(&"norm".to_string()) && instance.contains(&"x".to_string()));
    assert!(members(&mut s, &["nosuch"]).is_empty());
    assert!(members(&mut s, &["db", "Nosuch"]).is_empty());
}

#[test]
fn completion_of_a_command_on_a_continuation_line() {
    assert_eq!(
        complete("fun f() {\n...    .cl", 20, &mut FakeNames::default()),
        (17, strings(&[".clear"]))
    );
}

/// The history stores an entry without the continuation prompts the edit buffer holds,
/// and gives them back when the entry is recalled.
#[test]
fn history_entries_are_stored_without_continuation_prompts() {
    use rustyline::history::{History, SearchDirection};
    let mut h = super::history::ReplHistory::with_config(&rustyline::Config::default());
    let typed = "fun f() {\n...    return 1;\n...    }";
    assert!(h.add(typed).unwrap());
    assert_eq!(h.stored(), vec!["fun f() {\nreturn 1;\n}".to_string()]);
    let recalled = h.get(0, SearchDirection::Reverse).unwrap().unwrap();
    assert_eq!(recalled.entry, typed);
    // A search finds the text where it is shown.
    let found = h
        .search("return", 0, SearchDirection::Forward)
        .unwrap()
        .unwrap();
    assert_eq!(&found.entry[found.pos..found.pos + 6], "return");
    // The file holds the stored form.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history");
    h.save(&path).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("fun f() {\\nreturn 1;\\n}"), "{saved}");
    assert!(!saved.contains("..."), "{saved}");
}
