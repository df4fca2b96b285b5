//! Global slot names, shared between compilations.

use std::collections::HashMap;

/// The names of global slots, shared between compilations (REPL inputs, runs of one heap)
/// so a slot number means the same global every time.
#[derive(Clone, Debug, Default)]
pub struct GlobalNames {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl GlobalNames {
    pub fn new() -> GlobalNames {
        GlobalNames::default()
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The slot of `name`, creating it when new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(slot) = self.index.get(name) {
            return *slot;
        }
        let slot = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), slot);
        slot
    }

    pub fn name(&self, slot: u32) -> &str {
        self.names.get(slot as usize).map_or("?", |s| s.as_str())
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (i as u32, n.as_str()))
    }
}

/// Which global names count as declared before this program runs (builtins and globals of
/// earlier runs or REPL inputs). Everything else must be declared in the program.
pub trait KnownGlobals {
    fn is_known(&self, name: &str) -> bool;
}

impl<F: Fn(&str) -> bool> KnownGlobals for F {
    fn is_known(&self, name: &str) -> bool {
        self(name)
    }
}
