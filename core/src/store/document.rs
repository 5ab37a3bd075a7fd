//! Documents rewritten whole (silences now): written to a temporary file beside the real one,
//! flushed to disk, renamed over it, and the directory flushed, so a crash leaves the old
//! document or the new one, never half of either.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

/// Writes `value` as pretty JSON to `path`, atomically and durably.
pub fn write<T: Serialize + ?Sized>(path: &Path, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    // The rename itself is durable once the directory is.
    if let Some(dir) = dir
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The document at `path`; `None` when there is none, or (named in the log) when it cannot be read.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text)
        .map_err(|e| tracing::warn!(file = %path.display(), error = %e, "unreadable; starting without it"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_replaces_the_last_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/silences.json");
        write(&path, &vec!["a", "b"]).unwrap();
        write(&path, &vec!["c"]).unwrap();
        assert_eq!(read::<Vec<String>>(&path), Some(vec!["c".to_string()]));
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("silences.json")]);
    }

    #[test]
    fn garbage_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silences.json");
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(read::<Vec<String>>(&path), None);
        assert_eq!(read::<Vec<String>>(&dir.path().join("absent.json")), None);
    }
}
