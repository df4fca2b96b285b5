//! The command line before and after clap: options written before a command move after
//! its name, and walia's own options found among a script's arguments get a warning.

use std::ffi::OsString;

/// `walia --heap h.wld run x.wal` means `walia run --heap h.wld x.wal`. Each command
/// declares only the options it honours, and clap's global options would list every
/// option under every command; moving the options written before a command's name after
/// it keeps that order working while the command alone decides what it accepts (so
/// `walia --memory import ...` is the same usage error as `walia import --memory ...`).
///
/// Only leading long options of the top-level command move (with their values); anything
/// else (`-e`, `--help`, `--`, an unknown option, no command) leaves the line as it is.
pub fn options_after_command(argv: Vec<OsString>, top: &clap::Command) -> Vec<OsString> {
    let mut i = 1;
    while let Some(word) = argv.get(i).and_then(|w| w.to_str()) {
        let Some(long) = word.strip_prefix("--") else {
            break;
        };
        let (name, inline_value) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let Some(arg) = top.get_arguments().find(|a| a.get_long() == Some(name)) else {
            return argv;
        };
        if !arg.get_action().takes_values() {
            if !matches!(arg.get_action(), clap::ArgAction::SetTrue) {
                // --help, --version: they answer for the whole command line.
                return argv;
            }
            i += 1;
        } else if inline_value {
            i += 1;
        } else {
            i += 2;
        }
    }
    let Some(name) = argv.get(i).and_then(|w| w.to_str()) else {
        return argv;
    };
    let is_command = top
        .get_subcommands()
        .any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name));
    if i == 1 || !is_command {
        return argv;
    }
    let mut moved = Vec::with_capacity(argv.len());
    moved.push(argv[0].clone());
    moved.push(argv[i].clone());
    moved.extend_from_slice(&argv[1..i]);
    moved.extend_from_slice(&argv[i + 1..]);
    moved
}

/// The long options of a script run: `walia run`'s and the top level's (which holds the
/// global ones).
fn run_option_names(top: &clap::Command) -> Vec<String> {
    let run = top.find_subcommand("run").into_iter();
    run.flat_map(|c| c.get_arguments())
        .chain(top.get_arguments())
        .filter(|a| !a.is_positional())
        .filter(|a| {
            !matches!(
                a.get_action(),
                clap::ArgAction::Help | clap::ArgAction::HelpLong | clap::ArgAction::Version
            )
        })
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// Where a script's arguments were written, for the warnings.
#[derive(Clone, Copy)]
pub enum ArgumentsOf {
    File,
    Code,
}

/// The warnings for walia's options among a script's arguments: they go to the script
/// (`args()`; it may well want them), but were most likely meant for walia. Nothing after
/// a `--` is warned about: that says the rest is the script's.
pub fn stray_option_warnings(
    script_args: &[String],
    top: &clap::Command,
    of: ArgumentsOf,
) -> Vec<String> {
    let names = run_option_names(top);
    let (place, before) = match of {
        ArgumentsOf::File => ("after the script name", "FILE"),
        ArgumentsOf::Code => ("among the arguments of -e CODE", "-e"),
    };
    script_args
        .iter()
        .take_while(|arg| *arg != "--")
        .filter_map(|arg| {
            let long = arg.strip_prefix("--")?;
            let name = long.split_once('=').map_or(long, |(name, _)| name);
            names.iter().any(|n| n == name).then(|| {
                format!(
                    "warning: '--{name}' {place} is passed to the script as an argument; \
                     put walia's options before {before}"
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction, Command};

    fn top() -> Command {
        Command::new("walia")
            .arg(Arg::new("heap").long("heap"))
            .arg(Arg::new("memory").long("memory").action(ArgAction::SetTrue))
            .arg(Arg::new("file"))
            .subcommand(
                Command::new("run")
                    .arg(Arg::new("heap").long("heap"))
                    .arg(Arg::new("memory").long("memory").action(ArgAction::SetTrue)),
            )
            .subcommand(Command::new("inspect"))
    }

    fn moved(words: &[&str]) -> Vec<String> {
        let argv = words.iter().map(OsString::from).collect();
        options_after_command(argv, &top())
            .into_iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn options_before_a_command_move_after_its_name() {
        assert_eq!(
            moved(&["walia", "--heap", "h.wld", "--memory", "run", "x.wal", "a"]),
            ["walia", "run", "--heap", "h.wld", "--memory", "x.wal", "a"]
        );
        assert_eq!(
            moved(&["walia", "--heap=h.wld", "inspect"]),
            ["walia", "inspect", "--heap=h.wld"]
        );
        // A heap named like a command is the option's value, not the command.
        assert_eq!(
            moved(&["walia", "--heap", "run", "x.wal"]),
            ["walia", "--heap", "run", "x.wal"]
        );
    }

    #[test]
    fn other_lines_are_left_alone() {
        for line in [
            &["walia", "x.wal", "--memory"][..],
            &["walia", "--memory", "x.wal"],
            &["walia", "--help", "run"],
            &["walia", "--nope", "run"],
            &["walia", "run", "--memory", "x.wal"],
            &["walia", "--memory"],
        ] {
            assert_eq!(moved(line), line, "{line:?}");
        }
    }

    #[test]
    fn walia_options_among_script_arguments_are_warned_about() {
        let args: Vec<String> = [
            "--memory",
            "-x",
            "--heap=h.wld",
            "--other",
            "plain",
            "--",
            "--memory",
        ]
        .map(String::from)
        .to_vec();
        let warnings = stray_option_warnings(&args, &top(), ArgumentsOf::File);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("'--memory' after the script name"));
        assert!(warnings[0].ends_with("put walia's options before FILE"));
        assert!(warnings[1].contains("'--heap'"));
        let warnings = stray_option_warnings(&args[..1], &top(), ArgumentsOf::Code);
        assert!(warnings[0].contains("among the arguments of -e CODE"));
    }
}
