//! Superblock fields set to values no commit writes, one field and value at a time.

use super::*;

/// The superblock fields: name, byte offset, width.
const FIELDS: [(&str, usize, usize); 11] = [
    ("sequence", 16, 8),
    ("page_count", 24, 8),
    ("root", 32, 8),
    ("freelist_head", 40, 8),
    ("freelist_len", 48, 8),
    ("next_id", 56, 8),
    ("commit_millis", 64, 8),
    ("durability", 72, 4),
    ("written_count", 80, 8),
    ("written_hash", 88, 8),
    ("base_seq", 96, 8),
];

fn field_values(original: u64, meta: &Meta, file_pages: u64, rng: &mut Rng) -> Vec<u64> {
    let pc = meta.page_count;
    let mut v = vec![
        0,
        1,
        2,
        3,
        original.wrapping_sub(1),
        original.wrapping_add(1),
        original.wrapping_add(2),
        original / 2,
        pc - 1,
        pc,
        pc + 1,
        file_pages - 1,
        file_pages,
        file_pages + 1,
        meta.sequence,
        meta.next_id,
        COUNTER_CEILING - 2,
        COUNTER_CEILING - 1,
        COUNTER_CEILING,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    for _ in 0..6 {
        v.push(rng.below(pc * 2));
    }
    v.push(rng.next());
    v.sort_unstable();
    v.dedup();
    v.retain(|&x| x != original);
    v
}

/// Every superblock field of the newest commit, set to many values no commit writes (and
/// a few it might): each heap is refused, or opens the other slot's sound commit, or the
/// newest (when the value is harmless), and keeps all it holds through a further commit.
#[test]
fn every_superblock_field_is_range_checked() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let meta = meta_of(&base.image, base.newest_slot);
    let file_pages = (base.image.len() / PAGE_SIZE) as u64;
    let mut rng = Rng(0x5EED_F1E1D);
    let (mut tried, mut failed) = (0u32, Vec::new());
    let mut outcomes: HashMap<&str, [u32; 3]> = HashMap::new();
    let mut harmless = Vec::new();
    for (name, offset, width) in FIELDS {
        let at = base.newest_slot as usize * PAGE_SIZE + offset;
        let mut raw = [0u8; 8];
        raw[..width].copy_from_slice(&base.image[at..at + width]);
        let original = u64::from_le_bytes(raw);
        for value in field_values(original, &meta, file_pages, &mut rng) {
            let value = if width == 4 {
                value & 0xFFFF_FFFF
            } else {
                value
            };
            if value == original {
                continue;
            }
            let mut image = base.image.clone();
            set_field(&mut image, base.newest_slot, offset, value, width);
            tried += 1;
            let case = format!("{name} = {value}");
            match check_safe(image, &base, &case) {
                Ok(outcome) => {
                    if outcome == (Outcome::Used { fell_back: false }) {
                        harmless.push(case);
                    }
                    let slot = match outcome {
                        Outcome::Refused => 0,
                        Outcome::Used { .. } => 1,
                        Outcome::CommitRefused => 2,
                    };
                    outcomes.entry(name).or_default()[slot] += 1;
                }
                Err(e) => failed.push(e),
            }
        }
    }
    eprintln!(
        "superblock fields: {tried} crafted heaps, {} failed; per field [refused, used, \
         commit refused]: {outcomes:?}; newest commit used: {harmless:?}",
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {tried} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(tried > 200, "only {tried} heaps tried");
}

/// The same field damage in both slots: with no sound commit left the writer refuses,
/// naming the field, for every value that no commit writes.
#[test]
fn a_bad_field_in_both_slots_is_refused_naming_it() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let file_pages = (base.image.len() / PAGE_SIZE) as u64;
    let cases: [(&str, usize, u64); 9] = [
        ("sequence", 16, u64::MAX),
        ("sequence", 16, COUNTER_CEILING),
        ("page_count", 24, file_pages + 1),
        ("page_count", 24, 1),
        ("root", 32, file_pages + 5),
        ("root", 32, 1),
        ("freelist_head", 40, u64::MAX),
        ("next_id", 56, u64::MAX),
        ("next_id", 56, 0),
    ];
    for (name, offset, value) in cases {
        let mut image = base.image.clone();
        for slot in [0, 1] {
            set_field(&mut image, slot, offset, value, 8);
        }
        match open_writer(image.clone()) {
            Ok(_) => panic!("{name} = {value} in both slots: opened"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("superblock field {name}")) && msg.contains("page "),
                    "{name} = {value}: {msg}"
                );
            }
        }
        assert!(
            open_reader(image).is_err(),
            "{name} = {value}: a reader opened it"
        );
    }
}

/// A next object id at or below a stored object's (checksum valid) would make the next new
/// object overwrite a stored one: the slot is not used, and the older commit is.
#[test]
fn a_low_next_id_falls_back_and_keeps_every_object() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let newest_object = base
        .newest
        .catalog
        .iter()
        .filter(|(k, _)| k.first() == Some(&OBJECT_PREFIX))
        .count() as u64;
    assert!(newest_object > 40);
    let next_id = meta_of(&base.image, base.newest_slot).next_id;
    for low in [1, 2, newest_object / 2, next_id - 1] {
        let mut image = base.image.clone();
        set_field(&mut image, base.newest_slot, 56, low, 8);
        let heap = open_writer(image.clone()).unwrap_or_else(|e| panic!("next_id {low}: {e}"));
        assert!(
            heap.report.fell_back,
            "next_id {low}: the damaged slot was used"
        );
        assert_eq!(
            check_safe(image, &base, &format!("next_id = {low}")),
            Ok(Outcome::Used { fell_back: true })
        );
    }
    // Both slots low: nothing to fall back to.
    let mut image = base.image.clone();
    for slot in [0, 1] {
        set_field(&mut image, slot, 56, 3, 8);
    }
    match open_writer(image) {
        Ok(_) => panic!("a low next_id in both slots was accepted"),
        Err(e) => assert!(e.to_string().contains("next_id 3 is not above"), "{e}"),
    }
}

/// A commit sequence at the ceiling is refused; one just below it opens, but the commit
/// that would reach the ceiling is refused rather than written and discarded at the next
/// open (a wrapped sequence used to make every later run exit 0 and lose its commit).
#[test]
fn a_maximal_sequence_never_discards_a_commit() {
    let base = build_base().unwrap_or_else(|e| panic!("base heap: {e}"));
    let mut image = base.image.clone();
    set_field(&mut image, base.newest_slot, 16, u64::MAX, 8);
    let heap = open_writer(image.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert!(heap.report.fell_back);
    assert_eq!(
        check_safe(image, &base, "sequence = MAX"),
        Ok(Outcome::Used { fell_back: true })
    );
    let mut image = base.image.clone();
    set_field(&mut image, base.newest_slot, 16, COUNTER_CEILING - 1, 8);
    assert_eq!(
        check_safe(image, &base, "sequence = ceiling - 1"),
        Ok(Outcome::CommitRefused)
    );
}
