//! One function's frame while resolving: its scopes, slots and captures.

use crate::ast::{Capture, FunInfo, FunKind};
use std::collections::BTreeSet;

pub(super) struct FnCtx {
    pub(super) kind: FunKind,
    pub(super) scopes: Vec<Vec<(String, u16)>>,
    pub(super) next_slot: u32,
    /// Slots some inner function captures.
    pub(super) cells: BTreeSet<u16>,
    /// Slots written after their declaration (assignments, and local `fun`/`class` names,
    /// which their own bodies can capture before they are set).
    pub(super) assigned: BTreeSet<u16>,
    pub(super) captures: Vec<Capture>,
    pub(super) capture_names: Vec<String>,
    pub(super) loop_depth: u32,
    pub(super) uses_this: bool,
}

impl FnCtx {
    pub(super) fn new(kind: FunKind) -> FnCtx {
        FnCtx {
            kind,
            scopes: vec![Vec::new()],
            next_slot: 1, // slot 0: the callee, or `this` in a method
            cells: BTreeSet::new(),
            assigned: BTreeSet::new(),
            captures: Vec::new(),
            capture_names: Vec::new(),
            loop_depth: 0,
            uses_this: false,
        }
    }

    pub(super) fn info(self) -> FunInfo {
        FunInfo {
            num_slots: self.next_slot,
            // A captured variable that is never written again is captured by value: no
            // cell, and the closure holds a copy.
            cell_slots: self.cells.intersection(&self.assigned).copied().collect(),
            captures: self.captures,
            capture_names: self.capture_names,
            uses_this: self.uses_this,
        }
    }
}
