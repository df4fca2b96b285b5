//! The door to the runtime for what is built on it: the standard library (stdlib/), the
//! CLI and embedding facade (src/) and the fuzz targets. Everything they use is named
//! here; the runtime's modules are private, so a new need grows this list (embedders will
//! need it too) instead of reaching into a module.

pub use crate::error::{ErrorKind, RtError, RtResult};
pub use crate::value::{Entries, KeyRef, List, Map, MapKey, Str, Value, new_entries};
pub use crate::vm::{ProgressSink, STACK_PER_NATIVE_LEVEL, Vm};

/// The cycle collector: run it now; how many objects it tracks.
pub use crate::gc::{collect, tracked_count};

/// Printing values as `print` and the REPL show them.
pub use crate::print::{describe, display, format_float, quote_str, repr};

/// Floored modulo (`%`, the divisor's sign) of Floats and Ints, for compiled code and its tests.
pub use crate::arith::{float_mod_nonzero, int_mod};
/// Floored division and checked shifts of Ints (`~/`, `<<`, `>>`), `None` where the
/// operator is an error.
pub use crate::arith::{int_floor_div, int_shl, int_shr};

/// Equality and ordering as the language defines them.
pub mod ops {
    pub use crate::ops::{bit_not, compare, equal, floor_div, identical};
}

/// Negative list and string indices counted from the end.
pub use crate::index::norm_index;
/// Limits of a run: operations, time, memory (SPEC §12).
pub use crate::limits::{
    DEFAULT_MAX_RECORD, INTERRUPTED_MESSAGE, Limits, has_pending, interrupt, max_record,
    note_alloc, out_of_memory, reserve, reserve_str, set_pending, sleep, tick,
};

/// Compiling a script: the bytecode and its source file.
pub use crate::bytecode::{Proto, SourceFile};
pub use crate::compiler::{compile, compile_with_imports};

/// Checkpointed pipes (SPEC §9): the stage's argument and its cursor.
pub use crate::pipe::checkpoint::{CheckpointSpec, definition_text};
pub use crate::pipe::cursor::fingerprint;
/// Pipelines: stages, the executor, and the explanation of a plan.
pub use crate::pipe::explain::{
    LAZY_STAGES, TerminalArgs, plan_lines, stream_lines, stream_summary,
};
/// File sources of pipelines (`lines`, `read_csv`, `read_jsonl`).
pub use crate::pipe::files::{FilePos, FileSource, RecordReader, SourceOpener};
pub use crate::pipe::native::explain_tier;
pub use crate::pipe::plan::bind as bind_plan;
pub use crate::pipe::{PipeRun, Pipeline, Stage};

/// Tables: table values, their rows and cells.
pub use crate::db::handle::{TableId, cell_value, row_fields, table_name, with_table};
pub use walia_store::{Cell, ColType, Pager, Table, TableError, TableInfo};

pub use crate::error::heap_rt_error;
/// Heaps: opening, durability, the admin reports, and heap errors in a script.
/// What commits saved (`Persist::stats`), for benchmarks and tests.
pub use crate::persist::SaveStats;
pub use walia_store::{
    Compacted, Durability, Heap, HeapError, MemStorage, PAGE_SIZE, Summary, VerifyReport,
    compact_file, compact_temp_path, summary, verify,
};

/// The native loop's hook (SPEC §11): a machine-code compiler registers itself here, and
/// gets each pipeline as a typed plan.
pub mod native {
    pub use crate::native::{
        ArgOffsets, BAIL, BITMAP_BEFORE_VALUES, CLOSED, NativeArgs, NativeCode, NativeCompiler, OK,
        PipeFn, compiler, install, presence_masks,
    };
    /// The typed plan a compiler lowers.
    pub mod ir {
        pub use crate::native::ir::*;
    }
    /// Which Int operations of a range plan may run unchecked (see `proved` in `NativeArgs`).
    pub mod interval {
        pub use crate::native::interval::{elem_after, proved, sum_proved};
    }
}
