//! Turns byte offsets and key names into lines, columns and dotted key paths.

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

/// The dotted key that the byte offset belongs to: the enclosing `[table]`
/// header joined with the key on that line (`a.b.key`).
pub fn key_path_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let header = enclosing_header(&text[..line_start]);
    if let Some(h) = parse_header(line) {
        return Some(h);
    }
    let key = line.split_once('=').map(|(k, _)| clean_key(k))?;
    Some(match header {
        Some(h) if !h.is_empty() => format!("{h}.{key}"),
        _ => key,
    })
}

/// The line of the first `[header]` or `key =` that names `name` under `table`.
pub fn find_key_line(text: &str, table: &str, name: &str) -> Option<usize> {
    let wanted_header = if table.is_empty() { name.to_string() } else { format!("{table}.{name}") };
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = parse_header(line) {
            if h == wanted_header || h.starts_with(&format!("{wanted_header}.")) {
                return Some(i + 1);
            }
            current = h;
            continue;
        }
        if let Some((k, _)) = line.split_once('=') {
            let k = clean_key(k);
            let full = if current.is_empty() { k } else { format!("{current}.{k}") };
            if full == wanted_header || full.starts_with(&format!("{wanted_header}.")) {
                return Some(i + 1);
            }
        }
    }
    None
}

/// The line of `key` in the `index`th `[[array]]` table (counting from 0), else of its header.
pub fn find_entry_key_line(text: &str, array: &str, index: usize, key: &str) -> Option<usize> {
    let mut seen = 0;
    let mut header = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = parse_header(line) {
            if header.is_some() {
                break;
            }
            if h == array && line.trim_start().starts_with("[[") {
                if seen == index {
                    header = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if header.is_some()
            && let Some((k, _)) = line.split_once('=')
            && clean_key(k) == key
        {
            return Some(i + 1);
        }
    }
    header
}

/// The line of the first occurrence of `needle`.
pub fn find_text_line(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|off| line_col(text, off).0)
}

fn enclosing_header(before: &str) -> Option<String> {
    before.lines().rev().find_map(parse_header)
}

fn parse_header(line: &str) -> Option<String> {
    let t = line.trim();
    let t = t.split('#').next()?.trim();
    let inner = t.strip_prefix("[[").and_then(|s| s.strip_suffix("]]"));
    let inner = inner.or_else(|| t.strip_prefix('[').and_then(|s| s.strip_suffix(']')))?;
    Some(inner.split('.').map(clean_key).collect::<Vec<_>>().join("."))
}

fn clean_key(k: &str) -> String {
    k.trim().trim_matches('"').trim_matches('\'').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[board]\ntitle = \"x\"\n\n[services.api]\nintervl = \"5s\"\n";

    #[test]
    fn line_and_column_are_one_based() {
        let off = TEXT.find("intervl").unwrap();
        assert_eq!(line_col(TEXT, off), (5, 1));
    }

    #[test]
    fn key_path_joins_header_and_key() {
        let off = TEXT.find("intervl").unwrap();
        assert_eq!(key_path_at(TEXT, off).as_deref(), Some("services.api.intervl"));
    }

    #[test]
    fn finds_service_header_line() {
        assert_eq!(find_key_line(TEXT, "services", "api"), Some(4));
    }
}
