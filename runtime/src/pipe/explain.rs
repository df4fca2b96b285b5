//! `--explain` and the REPL's `:explain`: a pipeline's plan, and whether it runs as one
//! native loop (SPEC §11) or why not.

use super::plan::{Plan, PlanSource, bind_reducer, source_name};
use crate::pipe::Stage;
use crate::value::Value;
use crate::vm::Vm;

/// The lazy stages (SPEC §8): a pipe whose last stage is one of these has no terminal and
/// runs nothing yet.
pub const LAZY_STAGES: &[&str] = &[
    "filter",
    "map",
    "take",
    "skip",
    "take_while",
    "each",
    "enumerate",
    "flat_map",
    "db_insert",
    "checkpoint_at",
    "parallel",
];

/// Terminals the native loop implements (SPEC §11).
const NATIVE_TERMINALS: &[&str] = &[
    "sum", "count", "length", "min", "max", "avg", "reduce", "first", "last", "any", "all", "run",
];

/// The text of a stage's function: a lambda's source, or a function's name.
fn function_text(f: &Value) -> String {
    match f {
        Value::Function(c) => {
            let p = &c.proto;
            match (&p.name, p.source.text.get(p.span.range())) {
                (Some(n), _) => n.to_string(),
                (None, Some(text)) => text.to_string(),
                (None, None) => "<fun>".to_string(),
            }
        }
        Value::Native(n) => n.name.to_string(),
        other => other.type_name().to_string(),
    }
}

pub(crate) fn stage_text(s: &Stage) -> String {
    let arg = match s {
        Stage::Filter(f)
        | Stage::Map(f)
        | Stage::TakeWhile(f)
        | Stage::Each(f)
        | Stage::FlatMap(f) => function_text(f),
        Stage::Take(n) | Stage::Skip(n) | Stage::Parallel(n) => n.to_string(),
        Stage::Enumerate => String::new(),
        Stage::CheckpointAt(c) => format!("{}, \"{}\"", c.every, c.name),
        Stage::DbInsert(t) => match t {
            Value::Table(t) => crate::db::handle::table_name(*t).to_string(),
            Value::Str(s) => s.as_str().to_string(),
            other => other.type_name().to_string(),
        },
    };
    format!("{}({arg})", s.name())
}

/// What the terminal is called with: `reduce`'s initial value and function, `any`/`all`'s
/// predicate.
pub struct TerminalArgs<'a> {
    pub name: &'a str,
    pub init: Option<&'a Value>,
    pub function: Option<&'a Value>,
    /// Every argument after the stream, in order (a checkpointed pass stores them, so
    /// warm boot can call the terminal again).
    pub args: &'a [Value],
}

/// Why the pipeline is not one native loop, or `None` when it is. `source` is the
/// pipeline (a stream) or a bare source.
pub fn not_native(
    vm: &Vm,
    source: &Value,
    terminal: &TerminalArgs,
    plan: &Result<Plan, String>,
) -> Option<String> {
    if !vm.jit {
        return Some("compilation is off (--no-jit or WALIA_JIT=0)".into());
    }
    outside_subset(vm, source, terminal, plan)
}

/// Why the pipeline is outside the native subset (whether or not compilation is on).
pub fn outside_subset(
    vm: &Vm,
    source: &Value,
    terminal: &TerminalArgs,
    plan: &Result<Plan, String>,
) -> Option<String> {
    let plan = match plan {
        Ok(p) => p,
        Err(why) => return Some(why.clone()),
    };
    if matches!(plan.source, PlanSource::List) {
        return Some("the source is a list (the native loop reads tables and ranges)".into());
    }
    if !NATIVE_TERMINALS.contains(&terminal.name) {
        return Some(format!(
            "the terminal {}() is not in the native subset",
            terminal.name
        ));
    }
    if let Some(f) = terminal.function {
        let mut plan = plan.clone();
        if let Err(why) = bind_terminal_function(vm, &mut plan, f, source, terminal.name) {
            return Some(format!("terminal {}(): {why}", terminal.name));
        }
    }
    if let Some(init) = terminal.init
        && !matches!(init, Value::Int(_) | Value::Float(_))
    {
        return Some("terminal reduce(): the initial value is not a number".into());
    }
    None
}

pub fn bind_terminal_function(
    vm: &Vm,
    plan: &mut Plan,
    f: &Value,
    source: &Value,
    terminal: &str,
) -> Result<(), String> {
    let base = match source {
        Value::Stream(p) => p.source.clone(),
        other => other.clone(),
    };
    if terminal == "reduce" {
        return bind_reducer(vm, plan, f, &base).map(|_| ());
    }
    // A predicate or key function is bound like a filter stage.
    let mut stages: Vec<Stage> = Vec::new();
    if let Value::Stream(p) = source {
        stages.extend(p.stages.iter().cloned());
    }
    stages.push(Stage::Filter(f.clone()));
    super::plan::bind(vm, &base, &stages).map(|_| ())
}

/// A stream in one line, its source and the names of its stages:
/// `table users |> filter |> map`.
pub fn stream_summary(source: &Value, stages: &[Stage]) -> String {
    let mut text = source_name(source);
    for s in stages {
        text.push_str(" |> ");
        text.push_str(s.name());
    }
    text
}

/// A plan's first lines: `source: ...` and one line per stage.
pub fn stream_lines(source: &Value, stages: &[Stage]) -> Vec<String> {
    let mut lines = vec![format!("  source: {}", source_name(source))];
    for (k, s) in stages.iter().enumerate() {
        lines.push(format!("  stage {}: {}", k + 1, stage_text(s)));
    }
    lines
}

/// The plan's lines: `source: ...`, one per stage, `terminal: ...`, then `compiled` or
/// `not compiled: REASON`.
pub fn plan_lines(
    vm: &Vm,
    source: &Value,
    stages: &[Stage],
    terminal: &TerminalArgs,
    plan: &Result<Plan, String>,
    tier: Option<String>,
) -> Vec<String> {
    let mut lines = stream_lines(source, stages);
    let arg = terminal.function.map(function_text).unwrap_or_default();
    lines.push(format!("  terminal: {}({arg})", terminal.name));
    let pipeline = Value::Stream(std::rc::Rc::new(crate::pipe::Pipeline {
        gc: Default::default(),
        source: source.clone(),
        stages: stages.to_vec(),
    }));
    let verdict = not_native(vm, &pipeline, terminal, plan);
    // Which tier runs it goes on the terminal's line: the plan keeps one line per source,
    // stage and terminal (SPEC §11).
    if verdict.is_none()
        && let (Some(tier), Some(last)) = (tier, lines.last_mut())
    {
        last.push_str("  ");
        last.push_str(&tier);
    }
    lines.push(match verdict {
        None => "compiled".to_string(),
        Some(why) => format!("not compiled: {why}"),
    });
    lines
}

/// `--explain`: write the plan of the pipeline a terminal is about to run to stderr, the
/// first time the pipeline at this place runs.
pub fn report(
    vm: &mut Vm,
    source: &Value,
    stages: &[Stage],
    terminal: &TerminalArgs,
    plan: &Result<Plan, String>,
    tier: Option<String>,
) {
    let (file, line, col) = match vm.current_location() {
        Some((src, span)) => {
            let before = src.text.get(..span.start as usize).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (src.name.clone(), line, col)
        }
        None => (String::new(), 0, 0),
    };
    if !vm.explained.insert((file, line, col)) {
        return;
    }
    let mut text = format!("pipe {line}:{col}\n");
    for l in plan_lines(vm, source, stages, terminal, plan, tier) {
        text.push_str(&l);
        text.push('\n');
    }
    eprint!("{text}");
}

#[cfg(test)]
mod tests {
    use super::LAZY_STAGES;
    use crate::pipe::Stage;
    use crate::value::Value;

    /// A stage added to [`Stage`] stops this from compiling until it is listed here and
    /// in [`LAZY_STAGES`].
    fn listed(s: &Stage) -> bool {
        match s {
            Stage::Filter(_)
            | Stage::Map(_)
            | Stage::Take(_)
            | Stage::Skip(_)
            | Stage::TakeWhile(_)
            | Stage::Each(_)
            | Stage::Enumerate
            | Stage::FlatMap(_)
            | Stage::DbInsert(_)
            | Stage::Parallel(_)
            | Stage::CheckpointAt(_) => LAZY_STAGES.contains(&s.name()),
        }
    }

    #[test]
    fn every_stage_is_a_lazy_stage() {
        let f = Value::Nil;
        let stages = [
            Stage::Filter(f.clone()),
            Stage::Map(f.clone()),
            Stage::Take(1),
            Stage::Skip(1),
            Stage::TakeWhile(f.clone()),
            Stage::Each(f.clone()),
            Stage::Enumerate,
            Stage::FlatMap(f.clone()),
            Stage::DbInsert(f),
            Stage::Parallel(2),
        ];
        for s in &stages {
            assert!(listed(s), "{} is not in LAZY_STAGES", s.name());
        }
        assert!(LAZY_STAGES.contains(&"checkpoint_at"));
        assert_eq!(LAZY_STAGES.len(), stages.len() + 1);
    }
}
