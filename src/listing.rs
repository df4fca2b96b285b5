//! The cursors of checkpointed pipes as `walia inspect` and the REPL's `:cursors` list
//! them, and the check `walia verify` makes of them. One damaged cursor is reported on
//! its own line; it never hides the others.

use walia::Engine;
use walia::resume::CursorInfo;

/// One cursor of the listing.
pub enum Listed {
    Ok(CursorInfo),
    /// A stored cursor that cannot be read, and why.
    Damaged {
        name: String,
        error: String,
    },
}

/// Every cursor of the engine's heap, sorted by name; `Err` when the names themselves
/// cannot be read.
pub fn cursors(engine: &mut Engine) -> Result<Vec<Listed>, String> {
    let names = engine.cursors().map_err(|e| e.to_string())?;
    Ok(names
        .into_iter()
        .map(|name| match engine.cursor_info(&name) {
            Ok(Some(info)) => Listed::Ok(info),
            Ok(None) => Listed::Damaged {
                name,
                error: "its record disappeared while it was listed".to_string(),
            },
            Err(e) => Listed::Damaged {
                name,
                error: e.to_string(),
            },
        })
        .collect())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `50/100` (`50/?` when the end is not known).
fn position(c: &CursorInfo) -> String {
    match c.total {
        Some(t) => format!("{}/{t}", c.position),
        None => format!("{}/?", c.position),
    }
}

/// One aligned line per cursor (columns padded to the widest entry), no header:
/// `name  state  position/total  every N  N checkpoints  N resumes  N passes  definition`.
pub fn lines(list: &[Listed]) -> Vec<String> {
    let name_w = list
        .iter()
        .map(|l| match l {
            Listed::Ok(c) => c.name.chars().count(),
            Listed::Damaged { name, .. } => name.chars().count(),
        })
        .max()
        .unwrap_or(0);
    let ok = || {
        list.iter().filter_map(|l| match l {
            Listed::Ok(c) => Some(c),
            Listed::Damaged { .. } => None,
        })
    };
    let width = |f: &dyn Fn(&CursorInfo) -> String| ok().map(|c| f(c).len()).max().unwrap_or(0);
    let pos_w = width(&position);
    let every_w = width(&|c| c.every.to_string());
    let ckpt_w = width(&|c| plural(c.checkpoints, "checkpoint", "checkpoints"));
    let resumes_w = width(&|c| plural(c.resumes, "resume", "resumes"));
    let passes_w = width(&|c| plural(c.passes, "pass", "passes"));
    list.iter()
        .map(|l| match l {
            Listed::Ok(c) => format!(
                "{:name_w$}  {:11}  {:>pos_w$}  every {:<every_w$}  {:<ckpt_w$}  {:<resumes_w$}  {:<passes_w$}  {}",
                c.name,
                c.state,
                position(c),
                c.every,
                plural(c.checkpoints, "checkpoint", "checkpoints"),
                plural(c.resumes, "resume", "resumes"),
                plural(c.passes, "pass", "passes"),
                c.definition
            ),
            Listed::Damaged { name, error } => format!("{name:name_w$}  damaged: {error}"),
        })
        .collect()
}

/// The `cursors` array of `walia inspect --json`.
pub fn json(list: &[Listed]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = list
        .iter()
        .map(|l| match l {
            Listed::Ok(c) => serde_json::json!({
                "name": c.name,
                "state": c.state,
                "position": c.position,
                "total": c.total,
                "every": c.every,
                "checkpoints": c.checkpoints,
                "resumes": c.resumes,
                "passes": c.passes,
                "last_commit_ms": c.last_commit_ms,
                "fingerprint": c.fingerprint,
                "definition": c.definition,
            }),
            Listed::Damaged { name, error } => serde_json::json!({
                "name": name,
                "state": "damaged",
                "error": error,
            }),
        })
        .collect();
    serde_json::Value::Array(items)
}

/// `walia verify`'s check of the cursors: each one decodes, and one whose pass was
/// interrupted can be resumed (its stored stream is a checkpointed pipe of that name and
/// its terminal exists). Returns how many were checked, or each problem as
/// `checkpointed pipe 'NAME': WHAT`.
pub fn check(engine: &mut Engine) -> Result<u64, Vec<String>> {
    let list = cursors(engine).map_err(|e| vec![format!("the cursors cannot be read: {e}")])?;
    let mut problems = Vec::new();
    for l in &list {
        if let Listed::Damaged { name, error } = l {
            problems.push(format!("checkpointed pipe '{name}': {error}"));
        }
    }
    if problems.is_empty() {
        match engine.resume_problems() {
            Ok(found) => problems.extend(found),
            Err(e) => problems.push(format!("the cursors cannot be read: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(list.len() as u64)
    } else {
        Err(problems)
    }
}
