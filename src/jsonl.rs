//! Append-only JSON-lines files that survive crashes: each append is whole lines, flushed to
//! disk before it returns, and starts on a fresh line if a crash left the last one torn.

use serde::Serialize;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

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

fn last_byte(f: &mut std::fs::File) -> std::io::Result<Option<u8>> {
    if f.metadata()?.len() == 0 {
        return Ok(None);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(Some(b[0]))
}
