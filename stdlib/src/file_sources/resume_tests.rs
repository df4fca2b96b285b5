//! Reader positions: a reader continued at a position reads what an uninterrupted one
//! would have read after it, and refuses a file that changed before it.

use super::{open_csv, open_jsonl, open_lines};
use std::path::Path;
use std::rc::Rc;
use walia_runtime::api::{FilePos, FileSource, RecordReader, SourceOpener, repr};

fn source(path: &Path, open: SourceOpener) -> FileSource {
    let path: Rc<str> = path.to_string_lossy().into();
    FileSource {
        kind: "test".into(),
        path: path.clone(),
        shown: "shown.txt".into(),
        options: "".into(),
        open,
    }
}

fn next(r: &mut dyn RecordReader) -> Option<String> {
    match r.next_record() {
        Ok(v) => v.map(|v| repr(&v)),
        Err(e) => Some(format!("error: {}", e.message)),
    }
}

fn rest(r: &mut dyn RecordReader) -> Vec<String> {
    std::iter::from_fn(|| next(r)).collect()
}

/// Read `k` records, take the position, and continue a fresh reader there.
fn split_at(src: &FileSource, k: usize) -> (Vec<String>, FilePos, Vec<String>) {
    let mut r = src.reader().expect("open");
    let head: Vec<String> = (0..k).filter_map(|_| next(&mut *r)).collect();
    let pos = r.position().expect("position").expect("resumable");
    let mut fresh = src.reader().expect("open");
    fresh.seek(&pos).expect("seek");
    (head, pos, rest(&mut *fresh))
}

/// At every record boundary, the records before it and those read after resuming there
/// are the uninterrupted read.
fn check_every_split(name: &str, text: &str, open: SourceOpener) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    let src = source(&path, open);
    let all = rest(&mut *src.reader().expect("open"));
    for k in 0..=all.len() + 1 {
        let (mut head, _, tail) = split_at(&src, k);
        head.extend(tail);
        assert_eq!(head, all, "{name}: resumed after {k} records");
    }
    all
}

#[test]
fn lines_resume_at_every_line() {
    let all = check_every_split("a.txt", "a\nb\r\n\nd\r\nlast", open_lines);
    assert_eq!(all, ["\"a\"", "\"b\"", "\"\"", "\"d\"", "\"last\""]);
    // A byte order mark is dropped from the first line only, resumed or not.
    let all = check_every_split("bom.txt", "\u{feff}x\ny\n", open_lines);
    assert_eq!(all, ["\"x\"", "\"y\""]);
}

#[test]
fn jsonl_resumes_across_blank_lines() {
    let all = check_every_split(
        "a.jsonl",
        "{\"a\": 1}\n\n  \n[1, 2]\r\n\"s\"\n\n",
        open_jsonl,
    );
    assert_eq!(all, ["{\"a\": 1}", "[1, 2]", "\"s\""]);
}

#[test]
fn csv_resumes_with_its_header_and_the_types_it_inferred() {
    // `score` is typed Float by row 2; row 3's `7` is 7.0 only if that is remembered.
    let text = "id,note,score\n1,\"two\nlines\",\n2,\"a,b\",1.5\n\n3,c,7\n";
    let all = check_every_split("a.csv", text, open_csv);
    assert_eq!(all.len(), 3);
    assert!(all[2].contains("\"score\": 7.0"), "{all:?}");
    // The position after row 2 carries the header and the types.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("b.csv");
    std::fs::write(&path, text).expect("write");
    let (_, pos, tail) = split_at(&source(&path, open_csv), 2);
    assert_eq!(
        repr(&pos.state),
        "[[\"id\", \"note\", \"score\"], [1, 4, 2]]"
    );
    assert_eq!(pos.line, 4);
    assert_eq!(tail.len(), 1);
    // Errors after a resume count the file's own lines.
    std::fs::write(&path, format!("{text}4,d,x\n")).expect("write");
    let mut r = source(&path, open_csv).reader().expect("open");
    r.seek(&pos).expect("seek");
    assert_eq!(next(&mut *r).as_deref(), Some(tail[0].as_str()));
    let e = next(&mut *r).unwrap_or_default();
    assert!(
        e.starts_with("error: 'shown.txt' line 7: column score"),
        "{e}"
    );
}

#[test]
fn lines_appended_after_the_end_are_read_after_a_resume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.txt");
    std::fs::write(&path, "one\ntwo\n").expect("write");
    for open in [open_lines as SourceOpener, open_jsonl, open_csv] {
        std::fs::write(&path, "1\n2\n").expect("write");
        let src = source(&path, open);
        let (head, pos, tail) = split_at(&src, 9);
        assert!(tail.is_empty() && !head.is_empty());
        std::fs::write(&path, "1\n2\n3\n4\n").expect("write");
        let mut r = src.reader().expect("open");
        r.seek(&pos).expect("seek");
        assert_eq!(
            rest(&mut *r),
            ["3", "4"].map(|x| match head[0].starts_with('"') {
                true => format!("\"{x}\""),
                false if head[0].starts_with('{') => format!("{{\"1\": {x}}}"),
                false => x.to_string(),
            })
        );
    }
}

#[test]
fn a_file_that_shrank_or_changed_before_the_position_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.txt");
    // Valid as text, JSON and CSV; the position is after "22" (for CSV, after the header
    // "1" and the row "22").
    let text = "1\n22\n333\n";
    for (open, k) in [
        (open_lines as SourceOpener, 2),
        (open_jsonl, 2),
        (open_csv, 1),
    ] {
        std::fs::write(&path, text).expect("write");
        let src = source(&path, open);
        let mut r = src.reader().expect("open");
        for _ in 0..k {
            assert!(next(&mut *r).is_some_and(|v| !v.starts_with("error")));
        }
        let pos = r.position().expect("position").expect("resumable");
        assert_eq!((pos.offset, pos.line), (5, 2));
        let seek = |text: &str| {
            std::fs::write(&path, text).expect("write");
            let mut r = src.reader().expect("open");
            r.seek(&pos).err().map(|e| e.message.clone())
        };
        assert_eq!(
            seek("1\n2").as_deref(),
            Some("file 'shown.txt' shrank below the checkpointed position (byte 5, line 2)")
        );
        assert_eq!(seek("1\n22\n"), None, "a file cut at the position is fine");
        assert_eq!(
            seek("1\n23\n333\n").as_deref(),
            Some("file 'shown.txt' changed before the checkpointed position (byte 5, line 2)")
        );
    }
}

#[test]
fn the_guard_covers_the_first_and_the_last_window_of_a_long_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("long.txt");
    let text: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&path, &text).expect("write");
    let src = source(&path, open_lines);
    let (_, pos, tail) = split_at(&src, 2500);
    assert_eq!(tail.len(), 500);
    let edit = |at: usize| {
        let mut bytes = text.clone().into_bytes();
        bytes[at] = b'L';
        std::fs::write(&path, bytes).expect("write");
        let mut r = src.reader().expect("open");
        r.seek(&pos).is_ok()
    };
    let offset = pos.offset as usize;
    assert!(!edit(0), "the first window");
    assert!(!edit(offset - 9), "the window before the position");
    assert!(edit(offset + 1), "after the position");
}

#[test]
fn seeking_reads_only_the_guard_windows() {
    // A sparse file of 1 TiB: reading it through would not finish, seeking is instant.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.txt");
    let file = std::fs::File::create(&path).expect("create");
    let far = 1u64 << 40;
    // Its last byte before `far` ends a line, as at any position a reader takes.
    if file.set_len(far - 1).is_err() {
        return; // a file system without sparse files this large
    }
    drop(file);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    std::io::Write::write_all(&mut f, b"\nx\ny\n").expect("append");
    let file = std::fs::File::open(&path).expect("open");
    let (crc_tail, crc_head) = super::resume::guard(&file, far).expect("guard");
    let pos = FilePos {
        offset: far,
        line: 1,
        state: walia_runtime::Value::Nil,
        crc_tail,
        crc_head,
    };
    let mut r = source(&path, open_lines).reader().expect("open");
    r.seek(&pos).expect("seek");
    assert_eq!(rest(&mut *r), ["\"x\"", "\"y\""]);
    let after = r.position().expect("position").expect("resumable");
    assert_eq!((after.offset, after.line), (far + 4, 3));
}

#[test]
fn a_searching_reader_has_no_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.txt");
    std::fs::write(&path, "a\nb\n").expect("write");
    let mut r = source(&path, open_lines).reader().expect("open");
    assert!(r.next_containing("b").is_some());
    assert!(matches!(r.position(), Ok(None)));
}

#[test]
fn a_relative_path_is_stored_absolute_and_shown_as_written() {
    let walia_runtime::Value::File(f) = FileSource::value("lines", "logs/x.txt", open_lines) else {
        panic!("not a file source");
    };
    assert!(Path::new(&*f.path).is_absolute(), "{}", f.path);
    assert!(f.path.ends_with("logs/x.txt"), "{}", f.path);
    assert_eq!(&*f.shown, "logs/x.txt");
    let e = f
        .reader()
        .err()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(e.starts_with("cannot read 'logs/x.txt': "), "{e}");
}

/// A last line read without its line end (a writer was mid-line) and then continued: the
/// rest is not a record of its own. Resuming is refused rather than splitting the line.
#[test]
fn a_last_line_cut_short_and_continued_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.txt");
    std::fs::write(&path, "one\nab").expect("write");
    let src = source(&path, open_lines);
    let (head, pos, tail) = split_at(&src, 9);
    assert_eq!((head.len(), tail.len()), (2, 0));
    // Unchanged, or still without more bytes: resuming reads nothing new.
    let mut r = src.reader().expect("open");
    r.seek(&pos).expect("seek an unchanged file");
    assert!(rest(&mut *r).is_empty());
    std::fs::write(&path, "one\nabcd\n").expect("write");
    let mut r = src.reader().expect("open");
    let e = r
        .seek(&pos)
        .err()
        .map(|e| e.message.to_string())
        .unwrap_or_default();
    assert!(e.contains("without a line end"), "{e}");
}
