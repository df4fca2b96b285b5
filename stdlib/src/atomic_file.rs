//! Writing a whole file so that it is either complete or not there: the bytes go to a
//! temporary file in the target's directory, which is flushed to disk and then renamed
//! over the target. A failure (a full disk, an error in the data) removes the temporary
//! file and leaves an existing target as it was.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use walia_runtime::{RtError, RtResult};

fn cannot_write(path: &str, e: impl std::fmt::Display) -> RtError {
    RtError::new(format!("cannot write '{path}': {e}"))
}

/// A hidden name next to `target`, unique to this process (the rename must not cross file
/// systems, so it cannot live in the system temp directory).
fn temp_beside(target: &Path, path: &str) -> RtResult<PathBuf> {
    let name = target
        .file_name()
        .ok_or_else(|| cannot_write(path, "not a file name"))?;
    let temp = format!(
        ".{}.{}.walia-tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(target.with_file_name(temp))
}

/// Where the bytes go and, for an existing file, the permissions it keeps: a symbolic link
/// is followed (the rename replaces the file it names, not the link), and a target that is
/// not a regular file (a FIFO, a device, `/dev/stdout`) is written in place.
enum Target {
    Replace(PathBuf, Option<std::fs::Permissions>),
    InPlace,
}

fn resolve(path: &str) -> Target {
    let target = Path::new(path);
    match std::fs::metadata(target) {
        Ok(meta) if meta.is_file() => {
            let real = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
            Target::Replace(real, Some(meta.permissions()))
        }
        Ok(_) => Target::InPlace,
        Err(_) => Target::Replace(target.to_path_buf(), None),
    }
}

/// Write `path` through `fill`, all or nothing; returns what `fill` returns.
pub fn write_file<T>(path: &str, fill: impl FnOnce(&mut dyn Write) -> RtResult<T>) -> RtResult<T> {
    let (target, permissions) = match resolve(path) {
        Target::Replace(target, permissions) => (target, permissions),
        Target::InPlace => {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| cannot_write(path, e))?;
            let mut out = BufWriter::with_capacity(1 << 16, file);
            let value = fill(&mut out)?;
            out.flush().map_err(|e| cannot_write(path, e))?;
            return Ok(value);
        }
    };
    let target = target.as_path();
    let temp = temp_beside(target, path)?;
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)
        .map_err(|e| cannot_write(path, e))?;
    if let Some(p) = permissions {
        let _ = file.set_permissions(p);
    }
    let written = write_and_sync(file, path, fill).and_then(|v| {
        std::fs::rename(&temp, target).map_err(|e| cannot_write(path, e))?;
        Ok(v)
    });
    match written {
        Ok(v) => {
            sync_directory(target);
            Ok(v)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

fn write_and_sync<T>(
    file: File,
    path: &str,
    fill: impl FnOnce(&mut dyn Write) -> RtResult<T>,
) -> RtResult<T> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let value = fill(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| cannot_write(path, e.into_error()))?;
    file.sync_all().map_err(|e| cannot_write(path, e))?;
    Ok(value)
}

/// Make the rename itself durable. Best effort: some file systems refuse to sync a
/// directory, and the file's contents are already on disk.
fn sync_directory(target: &Path) {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("walia-tmp"))
            .collect()
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old contents\n").expect("write");
        let path = target.to_str().expect("utf-8 path");
        // A disk that fills up half way through.
        let r: RtResult<()> = write_file(path, |w| {
            w.write_all(b"new, partial")
                .map_err(|e| cannot_write(path, e))?;
            Err(cannot_write(
                path,
                std::io::Error::from(std::io::ErrorKind::StorageFull),
            ))
        });
        let e = r.expect_err("the write fails");
        assert!(e.message.starts_with("cannot write '"), "{}", e.message);
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "old contents\n"
        );
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        // With no old file, nothing is left at all.
        let fresh = dir.path().join("fresh.csv");
        let fresh_path = fresh.to_str().expect("utf-8 path");
        let r: RtResult<()> = write_file(fresh_path, |_| Err(RtError::new("boom")));
        assert!(r.is_err());
        assert!(!fresh.exists());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_complete_write_replaces_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.jsonl");
        std::fs::write(&target, "old\n").expect("write");
        let path = target.to_str().expect("utf-8 path");
        let n = write_file(path, |w| {
            w.write_all(b"{\"a\":1}\n")
                .map_err(|e| cannot_write(path, e))?;
            Ok(1)
        })
        .expect("written");
        assert_eq!(n, 1);
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "{\"a\":1}\n"
        );
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_link_is_followed_and_the_files_permissions_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real.csv");
        std::fs::write(&real, "old\n").expect("write");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        let path = link.to_str().expect("utf-8 path");
        write_file(path, |w| {
            w.write_all(b"new\n").map_err(|e| cannot_write(path, e))
        })
        .expect("written");
        assert!(
            link.symlink_metadata()
                .expect("link")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "new\n");
        let mode = real.metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_device_is_written_in_place() {
        let r = write_file("/dev/null", |w| {
            w.write_all(b"x").map_err(|e| cannot_write("/dev/null", e))
        });
        assert!(r.is_ok());
        assert!(Path::new("/dev/null").exists());
    }
}
