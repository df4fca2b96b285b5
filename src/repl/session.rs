//! The terminal-free part of the REPL: running inputs, the `:` and `.` commands, and the
//! printed results. Everything here returns text, so tests can drive it without a terminal.

use super::editor::Names;
use super::input::{ends_with_clear, is_command, strip_prompts};
use std::collections::HashMap;
use walia::{Engine, Value};

/// The language's keywords (SPEC §1), for completion and `:help`.
pub const KEYWORDS: &[&str] = &[
    "and", "break", "class", "continue", "else", "false", "for", "fun", "fused", "if", "in",
    "match", "nil", "or", "print", "return", "super", "test", "this", "true", "var", "while",
];

/// The REPL commands, for completion and `:help`.
pub const COMMANDS: &[&str] = &[
    ":help", ":globals", ":tables", ":cursors", ":explain", ":quit", ".exit", ".help", ".clear",
    ".state",
];

const HELP: &str = "\
Commands:
  :help            this list
  :help NAME       the documentation of a global function or class, or what NAME is
                   (a keyword, a command, a method of which types)
  :globals         your globals (not the builtins) and their types
  :tables          tables: rows, columns and their types
  :cursors         checkpointed pipes: state, position/total, checkpoints
  :explain EXPR    the plan of a pipeline (nothing runs)
  :quit, .exit     leave the REPL (so do exit, quit and Ctrl-D)
  .help            same as :help
  .clear           abandon the current multi-line input and clear the screen
  .state           each of your globals with its value
Every :command also answers to .command (.tables, .quit), as in sqlite3.
Anything else runs as Walia code; the value of an expression is printed (an
input that is one expression is read as one: {a: 1} is a map; a table shows its
first rows). Tab completes names, and after a dot what may follow: db.<tables>,
db.T.<methods and columns>, xs.<methods>.
Input continues while brackets are open or a statement is unfinished;
two empty lines run it anyway. Ctrl-C cancels the current input, or stops one
that is running (its changes roll back).";

/// The built-in types whose methods `:help` knows (as `type_of` spells them).
const TYPES_WITH_METHODS: &[&str] = &[
    "String", "List", "Map", "Range", "Stream", "Table", "Int", "Float", "Bool", "Function",
];

/// How many rows of a table the REPL shows when a table is the value of an input.
pub const TABLE_ROWS_SHOWN: usize = 10;

/// What the terminal loop should do with one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Nothing to show.
    Nothing,
    /// Text for standard output (no trailing newline).
    Out(String),
    /// Text for standard error: a rendered diagnostic (with its trailing newline) or a
    /// one-line message (without).
    Err(String),
    /// Leave the REPL.
    Quit,
    /// The input called `exit(code)`: its changes are committed; leave the REPL with that
    /// exit status.
    Exit(u8),
    /// Forget the current input and clear the screen.
    Clear,
}

/// An engine plus what the REPL needs to remember about it.
pub struct Session {
    engine: Engine,
    /// The globals that existed when the session started (the builtins), with their values:
    /// a name is the user's when it is not here or now holds a different value.
    builtins: HashMap<String, Value>,
    /// Render diagnostics with ANSI colours.
    color: bool,
}

impl Session {
    /// Wrap `engine`; every global it already has counts as a builtin.
    pub fn new(mut engine: Engine, color: bool) -> Session {
        // Globals stored in the heap by earlier sessions are the user's, not builtins.
        let names: Vec<String> = engine
            .globals()
            .into_iter()
            .filter(|n| !engine.is_stored(n))
            .collect();
        let builtins = names
            .into_iter()
            .filter_map(|n| engine.get_value(&n).map(|v| (n, v)))
            .collect();
        Session {
            engine,
            builtins,
            color,
        }
    }

    /// Handle one whole input as the user typed it (continuation prompts included):
    /// a command, or code to run.
    pub fn handle(&mut self, buffer: &str) -> Reply {
        let text = strip_prompts(buffer);
        if text.trim().is_empty() {
            return Reply::Nothing;
        }
        if ends_with_clear(&text) {
            return Reply::Clear;
        }
        if is_command(&text) {
            return self.command(text.trim());
        }
        // Habits from python3, lua and sqlite3: a bare `exit`, `quit` or `help` (unless
        // the user made a global of that name).
        let word = text.trim().trim_end_matches(';').trim();
        let word = word.strip_suffix("()").unwrap_or(word);
        if matches!(word, "exit" | "quit" | "help") && !self.is_users(word) {
            return if word == "help" {
                Reply::Out(HELP.to_string())
            } else {
                Reply::Quit
            };
        }
        self.eval(&text)
    }

    /// Is `name` a global the user made (not missing, not a builtin)?
    fn is_users(&mut self, name: &str) -> bool {
        self.engine
            .get_value(name)
            .is_some_and(|v| self.is_user(name, &v))
    }

    /// Run code (one expression when it is one, so `{a: 1}` is a map); its value or its
    /// diagnostics.
    pub fn eval(&mut self, code: &str) -> Reply {
        match self.engine.eval_shown("<repl>", code, TABLE_ROWS_SHOWN) {
            Ok(None) => Reply::Nothing,
            Ok(Some(text)) => Reply::Out(text),
            Err(e) if let Some(code) = e.exit_status() => Reply::Exit(code),
            Err(e) if e.is_interrupt() => Reply::Err("interrupted".to_string()),
            Err(e) => Reply::Err(e.render(self.color)),
        }
    }

    /// Run a `:` or `.` command.
    pub fn command(&mut self, line: &str) -> Reply {
        let (name, arg) = match line.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (line, ""),
        };
        // `.quit`, `.tables`...: every `:` command also answers to a `.`.
        let colon = format!(":{}", name.get(1..).unwrap_or(""));
        let name = match name {
            ".exit" | ".help" | ".clear" | ".state" => name,
            _ if name.starts_with('.') && COMMANDS.contains(&colon.as_str()) => colon.as_str(),
            ".q" => ":q",
            _ => name,
        };
        match name {
            ":quit" | ".exit" | ":q" => Reply::Quit,
            ":help" | ".help" | ":h" if arg.is_empty() => Reply::Out(HELP.to_string()),
            ":help" | ".help" | ":h" => self.help(arg),
            ":globals" => Reply::Out(self.globals_listing()),
            ".state" => Reply::Out(self.state_listing()),
            ".clear" => Reply::Clear,
            ":tables" => Reply::Out(self.tables_listing()),
            ":cursors" => self.cursors_listing(),
            ":explain" if arg.is_empty() => Reply::Err(
                "usage: :explain EXPR (a pipeline, e.g. xs |> map(f) |> sum())".to_string(),
            ),
            ":explain" => match self.engine.explain(arg) {
                Ok(plan) => Reply::Out(plan),
                Err(e) => Reply::Err(e.render(self.color)),
            },
            _ => Reply::Err(format!(
                "unknown command '{name}' (:help lists the commands)"
            )),
        }
    }

    /// The engine underneath.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// `:help NAME`: a global's documentation or kind, a keyword, a command, or the
    /// built-in types that have a method of that name; else the closest of those names.
    fn help(&mut self, name: &str) -> Reply {
        if let Some(doc) = self.engine.doc(name) {
            return Reply::Out(doc);
        }
        if KEYWORDS.contains(&name) {
            return Reply::Out(format!("{name} is a keyword"));
        }
        let global = self.engine.get_value(name);
        let user_defined = global.as_ref().is_some_and(|v| self.is_user(name, v));
        if !user_defined && let Some(text) = walia::reference::builtin_help(name) {
            return Reply::Out(text);
        }
        if let Some(v) = global {
            let ty = v.type_name();
            return Reply::Out(if self.is_user(name, &v) {
                format!("{name} is a global {ty} (no /// documentation)")
            } else {
                format!("{name} is a builtin {ty}")
            });
        }
        let command = format!(":{}", name.trim_start_matches([':', '.']));
        if let Some(line) = HELP
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
        {
            return Reply::Out(line.trim().to_string());
        }
        let types = self.types_with_method(name);
        if !types.is_empty() {
            return Reply::Out(format!(
                "{name} is a method of {} (value.{name}(...))",
                types.join(", ")
            ));
        }
        let mut known = self.engine.globals();
        known.extend(KEYWORDS.iter().map(|k| k.to_string()));
        known.extend(COMMANDS.iter().map(|c| c.to_string()));
        for ty in TYPES_WITH_METHODS {
            known.extend(self.engine.method_names(ty));
        }
        match walia_lang::diagnostic::did_you_mean(name, known.iter().map(String::as_str)) {
            Some(s) => Reply::Err(format!("no such name '{name}' (did you mean '{s}'?)")),
            None => Reply::Err(format!(
                "no such name '{name}' (:globals lists your globals, :tables your tables, \
                 :help the commands)"
            )),
        }
    }

    /// The built-in types that have a method called `name`.
    fn types_with_method(&mut self, name: &str) -> Vec<&'static str> {
        TYPES_WITH_METHODS
            .iter()
            .copied()
            .filter(|ty| self.engine.method_names(ty).iter().any(|m| m == name))
            .collect()
    }

    /// Is global `name`, currently `v`, defined by the user (not a builtin left as it was)?
    fn is_user(&self, name: &str, v: &Value) -> bool {
        // A builtin's copy is its printed form (`<builtin len>`): a global that now
        // holds anything else was set by the user.
        self.builtins.get(name).is_none_or(|b| b != v)
    }

    /// The user's globals with their values, sorted by name.
    pub fn user_globals(&mut self) -> Vec<(String, Value)> {
        let names = self.engine.globals();
        let values: Vec<(String, Value)> = names
            .into_iter()
            .filter_map(|n| self.engine.get_value(&n).map(|v| (n, v)))
            .collect();
        values
            .into_iter()
            .filter(|(n, v)| self.is_user(n, v))
            .collect()
    }

    /// `:globals`: one `name: Type` line per user global.
    pub fn globals_listing(&mut self) -> String {
        let globals = self.user_globals();
        if globals.is_empty() {
            return "(no globals defined yet)".to_string();
        }
        let lines: Vec<String> = globals
            .iter()
            .map(|(n, v)| format!("{n}: {}", v.type_name()))
            .collect();
        lines.join("\n")
    }

    /// `.state`: one `name = value` line per user global.
    pub fn state_listing(&mut self) -> String {
        let globals = self.user_globals();
        if globals.is_empty() {
            return "(no globals defined yet)".to_string();
        }
        let lines: Vec<String> = globals
            .iter()
            .map(|(n, v)| format!("{n} = {}", v.repr()))
            .collect();
        lines.join("\n")
    }

    /// `:cursors`: one line per checkpointed pipe, as `walia inspect` lists them.
    fn cursors_listing(&mut self) -> Reply {
        match crate::listing::cursors(&mut self.engine) {
            Ok(list) if list.is_empty() => Reply::Out(
                "no checkpointed pipes (add |> checkpoint_at(n, \"name\") to a pipe)".into(),
            ),
            Ok(list) => Reply::Out(crate::listing::lines(&list).join("\n")),
            Err(e) => Reply::Err(format!("the cursors cannot be read: {e}")),
        }
    }

    /// `:tables`: each table with its row count and typed columns, aligned (the name, the
    /// count right-aligned, `row`/`rows`, the columns).
    fn tables_listing(&mut self) -> String {
        let tables = self.engine.table_summaries().unwrap_or_default();
        if tables.is_empty() {
            return "no tables (declare one with @sql class, or db_insert into a new name)".into();
        }
        let rows: Vec<[String; 4]> = tables
            .iter()
            .map(|t| {
                let cols: Vec<String> = t
                    .columns
                    .iter()
                    .map(|(n, ty)| format!("{n} {ty}"))
                    .collect();
                let unit = if t.rows == 1 { "row" } else { "rows" };
                [
                    t.name.clone(),
                    t.rows.to_string(),
                    unit.to_string(),
                    cols.join(", "),
                ]
            })
            .collect();
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (name_w, count_w, unit_w) = (width(0), width(1), width(2));
        let lines: Vec<String> = rows
            .iter()
            .map(|[name, count, unit, cols]| {
                format!("{name:name_w$}  {count:>count_w$} {unit:unit_w$}  {cols}")
            })
            .collect();
        lines.join("\n")
    }
}

impl Names for Session {
    fn globals(&mut self) -> Vec<String> {
        self.engine.globals()
    }

    fn members(&mut self, path: &[&str]) -> Vec<String> {
        self.engine.member_names(path)
    }
}
