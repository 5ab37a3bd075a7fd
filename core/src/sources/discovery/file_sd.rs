//! Instances from Prometheus file_sd files (JSON or YAML: groups of `targets` with `labels`).
//! The files are looked at every second: a change of any matching file's size, time or inode
//! (a file replaced by rename, as editors and Ansible do, is a new inode) reads them again.

use super::Target;
use crate::store::print::Print;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// A file larger than this is refused.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: HashMap<String, String>,
}

pub struct Files {
    glob: String,
    seen: Option<Print>,
}

impl Files {
    pub fn new(glob: &str) -> Self {
        Self { glob: glob.to_string(), seen: None }
    }

    fn paths(&self) -> Result<Vec<PathBuf>, String> {
        let paths = glob::glob(&self.glob).map_err(|e| e.to_string())?;
        let mut out: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
        out.sort();
        Ok(out)
    }

    fn print(&self) -> Print {
        crate::store::print::of(self.paths().unwrap_or_default())
    }

    /// Whether the files changed since they were last read.
    pub fn changed(&self) -> bool {
        self.seen.as_ref() != Some(&self.print())
    }

    /// Every target of every matching file. A file that cannot be read or parsed fails the
    /// whole read: a half-written file must not remove the instances of the other half.
    pub fn list(&mut self, name_label: &str) -> Result<Vec<Target>, String> {
        let print = self.print();
        // Marked read even when it fails: a broken file is read again when it changes.
        self.seen = Some(print.clone());
        let mut out = Vec::new();
        for (path, meta) in &print {
            let Some((len, ..)) = meta else { continue };
            if *len > MAX_FILE_BYTES {
                return Err(format!("{}: larger than {}", path.display(), crate::format::bytes(MAX_FILE_BYTES)));
            }
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let groups = parse(path, &text)?;
            for g in groups {
                let scheme = g.labels.get("__scheme__").cloned();
                for t in g.targets {
                    let name = g.labels.get(name_label).cloned();
                    out.push(Target { host_port: t, scheme: scheme.clone(), name, lb: None });
                }
            }
        }
        Ok(out)
    }
}

/// One file's groups: JSON by its `.json` name, else YAML, as Prometheus reads them.
fn parse(path: &std::path::Path, text: &str) -> Result<Vec<Group>, String> {
    let json = path.extension().is_some_and(|e| e == "json");
    let shown = path.display();
    if json {
        serde_json::from_str(text).map_err(|e| format!("{shown}: line {}: {e}", e.line()))
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| format!("{shown}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_files_give_their_targets_and_a_broken_one_fails_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"[{"targets":["127.0.0.1:8080","127.0.0.2:8080"],"labels":{"env":"prod"}}]"#;
        std::fs::write(dir.path().join("api-a.json"), json).unwrap();
        let yaml = "- targets: ['127.0.0.3:8443']\n  labels:\n    __scheme__: https\n    instance: api-3\n";
        std::fs::write(dir.path().join("api-b.yml"), yaml).unwrap();
        let mut files = Files::new(&format!("{}/api-*", dir.path().display()));
        assert!(files.changed());
        let got = files.list("instance").unwrap();
        let seen: Vec<(&str, Option<&str>, Option<&str>)> =
            got.iter().map(|t| (t.host_port.as_str(), t.scheme.as_deref(), t.name.as_deref())).collect();
        assert_eq!(
            seen,
            [
                ("127.0.0.1:8080", None, None),
                ("127.0.0.2:8080", None, None),
                ("127.0.0.3:8443", Some("https"), Some("api-3"))
            ]
        );
        assert!(!files.changed());
        std::fs::write(dir.path().join("api-a.json"), "[{\"targets\": [").unwrap();
        assert!(files.changed());
        assert!(files.list("instance").unwrap_err().contains("api-a.json"));
    }
}
