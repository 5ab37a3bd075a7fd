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

    /// The theme as its file says it, every role under `[colors]`: what [`Theme::parse`] reads
    /// back to the same theme (an attached terminal sends its own this way).
    pub fn to_toml(&self) -> String {
        let roles = [
            ("bg", self.bg),
            ("fg", self.fg),
            ("dim", self.dim),
            ("border", self.border),
            ("title", self.title),
            ("accent", self.accent),
            ("selected_bg", self.selected_bg),
            ("selected_fg", self.selected_fg),
            ("ok", self.ok),
            ("warn", self.warn),
            ("crit", self.crit),
            ("unknown", self.unknown),
            ("stale", self.stale),
        ];
        let mut text = format!("monochrome = {}\n\n[colors]\n", self.monochrome);
        for (role, color) in roles {
            text.push_str(&format!("{role} = \"{color}\"\n"));
        }
        text
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

    /// The same theme with every colour the terminal cannot show replaced by its nearest.
    pub fn for_depth(mut self, depth: ColorDepth) -> Self {
        if depth == ColorDepth::None {
            let mut mono = Theme::builtin("mono").expect("the mono theme is built in");
            mono.monochrome = true;
            return mono;
        }
        for c in [
            &mut self.bg,
            &mut self.fg,
            &mut self.dim,
            &mut self.border,
            &mut self.title,
            &mut self.accent,
            &mut self.selected_bg,
            &mut self.selected_fg,
            &mut self.ok,
            &mut self.warn,
            &mut self.crit,
            &mut self.unknown,
            &mut self.stale,
        ] {
            *c = downgrade(*c, depth);
        }
        self
    }

    /// The background for text drawn on a status colour: black unless the theme sets one.
    pub fn bg_or_black(&self) -> Color {
        if self.bg == Color::Reset { Color::Black } else { self.bg }
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
            // Without colour, reverse video is what makes crit jump out.
            Status::Crit if self.monochrome => style.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            Status::Crit => style.add_modifier(Modifier::BOLD),
            Status::Warn => style.add_modifier(Modifier::BOLD),
            Status::Stale => style.add_modifier(Modifier::ITALIC),
            Status::Ok | Status::Unknown => style,
        }
    }
}

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColorDepth {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorDepth {
    /// From `NO_COLOR`, `TERM` and `COLORTERM`, as the bastion's terminal reports them.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Self {
        if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorDepth::None;
        }
        let term = env("TERM").unwrap_or_default();
        if term.is_empty() || term == "dumb" {
            return ColorDepth::None;
        }
        if matches!(env("COLORTERM").as_deref(), Some("truecolor" | "24bit")) {
            return ColorDepth::TrueColor;
        }
        if term.contains("256color") || term.starts_with("xterm") || term.starts_with("tmux") || term.contains("kitty")
        {
            ColorDepth::Ansi256
        } else {
            ColorDepth::Ansi16
        }
    }
}

fn downgrade(c: Color, depth: ColorDepth) -> Color {
    match (c, depth) {
        (Color::Rgb(r, g, b), ColorDepth::Ansi256) => Color::Indexed(rgb_to_256(r, g, b)),
        (Color::Rgb(r, g, b), ColorDepth::Ansi16) => rgb_to_16(r, g, b),
        (Color::Indexed(i), ColorDepth::Ansi16) if i >= 16 => {
            let (r, g, b) = indexed_rgb(i);
            rgb_to_16(r, g, b)
        }
        _ => c,
    }
}

fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            (v - 35) / 40
        }
    };
    16 + 36 * level(r) + 6 * level(g) + level(b)
}

/// The RGB of a 256-colour palette index (the 6x6x6 cube and the grey ramp).
pub fn indexed_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[i as usize].1,
        16..=231 => {
            let i = i - 16;
            let v = |x: u8| if x == 0 { 0 } else { 55 + x * 40 };
            (v(i / 36), v(i / 6 % 6), v(i % 6))
        }
        232..=255 => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

/// The 16 named colours and the RGB a typical terminal shows for them.
pub const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 49, 49)),
    (Color::Green, (13, 188, 121)),
    (Color::Yellow, (229, 229, 16)),
    (Color::Blue, (36, 114, 200)),
    (Color::Magenta, (188, 63, 188)),
    (Color::Cyan, (17, 168, 205)),
    (Color::Gray, (204, 204, 204)),
    (Color::DarkGray, (118, 118, 118)),
    (Color::LightRed, (241, 76, 76)),
    (Color::LightGreen, (35, 209, 139)),
    (Color::LightYellow, (245, 245, 67)),
    (Color::LightBlue, (59, 142, 234)),
    (Color::LightMagenta, (214, 112, 214)),
    (Color::LightCyan, (41, 184, 219)),
    (Color::White, (242, 242, 242)),
];

/// The nearest of the 16 named colours, by distance in RGB.
fn rgb_to_16(r: u8, g: u8, b: u8) -> Color {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
    ANSI16.iter().min_by_key(|(_, (pr, pg, pb))| d(*pr, r) + d(*pg, g) + d(*pb, b)).map_or(Color::Reset, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_depth_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(ColorDepth::detect(&env(&[("NO_COLOR", "1"), ("TERM", "xterm-256color")])), ColorDepth::None);
        assert_eq!(ColorDepth::detect(&env(&[("TERM", "dumb")])), ColorDepth::None);
        assert_eq!(ColorDepth::detect(&env(&[("TERM", "xterm"), ("COLORTERM", "truecolor")])), ColorDepth::TrueColor);
        assert_eq!(ColorDepth::detect(&env(&[("TERM", "screen-256color")])), ColorDepth::Ansi256);
        assert_eq!(ColorDepth::detect(&env(&[("TERM", "linux")])), ColorDepth::Ansi16);
    }

    #[test]
    fn rgb_themes_fall_back_to_the_terminal_palette() {
        let solarized = Theme::builtin("solarized").unwrap();
        let sixteen = solarized.for_depth(ColorDepth::Ansi16);
        let all = [sixteen.bg, sixteen.fg, sixteen.ok, sixteen.warn, sixteen.crit, sixteen.stale];
        assert!(all.iter().all(|c| !matches!(c, Color::Rgb(..) | Color::Indexed(_))), "{all:?}");
        assert_eq!(sixteen.crit, Color::Red);
        let c256 = solarized.for_depth(ColorDepth::Ansi256);
        assert!(matches!(c256.crit, Color::Indexed(_)));
        assert!(solarized.for_depth(ColorDepth::None).monochrome);
    }

    #[test]
    fn a_theme_written_out_reads_back_the_same() {
        for (name, _) in BUILTIN {
            for depth in [ColorDepth::TrueColor, ColorDepth::Ansi256, ColorDepth::Ansi16] {
                let theme = Theme::builtin(name).unwrap().for_depth(depth);
                assert_eq!(Theme::parse(Path::new("t"), &theme.to_toml()).unwrap(), theme, "{name} {depth:?}");
            }
        }
    }

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
