//! Binding a pipeline's stages to its source: the plan a batch executor runs.
//!
//! A plan exists when every stage is `filter`, `map`, `take`, `skip` or `take_while` with a
//! lambda whose kernel lowered, every name it reads is a number (captured variables and
//! globals are read once, when the run starts), every call is a math builtin, and every
//! field is a numeric or Bool column of the table (or a key of a list's maps and
//! instances). Otherwise the reason names the first stage that is not.

use crate::db::handle::TableId;
use crate::kernel::eval::{BExpr, MathFn};
use crate::kernel::{KExpr, KVal};
use crate::pipe::Stage;
use crate::value::{Closure, Value};
use crate::vm::Vm;
use std::rc::Rc;
use walia_store::ColType;

/// What a plan reads its elements from.
#[derive(Clone, Debug)]
pub enum PlanSource {
    /// Rows of a table; `columns[f]` is the column of plan field `f` and its type.
    Table {
        table: TableId,
        columns: Vec<(usize, ColType)>,
    },
    Range,
    /// A list: elements are numbers, or maps and instances whose fields are read by name.
    List,
}

/// A stage of a plan.
#[derive(Clone, Debug)]
pub enum PlanStage {
    Filter(BExpr),
    Map(BExpr),
    /// `map(u => u.f = value)` on a table row: field `field` of the plan.
    SetField {
        field: usize,
        value: BExpr,
    },
    Take(i64),
    Skip(i64),
    TakeWhile(BExpr),
    /// `parallel(n)`: nothing to do per element.
    Pass,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub source: PlanSource,
    /// Field names, numbered as `BExpr::Field` refers to them.
    pub fields: Vec<Rc<str>>,
    pub stages: Vec<PlanStage>,
    /// `parallel(n)`: the thread count asked for.
    pub parallel: Option<i64>,
}

impl Plan {
    /// Does running the plan write to the heap?
    /// The threads to shard over: `parallel(n)` with n > 1, on a table or range, with
    /// stages that do not depend on order or write (take, skip, take_while and row
    /// writes run on one thread).
    pub fn threads(&self) -> usize {
        let sharded = matches!(self.source, PlanSource::Table { .. } | PlanSource::Range)
            && self.stages.iter().all(|s| {
                matches!(
                    s,
                    PlanStage::Filter(_) | PlanStage::Map(_) | PlanStage::Pass
                )
            });
        match self.parallel {
            Some(n) if sharded && n > 1 => n.min(64) as usize,
            _ => 1,
        }
    }

    pub fn writes(&self) -> bool {
        self.stages
            .iter()
            .any(|s| matches!(s, PlanStage::SetField { .. }))
    }
}

/// A stage's lambda, with what it captured.
fn kernel_of(f: &Value) -> Result<(Rc<KExpr>, Rc<Closure>), String> {
    match f {
        Value::Function(c) => match &c.proto.kernel {
            Ok(k) => Ok((k.clone(), c.clone())),
            Err(why) => Err(format!("its function {why}")),
        },
        Value::Native(n) => Err(format!("its function is the builtin '{}'", n.name)),
        other => Err(format!("its function is a {}", other.type_name())),
    }
}

/// What the element flowing into a stage is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elem {
    Row,
    /// A list item: a number, map or instance.
    Item,
    Number,
}

struct Binder<'a> {
    vm: &'a Vm,
    source: &'a Value,
    fields: Vec<Rc<str>>,
    columns: Vec<(usize, ColType)>,
}

impl Binder<'_> {
    fn field(&mut self, name: &Rc<str>, elem: Elem, writing: bool) -> Result<usize, String> {
        if let Some(i) = self.fields.iter().position(|f| f == name) {
            return Ok(i);
        }
        match (elem, self.source) {
            (Elem::Row, Value::Table(t)) => {
                let col = crate::db::handle::with_table(*t, |table, _| {
                    Ok(table.column_index(name).map(|c| (c, table.columns[c].ty)))
                })
                .map_err(|e| e.message.to_string())?;
                let Some((c, ty)) = col else {
                    return Err(format!("the table has no column '{name}'"));
                };
                if ty == ColType::Str {
                    return Err(format!("'{name}' is a String column"));
                }
                if writing && (&**name == "id" || ty == ColType::Unset) {
                    return Err(format!("it assigns the column '{name}'"));
                }
                self.columns.push((c, ty));
            }
            (Elem::Item, _) if !writing => {}
            (Elem::Item, _) => return Err("it assigns a field of a list element".into()),
            _ => return Err(format!("it reads the field '{name}' of a number")),
        }
        self.fields.push(name.clone());
        Ok(self.fields.len() - 1)
    }

    fn constant(&self, v: &Value, name: &str) -> Result<BExpr, String> {
        match KVal::from_value(v) {
            Some(k) => Ok(BExpr::Const(k)),
            None => Err(format!("it reads '{name}', a {}", v.type_name())),
        }
    }

    /// `params`: what each lambda parameter is bound to.
    fn bind(
        &mut self,
        e: &KExpr,
        c: &Closure,
        params: &[BExpr],
        elem: Elem,
    ) -> Result<BExpr, String> {
        let mut b = |x: &KExpr| self.bind(x, c, params, elem).map(Box::new);
        Ok(match e {
            KExpr::Param(p) => {
                let bound = params
                    .get(*p as usize)
                    .cloned()
                    .ok_or("too many parameters")?;
                if matches!(bound, BExpr::Elem) && elem == Elem::Row {
                    return Err("it uses the whole row".into());
                }
                bound
            }
            KExpr::Field(p, name) => {
                if !matches!(params.get(*p as usize), Some(BExpr::Elem)) {
                    return Err(format!("it reads the field '{name}' of a number"));
                }
                BExpr::Field(self.field(name, elem, false)?)
            }
            KExpr::Const(k) => BExpr::Lit(*k),
            KExpr::Str(_) => return Err("it uses a string".into()),
            KExpr::Captured(u, name) => {
                let v = match c.upvalues.get(*u as usize).ok_or("bad capture")? {
                    Value::Cell(cell) => cell.value.borrow().clone(),
                    v => v.clone(),
                };
                self.constant(&v, name)?
            }
            KExpr::Global(g, name) => {
                let v = self
                    .vm
                    .globals
                    .get(*g as usize)
                    .cloned()
                    .unwrap_or_default();
                self.constant(&v, name)?
            }
            KExpr::Neg(x) => BExpr::Neg(b(x)?),
            KExpr::Not(x) => BExpr::Not(b(x)?),
            KExpr::Bin(op, x, y) => BExpr::Bin(*op, b(x)?, b(y)?),
            KExpr::And(x, y) => BExpr::And(b(x)?, b(y)?),
            KExpr::Or(x, y) => BExpr::Or(b(x)?, b(y)?),
            KExpr::If(x, y, z) => BExpr::If(b(x)?, b(y)?, b(z)?),
            KExpr::Call(g, name, args) => {
                let callee = self.vm.globals.get(*g as usize);
                let f = match callee {
                    Some(Value::Native(n)) if *n.name == **name => {
                        MathFn::by_name(name, args.len())
                    }
                    _ => None,
                }
                .ok_or_else(|| format!("it calls '{name}', which is not a math builtin"))?;
                let args = args
                    .iter()
                    .map(|a| self.bind(a, c, params, elem))
                    .collect::<Result<Vec<_>, _>>()?;
                BExpr::Math(f, args)
            }
            KExpr::SetField(..) => return Err("it assigns inside an expression".into()),
        })
    }
}

/// The plan of `source |> stages`, or the reason there is none (naming the stage).
pub fn bind(vm: &Vm, source: &Value, stages: &[Stage]) -> Result<Plan, String> {
    let (plan_source, mut elem) = match source {
        Value::Table(t) => (
            PlanSource::Table {
                table: *t,
                columns: Vec::new(),
            },
            Elem::Row,
        ),
        Value::Range(_) => (PlanSource::Range, Elem::Number),
        Value::List(_) => (PlanSource::List, Elem::Item),
        other => return Err(format!("the source is a {}", source_name(other))),
    };
    let mut binder = Binder {
        vm,
        source,
        fields: Vec::new(),
        columns: Vec::new(),
    };
    let mut out = Vec::new();
    let mut parallel = None;
    for (k, stage) in stages.iter().enumerate() {
        let named = |why: String| format!("stage {} ({}): {why}", k + 1, stage.name());
        let one = |binder: &mut Binder, f: &Value, elem: Elem| -> Result<BExpr, String> {
            let (kernel, c) = kernel_of(f)?;
            if c.proto.arity != 1 {
                return Err("its function does not take one parameter".into());
            }
            binder.bind(&kernel, &c, &[BExpr::Elem], elem)
        };
        let planned = match stage {
            Stage::Filter(f) => one(&mut binder, f, elem).map(PlanStage::Filter),
            Stage::TakeWhile(f) => one(&mut binder, f, elem).map(PlanStage::TakeWhile),
            Stage::Take(n) => Ok(PlanStage::Take(*n)),
            Stage::Parallel(n) => {
                parallel = Some(*n);
                Ok(PlanStage::Pass)
            }
            Stage::Skip(n) => Ok(PlanStage::Skip(*n)),
            // The executor cuts batches at its boundaries; the kernels pass elements on.
            Stage::CheckpointAt(_) => Ok(PlanStage::Pass),
            Stage::Map(f) => {
                let set = kernel_of(f).ok().and_then(|(k, c)| match &*k {
                    KExpr::SetField(0, name, value) if c.proto.arity == 1 => {
                        Some((name.clone(), value.clone(), c))
                    }
                    _ => None,
                });
                let planned = match set {
                    Some((name, value, c)) if elem == Elem::Row => {
                        binder.field(&name, elem, true).and_then(|field| {
                            let value = binder.bind(&value, &c, &[BExpr::Elem], elem)?;
                            Ok(PlanStage::SetField { field, value })
                        })
                    }
                    Some(_) => Err("it assigns a field of a value that is not a table row".into()),
                    None => one(&mut binder, f, elem).map(PlanStage::Map),
                };
                elem = Elem::Number;
                planned
            }
            Stage::Each(_) => Err("each runs a function for its side effects".into()),
            Stage::Enumerate => Err("enumerate builds a list per element".into()),
            Stage::FlatMap(_) => Err("flat_map reads a collection per element".into()),
            Stage::DbInsert(_) => Err("db_insert writes rows".into()),
        };
        out.push(planned.map_err(named)?);
    }
    let mut source = plan_source;
    if let PlanSource::Table { columns, .. } = &mut source {
        *columns = binder.columns;
    }
    Ok(Plan {
        source,
        fields: binder.fields,
        stages: out,
        parallel,
    })
}

/// How a source is named in plans and reasons.
pub fn source_name(v: &Value) -> String {
    match v {
        Value::Table(t) => format!("table {}", crate::db::handle::table_name(*t)),
        Value::File(f) => format!("{}(\"{}\")", f.kind, f.shown),
        other => other.type_name().to_lowercase(),
    }
}

/// Bind `reduce`'s function: `(acc, x) => ...` over elements of the given plan.
pub fn bind_reducer(vm: &Vm, plan: &mut Plan, f: &Value, source: &Value) -> Result<BExpr, String> {
    let (kernel, c) = kernel_of(f)?;
    if c.proto.arity != 2 {
        return Err("its function does not take two parameters".into());
    }
    let elem = if plan
        .stages
        .iter()
        .any(|s| matches!(s, PlanStage::Map(_) | PlanStage::SetField { .. }))
    {
        Elem::Number
    } else {
        match plan.source {
            PlanSource::Table { .. } => Elem::Row,
            PlanSource::Range => Elem::Number,
            PlanSource::List => Elem::Item,
        }
    };
    let mut binder = Binder {
        vm,
        source,
        fields: std::mem::take(&mut plan.fields),
        columns: match &mut plan.source {
            PlanSource::Table { columns, .. } => std::mem::take(columns),
            _ => Vec::new(),
        },
    };
    let bound = binder.bind(&kernel, &c, &[BExpr::Acc, BExpr::Elem], elem);
    plan.fields = binder.fields;
    if let PlanSource::Table { columns, .. } = &mut plan.source {
        *columns = binder.columns;
    }
    bound
}

/// The literal of a filter `l => contains(l, "literal")` (with the builtin `contains`):
/// a file source can search for it instead of reading every line into a string.
pub fn contains_needle(vm: &Vm, f: &Value) -> Option<Rc<str>> {
    let (kernel, _) = kernel_of(f).ok()?;
    let KExpr::Call(g, name, args) = &*kernel else {
        return None;
    };
    let builtin =
        matches!(vm.globals.get(*g as usize), Some(Value::Native(n)) if &*n.name == "contains");
    match args.as_slice() {
        [KExpr::Param(0), KExpr::Str(lit)] if builtin && &**name == "contains" => Some(lit.clone()),
        _ => None,
    }
}
