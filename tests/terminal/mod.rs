//! A terminal for tests: runs `walia` on a pseudo-terminal and keeps the screen it draws
//! (a vt100 emulator reads its output), so a test types keys and waits for what a user
//! would see. Needs nothing outside the Rust toolchain.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long to wait for the screen to show something (only a failing test waits this
/// long; the machine running the tests may be busy).
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Screen size: tall enough that nothing a test prints scrolls away.
const ROWS: NonZeroU16 = NonZeroU16::new(400).unwrap();
const COLS: NonZeroU16 = NonZeroU16::new(120).unwrap();

pub const ENTER: &str = "\r";
pub const TAB: &str = "\t";
pub const CTRL_C: &str = "\x03";
pub const CTRL_D: &str = "\x04";
pub const UP: &str = "\x1b[A";

/// `walia` running on a pseudo-terminal; killed when dropped if it is still running.
pub struct Terminal {
    pty: Arc<pty_process::blocking::Pty>,
    child: Child,
    screen: Arc<Mutex<vt100::Parser>>,
    reader: Option<JoinHandle<()>>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // The reader ends when the pty reports the other side closed.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Terminal {
    /// Run `walia ARGS` in `dir` with `dir` as $HOME and `history` as $WALIA_HISTORY (the
    /// REPL's heap is ./walia.wld, so it stays in `dir`). `None` (the test should skip)
    /// when the system gives no pseudo-terminal, as in a container without /dev/pts.
    pub fn start(dir: &Path, history: &Path, args: &[&str]) -> Option<Terminal> {
        let (pty, pts) = match pty_process::blocking::open() {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("skipping: no pseudo-terminal ({e})");
                return None;
            }
        };
        pty.resize(pty_process::Size::new(ROWS.get(), COLS.get()))
            .expect("size the pseudo-terminal");
        let child = pty_process::blocking::Command::new(env!("CARGO_BIN_EXE_walia"))
            .args(args)
            .current_dir(dir)
            .env("HOME", dir)
            .env("WALIA_HISTORY", history)
            .env("TERM", "xterm")
            .env_remove("WALIA_HEAP")
            .spawn(pts)
            .expect("start walia on the pseudo-terminal");
        let pty = Arc::new(pty);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let reader = {
            let pty = Arc::clone(&pty);
            let screen = Arc::clone(&screen);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Reading fails (EIO) once the program has exited and closed the terminal.
                while let Ok(n @ 1..) = (&*pty).read(&mut buf) {
                    if let Ok(mut s) = screen.lock() {
                        s.process(&buf[..n]);
                    }
                }
            })
        };
        Some(Terminal {
            pty,
            child,
            screen,
            reader: Some(reader),
        })
    }

    /// Type `text` (or send key sequences such as [`TAB`]) as they are.
    pub fn type_text(&self, text: &str) {
        (&*self.pty)
            .write_all(text.as_bytes())
            .expect("write to the pseudo-terminal");
    }

    /// Type a line and press Enter, then wait until the REPL has taken it and shows the
    /// next prompt (`walia>` or the continuation `...`). Waiting matters: without it the
    /// next line's keys may reach the program in the same read as this Enter, and
    /// rustyline drops whatever it has read past the end of an accepted line.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.press(ENTER);
    }

    /// Press a key that ends the input ([`ENTER`], [`CTRL_C`]) and wait for the next
    /// prompt.
    pub fn press(&self, key: &str) {
        let before = prompt_count(&self.screen());
        self.type_text(key);
        self.wait_for("the next prompt", |sc| {
            prompt_count(sc) > before
                && matches!(
                    sc.lines().rfind(|l| !l.trim().is_empty()),
                    Some("walia>" | "...")
                )
        });
    }

    /// The screen's text, one line per row, trailing blanks removed.
    pub fn screen(&self) -> String {
        let parser = self.screen.lock().unwrap_or_else(|e| e.into_inner());
        let rows: Vec<String> = parser
            .screen()
            .rows(0, COLS.get())
            .map(|r| r.trim_end().to_string())
            .collect();
        rows.join("\n").trim_end().to_string()
    }

    /// Poll the screen until `pred` holds; panic with the screen after [`TIMEOUT`].
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until some line of the screen, without trailing blanks, is exactly `line`.
    pub fn wait_line(&self, line: &str) -> String {
        self.wait_for(&format!("the line {line:?}"), |s| {
            s.lines().any(|l| l == line)
        })
    }

    /// Wait until the program has exited; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if start.elapsed() > TIMEOUT {
                panic!("walia did not exit; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Lines that start with a prompt.
pub fn prompt_count(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.starts_with("walia>") || l.starts_with("..."))
        .count()
}
