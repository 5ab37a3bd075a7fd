//! The core's layers, checked against its sources: a module may import only from a layer below
//! its own (the crate boundary keeps the screens out; this keeps the order inside).

use std::path::Path;

/// Each top-level module and its layer, lowest first.
const LAYERS: &[(&str, u8)] = &[
    ("store", 0),
    ("format", 0),
    ("redact", 0),
    ("bindings", 0),
    ("metrics", 0),
    ("config", 1),
    ("logging", 1),
    ("state", 2),
    ("sources", 3),
    ("history", 3),
    ("actions", 3),
    ("notify", 4),
    ("collector", 5),
    ("report", 5),
    ("status_page", 5),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Every `crate::<module>` a file names, with its line number.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '{').collect();
            out.push((n + 1, name));
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in all {
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "lib" || top == "layers" {
            continue;
        }
        let own = layer(&top).unwrap_or_else(|| panic!("{top} has no layer in LAYERS"));
        for (line, name) in imports(&std::fs::read_to_string(&path).unwrap()) {
            if name == top {
                continue;
            }
            match layer(&name) {
                Some(l) if l < own => {}
                _ => wrong.push(format!("{}:{line}: {top} (layer {own}) imports crate::{name}", rel.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run upward or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    let found = imports("use crate::collector::Collector;\nfn f() { crate::state::State::new() }");
    assert_eq!(found, [(1, "collector".to_string()), (2, "state".to_string())]);
    assert!(layer("collector") > layer("config"), "an import of the collector from config would be refused");
}
