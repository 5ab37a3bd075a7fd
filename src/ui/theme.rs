//! Themes: named colour roles, loaded from TOML (built in, or the user's config dir).

use crate::config::{ConfigError, parse_checked};
use crate::state::Status;
use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer, de::Error};
use std::path::Path;

/// The built-in themes, embedded from `themes/`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("solarized", include_str!("../../themes/solarized.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Colours by role. Widgets ask for a role, never for a literal colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Background of the whole board.
    pub bg: Color,
    /// Ordinary text.
    pub fg: Color,
    /// Secondary text: ages, hints, column headers.
    pub dim: Color,
    /// Panel borders.
    pub border: Color,
    /// Panel titles and the board title.
    pub title: Color,
    /// Keys in hints, the filter prompt.
    pub accent: Color,
    /// The selected row.
    pub selected_bg: Color,
    pub selected_fg: Color,
    pub ok: Color,
    pub warn: Color,
    pub crit: Color,
    pub unknown: Color,
    pub stale: Color,
    /// No colour at all: states are told apart by symbol, word and text attributes.
    pub monochrome: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    monochrome: bool,
    colors: Colors,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Colors {
    #[serde(deserialize_with = "color")]
    bg: Color,
    #[serde(deserialize_with = "color")]
    fg: Color,
    #[serde(deserialize_with = "color")]
    dim: Color,
    #[serde(deserialize_with = "color")]
    border: Color,
    #[serde(deserialize_with = "color")]
    title: Color,
    #[serde(deserialize_with = "color")]
    accent: Color,
    #[serde(deserialize_with = "color")]
    selected_bg: Color,
    #[serde(deserialize_with = "color")]
    selected_fg: Color,
    #[serde(deserialize_with = "color")]
    ok: Color,
    #[serde(deserialize_with = "color")]
    warn: Color,
    #[serde(deserialize_with = "color")]
    crit: Color,
    #[serde(deserialize_with = "color")]
    unknown: Color,
    #[serde(deserialize_with = "color")]
    stale: Color,
}

fn color<'de, D: Deserializer<'de>>(d: D) -> Result<Color, D::Error> {
    let text = String::deserialize(d)?;
    text.parse::<Color>().map_err(|_| {
        D::Error::custom(format!("`{text}` is not a colour; use a name like \"red\", \"#rrggbb\" or 0-255"))
    })
}

impl From<ThemeFile> for Theme {
    fn from(f: ThemeFile) -> Self {
        let c = f.colors;
        Self {
            bg: c.bg,
            fg: c.fg,
            dim: c.dim,
            border: c.border,
            title: c.title,
            accent: c.accent,
            selected_bg: c.selected_bg,
            selected_fg: c.selected_fg,
            ok: c.ok,
            warn: c.warn,
            crit: c.crit,
            unknown: c.unknown,
            stale: c.stale,
            monochrome: f.monochrome,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Self::builtin("dark").expect("the dark theme is built in")
    }
}

impl Theme {
    /// Parses a theme file's text.
    pub fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        parse_checked::<ThemeFile>(file, text).map(Theme::from)
    }

    /// A theme shipped in the binary.
    pub fn builtin(name: &str) -> Option<Self> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Theme::parse(Path::new(name), text).ok()
    }

    /// `<dir>/themes/<name>.toml` if the user has one, else the built-in theme of that name.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some(path) = user_dir.map(|d| d.join("themes").join(format!("{name}.toml")))
            && path.exists()
        {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::new(&path, format!("cannot read theme: {e}")))?;
            return Theme::parse(&path, &text);
        }
        Theme::builtin(name).ok_or_else(|| {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            ConfigError::new(format!("theme `{name}`"), "no such theme")
                .key("board.theme")
                .hint(Some(format!("built-in themes: {}", names.join(", "))))
        })
    }

    pub fn base(&self) -> Style {
        Style::new().fg(self.fg).bg(self.bg)
    }

    pub fn dim(&self) -> Style {
        Style::new().fg(self.dim)
    }

    pub fn border(&self) -> Style {
        Style::new().fg(self.border)
    }

    pub fn title(&self) -> Style {
        Style::new().fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub fn accent(&self) -> Style {
        Style::new().fg(self.accent).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        let s = Style::new().bg(self.selected_bg).fg(self.selected_fg);
        if self.monochrome { s.add_modifier(Modifier::REVERSED) } else { s.add_modifier(Modifier::BOLD) }
    }

    pub fn status_color(&self, s: Status) -> Color {
        match s {
            Status::Ok => self.ok,
            Status::Warn => self.warn,
            Status::Crit => self.crit,
            Status::Unknown => self.unknown,
            Status::Stale => self.stale,
        }
    }

    /// Colour plus attributes, so that even without colour crit stands out.
    pub fn status(&self, s: Status) -> Style {
        let style = Style::new().fg(self.status_color(s));
        match s {
            Status::Crit => style.add_modifier(Modifier::BOLD),
            Status::Warn => style.add_modifier(Modifier::BOLD),
            Status::Stale => style.add_modifier(Modifier::ITALIC),
            Status::Ok | Status::Unknown => style,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses() {
        for (name, text) in BUILTIN {
            Theme::parse(Path::new(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn bad_colour_names_file_line_and_key() {
        let text = BUILTIN[0].1.replace("warn = \"yellow\"", "warn = \"yelow\"");
        let err = Theme::parse(Path::new("mine.toml"), &text).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("colors.warn"));
        assert_eq!(err.line, Some(text.lines().position(|l| l.contains("yelow")).unwrap() + 1));
        assert!(err.message.contains("yelow"), "{}", err.message);
    }

    #[test]
    fn unknown_theme_key_is_named() {
        let text = BUILTIN[0].1.replace("stale =", "stael =");
        let err = Theme::parse(Path::new("mine.toml"), &text).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("colors.stael"));
        assert_eq!(err.hint.as_deref(), Some("did you mean `stale`?"));
    }
}
