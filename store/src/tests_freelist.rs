//! Tests of the incremental free list (pager/freelist.rs) and of the sync a writer owes a
//! heap whose last writer did not sync (deferred from open to the first reuse).

use crate::btree;
use crate::faulty::FaultyStorage;
use crate::page::HEADER_LEN;
use crate::pager::Pager;
use crate::storage::{MemStorage, PAGE_SIZE};
use crate::tests::{
    Model, Rng, assert_reopens_to, mem_bytes, put_key, read_all, run_commits_tracked,
};

/// Sync every `sync_every` commits (0: never), and record the mode as a heap does.
fn set_durability(pager: &mut Pager, sync_every: u32) {
    pager.sync_every = sync_every;
    pager.sync_interval = std::time::Duration::from_secs(3600);
    pager.durability_code = match sync_every {
        0 => 2,
        1 => 0,
        _ => 1,
    };
}

/// A pager holding about `pages` free pages: big values written, committed, deleted.
fn pager_with_free_pages(pages: u64, sync_every: u32) -> (Pager, Model) {
    let (mut pager, _) = Pager::open(Box::new(MemStorage::new()), true).expect("open");
    set_durability(&mut pager, sync_every);
    // 3 overflow pages a value.
    let big = vec![7u8; 3 * (PAGE_SIZE - HEADER_LEN) - 100];
    let keys = pages / 3;
    for k in 0..keys {
        put_key(&mut pager, &k.to_be_bytes(), &big);
    }
    pager.commit().expect("commit");
    for k in 0..keys {
        let root = pager.meta().root;
        let root = btree::delete(&mut pager, root, &k.to_be_bytes())
            .expect("delete")
            .0;
        pager.meta_mut().root = root;
    }
    pager.commit().expect("commit");
    assert!(
        pager.free_pages() as u64 >= pages,
        "{} free",
        pager.free_pages()
    );
    pager.sync().expect("sync");
    let model = read_all(&mut pager).expect("scan");
    (pager, model)
}

/// A commit that changes one key rewrites a page or two of a long free list, not all of
/// it (each 508 free pages used to cost a page at every commit).
#[test]
fn a_commit_rewrites_only_the_top_of_a_long_free_list() {
    for sync_every in [1, 0, 64] {
        let (mut pager, mut model) = pager_with_free_pages(6000, sync_every);
        for n in 0..200u64 {
            let before = pager.stats.pages_written;
            let key = format!("k{}", n % 7).into_bytes();
            put_key(&mut pager, &key, &n.to_le_bytes());
            model.insert(key, n.to_le_bytes().to_vec());
            pager.commit().expect("commit");
            let written = pager.stats.pages_written - before;
            assert!(
                written <= 4,
                "sync every {sync_every}, commit {n}: {written} pages written"
            );
        }
        pager.sync().expect("sync");
        assert_reopens_to(&pager, &model, "after small commits on a long free list");
    }
}

/// Rewrite the image's free-list chain as writers before the incremental list laid it out
/// (the head page full, the rest in order, the last partial or even empty): such heaps
/// open, pass the writer's check, and take commits.
fn relayout_chain_head_first(image: &mut [u8], pager: &Pager) {
    let (free, chain) = pager.freelist_pages();
    let mut head_first = chain.clone();
    head_first.reverse();
    let per_page = (PAGE_SIZE - HEADER_LEN - 8) / 8;
    let mut parts = free.chunks(per_page);
    for &page in &head_first {
        let part = parts.next().unwrap_or(&[]);
        let at = page as usize * PAGE_SIZE;
        let buf = &mut image[at..at + PAGE_SIZE];
        buf[2..4].copy_from_slice(&(part.len() as u16).to_le_bytes());
        buf[HEADER_LEN + 8..].fill(0);
        for (j, p) in part.iter().enumerate() {
            let e = HEADER_LEN + 8 + j * 8;
            buf[e..e + 8].copy_from_slice(&p.to_le_bytes());
        }
        let crc = crc32fast::hash(&buf[8..]);
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
    }
    assert!(
        parts.next().is_none(),
        "the chain holds fewer entries than listed"
    );
}

#[test]
fn a_free_list_laid_out_head_first_opens_and_takes_commits() {
    let (mut pager, model) = pager_with_free_pages(3000, 1);
    // Free a few more one by one so that the stack's pages are not all full.
    for k in 0..5u64 {
        put_key(&mut pager, format!("x{k}").as_bytes(), &[1; 10]);
        pager.commit().expect("commit");
    }
    let mut model = {
        let mut m = model;
        m.extend(read_all(&mut pager).expect("scan"));
        m
    };
    let mut image = mem_bytes(&pager);
    relayout_chain_head_first(&mut image, &pager);
    let heap = crate::Heap::with_storage(Box::new(MemStorage::from_bytes(image)), "old");
    let mut heap = heap.unwrap_or_else(|e| panic!("old layout refused: {e}"));
    let pager = &mut heap.pager;
    assert_eq!(read_all(pager).expect("scan"), model);
    let mut rng = Rng(99);
    for n in 0..300u64 {
        let key = format!("k{}", rng.below(50)).into_bytes();
        let v = crate::tests::value(&mut rng, n);
        put_key(pager, &key, &v);
        model.insert(key, v);
        pager.commit().expect("commit");
    }
    assert_reopens_to(pager, &model, "after commits on an old-layout free list");
}

/// The image of a heap whose last writer committed without syncing (`batched`, after its
/// first commit), with pages freed by those commits on its free list.
fn unsynced_writer(sync_every: u32) -> (Vec<u8>, Model) {
    let (mut pager, mut model) = pager_with_free_pages(600, sync_every);
    for n in 0..10u64 {
        put_key(&mut pager, b"k", &n.to_le_bytes());
        model.insert(b"k".to_vec(), n.to_le_bytes().to_vec());
        pager.commit().expect("commit");
    }
    (mem_bytes(&pager), model)
}

/// Opening after a writer that did not sync costs no sync; the first reuse of a listed
/// page syncs first (once), and so does the first commit.
#[test]
fn opening_after_an_unsynced_writer_defers_the_sync_to_the_first_reuse() {
    for (sync_every, durability) in [(0, "async"), (64, "batched")] {
        let (image, mut model) = unsynced_writer(sync_every);
        let (mut pager, _) =
            Pager::open(Box::new(MemStorage::from_bytes(image.clone())), true).expect("open");
        assert_eq!(pager.syncs(), 0, "after a {durability} writer, open synced");
        // Reading costs no sync either.
        assert_eq!(read_all(&mut pager).expect("scan"), model);
        assert_eq!(pager.syncs(), 0);
        put_key(&mut pager, b"k", b"new");
        model.insert(b"k".to_vec(), b"new".to_vec());
        assert_eq!(
            pager.syncs(),
            1,
            "a listed page was reused without a sync first"
        );
        put_key(&mut pager, b"k2", b"more");
        model.insert(b"k2".to_vec(), b"more".to_vec());
        assert_eq!(pager.syncs(), 1, "synced again");
        pager.commit().expect("commit");
        assert_reopens_to(&pager, &model, durability);

        // A writer that commits before reusing anything syncs before that commit counts
        // on the opened one (`batched`: not every commit syncs).
        let (mut pager, _) =
            Pager::open(Box::new(MemStorage::from_bytes(image)), true).expect("open");
        set_durability(&mut pager, 64);
        pager.commit().expect("commit");
        assert_eq!(pager.syncs(), 2, "the first commit after open did not sync");
    }
}

/// Put `keys` values of about a page each under `prefix`, and commit, recording the state
/// and whether the commit synced; false when the commit failed (the power went out).
fn commit_big_values(
    pager: &mut Pager,
    prefix: &str,
    keys: u64,
    tag: u8,
    models: &mut Vec<Model>,
    synced: &mut Vec<bool>,
) -> bool {
    let mut model = models.last().cloned().unwrap_or_default();
    for k in 0..keys {
        let key = format!("{prefix}{k}").into_bytes();
        let v = vec![tag; 3000];
        let root = pager.meta().root;
        // A reuse that syncs first fails when the power is out.
        match btree::put(pager, root, &key, &v) {
            Ok(root) => pager.meta_mut().root = root,
            Err(_) => {
                synced.push(false);
                models.push(model);
                return false;
            }
        }
        model.insert(key, v);
    }
    let before = pager.syncs();
    let ok = pager.commit().is_ok();
    synced.push(ok && pager.syncs() > before);
    models.push(model);
    ok
}

/// A power cut after a writer opened a heap left unsynced (`batched`) and reused its free
/// pages finds a commit at or after the last durable one: the first reuse syncs first, so
/// the pages of the older commit a power cut falls back to are not overwritten before
/// the opened commit is on disk.
#[test]
fn power_loss_after_opening_an_unsynced_heap() {
    for seed in 1..=120u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
        let (mut first, _) = Pager::open(Box::new(FaultyStorage::new(None)), true).expect("open");
        set_durability(&mut first, 1000);
        let mut models = Vec::new();
        let mut synced = Vec::new();
        // Commit 1 (synced: a heap's first) writes pages that commit 2 (not synced)
        // frees: the free list the next writer finds names pages commit 1 still uses.
        assert!(commit_big_values(
            &mut first,
            "b",
            30,
            1,
            &mut models,
            &mut synced
        ));
        assert!(commit_big_values(
            &mut first,
            "b",
            30,
            2,
            &mut models,
            &mut synced
        ));
        assert!(run_commits_tracked(
            &mut first,
            &mut rng,
            &mut models,
            &mut synced,
            6
        ));
        let Some(fake) = first.storage().as_any().downcast_ref::<FaultyStorage>() else {
            panic!("not the fake");
        };
        // The next process finds the file as the first left it (nothing lost: no power
        // cut yet), and the power fails while it works.
        let mut storage = FaultyStorage::new(Some(rng.below(120)));
        storage.current = fake.current.clone();
        storage.durable = fake.durable.clone();
        storage.unsynced = fake.unsynced.clone();
        drop(first);
        let (mut second, _) = Pager::open(Box::new(storage), true).expect("open");
        set_durability(&mut second, 1 + (seed % 3) as u32);
        // Enough new pages to reuse the whole free list.
        let finished = commit_big_values(&mut second, "c", 60, 3, &mut models, &mut synced)
            && run_commits_tracked(&mut second, &mut rng, &mut models, &mut synced, 20);
        let Some(fake) = second.storage().as_any().downcast_ref::<FaultyStorage>() else {
            panic!("not the fake");
        };
        let image = fake.power_loss_image(seed);
        let mut check = |p: &mut Pager| crate::heap::check_commit_pages(p, true);
        let reopened =
            Pager::open_checked(Box::new(MemStorage::from_bytes(image)), true, &mut check);
        let (mut reopened, _) = reopened.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        if let Err(e) = crate::reachable::check_for_writer(&mut reopened) {
            panic!("seed {seed}: the writer's check refused the commit: {e}");
        }
        let got = read_all(&mut reopened).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let returned = if finished {
            models.len()
        } else {
            models.len() - 1
        };
        let oldest = synced[..returned].iter().rposition(|s| *s).unwrap_or(0);
        assert!(
            models[oldest..].contains(&got),
            "seed {seed}: reopened state is not a commit at or after the last durable one"
        );
    }
}

/// A transaction larger than `RELEASE_EVERY` pages has the checksums of the pages written
/// before each release of resident memory stored then, while they are mapped: sealing
/// only reads those (a write to a page the release unmapped faults into the file system,
/// which made a 20,000-page commit cost about 5 µs a page instead of 1), and still writes
/// the checksum of every page changed since.
#[test]
fn a_large_commit_rewrites_only_checksums_that_changed() {
    let (mut pager, _) =
        Pager::open(Box::new(FaultyStorage::new(Some(u64::MAX))), true).expect("open");
    let pages = 3 * crate::RELEASE_EVERY as usize;
    let big = vec![9u8; 10 * (PAGE_SIZE - HEADER_LEN)];
    let mut model = Model::new();
    for k in 0..(pages / 10) as u64 {
        let mut v = big.clone();
        v[..8].copy_from_slice(&k.to_le_bytes());
        put_key(&mut pager, &k.to_be_bytes(), &v);
        model.insert(k.to_be_bytes().to_vec(), v);
    }
    // Change a page signed long ago: its checksum must be written again.
    put_key(&mut pager, &0u64.to_be_bytes(), b"changed");
    model.insert(0u64.to_be_bytes().to_vec(), b"changed".to_vec());
    let budget = |p: &Pager| match p.storage().as_any().downcast_ref::<FaultyStorage>() {
        Some(f) => f.budget.unwrap_or(0),
        None => 0,
    };
    let before = budget(&pager);
    pager.commit().expect("commit");
    // Writes and syncs spent by the commit.
    let spent = before - budget(&pager);
    assert!(
        spent < crate::RELEASE_EVERY + 100,
        "sealing {pages} pages wrote {spent} times"
    );
    let Some(fake) = pager.storage().as_any().downcast_ref::<FaultyStorage>() else {
        panic!("not the fake");
    };
    let image = fake.current.clone();
    let mut check = |p: &mut Pager| crate::heap::check_commit_pages(p, true);
    let (mut reopened, _) =
        Pager::open_checked(Box::new(MemStorage::from_bytes(image)), false, &mut check)
            .expect("reopen");
    assert_eq!(read_all(&mut reopened).expect("scan"), model);
}
