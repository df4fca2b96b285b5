//! Open arbitrary bytes as a heap, then inspect and verify it: none of it may panic.
//! Run with `cargo +nightly fuzz run heap_open` from the repository root (not run in CI).
#![no_main]

use libfuzzer_sys::fuzz_target;
use walia_runtime::api::{Heap, MemStorage, summary, verify};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut heap) = Heap::with_storage(Box::new(MemStorage::from_bytes(data.to_vec())), "<fuzz>") {
        let _ = summary(&mut heap);
        let _ = verify(&mut heap);
    }
});
