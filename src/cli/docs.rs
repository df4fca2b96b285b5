//! `walia doc [NAME]`, `walia completions SHELL` and `walia man [COMMAND]`: generated from the clap
//! definitions, so they list exactly the commands and options the parser accepts.

use std::io::Write;
use walia::exit_code;

/// Print the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell, mut cli: clap::Command) -> i32 {
    let name = cli.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cli, name, &mut out);
    write_stdout(&out)
}

/// Print the man page (roff) of walia, or of one of its commands (`walia-run(1)`).
pub fn man(mut cli: clap::Command, command: Option<&str>) -> i32 {
    // Building gives each command its full name (walia-run) and the global options.
    cli.build();
    let page = match command {
        None => clap_mangen::Man::new(cli),
        Some(name) => {
            let Some(sub) = cli.find_subcommand(name) else {
                let names: Vec<&str> = cli
                    .get_subcommands()
                    .map(|c| c.get_name())
                    .filter(|name| *name != "help")
                    .collect();
                eprintln!(
                    "error: no command '{name}' (the commands: {})",
                    names.join(", ")
                );
                return exit_code::USAGE;
            };
            // The page is named walia-run, as git's are (git-commit(1)).
            let title = format!("{}-{}", cli.get_name(), sub.get_name());
            let source = format!("walia {}", cli.get_version().unwrap_or_default());
            clap_mangen::Man::new(sub.clone())
                .title(title)
                .source(source)
        }
    };
    let mut out = Vec::new();
    if let Err(e) = page.render(&mut out) {
        eprintln!("error: cannot render the man page: {e}");
        return exit_code::IO;
    }
    write_stdout(&out)
}

/// Print the reference (markdown), or one builtin's entry as text.
pub fn reference(name: Option<&str>) -> i32 {
    let text = match name {
        None => walia::reference::reference_markdown(),
        Some(name) => match walia::reference::builtin_help(name) {
            Some(text) => text + "\n",
            None => {
                let names = walia_stdlib::docs::builtin_docs()
                    .iter()
                    .flat_map(|d| d.names.iter().copied());
                match walia_lang::diagnostic::did_you_mean(name, names) {
                    Some(s) => eprintln!("error: no builtin '{name}' (did you mean '{s}'?)"),
                    None => eprintln!("error: no builtin '{name}' (walia doc lists them all)"),
                }
                return exit_code::USAGE;
            }
        },
    };
    write_stdout(text.as_bytes())
}

fn write_stdout(bytes: &[u8]) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit_code::OK,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            exit_code::IO
        }
    }
}
