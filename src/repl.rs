//! The interactive REPL (SPEC §13).
//!
//! - [`input`]: is the buffer complete, a command, or does it need more lines?
//! - [`session`]: runs inputs and commands on an [`Engine`] and returns the text to show;
//!   no terminal involved, so it is unit-tested directly.
//! - [`editor`]: the rustyline helper (completion, validation) and the Enter key binding.
//! - [`history`]: the history, stored without continuation prompts.
//!
//! This file holds the terminal loop; tests.rs and tests_editor.rs test the plain functions.

mod editor;
mod history;
mod input;
mod session;

use editor::{EnterHandler, ReplHelper};
use history::ReplHistory;
use input::PROMPT;
use rustyline::error::ReadlineError;
use rustyline::{CompletionType, Config, Editor, EventHandler, KeyCode, KeyEvent, Modifiers};
use session::{Reply, Session};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use walia::Engine;

/// The first line: the version, where the state lives, and how to get help and leave.
fn banner(heap: Option<&std::path::Path>) -> String {
    let state = match heap {
        Some(path) => format!(
            "globals and tables persist in {} (committed after each input)",
            path.display()
        ),
        None => "in memory only (--memory): nothing is saved".to_string(),
    };
    format!(
        "Walia {}: {state}\n:help for help, exit or Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    )
}

/// Entries kept in the history file.
const HISTORY_SIZE: usize = 1000;

/// Read-eval-print loop on the terminal, on `heap` (`None`: in memory), rendering
/// diagnostics in colour when `color` (`--color`, `NO_COLOR`). Returns the exit code.
pub fn run(engine: Engine, heap: Option<PathBuf>, color: bool) -> i32 {
    // Shared with the editor's helper, which asks it for completions while the user types.
    let session = Rc::new(RefCell::new(Session::new(engine, color)));
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(HISTORY_SIZE))
        .map(|b| b.completion_type(CompletionType::List).build())
        .unwrap_or_default();
    let entries = ReplHistory::with_config(&config);
    let mut rl: Editor<ReplHelper, ReplHistory> = match Editor::with_history(config, entries) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("error: cannot open the terminal: {e}");
            return walia::exit_code::IO;
        }
    };
    rl.set_helper(Some(ReplHelper {
        session: Rc::clone(&session),
    }));
    rl.bind_sequence(
        KeyEvent(KeyCode::Enter, Modifiers::NONE),
        EventHandler::Conditional(Box::new(EnterHandler)),
    );
    let history = history_path();
    if let Some(path) = &history {
        // A missing or unreadable history file is not an error.
        let _ = rl.load_history(path);
    }
    // Ctrl-C while an input runs stops it (the input rolls back) and returns to the
    // prompt, as in python3, lua and sqlite3; at the prompt rustyline reads it as a key.
    // Without the handler the signal would end the process. The `ctrlc` crate runs the
    // handler on a thread of its own, so it only sets the flag the script polls.
    if ctrlc::set_handler(walia::interrupt).is_err() {
        eprintln!("warning: Ctrl-C will end the REPL (cannot install its handler)");
    }
    println!("{}", banner(heap.as_deref()));
    let mut status = walia::exit_code::OK;
    loop {
        let buffer = match rl.readline(PROMPT) {
            Ok(buffer) => buffer,
            // Ctrl-C: drop the current input, prompt again.
            Err(ReadlineError::Interrupted) => continue,
            // Ctrl-D.
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                save_history(&mut rl, history.as_ref());
                return walia::exit_code::IO;
            }
        };
        if !buffer.trim().is_empty() {
            let _ = rl.add_history_entry(buffer.as_str());
            save_history(&mut rl, history.as_ref());
        }
        let reply = session.borrow_mut().handle(&buffer);
        match reply {
            Reply::Nothing => {}
            Reply::Out(text) => println!("{text}"),
            Reply::Err(text) if text.ends_with('\n') => eprint!("{text}"),
            Reply::Err(text) => eprintln!("{text}"),
            Reply::Quit => break,
            Reply::Exit(code) => {
                status = i32::from(code);
                break;
            }
            Reply::Clear => {
                let _ = rl.clear_screen();
            }
        }
    }
    save_history(&mut rl, history.as_ref());
    if let Err(e) = session.borrow_mut().engine_mut().close_heap() {
        eprintln!("{e}");
        return e.exit_code();
    }
    status
}

/// `$WALIA_HISTORY` if set (and not empty), else `~/.walia_history`.
fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WALIA_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".walia_history"))
}

/// Write the history file; failing to is never an error.
fn save_history(rl: &mut Editor<ReplHelper, ReplHistory>, path: Option<&PathBuf>) {
    if let Some(path) = path {
        let _ = rl.save_history(path);
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_editor;
