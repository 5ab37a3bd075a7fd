//! Append-only JSON-lines logs that survive crashes: each append is whole lines, flushed to
//! disk before it returns, and starts on a fresh line if a crash left the last one torn; reading
//! skips (and names in the log) a line that is not a record. A log with a size limit is rotated
//! to a dated name beside it before it would pass the limit, and rotated files are never deleted.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Appends `records`, one JSON line each, creating the file and its directory if needed.
pub fn append<T: Serialize>(path: &Path, records: &[T]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(std::io::Error::other)?;
        buf.push(b'\n');
    }
    let mut f = std::fs::OpenOptions::new().create(true).read(true).append(true).open(path)?;
    // A torn previous line must not swallow this one.
    if last_byte(&mut f)?.is_some_and(|c| c != b'\n') {
        f.write_all(b"\n")?;
    }
    f.write_all(&buf)?;
    f.sync_data()
}

/// Appends like [`append`], first moving the log to `<stem>-<UTC time>.<ext>` beside it when it
/// already holds `max_bytes` or more. The rotated file is kept for good.
pub fn append_rotating<T: Serialize>(path: &Path, records: &[T], max_bytes: u64) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= max_bytes) {
        std::fs::rename(path, rotated_name(path, chrono::Utc::now()))?;
    }
    append(path, records)
}

/// `audit.jsonl` → `audit-20261202T013000.123456Z.jsonl`, a name that sorts by time; never one
/// that is taken (`…Z-2.jsonl` then), so no rotated file is replaced.
fn rotated_name(path: &Path, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let time = at.format("%Y%m%dT%H%M%S%.6fZ");
    let mut candidate = path.with_file_name(format!("{stem}-{time}{ext}"));
    let mut n = 2;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{stem}-{time}-{n}{ext}"));
        n += 1;
    }
    candidate
}

/// Every record in the log, oldest first; a line that is not one (a torn last line after a
/// crash, an edit by hand) is skipped and named in the log.
pub fn read<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<T>(line) {
            Ok(r) => records.push(r),
            Err(e) => tracing::warn!(file = %path.display(), line = i + 1, error = %e, "skipped an unreadable record"),
        }
    }
    records
}

fn last_byte(f: &mut std::fs::File) -> std::io::Result<Option<u8>> {
    if f.metadata()?.len() == 0 {
        return Ok(None);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(Some(b[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_append_starts_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        append(&path, &[1u32, 2]).unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"torn").unwrap();
        append(&path, &[3u32]).unwrap();
        assert_eq!(read::<u32>(&path), vec![1, 2, 3]);
    }

    #[test]
    fn rotation_keeps_every_rotated_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        // Within one millisecond or not, no rotated file takes another's name.
        for i in 0..5u32 {
            append_rotating(&path, &[i], 2).unwrap();
        }
        let mut rotated: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).filter(|p| p != &path).collect();
        rotated.sort();
        assert_eq!(rotated.len(), 4, "{rotated:?}");
        let mut all: Vec<u32> = rotated.iter().chain([&path]).flat_map(|p| read::<u32>(p)).collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 4], "nothing lost");
        assert!(rotated[0].file_name().unwrap().to_string_lossy().starts_with("audit-"), "{rotated:?}");
    }
}
