//! Modules: `import "file.wal";` (docs/language.md "Modules").
//!
//! Before a script is compiled, the files its top-level `import` statements name are
//! compiled, depth first, each into a script of its own that the importing script calls
//! where its `import` stands. A path is resolved against the importing file's directory
//! (the current directory for `-e`, the REPL and embedders' unnamed scripts). A file is
//! loaded once per engine: a second `import` of the same file (same canonical path) does
//! nothing. The top-level names an imported file declares count as declared in the files
//! compiled after it, as globals stored in the heap do.

use crate::Error;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use walia_lang::ParseMode;
use walia_lang::ast::{Program, StmtKind};
use walia_lang::diagnostic::Diagnostic;
use walia_lang::resolve::{GlobalNames, parse_and_resolve_with};
use walia_runtime::api::{Proto, SourceFile, compile_with_imports};

/// Compile `source` (named `name`) and every file it imports. `loaded` holds the files
/// imported by earlier compilations of this engine; it gains this one's only on success.
pub(crate) fn compile(
    name: &str,
    source: &str,
    mode: ParseMode,
    names: &mut GlobalNames,
    known: &dyn Fn(&str) -> bool,
    loaded: &mut HashSet<PathBuf>,
) -> Result<Rc<Proto>, Error> {
    let mut cx = Imports {
        names,
        known,
        imported_names: HashSet::new(),
        loading: Vec::new(),
        loaded: loaded.clone(),
    };
    if let Some(me) = real_file(name) {
        cx.loading.push((me, name.to_string()));
    }
    let (script, _) = cx.compile_file(name, source, mode)?;
    *loaded = cx.loaded;
    Ok(script)
}

struct Imports<'a> {
    names: &'a mut GlobalNames,
    /// Globals declared before this compilation (builtins, stored or defined globals).
    known: &'a dyn Fn(&str) -> bool,
    /// Top-level names of the files imported so far.
    imported_names: HashSet<String>,
    /// The files being compiled, outermost first (canonical path, name in diagnostics).
    loading: Vec<(PathBuf, String)>,
    loaded: HashSet<PathBuf>,
}

impl Imports<'_> {
    /// Compile one file after the files it imports; also returns its top-level names.
    fn compile_file(
        &mut self,
        name: &str,
        source: &str,
        mode: ParseMode,
    ) -> Result<(Rc<Proto>, Vec<String>), Error> {
        // A first parse finds the imports; its errors are reported by the full compile.
        let (scan, _) = walia_lang::parse_with(source, mode);
        let base = base_dir(name);
        let mut imports = Vec::new();
        for stmt in &scan.stmts {
            if let StmtKind::Import { path, path_span } = &stmt.kind {
                let fail = |message: String, label: &str| Error::Compile {
                    file: name.to_string(),
                    source: source.to_string(),
                    diagnostics: vec![Diagnostic::new(message, *path_span).with_label(label)],
                };
                imports.push(self.import(&base, path, fail)?);
            }
        }
        let (program, diagnostics) = {
            let (known, imported) = (self.known, &self.imported_names);
            let visible = |n: &str| known(n) || imported.contains(n);
            parse_and_resolve_with(source, mode, self.names, &visible)
        };
        if !diagnostics.is_empty() {
            return Err(Error::Compile {
                file: name.to_string(),
                source: source.to_string(),
                diagnostics,
            });
        }
        let declared = top_level_names(&program);
        let file = Arc::new(SourceFile {
            name: name.to_string(),
            text: source.to_string(),
        });
        Ok((
            compile_with_imports(&program, file, imports).script,
            declared,
        ))
    }

    /// The script of `import "path"`, or `None` when that file is loaded already.
    fn import(
        &mut self,
        base: &Path,
        path: &str,
        fail: impl Fn(String, &str) -> Error,
    ) -> Result<Option<Rc<Proto>>, Error> {
        let target = base.join(path);
        let shown = target.display().to_string();
        let canonical = match std::fs::canonicalize(&target) {
            Ok(p) if p.is_file() => p,
            Ok(_) => {
                return Err(fail(
                    format!("cannot import \"{path}\": {shown} is not a file"),
                    "not a file",
                ));
            }
            Err(_) => {
                let tried = std::path::absolute(&target).unwrap_or(target.clone());
                return Err(fail(
                    format!(
                        "cannot import \"{path}\": file not found (looked for {})",
                        tried.display()
                    ),
                    "no such file",
                ));
            }
        };
        if let Some(at) = self.loading.iter().position(|(p, _)| *p == canonical) {
            let mut chain: Vec<&str> = self.loading[at..].iter().map(|(_, n)| n.as_str()).collect();
            chain.push(&shown);
            return Err(fail(
                format!("import cycle: {}", chain.join(" -> ")),
                "imported again while it is being imported",
            ));
        }
        if self.loaded.contains(&canonical) {
            return Ok(None);
        }
        let text = crate::read_source(&canonical).map_err(|e| {
            let reason = match e {
                Error::Io { message } => message,
                other => other.to_string(),
            };
            fail(format!("cannot import \"{path}\": {reason}"), "unreadable")
        })?;
        self.loading.push((canonical.clone(), shown.clone()));
        let compiled = self.compile_file(&shown, &text, ParseMode::Script);
        self.loading.pop();
        let (script, declared) = compiled?;
        self.loaded.insert(canonical);
        self.imported_names.extend(declared);
        Ok(Some(script))
    }
}

/// Where the imports of the script named `name` are resolved: its directory, or the
/// current directory for a script with no file (`<-e>`, `<repl>`, `<script>`).
fn base_dir(name: &str) -> PathBuf {
    if name.starts_with('<') {
        return PathBuf::new();
    }
    Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The canonical path of the script named `name`, when it is a file.
fn real_file(name: &str) -> Option<PathBuf> {
    if name.starts_with('<') {
        return None;
    }
    std::fs::canonicalize(name).ok().filter(|p| p.is_file())
}

/// The globals a program's top-level declarations create.
fn top_level_names(program: &Program) -> Vec<String> {
    let mut names = Vec::new();
    for stmt in &program.stmts {
        match &stmt.kind {
            StmtKind::Var { name, .. } => names.push(name.name.clone()),
            StmtKind::VarList { names: list, .. } => {
                names.extend(list.iter().filter(|n| !n.is_skip()).map(|n| n.name.clone()))
            }
            StmtKind::Fun(f) => names.extend(f.name.iter().map(|n| n.name.clone())),
            StmtKind::Class(c) => names.push(c.name.name.clone()),
            _ => {}
        }
    }
    names
}
