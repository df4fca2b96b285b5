//! The model of a random program (a table, pipelines over it or over a range) and its
//! rendering as scripts.

use crate::runner::Program;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------
// Random programs
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
    Bool,
}

/// An expression; each node carries the type it was generated for (shrinking replaces a
/// node only by one of the same type).
#[derive(Clone, Debug)]
pub(crate) enum E {
    Lit(String, Ty),
    Var(String, Ty),
    Neg(Box<E>, Ty),
    Not(Box<E>),
    Bin(&'static str, Box<E>, Box<E>, Ty),
    If(Box<E>, Box<E>, Box<E>, Ty),
    Call(&'static str, Vec<E>, Ty),
}

impl E {
    fn ty(&self) -> Ty {
        match self {
            E::Lit(_, t)
            | E::Var(_, t)
            | E::Neg(_, t)
            | E::Bin(_, _, _, t)
            | E::If(_, _, _, t)
            | E::Call(_, _, t) => *t,
            E::Not(_) => Ty::Bool,
        }
    }

    fn write(&self, s: &mut String) {
        match self {
            E::Lit(t, _) | E::Var(t, _) => s.push_str(t),
            E::Neg(x, _) => {
                s.push_str("(-");
                x.write(s);
                s.push(')');
            }
            E::Not(x) => {
                s.push_str("(!");
                x.write(s);
                s.push(')');
            }
            E::Bin(op, a, b, _) => {
                s.push('(');
                a.write(s);
                let _ = write!(s, " {op} ");
                b.write(s);
                s.push(')');
            }
            E::If(c, a, b, _) => {
                s.push_str("(if (");
                c.write(s);
                s.push_str(") ");
                a.write(s);
                s.push_str(" else ");
                b.write(s);
                s.push(')');
            }
            E::Call(f, args, _) => {
                s.push_str(f);
                s.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    a.write(s);
                }
                s.push(')');
            }
        }
    }

    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn children(&self) -> Vec<&E> {
        match self {
            E::Lit(..) | E::Var(..) => Vec::new(),
            E::Neg(x, _) | E::Not(x) => vec![x],
            E::Bin(_, a, b, _) => vec![a, b],
            E::If(c, a, b, _) => vec![c, a, b],
            E::Call(_, args, _) => args.iter().collect(),
        }
    }

    /// The same node with child `i` replaced.
    fn with_child(&self, i: usize, c: E) -> E {
        let mut e = self.clone();
        match &mut e {
            E::Lit(..) | E::Var(..) => {}
            E::Neg(x, _) | E::Not(x) => **x = c,
            E::Bin(_, a, b, _) => *[a, b][i].as_mut() = c,
            E::If(x, a, b, _) => *[x, a, b][i].as_mut() = c,
            E::Call(_, args, _) => args[i] = c,
        }
        e
    }

    /// Simpler expressions of the same type: a child, a plain literal, or this node with a
    /// child simplified.
    fn shrinks(&self) -> Vec<E> {
        let mut out = Vec::new();
        let ty = self.ty();
        for c in self.children() {
            if c.ty() == ty {
                out.push(c.clone());
            }
        }
        let plain = match ty {
            Ty::Int => "1",
            Ty::Float => "0.5",
            Ty::Bool => "true",
        };
        if !matches!(self, E::Lit(t, _) if t == plain) && !matches!(self, E::Var(..)) {
            out.push(E::Lit(plain.into(), ty));
        }
        for (i, c) in self.children().iter().enumerate() {
            for s in c.shrinks() {
                out.push(self.with_child(i, s));
            }
        }
        out
    }
}

/// Data columns besides `id`: name and type. `d` and `e` hold the edge values.
pub(crate) const COLS: [(&str, Ty); 5] = [
    ("a", Ty::Int),
    ("b", Ty::Float),
    ("c", Ty::Bool),
    ("d", Ty::Int),
    ("e", Ty::Float),
];

#[derive(Clone, Debug)]
pub(crate) enum Rows {
    /// `for (i in 0..n)`: each column's value is a formula in `i`, omitted when its nil
    /// condition holds.
    Loop {
        n: u64,
        form: Vec<String>,
        nil: Vec<Option<String>>,
    },
    /// One `db_insert` per row (ids 0, 1, ...): each column's literal, or the key omitted.
    Explicit(Vec<Vec<Option<String>>>),
}

#[derive(Clone, Debug)]
pub(crate) enum Del {
    One(u64),
    /// Rows with `i % m == r`.
    Mod(u64, u64),
    /// Rows `lo..hi`.
    Span(u64, u64),
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) sql: bool,
    pub(crate) rows: Rows,
    /// `db.T.get(id).col = value;` after the inserts.
    pub(crate) edits: Vec<(u64, usize, String)>,
    pub(crate) deletes: Vec<Del>,
}

impl Table {
    pub(crate) fn len(&self) -> u64 {
        match &self.rows {
            Rows::Loop { n, .. } => *n,
            Rows::Explicit(r) => r.len() as u64,
        }
    }

    fn write(&self, s: &mut String) {
        if self.sql {
            s.push_str("@sql class T { var id; var a; var b; var c; var d; var e; }\n");
        }
        match &self.rows {
            Rows::Loop { n, form, nil } => {
                let _ = write!(s, "for (i in 0..{n}) {{\n  var m = {{id: i");
                for (k, (name, _)) in COLS.iter().enumerate() {
                    if nil[k].is_none() {
                        let _ = write!(s, ", {name}: {}", form[k]);
                    }
                }
                s.push_str("};\n");
                for (k, (name, _)) in COLS.iter().enumerate() {
                    if let Some(cond) = &nil[k] {
                        let _ = writeln!(s, "  if (!({cond})) m.{name} = {};", form[k]);
                    }
                }
                s.push_str("  db_insert(\"T\", m);\n}\n");
            }
            Rows::Explicit(rows) => {
                for (id, row) in rows.iter().enumerate() {
                    let _ = write!(s, "db_insert(\"T\", {{id: {id}");
                    for (k, (name, _)) in COLS.iter().enumerate() {
                        if let Some(v) = &row[k] {
                            let _ = write!(s, ", {name}: {v}");
                        }
                    }
                    s.push_str("});\n");
                }
            }
        }
        for (id, col, v) in &self.edits {
            let _ = writeln!(s, "db.T.get({id}).{} = {v};", COLS[*col].0);
        }
        let n = self.len();
        for d in &self.deletes {
            match d {
                Del::One(id) => {
                    let _ = writeln!(s, "db.T.delete({id});");
                }
                Del::Mod(m, r) => {
                    let _ = writeln!(s, "for (i in 0..{n}) if (i % {m} == {r}) db.T.delete(i);");
                }
                Del::Span(lo, hi) => {
                    let _ = writeln!(s, "for (i in {lo}..{hi}) db.T.delete(i);");
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Stage {
    Filter(&'static str, E),
    Map(&'static str, E),
    /// `map(u => u.col = value)`.
    Set(usize, E),
    Take(i64),
    Skip(i64),
    TakeWhile(&'static str, E),
}

#[derive(Clone, Debug)]
pub(crate) enum Term {
    Simple(&'static str),
    /// `any`/`all` with a predicate.
    Pred(&'static str, &'static str, E),
    /// `reduce(init, (acc, p) => body)`.
    Reduce(E, &'static str, E),
}

#[derive(Clone, Debug)]
pub(crate) enum Source {
    Table,
    Range(i128, i128),
}

#[derive(Clone, Debug)]
pub(crate) struct Pipe {
    pub(crate) source: Source,
    pub(crate) stages: Vec<Stage>,
    pub(crate) term: Term,
    /// Print every row after the pipeline.
    pub(crate) dump: bool,
    pub(crate) wrap: Wrap,
    /// Statements before the pipeline (deletes, inserts, `checkpoint()`).
    pub(crate) before: Vec<String>,
    /// Run the pipeline inside `db_transaction_begin()` and then roll back (`true`) or
    /// commit (`false`).
    pub(crate) txn: Option<bool>,
}

/// How a pipeline is run.
#[derive(Clone, Debug)]
pub(crate) enum Wrap {
    /// `print PIPELINE;`
    Plain,
    /// `for (k in [v, ...]) print PIPELINE;`: the lambdas may read `k` (one compiled plan,
    /// new constants on each run; a new plan when `k`'s type changes).
    Loop(Vec<String>),
    /// `fun fN(k) { return PIPELINE; }` called with each value: `k` is a captured local.
    Func(Vec<String>),
    /// `var sN = SOURCE |> STAGES;` then `print sN |> TERMINAL;` and `print sN |> .1();`: a
    /// stream run twice.
    Stream(&'static str),
}

fn int_text(v: i128) -> String {
    if v == i64::MIN as i128 {
        "(-9223372036854775807 - 1)".into()
    } else {
        v.to_string()
    }
}

impl Pipe {
    fn write(&self, s: &mut String, idx: usize) {
        let mut stream = String::new();
        self.stream(&mut stream);
        let term = self.term_text();
        for b in &self.before {
            s.push_str(b);
            s.push('\n');
        }
        if self.txn.is_some() {
            s.push_str("db_transaction_begin();\n");
        }
        match &self.wrap {
            Wrap::Plain => {
                let _ = writeln!(s, "print {stream} |> {term};");
            }
            Wrap::Loop(vals) => {
                let _ = writeln!(
                    s,
                    "for (k in [{}]) print {stream} |> {term};",
                    vals.join(", ")
                );
            }
            Wrap::Func(vals) => {
                let _ = writeln!(s, "fun f{idx}(k) {{ return {stream} |> {term}; }}");
                for v in vals {
                    let _ = writeln!(s, "print f{idx}({v});");
                }
            }
            Wrap::Stream(second) => {
                let _ = writeln!(
                    s,
                    "var s{idx} = {stream};\nprint s{idx} |> {term};\nprint s{idx} |> {second}();"
                );
            }
        }
        match self.txn {
            Some(true) => s.push_str("db_transaction_rollback();\n"),
            Some(false) => s.push_str("db_transaction_commit();\n"),
            None => {}
        }
        if self.dump {
            s.push_str("for (u in db.T) print u;\n");
        }
    }

    /// The source and the stages.
    fn stream(&self, s: &mut String) {
        match &self.source {
            Source::Table => s.push_str("db.T"),
            Source::Range(lo, hi) => {
                let _ = write!(s, "{}..{}", int_text(*lo), int_text(*hi));
            }
        }
        for st in &self.stages {
            s.push_str(" |> ");
            match st {
                Stage::Filter(p, e) => {
                    let _ = write!(s, "filter({p} => {})", e.text());
                }
                Stage::Map(p, e) => {
                    let _ = write!(s, "map({p} => {})", e.text());
                }
                Stage::Set(col, e) => {
                    let c = COLS[*col].0;
                    let _ = write!(s, "map(u => u.{c} = {})", e.text());
                }
                Stage::Take(n) => {
                    let _ = write!(s, "take({n})");
                }
                Stage::Skip(n) => {
                    let _ = write!(s, "skip({n})");
                }
                Stage::TakeWhile(p, e) => {
                    let _ = write!(s, "take_while({p} => {})", e.text());
                }
            }
        }
    }

    fn term_text(&self) -> String {
        match &self.term {
            Term::Simple(t) => format!("{t}()"),
            Term::Pred(t, p, e) => format!("{t}({p} => {})", e.text()),
            Term::Reduce(init, p, body) => {
                format!("reduce({}, (acc, {p}) => {})", init.text(), body.text())
            }
        }
    }

    pub(crate) fn writes(&self) -> bool {
        self.stages.iter().any(|s| matches!(s, Stage::Set(..)))
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) seed: u64,
    /// The literals of the globals `gi`, `gf`, `gb`.
    pub(crate) globals: [String; 3],
    pub(crate) table: Option<Table>,
    /// The table is committed by a setup run; the rows are printed by a run after.
    pub(crate) persistent: bool,
    pub(crate) pipes: Vec<Pipe>,
    /// `WALIA_JIT_BAIL` of the bailing tier.
    pub(crate) bail: u32,
}

impl Case {
    pub(crate) fn program(&self) -> Program {
        let mut globals = format!(
            "// native_diff case, seed {:#x}\nvar gi = {};\nvar gf = {};\nvar gb = {};\nvar gnan = sqrt(-1.0);\nvar ginf = 1e308 * 10.0;\n",
            self.seed, self.globals[0], self.globals[1], self.globals[2]
        );
        let mut table = String::new();
        if let Some(t) = &self.table {
            t.write(&mut table);
        }
        let mut pipes = String::new();
        for (i, p) in self.pipes.iter().enumerate() {
            p.write(&mut pipes, i);
        }
        if self.persistent && self.table.is_some() {
            globals.push_str(&pipes);
            Program {
                setup: Some(table),
                main: globals,
                after: Some("print db.T.count();\nfor (u in db.T) print u;\n".into()),
                bail: self.bail,
            }
        } else {
            globals.push_str(&table);
            globals.push_str(&pipes);
            Program {
                bail: self.bail,
                ..Program::memory(globals)
            }
        }
    }

    /// Simpler variants of this case, roughly the biggest simplifications first.
    pub(crate) fn shrinks(&self) -> Vec<Case> {
        let mut out = Vec::new();
        let with = |f: &dyn Fn(&mut Case)| {
            let mut c = self.clone();
            f(&mut c);
            c
        };
        if self.pipes.len() > 1 {
            for i in 0..self.pipes.len() {
                out.push(with(&|c| {
                    c.pipes.remove(i);
                }));
            }
        }
        if self.persistent {
            out.push(with(&|c| c.persistent = false));
        }
        if self.table.is_some()
            && self
                .pipes
                .iter()
                .all(|p| matches!(p.source, Source::Range(..)))
        {
            out.push(with(&|c| c.table = None));
        }
        if let Some(t) = &self.table {
            let n = t.len();
            for i in 0..t.deletes.len() {
                out.push(with(&|c| {
                    c.table.as_mut().unwrap().deletes.remove(i);
                }));
            }
            for i in 0..t.edits.len() {
                out.push(with(&|c| {
                    c.table.as_mut().unwrap().edits.remove(i);
                }));
            }
            match &t.rows {
                Rows::Loop { nil, form, .. } => {
                    for smaller in [0, 1, n / 2, n.saturating_sub(1), n.saturating_sub(100)] {
                        if smaller < n {
                            out.push(with(&|c| {
                                if let Rows::Loop { n, .. } = &mut c.table.as_mut().unwrap().rows {
                                    *n = smaller;
                                }
                            }));
                        }
                    }
                    for k in 0..COLS.len() {
                        if nil[k].is_some() {
                            out.push(with(&|c| {
                                if let Rows::Loop { nil, .. } = &mut c.table.as_mut().unwrap().rows
                                {
                                    nil[k] = None;
                                }
                            }));
                        }
                        let plain = plain_form(COLS[k].1);
                        if form[k] != plain {
                            out.push(with(&|c| {
                                if let Rows::Loop { form, .. } = &mut c.table.as_mut().unwrap().rows
                                {
                                    form[k] = plain.into();
                                }
                            }));
                        }
                    }
                }
                Rows::Explicit(rows) => {
                    for i in (0..rows.len()).rev() {
                        out.push(with(&|c| {
                            if let Rows::Explicit(rows) = &mut c.table.as_mut().unwrap().rows {
                                rows.remove(i);
                            }
                        }));
                    }
                }
            }
            if t.sql {
                out.push(with(&|c| c.table.as_mut().unwrap().sql = false));
            }
        }
        for (i, p) in self.pipes.iter().enumerate() {
            for j in 0..p.stages.len() {
                out.push(with(&|c| {
                    c.pipes[i].stages.remove(j);
                }));
            }
            if let Source::Range(lo, hi) = p.source {
                for h in [lo, lo + 1, lo + (hi - lo) / 2, hi - 1] {
                    if h < hi && h >= lo {
                        out.push(with(&|c| c.pipes[i].source = Source::Range(lo, h)));
                    }
                }
            }
            if !matches!(p.wrap, Wrap::Plain) {
                out.push(with(&|c| c.pipes[i].wrap = Wrap::Plain));
            }
            for j in 0..p.before.len() {
                out.push(with(&|c| {
                    c.pipes[i].before.remove(j);
                }));
            }
            if p.txn.is_some() {
                out.push(with(&|c| c.pipes[i].txn = None));
            }
            if let Wrap::Loop(v) | Wrap::Func(v) = &p.wrap {
                for j in 0..v.len() {
                    if v.len() > 1 {
                        out.push(with(&|c| {
                            if let Wrap::Loop(v) | Wrap::Func(v) = &mut c.pipes[i].wrap {
                                v.remove(j);
                            }
                        }));
                    }
                }
            }
            if !matches!(p.term, Term::Simple("count")) {
                out.push(with(&|c| c.pipes[i].term = Term::Simple("count")));
            }
            if p.dump && !p.writes() {
                out.push(with(&|c| c.pipes[i].dump = false));
            }
            for (j, st) in p.stages.iter().enumerate() {
                match st {
                    Stage::Take(n) | Stage::Skip(n) => {
                        for m in [0, 1, n / 2] {
                            if m < *n {
                                out.push(with(&|c| {
                                    c.pipes[i].stages[j] = match &c.pipes[i].stages[j] {
                                        Stage::Take(_) => Stage::Take(m),
                                        _ => Stage::Skip(m),
                                    }
                                }));
                            }
                        }
                    }
                    Stage::Filter(_, e)
                    | Stage::Map(_, e)
                    | Stage::Set(_, e)
                    | Stage::TakeWhile(_, e) => {
                        for s in e.shrinks() {
                            out.push(with(&|c| {
                                let st = &mut c.pipes[i].stages[j];
                                match st {
                                    Stage::Filter(_, e)
                                    | Stage::Map(_, e)
                                    | Stage::Set(_, e)
                                    | Stage::TakeWhile(_, e) => *e = s.clone(),
                                    _ => {}
                                }
                            }));
                        }
                    }
                }
            }
            match &p.term {
                Term::Simple(_) => {}
                Term::Pred(_, _, e) => {
                    for s in e.shrinks() {
                        out.push(with(&|c| {
                            if let Term::Pred(_, _, e) = &mut c.pipes[i].term {
                                *e = s.clone();
                            }
                        }));
                    }
                }
                Term::Reduce(init, _, body) => {
                    for s in body.shrinks() {
                        out.push(with(&|c| {
                            if let Term::Reduce(_, _, b) = &mut c.pipes[i].term {
                                *b = s.clone();
                            }
                        }));
                    }
                    for s in init.shrinks() {
                        out.push(with(&|c| {
                            if let Term::Reduce(i0, _, _) = &mut c.pipes[i].term {
                                *i0 = s.clone();
                            }
                        }));
                    }
                }
            }
        }
        out
    }
}

fn plain_form(ty: Ty) -> &'static str {
    match ty {
        Ty::Int => "i",
        Ty::Float => "i * 0.5",
        Ty::Bool => "i % 2 == 0",
    }
}
