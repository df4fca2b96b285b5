//! The REPL's history. A multi-line input carries continuation prompts in the edit buffer
//! (see [`super::input`]); the history keeps each entry without them, so the file holds
//! the code as written, and puts them back when an entry is recalled, so it looks as it
//! did when typed and runs the same.

use super::input::{CONTINUATION, strip_prompts};
use rustyline::Config;
use rustyline::history::{FileHistory, History, SearchDirection, SearchResult};
use std::borrow::Cow;
use std::path::Path;

/// rustyline's file history, holding the entries without their continuation prompts.
pub struct ReplHistory {
    entries: FileHistory,
}

impl ReplHistory {
    pub fn with_config(config: &Config) -> ReplHistory {
        ReplHistory {
            entries: FileHistory::with_config(config),
        }
    }

    /// The entries as stored (without continuation prompts), oldest first.
    #[cfg(test)]
    pub fn stored(&self) -> Vec<String> {
        self.entries.iter().cloned().collect()
    }
}

/// A stored entry as the edit buffer shows it: each line after the first starts with the
/// continuation prompt.
pub fn with_prompts(entry: &str) -> String {
    entry.replace('\n', &format!("\n{CONTINUATION}"))
}

/// A search result on the stored entries, as found in the shown ones.
fn shown(found: SearchResult<'_>) -> SearchResult<'static> {
    let lines_before = found
        .entry
        .get(..found.pos)
        .unwrap_or("")
        .matches('\n')
        .count();
    SearchResult {
        pos: found.pos + lines_before * CONTINUATION.len(),
        entry: Cow::Owned(with_prompts(&found.entry)),
        idx: found.idx,
    }
}

type Found<'a> = rustyline::Result<Option<SearchResult<'a>>>;

impl History for ReplHistory {
    fn get(&self, index: usize, dir: SearchDirection) -> Found<'_> {
        Ok(self.entries.get(index, dir)?.map(shown))
    }

    fn add(&mut self, line: &str) -> rustyline::Result<bool> {
        self.entries.add_owned(strip_prompts(line))
    }

    fn add_owned(&mut self, line: String) -> rustyline::Result<bool> {
        self.add(&line)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn set_max_len(&mut self, len: usize) -> rustyline::Result<()> {
        self.entries.set_max_len(len)
    }

    fn ignore_dups(&mut self, yes: bool) -> rustyline::Result<()> {
        self.entries.ignore_dups(yes)
    }

    fn ignore_space(&mut self, yes: bool) {
        self.entries.ignore_space(yes);
    }

    fn save(&mut self, path: &Path) -> rustyline::Result<()> {
        self.entries.save(path)
    }

    fn append(&mut self, path: &Path) -> rustyline::Result<()> {
        self.entries.append(path)
    }

    fn load(&mut self, path: &Path) -> rustyline::Result<()> {
        self.entries.load(path)
    }

    fn clear(&mut self) -> rustyline::Result<()> {
        self.entries.clear()
    }

    fn search(&self, term: &str, start: usize, dir: SearchDirection) -> Found<'_> {
        Ok(self.entries.search(term, start, dir)?.map(shown))
    }

    fn starts_with(&self, term: &str, start: usize, dir: SearchDirection) -> Found<'_> {
        Ok(self.entries.starts_with(term, start, dir)?.map(shown))
    }
}
