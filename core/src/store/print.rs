//! What files look like on disk, without reading them: a change of any one's size, time or inode
//! (a file replaced by rename is a new inode) changes the print. Read every second by what
//! follows files (file_sd, the config); one stat a file.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Each path with its length, modification time and inode; `None` where it does not exist.
pub type Print = Vec<(PathBuf, Option<(u64, SystemTime, u64)>)>;

pub fn of(paths: impl IntoIterator<Item = impl AsRef<Path>>) -> Print {
    use std::os::unix::fs::MetadataExt;
    paths
        .into_iter()
        .map(|p| {
            let p = p.as_ref();
            let m = std::fs::metadata(p).ok().and_then(|m| Some((m.len(), m.modified().ok()?, m.ino())));
            (p.to_path_buf(), m)
        })
        .collect()
}
