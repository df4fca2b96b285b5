//! `:explain` in the REPL (and [`Engine::explain`]): the plan of a pipeline expression,
//! shown without running the pipeline.

use crate::{Engine, Error};
use walia_lang::ast::{Expr, ExprKind, StmtKind};
use walia_runtime::api::{LAZY_STAGES, TerminalArgs, ops, plan_lines, stream_lines};
use walia_runtime::{RtError, Value, Vm};

fn usage() -> Error {
    Error::Runtime(RtError::new(
        "explain expects a pipeline that ends in a terminal, like `xs |> map(f) |> sum()`",
    ))
}

/// The terminal of `lhs |> rhs`: its name and argument expressions.
fn terminal_of(rhs: &Expr) -> Option<(&str, &[Expr])> {
    match &rhs.kind {
        ExprKind::Name(n) => Some((n.name.as_str(), &[])),
        ExprKind::Call { callee, args } => match &callee.kind {
            ExprKind::Name(n) => Some((n.name.as_str(), args.as_slice())),
            _ => None,
        },
        _ => None,
    }
}

impl Engine {
    /// The plan of `code`, a pipeline ending in a terminal (`db.users |> filter(f) |>
    /// sum()`): its source, stages and terminal, then `compiled` or `not compiled:
    /// REASON`, as `--explain` prints it. The source and the terminal's arguments are
    /// evaluated (building a stream runs nothing); the pipeline itself is not run. A pipe
    /// that ends in a lazy stage gets its source and stages and a line saying that it has
    /// no terminal.
    pub fn explain(&mut self, code: &str) -> Result<String, Error> {
        let code = code.trim().trim_end_matches(';').trim_end();
        let (program, diags) = walia_lang::parse_with(code, walia_lang::ParseMode::Input);
        if !diags.is_empty() {
            // The compiler reports the syntax errors the usual way.
            self.eval_live("<explain>", code)?;
            return Err(usage());
        }
        let [stmt] = program.stmts.as_slice() else {
            return Err(usage());
        };
        let StmtKind::Expr { expr, .. } = &stmt.kind else {
            return Err(usage());
        };
        let ExprKind::Pipe(lhs, rhs) = &expr.kind else {
            return Err(usage());
        };
        let (name, arg_exprs) = terminal_of(rhs).ok_or_else(usage)?;
        if self.is_lazy_stage(name) {
            // Building the stream runs nothing: show what it would run.
            return self.explain_lazy(code);
        }
        let text = |e: &Expr| code.get(e.span.range()).unwrap_or("").to_string();
        let pipeline = self.eval_live("<explain>", &text(lhs))?;
        let mut args = Vec::new();
        for a in arg_exprs {
            args.push(self.eval_live("<explain>", &text(a))?);
        }
        let (init, function) = match name {
            "reduce" => (args.first(), args.get(1)),
            "any" | "all" | "group_by" | "sort_by" => (None, args.first()),
            _ => (None, None),
        };
        let terminal = TerminalArgs {
            name,
            init,
            function,
            args: &[],
        };
        let (source, stages) = match &pipeline {
            Value::Stream(p) => (p.source.clone(), p.stages.clone()),
            other => (other.clone(), Vec::new()),
        };
        let mut vm = self.enter();
        let plan = walia_runtime::api::bind_plan(&vm, &source, &stages);
        let tier = walia_runtime::api::explain_tier(&mut vm, &plan, name);
        let vm: &Vm = &vm;
        let mut out = String::from("pipe 1:1\n");
        for line in plan_lines(vm, &source, &stages, &terminal, &plan, tier) {
            out.push_str(&line);
            out.push('\n');
        }
        // The engine's values go while its registries are installed.
        drop((plan, stages, source, pipeline, args));
        Ok(out.trim_end().to_string())
    }

    /// Is `name` one of the builtin lazy stages (not a global of the user's by that name)?
    fn is_lazy_stage(&mut self, name: &str) -> bool {
        if !LAZY_STAGES.contains(&name) {
            return false;
        }
        let mut vm = self.enter();
        match (vm.global_or_stored(name), vm.builtin_by_name(name)) {
            (Ok(Some(global)), Some(builtin)) => ops::identical(&global, &builtin),
            _ => false,
        }
    }

    /// The plan of a pipe that ends in a lazy stage: its source and stages, and that it has
    /// no terminal yet.
    fn explain_lazy(&mut self, code: &str) -> Result<String, Error> {
        let stream = self.eval_live("<explain>", code)?;
        let lines = {
            // Table names are read from the engine's registries, and its values are
            // dropped with them installed.
            let _vm = self.enter();
            let lines = match &stream {
                Value::Stream(p) => Some(stream_lines(&p.source, &p.stages)),
                _ => None,
            };
            drop(stream);
            lines
        };
        let mut out = String::from("pipe 1:1\n");
        for line in lines.ok_or_else(usage)? {
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(
            "  no terminal: the pipe is lazy and runs nothing until a terminal ends it \
             (|> collect(), |> count(), |> run()...)",
        );
        Ok(out)
    }
}
