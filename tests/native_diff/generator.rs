//! The random generator of programs and the shrinking of a failing one.

use crate::case::{COLS, Case, Del, E, Pipe, Rows, Source, Stage, Table, Term, Ty, Wrap};
use crate::common::Rng;
use crate::runner::run_program;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Literal pools. Edge values come less often.
const SMALL_INTS: &[&str] = &[
    "0", "1", "2", "3", "5", "7", "10", "-1", "-2", "-7", "100", "499", "500", "1000",
];
const EDGE_INTS: &[&str] = &[
    "4611686018427387904",
    "-4611686018427387904",
    "9223372036854775807",
    "(-9223372036854775807 - 1)",
    "9007199254740993",
    "9007199254740992",
    "2147483648",
    "3037000500",
];
const SMALL_FLOATS: &[&str] = &[
    "0.5", "1.5", "2.0", "0.25", "-0.5", "3.0", "0.1", "10.0", "100.5", "-2.75", "1.0",
];
const EDGE_FLOATS: &[&str] = &[
    "(-0.0)",
    "0.0",
    "1e308",
    "(-1e308)",
    "1e-300",
    "1e300",
    "9007199254740992.0",
    "9223372036854775807.0",
    "(1e308 * 10.0)",
    "sqrt(-1.0)",
    "4.5e15",
];
/// Divisors that are never zero (a random divisor is often 0, and the error ends the run).
const DIVISORS: &[&str] = &["2", "3", "7", "-3", "10", "500", "1000"];

pub(crate) struct Gen {
    pub(crate) rng: Rng,
    /// Rows inserted between pipelines so far (their ids are 100000 + this).
    pub(crate) fresh: u64,
}

impl Gen {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn int_lit(&mut self) -> String {
        if self.chance(12) {
            self.pick(EDGE_INTS).into()
        } else {
            self.pick(SMALL_INTS).into()
        }
    }

    fn float_lit(&mut self) -> String {
        if self.chance(15) {
            self.pick(EDGE_FLOATS).into()
        } else {
            self.pick(SMALL_FLOATS).into()
        }
    }

    fn lit(&mut self, ty: Ty) -> E {
        let t = match ty {
            Ty::Int => self.int_lit(),
            Ty::Float => self.float_lit(),
            Ty::Bool => self.pick(&["true", "false"]).into(),
        };
        E::Lit(t, ty)
    }

    fn leaf(&mut self, scope: &[(String, Ty)], ty: Ty) -> E {
        let vars: Vec<&(String, Ty)> = scope.iter().filter(|(_, t)| *t == ty).collect();
        let globals: &[&str] = match ty {
            Ty::Int => &["gi"],
            Ty::Float => &["gf", "gf", "gf", "gnan", "ginf"],
            Ty::Bool => &["gb"],
        };
        let roll = self.below(100);
        if !vars.is_empty() && roll < 65 {
            let (name, _) = vars[self.below(vars.len() as u64) as usize];
            E::Var(name.clone(), ty)
        } else if roll < 75 {
            E::Var(self.pick(globals).into(), ty)
        } else {
            self.lit(ty)
        }
    }

    fn num_ty(&mut self) -> Ty {
        if self.chance(55) { Ty::Int } else { Ty::Float }
    }

    fn divisor(&mut self, scope: &[(String, Ty)], ty: Ty, depth: u32) -> E {
        if self.chance(55) {
            let d = self.pick(DIVISORS);
            match ty {
                Ty::Float => E::Lit(format!("{d}.5"), Ty::Float),
                _ => E::Lit(d.into(), Ty::Int),
            }
        } else {
            self.expr(scope, ty, depth)
        }
    }

    /// An expression of type `ty` (mostly: one in fifty is outside the native subset's
    /// typing or a type error).
    fn expr(&mut self, scope: &[(String, Ty)], ty: Ty, depth: u32) -> E {
        if depth == 0 || self.chance(28) {
            return self.leaf(scope, ty);
        }
        let d = depth - 1;
        if self.chance(2) {
            return self.odd(scope, ty, d);
        }
        let b = |op: &'static str, x: E, y: E, t: Ty| E::Bin(op, Box::new(x), Box::new(y), t);
        match ty {
            Ty::Int => match self.below(13) {
                0..=3 => {
                    let op = self.pick(&["+", "-", "*"]);
                    b(
                        op,
                        self.expr(scope, Ty::Int, d),
                        self.expr(scope, Ty::Int, d),
                        ty,
                    )
                }
                4 => {
                    let x = self.expr(scope, Ty::Int, d);
                    b("%", x, self.divisor(scope, Ty::Int, d), ty)
                }
                5 => E::Neg(Box::new(self.expr(scope, Ty::Int, d)), ty),
                6 => E::Call("abs", vec![self.expr(scope, Ty::Int, d)], ty),
                7 | 8 => {
                    let f = self.pick(&["floor", "ceil", "round", "int"]);
                    E::Call(f, vec![self.expr(scope, Ty::Float, d)], ty)
                }
                9 => {
                    let f = self.pick(&["min", "max"]);
                    let n = 2 + self.below(2);
                    let args = (0..n).map(|_| self.expr(scope, Ty::Int, d)).collect();
                    E::Call(f, args, ty)
                }
                10 | 11 => E::If(
                    Box::new(self.expr(scope, Ty::Bool, d)),
                    Box::new(self.expr(scope, Ty::Int, d)),
                    Box::new(self.expr(scope, Ty::Int, d)),
                    ty,
                ),
                _ => {
                    let op = self.pick(&["and", "or"]);
                    b(
                        op,
                        self.expr(scope, Ty::Int, d),
                        self.expr(scope, Ty::Int, d),
                        ty,
                    )
                }
            },
            Ty::Float => match self.below(14) {
                0..=3 => {
                    let op = self.pick(&["+", "-", "*"]);
                    let (x, y) = (self.expr(scope, Ty::Float, d), {
                        let t = self.num_ty();
                        self.expr(scope, t, d)
                    });
                    if self.chance(50) {
                        b(op, x, y, ty)
                    } else {
                        b(op, y, x, ty)
                    }
                }
                4 | 5 => {
                    let t = self.num_ty();
                    let x = self.expr(scope, t, d);
                    let t = self.num_ty();
                    b("/", x, self.divisor(scope, t, d), ty)
                }
                6 => {
                    let x = self.expr(scope, Ty::Float, d);
                    let t = self.num_ty();
                    b("%", x, self.divisor(scope, t, d), ty)
                }
                7 => E::Neg(Box::new(self.expr(scope, Ty::Float, d)), ty),
                8 => {
                    let f = self.pick(&["abs", "sqrt", "exp", "sin", "cos", "log", "float"]);
                    let t = if f == "abs" { Ty::Float } else { self.num_ty() };
                    let mut args = vec![self.expr(scope, t, d)];
                    if f == "log" && self.chance(30) {
                        args.push(self.lit(Ty::Float));
                    }
                    E::Call(f, args, ty)
                }
                9 => {
                    let t = self.num_ty();
                    let x = self.expr(scope, Ty::Float, d);
                    E::Call("pow", vec![x, self.expr(scope, t, d)], ty)
                }
                10 => {
                    let f = self.pick(&["min", "max"]);
                    let n = 2 + self.below(2);
                    let args = (0..n).map(|_| self.expr(scope, Ty::Float, d)).collect();
                    E::Call(f, args, ty)
                }
                11 => E::Call("float", vec![self.expr(scope, Ty::Int, d)], ty),
                _ => E::If(
                    Box::new(self.expr(scope, Ty::Bool, d)),
                    Box::new(self.expr(scope, Ty::Float, d)),
                    Box::new(self.expr(scope, Ty::Float, d)),
                    ty,
                ),
            },
            Ty::Bool => match self.below(10) {
                0..=4 => {
                    let op = self.pick(&["<", "<=", ">", ">=", "==", "!="]);
                    let (t1, t2) = (self.num_ty(), self.num_ty());
                    b(op, self.expr(scope, t1, d), self.expr(scope, t2, d), ty)
                }
                5 => {
                    let op = self.pick(&["==", "!="]);
                    b(
                        op,
                        self.expr(scope, Ty::Bool, d),
                        self.expr(scope, Ty::Bool, d),
                        ty,
                    )
                }
                6 => E::Not(Box::new(self.expr(scope, Ty::Bool, d))),
                7 | 8 => {
                    let op = self.pick(&["and", "or"]);
                    b(
                        op,
                        self.expr(scope, Ty::Bool, d),
                        self.expr(scope, Ty::Bool, d),
                        ty,
                    )
                }
                _ => E::If(
                    Box::new(self.expr(scope, Ty::Bool, d)),
                    Box::new(self.expr(scope, Ty::Bool, d)),
                    Box::new(self.expr(scope, Ty::Bool, d)),
                    ty,
                ),
            },
        }
    }

    /// Something outside the subset's static typing, or a type error.
    fn odd(&mut self, scope: &[(String, Ty)], ty: Ty, d: u32) -> E {
        let b = |op: &'static str, x: E, y: E, t: Ty| E::Bin(op, Box::new(x), Box::new(y), t);
        match self.below(6) {
            0 => {
                let x = self.expr(scope, Ty::Int, d);
                b("and", x, self.expr(scope, Ty::Bool, d), ty)
            }
            1 => {
                let x = self.expr(scope, Ty::Int, d);
                E::Call("min", vec![x, self.expr(scope, Ty::Float, d)], ty)
            }
            2 => {
                let x = self.expr(scope, Ty::Int, d);
                E::Call(
                    "pow",
                    vec![
                        x,
                        E::Lit(self.pick(&["2", "3", "-1", "62", "63"]).into(), Ty::Int),
                    ],
                    ty,
                )
            }
            3 => {
                let x = self.expr(scope, Ty::Bool, d);
                b("+", x, self.expr(scope, Ty::Int, d), ty)
            }
            4 => {
                let x = self.expr(scope, Ty::Int, d);
                b("==", x, E::Lit("nil".into(), Ty::Bool), Ty::Bool)
            }
            _ => {
                let x = self.expr(scope, Ty::Bool, d);
                b("<", x, self.expr(scope, Ty::Bool, d), Ty::Bool)
            }
        }
    }

    /// A value of `k` (one in ten of the other numeric type).
    fn k_value(&mut self, ty: Ty) -> String {
        let ty = match ty {
            Ty::Int if self.chance(10) => Ty::Float,
            Ty::Float if self.chance(10) => Ty::Int,
            t => t,
        };
        self.lit(ty).text()
    }

    fn count(&mut self) -> i64 {
        if self.chance(2) {
            return -1;
        }
        self.pick(&[
            0, 1, 2, 3, 10, 250, 499, 500, 501, 999, 1000, 1001, 1023, 1024, 1025, 2000,
        ])
    }

    fn table(&mut self) -> Table {
        let sizes = [
            0u64, 1, 2, 5, 12, 499, 500, 501, 999, 1000, 1001, 1499, 1500, 2047, 2500, 3001, 4200,
        ];
        let explicit = self.chance(20);
        let rows = if explicit {
            let n = self.below(13) as usize;
            let mut rows = Vec::new();
            for r in 0..n {
                let mut row = Vec::new();
                for (name, ty) in COLS {
                    if self.chance(12) {
                        row.push(None);
                        continue;
                    }
                    let v = match ty {
                        Ty::Int if name == "d" && self.chance(40) => self.pick(EDGE_INTS).into(),
                        Ty::Int => self.int_lit(),
                        Ty::Float if name == "e" && self.chance(40) => {
                            self.pick(EDGE_FLOATS).into()
                        }
                        // An Int into a Float column (after its first value) is converted.
                        Ty::Float if r > 2 && self.chance(10) => self.pick(SMALL_INTS).into(),
                        Ty::Float => self.float_lit(),
                        Ty::Bool => self.pick(&["true", "false"]).into(),
                    };
                    row.push(Some(v));
                }
                rows.push(row);
            }
            Rows::Explicit(rows)
        } else {
            let n = if self.chance(15) {
                self.below(5000)
            } else {
                self.pick(&sizes)
            };
            let a = match self.below(4) {
                0 => "i".to_string(),
                1 => format!(
                    "i * {} - {}",
                    self.pick(&[1, 2, 3, -1, 7]),
                    self.pick(&[0, 5, 500, 1000])
                ),
                2 => format!(
                    "(i * {}) % {} - {}",
                    self.pick(&[7, 13, 1000003]),
                    self.pick(&[10, 97, 1000]),
                    self.pick(&[0, 3, 50])
                ),
                _ => format!("i % {}", self.pick(&[2, 3, 500, 1000])),
            };
            let b = match self.below(4) {
                0 => "i * 0.5".to_string(),
                1 => format!(
                    "i * {} - {}",
                    self.pick(&["0.25", "0.1", "-1.5", "1e-3"]),
                    self.pick(&["0.0", "10.5", "300.0"])
                ),
                2 => format!("(i % {}) * 0.5", self.pick(&[3, 7, 100])),
                _ => format!("float(i) / {}", self.pick(&["3", "7.0", "1000"])),
            };
            let c = match self.below(3) {
                0 => format!("i % {} == {}", self.pick(&[2, 3, 5]), self.pick(&[0, 1])),
                1 => format!(
                    "i % {} < {}",
                    self.pick(&[500, 1000]),
                    self.pick(&[250, 499, 700])
                ),
                _ => self.pick(&["true", "false"]).to_string(),
            };
            let edge_int = self.pick(EDGE_INTS);
            let d = match self.below(3) {
                0 => format!(
                    "if (i % {} == {}) {edge_int} else i",
                    self.pick(&[97, 500, 1000, 1001]),
                    self.pick(&[0, 1, 499])
                ),
                1 => format!(
                    "i * {}",
                    self.pick(&["1099511627776", "3", "-461168601842738"])
                ),
                _ => "-i".to_string(),
            };
            let edge_float = self.pick(EDGE_FLOATS);
            let e = match self.below(3) {
                0 => format!(
                    "if (i % {} == {}) {edge_float} else i * 0.5",
                    self.pick(&[7, 97, 500, 1001]),
                    self.pick(&[0, 3, 499])
                ),
                1 => format!("i * {}", self.pick(&["1e300", "-0.0", "1.5"])),
                _ => "0.0 - i".to_string(),
            };
            let form = vec![a, b, c, d, e];
            let nil = (0..COLS.len())
                .map(|_| match self.below(10) {
                    0 => Some(format!(
                        "i % {} == {}",
                        self.pick(&[3, 97, 500, 1001]),
                        self.pick(&[0, 1, 2])
                    )),
                    1 => {
                        let lo = self.pick(&[0, 250, 499, 500, 1000]);
                        Some(format!(
                            "i >= {lo} and i < {}",
                            lo + self.pick(&[1, 2, 500, 501])
                        ))
                    }
                    2 if self.chance(10) => Some("true".to_string()),
                    _ => None,
                })
                .collect();
            Rows::Loop { n, form, nil }
        };
        let mut t = Table {
            sql: self.chance(30),
            rows,
            edits: Vec::new(),
            deletes: Vec::new(),
        };
        let n = t.len();
        if n == 0 {
            t.sql = true;
        }
        if n > 0 {
            for _ in 0..self.below(3) {
                let id = if self.chance(50) {
                    self.pick(&[0, 499, 500, 501, 999, 1000]).min(n - 1)
                } else {
                    self.below(n)
                };
                let col = self.below(COLS.len() as u64) as usize;
                let v = match COLS[col].1 {
                    Ty::Int => self.pick(EDGE_INTS).into(),
                    Ty::Float => self.pick(EDGE_FLOATS).into(),
                    Ty::Bool => "true".into(),
                };
                t.edits.push((id, col, v));
            }
            for _ in 0..self.below(4) {
                t.deletes.push(match self.below(4) {
                    0 => Del::One(
                        self.pick(&[0, 1, 498, 499, 500, 501, 999, 1000, 1001])
                            .min(n),
                    ),
                    1 => Del::One(self.below(n)),
                    2 => Del::Mod(self.pick(&[2, 3, 7, 500]), self.pick(&[0, 1, 499])),
                    _ => {
                        let lo = self.pick(&[0, 1, 250, 499, 500, 1000]);
                        Del::Span(lo, lo + self.pick(&[1, 2, 250, 499, 500, 501, 1000]))
                    }
                });
            }
        }
        t
    }

    fn range(&mut self) -> (i128, i128) {
        let lo: i128 = match self.below(10) {
            0..=4 => 0,
            5 => -(self.below(3000) as i128),
            6 => self.below(3000) as i128,
            7 => i64::MAX as i128 - self.pick(&[0, 1, 10, 600, 3000]),
            8 => i64::MIN as i128,
            _ => 9007199254740992 - 5,
        };
        let len: i128 = if self.chance(8) {
            -(self.below(5) as i128)
        } else if self.chance(15) {
            self.below(6000) as i128
        } else {
            self.pick(&[
                0, 1, 2, 7, 500, 1023, 1024, 1025, 2047, 2048, 2049, 3000, 4100,
            ])
        };
        (lo, (lo + len).clamp(i64::MIN as i128, i64::MAX as i128))
    }

    fn stage_scope(elem: Option<Ty>, table: bool) -> (&'static str, Vec<(String, Ty)>) {
        match elem {
            None => {
                let mut scope = vec![("u.id".to_string(), Ty::Int)];
                if table {
                    for (name, ty) in COLS {
                        scope.push((format!("u.{name}"), ty));
                    }
                }
                ("u", scope)
            }
            Some(t) => ("x", vec![("x".to_string(), t)]),
        }
    }

    fn pipe(&mut self, table: bool) -> Pipe {
        let source = if table && self.chance(75) {
            Source::Table
        } else {
            let (lo, hi) = self.range();
            Source::Range(lo, hi)
        };
        let on_table = matches!(source, Source::Table);
        // `None`: the element is a row.
        let mut elem = if on_table { None } else { Some(Ty::Int) };
        let mut stages = Vec::new();
        let depth = 1 + self.below(3) as u32;
        let n = match self.below(10) {
            0 => 0,
            1..=3 => 1,
            4..=6 => 2,
            7 => 3,
            8 => 4,
            _ => 5,
        };
        // A huge range only when a small take comes first.
        let mut source = source;
        if !on_table
            && self.chance(5)
            && let Source::Range(lo, _) = source
        {
            let lo = lo.min(0);
            source = Source::Range(lo, lo + 1_000_000_000);
            stages.push(Stage::Take(self.pick(&[0, 1, 3, 1025])));
        }
        let mut wrote = false;
        let k_ty = self.num_ty();
        let wrap = match self.below(12) {
            0 | 1 => Wrap::Loop((0..3).map(|_| self.k_value(k_ty)).collect()),
            2 => Wrap::Func((0..2).map(|_| self.k_value(k_ty)).collect()),
            3 => Wrap::Stream(self.pick(&["count", "first", "last", "run"])),
            _ => Wrap::Plain,
        };
        let k_scope = |scope: &mut Vec<(String, Ty)>| {
            if matches!(wrap, Wrap::Loop(_) | Wrap::Func(_)) {
                scope.push(("k".to_string(), k_ty));
            }
        };
        for _ in 0..n {
            let (p, mut scope) = Self::stage_scope(elem, on_table);
            k_scope(&mut scope);
            let st = match self.below(10) {
                0..=2 => {
                    let e = if self.chance(8) {
                        let t = self.num_ty();
                        self.expr(&scope, t, depth)
                    } else {
                        self.expr(&scope, Ty::Bool, depth)
                    };
                    Stage::Filter(p, e)
                }
                3..=5 => {
                    if elem.is_none() && !wrote && self.chance(55) {
                        let col = self.below(COLS.len() as u64) as usize;
                        let cty = COLS[col].1;
                        let vty = match cty {
                            Ty::Float if self.chance(25) => Ty::Int,
                            _ if self.chance(3) => self.num_ty(),
                            t => t,
                        };
                        let e = self.expr(&scope, vty, depth);
                        wrote = true;
                        elem = Some(cty);
                        Stage::Set(col, e)
                    } else {
                        let t = match self.below(20) {
                            0 => Ty::Bool,
                            1..=10 => Ty::Int,
                            _ => Ty::Float,
                        };
                        let e = self.expr(&scope, t, depth);
                        elem = Some(t);
                        Stage::Map(p, e)
                    }
                }
                6 => Stage::Take(self.count()),
                7 => Stage::Skip(self.count()),
                _ => Stage::TakeWhile(p, self.expr(&scope, Ty::Bool, depth)),
            };
            stages.push(st);
        }
        let (p, mut scope) = Self::stage_scope(elem, on_table);
        k_scope(&mut scope);
        let numeric = matches!(elem, Some(Ty::Int | Ty::Float));
        let term = match self.below(20) {
            0..=2 if numeric || self.chance(5) => Term::Simple("sum"),
            3 if numeric || self.chance(5) => Term::Simple("avg"),
            4 | 5 if numeric || self.chance(5) => Term::Simple(self.pick(&["min", "max"])),
            6 | 7 => Term::Simple("count"),
            8 => Term::Simple("run"),
            9 | 10 => Term::Simple("first"),
            11 => Term::Simple("last"),
            12 => Term::Simple("collect"),
            13 | 14 => {
                let e = self.expr(&scope, Ty::Bool, depth);
                Term::Pred(self.pick(&["any", "all"]), p, e)
            }
            15..=17 => {
                let t = match elem {
                    Some(Ty::Float) => Ty::Float,
                    _ => self.num_ty(),
                };
                let init = self.lit(t);
                let mut scope = scope.clone();
                scope.push(("acc".to_string(), t));
                scope.push(("acc".to_string(), t));
                let body = self.expr(&scope, t, depth.max(2));
                Term::Reduce(init, p, body)
            }
            _ => Term::Simple(if numeric { "sum" } else { "count" }),
        };
        let mut before = Vec::new();
        if on_table && self.chance(25) {
            for _ in 0..1 + self.below(3) {
                before.push(match self.below(5) {
                    0 | 1 => format!(
                        "db.T.delete({});",
                        self.pick(&[0, 1, 2, 499, 500, 501, 1000, 1499])
                    ),
                    2 | 3 => {
                        self.fresh += 1;
                        let mut row = format!("db_insert(\"T\", {{id: {}", 100_000 + self.fresh);
                        for (name, ty) in COLS {
                            if self.chance(80) {
                                let v = self.lit(ty).text();
                                let _ = write!(row, ", {name}: {v}");
                            }
                        }
                        row.push_str("});");
                        row
                    }
                    _ => "checkpoint();".to_string(),
                });
            }
        }
        let txn = (on_table && self.chance(8)).then(|| self.chance(70));
        let mut pipe = Pipe {
            source,
            stages,
            term,
            dump: false,
            wrap,
            before,
            txn,
        };
        pipe.dump = pipe.writes() || pipe.txn.is_some() || (on_table && self.chance(5));
        pipe
    }

    pub(crate) fn case(&mut self, seed: u64) -> Case {
        let table = self.chance(80).then(|| self.table());
        let globals = [
            self.int_lit(),
            self.float_lit(),
            self.pick(&["true", "false"]).to_string(),
        ];
        let n = 1 + self.below(3);
        let pipes = (0..n).map(|_| self.pipe(table.is_some())).collect();
        let persistent = table.is_some() && self.chance(20);
        let bail = self.pick(&[1, 2, 3, 3, 5]);
        Case {
            seed,
            globals,
            table,
            persistent,
            pipes,
            bail,
        }
    }
}

/// Shrinks a failing case while the tiers still disagree, within a time budget.
pub(crate) fn shrink(case: Case, budget: Duration) -> (Case, usize) {
    let started = Instant::now();
    let mut best = case;
    let mut steps = 0;
    'outer: loop {
        for c in best.shrinks() {
            if started.elapsed() > budget {
                break 'outer;
            }
            if !run_program(&c.program()).mismatches().is_empty() {
                best = c;
                steps += 1;
                continue 'outer;
            }
        }
        break;
    }
    (best, steps)
}
