//! Free lists naming pages they must not, table directory counts changed, and the cost
//! of the writer's check on a large heap.

use super::*;

/// Where the entries of the newest commit's free list are: (chain page, byte offset).
fn free_entries(image: &[u8], meta: &Meta) -> Vec<(u64, usize)> {
    let mut out = Vec::new();
    let mut page = meta.freelist_head;
    while page != 0 {
        let at = page as usize * PAGE_SIZE;
        let bytes = &image[at..at + PAGE_SIZE];
        let count = u16::from_le_bytes([bytes[2], bytes[3]]) as usize;
        out.extend((0..count).map(|i| (page, FREE_AT + i * 8)));
        page = read_u64(bytes, HEADER_LEN);
    }
    out
}

/// Free lists naming a page the commit uses (one of every kind), a page twice, one of the
/// list's own pages, or a page outside the commit: the writer refuses every one with a
/// page-level report, and a reader still reads the whole newest commit.
#[test]
fn a_free_list_naming_a_page_in_use_is_refused() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let meta = meta_of(&base.image, base.newest_slot);
    let mut reader = open_reader(base.image.clone()).unwrap_or_else(|e| panic!("{e}"));
    let used = PageUse::of_commit(&mut reader.pager).unwrap_or_else(|e| panic!("{e}"));
    let mut by_kind: HashMap<u8, Vec<u64>> = HashMap::new();
    for p in 2..meta.page_count {
        if let Some(k) = used.kind(p) {
            by_kind.entry(k as u8).or_default().push(p);
        }
    }
    for k in [
        PageKind::Branch,
        PageKind::Leaf,
        PageKind::Overflow,
        PageKind::Column,
        PageKind::Directory,
        PageKind::Strings,
        PageKind::KeyLeaf,
    ] {
        assert!(
            by_kind.contains_key(&(k as u8)),
            "no {} page in use",
            k.name()
        );
    }
    let entries = free_entries(&base.image, &meta);
    let listed: Vec<u64> = entries
        .iter()
        .map(|&(p, off)| read_u64(&base.image[p as usize * PAGE_SIZE..], off))
        .collect();
    let chain: Vec<u64> = {
        let mut c: Vec<u64> = entries.iter().map(|e| e.0).collect();
        c.dedup();
        c
    };
    let mut values: Vec<(String, u64)> = Vec::new();
    for pages in by_kind.values() {
        for &p in pages.iter().take(3).chain(pages.last()) {
            let kind = used.kind(p).map_or("?", |k| k.name());
            values.push((format!("{kind} page {p}"), p));
        }
    }
    values.push(("the list's own page".into(), chain[0]));
    for v in [0, 1, meta.page_count, meta.page_count + 9, u64::MAX] {
        values.push((format!("out of range {v}"), v));
    }
    let positions = [0, 1, entries.len() / 2, entries.len() - 1];
    let (mut tried, mut failed) = (0u32, Vec::new());
    for &i in &positions {
        let (page, off) = entries[i];
        let twice = listed[(i + 1) % listed.len()];
        for (what, v) in values
            .iter()
            .chain([&("a second listing".to_string(), twice)])
        {
            let mut image = base.image.clone();
            write_u64(&mut image, page as usize * PAGE_SIZE + off, *v);
            reseal_page(&mut image, page);
            tried += 1;
            let case = format!("free entry {i} = {what}");
            match open_writer(image.clone()) {
                Ok(_) => failed.push(format!("{case}: a writer opened it")),
                Err(HeapError::Corrupt { page, what }) => {
                    assert!(page > 0 && what.contains("free list"), "{case}: {what}");
                }
                Err(e) => failed.push(format!("{case}: {e}")),
            }
            match open_reader(image).and_then(|mut r| snapshot(&mut r)) {
                Ok(s) if s == base.newest => {}
                Ok(_) => failed.push(format!("{case}: a reader saw other data")),
                Err(e) => failed.push(format!("{case}: a reader failed: {e}")),
            }
        }
    }
    // A free list that no longer adds up to the superblock's count is refused too (and is
    // no reason to use the older commit, whose slot the next commit would overwrite).
    let mut image = base.image.clone();
    let at = chain[0] as usize * PAGE_SIZE;
    let count = u16::from_le_bytes([image[at + 2], image[at + 3]]) - 1;
    image[at + 2..at + 4].copy_from_slice(&count.to_le_bytes());
    reseal_page(&mut image, chain[0]);
    tried += 1;
    if open_writer(image).is_ok() {
        failed.push("a short free list was accepted".into());
    }
    eprintln!("free lists: {tried} crafted heaps, {} failed", failed.len());
    assert!(
        failed.is_empty(),
        "{} of {tried} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// The cost of the writer's check on a large heap (one table of a million rows, and a
/// catalog of 20,000 objects): `WALIA_WALK_ROWS=1000000 cargo test -p walia-store
/// --release -- --ignored --nocapture walk_cost`.
#[test]
#[ignore]
fn walk_cost_on_a_large_heap() {
    let rows: i64 = std::env::var("WALIA_WALK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let build = || -> HeapResult<Vec<u8>> {
        let mut heap = Heap::in_memory()?;
        let h = heap.create_table("T", true)?;
        if let Some((t, _)) = heap.table(h)? {
            t.add_column("id");
            t.add_column("name");
        }
        for chunk in 0..(rows + 99_999) / 100_000 {
            insert_rows(
                &mut heap,
                chunk * 100_000..((chunk + 1) * 100_000).min(rows),
            )?;
            commit(&mut heap)?;
        }
        for g in 0..20_000 {
            let id = new_object(&mut heap, g)?;
            set_global(&mut heap, &format!("g{}", g % 500), id)?;
        }
        commit(&mut heap)?;
        Ok(image_of(&heap))
    };
    let image = build().unwrap_or_else(|e| panic!("{e}"));
    let mb = image.len() as f64 / 1048576.0;
    let mut heap = open_reader(image.clone()).unwrap_or_else(|e| panic!("{e}"));
    let start = std::time::Instant::now();
    let used = PageUse::of_commit(&mut heap.pager).unwrap_or_else(|e| panic!("{e}"));
    let walk = start.elapsed();
    let in_use = (2..heap.pager.committed_meta().page_count)
        .filter(|&p| used.kind(p).is_some())
        .count();
    let start = std::time::Instant::now();
    let writer = open_writer(image).unwrap_or_else(|e| panic!("{e}"));
    let open = start.elapsed();
    eprintln!(
        "{rows} rows, {mb:.1} MB, {in_use} pages in use, {} free: walk {walk:?} \
         ({:.3} ms/MB), whole writer open {open:?}",
        writer.pager.free_pages(),
        walk.as_secs_f64() * 1000.0 / mb
    );
    // The same through a mapped file (in the page cache, as after the run that wrote it).
    let path = std::env::temp_dir().join(format!("walia-walk-cost-{}.wld", std::process::id()));
    std::fs::write(&path, image_of(&writer)).unwrap_or_else(|e| panic!("{e}"));
    drop(writer);
    let start = std::time::Instant::now();
    let file_writer = Heap::open_file(&path, crate::heap::Durability::Immediate);
    let open = start.elapsed();
    let mut file_reader = Heap::open_reader(&path).unwrap_or_else(|e| panic!("{e}"));
    let start = std::time::Instant::now();
    let walked = PageUse::of_commit(&mut file_reader.pager).map(|_| ());
    let walk = start.elapsed();
    let _ = std::fs::remove_file(&path);
    if let Err(e) = file_writer.map(|_| ()).and(walked) {
        panic!("{e}");
    }
    eprintln!("mapped file: walk {walk:?}, whole writer open {open:?}");
}

/// Table directory counts changed with valid checksums: a lowered count cuts data pages off
/// the table (verify finds them leaked, a writer refuses); a raised one makes a segment
/// span more pages than its rows need (verify says so), unless the rows it then spans are
/// ones the segment may leave unwritten, which reads the same.
#[test]
fn verify_finds_changed_directory_counts() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let meta = meta_of(&base.image, base.newest_slot);
    let mut reader = open_reader(base.image.clone()).unwrap_or_else(|e| panic!("{e}"));
    let used = PageUse::of_commit(&mut reader.pager).unwrap_or_else(|e| panic!("{e}"));
    let (mut lowered, mut raised_found) = (0, 0);
    for page in 2..meta.page_count {
        if used.kind(page) != Some(PageKind::Directory) {
            continue;
        }
        let at = page as usize * PAGE_SIZE;
        let count = u16::from_le_bytes([base.image[at + 2], base.image[at + 3]]);
        for new in [count - 1, count + 1] {
            if new == 0 || new as usize > (PAGE_SIZE - HEADER_LEN) / 8 {
                continue;
            }
            let mut image = base.image.clone();
            image[at + 2..at + 4].copy_from_slice(&new.to_le_bytes());
            reseal_page(&mut image, page);
            let verdict =
                open_reader(image.clone()).and_then(|mut h| crate::inspect::verify(&mut h));
            if new < count {
                lowered += 1;
                match verdict {
                    Err(e) => assert!(e.to_string().contains("leaked"), "page {page}: {e}"),
                    Ok(_) => panic!("page {page}: a lowered count passed verify"),
                }
                assert!(
                    open_writer(image).is_err(),
                    "page {page}: a writer opened it"
                );
            } else {
                match verdict {
                    Err(e) => {
                        assert!(e.to_string().contains("spans"), "page {page}: {e}");
                        raised_found += 1;
                    }
                    Ok(_) => {
                        let mut h = open_reader(image).unwrap_or_else(|e| panic!("{e}"));
                        let s = snapshot(&mut h).unwrap_or_else(|e| panic!("{e}"));
                        assert!(
                            s == base.newest,
                            "page {page}: a raised count passed verify but reads differently"
                        );
                    }
                }
            }
        }
    }
    assert!(
        lowered > 0 && raised_found > 0,
        "lowered {lowered}, raised and found {raised_found}"
    );
}
