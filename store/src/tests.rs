//! Tests of the pager and index: a model check, power loss, and corruption.

use crate::btree;
use crate::faulty::FaultyStorage;
use crate::pager::Pager;
use crate::storage::MemStorage;
use std::collections::BTreeMap;

/// A small deterministic generator (xorshift), shared by the heap and table tests.
pub(crate) struct Rng(pub(crate) u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(crate) type Model = BTreeMap<Vec<u8>, Vec<u8>>;

pub(crate) fn value(rng: &mut Rng, tag: u64) -> Vec<u8> {
    let len = match rng.below(10) {
        0 => 600 + rng.below(9000) as usize,
        _ => rng.below(40) as usize,
    };
    let mut v = tag.to_le_bytes().to_vec();
    v.extend((0..len).map(|i| (i as u64 ^ tag) as u8));
    v
}

pub(crate) fn read_all(pager: &mut Pager) -> crate::error::HeapResult<Model> {
    let root = pager.meta().root;
    Ok(btree::scan(pager, root, b"")?.into_iter().collect())
}

/// Put one key into the catalog index, keeping the new root.
pub(crate) fn put_key(pager: &mut Pager, key: &[u8], value: &[u8]) {
    let root = pager.meta().root;
    let root = btree::put(pager, root, key, value).unwrap_or_else(|e| panic!("put: {e}"));
    pager.meta_mut().root = root;
}

/// Reopen a copy of the pager's memory storage as a heap would (commit check included)
/// and require exactly `expected`, with no fall-back.
pub(crate) fn assert_reopens_to(pager: &Pager, expected: &Model, context: &str) {
    let image = mem_bytes(pager);
    let reopened = Pager::open_checked(
        Box::new(MemStorage::from_bytes(image)),
        false,
        &mut crate::heap::check_commit,
    );
    match reopened {
        Ok((mut p, report)) => {
            assert!(!report.fell_back, "{context}: fell back");
            if let Err(e) = crate::reachable::check_for_writer(&mut p) {
                panic!("{context}: the writer's check refused a sound commit: {e}");
            }
            assert_eq!(&read_all(&mut p).expect("scan"), expected, "{context}");
        }
        Err(e) => panic!("{context}: {e}"),
    }
}

pub(crate) fn mem_bytes(pager: &Pager) -> Vec<u8> {
    match pager.storage().as_any().downcast_ref::<MemStorage>() {
        Some(m) => m.bytes.clone(),
        None => Vec::new(),
    }
}

/// Random puts, deletes, commits, rollbacks and savepoints agree with a BTreeMap, and a
/// reopened copy of the storage holds exactly the last commit.
#[test]
fn index_matches_a_model_across_commits_and_reopen() {
    let mut rng = Rng(0x1234_5678);
    let (mut pager, report) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    assert!(report.was_new);
    let mut model = Model::new();
    let mut committed = Model::new();
    let mut saved: Option<Model> = None;
    for step in 0..4000u64 {
        let key = format!("k{}", rng.below(300)).into_bytes();
        match rng.below(100) {
            0..=59 => {
                let v = value(&mut rng, step);
                let root = {
                    let r = pager.meta().root;
                    btree::put(&mut pager, r, &key, &v).expect("put")
                };
                pager.meta_mut().root = root;
                model.insert(key, v);
            }
            60..=84 => {
                let (root, found) = {
                    let r = pager.meta().root;
                    btree::delete(&mut pager, r, &key).expect("del")
                };
                pager.meta_mut().root = root;
                assert_eq!(found, model.remove(&key).is_some());
            }
            85..=92 => {
                pager.commit().expect("commit");
                committed = model.clone();
                saved = None;
            }
            93..=95 => {
                pager.rollback();
                model = committed.clone();
                saved = None;
            }
            96..=97 => {
                pager.savepoint().expect("savepoint");
                saved = Some(model.clone());
            }
            _ => {
                if pager.rollback_to_savepoint() {
                    model = saved.clone().expect("model savepoint");
                }
            }
        }
        if step % 97 == 0 {
            assert_eq!(read_all(&mut pager).expect("scan"), model, "step {step}");
            let k = format!("k{}", rng.below(300)).into_bytes();
            let root = pager.meta().root;
            assert_eq!(
                btree::get(&mut pager, root, &k).expect("get"),
                model.get(&k).cloned()
            );
        }
    }
    pager.commit().expect("commit");
    let bytes = mem_bytes(&pager);
    let (mut reopened, _) =
        Pager::open(Box::new(MemStorage::from_bytes(bytes.clone())), true).expect("reopen");
    assert_eq!(read_all(&mut reopened).expect("scan"), model);
    // Space is reused: 300 keys of at most ~9 KB never need thousands of pages.
    assert!(pager.file_pages() < 3000, "{} pages", pager.file_pages());
    // A prefix scan sees only its keys.
    let root = reopened.meta().root;
    let k1: Vec<_> = btree::scan_keys(&mut reopened, root, b"k1").expect("scan");
    assert_eq!(
        k1,
        model
            .keys()
            .filter(|k| k.starts_with(b"k1"))
            .cloned()
            .collect::<Vec<_>>()
    );
}

/// Commit `n` writes the counter `n` and a few random keys.
fn run_commits(pager: &mut Pager, rng: &mut Rng, models: &mut Vec<Model>, commits: usize) -> bool {
    run_commits_tracked(pager, rng, models, &mut Vec::new(), commits)
}

/// As [`run_commits`], recording for each commit whether it synced.
pub(crate) fn run_commits_tracked(
    pager: &mut Pager,
    rng: &mut Rng,
    models: &mut Vec<Model>,
    synced: &mut Vec<bool>,
    commits: usize,
) -> bool {
    let mut model = models.last().cloned().unwrap_or_default();
    for n in models.len()..commits {
        for _ in 0..rng.below(6) {
            let key = format!("k{}", rng.below(40)).into_bytes();
            let step = rng.next();
            let root = pager.meta().root;
            let result = if rng.below(4) == 0 {
                model.remove(&key);
                btree::delete(pager, root, &key).map(|(r, _)| r)
            } else {
                let v = value(rng, step);
                model.insert(key.clone(), v.clone());
                btree::put(pager, root, &key, &v)
            };
            match result {
                Ok(root) => pager.meta_mut().root = root,
                Err(_) => return false,
            }
        }
        let counter = (n as u64).to_le_bytes();
        let root = pager.meta().root;
        match btree::put(pager, root, b"counter", &counter) {
            Ok(root) => pager.meta_mut().root = root,
            Err(_) => return false,
        }
        model.insert(b"counter".to_vec(), counter.to_vec());
        let syncs = pager.syncs();
        if pager.commit().is_err() {
            // The in-flight commit may or may not have landed.
            models.push(model);
            synced.push(false);
            return false;
        }
        synced.push(pager.syncs() > syncs);
        models.push(model.clone());
    }
    true
}

fn power_loss_seed(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let budget = 20 + rng.below(400);
    let (mut pager, _) =
        Pager::open(Box::new(FaultyStorage::new(Some(budget))), true).expect("open");
    // Every third seed syncs every commit (`immediate`); the others every 2nd or 3rd
    // (`batched`), where a power cut may go back to the last synced commit, never further.
    pager.sync_every = 1 + (seed % 3) as u32;
    pager.sync_interval = std::time::Duration::from_secs(3600);
    let mut models = Vec::new();
    let mut synced = Vec::new();
    let finished = run_commits_tracked(&mut pager, &mut rng, &mut models, &mut synced, 40);
    let Some(fake) = pager.storage().as_any().downcast_ref::<FaultyStorage>() else {
        panic!("not the fake");
    };
    let image = fake.power_loss_image(seed);
    // As the heap does: a commit whose pages fail their checksums gives way to the other.
    // Half the seeds use the check large heaps get (only the last commit's own pages).
    let full = seed.is_multiple_of(2);
    let mut check = |p: &mut Pager| crate::heap::check_commit_pages(p, full);
    let reopened = Pager::open_checked(Box::new(MemStorage::from_bytes(image)), true, &mut check);
    let (mut reopened, _) = match reopened {
        Ok(p) => p,
        Err(e) => panic!("seed {seed}: reopen failed: {e}"),
    };
    // The commit a power cut leaves is one a writer accepts: its free list names no page
    // in use, and every page is in use or free.
    if let Err(e) = crate::reachable::check_for_writer(&mut reopened) {
        panic!("seed {seed}: the writer's check refused the commit: {e}");
    }
    let got = read_all(&mut reopened).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    // The oldest acceptable state: the last commit that synced and returned (for an
    // unfinished run, the in-flight commit did not return). Nothing synced yet: empty.
    let returned = if finished {
        models.len()
    } else {
        models.len() - 1
    };
    let oldest = synced[..returned].iter().rposition(|s| *s);
    let empty = Model::new();
    let ok = match oldest {
        Some(i) => models[i..].contains(&got),
        None => got == empty || models.contains(&got),
    };
    assert!(
        ok,
        "seed {seed}: reopened state is not a commit at or after the last durable one \
         (budget {budget}, {} commits, sync every {})",
        models.len(),
        pager.sync_every
    );
    // The reopened heap keeps working.
    let mut models2 = vec![got];
    assert!(run_commits(&mut reopened, &mut rng, &mut models2, 5));
}

/// Cutting the power at a random write or sync, then dropping, keeping or tearing each
/// unsynced page, always reopens to exactly the last commit or the one before.
#[test]
fn power_loss_reopens_to_the_last_or_previous_commit() {
    let seeds: u64 = std::env::var("WALIA_POWER_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    for seed in 0..seeds {
        power_loss_seed(seed);
    }
}

/// Flipped bytes and truncations never panic: open and a full read either succeed with
/// the committed data or report corruption.
#[test]
fn corrupt_bytes_are_reported_never_panicking() {
    let mut rng = Rng(99);
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    let mut models = Vec::new();
    assert!(run_commits(&mut pager, &mut rng, &mut models, 30));
    let good = mem_bytes(&pager);
    let expected = models.last().cloned().unwrap_or_default();
    let previous = models[models.len() - 2].clone();
    for round in 0..1500 {
        let mut bytes = good.clone();
        match round % 3 {
            0 => {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => {
                for _ in 0..8 {
                    let at = rng.below(bytes.len() as u64) as usize;
                    bytes[at] = rng.next() as u8;
                }
            }
            _ => bytes.truncate(rng.below(bytes.len() as u64) as usize),
        }
        if let Ok((mut p, _)) = Pager::open(Box::new(MemStorage::from_bytes(bytes)), true)
            && let Ok(got) = read_all(&mut p)
        {
            assert!(
                got == expected || got == previous,
                "round {round}: wrong data without an error"
            );
        }
    }
}

#[test]
fn immediate_commit_costs_two_syncs() {
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    let root = btree::put(&mut pager, 0, b"gx", b"1").expect("put");
    pager.meta_mut().root = root;
    pager.commit().expect("commit");
    let before = pager.syncs();
    let root = {
        let r = pager.meta().root;
        btree::put(&mut pager, r, b"gx", b"2").expect("put")
    };
    pager.meta_mut().root = root;
    pager.commit().expect("commit");
    assert_eq!(pager.syncs() - before, 2);
}

mod prop {
    use crate::heap::{Heap, object_key};
    use crate::inspect::{summary, verify};
    use crate::storage::MemStorage;
    use proptest::prelude::*;

    /// A small valid heap image with globals and object records.
    fn image() -> Vec<u8> {
        let mut heap = match Heap::with_storage(Box::new(MemStorage::new()), "<test>") {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        };
        // global `a` = 1; global `l` = ref 1 -> list [1, "two", ref 1]
        heap.put(b"ga", &[3, 1, 0, 0, 0, 0, 0, 0, 0]).expect("put");
        heap.put(b"gl", &[6, 1, 0, 0, 0, 0, 0, 0, 0]).expect("put");
        let mut rec = vec![
            1u8, 3, 3, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 5, 3, 0, 0, 0, 0, 0, 0, 0,
        ];
        rec.extend_from_slice(b"two");
        rec.extend_from_slice(&[6, 1, 0, 0, 0, 0, 0, 0, 0]);
        heap.put(&object_key(1), &rec).expect("put");
        heap.pager.commit().expect("commit");
        heap.put(b"gb", &[0]).expect("put");
        heap.pager.commit().expect("commit");
        match heap.pager.storage().as_any().downcast_ref::<MemStorage>() {
            Some(m) => m.bytes.clone(),
            None => Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Random bytes never panic the open, inspect or verify paths.
        #[test]
        fn random_heap_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..20000)) {
            if let Ok(mut h) = Heap::with_storage(Box::new(MemStorage::from_bytes(bytes)), "<fuzz>") {
                let _ = summary(&mut h);
                let _ = verify(&mut h);
            }
        }

        /// Random edits of a valid heap never panic, and verify passing means the data reads.
        #[test]
        fn mutated_heaps_never_panic(edits in proptest::collection::vec((0usize..8 * 4096, any::<u8>()), 1..12)) {
            let mut bytes = image();
            for (at, b) in edits {
                if at < bytes.len() {
                    bytes[at] = b;
                }
            }
            if let Ok(mut h) = Heap::with_storage(Box::new(MemStorage::from_bytes(bytes)), "<fuzz>") {
                let _ = summary(&mut h);
                let _ = verify(&mut h);
            }
        }
    }
}

/// Many sequential keys (as object ids are) keep the tree shallow and the file small.
#[test]
fn many_sequential_keys_stay_shallow() {
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    let n = 100_000u64;
    for id in 1..=n {
        put_key(&mut pager, &crate::heap::object_key(id), &[7u8; 30]);
    }
    pager.commit().expect("commit");
    let root = pager.meta().root;
    let mut pages = 0;
    btree::walk_pages(&mut pager, root, &mut |_, _| pages += 1).expect("walk");
    // ~45 bytes per entry: about 90 entries per leaf.
    assert!(pages < 2 * n / 80, "{pages} pages for {n} keys");
    assert!(
        pager.file_pages() < 4 * n / 80,
        "file has {} pages",
        pager.file_pages()
    );
    let k = crate::heap::object_key(77_777);
    assert_eq!(
        btree::get(&mut pager, root, &k).expect("get"),
        Some(vec![7u8; 30])
    );
}

/// Whatever the durability mode, every commit that completed passes the check a reopen
/// makes (a batched heap whose unsynced commits failed it lost them silently once).
#[test]
fn every_clean_commit_passes_the_commit_check() {
    for sync_every in [1, 3, 64, 0] {
        let mut rng = Rng(7);
        let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
        pager.sync_every = sync_every;
        pager.sync_interval = std::time::Duration::from_secs(3600);
        let mut models = Vec::new();
        for round in 1..40 {
            if round % 7 == 0 {
                pager.savepoint().expect("savepoint");
                put_key(&mut pager, b"sp", b"x");
                assert!(pager.rollback_to_savepoint());
            }
            assert!(run_commits(&mut pager, &mut rng, &mut models, round));
            let context = format!("sync every {sync_every}, after commit {round}");
            assert_reopens_to(&pager, &models[models.len() - 1], &context);
        }
    }
}

/// After a commit fails part-way (here: the power fails at its sync), the pager refuses to
/// commit again until the heap is reopened.
#[test]
fn a_failed_commit_poisons_the_pager() {
    let (mut pager, _) = Pager::open(Box::new(FaultyStorage::new(Some(12))), true).expect("open");
    let mut failed = false;
    for i in 0..20u64 {
        put_key(&mut pager, &i.to_be_bytes(), b"v");
        if pager.commit().is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "the budget never ran out");
    let again = pager.commit().expect_err("a second commit must be refused");
    assert!(again.to_string().contains("reopen"), "{again}");
}

/// A sync while a savepoint is open, then a rollback to it: the next commit still passes
/// the check a reopen makes.
#[test]
fn sync_during_a_savepoint_keeps_the_commit_checkable() {
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    pager.sync_every = 64;
    pager.sync_interval = std::time::Duration::from_secs(3600);
    let mut rng = Rng(11);
    let mut models = Vec::new();
    assert!(run_commits(&mut pager, &mut rng, &mut models, 3));
    // Nothing written since the last (unsynced) commit, so the sync could mark everything
    // durable, but the savepoint still holds the counts from before it.
    pager.savepoint().expect("savepoint");
    pager.sync().expect("sync");
    assert!(pager.rollback_to_savepoint());
    assert!(run_commits(&mut pager, &mut rng, &mut models, 5));
    assert_reopens_to(&pager, &models[models.len() - 1], "after the rollback");
}

/// A free list naming a page twice (checksum valid) is damage: a writer refuses the heap
/// rather than hand the page out twice (crafted_tests.rs tries many more such lists).
#[test]
fn a_free_list_naming_a_page_twice_is_refused() {
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    // Rewriting the same keys frees their old pages: the later commits have free lists.
    for round in 0..6u64 {
        for k in 0..40u64 {
            put_key(&mut pager, &k.to_be_bytes(), &round.to_le_bytes());
        }
        pager.commit().expect("commit");
    }
    let (free, chain) = pager.freelist_pages();
    assert!(
        free.len() >= 2 && !chain.is_empty(),
        "no free list to damage"
    );
    let mut image = mem_bytes(&pager);
    let at = chain[0] as usize * crate::storage::PAGE_SIZE;
    let page = &mut image[at..at + crate::storage::PAGE_SIZE];
    let first_entry = crate::page::HEADER_LEN + 8;
    let copy: [u8; 8] = page[first_entry..first_entry + 8]
        .try_into()
        .expect("8 bytes");
    page[first_entry + 8..first_entry + 16].copy_from_slice(&copy);
    let crc = crc32fast::hash(&page[8..]);
    page[4..8].copy_from_slice(&crc.to_le_bytes());
    let opened =
        crate::Heap::with_storage(Box::new(MemStorage::from_bytes(image.clone())), "twice")
            .and_then(|mut h| h.pager.check_opened());
    match opened {
        Ok(_) => panic!("a writer opened a heap whose free list names a page twice"),
        Err(e) => assert!(e.to_string().contains("twice"), "{e}"),
    }
    // The check runs at the writer's first allocation or commit, not at open (a resumed
    // pipe reads its first element before either): opening succeeds, and then every
    // allocation and every commit is refused, and the file keeps every byte.
    let (mut writer, _) =
        Pager::open(Box::new(MemStorage::from_bytes(image.clone())), true).expect("open");
    let taken = writer.allocate(crate::page::PageKind::Overflow);
    assert!(taken.is_err_and(|e| e.to_string().contains("twice")));
    let again = writer.allocate(crate::page::PageKind::Overflow);
    assert!(again.is_err_and(|e| e.to_string().contains("twice")));
    let committed = writer.commit();
    assert!(committed.is_err_and(|e| e.to_string().contains("twice")));
    assert!(
        mem_bytes(&writer) == image,
        "a refused writer changed the file"
    );
}
