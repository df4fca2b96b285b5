//! The REPL on a real terminal, driven through tmux: results, multi-line input, errors,
//! commands, tab completion and history across two sessions.
//!
//! Skipped (with a message) when `tmux` is not installed.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long to wait for the screen to show something.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A private tmux server (its own socket), killed when the test ends, even on failure.
struct Tmux {
    socket: String,
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Start the REPL in session `name` with `home` as $HOME and `history` as
    /// $WALIA_HISTORY.
    fn start(&self, name: &str, home: &Path, history: &Path) {
        let home_dir = home.display().to_string();
        let home = format!("HOME={}", home.display());
        let history = format!("WALIA_HISTORY={}", history.display());
        let out = self.cmd(&[
            "new-session",
            "-d",
            "-s",
            name,
            // The REPL's heap is ./walia.wld: keep it in the temporary directory.
            "-c",
            &home_dir,
            "-x",
            "120",
            "-y",
            "40",
            "env",
            &home,
            &history,
            "TERM=xterm",
            env!("CARGO_BIN_EXE_walia"),
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
    }

    /// Run `walia ARGS` (not the REPL) in session `name`, in `dir`; the pane stays
    /// after it exits so its last screen can be read.
    fn start_walia(&self, name: &str, dir: &Path, args: &[&str]) {
        let dir = dir.display().to_string();
        let mut cmd = vec![
            "new-session",
            "-d",
            "-s",
            name,
            "-c",
            &dir,
            "-x",
            "120",
            "-y",
            "20",
            "env",
            "TERM=xterm",
            env!("CARGO_BIN_EXE_walia"),
        ];
        cmd.extend_from_slice(args);
        let out = self.cmd(&cmd);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        self.cmd(&["set-option", "-t", name, "remain-on-exit", "on"]);
    }

    /// Type `text` literally (no key names).
    fn type_text(&self, name: &str, text: &str) {
        // tmux reads an argument's trailing `;` as a command separator: escape it.
        let text = match text.strip_suffix(';') {
            Some(rest) => format!("{rest}\\;"),
            None => text.to_string(),
        };
        self.cmd(&["send-keys", "-t", name, "-l", &text]);
    }

    /// Press keys given by tmux name (`Enter`, `Tab`, `C-d`, `Up`).
    fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }

    /// Type a line and press Enter, then wait until the REPL has taken it and shows the
    /// next prompt (`walia>` or the continuation `...`). Waiting matters: without it the
    /// next line's keys may reach the terminal in the same read as this Enter, and
    /// rustyline drops whatever it has read past the end of an accepted line.
    fn line(&self, name: &str, text: &str) {
        self.type_text(name, text);
        self.press(name, "Enter");
    }

    /// Press a key that ends the input (`Enter`, `C-c`) and wait for the next prompt.
    fn press(&self, name: &str, key: &str) {
        let before = prompt_count(&self.screen(name));
        self.keys(name, &[key]);
        self.wait_for(name, &format!("the prompt after {key}"), |sc| {
            prompt_count(sc) > before
                && matches!(
                    sc.lines().rfind(|l| !l.trim().is_empty()),
                    Some("walia>" | "...")
                )
        });
    }

    fn screen(&self, name: &str) -> String {
        // The whole scrollback, so earlier output never scrolls out of sight.
        let out = self.cmd(&["capture-pane", "-t", name, "-p", "-S", "-"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Poll the screen (capture-pane drops trailing blanks) until `pred` holds; panic with the screen after [`TIMEOUT`].
    fn wait_for(&self, name: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(name);
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Wait until some line of the screen, trimmed, is exactly `line`.
    fn wait_line(&self, name: &str, line: &str) -> String {
        self.wait_for(name, &format!("the line {line:?}"), |s| {
            s.lines().any(|l| l.trim_end() == line)
        })
    }

    /// Wait until the session has ended (the REPL exited).
    fn wait_exit(&self, name: &str) {
        let start = Instant::now();
        while self.cmd(&["has-session", "-t", name]).status.success() {
            if start.elapsed() > TIMEOUT {
                panic!("the REPL did not exit; the screen:\n{}", self.screen(name));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

/// Lines that start with a prompt.
fn prompt_count(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.starts_with("walia>") || l.starts_with("..."))
        .count()
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn repl_in_a_terminal() {
    if !have_tmux() {
        eprintln!("skipping repl_in_a_terminal: tmux is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("history");
    let tmux = Tmux {
        socket: format!("walia-repl-test-{}", std::process::id()),
    };
    let s = "one";
    tmux.start(s, dir.path(), &history);
    tmux.wait_for(s, "the prompt", |sc| sc.contains("walia>"));

    // A result, with a global kept between inputs.
    tmux.line(s, "var x = 40;");
    tmux.line(s, "x + 2");
    tmux.wait_line(s, "42");

    // Multi-line input: the continuation prompt appears, then the whole input runs.
    tmux.line(s, "fun add(a, b) {");
    tmux.wait_for(s, "the continuation prompt", |sc| {
        sc.lines().any(|l| l.starts_with("..."))
    });
    tmux.line(s, "return a + b;");
    tmux.line(s, "}");
    tmux.line(s, "add(x, 5)");
    tmux.wait_line(s, "45");

    // Ctrl-C while an input runs stops it, rolls it back and returns to the prompt.
    tmux.line(s, "var spins = 0;");
    tmux.type_text(s, "while (true) { spins = spins + 1; }");
    tmux.keys(s, &["Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux.press(s, "C-c");
    // The terminal echoes the key as `^C` before the message.
    tmux.wait_for(s, "\"interrupted\"", |sc| {
        sc.lines().any(|l| l.trim_end().ends_with("interrupted"))
    });
    tmux.line(s, "spins");
    tmux.wait_line(s, "0");
    // ... and a second Ctrl-C at an empty prompt does not leave.
    tmux.press(s, "C-c");
    tmux.line(s, "x + 3");
    tmux.wait_line(s, "43");

    // An error shows a diagnostic; the session goes on.
    tmux.line(s, "x + nope_name");
    tmux.wait_for(s, "a diagnostic", |sc| {
        sc.lines()
            .any(|l| l.contains("nope_name") && !l.starts_with("walia> "))
    });
    tmux.line(s, "x * 3");
    tmux.wait_line(s, "120");

    // :help NAME shows the doc comment.
    tmux.line(s, "/// Adds one to n.");
    tmux.line(s, "fun inc(n) { return n + 1; }");
    tmux.line(s, ":help inc");
    tmux.wait_line(s, "Adds one to n.");

    // :globals lists the user's globals with their types, not the builtins.
    tmux.line(s, ":globals");
    let screen = tmux.wait_line(s, "x: Int");
    assert!(screen.lines().any(|l| l == "add: Function"), "{screen}");
    assert!(!screen.lines().any(|l| l.starts_with("len:")), "{screen}");

    // :cursors lists the checkpointed pipes.
    tmux.line(s, "var r = (1..11) |> checkpoint_at(4, \"r\");");
    tmux.line(s, "r.sum()");
    tmux.wait_line(s, "55");
    tmux.line(s, ":cursors");
    tmux.wait_for(s, "the cursor listing", |sc| {
        sc.lines()
            .any(|l| l.starts_with("r  finished") && l.contains("10/10"))
    });

    // Tab completes a global.
    tmux.line(s, "var counter_total = 5;");
    tmux.type_text(s, "counter_t");
    tmux.keys(s, &["Tab"]);
    tmux.wait_line(s, "walia> counter_total");
    tmux.press(s, "Enter");
    tmux.wait_line(s, "5");

    // Ctrl-D ends the session and leaves the history behind.
    tmux.keys(s, &["C-d"]);
    tmux.wait_exit(s);
    let saved = std::fs::read_to_string(&history).expect("history file written");
    assert!(saved.contains("var x = 40;"), "{saved}");

    // A second session recalls the first one's inputs.
    let s = "two";
    tmux.start(s, dir.path(), &history);
    tmux.wait_for(s, "the prompt", |sc| sc.contains("walia>"));
    tmux.keys(s, &["Up"]);
    tmux.wait_line(s, "walia> counter_total");
    tmux.keys(s, &["Up"]);
    tmux.wait_line(s, "walia> var counter_total = 5;");
    tmux.press(s, "C-c");
    // Each input was committed to ./walia.wld: the second session sees the first's state.
    tmux.line(s, "add(x, counter_total)");
    tmux.wait_line(s, "45");
    tmux.line(s, ":help inc");
    tmux.wait_line(s, "Adds one to n.");
    tmux.type_text(s, ":quit");
    tmux.keys(s, &["Enter"]);
    tmux.wait_exit(s);
}

#[test]
fn a_checkpointed_pipe_shows_a_progress_line_on_a_terminal() {
    if !have_tmux() {
        eprintln!("skipping the progress line test: tmux is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // Runs about two seconds whatever the build's speed: take_while ends the pass.
    let script = "var deadline = clock() + 2;\n\
        var slow = (0..100000000) |> map(x => x % 7) |> checkpoint_at(100000, \"slow\")\n\
            |> take_while(x => clock() < deadline);\n\
        print(\"counted \" + str(slow.count() > 0));\n";
    std::fs::write(dir.path().join("slow.wal"), script).expect("write script");
    let tmux = Tmux {
        socket: format!("walia-progress-test-{}", std::process::id()),
    };
    let s = "slow";
    tmux.start_walia(s, dir.path(), &["--heap", "p.wld", "slow.wal"]);
    // The line: the name, position/total, the rate and the time left.
    let screen = tmux.wait_for(s, "the progress line", |sc| {
        sc.lines().any(|l| {
            l.starts_with("slow [")
                && l.contains("/100,000,000")
                && l.contains("/s")
                && l.contains("ETA")
        })
    });
    assert!(!screen.contains("counted"), "{screen}");
    // When the pass ends the line is cleared and the output follows.
    let screen = tmux.wait_line(s, "counted true");
    assert!(!screen.contains("slow ["), "{screen}");

    // --quiet: no line at any time.
    let s = "quiet";
    tmux.start_walia(s, dir.path(), &["--quiet", "--heap", "q.wld", "slow.wal"]);
    tmux.wait_for(s, "the end of the quiet run", |sc| {
        assert!(
            !sc.contains("slow ["),
            "a progress line despite --quiet:\n{sc}"
        );
        sc.lines().any(|l| l == "counted true")
    });
}
