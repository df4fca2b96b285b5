//! What the REPL asks an engine beyond running code: the names that may follow a dot (tab
//! completion), the methods of a built-in type (`:help`), and a value as the REPL shows it.

use crate::{Engine, Error};
use walia_runtime::Value as Live;
use walia_runtime::api::{describe, with_table};

impl Engine {
    /// The names that may follow `path.`, where `path` is a global and then field names
    /// (`["xs"]`, `["db", "users"]`): a value's methods (and a map's keys, an instance's
    /// fields, a row's columns), the tables after `db`, a table's methods and columns.
    /// Reads fields only: nothing runs. Sorted; empty when the path does not resolve.
    pub fn member_names(&mut self, path: &[&str]) -> Vec<String> {
        self.enter().member_names(path)
    }

    /// The names of the methods of a built-in type (`String`, `List`, `Table`... as
    /// `type_of` spells them), sorted.
    pub fn method_names(&mut self, type_name: &str) -> Vec<String> {
        let mut names = self.enter().builtin_methods(type_name);
        names.sort();
        names
    }

    /// Evaluate `input` as [`Engine::eval_named`] does and say how the REPL shows its value:
    /// `None` for nil; a table, its first `table_rows` rows as an aligned grid and its row
    /// count; a stream, what it is and how to run it; anything else in its form inside a
    /// container (strings quoted).
    pub fn eval_shown(
        &mut self,
        name: &str,
        input: &str,
        table_rows: usize,
    ) -> Result<Option<String>, Error> {
        let value = self.eval_live(name, input)?;
        let (table, text) = {
            // Table names live in the engine's registries, and its values are dropped with
            // them installed.
            let _vm = self.enter();
            let shown = match &value {
                Live::Nil | Live::Undefined => (None, None),
                Live::Table(t) => (
                    with_table(*t, |table, _| Ok(table.name.to_string())).ok(),
                    Some(describe(&value)),
                ),
                other => (None, Some(describe(other))),
            };
            drop(value);
            shown
        };
        if let Some(table) = table
            && let Ok(view) = self.table_view(&table, Some(table_rows), None)
        {
            // A table without columns has no grid to show, only its count.
            return Ok(Some(if view.columns.is_empty() {
                view.footer()
            } else {
                view.render().trim_end().to_string()
            }));
        }
        Ok(text)
    }
}
