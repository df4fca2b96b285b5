//! Sweeping: deleting the object records no global reaches. It reads every record, so it
//! runs only once enough records have been overwritten since the last sweep to pay for it
//! (each overwrite can leave at most one record unreachable).

use super::Persist;
use super::load::address;
use walia_store::codec::references;
use walia_store::{CURSOR_PREFIX, GC_KEY, GLOBAL_PREFIX, HeapResult, IdSet, OBJECT_PREFIX};

/// Sweep the records no global reaches, when enough rewrites have accumulated since the
/// last sweep to pay for reading them all, or when a global was dropped.
pub fn maybe_sweep(heap: &mut Persist, rewrites: u64) -> HeapResult<()> {
    let forced = std::mem::take(&mut heap.sweep_due);
    let (at_last, since) = match heap.get(GC_KEY)? {
        Some(b) if b.len() == 16 => (
            u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
            u64::from_le_bytes(b[8..].try_into().unwrap_or_default()),
        ),
        _ => (0, 0),
    };
    let since = since + rewrites;
    let swept = forced || since > at_last + 256;
    let (at_last, since) = if swept {
        (sweep(heap)?, 0)
    } else {
        (at_last, since)
    };
    if rewrites > 0 || swept {
        let mut b = at_last.to_le_bytes().to_vec();
        b.extend_from_slice(&since.to_le_bytes());
        heap.put(GC_KEY, &b)?;
    }
    Ok(())
}

/// Delete every object record that no global or cursor reaches; returns how many remain.
pub fn sweep(heap: &mut Persist) -> HeapResult<u64> {
    // Globals and the cursors of checkpointed pipes are the roots.
    let mut roots = heap.scan(&[GLOBAL_PREFIX])?;
    roots.extend(heap.scan(&[CURSOR_PREFIX])?);
    let mut live = IdSet::default();
    let mut stack: Vec<u64> = Vec::new();
    for (k, v) in &roots {
        let what = format!("entry '{}'", String::from_utf8_lossy(k));
        stack.extend(references(v, false, &what)?);
    }
    while let Some(id) = stack.pop() {
        if !live.insert(id) {
            continue;
        }
        if let Some(rec) = heap.object_record(id)? {
            stack.extend(references(&rec, true, &format!("object {id}"))?);
        }
    }
    let all = heap.scan_keys(&[OBJECT_PREFIX])?;
    for key in all {
        if key.len() != 9 {
            continue;
        }
        let id = u64::from_be_bytes(key[1..].try_into().unwrap_or_default());
        if !live.contains(&id) {
            heap.delete(&key)?;
            if let Some(v) = heap.objects.remove(&id)
                && let Some(addr) = address(&v)
            {
                heap.ids.remove(&addr);
            }
        }
    }
    Ok(live.len() as u64)
}
