//! The storage of a large map: insertion-ordered, with O(1) lookups and O(1) amortized
//! removals in any order.
//!
//! `IndexMap::shift_remove` moves every later entry down one place and re-indexes it, so
//! emptying a map from its oldest key was quadratic. Here a removal leaves an empty slot
//! (a tombstone) instead; the slots are compacted once the dead outnumber the live.
//!
//! Keys are hashed with foldhash, seeded per process and per map: map keys come from
//! outside data (`group_by` over `read_csv`), and the Fx scheme put short sequential
//! strings (`"k1"` … `"k999999"`) into a handful of buckets. Iteration order never depends
//! on the hash, so the seed is invisible to scripts.

use crate::value::{KeyRef, MapKey, Value};
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

/// Positional hints kept (nested walks over one map each keep one).
const HINTS: usize = 4;

/// Tombstones tolerated before a compaction, whatever the live count.
const MIN_DEAD: usize = 16;

#[derive(Clone)]
pub struct OrderedMap {
    /// Entries in insertion order; `None` where an entry was removed.
    slots: Vec<Option<(MapKey, Value)>>,
    /// The slot of each live key, with its hash.
    table: HashTable<Bucket>,
    hasher: RandomState,
    live: usize,
    /// Where recent positional lookups ended: a slot and the number of live entries before
    /// it, so walking a map by position (`for k in m`) is O(1) per step despite tombstones,
    /// also when walks over the same map nest (each finds a hint near its position).
    cursors: [Cell<(usize, usize)>; HINTS],
    /// The hint a lookup that started from none of them replaces next.
    next_hint: Cell<usize>,
}

/// The hash of a map key under `hasher` (`MapKey` and `KeyRef` hash alike).
///
/// One write per key: the `Hash` impls write a kind tag and, for a string, a terminator
/// too, three rounds of mixing where one does. Keys of different kinds may share a hash
/// (`1` and `true`); a lookup compares the keys themselves.
#[inline]
pub fn key_hash(hasher: &RandomState, key: KeyRef) -> u64 {
    let mut h = hasher.build_hasher();
    match key {
        KeyRef::Str(s) => h.write(s.as_bytes()),
        KeyRef::Int(i) => h.write_u64(i as u64),
        KeyRef::Bool(b) => h.write_u64(u64::MAX - u64::from(b)),
    }
    h.finish()
}

#[inline]
fn slot_is(slots: &[Option<(MapKey, Value)>], i: u32, key: KeyRef) -> bool {
    matches!(slots.get(i as usize), Some(Some((k, _))) if KeyRef::from(k) == key)
}

/// An entry of the hash index: a live slot and its key's hash folded to 32 bits. With the
/// hash at hand, growing the index re-places every entry without reading (and hashing
/// again) its key, a cache miss per entry in a large map; and a lookup reads a slot only
/// when the whole hash matches. Eight bytes, as a bare slot index was.
#[derive(Clone, Copy)]
struct Bucket {
    slot: u32,
    hash: u32,
}

/// A key's hash as the index keeps it.
fn fold(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

/// A folded hash as the hash table wants it: the table picks a group by the low bits and
/// tags an entry with the top seven, so the 32 bits fill both ends.
fn spread(h: u32) -> u64 {
    u64::from(h) | (u64::from(h) << 32)
}

impl OrderedMap {
    pub fn with_capacity(n: usize) -> OrderedMap {
        OrderedMap {
            slots: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            hasher: RandomState::default(),
            live: 0,
            cursors: Default::default(),
            next_hint: Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    #[inline]
    fn find(&self, key: KeyRef) -> Option<usize> {
        self.find_hashed(fold(key_hash(&self.hasher, key)), key)
    }

    #[inline]
    fn find_hashed(&self, h: u32, key: KeyRef) -> Option<usize> {
        self.table
            .find(spread(h), |b| {
                b.hash == h && slot_is(&self.slots, b.slot, key)
            })
            .map(|b| b.slot as usize)
    }

    #[inline]
    pub fn get(&self, key: &KeyRef) -> Option<&Value> {
        let i = self.find(*key)?;
        self.slots.get(i)?.as_ref().map(|(_, v)| v)
    }

    /// Insert or replace (a replaced entry keeps its place); returns the old value.
    pub fn insert(&mut self, key: MapKey, value: Value) -> Option<Value> {
        let k = KeyRef::from(&key);
        // Hashed once, for the lookup and the insertion both.
        let h = fold(key_hash(&self.hasher, k));
        if let Some(i) = self.find_hashed(h, k)
            && let Some(Some((_, v))) = self.slots.get_mut(i)
        {
            return Some(std::mem::replace(v, value));
        }
        let Ok(slot) = u32::try_from(self.slots.len()) else {
            // Four billion entries: past any memory this runs in, but not a crash.
            crate::limits::set_pending(crate::error::RtError::new(
                "a map cannot hold more than 4294967295 entries",
            ));
            return None;
        };
        self.slots.push(Some((key, value)));
        self.table
            .insert_unique(spread(h), Bucket { slot, hash: h }, |b| spread(b.hash));
        self.live += 1;
        None
    }

    /// Remove an entry, keeping the order of the others.
    pub fn remove(&mut self, key: &KeyRef) -> Option<Value> {
        let h = fold(key_hash(&self.hasher, *key));
        let slots = &self.slots;
        let found = self
            .table
            .find_entry(spread(h), |b| b.hash == h && slot_is(slots, b.slot, *key))
            .ok()?;
        let (Bucket { slot, .. }, _) = found.remove();
        let i = slot as usize;
        let (_, value) = self.slots.get_mut(i)?.take()?;
        self.live -= 1;
        for cursor in &self.cursors {
            let (slot, before) = cursor.get();
            if i < slot {
                cursor.set((slot, before - 1));
            }
        }
        let dead = self.slots.len() - self.live;
        if dead > MIN_DEAD && dead > self.live {
            self.compact();
        }
        Some(value)
    }

    /// Drop the tombstones, renumbering the slots the table points to.
    fn compact(&mut self) {
        let mut renumber = Vec::with_capacity(self.slots.len());
        let mut next: u32 = 0;
        for s in &self.slots {
            renumber.push(next);
            next = next.saturating_add(u32::from(s.is_some()));
        }
        self.slots.retain(Option::is_some);
        for b in self.table.iter_mut() {
            b.slot = renumber.get(b.slot as usize).copied().unwrap_or(0);
        }
        for cursor in &self.cursors {
            cursor.set((0, 0));
        }
    }

    /// The `i`-th live entry in insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&MapKey, &Value)> {
        if i >= self.live {
            return None;
        }
        if self.slots.len() == self.live {
            return self.slots.get(i)?.as_ref().map(|(k, v)| (k, v));
        }
        // Start from the nearest hint (or the first slot), walking either way.
        let distance = |(_, before): (usize, usize)| before.abs_diff(i);
        let nearest = (0..HINTS).min_by_key(|&h| distance(self.cursors[h].get()));
        let hint = match nearest {
            Some(h) if distance(self.cursors[h].get()) <= i => h,
            _ => {
                let h = self.next_hint.get();
                self.next_hint.set((h + 1) % HINTS);
                self.cursors[h].set((0, 0));
                h
            }
        };
        let (mut slot, mut before) = self.cursors[hint].get();
        while before > i && slot > 0 {
            slot -= 1;
            if matches!(self.slots.get(slot), Some(Some(_))) {
                before -= 1;
            }
        }
        while let Some(s) = self.slots.get(slot) {
            if let Some((k, v)) = s {
                if before == i {
                    self.cursors[hint].set((slot, before));
                    return Some((k, v));
                }
                before += 1;
            }
            slot += 1;
        }
        None
    }

    pub fn into_values(self) -> impl Iterator<Item = Value> {
        self.slots.into_iter().flatten().map(|(_, v)| v)
    }
}

impl std::fmt::Debug for OrderedMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.slots.iter().flatten().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl Extend<(MapKey, Value)> for OrderedMap {
    fn extend<I: IntoIterator<Item = (MapKey, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Str;
    use std::rc::Rc;

    fn key(s: &str) -> MapKey {
        MapKey::Str(Rc::new(Str::new(s.to_string())))
    }

    /// How many of 2^16 buckets (the low bits, as hashbrown uses them) the keys
    /// `"k0"` … `"k65535"` land in.
    fn buckets_used(hash: impl Fn(KeyRef) -> u64) -> usize {
        let mut used = vec![false; 1 << 16];
        for i in 0..1 << 16 {
            let k = format!("k{i}");
            used[(hash(KeyRef::Str(&k)) & 0xffff) as usize] = true;
        }
        used.iter().filter(|u| **u).count()
    }

    #[test]
    fn sequential_string_keys_spread_over_buckets() {
        // A uniform hash fills about 63% (1 - 1/e) of the buckets; the Fx hash used
        // before filled under 1%.
        let state = RandomState::default();
        let used = buckets_used(|k| key_hash(&state, k));
        assert!(used > 35_000, "{used} buckets of 65536");
    }

    #[test]
    fn sequential_int_keys_spread_over_buckets() {
        // Ints hash with one write of their bits: 0 … 65535 still fill about 63%.
        let state = RandomState::default();
        let mut used = vec![false; 1 << 16];
        for i in 0..1 << 16 {
            used[(key_hash(&state, KeyRef::Int(i)) & 0xffff) as usize] = true;
        }
        let used = used.iter().filter(|u| **u).count();
        assert!(used > 35_000, "{used} buckets of 65536");
    }

    #[test]
    fn folded_hashes_still_spread_over_buckets() {
        // The index places entries by the 32-bit folded hash, spread to 64 bits.
        let state = RandomState::default();
        let used = buckets_used(|k| spread(fold(key_hash(&state, k))));
        assert!(used > 35_000, "{used} buckets of 65536");
    }

    /// The index keeps each entry's hash: growing it, removing, compacting and growing
    /// again must leave every live key found at its own value.
    #[test]
    fn lookups_hold_through_growth_removal_and_compaction() {
        let mut m = OrderedMap::with_capacity(0);
        for i in 0..20_000 {
            m.insert(MapKey::Int(i), Value::Int(i * 2));
        }
        for i in (0..20_000).filter(|i| i % 4 != 0) {
            assert!(m.remove(&KeyRef::Int(i)).is_some());
        }
        for i in 20_000..30_000 {
            m.insert(MapKey::Int(i), Value::Int(i * 2));
        }
        assert_eq!(m.len(), 5_000 + 10_000);
        for i in 0..30_000 {
            let want = (i >= 20_000 || i % 4 == 0).then_some(i * 2);
            let got = match m.get(&KeyRef::Int(i)) {
                Some(Value::Int(v)) => Some(*v),
                _ => None,
            };
            assert_eq!(got, want, "key {i}");
        }
        assert!(matches!(m.get_index(0), Some((MapKey::Int(0), _))));
        assert!(matches!(m.get_index(5_000), Some((MapKey::Int(20_000), _))));
    }

    /// Interleaved walks (a loop over a map inside a loop over the same map) read the right
    /// entries from any position, in either direction, with tombstones between them.
    #[test]
    fn positional_reads_in_any_order_match_the_live_entries() {
        let mut m = OrderedMap::with_capacity(0);
        for i in 0..3000 {
            m.insert(key(&format!("k{i}")), Value::Int(i));
        }
        for i in (0..3000).step_by(3) {
            m.remove(&KeyRef::Str(&format!("k{i}")));
        }
        let model: Vec<i64> = (0..3000).filter(|i| i % 3 != 0).collect();
        let at = |m: &OrderedMap, p: usize| match m.get_index(p) {
            Some((_, Value::Int(v))) => Some(*v),
            _ => None,
        };
        let mut seed = 7u64;
        for outer in 0..model.len() {
            assert_eq!(at(&m, outer), Some(model[outer]));
            assert_eq!(at(&m, 0), Some(model[0]));
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = (seed >> 33) as usize % model.len();
            assert_eq!(at(&m, p), Some(model[p]));
        }
        assert_eq!(at(&m, model.len()), None);
    }

    #[test]
    fn positions_skip_removed_entries_and_follow_insertion_order() {
        let mut m = OrderedMap::with_capacity(0);
        for i in 0..100 {
            m.insert(key(&format!("k{i}")), Value::Int(i));
        }
        // Remove every even key while walking by position, the way a `for` loop does.
        let mut pos = 0;
        let mut seen = Vec::new();
        while let Some((k, v)) = m.get_index(pos) {
            let (k, v) = (k.clone(), v.clone());
            seen.push(k.clone());
            if matches!(v, Value::Int(i) if i % 2 == 0) {
                m.remove(&KeyRef::from(&k));
            } else {
                pos += 1;
            }
        }
        assert_eq!(seen.len(), 100);
        assert_eq!(m.len(), 50);
        let odd: Vec<i64> = (0..50)
            .filter_map(|i| match m.get_index(i) {
                Some((_, Value::Int(v))) => Some(*v),
                _ => None,
            })
            .collect();
        assert_eq!(odd, (0..50).map(|i| 2 * i + 1).collect::<Vec<_>>());
        // A removed key inserted again goes to the end; a replaced one keeps its place.
        m.insert(key("k0"), Value::Int(-1));
        m.insert(key("k1"), Value::Int(-2));
        assert!(
            matches!(m.get_index(50), Some((MapKey::Str(s), Value::Int(-1))) if s.as_str() == "k0")
        );
        assert!(matches!(m.get_index(0), Some((_, Value::Int(-2)))));
        assert!(matches!(m.get(&KeyRef::Str("k99")), Some(Value::Int(99))));
        assert!(m.get(&KeyRef::Str("k98")).is_none());
        assert!(m.get_index(51).is_none());
    }
}
