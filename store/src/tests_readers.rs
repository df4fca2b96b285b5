//! Readers against a writer that commits all the time: a reader sees one commit whole and
//! never reports damage that is not there (the reader pins of readers.rs and pager/pins.rs).

use crate::heap::{Durability, Heap};
use crate::inspect::{summary, verify};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn soak_seconds() -> f64 {
    std::env::var("WALIA_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0)
}

/// A writer that rewrites, adds and deletes catalog entries and commits after each step,
/// so each commit frees pages of the one before and reuses older ones.
fn write_until(path: std::path::PathBuf, stop: Arc<AtomicBool>, commits: Arc<AtomicU64>) {
    let mut heap = Heap::open_file(&path, Durability::Async).unwrap();
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..40u64 {
            let key = format!("xk{}", (n * 40 + i) % 3000);
            let value = vec![(n % 251) as u8; 40 + (i as usize * 7) % 300];
            heap.put(key.as_bytes(), &value).unwrap();
        }
        if n.is_multiple_of(3) {
            heap.delete(format!("xk{}", n % 3000).as_bytes()).unwrap();
        }
        heap.pager.commit().unwrap();
        commits.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
}

#[test]
fn readers_never_see_false_damage_while_a_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("soak.wld");
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let writer = {
        let (path, stop, commits) = (path.clone(), stop.clone(), commits.clone());
        std::thread::spawn(move || write_until(path, stop, commits))
    };
    while commits.load(Ordering::Relaxed) < 5 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let end = Instant::now() + Duration::from_secs_f64(soak_seconds());
    let (mut tries, mut failures) = (0u64, Vec::new());
    while Instant::now() < end {
        let result = Heap::open_reader(&path).and_then(|mut h| {
            let pinned = h.report.pinned;
            let s = summary(&mut h)?;
            let v = verify(&mut h)?;
            // Hold the commit a while, reading it again: the writer keeps going meanwhile.
            std::thread::sleep(Duration::from_millis(3));
            let again = verify(&mut h)?;
            assert_eq!(v.commit, again.commit);
            Ok((pinned, s.commit, v.fell_back))
        });
        tries += 1;
        match result {
            Ok((pinned, _, fell_back)) => {
                assert!(pinned, "a reader of a writable file pins its commit");
                if fell_back {
                    failures.push("fell back".to_string());
                }
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let commits = commits.load(Ordering::Relaxed);
    eprintln!(
        "reader soak: {tries} reads against {commits} commits, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {tries} reads failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        tries > 20 && commits > 50,
        "the soak ran: {tries} reads, {commits} commits"
    );
}

#[test]
fn a_writer_holds_freed_pages_while_a_reader_pins_an_older_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pin.wld");
    let mut writer = Heap::open_file(&path, Durability::Immediate).unwrap();
    for i in 0..200u64 {
        writer.put(format!("k{i}").as_bytes(), &[7u8; 200]).unwrap();
    }
    writer.pager.commit().unwrap();
    let mut reader = Heap::open_reader(&path).unwrap();
    assert!(reader.report.pinned);
    let pinned_commit = reader.commit_sequence();
    // Rewrite everything many times: without the pin the pages of the reader's commit
    // would be reused after two commits.
    for round in 0..6u8 {
        for i in 0..200u64 {
            writer
                .put(format!("k{i}").as_bytes(), &[round; 200])
                .unwrap();
        }
        writer.pager.commit().unwrap();
    }
    let v = verify(&mut reader).unwrap();
    assert_eq!(v.commit, pinned_commit);
    assert_eq!(reader.get(b"k5").unwrap(), Some(vec![7u8; 200]));
    drop(reader);
    // Once the reader is gone the held pages are released at the next commit and reused
    // from then on: the file stops growing.
    let rewrite = |writer: &mut Heap, round: u8| {
        for i in 0..200u64 {
            writer
                .put(format!("k{i}").as_bytes(), &[round; 200])
                .unwrap();
        }
        writer.pager.commit().unwrap();
    };
    rewrite(&mut writer, 9);
    let grown = writer.pager.file_pages();
    for round in 0..6u8 {
        rewrite(&mut writer, round);
    }
    assert_eq!(writer.pager.file_pages(), grown, "held pages were released");
}

/// A writer that opens while a reader pins an older commit holds the whole free list; the
/// next writer must count those pages as free, not as leaked.
#[test]
fn writers_open_and_commit_while_a_reader_pins_an_older_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pin.wld");
    let rewrite = |heap: &mut Heap, round: u8| {
        for i in 0..200u64 {
            heap.put(format!("k{i}").as_bytes(), &[round; 200]).unwrap();
        }
        heap.pager.commit().unwrap();
    };
    let mut writer = Heap::open_file(&path, Durability::Immediate).unwrap();
    rewrite(&mut writer, 1);
    let mut reader = Heap::open_reader(&path).unwrap();
    let pinned = reader.commit_sequence();
    for round in 2..5 {
        rewrite(&mut writer, round);
    }
    drop(writer);
    for round in 5..8 {
        let mut writer = Heap::open_file(&path, Durability::Immediate).unwrap();
        rewrite(&mut writer, round);
    }
    assert_eq!(verify(&mut reader).unwrap().commit, pinned);
    assert_eq!(reader.get(b"k3").unwrap(), Some(vec![1u8; 200]));
    drop(reader);
    let mut writer = Heap::open_file(&path, Durability::Immediate).unwrap();
    rewrite(&mut writer, 9);
    assert!(!verify(&mut writer).unwrap().fell_back);
}
